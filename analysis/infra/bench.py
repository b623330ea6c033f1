"""Benchmark the build and the Callaway-Sant'Anna estimators; write bench/benchmark.md.

``python -m analysis.infra.bench`` (run by ``make bench``):

1. ``make all`` from the raw files in a temporary clone of the repository (no outputs; the raw
   files copied from data_raw/ by ``make data``; this interpreter's environment, so nothing is
   installed), then ``make all`` again with nothing to do: wall time and peak memory (maximum
   resident set size of the largest process, from GNU ``/usr/bin/time -v``, installed with
   apt-get only if missing);
2. Callaway-Sant'Anna ATT(g,t) with 999 multiplier-bootstrap draws, simple and dynamic
   aggregations, on the main sample of data_clean/county_panel.parquet (outcome log_rate_index):
   our API (analysis.estimators.cs) and diff-diff called directly, timed in turns in this
   process (analysis.infra.timing.repeat: median and quartiles of >= 20 runs and >= 1 s), and, in a
   separate venv under bench/ (never requirements.txt), csdid and differences (one run each);
3. Callaway-Sant'Anna against panel size, ours and diff-diff, time and peak memory on simulated
   panels (analysis.infra.bench_scaling: the table, and the figure bench/scaling.png).

The temporary-clone helpers (clone, clone_env, check_clone_env) are shared with the
reliability tests (tests/test_interrupt.py, tests/test_determinism.py).

    python -m analysis.infra.bench [--draws N] [--skip-build] [--skip-others] [--skip-scaling]
                             [--sizes N ...]   (default 3000 30000 300000; add 1000000, ~15 min more)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.config import BENCH_REPORT, BENCH_VENV, DATA_RAW, LAST_YEAR, PANEL, RAW_STAMP, ROOT, SEED
from analysis.infra import bench_scaling
from analysis.infra.atomic import write_text
from analysis.infra.timing import repeat

GNU_TIME = Path("/usr/bin/time")
OTHER_PACKAGES = ["csdid==0.4.3", "differences==0.3.0"]  # the bench venv only
TARGETS = {"build_s": 180.0, "noop_s": 2.0, "peak_mb": 2048.0, "ratio": 1.2}
DESIGNS = {  # name -> (timing column, control group, description)
    "sc": ("sc_year", "not_yet_treated", "Secure Communities (sc_year), not-yet-treated controls"),
    "g287": ("g287_county", "never_treated", "287(g) county agreements (g287_county), never-treated controls"),
}
MAKE_VARS = ("PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CONDA_PREFIX", "VIRTUAL_ENV")


# ---- temporary clones ------------------------------------------------------------------------
def clone(dest: Path, worktree: bool = True) -> Path:
    """``git clone`` the repository into ``dest``; with ``worktree``, copy the tree's uncommitted
    changes over it (modified and untracked files that are not ignored; deleted files removed),
    so the clone holds the code the tree's own build ran. Outputs are gitignored: none is copied."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    if worktree:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout
        for rel in filter(None, listed.decode().split("\0")):
            source, target = ROOT / rel, Path(dest) / rel
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            else:
                target.unlink(missing_ok=True)
    return Path(dest)


def clone_env() -> dict[str, str]:
    """Environment for ``make`` in a clone: this interpreter's environment counts as active (so
    the Makefile uses it instead of building .venv), raw files come from this tree's verified
    data_raw/ (else DATA_MIRROR as set), and no make or PYTHONPATH state leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARS}
    env["VIRTUAL_ENV"] = sys.prefix
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if RAW_STAMP.exists():
        env["DATA_MIRROR"] = str(DATA_RAW)
    return env


def check_clone_env(repo: Path, env: dict[str, str]) -> None:
    """Raise RuntimeError unless the clone's Makefile will accept this environment (envcheck),
    which would otherwise make it create a new .venv and install every package."""
    done = subprocess.run(
        ["python", "-m", "analysis.infra.envcheck"], cwd=repo, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"this Python does not match {repo}/requirements.txt:\n{done.stderr}")


# ---- the build -------------------------------------------------------------------------------
def ensure_gnu_time() -> str:
    """Make sure GNU time is at /usr/bin/time (apt-get install -y time, only if missing, as root);
    return a note saying what was done."""
    if GNU_TIME.exists():
        return "GNU time was present"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("/usr/bin/time is missing: install the Debian package 'time'")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "time"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    )
    return "GNU time was missing: installed with apt-get install -y time"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB), exit status, output tail."""
    start = time.perf_counter()
    done = subprocess.run([str(GNU_TIME), "-v", *cmd], cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return {
        "seconds": seconds,
        "peak_mb": int(peak.group(1)) / 1024 if peak else float("nan"),
        "status": done.returncode,
        "tail": (done.stdout + done.stderr)[-2000:],
    }


def build_benchmark() -> dict:
    """``make all`` from raw files in a temporary clone, then again with nothing to do."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        repo, env = clone(Path(tmp) / "repo"), clone_env()
        check_clone_env(repo, env)
        full = timed(["make", "all"], repo, env)
        if full["status"] != 0:
            raise RuntimeError(f"make all failed in the clone:\n{full['tail']}")
        noop = timed(["make", "all"], repo, env)
    return {"full": full, "noop": noop}


# ---- Callaway-Sant'Anna ----------------------------------------------------------------------
def cs_frame(design: str):
    """The main-sample frame of a design: id (int), year, y = log_rate_index, g (0 = untreated in
    the window: never treated, or treated after LAST_YEAR); counties without an SC date dropped."""
    import pandas as pd

    column = DESIGNS[design][0]
    panel = pd.read_parquet(PANEL)
    df = panel[panel["in_main"] & panel[column].notna()]
    g = df[column].astype("int64")
    return pd.DataFrame(
        {
            "id": df["fips"].astype(int),
            "year": df["year"].astype("int64"),
            "y": df["log_rate_index"].astype(float),
            "g": g.where(g <= LAST_YEAR, 0),
        }
    ).reset_index(drop=True)


def cs_runners(df, control: str, draws: int) -> dict:
    """Our att_gt with ``draws`` bootstrap draws then the simple and dynamic aggregations, and
    diff-diff's CallawaySantAnna directly (``draws`` draws, then its event-study aggregation);
    each returns (overall ATT, SE). Our cached multipliers are cleared first: every call draws
    them, as diff-diff does."""
    import warnings

    from diff_diff import CallawaySantAnna

    from analysis.estimators.cs import aggregate, att_gt, clear_multipliers

    def ours():
        clear_multipliers()
        result = att_gt(df, "y", "year", "id", "g", control_group=control, bootstrap=draws, seed=SEED)
        simple = aggregate(result, "simple")
        aggregate(result, "dynamic")
        return simple.overall_att, simple.overall_se

    def diff_diff():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CallawaySantAnna(control_group=control, estimation_method="dr", n_bootstrap=draws, seed=SEED).fit(
                df, outcome="y", unit="id", time="year", first_treat="g"
            )
            fit.aggregate("event_study")
        return float(fit.overall_att), float(fit.overall_se)

    return {"diff-diff direct": diff_diff, "ours (att_gt + aggregate)": ours}


OTHERS_SCRIPT = r"""
import contextlib, json, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
quiet = contextlib.redirect_stdout(sys.stderr)  # csdid prints its summaries
path, control, draws, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
df = pd.read_csv(path)
out = {}
from csdid.att_gt import ATTgt as CsdidATTgt
np.random.seed(seed)
start = time.perf_counter()
with quiet:
    fit = CsdidATTgt(yname="y", tname="year", idname="id", gname="g", data=df,
                     control_group=control.replace("_", ""), biters=draws).fit(est_method="dr", bstrap=True)
    res = dict(fit.aggte(typec="simple", biters=draws).atte)
    fit.aggte(typec="dynamic", biters=draws)
out["csdid"] = {"seconds": time.perf_counter() - start, "att": float(np.ravel(res["overall_att"])[0]),
                "se": float(np.ravel(res["overall_se"])[0])}
from differences import ATTgt as DiffATTgt
data = df.assign(g=df["g"].where(df["g"] > 0)).set_index(["id", "year"])
start = time.perf_counter()
model = DiffATTgt(data=data, cohort_column="g", base_period="varying")
model.fit(formula="y", est_method="dr", control_group=control, boot_iterations=draws,
          random_state=seed, progress_bar=False)
simple = model.aggregate("simple", boot_iterations=draws, random_state=seed)
model.aggregate("event", boot_iterations=draws, random_state=seed)
out["differences"] = {"seconds": time.perf_counter() - start, "att": float(simple.iloc[0, 0]),
                      "se": float(simple.iloc[0, 1])}
print(json.dumps(out))
"""


def ensure_bench_venv() -> Path:
    """bench/venv with csdid and differences (created once); return its python."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *OTHER_PACKAGES], check=True
        )
    return python


def time_others(df, control: str, draws: int) -> dict:
    """csdid and differences in the bench venv, on the same frame (a CSV), timed inside."""
    python = ensure_bench_venv()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        path = Path(tmp) / "frame.csv"
        df.to_csv(path, index=False)
        done = subprocess.run(
            [str(python), "-c", OTHERS_SCRIPT, str(path), control, str(draws), str(SEED)],
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        return {name: {"error": done.stderr.strip().splitlines()[-1]} for name in ("csdid", "differences")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cs_benchmark(designs: list[str], draws: int, others: bool) -> dict:
    """Per design: n units, cohorts, and each package's time, overall ATT and SE."""
    out = {}
    for design in designs:
        df = cs_frame(design)
        control = DESIGNS[design][1]
        rows = repeat(cs_runners(df, control, draws))
        for row in rows.values():
            row["att"], row["se"] = row.pop("result")
            row["seconds"] = row["median"]
        if others:
            rows.update(time_others(df, control, draws))
        out[design] = {"units": df["id"].nunique(), "cohorts": int(df.loc[df["g"] > 0, "g"].nunique()), "rows": rows}
    return out


# ---- report ----------------------------------------------------------------------------------
def _ok(value: float, target: float) -> str:
    return "yes" if value <= target else "**no**"


def report(build: dict | None, cs: dict, draws: int, note: str, scaling: str | None = None) -> str:
    """The benchmark as Markdown: one table for the build, one per estimator design, then the
    scaling section (``scaling``, from analysis.infra.bench_scaling)."""
    lines = [
        "# Benchmark",
        "",
        f"Machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; load average "
        f"{os.getloadavg()[0]:.1f} when the report was written (the machine may be shared). {note}.",
        "",
    ]
    if build:
        full, noop = build["full"], build["noop"]
        lines += [
            "| measure | value | target | met |",
            "|---|---|---|---|",
            f"| `make all` from raw files (temp clone, no outputs) | {full['seconds']:.1f} s | "
            f"<= {TARGETS['build_s']:.0f} s | {_ok(full['seconds'], TARGETS['build_s'])} |",
            f"| `make all` with nothing to do | {noop['seconds']:.2f} s | <= {TARGETS['noop_s']:.0f} s | "
            f"{_ok(noop['seconds'], TARGETS['noop_s'])} |",
            f"| peak memory of the build (max RSS, one process) | {full['peak_mb']:.0f} MB | "
            f"<= {TARGETS['peak_mb']:.0f} MB | {_ok(full['peak_mb'], TARGETS['peak_mb'])} |",
            "",
        ]
    for design, res in cs.items():
        base = res["rows"]["diff-diff direct"]["median"]
        lines += [
            f"Callaway-Sant'Anna, {DESIGNS[design][2]}: {res['units']} counties x 13 years, "
            f"{res['cohorts']} cohorts, dr, {draws} bootstrap draws, simple + dynamic aggregation. "
            "Ours and diff-diff: seconds, median [quartiles] (runs), timed in turns in this process; "
            "ratio = ours / diff-diff of those medians. csdid and differences: one run each in "
            "bench/venv, another process, so no ratio is stated.",
            "",
            "| package | seconds | ratio to diff-diff | overall ATT | SE |",
            "|---|---|---|---|---|",
        ]
        for name, row in res["rows"].items():
            if "error" in row:
                lines.append(f"| {name} | failed: {row['error'][:120]} | | | |")
                continue
            if "median" in row:
                ratio = row["median"] / base
                flag = (
                    f" (target <= {TARGETS['ratio']}: {_ok(ratio, TARGETS['ratio'])})"
                    if name.startswith("ours")
                    else ""
                )
                lines.append(
                    f"| {name} | {row['median']:.3g} [{row['q25']:.3g}, {row['q75']:.3g}] ({row['reps']}) | "
                    f"{ratio:.2f}{flag} | {row['att']:.4f} | {row['se']:.4f} |"
                )
            else:
                lines.append(f"| {name} | {row['seconds']:.2f} (one run) | | {row['att']:.4f} | {row['se']:.4f} |")
        lines.append("")
    if scaling:
        lines += [scaling, "", "Figure: bench/scaling.png (time and own memory against units, ours and diff-diff).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print and write bench/benchmark.md."""
    parser = argparse.ArgumentParser(prog="python -m analysis.infra.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=999, help="bootstrap draws (default 999)")
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--skip-build", action="store_true", help="skip the make all timings")
    parser.add_argument("--skip-others", action="store_true", help="skip csdid and differences")
    parser.add_argument("--skip-scaling", action="store_true", help="skip the panel-size scaling")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(bench_scaling.SIZES),
        help=f"scaling sizes in units (default {' '.join(map(str, bench_scaling.SIZES))})",
    )
    args = parser.parse_args(argv)
    note = ensure_gnu_time()
    build = None if args.skip_build else build_benchmark()
    cs = cs_benchmark(args.designs, args.draws, not args.skip_others)
    scaling = None if args.skip_scaling else bench_scaling.run(args.sizes, args.draws)[1]
    text = report(build, cs, args.draws, note, scaling)
    write_text(BENCH_REPORT, text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
