"""The reporting-coverage audit (appendix): do the counts cover each county, and the same population
every year? Evidence for the main sample's coverage rules, what they drop, and what they change.

* Figure coverage_audit: (a) ln(pop_ucr / population) in the pre-audit sample (COVIND >= 90 every year,
  balanced); (b) each county's largest year-to-year change in it; (c) how much of a change in coverage
  passes into the counts (elasticity by size of the change); (d) year-to-year volatility of the log
  crime rate by fold change in reporting agencies.
* Tables: coverage_elasticity (panel c in numbers), coverage_changes (the most populous pre-audit
  counties whose coverage changes sharply), audit_sensitivity (headline estimates under each set of
  coverage rules, from the grids), reporting_placebos (the main designs with reporting measures as
  outcomes), sc_cohort_2013 (the not-yet-treated controls of 2012 in the pre-audit sample).
* Macros: the bounds, what each rule drops, the elasticities, the placebo summary, the 2013 cohort.
Every bound is read from analysis/samples.yaml (sample 'main'), never typed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.coverage import county_summary, elasticity_by_jump, previous_year
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.headline import fmt_p
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.sample import apply_sample, read_samples

PRE_AUDIT = "covind90"
EDGES = [0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, np.inf]
AGENCY_EDGES = [1, 1.25, 1.5, 2, 3, np.inf]
SHARP = 0.5  # a coverage change above this many log points is 'sharp' (table coverage_changes)
CHANGES_ROWS = 45  # rows of table coverage_changes: the most populous counties with a sharp change
# sample-log rule (prefix) -> macro stem, in the order of the sample log
RULE_MACROS = {
    "covind_min_90_every_year": "Covind",
    "balanced": "Balanced",
    "cov_ratio_log_max": "Level",
    "cov_ratio_jump_max": "Jump",
    "ag_off_jump_max": "Agencies",
    "index_jump_max": "CrimeJump",
    "drop_zero_index": "ZeroIndex",
    "rate_index_max": "Rate",
}
PLACEBOS = [
    ("cov_ratio", "Coverage ratio", "CovRatio"),
    ("ag_off", "Reporting agencies", "Agencies"),
    ("covind", "COVIND", "Covind"),
]
SPEC_PREFIXES = [("us_287g", "287(g)", "National"), ("sc", "Secure Communities", "Sc")]
SENSITIVITY = [
    ("covind90", "Pre-audit: COVIND $\\geq$ 90, balanced"),
    ("audit_level_only", "+ level rule only"),
    ("audit_jumps_only", "+ jump rules only"),
    ("audit_loose", "All rules, looser bounds"),
    ("base", "All rules (main sample)"),
    ("audit_strict", "All rules, stricter bounds"),
    ("covind90_no_cook", "Pre-audit without Cook County IL"),
]


def main_bounds() -> dict:
    """The main sample's rules (analysis/samples.yaml)."""
    return read_samples()["main"]


def samples(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pre-audit sample, main sample) county-years."""
    return apply_sample(panel, PRE_AUDIT)[0], apply_sample(panel, "main")[0]


def agency_volatility(df: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
    """Median absolute year-to-year change in the log index rate (robust to the zero-coverage years
    of the pre-audit sample), by fold change in reporting agencies (bins right-closed)."""
    dy = df["log_rate_index"] - previous_year(df, "log_rate_index")
    d = pd.DataFrame({"dy": dy.abs(), "jump": df["ag_off_jump"]}).dropna()
    d = d[np.isfinite(d["jump"])]
    d["bin"] = pd.cut(d["jump"], edges, include_lowest=True, right=True)
    out = d.groupby("bin", observed=False)["dy"].agg(county_years="size", mad="median").reset_index()
    return out.assign(low=[b.left for b in out["bin"]], high=[b.right for b in out["bin"]]).drop(columns="bin")


def year_text(value) -> str:
    """A year as text, '' when missing."""
    return "" if pd.isna(value) else str(int(value))


def typeset(df: pd.DataFrame, formats: dict) -> pd.DataFrame:
    """``df`` with its text columns as LaTeX (escaped), en dashes as ``--`` and arrows as ``$\\to$``."""

    def tex(column):  # object dtype: a str column would turn the Raw cells back into str
        cells = [
            t if pd.isna(t) else latex.Raw(latex.escape(t).replace("–", "--").replace("→", r"$\to$")) for t in column
        ]
        return pd.Series(cells, index=column.index, dtype=object)

    return df.assign(**{c: tex(df[c]) for c, f in formats.items() if f == "text"})


def bin_label(low: float, high: float, digits: int = 3) -> str:
    """'0.1-0.15', '> 1' for a bin."""

    def f(x):
        return f"{x:.{digits}f}".rstrip("0").rstrip(".")

    return f"> {f(low)}" if np.isinf(high) else f"{f(low)}–{f(high)}"


def figure_audit(pre: pd.DataFrame, elasticity: pd.DataFrame, volatility: pd.DataFrame, bounds: dict) -> None:
    """Figure coverage_audit (four panels)."""
    fig, axes = style.figure(height=5.6, nrows=2, ncols=2)
    (a, b), (c, d) = axes
    level = pre["log_cov_ratio"].clip(-1.5, 0.5)
    a.hist(
        level.dropna(), bins=np.linspace(-1.5, 0.5, 81), color=style.OKABE_ITO["sky_blue"], edgecolor="white", lw=0.2
    )
    for x in (-bounds["cov_ratio_log_max"], bounds["cov_ratio_log_max"]):
        a.axvline(x, color=style.OKABE_ITO["vermillion"], ls="--", lw=0.9)
    a.set_yscale("log")
    a.set_xlabel("ln(covered / Census population), clipped")
    a.set_ylabel("County-years (log scale)")
    a.set_title(f"(a) Coverage ratio, {pre['fips'].nunique():,} pre-audit counties", loc="left")
    worst = county_summary(pre)["max_cov_ratio_jump"].replace(np.inf, 10).clip(lower=1e-3)
    xs = np.sort(worst.to_numpy())
    b.step(xs, 1 - np.arange(1, len(xs) + 1) / len(xs), where="post", color=style.OKABE_ITO["blue"])
    b.axvline(
        bounds["cov_ratio_jump_max"],
        color=style.OKABE_ITO["vermillion"],
        ls="--",
        lw=0.9,
        label=f"bound {bounds['cov_ratio_jump_max']:g}",
    )
    b.set_xscale("log")
    b.set_xlabel("Largest yearly change in ln ratio (from/to 0: 10)")
    b.set_ylabel("Share of counties above")
    b.set_title("(b) Largest yearly change per county", loc="left")
    b.legend(loc="upper right")
    x = np.arange(len(elasticity))
    ok = elasticity["slope"].notna()
    c.errorbar(x[ok], elasticity["slope"][ok], yerr=1.96 * elasticity["se"][ok], fmt="o", color=style.OKABE_ITO["blue"])
    c.axhline(1, color="black", lw=0.6, ls=":")
    c.axhline(0, color="black", lw=0.6)
    cut = int((elasticity["high"] <= bounds["cov_ratio_jump_max"] + 1e-12).sum()) - 0.5
    c.axvline(cut, color=style.OKABE_ITO["vermillion"], ls="--", lw=0.9)
    c.set_xticks(
        x, [bin_label(lo, hi) for lo, hi in zip(elasticity["low"], elasticity["high"])], rotation=45, ha="right"
    )
    c.set_xlabel("|Yearly change in ln coverage ratio|")
    c.set_ylabel("Elasticity of crime rate")
    c.set_title("(c) Counts follow coverage changes", loc="left")
    x = np.arange(len(volatility))
    d.bar(x, volatility["mad"], color=style.OKABE_ITO["sky_blue"])
    cut = int((volatility["high"] <= bounds["ag_off_jump_max"] + 1e-12).sum()) - 0.5
    d.axvline(cut, color=style.OKABE_ITO["vermillion"], ls="--", lw=0.9)
    d.set_xticks(x, [bin_label(lo, hi, 2) for lo, hi in zip(volatility["low"], volatility["high"])])
    d.set_xlabel("Fold change in reporting agencies")
    d.set_ylabel("Median |yearly change| of ln rate")
    d.set_title("(d) Volatility by agency change", loc="left")
    style.save(fig, "coverage_audit")


def elasticity_table(elasticity: pd.DataFrame) -> str:
    """Table body: elasticity of crimes per resident to coverage changes, by size of the change."""
    df = pd.DataFrame(
        {
            "bin": [bin_label(lo, hi) for lo, hi in zip(elasticity["low"], elasticity["high"])],
            "n": elasticity["county_years"],
            "slope": elasticity["slope"],
            "se": elasticity["se"],
            "mad": elasticity["median_abs_change"],
        }
    )
    formats = {"bin": "text", "n": "int", "slope": 2, "se": 2, "mad": 2}
    return latex.data_table(
        typeset(df, formats),
        formats,
        labels={
            "bin": "|Change in ln coverage ratio|",
            "n": "County-years",
            "slope": "Elasticity",
            "se": "s.e.",
            "mad": "Median |change in ln rate|",
        },
    )


def sharp_changes(pre: pd.DataFrame) -> pd.DataFrame:
    """Pre-audit counties whose coverage ratio changes by more than SHARP log points in some year:
    the year of the largest change, ratio and agencies before and after, population, treatment."""
    df = pre.assign(prev_ratio=previous_year(pre, "cov_ratio"), prev_ag=previous_year(pre, "ag_off"))
    df = df[df["cov_ratio_jump"] > SHARP]
    worst = df.sort_values(["fips", "cov_ratio_jump", "year"], ascending=[True, False, True]).drop_duplicates("fips")
    first = pre.sort_values("year").drop_duplicates("fips").set_index("fips")
    g = worst["g287_county"].where(worst["g287_county"].between(config.FIRST_YEAR, config.LAST_YEAR))
    return (
        pd.DataFrame(
            {
                "fips": worst["fips"],
                "county": worst["county_name"],
                "state": worst["state"],
                "population": worst["fips"].map(first["population"]) / 1000,
                "years": [f"{y - 1}–{str(y)[2:]}" for y in worst["year"]],
                "ratio": [f"{a:.2f} → {b:.2f}" for a, b in zip(worst["prev_ratio"], worst["cov_ratio"])],
                "agencies": [f"{int(a)} → {int(b)}" for a, b in zip(worst["prev_ag"], worst["ag_off"])],
                "years_sharp": worst["fips"].map(df.groupby("fips").size()),
                "g287": [year_text(v) for v in g],
                "sc": [year_text(v) for v in worst["sc_year"]],
            }
        )
        .sort_values(["population", "fips"], ascending=[False, True])
        .reset_index(drop=True)
    )


def changes_table(changes: pd.DataFrame) -> str:
    """Table body: the CHANGES_ROWS most populous counties of ``changes``."""
    top = changes.head(CHANGES_ROWS).drop(columns="fips")
    formats = {
        "county": "text",
        "state": "text",
        "population": 0,
        "years": "text",
        "ratio": "text",
        "agencies": "text",
        "years_sharp": "int",
        "g287": "text",
        "sc": "text",
    }
    labels = {
        "county": "County",
        "state": "State",
        "population": "Pop. (000)",
        "years": "Largest change",
        "ratio": "Coverage ratio",
        "agencies": "Agencies",
        "years_sharp": "Sharp years",
        "g287": "287(g)",
        "sc": "SC",
    }
    return latex.data_table(typeset(top, formats), formats, labels=labels)


def grid_rows(program: str) -> pd.DataFrame:
    """results/grid_<program>/estimates.csv indexed by (variant, estimator)."""
    est = inputs.read_csv(
        config.grid_folder(program) / "estimates.csv", ["variant", "estimator", "estimate", "se", "n_units"]
    )
    return est.set_index(["variant", "estimator"])


def sensitivity_table(grids: dict[str, pd.DataFrame]) -> str:
    """Rows = coverage-rule sets (SENSITIVITY); per program: TWFE, CS (s.e.) and counties."""
    rows = []
    for variant, label in SENSITIVITY:
        est, se = [label], [""]
        for program in ("287g", "sc"):
            g = grids[program]
            for estimator in ("twfe", "cs_simple"):
                if (variant, estimator) in g.index:
                    est.append(latex.fmt_number(g.loc[(variant, estimator), "estimate"], 3))
                    se.append(f"({latex.fmt_number(g.loc[(variant, estimator), 'se'], 3)})")
                else:
                    est.append("")
                    se.append("")
            n = g.loc[(variant, "twfe"), "n_units"] if (variant, "twfe") in g.index else None
            est.append(latex.fmt_count(n) if n is not None else "")
            se.append("")
        rows += [est, se]
    return latex.tabular(
        ["l"] + ["r"] * 6,
        ["Sample", "TWFE", "CS", "Counties", "TWFE", "CS", "Counties"],
        rows,
        groups=[[("", 1), ("287(g)", 3), ("Secure Communities", 3)]],
        centre=True,
    )


def placebo_spec(program: str, outcome: str, sample: str) -> str:
    return f"{program}_placebo_{outcome}" + ("" if sample == "main" else f"_{sample}")


def placebo_frame() -> pd.DataFrame:
    """Every reporting placebo: program, outcome, sample, estimator, estimate, se, ci, p, n."""
    rows = []
    for program, _, _ in SPEC_PREFIXES:
        for outcome, _, _ in PLACEBOS:
            for sample in ("main", PRE_AUDIT):
                spec = placebo_spec(program, outcome, sample)
                for estimator in ("twfe", "cs_simple"):
                    r = inputs.estimate(spec, estimator)
                    rows.append(
                        {
                            "program": program,
                            "outcome": outcome,
                            "sample": sample,
                            "estimator": estimator,
                            **{k: r[k] for k in ("estimate", "se", "ci_low", "ci_high", "pvalue", "n_units")},
                        }
                    )
    return pd.DataFrame(rows)


def placebo_table(placebos: pd.DataFrame) -> str:
    """Panel A: main sample; panel B: pre-audit sample. Rows = reporting outcomes; columns = designs."""
    columns = ["TWFE", "CS", "TWFE", "CS"]
    groups = [[(label, 2) for _, label, _ in SPEC_PREFIXES]]
    titles = {
        "main": "A. Main sample",
        PRE_AUDIT: latex.Raw("B. Pre-audit sample (COVIND $\\geq$ 90 every year, balanced)"),
    }
    panels = []
    for sample in ("main", PRE_AUDIT):
        rows = []
        for outcome, label, _ in PLACEBOS:
            cells = []
            for program, _, _ in SPEC_PREFIXES:
                for estimator in ("twfe", "cs_simple"):
                    r = placebos[
                        (placebos["program"] == program)
                        & (placebos["outcome"] == outcome)
                        & (placebos["sample"] == sample)
                        & (placebos["estimator"] == estimator)
                    ].iloc[0]
                    cells.append({"estimate": r["estimate"], "se": r["se"]})
            rows.append((label, cells))
        counts = [
            int(
                placebos[(placebos["program"] == p) & (placebos["sample"] == sample) & (placebos["estimator"] == e)][
                    "n_units"
                ].iloc[0]
            )
            for p, _, _ in SPEC_PREFIXES
            for e in ("twfe", "cs_simple")
        ]
        panels.append(latex.Panel(titles[sample], rows, [("Counties", counts)]))
    return latex.regression_table(columns, panels, groups=groups)


def cohort_2013(pre: pd.DataFrame, main: pd.DataFrame) -> pd.DataFrame:
    """The pre-audit counties activated in 2013 (the not-yet-treated controls of 2012): population
    weight (first-year population, as the SC specs) and the soundness of their counts."""
    dated = pre[pre["sc_dated"]]
    first = dated.sort_values("year").drop_duplicates("fips").set_index("fips")["population"]
    cohort = dated[dated["sc_year"] == config.LAST_YEAR + 1]
    summary = county_summary(cohort)
    by = cohort.groupby("fips")
    out = pd.DataFrame(
        {
            "county": by["county_name"].first(),
            "state": by["state"].first(),
            "population": first.reindex(by.size().index) / 1000,
            "weight_pct": 100 * first.reindex(by.size().index) / first.reindex(by.size().index).sum(),
            "ratio_min": by["cov_ratio"].min(),
            "ratio_max": by["cov_ratio"].max(),
            "max_jump": summary["max_cov_ratio_jump"],
            "ag_min": by["ag_off"].min(),
            "ag_max": by["ag_off"].max(),
            "in_main": [f in set(main["fips"]) for f in by.size().index],
        }
    )
    return out.sort_values(["weight_pct", "county"], ascending=[False, True]).reset_index()


def cohort_table(cohort: pd.DataFrame) -> str:
    """Table body of cohort_2013."""
    df = pd.DataFrame(
        {
            "county": cohort["county"],
            "state": cohort["state"],
            "population": cohort["population"],
            "weight": cohort["weight_pct"],
            "ratio": [f"{a:.2f}–{b:.2f}" for a, b in zip(cohort["ratio_min"], cohort["ratio_max"])],
            "jump": ["from/to 0" if np.isinf(j) else f"{j:.2f}" for j in cohort["max_jump"]],
            "agencies": [f"{int(a)}–{int(b)}" for a, b in zip(cohort["ag_min"], cohort["ag_max"])],
            "main": np.where(cohort["in_main"], "yes", "no"),
        }
    )
    formats = {
        "county": "text",
        "state": "text",
        "population": 0,
        "weight": 1,
        "ratio": "text",
        "jump": "text",
        "agencies": "text",
        "main": "text",
    }
    return latex.data_table(
        typeset(df, formats),
        formats,
        labels={
            "county": "County",
            "state": "State",
            "population": "Pop. 2000 (000)",
            "weight": "Weight (%)",
            "ratio": "Coverage ratio",
            "jump": "Largest change",
            "agencies": "Agencies",
            "main": "In main",
        },
    )


def rule_macros(log: pd.DataFrame) -> dict[str, str]:
    """Counties and county-years each rule of the main sample drops, and what is left."""
    main = log[log["stage"] == "sample_main"]
    out = {}
    for row in main.itertuples():
        stem = next((m for prefix, m in RULE_MACROS.items() if row.rule.startswith(prefix)), None)
        if stem is None:
            raise ValueError(f"sample_main rule {row.rule!r} has no macro name (RULE_MACROS)")
        out[f"AuditDrop{stem}Counties"] = fmt_int(row.dropped_units)
        out[f"AuditDrop{stem}CountyYears"] = fmt_int(row.dropped_rows)
        out[f"AuditAfter{stem}Counties"] = fmt_int(row.units_after)
    audit = main[main["rule"].str.startswith(tuple(list(RULE_MACROS)[2:]))]
    out["AuditDropAllCounties"] = fmt_int(audit["dropped_units"].sum())
    out["AuditDropAllCountyYears"] = fmt_int(audit["dropped_rows"].sum())
    return out


def placebo_macros(placebos: pd.DataFrame) -> dict[str, str]:
    """One family per placebo (estimate, s.e., p) and counts of intervals excluding zero per sample."""
    out = {}
    for r in placebos.itertuples():
        prog = dict((p, m) for p, _, m in SPEC_PREFIXES)[r.program]
        outc = dict((o, m) for o, _, m in PLACEBOS)[r.outcome]
        name = (
            f"Placebo{prog}{outc}{'Twfe' if r.estimator == 'twfe' else 'Cs'}{'' if r.sample == 'main' else 'PreAudit'}"
        )
        out[name] = fmt_num(r.estimate, 3)
        out[name + "Se"] = fmt_num(r.se, 3)
        out[name + "P"] = fmt_p(float(r.pvalue))
    labels = {o: label for o, label, _ in PLACEBOS}
    programs = {p: label for p, label, _ in SPEC_PREFIXES}
    for sample, suffix in (("main", "Main"), (PRE_AUDIT, "PreAudit")):
        part = placebos[placebos["sample"] == sample]
        excl = part[(part["ci_low"] > 0) | (part["ci_high"] < 0)]
        out[f"PlaceboEstimates{suffix}"] = fmt_int(len(part))
        out[f"PlaceboExcludeZero{suffix}"] = fmt_int(len(excl))
        names = [
            f"{programs[r.program]} on {label_in_text(labels[r.outcome])} ({'TWFE' if r.estimator == 'twfe' else 'CS'})"
            for r in excl.itertuples()
        ]
        out[f"PlaceboExcludeZero{suffix}List"] = latex.escape(
            "none" if not names else names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        )
    return out


def label_in_text(label: str) -> str:
    """A row label inside a sentence: lower case, except acronyms (COVIND)."""
    return label if label.isupper() else label.lower()


def coverage_reading(placebo: pd.Series, crime: float) -> str:
    """What a placebo estimate on the coverage ratio says about a crime estimate of the same design: counts
    follow coverage, so a change in coverage moves counted crime the same way."""
    if placebo["ci_low"] <= 0 <= placebo["ci_high"]:
        return r"its 95\% interval includes zero, so no change in coverage is detected"
    rises = placebo["estimate"] > 0
    if rises == (crime > 0):
        return (
            "coverage moves in the direction of the crime estimate, so part of that estimate may be an "
            "artefact of reporting"
        )
    return (
        f"coverage {'rises' if rises else 'falls'} after treatment, which would move counted crime "
        f"{'up' if rises else 'down'}, against the sign of the crime estimate"
    )


def last_comparison_text(main: pd.DataFrame) -> str:
    """A sentence on the SC comparison group of the last year, true for the main sample as built."""
    late = main.loc[main["sc_dated"] & (main["sc_year"] > config.LAST_YEAR), "fips"].nunique()
    if late == 0:
        return (
            f"no county of the main sample is activated after {config.LAST_YEAR}, so in {config.LAST_YEAR} no "
            f"county is untreated: Callaway--Sant'Anna, Sun--Abraham and the imputation estimator use the "
            f"{config.LAST_YEAR} cohort as the last comparison group and leave {config.LAST_YEAR} out"
        )
    one = late == 1
    return (
        f"{late:,} main-sample {'county is' if one else 'counties are'} activated only after {config.LAST_YEAR} "
        f"and {'serves' if one else 'serve'} as not-yet-treated controls until the end of our data"
    )


def cohort_macros(cohort: pd.DataFrame) -> dict[str, str]:
    """The 2013 cohort of the pre-audit sample: size, the heaviest county and its share, how many stay."""
    top = cohort.iloc[0]
    return {
        "ScCohortPreAuditCounties": fmt_int(len(cohort)),
        "ScCohortPreAuditStates": fmt_int(cohort["state"].nunique()),
        "ScCohortTopCounty": latex.escape(f"{top['county']}, {top['state']}"),
        "ScCohortTopWeightPct": fmt_num(top["weight_pct"], 1),
        "ScCohortTopRatioMin": fmt_num(top["ratio_min"], 2),
        "ScCohortTopRatioMax": fmt_num(top["ratio_max"], 2),
        "ScCohortTopAgenciesMin": fmt_int(top["ag_min"]),
        "ScCohortTopAgenciesMax": fmt_int(top["ag_max"]),
        "ScCohortInMain": fmt_int(cohort["in_main"].sum()),
        "ScCohortBadCounties": fmt_int((cohort["max_jump"] > main_bounds()["cov_ratio_jump_max"]).sum()),
    }


def build() -> dict[str, str]:
    """Figure coverage_audit; tables coverage_elasticity, coverage_changes, audit_sensitivity,
    reporting_placebos, sc_cohort_2013; the audit's macros."""
    bounds = main_bounds()
    panel = inputs.panel()
    pre, main = samples(panel)
    elasticity = elasticity_by_jump(pre, EDGES)
    volatility = agency_volatility(pre, AGENCY_EDGES)
    figure_audit(pre, elasticity, volatility, bounds)
    latex.write_table(elasticity_table(elasticity), "coverage_elasticity")
    changes = sharp_changes(pre)
    latex.write_table(changes_table(changes), "coverage_changes")
    grids = {p: grid_rows(p) for p in ("287g", "sc")}
    latex.write_table(sensitivity_table(grids), "audit_sensitivity")
    placebos = placebo_frame()
    latex.write_table(placebo_table(placebos), "reporting_placebos")
    cohort = cohort_2013(pre, main)
    latex.write_table(cohort_table(cohort), "sc_cohort_2013")

    jump = bounds["cov_ratio_jump_max"]
    pooled = elasticity_by_jump(pre, [0, jump, np.inf])
    agencies = agency_volatility(pre, [1, bounds["ag_off_jump_max"], np.inf])
    log = inputs.read_csv(config.SAMPLE_LOG, ["stage", "rule", "dropped_rows", "dropped_units", "units_after"])
    macros = {
        "AuditLevelBound": fmt_num(bounds["cov_ratio_log_max"], 2),
        "AuditJumpBound": fmt_num(jump, 2),
        "AuditLevelShareLow": fmt_int(round(100 * np.exp(-bounds["cov_ratio_log_max"]))),
        "AuditLevelShareHigh": fmt_int(round(100 * np.exp(bounds["cov_ratio_log_max"]))),
        "AuditAgencyBound": fmt_int(bounds["ag_off_jump_max"]),
        "AuditCrimeJumpBound": fmt_int(bounds["index_jump_max"]),
        "AuditRateBound": fmt_int(bounds["rate_index_max"]),
        "AuditElasticityBelow": fmt_num(pooled["slope"].iloc[0], 2),
        "AuditElasticityBelowSe": fmt_num(pooled["se"].iloc[0], 2),
        "AuditElasticityAbove": fmt_num(pooled["slope"].iloc[1], 2),
        "AuditElasticityAboveSe": fmt_num(pooled["se"].iloc[1], 2),
        "AuditElasticityBelowN": fmt_int(pooled["county_years"].iloc[0]),
        "AuditElasticityAboveN": fmt_int(pooled["county_years"].iloc[1]),
        "AuditAgencyChangeBelow": fmt_num(agencies["mad"].iloc[0], 2),
        "AuditAgencyChangeAbove": fmt_num(agencies["mad"].iloc[1], 2),
        "AuditAgencyAboveN": fmt_int(agencies["county_years"].iloc[1]),
        "AuditPreAuditCounties": fmt_int(pre["fips"].nunique()),
        "AuditCovindFullCountyYears": fmt_int((pre["covind"] >= 99.99).sum()),
        "AuditCovindFullFarCountyYears": fmt_int(
            ((pre["covind"] >= 99.99) & ~(pre["log_cov_ratio"].abs() <= bounds["cov_ratio_log_max"])).sum()
        ),
        "AuditSharpCounties": fmt_int(len(changes)),
        "AuditSharpRows": fmt_int(min(len(changes), CHANGES_ROWS)),
        "AuditSharpBound": fmt_num(SHARP, 1),
        "AuditSharpTreatedTwoEightySeven": fmt_int((changes["g287"] != "").sum()),
    }
    macros.update(rule_macros(log))
    macros.update(placebo_macros(placebos))
    for program, prefix, spec in (("us_287g", "National", "us_287g_index"), ("sc", "Sc", "sc_index")):
        r = placebos[
            (placebos["program"] == program)
            & (placebos["outcome"] == "cov_ratio")
            & (placebos["sample"] == "main")
            & (placebos["estimator"] == "twfe")
        ].iloc[0]
        macros[f"Placebo{prefix}CovRatioReading"] = coverage_reading(
            r, float(inputs.estimate(spec, "twfe")["estimate"])
        )
    macros.update(cohort_macros(cohort))
    macros["ScLastComparisonText"] = last_comparison_text(main)
    late = main.loc[main["sc_dated"] & (main["sc_year"] > config.LAST_YEAR), "fips"].nunique()
    macros["ScTrendsLateCohortNote"] = (
        f"The {config.LAST_YEAR + 1} cohort (dashed) is not yet treated in {config.FIRST_YEAR}--{config.LAST_YEAR}."
        if late
        else f"No county of the main sample is activated in {config.LAST_YEAR + 1}."
    )
    macros.update(range_macros(grids))
    macros.update(sanity_macros())
    return macros


AUDITED = ["audit_level_only", "audit_jumps_only", "audit_loose", "base", "audit_strict"]


def range_macros(grids: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Smallest and largest headline estimate over the samples with coverage rules (AUDITED), and the
    headline design on the pre-audit sample (grid variant covind90: the sample alone changed, the
    treatment coding kept), the row 'Pre-audit' of the sensitivity and robustness tables."""
    out = {}
    for program, prefix in (("287g", "National"), ("sc", "Sc")):
        for estimator, name in (("twfe", "Twfe"), ("cs_simple", "Cs")):
            values = [grids[program].loc[(v, estimator), "estimate"] for v in AUDITED]
            out[f"AuditRange{prefix}{name}Min"] = fmt_num(min(values), 3)
            out[f"AuditRange{prefix}{name}Max"] = fmt_num(max(values), 3)
            out[f"AuditPreAudit{prefix}{name}"] = fmt_num(grids[program].loc[(PRE_AUDIT, estimator), "estimate"], 3)
    return out


def sanity_macros() -> dict[str, str]:
    """Counts of data_clean/sanity_checks.csv per check, and how many the main sample keeps."""
    from analysis import checks

    table = inputs.read_csv(config.SANITY_CHECKS, ["check", "fips", "in_main", "handled_by"])
    counts = table["check"].value_counts()
    names = {"zero_index": "ZeroIndex", "index_jump": "IndexJump", "rate_index": "Rate"}
    out = {f"Sanity{m}CountyYears": fmt_int(counts.get(c, 0)) for c, m in names.items()}
    out.update(
        {f"Sanity{m}Counties": fmt_int(table.loc[table["check"] == c, "fips"].nunique()) for c, m in names.items()}
    )
    out["SanityKeptInMain"] = fmt_int(table["in_main"].sum())
    out["SanityIndexJumpBound"] = fmt_int(checks.INDEX_JUMP_MAX)
    out["SanityRateBound"] = fmt_int(checks.RATE_INDEX_MAX)
    return out
