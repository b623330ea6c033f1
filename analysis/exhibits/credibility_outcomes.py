"""The within-state and covariate designs for every outcome (#12 §3): each program's log index, violent
and property crime rates under county and year effects (the headline), under state-by-year effects,
under population-tercile-by-year effects, and by doubly-robust Callaway-Sant'Anna on baseline
covariates (2000 log population, the outcome's own 2000 log rate and 2000-2004 trend).

* Table credibility_outcomes: rows = program x outcome; columns = the headline spec's TWFE, its
  primary estimator (assignment_inference.PRIMARY: the CS simple ATT) and its imputation estimator
  (empty where the spec runs none), then each design's columns (DESIGNS; estimate, county-clustered SE).
  ``rows()`` gives the numbers.
* Macros ``<Prefix>Cred<Outcome><Design><Column>`` (and ``Se``, ``Interval``; ``Compare`` for the
  cells of the designs), and per program, outcome and design the claims of the text, from the rules of
  analysis/exhibits/credibility.py: ``...<Design>Survives`` (survives), ``...<Design>Sign`` and
  ``...<Design>Intervals`` (the two halves of that rule in words); ``<Prefix>Cred<Design>OutcomesMoved``
  (the outcomes whose estimate under the design differs from the headline's by more than one headline
  standard error, as credibility.moved; ``<Prefix>CredOutcomesMoved`` is the state-by-year one).

A design's column is compared with the headline cell of the same estimator (as in the main
credibility tables), else with the primary estimator's: the SC violent and property headline specs run
no imputation, so their state-by-year imputation is compared with CS (as SDID is in the main tables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.exhibits import inputs, latex
from analysis.exhibits.assignment_inference import PRIMARY
from analysis.exhibits.credibility import PROGRAM_SPECS, camel, compare, interval_words, survives, words
from analysis.exhibits.numbers import fmt_num

OUTCOMES = {"index": "index", "violent": "violent", "property": "property"}  # outcome -> row label
PROGRAM_ROW = {"287g": "287(g)", "sc": "SC"}
# design -> (header, spec stem from the program's stem and the outcome, {column: estimator});
# the headline's "primary" column reads the program's primary estimator (PRIMARY).
DESIGNS = {
    "headline": (
        "Headline",
        "{stem}_{outcome}",
        {"twfe": "twfe", "primary": None, "imputation": "imputation"},
    ),
    "stateyear": (
        "State-by-year",
        "{stem}_{outcome}_stateyear",
        {"twfe": "twfe", "imputation": "imputation"},
    ),
    "sizeyear": (
        "Size-by-year",
        "{stem}_{outcome}_sizeyear",
        {"twfe": "twfe", "imputation": "imputation"},
    ),
    "covariates": (
        "Covariates",
        "{stem}_{outcome}_covariates",
        {"primary": None},
    ),
}
ALTERNATIVES = [d for d in DESIGNS if d != "headline"]
LABELS = {"twfe": "TWFE", "primary": "CS", "imputation": "Imputation"}  # table headers
TEXT = {"twfe": "TWFE", "imputation": "imputation", "primary": "CS"}  # in running text
OPTIONAL = {("headline", "imputation")}  # (design, column) cells a spec may lack (no such estimator run)


def stem(program: str) -> str:
    """The spec stem of a program ("us_287g", "sc"), from its headline index spec."""
    return PROGRAM_SPECS[program][2].removesuffix("_index")


def rows() -> pd.DataFrame:
    """One row per (program, outcome, design, column): spec, estimator, estimate, se, ci_low, ci_high."""
    out = []
    for program in PROGRAM_SPECS:
        for outcome in OUTCOMES:
            for design, (_, pattern, shown) in DESIGNS.items():
                spec = pattern.format(stem=stem(program), outcome=outcome)
                for column, est in shown.items():
                    est = est or PRIMARY[program][1]
                    if (design, column) in OPTIONAL and est not in inputs.overall(spec).index:
                        continue
                    r = inputs.estimate(spec, est)
                    out.append(
                        {
                            "program": program,
                            "outcome": outcome,
                            "design": design,
                            "column": column,
                            "spec": spec,
                            "estimator": est,
                            **{f: float(r[f]) for f in ("estimate", "se", "ci_low", "ci_high")},
                        }
                    )
    return pd.DataFrame(out)


def reference(c: pd.DataFrame, design: str = "stateyear") -> pd.DataFrame:
    """The headline cell each column of ``design`` (one program and outcome) is compared with (the
    same estimator's, else the primary's), indexed by the design's column."""
    head = c[c["design"] == "headline"].set_index("column")
    columns = list(DESIGNS[design][2])
    return head.loc[[col if col in head.index else "primary" for col in columns]].set_axis(columns, axis=0)


def sign_words(ref: pd.DataFrame, part: pd.DataFrame) -> str:
    """Whether a design's estimates have the signs of their headline references, in words that follow
    "its TWFE and imputation estimates" (or "its CS estimate" for a design with one column)."""
    keep = {r.column: np.sign(r.estimate) == np.sign(ref.loc[r.column, "estimate"]) for r in part.itertuples()}
    if len(keep) == 1:
        return "keeps the headline's sign" if all(keep.values()) else "changes sign"
    if all(keep.values()):
        return "keep the headline's sign"
    if not any(keep.values()):
        return "both change sign" if len(keep) == 2 else "all change sign"
    yes = [f"the {TEXT[k]} estimate" for k, v in keep.items() if v]
    return (
        f"differ in sign ({words(yes)} {'keeps' if len(yes) == 1 else 'keep'} the headline's sign, the other does not)"
    )


def intervals_words(part: pd.DataFrame) -> str:
    """Whether a design's 95% intervals exclude zero, in words that follow "their 95% intervals" (or
    "its 95% interval" for a design with one column)."""
    said = {r.column: interval_words(r.ci_low, r.ci_high) for r in part.itertuples()}
    if len(said) == 1:
        return next(iter(said.values()))
    if len(set(said.values())) == 1:
        verb = next(iter(said.values())).replace("excludes", "exclude").replace("includes", "include")
        return ("both " if len(said) == 2 else "all ") + verb
    return "differ (" + ", ".join(f"the {TEXT[k]} interval {v}" for k, v in said.items()) + ")"


def moved_outcomes(c: pd.DataFrame, design: str = "stateyear") -> list[str]:
    """Outcomes of one program whose estimate under ``design`` (any column) differs from its headline
    reference by more than one headline standard error."""
    out = []
    for outcome in OUTCOMES:
        part = c[(c["outcome"] == outcome) & (c["design"] == design)]
        ref = reference(c[c["outcome"] == outcome], design)
        if any(abs(r.estimate - ref.loc[r.column, "estimate"]) > ref.loc[r.column, "se"] for r in part.itertuples()):
            out.append(OUTCOMES[outcome])
    return out


def table_body(c: pd.DataFrame) -> str:
    """Rows program x outcome; columns grouped by design."""
    columns = [(d, col) for d, (_, _, shown) in DESIGNS.items() for col in shown]
    body = []
    for program in PROGRAM_SPECS:
        for outcome, label in OUTCOMES.items():
            part = c[(c["program"] == program) & (c["outcome"] == outcome)].set_index(["design", "column"])
            body.append(
                (
                    f"{PROGRAM_ROW[program]}: {label}",
                    [
                        {"estimate": part.loc[k, "estimate"], "se": part.loc[k, "se"]} if k in part.index else None
                        for k in columns
                    ],
                )
            )
    groups = [[(header, len(shown)) for header, _, shown in DESIGNS.values()]]
    return latex.regression_table([LABELS[col] for _, col in columns], body, groups=groups)


def macros_of(program: str, c: pd.DataFrame) -> dict[str, str]:
    prefix = PROGRAM_SPECS[program][0] + "Cred"
    present = [d for d in ALTERNATIVES if d in set(c["design"])]  # the designs with results in ``c``
    out = {}
    for outcome in OUTCOMES:
        part = c[c["outcome"] == outcome]
        for r in part.itertuples():
            name = prefix + camel(outcome) + camel(r.design) + camel(r.column)
            out[name], out[name + "Se"] = fmt_num(r.estimate), fmt_num(r.se)
            out[name + "Interval"] = interval_words(r.ci_low, r.ci_high)
            if r.design != "headline":
                ref = reference(part, r.design)
                out[name + "Compare"] = compare(ref.loc[r.column, "estimate"], r.estimate)
        for design in present:
            ref, alt = reference(part, design), part[part["design"] == design]
            name = prefix + camel(outcome) + camel(design)
            out[name + "Survives"] = survives(ref, alt)
            out[name + "Sign"] = sign_words(ref, alt)
            out[name + "Intervals"] = intervals_words(alt)
    for design in present:
        out[prefix + camel(design) + "OutcomesMoved"] = words(moved_outcomes(c, design))
    if "stateyear" in present:
        out[prefix + "OutcomesMoved"] = out[prefix + "StateyearOutcomesMoved"]
    return out


def build() -> dict[str, str]:
    """Table credibility_outcomes and its macros."""
    c = rows()
    latex.write_table(table_body(c), "credibility_outcomes")
    macros = {}
    for program in PROGRAM_SPECS:
        macros.update(macros_of(program, c[c["program"] == program]))
    return macros
