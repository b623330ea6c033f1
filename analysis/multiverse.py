"""The multiverse as data: ``python -m analysis.multiverse analysis/multiverse/<program>.yaml [options]``.

A multiverse file (analysis/multiverse/<program>.yaml) holds

- ``base``: the fields of a spec file (analysis.spec) that every specification starts from;
- ``dimensions``: name -> allowed values, in order. A list of plain values sets the spec field of the
  dimension's name (``outcome: [index, violent]``); a mapping names each value and gives the spec
  fields it sets (``dating: {county: {treatment: g287_county, clean_controls: [g287_any]}}``).
  Later dimensions are applied after earlier ones (a trends value may replace the estimator). A text
  a value sets (alone or in a list) may name the specification's outcome as ``{outcome}``
  (``baseline_controls: [log_rate_{outcome}_2000]``), filled in once every dimension is applied, so one
  value serves every outcome; no other placeholder is allowed;
- ``exclusions``: ``{when: {dimension: value or [values]}, reason: why}``; a specification matching
  every ``when`` entry of one exclusion is left out, and the reason is kept in exclusions.csv;
- ``sizes``: ``default`` (what ``make all`` runs) and ``full`` (``make multiverse-full``), each with
  ``draws`` (null draws of the joint test) and optional ``values`` (dimension -> the values kept;
  a dimension not named keeps all its values).

Each specification's id is a hash of the program and its choices (label per dimension), so it does
not depend on the order of the file or of the run; its seed is derived from config.SEED and the id.
Every specification is checked by analysis.spec.validate_spec (a combination that cannot run and is
not excluded stops the expansion, naming the choices), estimated with analysis.estimate.run_spec
(analytic SEs, no bootstrap), and re-estimated on ``draws`` null draws (analysis.speccurve).

Tasks (one per specification) run through joblib: processes by default (``--jobs``, default all
cores), or a Dask cluster (``--scheduler local`` starts a dask.distributed LocalCluster,
``--scheduler tcp://host:8786`` uses a running one; see README). A finished task is cached as
.make/multiverse/<output folder name>/<id>.json (written atomically), so an interrupted run resumes
where it stopped; a cached task is reused only if its spec and draws are unchanged. The outputs in
results/multiverse_<program>/ (full size: multiverse_full_<program>/), byte-identical whatever the
backend and number of workers:

- estimates.csv: id, every dimension, estimator, estimate, se, ci_low, ci_high, pvalue, n_obs, n_units;
- exclusions.csv: every excluded combination with its reason;
- joint.csv: the joint test (analysis.speccurve.joint_test) and null_curves.csv: one row per null draw;
- and, apart because they differ between runs, logs/<folder name>_timings.csv: wall and CPU seconds per task.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import os
import re
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import speccurve
from analysis.config import LOGS, MAKE_STATE, PANEL, RESULTS, SEED
from analysis.estimate import CLUSTER, FLOAT, prepare, run_spec
from analysis.estimators import registry
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.sample import read_panel
from analysis.spec import DEFAULTS, SpecError, check_estimator_names, outcome_column, validate_spec

SIZES = ("default", "full")
RESULT_COLUMNS = ["reported", "effect_pct", "estimate", "se", "ci_low", "ci_high", "pvalue", "n_obs", "n_units"]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")  # any {name} in a value's text (only {outcome} is allowed)
# Bump when the content of a cached task changes meaning (a cached task of another version is rerun).
TASK_VERSION = 4


# ---- The file ----------------------------------------------------------------------------------------
def read_multiverse(path: str | Path) -> dict:
    """The multiverse file with its structure checked and values normalised: dimensions become
    name -> {label: changes}. InputError names the file and field of the first mistake."""
    path = Path(path)
    data, root = read_yaml(path, dict, "a mapping with program, base, dimensions, exclusions, sizes")
    for field, kind in (("program", str), ("base", dict), ("dimensions", dict), ("sizes", dict)):
        if not isinstance(data.get(field), kind):
            raise InputError(
                path, f"required field missing or not a {'mapping' if kind is dict else 'text'}", field=field
            )
    if data["base"].get("program") != data["program"]:
        raise InputError(path, f"base.program must equal program ({data['program']!r})", field="base.program")
    dims = {}
    for name, values in data["dimensions"].items():
        where = f"dimensions.{name}"
        if isinstance(values, list) and values and all(not isinstance(v, (dict, list)) for v in values):
            dims[name] = {str(v): {name: v} for v in values}
        elif isinstance(values, dict) and values and all(isinstance(v, dict) or v is None for v in values.values()):
            dims[name] = {str(k): dict(v or {}) for k, v in values.items()}
        else:
            raise InputError(
                path, "a non-empty list of values, or a mapping of value names to the spec fields they set", field=where
            )
        if len(dims[name]) != len(values):
            raise InputError(path, "values must be unique", field=where)
        for label, changes in dims[name].items():
            for key, value in changes.items():
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str) and PLACEHOLDER.sub("", item) != item.replace("{outcome}", ""):
                        raise InputError(
                            path,
                            f"{item!r}: the only placeholder a value may use is {{outcome}}",
                            field=f"{where}.{label}.{key}",
                        )
    named = {f"base.estimators.{i}": e for i, e in enumerate(_listed(data["base"]))}
    for name, values in dims.items():
        for label, changes in values.items():
            named.update({f"dimensions.{name}.{label}.estimators.{i}": e for i, e in enumerate(_listed(changes))})
    check_estimator_names(path, root, named, use="multiverse")
    exclusions = data.get("exclusions") or []
    if not isinstance(exclusions, list):
        raise InputError(path, "a list of {when, reason}", field="exclusions")
    for i, ex in enumerate(exclusions):
        where = f"exclusions.{i}"
        if not isinstance(ex, dict) or not isinstance(ex.get("when"), dict) or not ex["when"]:
            raise InputError(path, "needs a non-empty 'when' mapping of dimension -> value(s)", field=where)
        if not isinstance(ex.get("reason"), str) or not ex["reason"].strip():
            raise InputError(path, "every exclusion needs a reason", field=f"{where}.reason")
        for dim, vals in ex["when"].items():
            vals = vals if isinstance(vals, list) else [vals]
            if dim not in dims:
                raise InputError(
                    path, f"unknown dimension {dim!r} (dimensions: {', '.join(dims)})", field=f"{where}.when"
                )
            bad = [str(v) for v in vals if str(v) not in dims[dim]]
            if bad:
                raise InputError(
                    path,
                    f"{dim} has no value {', '.join(bad)} (values: {', '.join(dims[dim])})",
                    field=f"{where}.when.{dim}",
                )
    sizes = {}
    for size in SIZES:
        block = data["sizes"].get(size)
        where = f"sizes.{size}"
        if (
            not isinstance(block, dict)
            or not isinstance(block.get("draws"), int)
            or isinstance(block["draws"], bool)
            or block["draws"] < 0
        ):
            raise InputError(path, "needs draws: a whole number >= 0 (null draws of the joint test)", field=where)
        values = block.get("values") or {}
        for dim, vals in values.items():
            if dim not in dims:
                raise InputError(path, f"unknown dimension {dim!r}", field=f"{where}.values")
            bad = [str(v) for v in (vals if isinstance(vals, list) else [vals]) if str(v) not in dims[dim]]
            if bad:
                raise InputError(path, f"{dim} has no value {', '.join(bad)}", field=f"{where}.values.{dim}")
        sizes[size] = {
            "draws": block["draws"],
            "values": {d: [str(v) for v in (v_ if isinstance(v_, list) else [v_])] for d, v_ in values.items()},
        }
    return {
        "path": str(path),
        "program": data["program"],
        "base": data["base"],
        "dimensions": dims,
        "exclusions": [
            {
                "when": {d: [str(v) for v in (v_ if isinstance(v_, list) else [v_])] for d, v_ in ex["when"].items()},
                "reason": ex["reason"].strip(),
            }
            for ex in exclusions
        ],
        "sizes": sizes,
    }


def fill_outcome(fields: dict) -> dict:
    """``fields`` with ``{outcome}`` replaced by the outcome field in its texts, alone or in lists."""

    def fill(x):
        return x.replace("{outcome}", str(fields.get("outcome"))) if isinstance(x, str) else x

    return {k: [fill(x) for x in v] if isinstance(v, list) else fill(v) for k, v in fields.items()}


def _listed(fields: dict) -> list:
    """The estimators a block of spec fields lists (none if the field is absent or not a list)."""
    ests = fields.get("estimators")
    return ests if isinstance(ests, list) else []


def spec_id(program: str, choices: dict) -> str:
    """A 10-hex-digit id: sha256 of the program and the choices (dimension -> value label)."""
    text = json.dumps({"program": program, "choices": choices}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def task_seed(ident: str, seed: int = SEED) -> int:
    """The seed of one specification: a hash of config.SEED and its id, in 0..2**32-1."""
    return int(hashlib.sha256(f"{seed}:{ident}".encode()).hexdigest()[:8], 16)


def excluded_by(mv: dict, choices: dict) -> str | None:
    """The reason of the first exclusion ``choices`` match, else None."""
    for ex in mv["exclusions"]:
        if all(choices.get(d) in vals for d, vals in ex["when"].items()):
            return ex["reason"]
    return None


@contextmanager
def _files_read_once():
    """validate_spec and apply_sample read analysis/samples.yaml and analysis/derived.yaml for every spec
    (0.1 s each); while a multiverse expands or runs (many specs, the same files) each is read once."""
    import analysis.sample as sample_module
    import analysis.spec as spec_module

    saved = spec_module._samples, spec_module.shared_derived, sample_module.read_samples
    samples, derived, read = spec_module._samples(), spec_module.shared_derived(), {}

    def read_samples(path, *args, **kwargs):
        key = (str(path), args, tuple(sorted(kwargs.items())))
        if key not in read:
            read[key] = saved[2](path, *args, **kwargs)
        return copy.deepcopy(read[key])

    spec_module._samples, spec_module.shared_derived = (lambda: list(samples)), (lambda: dict(derived))
    sample_module.read_samples = read_samples
    try:
        yield
    finally:
        spec_module._samples, spec_module.shared_derived, sample_module.read_samples = saved


def expand(mv: dict, size: str = "full", columns=None) -> tuple[list[dict], pd.DataFrame]:
    """(specifications, exclusions) of ``size``. Each specification is a full spec dict with 'id',
    'choices' (dimension -> label) and a seed from its id, checked by validate_spec against ``columns``
    (default: the panel's documented columns). Exclusions: one row per excluded combination (its
    choices and reason). Specs are sorted by id."""
    with _files_read_once():
        return _expand(mv, size, columns)


def _expand(mv: dict, size: str, columns) -> tuple[list[dict], pd.DataFrame]:
    from analysis.spec import panel_columns

    columns = panel_columns() if columns is None else columns
    keep = mv["sizes"][size]["values"]
    names = list(mv["dimensions"])
    axes = [[v for v in mv["dimensions"][d] if d not in keep or v in keep[d]] for d in names]
    specs, excluded = [], []
    for combo in itertools.product(*axes):
        choices = dict(zip(names, combo))
        ident = spec_id(mv["program"], choices)
        reason = excluded_by(mv, choices)
        if reason:
            excluded.append({"id": ident, **choices, "reason": reason})
            continue
        fields = dict(mv["base"])
        for d, label in choices.items():
            fields.update(mv["dimensions"][d][label])
        fields = fill_outcome(fields)
        name = f"mv_{mv['program']}_{ident}"
        spec = {
            **DEFAULTS,
            **fields,
            "name": name,
            "label": name,
            "seed": task_seed(ident),
            "path": f"{mv['path']} [{', '.join(f'{d}={v}' for d, v in choices.items())}]",
            "lines": {},
        }
        try:
            validate_spec(spec, columns)
        except SpecError as err:
            raise InputError(
                mv["path"],
                f"the combination {choices} cannot run and is not excluded: "
                f"{err.problems[0][1]}: {err.problems[0][2]} (add an exclusion with its "
                "reason, or change the dimension's values)",
                field="exclusions",
            ) from None
        if len(spec["estimators"]) != 1 or spec["estimators"][0] not in registry.allowed("multiverse"):
            raise InputError(
                mv["path"],
                f"the combination {choices} runs {spec['estimators']}: every multiverse "
                f"specification runs exactly one of {', '.join(registry.allowed('multiverse'))}",
                field="dimensions",
            )
        specs.append({**spec, "id": ident, "choices": choices})
    excl = pd.DataFrame(excluded, columns=["id", *names, "reason"])
    return sorted(specs, key=lambda s: s["id"]), excl.sort_values("id").reset_index(drop=True)


# ---- One task: a specification, observed and under the null -------------------------------------------
def _digest(spec: dict, draws: int, data: str = "") -> str:
    """What a cached task must match: the spec's fields, the draws, the seed, the task version and
    ``data`` (the sha256 of the panel file: a rebuilt panel reruns every task)."""
    fields = {k: v for k, v in spec.items() if k not in ("path", "lines")}
    text = json.dumps(
        {"spec": fields, "draws": draws, "seed": SEED, "version": TASK_VERSION, "data": data},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def null_model(spec: dict, panel: pd.DataFrame):
    """The null re-estimator of ``spec``: speccurve.NullTwfe for an estimator whose registry entry gives
    its options (null_twfe: twfe, twfe_trends; with the spec's controls partialled out), else NullRefit."""
    df, _, design = prepare(spec, panel)
    y, g, est = outcome_column(spec), spec["treatment"], spec["estimators"][0]
    cluster = CLUSTER[spec["cluster"]]
    fast = registry.get(est).null_twfe
    if fast is not None:
        return speccurve.NullTwfe(
            df, y, g, design["fe"], design["weights"], cluster, controls=design["controls"], **fast
        )
    return speccurve.NullRefit(est, df, y, g, design, spec, cluster)


def run_task(spec: dict, panel: pd.DataFrame, draws: int, cache: Path | None = None, data: str = "") -> dict:
    """Estimate one specification (run_spec) and its ``draws`` null re-estimates; the result (and, given
    ``cache``, its file cache/<id>.json, written atomically) is a JSON-ready dict."""
    digest = _digest(spec, draws, data)
    file = cache / f"{spec['id']}.json" if cache else None
    if file is not None and file.exists():
        try:
            done = json.loads(file.read_text(encoding="utf-8"))
            if done.get("digest") == digest:
                return done
        except (json.JSONDecodeError, OSError):
            pass
    start, cpu = time.perf_counter(), time.process_time()
    fields = {k: v for k, v in spec.items() if k not in ("id", "choices")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overall = run_spec(fields, panel)["overall"]
        row = overall[overall["estimator"] == registry.get(spec["estimators"][0]).primary].iloc[0]
        observed = {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in RESULT_COLUMNS[2:]}
        model = null_model(fields, panel)
        scale = 100.0 / model.mean_y if spec["transform"] == "rate" else 100.0
        observed = {"reported": row["estimator"], "effect_pct": observed["estimate"] * scale, **observed}
        units = model.units
        check = model.fit(units["g"].to_numpy(float))
        for got, want, what in ((check[0], observed["estimate"], "estimate"), (check[1], observed["se"], "SE")):
            if not np.isclose(got, want, rtol=1e-6, atol=1e-9):
                raise RuntimeError(
                    f"{spec['path']}: the null re-estimator gives the {what} {got!r} on the observed timing, "
                    f"run_spec {want!r}: the two paths disagree"
                )
        model.remove_effect(observed["estimate"])
        permuter = speccurve.Permuter(units)
        null = [model.fit(permuter.draw(SEED, d)) for d in range(1, draws + 1)]
    result = {
        "id": spec["id"],
        "digest": digest,
        "choices": spec["choices"],
        "observed": observed,
        "pct_scale": scale,
        "null_estimate": [b for b, _ in null],
        "null_se": [s for _, s in null],
        "seconds": round(time.perf_counter() - start, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
    }
    if file is not None:
        write_text(file, json.dumps(result, sort_keys=True))
    return result


# ---- Running many -----------------------------------------------------------------------------------
def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _batch(specs: list[dict], panel_path: str, draws: int, cache: str | None) -> list[dict]:
    """Worker entry: read the panel once and run a batch of specifications."""
    panel, data = pd.read_parquet(panel_path), file_sha256(panel_path)
    out = []
    with _files_read_once():
        for spec in specs:
            try:
                out.append(run_task(spec, panel, draws, Path(cache) if cache else None, data))
            except Exception as err:  # re-raised as a plain error: every exception type crosses processes
                raise TaskError(f"{spec['path']} (id {spec['id']}): {type(err).__name__}: {err}") from None
    return out


class TaskError(RuntimeError):
    """A specification failed in a worker; the message names it, its choices and the original error."""


def run_all(
    specs: list[dict],
    draws: int,
    panel_path: str | Path = PANEL,
    jobs: int | None = None,
    scheduler: str | None = None,
    cache: Path | None = None,
    progress: bool = True,
    batch: int = 4,
) -> list[dict]:
    """Every task, through joblib (processes, ``jobs`` workers: default all cores) or, with ``scheduler``,
    joblib's Dask backend ('local': a LocalCluster of ``jobs`` workers; else a scheduler address).
    Results are ordered by spec id whatever the backend. Cached tasks are read, not rerun."""
    from joblib import Parallel, delayed, parallel_config
    from tqdm import tqdm

    jobs = jobs or os.cpu_count() or 1
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    batches = [specs[i : i + batch] for i in range(0, len(specs), batch)]
    calls = (delayed(_batch)(b, str(panel_path), draws, str(cache) if cache else None) for b in batches)
    bar = tqdm(total=len(specs), desc="multiverse", unit="spec", disable=not progress, file=sys.stderr)
    out = []
    client = cluster = None
    try:
        if scheduler:
            from distributed import Client, LocalCluster

            if scheduler == "local":
                cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(scheduler)
            config = parallel_config(backend="dask", wait_for_workers_timeout=60)
        elif jobs == 1:
            config = parallel_config(backend="sequential")
        else:
            config = parallel_config(backend="loky", n_jobs=jobs, inner_max_num_threads=1)
        with config:
            for done in Parallel(n_jobs=jobs if not scheduler else -1, return_as="generator_unordered")(calls):
                out.extend(done)
                bar.update(len(done))
    finally:
        bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return sorted(out, key=lambda r: r["id"])


# ---- Tables ------------------------------------------------------------------------------------------
def tables(mv: dict, results: list[dict], exclusions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """estimates, exclusions, joint, null_curves and timings tables of a finished run."""
    dims = list(mv["dimensions"])
    est = pd.DataFrame(
        [{"id": r["id"], **r["choices"], **r["observed"]} for r in results], columns=["id", *dims, *RESULT_COLUMNS]
    )
    out = {
        "estimates": est,
        "exclusions": exclusions,
        "timings": pd.DataFrame(
            [{"id": r["id"], "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"]} for r in results],
            columns=["id", "seconds", "cpu_seconds"],
        ),
    }
    draws = min((len(r["null_estimate"]) for r in results), default=0)
    if draws and results:
        null_est = np.array([np.array(r["null_estimate"][:draws], float) * r["pct_scale"] for r in results])
        null_se = np.array([np.array(r["null_se"][:draws], float) * r["pct_scale"] for r in results])
        scale = np.array([r["pct_scale"] for r in results])
        joint = speccurve.joint_test(
            est["effect_pct"].to_numpy(float), est["se"].to_numpy(float) * scale, null_est, null_se
        )
        out["joint"] = joint.assign(
            program=mv["program"],
            n_specs=len(results),
            n_excluded=len(exclusions),
            seed=SEED,
            null_hypothesis=speccurve.NULL_HYPOTHESIS,
        )
        out["null_curves"] = speccurve.null_curves(null_est, null_se)
    return out


def output_dir(path: str | Path, size: str = "default") -> Path:
    """results/multiverse_<stem>/ (default size) or results/multiverse_full_<stem>/."""
    return RESULTS / (f"multiverse_{Path(path).stem}" if size == "default" else f"multiverse_full_{Path(path).stem}")


def cache_dir(folder: Path) -> Path:
    """Where the finished tasks of the run writing ``folder`` are kept: .make/multiverse/<folder name>/
    (bookkeeping, not results: a task's file holds its run time)."""
    return MAKE_STATE / "multiverse" / Path(folder).name


def timings_path(folder: Path) -> Path:
    """logs/<folder name>_timings.csv: wall and CPU seconds per task (run-specific, like every log)."""
    return LOGS / f"{Path(folder).name}_timings.csv"


def write_tables(folder: Path, out: dict[str, pd.DataFrame]) -> None:
    """Each table as folder/<name>.csv (timings: timings_path), atomically, with the package's float format."""
    for name, frame in out.items():
        target = timings_path(folder) if name == "timings" else folder / f"{name}.csv"
        write_text(target, frame.to_csv(index=False, lineterminator="\n", float_format=FLOAT))


def main(argv: list[str]) -> int:
    """Expand and check every multiverse file first, then run each and write its tables."""
    parser = argparse.ArgumentParser(prog="python -m analysis.multiverse", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="analysis/multiverse/<program>.yaml")
    parser.add_argument("--size", choices=SIZES, default="default")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: all cores; 1 = in this process)")
    parser.add_argument("--scheduler", default=None, help="'local' (dask LocalCluster) or a scheduler address")
    parser.add_argument("--draws", type=int, default=None, help="null draws (default: the size's)")
    parser.add_argument("--out", default=None, help="output folder (one file only; default results/multiverse_...)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--expand-only", action="store_true", help="print the sizes, run nothing")
    args = parser.parse_args(argv)
    columns = read_panel().columns
    plans = []
    for path in args.files:
        mv = read_multiverse(path)
        specs, excl = expand(mv, args.size, columns)
        draws = mv["sizes"][args.size]["draws"] if args.draws is None else args.draws
        print(f"{path}: {len(specs)} specifications, {len(excl)} excluded, {draws} null draws ({args.size})")
        plans.append((path, mv, specs, excl, draws))
    if args.expand_only:
        return 0
    for path, mv, specs, excl, draws in plans:
        folder = Path(args.out) if args.out else output_dir(path, args.size)
        start = time.perf_counter()
        results = run_all(specs, draws, PANEL, args.jobs, args.scheduler, cache_dir(folder), not args.no_progress)
        write_tables(folder, tables(mv, results, excl))
        print(f"{folder}/estimates.csv ({len(results)} specifications, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "multiverse")
