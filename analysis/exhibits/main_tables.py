"""Main results tables: 287(g) and SC (TWFE next to the heterogeneity-robust estimators), SC with
and without county trends, and the 287(g) treatment-definition variants.

Cells are estimates with clustered standard errors in parentheses (latex.regression_table).
Every column of a table must rest on one sample: the N and county rows are checked, not assumed.
"""

from __future__ import annotations

from analysis import config
from analysis.estimators import registry
from analysis.exhibits import inputs, latex
from analysis.exhibits.style import sentence, wording

# Columns: overall.csv rows, headed by their registry short labels. Row labels, the weights row and the
# outcome headers come from each table's specs (analysis.exhibits.style.wording).
COLUMNS_287G = ["twfe", "event_twfe", "cs_simple", "sunab", "imputation"]
COLUMNS_SC = ["twfe", "twfe_trends", "event_twfe", "cs_simple", "sunab", "imputation"]
VARIANTS_287G = [
    ("Baseline", "us_287g_index"),
    ("Not yet", "us_287g_index_nyt"),
    ("Jail model", "us_287g_index_jem"),
    ("Task force", "us_287g_index_tf"),
    ("No statewide", "us_287g_index_nostatewide"),
    ("Municipal controls", "us_287g_index_municipal_controls"),
]
# The specs behind each program's main table, by outcome: named here (program membership is each spec's
# `program` field, checked by program_table; file names are never parsed).
MAIN_SPECS = {
    "287g": {"index": "us_287g_index", "violent": "us_287g_violent", "property": "us_287g_property"},
    "sc": {"index": "sc_index", "violent": "sc_violent", "property": "sc_property"},
}
CONTROL = {"never_treated": "never", "not_yet_treated": "not yet"}


def cell(spec: str, estimator: str) -> dict | None:
    """{'estimate', 'se'} of one estimator, or None when the spec did not run it."""
    table = inputs.overall(spec)
    if estimator not in table.index:
        return None
    row = table.loc[estimator]
    return {"estimate": row["estimate"], "se": row["se"]}


def column_counts(specs: list[str], estimator: str) -> tuple[int, int]:
    """(n_obs, n_clusters) shared by ``estimator`` across ``specs``; raises if they differ."""
    seen = set()
    for spec in specs:
        table = inputs.overall(spec)
        if estimator in table.index:
            seen.add((int(table.loc[estimator, "n_obs"]), int(table.loc[estimator, "n_clusters"])))
    if len(seen) != 1:
        raise ValueError(f"{estimator} in {specs}: one N and cluster count per column expected, got {seen}")
    return seen.pop()


def main_specs(program: str) -> dict[str, dict]:
    """Outcome -> the loaded spec of MAIN_SPECS[program], each checked to have the table's program and outcome."""
    out = {}
    for outcome, name in MAIN_SPECS[program].items():
        fields = inputs.spec(name)
        if (fields["program"], fields["outcome"]) != (program, outcome):
            raise ValueError(
                f"{name}: program {fields['program']}, outcome {fields['outcome']}; the {program} table "
                f"needs program {program}, outcome {outcome}"
            )
        out[outcome] = fields
    return out


def shared_weights(specs: list[dict]) -> str:
    """The weights field every spec of a table shares (a table has one weights row); ValueError otherwise."""
    seen = {wording(s).weights for s in specs}
    if len(seen) != 1:
        raise ValueError(f"{[s['name'] for s in specs]}: one weights value per table expected, got {sorted(seen)}")
    return seen.pop()


def program_table(program: str, columns: list[str], specs: dict[str, dict] | None = None) -> str:
    """Outcomes as rows (labelled by each spec's outcome and scale), estimators as columns, for the
    specs MAIN_SPECS[program] (``specs``: outcome -> spec dict, default loaded by :func:`main_specs`)."""
    specs = list((specs or main_specs(program)).values())
    names = [s["name"] for s in specs]
    rows = [(sentence(wording(s).measure), [cell(s["name"], est) for est in columns]) for s in specs]
    counts = [column_counts(names, est) for est in columns]
    control = [registry.owner(est).comparison or CONTROL[specs[0]["control_group"]] for est in columns]
    extra = [
        ("County-years", [n for n, _ in counts]),
        ("Counties (clusters)", [k for _, k in counts]),
        ("County and year FE", ["yes"] * len(columns)),
        ("Control group", control),
        ("Weights", [shared_weights(specs)] * len(columns)),
    ]
    return latex.regression_table(
        [f"({i + 1})" for i in range(len(columns))],
        rows,
        extra_rows=extra,
        groups=[[(registry.row(est).short, 1) for est in columns]],
    )


def sc_trends_table(specs: dict[str, dict] | None = None) -> str:
    """SC TWFE without and with county linear trends, three outcomes (headers and the weights row from
    the specs, default :func:`main_specs`); Miles & Cox's index pattern."""
    rep = inputs.read_csv(
        config.RESULTS / "replication.csv", ["study", "closest_spec", "closest_estimator", "published_value"]
    )
    mc = rep[rep["study"].str.startswith("Miles") & (rep["closest_spec"] == "sc_index")]
    published = mc.set_index("closest_estimator")["published_value"]
    specs = specs or main_specs("sc")
    cols, cells, pub, trends, weighted, ns = [], [], [], [], [], []
    for outcome, spec in specs.items():
        for est in ("twfe", "twfe_trends"):
            cols.append(est)
            cells.append(cell(spec["name"], est))
            pub.append(published.get(est) if outcome == "index" else None)
            trends.append("yes" if est == "twfe_trends" else "no")
            weighted.append("yes" if wording(spec).weighted else "no")
            ns.append(int(inputs.estimate(spec["name"], est)["n_obs"]))
    groups = [[(sentence(wording(spec).noun), 2) for spec in specs.values()]]
    return latex.regression_table(
        [f"({i + 1})" for i in range(len(cols))],
        [("SC activated", cells)],
        extra_rows=[
            ("County linear trends", trends),
            ("Population weights", weighted),
            ("County-years", ns),
            ("Miles and Cox (2014)", pub),
        ],
        groups=groups,
    )


def variants_table() -> str:
    """287(g) treatment-definition and control-group variants (of us_287g_index): rows = estimators."""
    estimators = [
        ("TWFE", "twfe"),
        ("Callaway–Sant'Anna", "cs_simple"),
        ("Sun–Abraham", "sunab"),
        ("Imputation", "imputation"),
    ]
    rows = [(label, [cell(spec, est) for _, spec in VARIANTS_287G]) for label, est in estimators]
    n = [int(inputs.estimate(spec, "twfe")["n_obs"]) for _, spec in VARIANTS_287G]
    k = [int(inputs.estimate(spec, "twfe")["n_clusters"]) for _, spec in VARIANTS_287G]
    return latex.regression_table(
        [f"({i + 1})" for i in range(len(VARIANTS_287G))],
        rows,
        extra_rows=[("County-years", n), ("Counties", k)],
        groups=[[(label, 1) for label, _ in VARIANTS_287G]],
    )


def build() -> dict[str, str]:
    """Tables main_287g, main_sc, sc_trends and variants_287g (no macros)."""
    latex.write_table(program_table("287g", COLUMNS_287G), "main_287g")
    latex.write_table(program_table("sc", COLUMNS_SC), "main_sc")
    latex.write_table(sc_trends_table(), "sc_trends")
    latex.write_table(variants_table(), "variants_287g")
    return {}
