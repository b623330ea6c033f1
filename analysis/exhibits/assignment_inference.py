"""The primary estimands and their inference at the level of assignment (issue #12 §4).

One primary estimand per program, named here and nowhere else (PRIMARY): the Callaway-Sant'Anna
simple ATT (``cs_simple``) of the headline spec. Its state-clustered twin (STATE_TWIN, the same spec
with ``cluster: state``) must differ from it in the cluster level only (checked). Writes the table
``inference_primary`` (county- against state-clustered SEs and p-values, the wild cluster bootstrap
by state, Romano-Wolf p-values over the three outcomes, minimum detectable effects) and macros:

* ``Primary<P>Spec``/``Estimator``/``Controls``/``Weights``/``Sample``/``Inference`` - the spec
  fields in words, and ``Primary<P>`` with ``Se``, ``CiLow``, ``CiHigh``, ``Pct``, ``PText`` - the
  estimate (equal to the headline family ``\\<Prefix>IndexCs``, tests/test_inference.py);
* ``Primary<P>SeState``, ``PStateText``, ``CiLowState``, ``CiHighState``; the TWFE's
  ``<Prefix>IndexTwfeSeState``, ``...PState``, ``...WildPState``;
* ``<Prefix><Outcome>RwP<Level>`` - Romano-Wolf p-values (results/inference/romano_wolf.csv);
* ``Primary<P>Mde``, ``MdePct``, ``MdeState`` - 2.8 x SE (80% power, 5% two-sided);
* ``Nc<Outcome>Tost...`` - the North Carolina equivalence tests (results/inference/tost.csv);
* ``Primary<P>Honest...`` - HonestDiD breakdown values of the primary estimand (honest_macros).
"""

from __future__ import annotations

import math

import pandas as pd

from analysis import config
from analysis.exhibits import inputs, latex
from analysis.exhibits.headline import SPECS, fmt_p, fmt_p_text, pct
from analysis.exhibits.numbers import fmt_num

# program -> (headline spec, estimator, macro name of the program)
PRIMARY = {"287g": ("us_287g_index", "cs_simple", "National"), "sc": ("sc_index", "cs_simple", "Sc")}
STATE_TWIN = {"us_287g_index": "us_287g_index_state", "sc_index": "sc_index_state"}
# Fields a state twin may change; every other field must equal the primary spec's.
TWIN_FIELDS = {"name", "description", "cluster", "estimators", "path", "lines", "label"}
MDE_FACTOR = 2.8  # z_{0.975} + z_{0.80} = 1.96 + 0.84: 80% power at the 5% level, two-sided
OUTCOME_MACRO = {"index": "Index", "violent": "Violent", "property": "Property"}
LEVEL_MACRO = {"county": "County", "state": "State"}
PROGRAM_LABEL = {"287g": "287(g)", "sc": "Secure Communities"}
CONTROL_WORDS = {"never_treated": "never-treated", "not_yet_treated": "not-yet-treated"}
WEIGHT_WORDS = {"none": "unweighted", "population": "weighted by first-year population"}


def check_twin(primary: str) -> dict:
    """The state twin's spec; ValueError unless it equals the primary spec but for TWIN_FIELDS and
    clusters by state."""
    a, b = inputs.spec(primary), inputs.spec(STATE_TWIN[primary])
    differ = sorted(k for k in set(a) | set(b) if k not in TWIN_FIELDS and a.get(k) != b.get(k))
    if differ or b["cluster"] != "state" or a["cluster"] != "county":
        raise ValueError(
            f"{STATE_TWIN[primary]} must be {primary} clustered by state (and {primary} by county); "
            f"they differ in {differ or 'cluster'}"
        )
    return b


def mde(se: float) -> float:
    """Minimum detectable effect at 80% power and a 5% two-sided level: 2.8 x SE."""
    if not se > 0:
        raise ValueError(f"mde: the standard error must be positive, got {se}")
    return MDE_FACTOR * se


def ci_verdict(low: float, high: float) -> str:
    """'excludes' / 'includes' zero, for the text."""
    if not low <= high:
        raise ValueError(f"interval [{low}, {high}] is not ordered")
    return "includes" if low <= 0 <= high else "excludes"


def tost_conclusion(p_values: list[float], alpha: float = 0.05) -> str:
    """The sentence the text draws from the equivalence tests (null: |effect| >= bound)."""
    rejected = sum(p < alpha for p in p_values)
    if rejected == len(p_values):
        return "every outcome's effect is shown to lie within the bound"
    if rejected == 0:
        return (
            "none of the three rejects, so these data cannot tell no effect from an effect as large as the "
            "bound: the North Carolina estimates are not evidence of no effect"
        )
    return (
        f"{rejected} of the {len(p_values)} tests reject; "
        "the others cannot tell no effect from one as large as the bound"
    )


def _code(name: str) -> str:
    return rf"\texttt{{{latex.escape(name)}}}"


def _p(p: float) -> latex.Raw:
    return latex.Raw("" if pd.isna(p) else fmt_p(float(p)))


def romano_wolf() -> pd.DataFrame:
    return inputs.read_csv(
        config.RESULTS / "inference" / "romano_wolf.csv",
        ["program", "cluster", "spec", "outcome", "estimate", "p_wild", "p_romano_wolf", "reps"],
    )


def tost_results() -> pd.DataFrame:
    return inputs.read_csv(
        config.RESULTS / "inference" / "tost.csv",
        ["spec", "outcome", "estimate", "se", "pre_mean", "bound_pct", "bound", "p_tost"],
    )


def table_rows() -> pd.DataFrame:
    """The rows of table inference_primary as numbers (tests compare them with the results files)."""
    rw = romano_wolf().set_index(["spec", "cluster"])
    rows = []
    for program, (primary, estimator, _) in PRIMARY.items():
        twin = STATE_TWIN[primary]
        family = rw.xs("county", level="cluster")
        family = family[family["program"] == program]
        entries = [(primary, estimator, "CS simple ATT, index (primary)")]
        entries += [(spec, "twfe", f"TWFE, {row['outcome']}") for spec, row in family.iterrows()]
        for spec, est, label in entries:
            county = inputs.estimate(spec, est)
            state = inputs.estimate(twin, est) if spec == primary else None
            row = {
                "program": PROGRAM_LABEL[program],
                "row": label,
                "spec": spec,
                "estimator": est,
                "estimate": county["estimate"],
                "se_county": county["se"],
                "p_county": county["pvalue"],
                "se_state": state["se"] if state is not None else math.nan,
                "p_state": state["pvalue"] if state is not None else math.nan,
                "p_wild_state": math.nan,
                "p_rw_county": math.nan,
                "p_rw_state": math.nan,
                "mde_county": mde(county["se"]),
                "mde_state": mde(state["se"]) if state is not None else math.nan,
            }
            if est == "twfe":
                row["p_rw_county"] = rw.loc[(spec, "county"), "p_romano_wolf"]
                row["p_rw_state"] = rw.loc[(spec, "state"), "p_romano_wolf"]
                row["p_wild_state"] = rw.loc[(spec, "state"), "p_wild"]
                if abs(rw.loc[(spec, "county"), "estimate"] - county["estimate"]) > 1e-8:
                    raise ValueError(f"results/inference/romano_wolf.csv: {spec} TWFE differs from results/{spec}")
            rows.append(row)
    return pd.DataFrame(rows)


def table() -> str:
    """Body of table inference_primary: numbers with 3 decimals, p-values as fmt_p prints them."""
    t = table_rows()

    def p_column(col: str) -> pd.Series:  # Raw cells built as a list: Series.map would turn them into str
        return pd.Series([_p(v) for v in t[col]], dtype=object)

    body = pd.DataFrame(
        {
            "Program": t["program"].where(~t["program"].duplicated(), ""),
            "Estimand": t["row"],
            "Estimate": t["estimate"],
            "SE": t["se_county"],
            "p": p_column("p_county"),
            "RW p": p_column("p_rw_county"),
            "MDE": t["mde_county"],
            "SE ": t["se_state"],
            "p ": p_column("p_state"),
            "Wild p": p_column("p_wild_state"),
            "RW p ": p_column("p_rw_state"),
            "MDE ": t["mde_state"],
        }
    )
    formats = {c: ("text" if c in ("Program", "Estimand") or c.strip().endswith("p") else 3) for c in body.columns}
    groups = [[("", 3), ("Clustered by county", 4), ("Clustered by state", 5)]]
    return latex.data_table(body, formats, groups=groups)


def primary_macros(program: str) -> dict[str, str]:
    """Names, estimate, state-clustered inference and MDEs of one program's primary estimand."""
    spec_name, estimator, name = PRIMARY[program]
    spec = inputs.spec(spec_name)
    twin = check_twin(spec_name)
    m = f"Primary{name}"
    county, state = inputs.estimate(spec_name, estimator), inputs.estimate(twin["name"], estimator)
    out = {
        m + "Spec": _code(spec_name),
        m + "Estimator": _code(estimator),
        m + "TwinSpec": _code(twin["name"]),
        m + "Controls": CONTROL_WORDS[spec["control_group"]],
        m + "Weights": WEIGHT_WORDS[spec["weights"]],
        m + "Sample": _code(spec["sample"]),
        m + "Treatment": _code(spec["treatment"]),
        m + "Bootstrap": f"{spec['bootstrap']:,}".replace(",", "{,}"),
        m + "Seed": str(spec["seed"]),
        m: fmt_num(county["estimate"], 3),
        m + "Se": fmt_num(county["se"], 3),
        m + "CiLow": fmt_num(county["ci_low"], 3),
        m + "CiHigh": fmt_num(county["ci_high"], 3),
        m + "Pct": fmt_num(pct(county["estimate"]), 1),
        m + "PText": fmt_p_text(county["pvalue"]),
        m + "SeState": fmt_num(state["se"], 3),
        m + "PStateText": fmt_p_text(state["pvalue"]),
        m + "CiLowState": fmt_num(state["ci_low"], 3),
        m + "CiHighState": fmt_num(state["ci_high"], 3),
        m + "ClustersState": str(int(state["n_clusters"])),
        m + "CiVerdict": ci_verdict(county["ci_low"], county["ci_high"]),
        m + "CiStateVerdict": ci_verdict(state["ci_low"], state["ci_high"]),
        m + "StateSeRatio": fmt_num(state["se"] / county["se"], 2),
        m + "Mde": fmt_num(mde(county["se"]), 3),
        m + "MdePct": fmt_num(pct(mde(county["se"])), 1),
        m + "MdeState": fmt_num(mde(state["se"]), 3),
        m + "MdeStatePct": fmt_num(pct(mde(state["se"])), 1),
    }
    prefix = SPECS[spec_name][0]
    twfe = inputs.estimate(twin["name"], "twfe")
    out[prefix + "TwfeSeState"] = fmt_num(twfe["se"], 3)
    out[prefix + "TwfePStateText"] = fmt_p_text(twfe["pvalue"])
    out[prefix + "WildPStateText"] = fmt_p_text(inputs.estimate(twin["name"], "wild")["pvalue"])
    return out


def romano_wolf_macros() -> dict[str, str]:
    """``<Prefix><Outcome>RwP<Level>`` and ``...RwPText<Level>`` for every row of romano_wolf.csv, and the draws."""
    out = {}
    for _, r in romano_wolf().iterrows():
        name = SPECS[r["spec"]][0] + "RwP"
        out[name + LEVEL_MACRO[r["cluster"]]] = fmt_p(float(r["p_romano_wolf"]))
        out[name + "Text" + LEVEL_MACRO[r["cluster"]]] = fmt_p_text(float(r["p_romano_wolf"]))
        out["RwReps" + LEVEL_MACRO[r["cluster"]]] = f"{int(r['reps']):,}".replace(",", "{,}")
    return out


def tost_macros() -> dict[str, str]:
    """NC equivalence tests: bound, p-value, and the verdict for the text (null: |effect| >= bound)."""
    out = {}
    for _, r in tost_results().iterrows():
        name = SPECS[r["spec"]][0] + "Tost"
        out[name + "Bound"] = fmt_num(r["bound"], 1)
        out[name + "PreMean"] = latex.fmt_number(r["pre_mean"], 1)
        out[name + "PText"] = fmt_p_text(float(r["p_tost"]))
        out[name + "Verdict"] = "rejects" if r["p_tost"] < 0.05 else "does not reject"
        out[name + "EstimatePctOfMean"] = fmt_num(100 * abs(r["estimate"]) / r["pre_mean"], 1)
        out[name + "Mde"] = fmt_num(mde(r["se"]), 1)
        out[name + "MdePctOfMean"] = fmt_num(100 * mde(r["se"]) / r["pre_mean"], 1)
        out["TostBoundPct"] = f"{r['bound_pct']:g}"
    out["NcTostConclusion"] = tost_conclusion(tost_results()["p_tost"].tolist())
    return out


def smooth_text(b_all: float, b_window: float, top: float) -> str:
    """Where the smoothness-restricted sets first include zero, with all pre-periods and with the window's,
    in words (breakdown values; NaN: none up to ``top``); M = 0 is said to be a linear extrapolation."""

    def at(b: float) -> str:
        if math.isnan(b):
            return f"at no $M$ up to {top:g}"
        if b == 0:
            return "already at $M=0$ (a linear extrapolation of the pre-adoption trend)"
        return f"at $M={b:g}$"

    same = b_all == b_window or (math.isnan(b_all) and math.isnan(b_window))
    if same:
        return f"{at(b_all)}, with all pre-periods and with the window's alike"
    return f"{at(b_all)} with all pre-periods and {at(b_window)} with the window's"


def honest_macros() -> dict[str, str]:
    """HonestDiD breakdown values of each primary estimand: ``Primary<P>HonestBreakdownAll`` (relative
    magnitudes, every pre-period) and ``...Window`` (the event-study window), with their numbers of
    pre-periods; ``Primary<P>HonestSmoothBreakdownAll`` / ``...Window`` under smoothness, and
    ``Primary<P>HonestSmoothText``, the phrase saying where the smoothness sets first include zero
    (smooth_text)."""
    from analysis.exhibits.diagnostics import breakdown

    h = inputs.read_csv(
        config.RESULTS / "inference" / "honest_simple.csv",
        ["spec", "pre_periods", "n_pre", "method", "M", "ci_low", "ci_high"],
    )
    out = {}
    for spec, _estimator, name in PRIMARY.values():
        smooth = {}
        for pre, label in (("all", "All"), ("5", "Window")):
            part = h[(h["spec"] == spec) & (h["pre_periods"].astype(str) == pre)]
            if part.empty:
                raise inputs.MissingResult(
                    f"results/inference/honest_simple.csv has no rows for {spec}, pre_periods {pre}"
                )
            for method, key in (("relative_magnitude", ""), ("smoothness", "Smooth")):
                rows = part[part["method"] == method]
                if rows.empty:
                    raise inputs.MissingResult(
                        f"results/inference/honest_simple.csv has no {method} rows for {spec}, pre_periods {pre}"
                    )
                b = breakdown(rows, method)
                out[f"Primary{name}Honest{key}Breakdown{label}"] = (
                    f"above {rows['M'].max():g}" if math.isnan(b) else f"{b:g}"
                )
                if method == "smoothness":
                    smooth[label] = b
            out[f"Primary{name}HonestPre{label}"] = str(int(part["n_pre"].iloc[0]))
        grid = h[(h["spec"] == spec) & (h["method"] == "smoothness")]["M"]
        out[f"Primary{name}HonestSmoothText"] = smooth_text(smooth["All"], smooth["Window"], float(grid.max()))
    return out


def build() -> dict[str, str]:
    """Table inference_primary and the macros listed in the module docstring."""
    latex.write_table(table(), "inference_primary")
    macros = {"MdeFactor": f"{MDE_FACTOR:g}"}
    for program in PRIMARY:
        macros.update(primary_macros(program))
    macros.update(romano_wolf_macros())
    macros.update(tost_macros())
    macros.update(honest_macros())
    return macros
