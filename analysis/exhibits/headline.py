"""Macros for every estimate the text quotes: one family per (specification, estimator).

Names are ``<Spec><Estimator><Field>``, letters only, e.g. ``\\ScIndexTwfe`` (the estimate),
``\\ScIndexTwfeSe``, ``\\ScIndexTwfeP``, ``\\ScIndexTwfeCiLow``/``CiHigh`` and, for log outcomes,
``\\ScIndexTwfePct`` (the effect in percent, 100(exp(b) - 1)).  Estimates on log rates print with
3 decimals; estimates on rates per 100,000 (North Carolina) with 1.  Every specification below is
required: a missing results folder or estimator stops the build.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis import config
from analysis.estimators import registry
from analysis.exhibits import inputs
from analysis.exhibits.numbers import fmt_int, fmt_num

# results/<spec>  ->  macro prefix, and whether the outcome is a log rate.
SPECS = {
    "us_287g_index": ("NationalIndex", True),
    "us_287g_violent": ("NationalViolent", True),
    "us_287g_property": ("NationalProperty", True),
    "us_287g_index_nyt": ("NationalIndexNotYet", True),
    "us_287g_index_jem": ("NationalIndexJail", True),
    "us_287g_index_tf": ("NationalIndexTaskForce", True),
    "us_287g_index_nostatewide": ("NationalIndexNoStatewide", True),
    "us_287g_index_municipal_controls": ("NationalIndexMunicipalControls", True),
    "us_287g_index_covind90": ("NationalIndexPreAudit", True),
    "sc_index": ("ScIndex", True),
    "sc_index_covind90": ("ScIndexPreAudit", True),
    "sc_index_covind90_no_cook": ("ScIndexPreAuditNoCook", True),
    "sc_violent": ("ScViolent", True),
    "sc_property": ("ScProperty", True),
    "nc_287g_violent": ("NcViolent", False),
    "nc_287g_property": ("NcProperty", False),
    "nc_287g_index": ("NcIndex", False),
}


def fmt_p(p: float) -> str:
    """A p-value with 3 decimals; below 0.001 as '$<$0.001'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        raise ValueError("p-value is missing")
    if not 0 <= p <= 1:
        raise ValueError(f"p-value {p} outside [0, 1]")
    return r"$<$0.001" if p < 0.0005 else f"{p:.3f}"


def fmt_p_text(p: float) -> str:
    """A p-value as a statement for running text: '$p=0.054$' or '$p<0.001$'."""
    s = fmt_p(p)
    return r"$p<0.001$" if s.startswith("$<$") else f"$p={s}$"


def pct(b: float) -> float:
    """A log-point effect in percent: 100 (exp(b) - 1)."""
    return 100 * math.expm1(b)


def estimate_macros(prefix: str, est_name: str, row: pd.Series, log: bool) -> dict[str, str]:
    """The macro family of one estimate (NaN fields are left out)."""
    digits = 3 if log else 1
    name = prefix + registry.row(est_name).macro
    out = {name: fmt_num(row["estimate"], digits)}
    for field, suffix in (("se", "Se"), ("ci_low", "CiLow"), ("ci_high", "CiHigh")):
        if pd.notna(row[field]):
            out[name + suffix] = fmt_num(row[field], digits)
    if pd.notna(row["pvalue"]):
        out[name + "P"] = fmt_p(float(row["pvalue"]))
        out[name + "PText"] = fmt_p_text(float(row["pvalue"]))
    if log:
        out[name + "Pct"] = fmt_num(pct(row["estimate"]), 1)
        out[name + "PctAbs"] = fmt_num(abs(pct(row["estimate"])), 1)
    return out


def spec_macros(spec: str) -> dict[str, str]:
    """Every estimator of one specification, plus its sample size."""
    prefix, log = SPECS[spec]
    table = inputs.overall(spec)
    unknown = set(table.index) - set(registry.rows())
    if unknown:
        raise ValueError(f"results/{spec}/overall.csv: estimators not in the registry: {sorted(unknown)}")
    out = {}
    for est_name, row in table.iterrows():
        out.update(estimate_macros(prefix, est_name, row, log))
    first = table.iloc[0]
    out[prefix + "Obs"] = fmt_int(first["n_obs"])
    out[prefix + "Counties"] = fmt_int(first["n_units"])
    return out


ARTICLE_CLAIMS = {
    "Agreements, December 2024": "ArticleAgreementsDecTwentyFour",
    "Agreements, 28 May 2025": "ArticleAgreementsMayTwentyFive",
}


def article_macros() -> dict[str, str]:
    """The seed article's own numbers quoted in the text (results/rollout/seed_numbers.csv, column article)."""
    seed = inputs.read_csv(config.RESULTS / "rollout" / "seed_numbers.csv", ["claim", "article"]).set_index("claim")
    missing = set(ARTICLE_CLAIMS) - set(seed.index)
    if missing:
        raise inputs.MissingResult(f"results/rollout/seed_numbers.csv lacks claims {sorted(missing)}")
    return {name: fmt_int(seed.loc[claim, "article"]) for claim, name in ARTICLE_CLAIMS.items()}


def build() -> dict[str, str]:
    """Macros of every required specification and the article's quoted numbers."""
    macros: dict[str, str] = article_macros()
    for spec in SPECS:
        macros.update(spec_macros(spec))
    return macros
