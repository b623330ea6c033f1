"""Derived columns: covariates built from panel columns when a specification runs, declared as data.

A student adds a covariate without touching the panel code: one entry in ``analysis/derived.yaml``
(shared) or under a spec's own ``derived:`` field, e.g.::

    log_pop_2000:
      baseline: log_population   # a panel or derived column
      year: 2000                 # or: year: first (the county's first panel year), years: [2000, 2007] (mean)
      meaning: County's log population in 2000

Kinds (exactly one per entry, plus an optional ``meaning``):

* ``log: COLUMN`` - natural log; a value <= 0 is refused (with a count), use ``log1p``.
* ``log1p: COLUMN`` - ln(1 + x), defined at zero.
* ``baseline: COLUMN`` with ``year: YEAR`` (the county's value in that year), ``year: first`` (in
  its first panel year) or ``years: [FROM, TO]`` (its mean over those years: a pre-period mean).
  Time-invariant by construction: what Callaway–Sant'Anna's covariates need.
* ``product: [A, B, ...]`` - the product of columns (an interaction).
* ``quantile: COLUMN`` with ``groups: N`` - the county's class 1..N of a time-invariant column
  (e.g. a baseline), equal-count classes over the panel's counties (e.g. population terciles, for
  size-class x year fixed effects ``size3^year``). A column that varies within a county is refused.
* ``slope: COLUMN`` with ``years: [FROM, TO]`` - the county's least-squares slope of the column on
  the year over those years (a pre-period trend; time-invariant).
* ``equals: COLUMN`` with ``value: V`` - an indicator: 1 where the column equals V (compared as text,
  so ``value: "06"`` for a state FIPS code), else 0; missing where the column is (e.g. a state
  indicator, for comparisons within states). A value no row has stops the run (an unquoted ``06`` is
  the number 6 to YAML and would match nothing).

Entries may use one another in any order (no cycles). Columns are computed on the full panel,
before any sample rule, so a baseline is a fixed county attribute; a county without the baseline
year gets a missing value and leaves the estimators that use it (counted in dropped.csv).
``python -m analysis.derived`` writes the codebook of analysis/derived.yaml to
data_clean/codebook_derived.csv (make mine, make all).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import CODEBOOK_DERIVED, DERIVED, FIRST_YEAR, LAST_YEAR
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml

KINDS = ("log", "log1p", "baseline", "product", "quantile", "slope", "equals")
OPTIONS = {"baseline": ("year", "years"), "quantile": ("groups",), "slope": ("years",), "equals": ("value",)}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def definition_problems(name: str, entry) -> list[tuple[str, str]]:
    """Every structural mistake of one entry, as (key, message); the columns are checked later."""
    if not NAME.match(str(name)):
        return [("", f"name {name!r}: use letters, digits and '_' (starting with a letter)")]
    if not isinstance(entry, dict):
        return [("", "expected a mapping such as {log: population}")]
    kinds = [k for k in entry if k in KINDS]
    allowed = {*KINDS, "meaning", *OPTIONS.get(kinds[0] if kinds else "", ())}
    from analysis.infra.suggest import unknown

    problems = [(k, unknown("key", k, sorted(allowed))) for k in entry if k not in allowed]
    if len(kinds) != 1:
        return problems + [("", f"give exactly one of {', '.join(KINDS)} (got {', '.join(kinds) or 'none'})")]
    kind, source = kinds[0], entry[kinds[0]]
    if kind == "product":
        if not (isinstance(source, list) and len(source) >= 2 and all(isinstance(c, str) for c in source)):
            problems.append((kind, "product needs a list of two or more column names"))
    elif not isinstance(source, str):
        problems.append((kind, f"{kind} needs one column name"))
    if kind == "baseline":
        year, years = entry.get("year"), entry.get("years")
        if (year is None) == (years is None):
            problems.append((kind, "baseline needs either year (a year or 'first') or years: [from, to]"))
        elif year is not None and not (year == "first" or (isinstance(year, int) and FIRST_YEAR <= year <= LAST_YEAR)):
            problems.append(("year", f"{year!r} should be 'first' or a year {FIRST_YEAR}-{LAST_YEAR}"))
        elif years is not None and not (
            isinstance(years, list)
            and len(years) == 2
            and all(isinstance(y, int) for y in years)
            and FIRST_YEAR <= years[0] <= years[1] <= LAST_YEAR
        ):
            problems.append(("years", f"{years!r} should be [from, to] within {FIRST_YEAR}-{LAST_YEAR}"))
    if kind == "quantile":
        groups = entry.get("groups")
        if not (isinstance(groups, int) and not isinstance(groups, bool) and 2 <= groups <= 20):
            problems.append(("groups", f"quantile needs groups: a whole number 2-20 (got {groups!r})"))
    if kind == "slope":
        years = entry.get("years")
        if not (
            isinstance(years, list)
            and len(years) == 2
            and all(isinstance(y, int) for y in years)
            and FIRST_YEAR <= years[0] < years[1] <= LAST_YEAR
        ):
            problems.append(
                ("years", f"slope needs years: [from, to], from < to within {FIRST_YEAR}-{LAST_YEAR} (got {years!r})")
            )
    value = entry.get("value")
    if kind == "equals" and (isinstance(value, bool) or not isinstance(value, (str, int))):
        problems.append(("value", f"equals needs value: the text or whole number to match (got {value!r})"))
    if "meaning" in entry and not isinstance(entry["meaning"], str):
        problems.append(("meaning", "meaning should be text"))
    return problems


def sources(entry: dict) -> list[str]:
    """The columns an entry reads."""
    kind = next(k for k in KINDS if k in entry)
    return list(entry[kind]) if kind == "product" else [entry[kind]]


def read_derived(path: Path = DERIVED) -> tuple[dict, dict]:
    """The shared definitions and their lines (name -> line); InputError on the first mistake."""
    data, root = read_yaml(path, dict, "a mapping: column name -> definition")
    lines = {k.value: k.start_mark.line + 1 for k, _ in root.value}
    for name, entry in data.items():
        for key, message in definition_problems(name, entry):
            raise InputError(path, f"derived column '{name}': {message}", line=lines[name], field=key or name)
    return data, lines


def order(names, definitions: dict) -> list[str]:
    """``names`` and the derived columns they need, each after its sources; ValueError on a cycle."""
    done, path = [], []

    def visit(name):
        if name in done or name not in definitions:
            return
        if name in path:
            raise ValueError(f"derived columns refer to each other in a cycle: {' -> '.join(path + [name])}")
        path.append(name)
        for src in sources(definitions[name]):
            visit(src)
        path.pop()
        done.append(name)

    for name in names:
        visit(name)
    return done


def compute(panel: pd.DataFrame, name: str, entry: dict, unit: str = "fips", t: str = "year") -> pd.Series:
    """The values of one derived column on ``panel`` (its sources already present)."""
    kind = next(k for k in KINDS if k in entry)
    if kind == "product":
        return panel[entry[kind]].prod(axis=1, min_count=len(entry[kind]))
    if kind == "equals":
        col = panel[entry[kind]]
        hit = col.astype(str) == str(entry["value"])
        if not hit.any():
            raise ValueError(
                f"derived column '{name}': no row has {entry[kind]} equal to {entry['value']!r} (compared as "
                f'text: quote a code with leading zeros, value: "06", which YAML otherwise reads as a number)'
            )
        return hit.astype(float).where(col.notna())
    x = panel[entry[kind]].astype(float)
    if kind == "log":
        bad = int((x <= 0).sum())
        if bad:
            raise ValueError(f"derived column '{name}': log of {entry[kind]} has {bad} values <= 0 (use log1p)")
        return np.log(x)
    if kind == "log1p":
        return np.log1p(x)
    if kind == "quantile":
        return _quantile(panel, name, entry, x, unit)
    if kind == "slope":
        return _slope(panel, entry, x, unit, t)
    year, years = entry.get("year"), entry.get("years")
    if year == "first":
        keep = panel[t] == panel.groupby(unit)[t].transform("min")
    elif year is not None:
        keep = panel[t] == year
    else:
        keep = panel[t].between(*years)
    per_unit = x[keep].groupby(panel.loc[keep, unit]).mean()
    return panel[unit].map(per_unit).astype(float)


def _quantile(panel: pd.DataFrame, name: str, entry: dict, x: pd.Series, unit: str) -> pd.Series:
    """Class 1..groups of each county's (time-invariant) value, equal-count over counties; NA stays NA."""
    by_unit = x.groupby(panel[unit])
    spread = (by_unit.max() - by_unit.min()).fillna(0.0)  # a county with no value: no spread
    if (spread > 1e-12).any():
        raise ValueError(
            f"derived column '{name}': quantile of {entry['quantile']}, which varies within "
            f"{int((spread > 1e-12).sum())} counties (use a baseline of it)"
        )
    per_unit = x.groupby(panel[unit]).first().dropna()
    classes = pd.qcut(per_unit.rank(method="first"), entry["groups"], labels=False) + 1
    return panel[unit].map(classes).astype(float)


def _slope(panel: pd.DataFrame, entry: dict, x: pd.Series, unit: str, t: str) -> pd.Series:
    """Each county's OLS slope of x on the year over entry['years'] (NA with fewer than two years)."""
    keep = panel[t].between(*entry["years"]) & x.notna()
    d = pd.DataFrame({"u": panel.loc[keep, unit], "t": panel.loc[keep, t].astype(float), "x": x[keep]})
    d["tc"] = d["t"] - d.groupby("u")["t"].transform("mean")
    d["xc"] = d["x"] - d.groupby("u")["x"].transform("mean")
    sums = (d.assign(txy=d["tc"] * d["xc"], tt=d["tc"] ** 2)).groupby("u")[["txy", "tt"]].sum()
    slope = (sums["txy"] / sums["tt"]).where(sums["tt"] > 0)
    return panel[unit].map(slope).astype(float)


def add_columns(panel: pd.DataFrame, names, definitions: dict) -> pd.DataFrame:
    """``panel`` with the derived columns ``names`` (and those they need) added, computed in order."""
    built = {}
    data = panel
    for name in order(names, definitions):
        built[name] = compute(data.assign(**built), name, definitions[name])
    return data.assign(**built)


def meaning(name: str, entry: dict) -> str:
    """The entry's own meaning, else one written from its definition."""
    if entry.get("meaning"):
        return entry["meaning"]
    kind = next(k for k in KINDS if k in entry)
    if kind == "product":
        return " x ".join(entry[kind])
    if kind in ("log", "log1p"):
        return f"{'ln' if kind == 'log' else 'ln(1 + x) of'} {entry[kind]}"
    if kind == "quantile":
        return f"the county's class 1-{entry['groups']} of {entry[kind]} (equal-count over counties; time-invariant)"
    if kind == "equals":
        return f"1 if {entry[kind]} is {entry['value']}, else 0"
    if kind == "slope":
        return (
            f"the county's yearly slope of {entry[kind]} over {entry['years'][0]}-{entry['years'][1]} (time-invariant)"
        )
    if entry.get("year") is not None:
        when = "its first panel year" if entry["year"] == "first" else str(entry["year"])
        return f"the county's {entry[kind]} in {when} (time-invariant)"
    return f"the county's mean {entry[kind]} over {entry['years'][0]}-{entry['years'][1]} (time-invariant)"


def stamp(name: str, definitions: dict) -> str:
    """A canonical text of ``name``'s definition and those of the derived columns it needs (for Make)."""
    return "".join(
        f"{n}: {sorted((k, v) for k, v in definitions[n].items() if k != 'meaning')!r}\n"
        for n in order([name], definitions)
    )


def codebook(definitions: dict, source: str = "analysis/derived.yaml") -> pd.DataFrame:
    """One codebook row per derived column: column, type, meaning, source."""
    return pd.DataFrame(
        [
            {
                "column": n,
                "type": "float",
                "meaning": meaning(n, e),
                "source": f"{source} ({next(k for k in KINDS if k in e)} of {', '.join(sources(e))}), "
                "built when a spec uses it",
            }
            for n, e in definitions.items()
        ],
        columns=["column", "type", "meaning", "source"],
    )


def main() -> int:
    """Write data_clean/codebook_derived.csv from analysis/derived.yaml."""
    from analysis.infra.atomic import write_csv

    try:
        definitions, _ = read_derived()
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    write_csv(codebook(definitions), CODEBOOK_DERIVED)
    print(CODEBOOK_DERIVED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
