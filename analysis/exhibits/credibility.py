"""Credibility designs (#12 §3): the headline estimate of each program under the designs a referee
asks for first, one table per program, the leave-one-state-out figure, and the generated claims.

* Tables credibility_287g and credibility_sc: rows = designs (DESIGNS: specs of analysis/specs/ and
  the loops of results/credibility/), columns = TWFE, event-study TWFE, imputation, CS, SDID (estimate and
  SE); the last rows give the leave-one-state-out and leave-one-cohort-out ranges of TWFE and CS.
* Figure loso: every leave-one-state-out estimate, sorted, against the headline.
* Macros ``<Prefix>Cred<Design><Estimator>`` (and ``Se``) for every cell, and the claims the text
  makes, each generated from the numbers: how a design's estimate compares with the headline's
  (``compare``), whether its 95% interval excludes zero (``interval_words``), which designs move an
  estimate by more than one headline standard error (``moved``), the placebo's verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.credibility import headline
from analysis.design import design_sample
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.exhibits.style import PROGRAM_LABELS

PROGRAM_SPECS = {"287g": (*PROGRAM_LABELS["287g"], "us_287g_index"), "sc": (*PROGRAM_LABELS["sc"], "sc_index")}
COLUMNS = {"twfe": "TWFE", "event_twfe": "Event-study TWFE", "imputation": "Imputation", "cs": "CS", "sdid": "SDID"}
# design key -> (label, source: a spec stem with {base} for the headline stem, or "loop:<design>"; a
# mapping program -> source when the programs differ, a program missing from it has no such design),
# and for each table column the estimator it shows.
DESIGNS = [
    (
        "headline",
        "County and year effects (headline)",
        "{base}",
        {"twfe": "twfe", "event_twfe": "event_twfe", "imputation": "imputation", "cs": "cs_simple"},
    ),
    (
        "stateyear",
        "State-by-year effects",
        "{base}_stateyear",
        {"twfe": "twfe", "event_twfe": "event_twfe", "imputation": "imputation"},
    ),
    (
        "sizeyear",
        "Population-tercile-by-year effects",
        "{base}_sizeyear",
        {"twfe": "twfe", "event_twfe": "event_twfe", "imputation": "imputation"},
    ),
    ("covariates", "Baseline covariates (doubly robust CS)", "{base}_covariates", {"cs": "cs_simple"}),
    (
        "withinstate",
        "Within states (CS on state indicators)",
        {"287g": "{base}_within_state"},
        {"cs": "cs_simple"},
    ),
    ("trends", "County linear trends", {"287g": "us_287g_index_trends", "sc": "sc_index"}, {"twfe": "twfe_trends"}),
    (
        "otherprogram",
        "Controlling for the other program's exposure",
        {"287g": "us_287g_index_sc_control", "sc": "sc_index_287g_control"},
        {"twfe": "twfe", "event_twfe": "event_twfe", "imputation": "imputation"},
    ),
    (
        "late",
        f"Late adopters (after {config.LAST_YEAR}) as the only controls",
        {"287g": "{base}_late"},
        {"twfe": "twfe", "event_twfe": "event_twfe", "imputation": "imputation", "cs": "cs_simple"},
    ),
    ("sdid", "Synthetic DiD, cohorts aggregated", "loop:sdid", {"sdid": "sdid"}),
    ("sdidlargest", "Synthetic DiD, largest cohort", "loop:sdid", {"sdid": "sdid_largest"}),
    ("droplargest", "Without the largest treated county", "loop:drop_largest", {"twfe": "twfe", "cs": "cs_simple"}),
    ("placebo", "Placebo: adoption 3 years earlier", "loop:placebo", {"twfe": "twfe", "cs": "cs_dynamic"}),
]
LOSO_COLUMNS = {"twfe": "twfe", "cs": "cs_simple"}
# A column without a headline cell of its own is compared with the headline's CS (the primary estimand).
REFERENCE = {"sdid": "cs"}
SAME_WITHIN = 0.2  # |alt| within 20% of |headline|: "about the same"


def camel(text: str) -> str:
    return "".join(w.capitalize() for w in text.split("_"))


def source(program: str, spec_or_loop) -> str | None:
    """The spec stem (or loop:<design>) a design reads for ``program`` (None: no such design)."""
    s = spec_or_loop.get(program) if isinstance(spec_or_loop, dict) else spec_or_loop
    return None if s is None else s.format(base=PROGRAM_SPECS[program][2])


def designs(program: str) -> list[tuple]:
    """The DESIGNS rows that exist for ``program``."""
    return [d for d in DESIGNS if source(program, d[2]) is not None]


def loops() -> pd.DataFrame:
    return inputs.read_csv(
        config.RESULTS / "credibility" / "estimates.csv",
        ["program", "design", "detail", "estimator", "estimate", "se", "ci_low", "ci_high", "n_obs"],
    )


def sdid_cohorts() -> pd.DataFrame:
    return inputs.read_csv(
        config.RESULTS / "credibility" / "sdid.csv",
        ["program", "cohort", "estimate", "se", "n_treated", "n_control", "n_post"],
    )


def sdid_macros(prefix: str, cohorts: pd.DataFrame) -> dict[str, str]:
    """The SDID design in words: cohorts estimated, the last year used, the largest cohort, the cohorts
    left out of the aggregate (no jackknife SE with one treated county), the controls."""
    used = cohorts[cohorts["se"].notna()]
    top = cohorts.sort_values(["n_treated", "cohort"], ascending=[False, True]).iloc[0]
    left = [str(int(c)) for c in cohorts.loc[cohorts["se"].isna(), "cohort"]]
    post = cohorts["cohort"] + cohorts["n_post"] - 1
    if post.nunique() != 1:
        raise ValueError("results/credibility/sdid.csv: cohorts of one program end in different years")
    return {
        prefix + "SdidFirst": str(int(used["cohort"].min())),
        prefix + "SdidLast": str(int(used["cohort"].max())),
        prefix + "SdidEnd": str(int(post.iloc[0])),
        prefix + "SdidLargestCohort": str(int(top["cohort"])),
        prefix + "SdidLargestTreated": fmt_int(top["n_treated"]),
        prefix + "SdidControls": fmt_int(top["n_control"]),
        prefix + "SdidLeftOut": words(left) if left else "none",
        prefix + "SdidLeftOutCount": fmt_int(len(left)),
    }


def loso() -> pd.DataFrame:
    return inputs.read_csv(
        config.RESULTS / "credibility" / "loso.csv", ["program", "state", "estimator", "estimate", "se"]
    )


def loco() -> pd.DataFrame:
    """Leave one cohort out, with the cohort in the ``state`` column (loso_range reads either)."""
    table = inputs.read_csv(
        config.RESULTS / "credibility" / "loco.csv", ["program", "cohort", "estimator", "estimate", "se"]
    )
    return table.assign(state=table["cohort"].astype(int).astype(str))


def cells(program: str, loop: pd.DataFrame) -> pd.DataFrame:
    """One row per (design, column): estimate, se, ci_low, ci_high, n_obs, estimator, and the source."""
    rows = []
    for key, label, src, shown in designs(program):
        stem = source(program, src)
        if stem.startswith("loop:"):
            part = loop[(loop["program"] == program) & (loop["design"] == stem[5:])].set_index("estimator")
        else:
            part = inputs.overall(stem)
        for column, est in shown.items():
            if est not in part.index:
                raise inputs.MissingResult(f"{stem}: no estimator {est!r} for the credibility table ({label})")
            r = part.loc[est]
            rows.append(
                {
                    "design": key,
                    "label": label,
                    "column": column,
                    "estimator": est,
                    "source": stem,
                    **{f: float(r[f]) for f in ("estimate", "se", "ci_low", "ci_high")},
                    "n_obs": int(r["n_obs"]),
                }
            )
    return pd.DataFrame(rows)


def loso_range(table: pd.DataFrame, program: str) -> dict[str, tuple[float, str, float, str]]:
    """Per table column: (min, its state, max, its state) of the leave-one-out estimates (the left-out
    state, or cohort for leave-one-cohort-out, in the ``state`` column)."""
    out = {}
    for column, est in LOSO_COLUMNS.items():
        part = table[(table["program"] == program) & (table["estimator"] == est)]
        if part.empty:
            raise inputs.MissingResult(f"results/credibility: no leave-one-out {program} {est} rows")
        lo, hi = part.loc[part["estimate"].idxmin()], part.loc[part["estimate"].idxmax()]
        out[column] = (float(lo["estimate"]), str(lo["state"]), float(hi["estimate"]), str(hi["state"]))
    return out


def table_body(c: pd.DataFrame, ranges: dict, cohort_ranges: dict | None = None) -> str:
    """The regression-table body of one program: the designs, then the leave-one-out ranges."""
    rows = []
    for key, label in dict.fromkeys(zip(c["design"], c["label"])):
        part = c[c["design"] == key].set_index("column")
        rows.append(
            (
                label,
                [
                    {"estimate": part.loc[col, "estimate"], "se": part.loc[col, "se"]} if col in part.index else None
                    for col in COLUMNS
                ],
            )
        )

    def span(r):
        return [latex.Raw(f"[{fmt_num(r[col][0])}, {fmt_num(r[col][2])}]") if col in r else None for col in COLUMNS]

    extra = [("Leave one state out: range", span(ranges))]
    if cohort_ranges:
        extra.append(("Leave one cohort out: range", span(cohort_ranges)))
    return latex.regression_table(list(COLUMNS.values()), rows, extra_rows=extra)


def compare(head: float, alt: float, within: float = SAME_WITHIN) -> str:
    """How ``alt`` compares with the headline ``head``, in words: of the opposite sign, about the same
    (|alt| within ``within`` of |head|), smaller or larger in magnitude; each phrase ends with its
    connective ("than", "as", "to") so the text can name the headline after it."""
    if np.sign(alt) != np.sign(head):
        return "of the opposite sign to"
    ratio = abs(alt) / abs(head)
    if abs(ratio - 1) <= within:
        return "about the same size as"
    return "smaller in magnitude than" if ratio < 1 else "larger in magnitude than"


def ref(column: str) -> str:
    """The headline column a design's ``column`` is compared with."""
    return REFERENCE.get(column, column)


def survives(head: pd.DataFrame, part: pd.DataFrame) -> str:
    """'survives' if every estimate of a design has the sign of the headline's in its column and a 95%
    interval that excludes zero; else 'does not survive'."""
    ok = all(
        np.sign(r.estimate) == np.sign(head.loc[ref(r.column), "estimate"]) and not (r.ci_low <= 0 <= r.ci_high)
        for r in part.itertuples()
    )
    return "survives" if ok else "does not survive"


def interval_words(lo: float, hi: float) -> str:
    """Whether a 95% interval excludes zero."""
    return "includes zero" if lo <= 0 <= hi else "excludes zero"


def moves(estimate: float, headline: pd.Series) -> bool:
    """The rule of 'moves the estimate': further than one headline standard error from the headline."""
    return abs(estimate - headline["estimate"]) > headline["se"]


def moved(c: pd.DataFrame) -> list[str]:
    """Labels (lower-case first letter) of the designs (placebo and headline aside) with an estimate that
    differs from the headline's estimate of the same column (SDID: the CS column) by more than one
    headline standard error."""
    head = c[c["design"] == "headline"].set_index("column")
    out = []
    for key, label, _, _ in DESIGNS:
        if key in ("headline", "placebo") or key not in set(c["design"]):
            continue
        part = c[c["design"] == key]
        if any(moves(r.estimate, head.loc[ref(r.column)]) for r in part.itertuples() if ref(r.column) in head.index):
            out.append(label[0].lower() + label[1:])
    return out


def leave_out_moves(head: pd.DataFrame, table: pd.DataFrame, program: str, what: str) -> list[str]:
    """['leaving out one <what> (A, B)'] when some leave-one-out estimate (``table``: loso or loco, the
    left-out unit in ``state``) differs from the headline of its estimator by more than one headline
    standard error, naming the units that do; [] otherwise."""
    part = table[table["program"] == program]
    units = {
        str(r.state)
        for column, est in LOSO_COLUMNS.items()
        for r in part[part["estimator"] == est].itertuples()
        if moves(r.estimate, head.loc[column])
    }
    return [f"leaving out one {what} ({', '.join(sorted(units))})"] if units else []


def words(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def macros_of(
    program: str, c: pd.DataFrame, ranges: dict, loo: pd.DataFrame, loop: pd.DataFrame, lco: pd.DataFrame
) -> dict[str, str]:
    prefix = PROGRAM_SPECS[program][0] + "Cred"
    head = c[c["design"] == "headline"].set_index("column")
    out = {}
    for r in c.itertuples():
        name = prefix + camel(r.design) + camel(r.column)
        out[name], out[name + "Se"] = fmt_num(r.estimate), fmt_num(r.se)
        out[name + "Interval"] = interval_words(r.ci_low, r.ci_high)
        if r.design not in ("headline", "placebo") and ref(r.column) in head.index:
            out[name + "Compare"] = compare(head.loc[ref(r.column), "estimate"], r.estimate)
    for column, (lo, lo_state, hi, hi_state) in ranges.items():
        name = prefix + "Loso" + camel(column)
        out.update(
            {
                name + "Min": fmt_num(lo),
                name + "MinState": lo_state,
                name + "Max": fmt_num(hi),
                name + "MaxState": hi_state,
            }
        )
        part = loo[(loo["program"] == program) & (loo["estimator"] == LOSO_COLUMNS[column])]
        out[name + "Negative"] = fmt_int((part["estimate"] < 0).sum())
    for key in dict.fromkeys(c["design"]):
        if key not in ("headline", "placebo"):
            out[prefix + camel(key) + "Survives"] = survives(head, c[c["design"] == key])
    out[prefix + "LosoStates"] = fmt_int(loo.loc[loo["program"] == program, "state"].nunique())
    out[prefix + "Moved"] = latex.escape(
        words(moved(c) + leave_out_moves(head, loo, program, "state") + leave_out_moves(head, lco, program, "cohort"))
    )
    detail = loop[(loop["program"] == program) & (loop["design"] == "drop_largest")]["detail"].iloc[0]
    out[prefix + "LargestCounty"] = latex.escape(detail.removeprefix("without ").split(" (")[0])
    placebo = c[c["design"] == "placebo"]
    zero = all(lo <= 0 <= hi for lo, hi in zip(placebo["ci_low"], placebo["ci_high"]))
    out[prefix + "PlaceboVerdict"] = (
        "both 95\\% intervals include zero"
        if zero
        else "a 95\\% interval excludes zero, a sign of differential pre-trends"
    )
    return out


def within_state_cells(rows: pd.DataFrame, treatment: str, last: int = config.LAST_YEAR) -> dict[str, int]:
    """What a within-state staggered design would have to work with, per county of ``rows``: treated
    counties (0 < g <= last), their states, state x cohort cells, cells with one treated county, and
    counties untreated in the window (never treated, 0, or dated after it; an undated county, NA, is
    in no design and not counted)."""
    first = rows.groupby("fips").first()
    g = first[treatment]
    treated = first[(g > 0) & (g <= last)]
    cells = treated.groupby(["state", treatment]).size()
    return {
        "Treated": len(treated),
        "TreatedStates": treated["state"].nunique(),
        "StateCohortCells": len(cells),
        "StateCohortSingle": int((cells == 1).sum()),
        "Untreated": int(((g == 0) | (g > last)).fillna(False).sum()),
    }


def imputation_lost(spec: str) -> int:
    """Treated county-years the imputation estimator of ``spec`` could not impute (dropped.csv): those
    whose fixed-effect cell (e.g. a state-year) has no untreated county-year."""
    d = inputs.result(spec, "dropped", ["estimator", "reason", "rows"])
    return int(d.loc[(d["estimator"] == "imputation") & d["reason"].str.startswith("treated, and its"), "rows"].sum())


def figure_loso(loo: pd.DataFrame, heads: dict[str, pd.DataFrame]) -> None:
    """Figure loso: per program, the leave-one-state-out TWFE and CS estimates sorted, and the headline."""
    fig, axes = style.figure(height=2.8, ncols=2)
    for ax, program in zip(axes, PROGRAM_SPECS):
        for column, (colour, marker) in {"twfe": ("blue", "o"), "cs": ("vermillion", "s")}.items():
            part = loo[(loo["program"] == program) & (loo["estimator"] == LOSO_COLUMNS[column])]
            y = np.sort(part["estimate"].to_numpy())
            ax.plot(
                np.arange(1, len(y) + 1),
                y,
                marker,
                ms=3,
                color=style.OKABE_ITO[colour],
                label=f"{COLUMNS[column]}, one state left out",
            )
            ax.axhline(heads[program].loc[column, "estimate"], color=style.OKABE_ITO[colour], lw=0.8, ls="--")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(PROGRAM_SPECS[program][1])
        ax.set_xlabel("States left out, sorted by estimate")
        ax.set_ylabel(f"Effect on {style.wording(inputs.spec(PROGRAM_SPECS[program][2])).measure}")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    style.save(fig, "loso")


def build() -> dict[str, str]:
    """Tables credibility_287g and credibility_sc, figure loso, their macros."""
    loop, loo, lco, panel, syn = loops(), loso(), loco(), inputs.panel(), sdid_cohorts()
    macros, heads = {}, {}
    for program in PROGRAM_SPECS:
        c = cells(program, loop)
        ranges, cohorts = loso_range(loo, program), loso_range(lco, program)
        latex.write_table(table_body(c, ranges, cohorts), f"credibility_{program}")
        macros.update(macros_of(program, c, ranges, loo, loop, lco))
        macros[PROGRAM_SPECS[program][0] + "CredStateyearImputationLost"] = fmt_int(
            imputation_lost(f"{PROGRAM_SPECS[program][2]}_stateyear")
        )
        years = lco.loc[lco["program"] == program, "cohort"].astype(int)
        macros[PROGRAM_SPECS[program][0] + "CredLocoFirst"] = str(years.min())
        macros[PROGRAM_SPECS[program][0] + "CredLocoLast"] = str(years.max())
        for column, (lo, lo_cohort, hi, hi_cohort) in cohorts.items():
            name = PROGRAM_SPECS[program][0] + "CredLoco" + camel(column)
            macros.update(
                {
                    name + "Min": fmt_num(lo),
                    name + "MinCohort": lo_cohort,
                    name + "Max": fmt_num(hi),
                    name + "MaxCohort": hi_cohort,
                }
            )
        heads[program] = c[c["design"] == "headline"].set_index("column")
        rows, _ = design_sample(panel, headline(program))
        for name, n in within_state_cells(rows, headline(program)["treatment"]).items():
            macros[PROGRAM_SPECS[program][0] + "Cred" + name] = fmt_int(n)
        g = rows.groupby("fips")[headline(program)["treatment"]].first()
        late = g[g > config.LAST_YEAR]
        macros[PROGRAM_SPECS[program][0] + "CredAdoptAfterWindow"] = fmt_int(len(late))
        if len(late):
            macros[PROGRAM_SPECS[program][0] + "CredAdoptAfterYears"] = (
                f"{int(late.min())}--{int(late.max())}" if late.min() != late.max() else str(int(late.min()))
            )
        macros.update(sdid_macros(PROGRAM_SPECS[program][0] + "Cred", syn[syn["program"] == program]))
    figure_loso(loo, heads)
    return macros
