"""Event-study figures: TWFE event study, Callaway–Sant'Anna and Sun–Abraham on one plot per program.

Each estimator's coefficients sit side by side (small horizontal offsets) with pointwise 95%
intervals; the Callaway–Sant'Anna simultaneous (uniform) 95% band is shaded where the results
carry ``cband_low``/``cband_high``.  Event time -1 is the reference (zero by construction).  The
window is that of the TWFE event study (the spec's event_window, trimmed to the data).
"""

from __future__ import annotations

import pandas as pd

from analysis.exhibits import inputs, style

SERIES = [
    ("event_twfe", "TWFE event study", "blue", "o", -0.2),
    ("cs", "Callaway–Sant'Anna", "vermillion", "s", 0.0),
    ("sunab", "Sun–Abraham", "green", "^", 0.2),
]
FIGURES = {
    "us_287g_index": ("event_287g", "287(g): years since the first county agreement"),
    "sc_index": ("event_sc", "Secure Communities: years since activation"),
}


def event_table(spec: str) -> pd.DataFrame:
    """results/<spec>/event_study.csv restricted to the TWFE event-study window, without the
    reference rows; raises MissingResult if an estimator of SERIES is absent."""
    ev = inputs.result(
        spec,
        "event_study",
        ["estimator", "event_time", "estimate", "se", "ci_low", "ci_high", "cband_low", "cband_high"],
    )
    missing = [e for e, *_ in SERIES if e not in set(ev["estimator"])]
    if missing:
        raise inputs.MissingResult(f"results/{spec}/event_study.csv has no {missing}")
    window = ev.loc[ev["estimator"] == "event_twfe", "event_time"]
    lo, hi = min(window.min(), -2), window.max()
    ev = ev[(ev["event_time"] >= lo) & (ev["event_time"] <= hi)]
    return ev[~((ev["event_time"] == -1) & ev["se"].isna())]


def effect_label(spec: str) -> str:
    """The y-axis label of ``spec``'s event study: 'Effect on' its outcome on its scale."""
    return f"Effect on {style.wording(inputs.spec(spec)).measure}"


def plot_event_study(ev: pd.DataFrame, xlabel: str, ylabel: str):
    """One event-study panel: three estimators, pointwise bars, CS uniform band; ``ylabel``: :func:`effect_label`."""
    fig, ax = style.figure(height=3.3)
    cs = ev[(ev["estimator"] == "cs") & ev["cband_low"].notna()].sort_values("event_time")
    if not cs.empty:
        ax.fill_between(
            cs["event_time"],
            cs["cband_low"],
            cs["cband_high"],
            color=style.OKABE_ITO["vermillion"],
            alpha=0.15,
            lw=0,
            label="Callaway–Sant'Anna uniform 95% band",
        )
    for est, label, colour, marker, dx in SERIES:
        part = ev[ev["estimator"] == est].sort_values("event_time")
        y = part["estimate"]
        ax.errorbar(
            part["event_time"] + dx,
            y,
            yerr=[y - part["ci_low"], part["ci_high"] - y],
            fmt=marker,
            color=style.OKABE_ITO[colour],
            ms=4,
            elinewidth=1,
            label=label,
        )
    ax.plot([-1], [0], "o", mfc="white", mec="black", ms=4, label="Reference year ($-1$)")
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(-0.5, color="#888888", lw=0.6, ls=":")
    times = sorted(set(ev["event_time"]) | {-1})
    ax.set_xticks(times)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", ncols=2)
    return fig


def figure(spec: str) -> pd.DataFrame:
    """The event-study figure of ``spec`` (FIGURES); returns the plotted table."""
    name, xlabel = FIGURES[spec]
    ev = event_table(spec)
    style.save(plot_event_study(ev, xlabel, effect_label(spec)), name)
    return ev


def build() -> dict[str, str]:
    """Both event-study figures (no macros)."""
    for spec in FIGURES:
        figure(spec)
    return {}
