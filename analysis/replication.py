"""Replication comparison: ``python -m analysis.replication`` writes results/replication.csv.

For each published result in analysis/published.yaml (values and sources kept as data), the row
gives our estimate under the closest specification and under the heterogeneity-robust estimator
(read from results/<spec>/overall.csv), and a verdict computed by one documented rule:

* the published result has a value (e.g. Miles & Cox's -0.04): our estimate reproduces it when the
  value lies inside our 95% confidence interval;
* it has only a significance pattern (e.g. 'no significant effect'): our estimate reproduces it
  when its p-value (from ``pvalue_from``, e.g. the wild cluster bootstrap) is on the same side of
  ALPHA, and, for a significant published effect, the sign agrees.

The verdict is 'consistent' or 'differs', with the test's numbers, whether the robust estimator
passes the same test, and the study's known design differences when it differs. Like is compared with
like: an entry with ``not_comparable`` (a reason, e.g. a city-level study against our counties) is
'not comparable', never 'differs'; an entry whose ``robust`` is null (no robust estimator of the same
design, e.g. with county trends) has robust verdict 'no counterpart' and empty robust columns.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from analysis.config import PUBLISHED, RESULTS
from analysis.estimate import FLOAT
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml

OUTPUT = RESULTS / "replication.csv"
ALPHA = 0.05
COLUMNS = [
    "study",
    "design",
    "outcome",
    "published",
    "published_value",
    "source_type",
    "source",
    "closest_spec",
    "closest_estimator",
    "closest_estimate",
    "closest_se",
    "closest_pvalue",
    "robust_spec",
    "robust_estimator",
    "robust_estimate",
    "robust_se",
    "robust_pvalue",
    "verdict",
]


def read_published(path: Path = PUBLISHED) -> list[dict]:
    """The published results, with their required fields checked."""
    entries, _ = read_yaml(path, list, "a list of published results")
    needed = (
        "study",
        "design",
        "outcome",
        "published",
        "value",
        "significant",
        "source",
        "source_type",
        "closest",
        "robust",
        "differences",
    )
    for i, entry in enumerate(entries):
        missing = [k for k in needed if k not in entry]
        if missing:
            raise InputError(path, f"entry {i + 1} lacks {', '.join(missing)}", field=missing[0])
        if entry["source_type"] not in ("paper", "secondary"):
            raise InputError(path, f"entry {i + 1}: source_type must be paper or secondary", field="source_type")
        if entry["robust"] is not None and not isinstance(entry["robust"], dict):
            raise InputError(path, f"entry {i + 1}: robust must be a mapping or null", field="robust")
        if entry["value"] is None and entry["significant"] is None:
            raise InputError(path, f"entry {i + 1}: give a value or a significance pattern", field="value")
    return entries


def reproduces(entry: dict, est: dict) -> tuple[bool, str]:
    """Whether an estimate {estimate, ci_low, ci_high, pvalue} reproduces the published result, and why."""
    if entry["value"] is not None:
        inside = est["ci_low"] <= entry["value"] <= est["ci_high"]
        return inside, (
            f"{entry['value']:g} {'inside' if inside else 'outside'} our 95% CI "
            f"[{est['ci_low']:.3g}, {est['ci_high']:.3g}]"
        )
    significant = est["pvalue"] < ALPHA
    same = significant == bool(entry["significant"])
    if same and significant and entry.get("sign") is not None:
        same = math.copysign(1, est["estimate"]) == entry["sign"]
    words = "significant" if significant else "not significant"
    return same, f"ours {est['estimate']:.3g} {words} (p={est['pvalue']:.3f})"


def verdict(entry: dict, closest: dict, robust: dict | None) -> str:
    """One line: consistent/differs by the rule above for the closest estimate, plus the robust estimator's;
    'not comparable' for an entry with ``not_comparable``, robust 'no counterpart' without a robust estimate."""
    ok, why = reproduces(entry, closest)
    if entry.get("not_comparable"):
        robust_part = "no counterpart" if robust is None else f"not comparable (ours {robust['estimate']:.3g})"
        return (
            f"not comparable: {entry['not_comparable']}; ours {closest['estimate']:.3g} (p={closest['pvalue']:.3f}); "
            f"robust estimator {robust_part}"
        )
    if robust is None:
        line = (
            f"{'consistent' if ok else 'differs'}: {why}; robust estimator no counterpart (same design not estimated)"
        )
        return line if ok else f"{line}; design differences: {entry['differences']}"
    robust_ok, robust_why = reproduces(entry, robust)
    robust = "consistent" if robust_ok else "differs"
    line = f"{'consistent' if ok else 'differs'}: {why}; robust estimator {robust} ({robust_why})"
    return line if ok else f"{line}; design differences: {entry['differences']}"


def estimate_row(spec: str, estimator: str, pvalue_from: str | None = None, results: Path = RESULTS) -> dict:
    """One estimator's row of results/<spec>/overall.csv (p-value optionally from another estimator)."""
    overall = pd.read_csv(results / spec / "overall.csv").set_index("estimator")
    if estimator not in overall.index:
        raise InputError(results / spec / "overall.csv", f"no estimator {estimator!r}", field="estimator")
    row = overall.loc[estimator].to_dict()
    if pvalue_from and pvalue_from != estimator:
        row["pvalue"] = float(overall.loc[pvalue_from, "pvalue"])
    return row


def build(entries: list[dict], results: Path = RESULTS) -> pd.DataFrame:
    """The comparison table, one row per published result, in the file's order."""
    rows = []
    for entry in entries:
        c, r = entry["closest"], entry["robust"]
        closest = estimate_row(c["spec"], c["estimator"], c.get("pvalue_from"), results)
        robust = None if r is None else estimate_row(r["spec"], r["estimator"], r.get("pvalue_from"), results)
        r = r or {"spec": "", "estimator": ""}
        none = {"estimate": float("nan"), "se": float("nan"), "pvalue": float("nan")}
        rows.append(
            {
                "study": entry["study"],
                "design": entry["design"],
                "outcome": entry["outcome"],
                "published": entry["published"],
                "published_value": entry["value"],
                "source_type": entry["source_type"],
                "source": entry["source"],
                "closest_spec": c["spec"],
                "closest_estimator": c["estimator"],
                "closest_estimate": closest["estimate"],
                "closest_se": closest["se"],
                "closest_pvalue": closest["pvalue"],
                "robust_spec": r["spec"],
                "robust_estimator": r["estimator"],
                "robust_estimate": (robust or none)["estimate"],
                "robust_se": (robust or none)["se"],
                "robust_pvalue": (robust or none)["pvalue"],
                "verdict": verdict(entry, closest, robust),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def main() -> int:
    """Write results/replication.csv; exit 1 when a result it needs is missing."""
    try:
        table = build(read_published())
    except (InputError, FileNotFoundError) as err:
        print(f"error: {err} (run make estimates first)", file=sys.stderr)
        return 1
    write_text(OUTPUT, table.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
    print(OUTPUT)
    return 0


if __name__ == "__main__":
    cli.run(main, "replication")
