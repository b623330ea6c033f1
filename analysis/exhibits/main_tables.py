"""Main results tables: 287(g) and SC (TWFE next to the heterogeneity-robust estimators), SC with
and without county trends, and the 287(g) treatment-definition variants.

Cells are estimates with clustered standard errors in parentheses (latex.regression_table).
Every column of a table must rest on one sample: the N and county rows are checked, not assumed.
"""

from __future__ import annotations

from analysis import config
from analysis.exhibits import inputs, latex
from analysis.spec import load_spec

OUTCOME_ROWS = [
    ("Log index crime rate", "index"),
    ("Log violent crime rate", "violent"),
    ("Log property crime rate", "property"),
]
COLUMNS_287G = [
    ("TWFE", "twfe"),
    ("Event TWFE", "event_twfe"),
    ("CS", "cs_simple"),
    ("Sun–Abraham", "sunab"),
    ("Imputation", "imputation"),
]
COLUMNS_SC = [
    ("TWFE", "twfe"),
    ("Trends", "twfe_trends"),
    ("Event TWFE", "event_twfe"),
    ("CS", "cs_simple"),
    ("Sun–Abraham", "sunab"),
    ("Imputation", "imputation"),
]
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
IMPLICIT = {
    "twfe": "implicit",
    "twfe_trends": "implicit",
    "event_twfe": "implicit",
    "imputation": "untreated",
    "wild": "implicit",
}


def spec_file(spec: str) -> dict:
    """The specification behind ``results/<spec>`` (analysis/specs/<spec>.yaml)."""
    return load_spec(inputs.require(config.SPECS / f"{spec}.yaml"))


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


def program_table(program: str, columns: list[tuple[str, str]]) -> str:
    """Outcomes as rows, estimators as columns, for the specs MAIN_SPECS[program]; each spec's program
    and outcome fields must be the table's."""
    by_outcome = MAIN_SPECS[program]
    for outcome, name in by_outcome.items():
        fields = spec_file(name)
        if (fields["program"], fields["outcome"]) != (program, outcome):
            raise ValueError(
                f"{name}: program {fields['program']}, outcome {fields['outcome']}; the {program} table "
                f"needs program {program}, outcome {outcome}"
            )
    specs = [by_outcome[o] for _, o in OUTCOME_ROWS]
    rows = [(label, [cell(by_outcome[o], est) for _, est in columns]) for label, o in OUTCOME_ROWS]
    base = spec_file(specs[0])
    counts = [column_counts(specs, est) for _, est in columns]
    control = [IMPLICIT.get(est, CONTROL[base["control_group"]]) for _, est in columns]
    weights = "population" if base["weights"] == "population" else "none"
    extra = [
        ("County-years", [n for n, _ in counts]),
        ("Counties (clusters)", [k for _, k in counts]),
        ("County and year FE", ["yes"] * len(columns)),
        ("Control group", control),
        ("Weights", [weights] * len(columns)),
    ]
    return latex.regression_table(
        [f"({i + 1})" for i in range(len(columns))],
        rows,
        extra_rows=extra,
        groups=[[(label, 1) for label, _ in columns]],
    )


def sc_trends_table() -> str:
    """SC TWFE without and with county linear trends, three outcomes; Miles & Cox's index pattern."""
    rep = inputs.read_csv(
        config.RESULTS / "replication.csv", ["study", "closest_spec", "closest_estimator", "published_value"]
    )
    mc = rep[rep["study"].str.startswith("Miles") & (rep["closest_spec"] == "sc_index")]
    published = mc.set_index("closest_estimator")["published_value"]
    cols, cells, pub, trends, ns = [], [], [], [], []
    for _label, outcome in OUTCOME_ROWS:
        for est in ("twfe", "twfe_trends"):
            spec = MAIN_SPECS["sc"][outcome]
            cols.append(est)
            cells.append(cell(spec, est))
            pub.append(published.get(est) if outcome == "index" else None)
            trends.append("yes" if est == "twfe_trends" else "no")
            ns.append(int(inputs.estimate(spec, est)["n_obs"]))
    groups = [[(label.replace("Log ", "").capitalize(), 2) for label, _ in OUTCOME_ROWS]]
    return latex.regression_table(
        [f"({i + 1})" for i in range(len(cols))],
        [("SC activated", cells)],
        extra_rows=[
            ("County linear trends", trends),
            ("Population weights", ["yes"] * 6),
            ("County-years", ns),
            ("Miles and Cox (2014)", pub),
        ],
        groups=groups,
    )


def variants_table() -> str:
    """287(g) treatment-definition and control-group variants (log index rate): rows = estimators."""
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
