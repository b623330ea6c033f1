"""Robustness: specification curves of the grids, the grid table, and the randomization-inference
permutation distributions.

Grid rows on the rate scale (variants whose grid ``changes`` set ``transform: rate``) are not
comparable with log points: the curves leave them out and the table shows them in their own row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analysis import config
from analysis.credibility import HEADLINE
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.headline import fmt_p, fmt_p_text
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.exhibits.style import PROGRAM_LABELS
from analysis.grid import read_grid
from analysis.spec import load_spec

GRID_COLUMNS = [
    "program",
    "variant",
    "dimension",
    "estimator",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n_obs",
    "n_units",
]
LABELS = {
    "base": "Baseline",
    "rate": "Rate per 100,000 (not logs)",
    "ppml_counts": "PPML on counts",
    "cov75": "COVIND ≥ 75, unbalanced",
    "cov_pos": "Any reporting, unbalanced",
    "midyear_rule": "Mid-year rule (after 30 June: next year)",
    "not_yet_treated": "Not-yet-treated controls",
    "late_adopters": "Late adopters as the only controls",
    "covind90": "Pre-audit sample (COVIND ≥ 90 only)",
    "covind90_no_cook": "Pre-audit sample without Cook County",
    "audit_level_only": "Coverage level rule only",
    "audit_jumps_only": "Coverage jump rules only",
    "audit_loose": "Looser coverage bounds",
    "audit_strict": "Stricter coverage bounds",
    "wapo_dates": "Washington Post first year",
    "no_list_dates": "Without list-date counties",
    "municipal_controls": "Municipal-only counties as controls",
    "jail_model": "Jail-model agreements",
    "jail_model_uncleaned": "Jail model, as coded before",
    "task_force": "Task-force agreements",
    "task_force_uncleaned": "Task force, as coded before",
    "end_at_termination": "Exposure ends at termination",
    "population_weights": "Population weights",
    "unweighted": "Unweighted",
    "no_nyc2001": "Without NYC 2001",
    "no_coverage_hole_states": "Without coverage-hole states",
    "county_trends": "County linear trends",
}
ESTIMATOR_STYLE = {
    "twfe": ("TWFE", "blue", "o"),
    "twfe_trends": ("TWFE + county trends", "purple", "D"),
    "cs_simple": ("Callaway–Sant'Anna", "vermillion", "s"),
    "ppml": ("PPML", "green", "^"),
}
TWFE_LIKE = ("twfe", "twfe_trends", "ppml")
# Grid variants left out of the robustness table because a table of their own shows them
# (audit_sensitivity, treatment_coding, variants_287g), and variants that are not alternative designs but the
# old coding, shown only beside the rule that replaced it (left out of the specification curves too).
OWN_TABLE = {
    "audit_level_only",
    "audit_jumps_only",
    "audit_loose",
    "audit_strict",
    "jail_model",
    "jail_model_uncleaned",
    "task_force",
    "task_force_uncleaned",
    "wapo_dates",
    "no_list_dates",
    "end_at_termination",
    "municipal_controls",
}
OLD_CODING = {"jail_model_uncleaned", "task_force_uncleaned"}
PLURAL = {"county": "counties", "state": "states"}
MAX_CURVE_HEIGHT = 7.8  # inches: a curve and its caption fit the 9in text block


def label(variant: str) -> str:
    """Printed name of a grid variant (the raw name, de-underscored, if it has none)."""
    return LABELS.get(variant, variant.replace("_", " ").capitalize())


def tex(text: str) -> str:
    """Printed names as LaTeX: escaped, with the one non-ASCII sign they use."""
    return latex.escape(text).replace("≥", r"$\geq$")


def grid(program: str) -> pd.DataFrame:
    """results/grid_<program>/estimates.csv with ``log_scale`` (False for rate-scale variants) and the
    variant order of the grid file."""
    est = inputs.read_csv(config.grid_folder(program) / "estimates.csv", GRID_COLUMNS)
    unknown = set(est["estimator"]) - set(ESTIMATOR_STYLE)
    if unknown:
        raise ValueError(f"results/grid_{program}/estimates.csv: unknown estimators {sorted(unknown)}")
    spec = read_grid(inputs.require(config.GRIDS / f"{program}.yaml"))
    order = [v["variant"] for v in spec["variants"]]
    rate = {v["variant"] for v in spec["variants"] if (v.get("changes") or {}).get("transform") == "rate"}
    missing = set(order) - set(est["variant"])
    if missing:
        raise inputs.MissingResult(f"results/grid_{program}/estimates.csv lacks variants {sorted(missing)}")
    est = est.assign(log_scale=~est["variant"].isin(rate), order=est["variant"].map(order.index))
    return est.sort_values(["order", "estimator"]).reset_index(drop=True)


def se_note(bases: dict[str, dict], main: dict[str, dict]) -> str:
    """What the grid tables' standard errors are, from the grids' base specs, compared with the main
    tables' specs (\\GridSeNote). The grids of both programs must use the same kind."""
    kinds = {(b.get("cluster", "county"), int(b.get("bootstrap", 0))) for b in bases.values()}
    if len(kinds) != 1:
        raise ValueError(
            f"the grids' base specs use different standard errors {sorted(kinds)}: one note cannot "
            "describe the robustness table; give them the same cluster and bootstrap"
        )
    cluster, draws = kinds.pop()
    same = all(int(main[p].get("bootstrap", 0)) == draws and main[p].get("cluster", "county") == cluster for p in bases)
    if draws:
        cs = f"CS: multiplier bootstrap over {PLURAL[cluster]}, {fmt_int(draws)} draws"
        cs += ", as in the main tables" if same else ", unlike the main tables"
        return f"standard errors clustered by {cluster} in parentheses ({cs}; TWFE and PPML: analytic cluster-robust)"
    return f"analytic standard errors clustered by {cluster} in parentheses, for CS too" + (
        " (not the main tables' bootstrap ones)" if not same else ""
    )


def curve_points(est: pd.DataFrame) -> pd.DataFrame:
    """The log-scale grid estimates sorted by estimate (the specification curve's order), without the
    variants that keep an old coding (OLD_CODING)."""
    keep = est["log_scale"] & ~est["variant"].isin(OLD_CODING)
    return est[keep].sort_values(["estimate", "variant", "estimator"]).reset_index(drop=True)


def plot_curve(program: str, est: pd.DataFrame | None = None):
    """The specification curve of ``program`` (its ``grid``, read unless given): each log-scale estimate
    with its 95% CI, sorted, labelled by variant; returns (figure, the points drawn)."""
    pts = curve_points(grid(program) if est is None else est)
    fig, ax = style.figure(height=min(MAX_CURVE_HEIGHT, 1.2 + 0.19 * len(pts)))
    y = np.arange(len(pts))
    base = pts[(pts["variant"] == "base") & (pts["estimator"] == "twfe")]["estimate"]
    for est, (name, colour, marker) in ESTIMATOR_STYLE.items():
        m = (pts["estimator"] == est).to_numpy()
        if m.any():
            ax.errorbar(
                pts["estimate"][m],
                y[m],
                xerr=[pts["estimate"][m] - pts["ci_low"][m], pts["ci_high"][m] - pts["estimate"][m]],
                fmt=marker,
                color=style.OKABE_ITO[colour],
                ms=4,
                elinewidth=1,
                label=name,
            )
    ax.axvline(0, color="black", lw=0.6)
    if len(base):
        ax.axvline(float(base.iloc[0]), color="#888888", lw=0.6, ls="--", label="Baseline TWFE")
    ax.set_yticks(y, [f"{label(v)} ({ESTIMATOR_STYLE[e][0]})" for v, e in zip(pts["variant"], pts["estimator"])])
    ax.set_ylim(-0.7, len(pts) - 0.3)
    ax.grid(False, axis="y")
    ax.set_xlabel(
        f"Effect on the {style.wording(read_grid(config.GRIDS / f'{program}.yaml')['base']).measure} (95% CI)"
    )
    ax.set_title(PROGRAM_LABELS[program][1])
    ax.xaxis.set_major_locator(MaxNLocator(7))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=4)
    return fig, pts


def figure_curve(program: str, est: pd.DataFrame) -> pd.DataFrame:
    """Figure spec_curve_<program> from its grid ``est``; returns the points drawn."""
    fig, pts = plot_curve(program, est)
    style.save(fig, f"spec_curve_{program}")
    return pts


def robustness_table(grids: dict[str, pd.DataFrame]) -> str:
    """Rows = variants (both grids, grid order); columns = TWFE-type and CS for each program."""
    order = [v for v in dict.fromkeys(v for p in PROGRAM_LABELS for v in grids[p]["variant"]) if v not in OWN_TABLE]
    rows = []
    for variant in order:
        cells = []
        for p in PROGRAM_LABELS:
            part = grids[p][grids[p]["variant"] == variant].set_index("estimator")
            twfe = next((e for e in TWFE_LIKE if e in part.index), None)
            for est in (twfe, "cs_simple"):
                cells.append(
                    {
                        "estimate": part.loc[est, "estimate"],
                        "se": part.loc[est, "se"],
                        "digits": 3 if part.loc[est, "log_scale"] else 1,
                    }
                    if est in part.index
                    else None
                )
        rows.append((latex.Raw(tex(label(variant))), cells))
    groups = [[(PROGRAM_LABELS[p][1], 2) for p in PROGRAM_LABELS]]
    return latex.regression_table(["TWFE", "CS", "TWFE", "CS"], rows, groups=groups)


# scheme -> (macro infix, legend label, colour, phrase after "permuting adoption" in running text)
RI_SCHEMES = {
    "unrestricted": ("", "All counties", "blue", "across all counties"),
    "within_state": ("State", "Within state", "orange", "within states"),
    "within_size3_2000": ("Size", "Within population tercile", "green", "within population terciles"),
}


def ri(program: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """results/ri_<program>/ri.csv (one row per permutation scheme, indexed by scheme) and its draws."""
    summary = inputs.read_csv(
        config.ri_folder(program) / "ri.csv",
        ["scheme", "estimate", "p_perm", "n_perm", "seed", "n_strata", "n_strata_varying"],
    )
    draws = inputs.read_csv(config.ri_folder(program) / "permutations.csv", ["scheme", "estimate"])
    summary = summary.set_index("scheme")
    missing = [k for k in RI_SCHEMES if k not in summary.index]
    if missing:
        raise inputs.MissingResult(f"results/ri_{program}/ri.csv: no scheme {', '.join(missing)}")
    for scheme, row in summary.iterrows():
        if (draws["scheme"] == scheme).sum() != int(row["n_perm"]):
            raise ValueError(
                f"results/ri_{program}: {(draws['scheme'] == scheme).sum()} {scheme} draws, ri.csv says {row['n_perm']}"
            )
    return summary, draws


def ri_panel(ax, program: str) -> None:
    """One panel of figure ri: ``program``'s permutation distribution of each scheme (outlines) and the
    observed estimate with each scheme's p-value (notebook 04 draws the same panels)."""
    summary, draws = ri(program)
    bins = np.histogram_bin_edges(draws["estimate"], bins=50)
    for scheme, (_, label, colour, _) in RI_SCHEMES.items():
        ax.hist(
            draws.loc[draws["scheme"] == scheme, "estimate"],
            bins=bins,
            histtype="step",
            lw=1.2,
            color=style.OKABE_ITO[colour],
            label=f"{label}, $p$ = {summary.loc[scheme, 'p_perm']:.3f}",
        )
    ax.axvline(summary["estimate"].iloc[0], color=style.OKABE_ITO["vermillion"], lw=1.5, label="Observed")
    ax.set_title(PROGRAM_LABELS[program][1])
    ax.set_xlabel("TWFE estimate (log points)")
    ax.set_ylabel(f"Permutations (of {int(summary['n_perm'].iloc[0])})")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # headroom: the legend sits above the bars
    ax.legend(loc="upper right", fontsize=6.5)


def figure_ri() -> None:
    """Figure ri: one panel per program (ri_panel)."""
    fig, axes = style.figure(height=2.8, ncols=2)
    for ax, program in zip(axes, PROGRAM_LABELS):
        ri_panel(ax, program)
    style.save(fig, "ri")


SPREAD_SAME = 1.2  # permuted SD within a factor 1.2 of the clustered SE: "about as widely as"


def spread_words(sd: float, se: float) -> str:
    """How the permuted estimates spread against the clustered standard error, for 'spread ... the
    clustered standard error says': 'more widely than', 'about as widely as' or 'less widely than'."""
    if sd > SPREAD_SAME * se:
        return "more widely than"
    if sd < se / SPREAD_SAME:
        return "less widely than"
    return "about as widely as"


def ri_macros(prefix: str, summary: pd.DataFrame, draws: pd.DataFrame, se: float) -> dict[str, str]:
    """Per scheme: p-value (table and text forms); the mean of the permuted estimates and its share of
    the observed estimate (in percent); their standard deviation and how it compares with the
    clustered standard error ``se`` of the permuted specification (spread_words); strata and the strata
    with more than one adoption year (those a within-stratum permutation can move)."""
    out = {f"{prefix}RiPermutations": fmt_int(summary["n_perm"].iloc[0]), f"{prefix}RiClusteredSe": fmt_num(se)}
    for scheme, (key, *_) in RI_SCHEMES.items():
        row = summary.loc[scheme]
        sd = float(draws.loc[draws["scheme"] == scheme, "estimate"].std(ddof=1))
        out[f"{prefix}Ri{key}Sd"] = fmt_num(sd)
        out[f"{prefix}Ri{key}Spread"] = spread_words(sd, se)
        mean = float(draws.loc[draws["scheme"] == scheme, "estimate"].mean())
        mean = mean if abs(mean) >= 0.0005 else 0.0  # no "-0.000"
        out[f"{prefix}Ri{key}Mean"] = fmt_num(mean)
        share = round(100 * mean / float(row["estimate"]))
        out[f"{prefix}Ri{key}MeanShare"] = ("$-$" if share < 0 else "") + fmt_int(abs(share))
        out[f"{prefix}Ri{key}P"] = fmt_p(float(row["p_perm"]))
        out[f"{prefix}Ri{key}PText"] = fmt_p_text(float(row["p_perm"]))
        if key:
            out[f"{prefix}Ri{key}Strata"] = fmt_int(row["n_strata"])
            out[f"{prefix}Ri{key}StrataVarying"] = fmt_int(row["n_strata_varying"])
    below = [RI_SCHEMES[k][1].lower() for k in RI_SCHEMES if summary.loc[k, "p_perm"] < 0.05]
    out[f"{prefix}RiBelowFive"] = (
        "none" if not below else below[0] if len(below) == 1 else ", ".join(below[:-1]) + " and " + below[-1]
    )
    return out


def covering_zero(pts: pd.DataFrame) -> str:
    """The grid estimates whose 95% interval includes zero, in words for the text ("none" if none)."""
    rows = pts[(pts["ci_low"] <= 0) & (pts["ci_high"] >= 0)]
    names = [f"{label(r.variant)} ({ESTIMATOR_STYLE[r.estimator][0]})" for r in rows.itertuples()]
    text = "none" if not names else names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return tex(text)


def build() -> dict[str, str]:
    """Spec curves, robustness table, RI figure; macros on the grids and the RI."""
    macros: dict[str, str] = {}
    grids = {program: grid(program) for program in PROGRAM_LABELS}
    for program, (prefix, _) in PROGRAM_LABELS.items():
        pts = figure_curve(program, grids[program])
        neg = (pts["ci_high"] < 0).sum()
        macros[f"{prefix}GridLogEstimates"] = fmt_int(len(pts))
        macros[f"{prefix}GridNegative"] = fmt_int((pts["estimate"] < 0).sum())
        macros[f"{prefix}GridNegativeSignificant"] = fmt_int(neg)
        macros[f"{prefix}GridCoverZero"] = covering_zero(pts)
        for r in grids[program].itertuples():  # every grid estimate, e.g. \ScGridUnweightedTwfe
            if re.fullmatch(r"[a-z_]+", r.variant + r.estimator):
                name = "".join(w.capitalize() for w in f"{r.variant}_{r.estimator}".split("_"))
                macros[f"{prefix}Grid{name}"] = fmt_num(r.estimate, 3 if r.log_scale else 1)
        macros[f"{prefix}GridMin"] = fmt_num(pts["estimate"].min(), 3)
        macros[f"{prefix}GridMax"] = fmt_num(pts["estimate"].max(), 3)
        base = grids[program].set_index(["variant", "estimator"])  # the RI permutes the base's TWFE
        macros.update(ri_macros(prefix, *ri(program), se=float(base.loc[("base", "twfe"), "se"])))
    bases = {p: read_grid(inputs.require(config.GRIDS / f"{p}.yaml"))["base"] for p in PROGRAM_LABELS}
    main = {p: load_spec(inputs.require(config.SPECS / f"{HEADLINE[p]}.yaml")) for p in PROGRAM_LABELS}
    macros["GridSeNote"] = se_note(bases, main)
    latex.write_table(robustness_table(grids), "robustness")
    figure_ri()
    return macros
