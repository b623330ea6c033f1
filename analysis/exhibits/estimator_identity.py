"""Whether Sun-Abraham and the Callaway-Sant'Anna simple ATT are the same number (macros *SunabCsText).

With never-treated controls and no covariates, Sun-Abraham's interaction-weighted average of
post-adoption effects and Callaway-Sant'Anna's cohort-size weighted average of post-adoption
ATT(g,t) are the same estimator: both compare each cohort with the never-treated counties from the
same base year. Readers must not take one as confirming the other. The sentence is generated from
results/<spec>/overall.csv: "identical" only when the two stored estimates are equal.
"""

from __future__ import annotations

from analysis import config
from analysis.estimate import FLOAT
from analysis.exhibits import inputs
from analysis.exhibits.numbers import fmt_num
from analysis.spec import load_spec

# (spec, macro prefix)
SPECS = [("us_287g_index", "NationalIndex"), ("sc_index", "ScIndex")]
DIGITS = int(FLOAT.strip("%g").lstrip("."))  # significant digits stored in overall.csv


def identity_text(sunab: float, cs: float, control_group: str) -> str:
    """The sentence comparing the two stored estimates (LaTeX)."""
    if sunab == cs:
        return (
            f"Sun--Abraham and the Callaway--Sant'Anna simple ATT are the same number here "
            f"({fmt_num(cs, 4)}, equal to all {DIGITS} significant digits stored): with "
            f"{control_group.replace('_', '-')} controls and no covariates the two estimators coincide in this "
            "design, so one does not confirm the other; only their standard errors are computed differently"
        )
    return (
        f"Sun--Abraham ({fmt_num(sunab, 4)}) and the Callaway--Sant'Anna simple ATT ({fmt_num(cs, 4)}) "
        f"differ here: with {control_group.replace('_', '-')} controls they compare different counties"
    )


def build() -> dict[str, str]:
    """The *SunabCsText macro of each spec in SPECS."""
    out = {}
    for name, prefix in SPECS:
        spec = load_spec(config.SPECS / f"{name}.yaml")
        sunab, cs = inputs.estimate(name, "sunab")["estimate"], inputs.estimate(name, "cs_simple")["estimate"]
        out[f"{prefix}SunabCsText"] = identity_text(float(sunab), float(cs), spec["control_group"])
        out[f"{prefix}SunabCsNote"] = (
            "Sun--Abraham and CS are the same estimator here (never-treated controls, no "
            "covariates): equal estimates, differently computed standard errors."
            if float(sunab) == float(cs)
            else ""
        )
    return out
