"""Robustness grids as data: ``python -m analysis.grid analysis/grids/<program>.yaml ...``.

A grid file holds a ``base`` specification (the fields of a spec file, without ``name``) and a list
of ``variants``, each {variant, dimension, changes}: the spec fields it changes, one dimension at a
time. ``expand`` turns the grid into full specifications, each checked exactly as a spec file is
(``spec.load_spec``'s field checks, then ``spec.validate_spec`` against the panel columns); ``run``
estimates them all in one process and returns one row per variant x estimator (its primary row of the
estimator registry, e.g. the Callaway–Sant'Anna simple ATT 'cs_simple' for cs), written to
results/grid_<program>/estimates.csv. Only estimators registered for grids may be named.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import yaml

from analysis.config import grid_folder
from analysis.estimate import FLOAT, SmallCohortWarning, run_spec
from analysis.estimators import registry
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.sample import read_panel
from analysis.spec import SpecError, check_estimator_names, load_spec, validate_spec

COLUMNS = ["program", "variant", "dimension", "estimator", "estimate", "se", "ci_low", "ci_high", "n_obs", "n_units"]


def read_grid(path: str | Path) -> dict:
    """The grid file as a mapping, with its top-level structure checked (InputError names the field)."""
    path = Path(path)
    grid, root = read_yaml(path, dict, "a mapping with program, base, variants")
    for field, kind in (("program", str), ("base", dict), ("variants", list)):
        if not isinstance(grid.get(field), kind):
            raise InputError(path, f"required field missing or not a {kind.__name__}", field=field)
    names = [v.get("variant") for v in grid["variants"] if isinstance(v, dict)]
    if len(names) != len(grid["variants"]) or len(set(names)) != len(names) or None in names:
        raise InputError(path, "every variant needs a unique 'variant' name", field="variants")
    named = {f"base.estimators.{i}": e for i, e in enumerate(_listed(grid["base"]))}
    for n, item in enumerate(grid["variants"]):
        changes = item.get("changes")
        named.update(
            {
                f"variants.{n}.changes.estimators.{i}": e
                for i, e in enumerate(_listed(changes if isinstance(changes, dict) else {}))
            }
        )
    check_estimator_names(path, root, named, use="grid")
    return grid


def _listed(fields: dict) -> list:
    """The estimators a block of spec fields lists (none if the field is absent or not a list)."""
    ests = fields.get("estimators")
    return ests if isinstance(ests, list) else []


def expand(path: str | Path, columns=None) -> list[dict]:
    """One full specification per variant (base updated by its changes), named grid_<program>_<variant>,
    with 'variant' and 'dimension' added; checked by load_spec and, given ``columns``, validate_spec."""
    path = Path(path)
    grid = read_grid(path)
    specs = []
    with tempfile.TemporaryDirectory() as tmp:
        for item in grid["variants"]:
            changes = item.get("changes") or {}
            if not isinstance(changes, dict) or not isinstance(item.get("dimension"), str):
                raise InputError(
                    path, f"variant {item['variant']!r} needs a dimension and a changes mapping", field="variants"
                )
            name = f"grid_{grid['program']}_{item['variant']}"
            fields = {"name": name, **grid["base"], **changes}
            draft = Path(tmp) / f"{name}.yaml"
            draft.write_text(yaml.safe_dump(fields, sort_keys=False), encoding="utf-8")
            try:
                spec = load_spec(draft)
                if columns is not None:
                    validate_spec(spec, columns)
            except SpecError as err:
                raise SpecError(
                    path,
                    [(None, field, f"variant {item['variant']!r}: {message}") for _, field, message in err.problems],
                ) from None
            specs.append(
                {**spec, "path": str(path), "lines": {}, "variant": item["variant"], "dimension": item["dimension"]}
            )
    return specs


def run(specs: list[dict], panel: pd.DataFrame) -> pd.DataFrame:
    """Estimate every expanded spec; one row per variant x kept estimator, sorted."""
    rows = []
    for spec in specs:
        with warnings.catch_warnings(record=True) as caught:  # one short line per variant, not the long advice
            warnings.simplefilter("always", SmallCohortWarning)
            overall = run_spec(spec, panel)["overall"]
        for w in caught:
            if issubclass(w.category, SmallCohortWarning):
                print(f"warning: {spec['name']}: {str(w.message).split(': ', 1)[-1].split('. ')[0]}", file=sys.stderr)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        keep = [registry.get(e).primary for e in spec["estimators"]]
        for _, row in overall[overall["estimator"].isin(keep)].iterrows():
            rows.append(
                {
                    "program": spec["program"],
                    "variant": spec["variant"],
                    "dimension": spec["dimension"],
                    **{c: row[c] for c in COLUMNS[3:]},
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["dimension", "variant", "estimator"]).reset_index(drop=True)


def output_path(grid_path: str | Path) -> Path:
    """results/grid_<file stem>/estimates.csv (the Makefile's results/grid_%/estimates.csv)."""
    return grid_folder(Path(grid_path).stem) / "estimates.csv"


def main(paths: list[str]) -> int:
    """Expand and check every grid first, then run each and write its estimates.csv."""
    try:
        panel = read_panel()
        grids = [(p, expand(p, panel.columns)) for p in paths]
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path, specs in grids:
        target = output_path(path)
        write_text(target, run(specs, panel).to_csv(index=False, lineterminator="\n", float_format=FLOAT))
        print(target)
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "grid")
