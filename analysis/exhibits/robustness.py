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
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.headline import fmt_p, fmt_p_text
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.exhibits.style import PROGRAM_LABELS
from analysis.grid import read_grid

GRID_COLUMNS = ["program", "variant", "dimension", "estimator", "estimate", "se", "ci_low", "ci_high", "n_obs",
                "n_units"]
LABELS = {"base": "Baseline", "rate": "Rate per 100,000 (not logs)", "ppml_counts": "PPML on counts",
          "cov75": "COVIND ≥ 75, unbalanced", "cov_pos": "Any reporting, unbalanced",
          "midyear_rule": "Mid-year rule (after 30 June: next year)", "not_yet_treated": "Not-yet-treated controls",
          "covind90": "Pre-audit sample (COVIND ≥ 90 only)", "covind90_no_cook": "Pre-audit sample without Cook County",
          "audit_level_only": "Coverage level rule only", "audit_jumps_only": "Coverage jump rules only",
          "audit_loose": "Looser coverage bounds", "audit_strict": "Stricter coverage bounds",
          "wapo_dates": "Washington Post first year", "no_list_dates": "Without list-date counties",
          "municipal_controls": "Municipal-only counties as controls", "jail_model": "Jail-model agreements",
          "jail_model_uncleaned": "Jail model, as coded before", "task_force": "Task-force agreements",
          "task_force_uncleaned": "Task force, as coded before", "end_at_termination": "Exposure ends at termination",
          "population_weights": "Population weights", "unweighted": "Unweighted",
          "no_nyc2001": "Without NYC 2001", "no_coverage_hole_states": "Without coverage-hole states",
          "county_trends": "County linear trends"}
ESTIMATOR_STYLE = {"twfe": ("TWFE", "blue", "o"), "twfe_trends": ("TWFE + county trends", "purple", "D"),
                   "cs_simple": ("Callaway–Sant'Anna", "vermillion", "s"), "ppml": ("PPML", "green", "^")}
TWFE_LIKE = ("twfe", "twfe_trends", "ppml")
# Grid variants left out of the robustness table because a table of their own shows them
# (audit_sensitivity, treatment_coding, variants_287g), and variants that are not alternative designs but the
# old coding, shown only beside the rule that replaced it (left out of the specification curves too).
OWN_TABLE = {"audit_level_only", "audit_jumps_only", "audit_loose", "audit_strict", "jail_model",
             "jail_model_uncleaned", "task_force", "task_force_uncleaned", "wapo_dates", "no_list_dates",
             "end_at_termination", "municipal_controls"}
OLD_CODING = {"jail_model_uncleaned", "task_force_uncleaned"}
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
            ax.errorbar(pts["estimate"][m], y[m], xerr=[pts["estimate"][m] - pts["ci_low"][m],
                                                        pts["ci_high"][m] - pts["estimate"][m]],
                        fmt=marker, color=style.OKABE_ITO[colour], ms=4, elinewidth=1, label=name)
    ax.axvline(0, color="black", lw=0.6)
    if len(base):
        ax.axvline(float(base.iloc[0]), color="#888888", lw=0.6, ls="--", label="Baseline TWFE")
    ax.set_yticks(y, [f"{label(v)} ({ESTIMATOR_STYLE[e][0]})" for v, e in zip(pts["variant"], pts["estimator"])])
    ax.set_ylim(-0.7, len(pts) - 0.3)
    ax.grid(False, axis="y")
    ax.set_xlabel("Effect on the log index crime rate (95% CI)")
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
                cells.append({"estimate": part.loc[est, "estimate"], "se": part.loc[est, "se"],
                              "digits": 3 if part.loc[est, "log_scale"] else 1} if est in part.index else None)
        rows.append((latex.Raw(tex(label(variant))), cells))
    groups = [[(PROGRAM_LABELS[p][1], 2) for p in PROGRAM_LABELS]]
    return latex.regression_table(["TWFE", "CS", "TWFE", "CS"], rows, groups=groups)


def ri(program: str) -> tuple[pd.Series, pd.DataFrame]:
    """results/ri_<program>/ri.csv (one row) and its permutation draws."""
    summary = inputs.read_csv(config.ri_folder(program) / "ri.csv", ["estimate", "p_perm", "n_perm", "seed"])
    draws = inputs.read_csv(config.ri_folder(program) / "permutations.csv", ["estimate"])
    if len(draws) != int(summary["n_perm"].iloc[0]):
        raise ValueError(f"results/ri_{program}: {len(draws)} draws, ri.csv says {summary['n_perm'].iloc[0]}")
    return summary.iloc[0], draws


def figure_ri() -> None:
    """Figure ri: one panel per program, the permutation distribution and the observed estimate."""
    fig, axes = style.figure(height=2.8, ncols=2)
    for ax, program in zip(axes, PROGRAM_LABELS):
        summary, draws = ri(program)
        ax.hist(draws["estimate"], bins=40, color=style.OKABE_ITO["sky_blue"], edgecolor="white", lw=0.3,
                label=f"Permutations ({int(summary['n_perm'])})")
        ax.axvline(summary["estimate"], color=style.OKABE_ITO["vermillion"], lw=1.5,
                   label=f"Observed, $p$ = {summary['p_perm']:.3f}")
        ax.set_title(PROGRAM_LABELS[program][1])
        ax.set_xlabel("TWFE estimate (log points)")
        ax.set_ylabel("Permutations")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # headroom: the legend sits above the bars
        ax.legend(loc="upper right", fontsize=7)
    style.save(fig, "ri")


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
        for r in grids[program].itertuples():   # every grid estimate, e.g. \ScGridUnweightedTwfe
            if re.fullmatch(r"[a-z_]+", r.variant + r.estimator):
                name = "".join(w.capitalize() for w in f"{r.variant}_{r.estimator}".split("_"))
                macros[f"{prefix}Grid{name}"] = fmt_num(r.estimate, 3 if r.log_scale else 1)
        macros[f"{prefix}GridMin"] = fmt_num(pts["estimate"].min(), 3)
        macros[f"{prefix}GridMax"] = fmt_num(pts["estimate"].max(), 3)
        summary, _ = ri(program)
        macros[f"{prefix}RiP"] = fmt_p(float(summary["p_perm"]))
        macros[f"{prefix}RiPText"] = fmt_p_text(float(summary["p_perm"]))
        macros[f"{prefix}RiPermutations"] = fmt_int(summary["n_perm"])
    latex.write_table(robustness_table(grids), "robustness")
    figure_ri()
    return macros
