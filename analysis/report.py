"""Plots and tables of any specs, by name: the student's helpers (the paper's exhibits are elsewhere).

    from analysis.report import plot_event_study, table
    plot_event_study(["sc_index", "my_spec"], name="my_event_study")   # myspecs/output/my_event_study.pdf
    table(["sc_index", "my_spec"], name="my_table")                     # myspecs/output/my_table.tex

Both take spec names (a paper spec in results/ or a spec of the user workspace in myspecs/results/),
results folders, or :class:`analysis.results.SpecResults` (e.g. ``results.from_run(spec, tables)``
after ``run_spec`` in memory). Labels, rows and notes come from the specs: each spec's ``label``
(default: its name), its estimators, outcome, controls, fixed effects, sample, and the model and
standard errors of each estimator (results/<spec>/models.csv). Figures use the paper's style
(analysis.exhibits.style), tables the paper's LaTeX writer (analysis.exhibits.latex: a booktabs
``tabular`` body, standard errors in parentheses). Nothing is written into paper/ or results/:
the default folder is myspecs/output/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import MINE_OUTPUT
from analysis.estimators import registry
from analysis.exhibits import latex, style
from analysis.model import fe_parts
from analysis.results import SpecResults, get

FE_NAMES = {"fips": "county", "state_fips": "state", "year": "year"}


def _series(res: SpecResults, estimators) -> list[tuple[str, pd.DataFrame]]:
    ev = res.event_study
    titles = registry.titles()
    wanted = estimators or sorted(set(ev["estimator"]), key=lambda e: list(titles).index(e) if e in titles else 99)
    missing = [e for e in wanted if e not in set(ev["estimator"])]
    if missing:
        raise KeyError(f"{res.name} has no event study for {missing} (has: {', '.join(sorted(set(ev['estimator'])))})")
    return [(e, ev[ev["estimator"] == e].sort_values("event_time")) for e in wanted]


def plot_event_study(
    specs,
    estimators: list[str] | None = None,
    labels: list[str] | None = None,
    window: tuple[int, int] | None = None,
    ylabel: str | None = None,
    name: str | None = None,
    directory: str | Path = MINE_OUTPUT,
):
    """One event-study figure of ``specs`` (names, folders or SpecResults), every series with its
    pointwise 95% intervals (Callaway–Sant'Anna's uniform band shaded where the bootstrap made one).

    ``estimators``: the event studies to draw (default: every one each spec has: event_twfe, cs,
    sunab, imputation). ``labels``: one per spec (default: the spec's ``label``); a series is
    'label: estimator'. ``window``: event times shown (default: all). ``ylabel``: default from the
    first spec's outcome. Event time = year - first treated year; -1 is the reference (0 by
    construction, drawn as an open circle). With ``name``, the figure is saved as
    <directory>/<name>.pdf and .png (default folder myspecs/output/). Returns the matplotlib Figure."""
    items = [get(s) for s in specs]
    labels = labels or [r.label for r in items]
    if len(labels) != len(items):
        raise ValueError(f"{len(labels)} labels for {len(items)} specs")
    series = [(lab, e, ev) for r, lab in zip(items, labels) for e, ev in _series(r, estimators)]
    fig, ax = style.figure(height=3.3)
    offsets = np.linspace(-0.3, 0.3, len(series)) if len(series) > 1 else [0.0]
    for (lab, est, ev), dx in zip(series, offsets):
        if window:
            ev = ev[ev["event_time"].between(*window)]
        ev = ev[~((ev["event_time"] == -1) & ~(ev["se"] > 0))]
        text = f"{lab}: {registry.titles().get(est, est)}" if len(items) > 1 or estimators is None else lab
        line = ax.errorbar(
            ev["event_time"] + dx,
            ev["estimate"],
            yerr=[ev["estimate"] - ev["ci_low"], ev["ci_high"] - ev["estimate"]],
            fmt="o",
            ms=3.5,
            elinewidth=1,
            label=text,
        )
        if "cband_low" in ev and ev["cband_low"].notna().any():
            band = ev[ev["cband_low"].notna()]
            ax.fill_between(
                band["event_time"] + dx,
                band["cband_low"],
                band["cband_high"],
                alpha=0.12,
                lw=0,
                color=line[0].get_color(),
            )
    ax.plot([-1], [0], "o", mfc="white", mec="black", ms=4, label="reference year ($-1$)")
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(-0.5, color="#888888", lw=0.6, ls=":")
    first = items[0].spec
    ax.set_xlabel("years since first treatment")
    ax.set_ylabel(ylabel or f"effect on the {style.wording(first).measure}")
    ax.legend(loc="best", fontsize=7)
    if name:
        style.save(fig, name, directory=Path(directory))
    return fig


def _fe_text(terms) -> str:
    return ", ".join(" x ".join(FE_NAMES.get(p, p) for p in fe_parts(t)) for t in terms)


def _controls_text(spec: dict) -> str:
    """Controls as each estimator uses them: baseline controls x year in regressions, covariates in cs."""
    ests = set(spec.get("estimators", []))
    base = spec.get("baseline_controls", [])
    if ests == {"cs"}:
        return ", ".join(f"{x} (covariate)" for x in base) or "none"
    parts = [*spec.get("controls", []), *[f"{x} x year" for x in base]]
    return (", ".join(parts) + (" (cs: covariates)" if base and "cs" in ests else "")) or "none"


def _sample_text(spec: dict) -> str:
    rules = spec.get("sample_rules") or {}
    own = []
    if rules.get("states_include"):
        own.append(f"{len(rules['states_include'])} states")
    if rules.get("years"):
        own.append(f"{rules['years'][0]}-{rules['years'][1]}")
    own += [k for k in rules if k not in ("states_include", "years")]
    return spec.get("sample", "") + (" + " + ", ".join(own) if own else "")


@dataclass
class Table:
    """A written table: the tabular ``body``, the ``notes`` paragraph (LaTeX) and their files."""

    body: str
    notes: str
    path: Path | None = None
    notes_path: Path | None = None


def table(
    specs,
    estimators: list[str] | None = None,
    labels: list[str] | None = None,
    name: str | None = None,
    directory: str | Path = MINE_OUTPUT,
    digits: int = 3,
) -> Table:
    """A booktabs regression table of ``specs`` (names, folders or SpecResults): one column per spec,
    one row per estimator (estimate, standard error in parentheses below), then rows for the outcome,
    controls, fixed effects, sample, clustering and county-years, and a notes paragraph from the
    specs (each column's description, every estimator's model and standard errors).

    ``estimators``: rows (default: the rows of registry.report_rows() any spec has; a cell is empty
    where a spec did not run the estimator). ``labels``: column headers (default: the specs' labels). With ``name``,
    writes <directory>/<name>.tex (the tabular, through analysis.exhibits.latex) and
    <name>_notes.tex (default folder myspecs/output/). Returns a :class:`Table`."""
    items = [get(s) for s in specs]
    labels = labels or [r.label for r in items]
    overall = [r.overall for r in items]
    rows = estimators or [e for e in registry.report_rows() if any(e in o.index for o in overall)]
    cells = [
        (
            registry.titles().get(e, e),
            [{"estimate": o.loc[e, "estimate"], "se": o.loc[e, "se"]} if e in o.index else None for o in overall],
        )
        for e in rows
    ]
    extra = [
        ("Outcome", [f"{r.spec['outcome']} ({style.wording(r.spec).scale})" for r in items]),
        ("Controls", [_controls_text(r.spec) for r in items]),
        (
            "Fixed effects",
            [
                _fe_text(r.spec.get("fixed_effects", ["county", "year"]))
                if set(r.spec.get("estimators", [])) != {"cs"}
                else "none (2x2 comparisons)"
                for r in items
            ],
        ),
        ("Sample", [_sample_text(r.spec) for r in items]),
        ("Clusters", [r.spec.get("cluster", "county") for r in items]),
        (
            "County-years in sample",
            [int(r.table("sample_log").sort_values("step")["rows_after"].iloc[-1]) for r in items],
        ),
    ]
    if any("wild" in o.index for o in overall):
        extra.append(
            (
                "Wild bootstrap p (TWFE)",
                [float(o.loc["wild", "pvalue"]) if "wild" in o.index else None for o in overall],
            )
        )
    body = latex.regression_table(
        [f"({i + 1})" for i in range(len(items))],
        cells,
        extra_rows=extra,
        groups=[[(lab, 1) for lab in labels]],
        digits=digits,
    )
    notes = _notes(items, labels, rows)
    out = Table(body=body, notes=notes)
    if name:
        out.path = latex.write_table(body, name, Path(directory))
        out.notes_path = latex.write_table(notes, f"{name}_notes", Path(directory))
    return out


def _notes(items: list[SpecResults], labels: list[str], rows: list[str]) -> str:
    """The notes paragraph: standard errors, then per column its description and its estimators' models."""
    parts = ["Standard errors in parentheses."]
    if any(r.spec.get("transform") == "log_rate" for r in items):
        parts.append("Effects on log rates: x 100 is approximately a percent change.")
    for i, (r, lab) in enumerate(zip(items, labels)):
        models = r.tables.get("models")
        text = f"({i + 1}) {lab}: {str(r.spec.get('description', '')).rstrip('.')}."
        if models is not None:
            shown = models[models["estimator"].isin([e.split("_")[0] if e.startswith("cs_") else e for e in rows])]
            text += " " + " ".join(f"{m.estimator}: {m.model}; SE {m.standard_errors}." for m in shown.itertuples())
        parts.append(text)
    return latex.escape(" ".join(parts)) + "\n"
