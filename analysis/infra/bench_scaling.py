"""Callaway-Sant'Anna against panel size: wall time and peak memory, ours and diff-diff direct.

Each size is a panel of N units x 13 years from the package's simulator
(analysis.estimators.simulate.simulate_panel, seed config.SEED), reduced to the estimator's
frame: id (the unit's rank in fips order), year, y = log_rate_index, g = g287_county with
cohorts after the last year recoded 0, as the real-data benchmark does, so both packages
estimate the same ATT(g,t) (never-treated controls). The work measured: "ours" =
analysis.estimators.cs.att_gt (dr, 999 multiplier draws) then its simple and dynamic
aggregations; "diff-diff" = CallawaySantAnna(estimation_method="dr", n_bootstrap=999).fit then
.aggregate("event_study") (its simple aggregation comes with the fit), called directly.

Memory, per package and size in a fresh subprocess: import everything, read the frame, then the
resident set size (VmRSS) is the baseline (interpreter, libraries and the input panel); the
peak-RSS counter is reset (``5`` written to /proc/self/clear_refs, so the frame's loading does
not count) and the estimator runs once; the peak (VmHWM, the kernel's high-water mark, which
sees every allocation however short) minus the baseline is the estimator's own memory. The
frame's own size (pandas ``memory_usage(deep=True)``) is reported beside it.

Time, every size and both packages in one subprocess: runs in turns (each size's ours, then its
diff-diff, then the next size, round after round) under analysis.infra.timing.repeat (short
measurements: >= 1 s and >= 20 runs; long ones: 60 s and >= 3 runs), so a change in the load of
a shared machine falls on every size and package alike; the median, the quartiles and min-max;
ratios and growth exponents only from those medians. The load average is recorded.

    python -m analysis.infra.bench_scaling [--sizes N ...] [--draws D] [--baseline-cs PATH --baseline-label L]
                                     [--out STEM]

writes STEM.json, STEM.md and STEM.png (default bench/scaling). ``--baseline-cs`` adds a third
package, "baseline": another version of analysis/estimators/cs.py (e.g. an older commit's,
exported with ``git show COMMIT:analysis/estimators/cs.py``), measured like ours and timed in
the same turns, so ours against the baseline is also a ratio of same-process medians.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from analysis.config import BENCH, LAST_YEAR, ROOT, SEED
from analysis.infra.atomic import write_text

SIZES = (3_000, 30_000, 300_000)  # make bench; add 1_000_000 with --sizes (about 15 more minutes)
LARGE = 1_000_000
DRAWS = 999
PACKAGES = ("ours", "diff-diff")  # plus "baseline" with --baseline-cs
STYLES = {"ours": "o-", "diff-diff": "s--", "baseline": "^:"}
TARGETS = {"own_mb_at_large": 3072.0, "exponent": 1.1}  # own memory at LARGE units; time ~ units**exponent
STATUS_FIELDS = ("VmRSS", "VmHWM")


# ---- the panels ----------------------------------------------------------------------------------
def scaling_frame(units: int, seed: int = SEED):
    """The estimator frame (id, year, y, g) of a simulated panel of ``units`` units."""
    import pandas as pd

    from analysis.estimators.simulate import simulate_panel

    panel = simulate_panel(units, seed=seed)
    g = panel["g287_county"].astype("int64")
    return pd.DataFrame(
        {
            "id": pd.factorize(panel["fips"], sort=True)[0].astype("int64"),
            "year": panel["year"].astype("int64"),
            "y": panel["log_rate_index"].astype(float),
            "g": g.where(g <= LAST_YEAR, 0),
        }
    )


# ---- inside the measuring subprocesses -----------------------------------------------------------
def status_mb() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MB (Linux /proc/self/status)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in STATUS_FIELDS:
                out[key] = int(value.split()[0]) / 1024
    return out


def reset_peak() -> bool:
    """Reset this process's peak-RSS counter to its current RSS; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@functools.cache
def load_cs(cs_file: str | None):
    """analysis.estimators.cs, or the module in ``cs_file`` (another version of it)."""
    if not cs_file:
        from analysis.estimators import cs

        return cs
    spec = importlib.util.spec_from_file_location("cs_under_test", cs_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def runners(df, draws: int, baseline_cs: str | None = None) -> dict:
    """The measured calls on ``df`` (ours, diff-diff and, given ``baseline_cs``, the baseline);
    each returns (simple ATT, its SE)."""
    from diff_diff import CallawaySantAnna

    def estimate_with(cs):
        def run():
            getattr(cs, "clear_multipliers", cs._multipliers.cache_clear)()  # every run draws, as diff-diff does
            result = cs.att_gt(df, "y", "year", "id", "g", est_method="dr", bootstrap=draws, seed=SEED)
            simple = cs.aggregate(result, "simple")
            cs.aggregate(result, "dynamic")
            return simple.overall_att, simple.overall_se

        return run

    def diff_diff():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CallawaySantAnna(estimation_method="dr", n_bootstrap=draws, seed=SEED).fit(
                df, outcome="y", unit="id", time="year", first_treat="g"
            )
            fit.aggregate("event_study")
        return float(fit.overall_att), float(fit.overall_se)

    fns = {"ours": estimate_with(load_cs(None)), "diff-diff": diff_diff}
    if baseline_cs:
        fns["baseline"] = estimate_with(load_cs(baseline_cs))
    return fns


def worker(task: str, frames: list[str], draws: int, package: str | None, baseline_cs: str | None) -> dict:
    """One measurement in this (fresh) process: 'memory' of ``package`` on the one frame, or 'time'
    of both packages on every frame (keyed by units)."""
    import gc

    import pandas as pd

    from analysis.infra.timing import repeat

    dfs = [pd.read_parquet(frame) for frame in frames]
    info = [{"units": int(df["id"].nunique()), "frame_mb": df.memory_usage(deep=True).sum() / 2**20} for df in dfs]
    if task == "memory":
        fn = runners(dfs[0], draws, baseline_cs)[package]
        gc.collect()
        base = status_mb()["VmRSS"]
        reset = reset_peak()
        start = time.perf_counter()
        att, se = fn()
        seconds = time.perf_counter() - start
        peak = status_mb()["VmHWM"]
        return {
            **info[0],
            "package": package,
            "baseline_mb": base,
            "peak_mb": peak,
            "own_mb": peak - base,
            "peak_reset": reset,
            "first_run_s": seconds,
            "att": att,
            "se": se,
        }
    fns = {
        f"{i['units']}:{name}": fn for i, df in zip(info, dfs) for name, fn in runners(df, draws, baseline_cs).items()
    }
    load = os.getloadavg()
    timed = repeat(fns)
    out = {str(i["units"]): {"time": {}, "load_before": load} for i in info}
    for key, row in timed.items():
        units, name = key.split(":")
        row["att"], row["se"] = row.pop("result")
        out[units]["time"][name] = row
    for row in out.values():
        row["load_after"] = os.getloadavg()
    return out


# ---- the driver ----------------------------------------------------------------------------------
def _python(args: list[str]) -> dict:
    """Run this module with ``args`` in a fresh interpreter; its last stdout line, parsed as JSON,
    or {"error": ...} when it fails (e.g. killed for lack of memory)."""
    done = subprocess.run(
        [sys.executable, "-m", "analysis.infra.bench_scaling", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"error": f"exit status {done.returncode}: {tail[:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(sizes, draws: int = DRAWS, baseline_cs: str | None = None, log=print) -> list[dict]:
    """Simulate every size's frame (a subprocess each), measure the memory of each package and size
    (a fresh subprocess each), then time everything in one subprocess."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        frames = {units: str(Path(tmp) / f"frame_{units}.parquet") for units in sizes}
        common = ["--draws", str(draws), *(["--baseline-cs", baseline_cs] if baseline_cs else [])]
        packages = PACKAGES + (("baseline",) if baseline_cs else ())
        for units, frame in frames.items():
            start = time.perf_counter()
            sim = _python(["simulate", "--units", str(units), "--out", frame])
            row = {"units": units, "simulate": {**sim, "seconds": time.perf_counter() - start}}
            row["memory"] = {
                p: _python(["worker", "memory", "--package", p, "--frame", frame, *common]) for p in packages
            }
            log(
                f"{units} units: simulated in {row['simulate']['seconds']:.0f} s; own memory (MB) "
                + ", ".join(f"{p} {row['memory'][p].get('own_mb', float('nan')):.0f}" for p in packages)
            )
            rows.append(row)
        timed = _python(["worker", "time", *[a for f in frames.values() for a in ("--frame", f)], *common])
    for row in rows:
        row["timing"] = timed.get(str(row["units"]), {"error": timed.get("error", "not timed")})
        log(f"{row['units']} units: " + ", ".join(f"{p} {_median(row, p):.3g} s" for p in packages))
    return rows


# ---- the report ----------------------------------------------------------------------------------
def _median(row: dict, package: str) -> float:
    return row["timing"].get("time", {}).get(package, {}).get("median", float("nan"))


def exponents(rows: list[dict], package: str = "ours", stat: str = "median") -> list[float]:
    """Local growth exponents of the time (``stat``: median or min) between consecutive sizes:
    log(t2/t1) / log(n2/n1)."""
    import math

    out = []
    for a, b in zip(rows, rows[1:]):
        ta, tb = (r["timing"].get("time", {}).get(package, {}).get(stat, float("nan")) for r in (a, b))
        out.append(math.log(tb / ta) / math.log(b["units"] / a["units"]) if ta > 0 and tb > 0 else float("nan"))
    return out


def checks(rows: list[dict]) -> list[str]:
    """The performance targets, checked on the measured rows (ours)."""
    lines = []
    last = exponents(rows)[-1:] or [float("nan")]
    ok = last[0] <= TARGETS["exponent"]
    lines.append(
        f"- Time grows no faster than linearly: exponent between the two largest sizes {last[0]:.2f} "
        f"(target <= {TARGETS['exponent']}): {'yes' if ok else '**no**'}."
    )
    large = [r for r in rows if r["units"] == LARGE]
    own = large[0]["memory"]["ours"].get("own_mb", float("nan")) if large else None
    if own is None:
        lines.append(f"- Own memory at {LARGE:,} units: not measured in this run (add {LARGE} to --sizes).")
    else:
        ok = own < TARGETS["own_mb_at_large"]
        lines.append(
            f"- Own memory at {LARGE:,} units: {own:.0f} MB (target < {TARGETS['own_mb_at_large']:.0f} MB): "
            f"{'yes' if ok else '**no**'}."
        )
    return lines


def _cell(row: dict, package: str) -> tuple[str, str, str]:
    t = row["timing"].get("time", {}).get(package)
    m = row["memory"].get(package, {})
    time_s = (
        f"{t['median']:.3g} [{t['q25']:.3g}, {t['q75']:.3g}] ({t['reps']})"
        if t
        else f"failed: {row['timing'].get('error', '')}"
    )
    mem = f"{m['peak_mb']:.0f} / {m['own_mb']:.0f}" if "own_mb" in m else f"failed: {m.get('error', '')}"
    return time_s, mem, (f"{t['att']:.5f} ({t['se']:.5f})" if t else "")


def report(rows: list[dict], draws: int, baseline_label: str | None = None) -> str:
    """The scaling section of bench/benchmark.md."""
    timing = rows[0]["timing"] if rows else {}
    load = [timing.get(k, [float("nan")])[0] for k in ("load_before", "load_after")]
    packages = [p for p in (*PACKAGES, "baseline") if rows and p in rows[0]["memory"]]
    names = {"ours": "ours", "diff-diff": "diff-diff", "baseline": f"ours, baseline ({baseline_label})"}
    lines = [
        "## Callaway-Sant'Anna against panel size",
        "",
        f"Simulated staggered panels (analysis.estimators.simulate, seed {SEED}) x 13 years; dr, {draws} "
        "multiplier draws, simple + dynamic aggregations; never-treated controls. Time: seconds, median "
        "[quartiles] (runs), every size and package in turns in one process; ratio = the package's median / "
        "diff-diff's; load average (1 min) of the machine, shared with other work: "
        f"{load[0]:.1f} when the timing started, {load[1]:.1f} when it ended. Memory: MB, process peak / "
        "the estimator's own (peak minus the RSS with the input frame loaded), each in a fresh process.",
        "",
        "| units | frame MB | package | seconds | peak / own MB | ratio to diff-diff | overall ATT (SE) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for package in packages:
            time_s, mem, est = _cell(row, package)
            lead = (
                f"| {row['units']:,} | {row['memory']['ours'].get('frame_mb', float('nan')):.1f}"
                if package == "ours"
                else "| |"
            )
            ratio = "" if package == "diff-diff" else f"{_median(row, package) / _median(row, 'diff-diff'):.2f}"
            lines.append(f"{lead} | {names[package]} | {time_s} | {mem} | {ratio} | {est} |")
    for package in [p for p in packages if p != "diff-diff"]:
        lines += [
            "",
            f"Growth exponents of the time of {names[package]} between consecutive sizes, log(t2/t1) / "
            "log(n2/n1), from the medians (from the minimums): "
            + ", ".join(
                f"{a['units']:,}->{b['units']:,}: {e:.2f} ({m:.2f})"
                for a, b, e, m in zip(rows, rows[1:], exponents(rows, package), exponents(rows, package, "min"))
            )
            + ".",
        ]
    lines += [""] + checks(rows)
    return "\n".join(lines)


def plot(rows: list[dict], path: Path, baseline_label: str | None = None) -> None:
    """Time (median, quartile bars) and own memory against units, log-log, for every package."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 3.6))
    for package, style in STYLES.items():
        name = f"ours, baseline ({baseline_label})" if package == "baseline" else package
        timed = [(r["units"], r["timing"]["time"][package]) for r in rows if package in r["timing"].get("time", {})]
        if timed:
            med = [t["median"] for _, t in timed]
            err = [[t["median"] - t["q25"] for _, t in timed], [t["q75"] - t["median"] for _, t in timed]]
            ax_t.errorbar([u for u, _ in timed], med, yerr=err, fmt=style, label=name, capsize=3)
        mem = [(r["units"], r["memory"][package]["own_mb"]) for r in rows if "own_mb" in r["memory"].get(package, {})]
        if mem:
            ax_m.plot([u for u, _ in mem], [m for _, m in mem], style, label=name)
    for ax, title in ((ax_t, "wall time (s), median and quartiles"), (ax_m, "own peak memory (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("units (x 13 years)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    ax_m.axhline(TARGETS["own_mb_at_large"], color="grey", lw=0.8)
    ax_m.annotate(
        "3 GB target (1,000,000 units)",
        (rows[0]["units"] if rows else 1, TARGETS["own_mb_at_large"]),
        fontsize=7,
        color="grey",
        va="bottom",
    )
    ax_t.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=150)
    plt.close(fig)
    tmp.replace(path)


def run(
    sizes=SIZES,
    draws: int = DRAWS,
    baseline_cs: str | None = None,
    baseline_label: str = "baseline",
    out: Path = BENCH / "scaling",
    log=print,
) -> tuple[dict, str]:
    """Measure, write STEM.json, STEM.md and STEM.png, and return the data and the Markdown section."""
    data = {
        "draws": draws,
        "baseline_cs": baseline_cs,
        "baseline_label": baseline_label,
        "cores": os.cpu_count(),
        "rows": measure(sizes, draws, baseline_cs, log),
    }
    text = report(data["rows"], draws, baseline_label)
    write_text(out.with_suffix(".json"), json.dumps(data, indent=1) + "\n")
    write_text(out.with_suffix(".md"), text + "\n")
    plot(data["rows"], out.with_suffix(".png"), baseline_label)
    return data, text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m analysis.infra.bench_scaling", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("simulate", help="(internal) write one size's frame")
    sim.add_argument("--units", type=int, required=True)
    sim.add_argument("--out", required=True)
    work = sub.add_parser("worker", help="(internal) one measurement in this process")
    work.add_argument("task", choices=["memory", "time"])
    work.add_argument("--frame", action="append", required=True, help="a frame (time: repeat for several)")
    work.add_argument("--package", choices=[*PACKAGES, "baseline"])
    work.add_argument("--draws", type=int, default=DRAWS)
    work.add_argument("--baseline-cs")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--baseline-cs", help="also measure this cs.py (e.g. an older commit's)")
    parser.add_argument("--baseline-label", default="baseline", help="its name in the table and figure")
    parser.add_argument("--out", default=str(BENCH / "scaling"), help="output stem (default bench/scaling)")
    args = parser.parse_args(argv)
    if args.command == "simulate":
        df = scaling_frame(args.units)
        tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(args.out)
        print(json.dumps({"rows": len(df), "peak_mb": status_mb()["VmHWM"]}))
    elif args.command == "worker":
        if args.task == "memory" and not args.package:
            parser.error("worker memory needs --package")
        print(json.dumps(worker(args.task, args.frame, args.draws, args.package, args.baseline_cs)))
    else:
        _, text = run(args.sizes, args.draws, args.baseline_cs, args.baseline_label, Path(args.out))
        print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
