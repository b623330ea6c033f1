"""Effects in levels next to the log estimates (table levels and macros Level*).

For each program, the headline log spec and its twin in levels (index crimes per 100,000 residents,
transform ``rate``): the log estimate, the treated counties' mean rate before adoption in the log
spec's design sample (weighted by the spec's weights, e.g. SC's population weights), the log
estimate times that mean (the level effect the log estimate implies, to first order), and the
level estimate with its standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.design import first_in_window
from analysis.estimate import prepare
from analysis.estimators import registry
from analysis.exhibits import inputs, latex
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.exhibits.style import sentence, wording
from analysis.spec import load_spec

# (program label, log spec, level spec, macro prefix)
PAIRS = [
    ("287(g)", "us_287g_index", "us_287g_index_rate", "LevelNational"),
    ("SC", "sc_index", "sc_index_rate", "LevelSc"),
]
ROWS = ("twfe", "cs_simple")  # overall.csv rows (labels and macro names: analysis.estimators.registry)


def scale(name: str) -> str:
    """The column-group header of spec ``name``: its scale ('Log rate', 'Rate per 100,000'); every pair's
    spec in that column must share it."""
    return sentence(wording(inputs.spec(name)).scale)


def pre_mean_rate(df: pd.DataFrame, treatment: str, rate: str, weights: str | None) -> float:
    """Mean of ``rate`` over the treated counties' years before adoption (treatment year inside the
    years of ``df``), weighted by the column ``weights`` if given. ValueError if there is no such row."""
    g = first_in_window(df[treatment], int(df["year"].max()))
    pre = df[(g != np.inf) & (df["year"] < g)]
    if pre.empty:
        raise ValueError(f"no pre-adoption rows of treated counties for {treatment}")
    return float(np.average(pre[rate], weights=None if weights is None else pre[weights]))


def rows(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per program and estimator: log estimate and SE, pre-period mean rate, implied level,
    level estimate and SE."""
    out = []
    for label, log_name, level_name, _ in PAIRS:
        spec = load_spec(config.SPECS / f"{log_name}.yaml")
        df, _, design = prepare(spec, panel)
        mean = pre_mean_rate(df, spec["treatment"], f"rate_{spec['outcome']}", design["weights"])
        for est in ROWS:
            est_label = registry.row(est).short
            log, level = inputs.estimate(log_name, est), inputs.estimate(level_name, est)
            out.append(
                {
                    "program": label,
                    "estimator": est_label,
                    "log": log["estimate"],
                    "log_se": log["se"],
                    "mean": mean,
                    "implied": log["estimate"] * mean,
                    "level": level["estimate"],
                    "level_se": level["se"],
                    "key": est,
                }
            )
    return pd.DataFrame(out)


def build() -> dict[str, str]:
    """Write table levels; return the Level* macros."""
    t = rows(inputs.panel())
    body = latex.data_table(
        t[["program", "estimator", "log", "log_se", "mean", "implied", "level", "level_se"]],
        {
            "program": "text",
            "estimator": "text",
            "log": 3,
            "log_se": 3,
            "mean": 0,
            "implied": 0,
            "level": 0,
            "level_se": 0,
        },
        labels={
            "program": "Program",
            "estimator": "Estimator",
            "log": "Estimate",
            "log_se": "SE",
            "mean": "Pre-period mean",
            "implied": latex.Raw(r"Log $\times$ mean"),
            "level": "Estimate",
            "level_se": "SE",
        },
        groups=[[("", 2), (scale(PAIRS[0][1]), 2), ("Implied level", 2), (scale(PAIRS[0][2]), 2)]],
    )
    latex.write_table(body, "levels")
    macros = {}
    for label, _, _, prefix in PAIRS:
        for _, r in t[t["program"] == label].iterrows():
            name = prefix + registry.row(r["key"]).macro
            macros.update(
                {
                    name: fmt_num(r["level"], 0),
                    f"{name}Se": fmt_num(r["level_se"], 0),
                    f"{name}Implied": fmt_num(r["implied"], 0),
                }
            )
        macros[f"{prefix}PreMean"] = fmt_int(round(t.loc[t["program"] == label, "mean"].iloc[0]))
    return macros
