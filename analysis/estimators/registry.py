"""The estimator registry: one entry per estimator a spec may name, read by every module that names one.

An entry (:class:`Estimator`) says how the estimator is fitted (``fit(ctx) -> Output``, ``ctx`` a
:class:`Context` of the prepared data), which spec fields it refuses and why, the rows it writes to
overall.csv (each with its macro infix and table labels, and whether analysis.report's table shows it;
the first is its primary estimate), how analysis.estimate.models describes it, whether robustness grids
and the multiverse may run it, and how the multiverse's null draws refit it (analysis.speccurve).
analysis.spec, analysis.estimate, analysis.grid, analysis.multiverse, analysis.speccurve,
analysis.inference, analysis.wave_plan, analysis.report and the exhibits read this table; :func:`get` and :func:`row`
fail loudly on a name that is not registered. Adding an estimator is one module plus one
:func:`register` call (tests use :func:`registered`, which restores the table afterwards).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from analysis.infra.suggest import unknown

LINEAR = ("rate", "log_rate", "level")
LINEAR_ONLY = "linear estimators need transform rate, log_rate or level; put ppml in its own spec"


@dataclass(frozen=True)
class Row:
    """One row an estimator writes to overall.csv: its name there, the infix of its macros
    (analysis.exhibits.headline, e.g. 'Cs' in \\NationalIndexCs), a short table label and a title;
    ``report``: shown by default in analysis.report.table (in registry order)."""

    name: str
    macro: str
    short: str
    title: str
    report: bool = True


@dataclass
class Context:
    """What a fit sees: the spec, its prepared data (analysis.estimate.prepare) and design, the outcome
    ``y``, the timing column ``g``, the unit and time columns, the cluster column, and the event studies
    (estimator -> (event, vcov)) of the estimators run before it."""

    spec: dict
    df: pd.DataFrame
    design: dict
    y: str
    g: str
    unit: str
    time: str
    cluster: str
    events: dict = field(default_factory=dict)

    @property
    def window(self) -> tuple[int, int]:
        return tuple(self.spec["event_window"])

    @property
    def common(self) -> dict:
        """The keyword arguments every regression estimator takes."""
        return dict(
            weights=self.design["weights"], cluster=self.cluster, controls=self.design["controls"], fe=self.design["fe"]
        )


@dataclass
class Output:
    """What a fit hands back: overall.csv rows, an optional event study and its covariance, the drop
    records and further tables (file stem -> frame, e.g. cs's attgt)."""

    rows: list[dict]
    event: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None
    dropped: pd.DataFrame | None = None
    tables: dict = field(default_factory=dict)

    @classmethod
    def of(cls, fit, **tables) -> Output:
        """From an analysis.estimators.tidy.EstimatorFit."""
        return cls([fit.summary], fit.event, fit.vcov, fit.dropped, tables)


@dataclass(frozen=True)
class Estimator:
    """One registry entry. Refusals are reasons (None: the field is accepted): ``fixed_effects`` =
    why only county and year effects, ``controls`` / ``baseline_controls`` = why none;
    ``max_fe_terms`` with ``fe_terms_reason``; ``transforms`` the outcome transforms it takes, else
    ``transform_reason``; ``fields`` = spec fields only it uses -> the message when it is absent;
    ``check(spec, estimators)`` = further (field, message) problems. ``order``: entries run by order,
    then as the spec lists them (honest, order 3, reads earlier event studies). Null draws of the
    multiverse (analysis.speccurve): ``null_twfe`` = the options of speccurve.NullTwfe when the
    estimator is that static TWFE and may be refitted by Frisch-Waugh-Lovell (specs without controls;
    None: never); ``refit(ctx)`` = (estimate, SE) of the primary row on permuted timing, by default
    the primary row of ``fit`` (see :meth:`null_fit`). ``comparison``: what its estimate compares the
    treated county-years with, when that is not the spec's ``control_group`` (tables' "Control group"
    row): 'implicit' (a regression on every county-year), 'untreated' (a model fitted on the untreated
    county-years only); None: the spec's control group."""

    name: str
    fit: Callable[[Context], Output]
    rows: tuple[Row, ...]
    title: str
    model: Callable[[dict, dict], tuple[str, str]]
    transforms: tuple[str, ...] = LINEAR
    transform_reason: str = LINEAR_ONLY
    fixed_effects: str | None = None
    max_fe_terms: int | None = None
    fe_terms_reason: str = ""
    controls: str | None = None
    baseline_controls: str | None = None
    fields: dict = field(default_factory=dict)
    check: Callable[[dict, set], list[tuple[str, str]]] | None = None
    grid: bool = False
    multiverse: bool = False
    order: int = 1
    null_twfe: dict | None = None
    refit: Callable[[Context], tuple[float, float]] | None = None
    comparison: str | None = None

    @property
    def primary(self) -> str | None:
        """The row that stands for the estimator (grids, the multiverse, credibility), if it writes one."""
        return self.rows[0].name if self.rows else None

    def null_fit(self, ctx: Context) -> tuple[float, float]:
        """(estimate, SE) of the primary row on ``ctx`` (a null draw's data): ``refit`` if given, else
        ``fit``'s first row. ValueError for an estimator that writes no row."""
        if self.refit:
            return self.refit(ctx)
        if not self.rows:
            raise ValueError(f"no null refit for estimator {self.name!r}: it writes no overall.csv row")
        first = self.fit(ctx).rows[0]
        return float(first["estimate"]), float(first["se"])


_REGISTRY: dict[str, Estimator] = {}


def register(entry: Estimator) -> Estimator:
    """Add ``entry``; ValueError if its name or one of its rows is taken."""
    taken = {r for e in _REGISTRY.values() for r in row_names(e)}
    if entry.name in _REGISTRY or taken & set(row_names(entry)):
        raise ValueError(f"estimator {entry.name!r} (rows {row_names(entry)}) is already registered")
    _REGISTRY[entry.name] = entry
    return entry


@contextmanager
def registered(entry: Estimator):
    """Register ``entry`` for the duration of a ``with`` block (tests), then remove it."""
    register(entry)
    try:
        yield entry
    finally:
        _REGISTRY.pop(entry.name, None)


def names() -> tuple[str, ...]:
    """Every registered estimator, in registry order."""
    return tuple(_REGISTRY)


def get(name: str) -> Estimator:
    """The entry of ``name``; KeyError with the nearest registered name otherwise."""
    if name not in _REGISTRY:
        raise KeyError(unknown("estimator", name, names()))
    return _REGISTRY[name]


def row_names(entry: Estimator) -> list[str]:
    return [r.name for r in entry.rows]


def rows() -> dict[str, Row]:
    """Every overall.csv row of every estimator, in registry order."""
    return {r.name: r for e in _REGISTRY.values() for r in e.rows}


def row(name: str) -> Row:
    """The row ``name`` of overall.csv; KeyError with the nearest registered row otherwise."""
    table = rows()
    if name not in table:
        raise KeyError(unknown("estimate row", name, list(table)))
    return table[name]


def titles() -> dict[str, str]:
    """Estimator and row name -> title, in registry order (estimator first, then its rows)."""
    out = {}
    for e in _REGISTRY.values():
        out[e.name] = e.title
        out.update({r.name: r.title for r in e.rows})
    return out


def owner(row_name: str) -> Estimator:
    """The estimator that writes the overall.csv row ``row_name``; KeyError as :func:`row`."""
    row(row_name)
    return next(e for e in _REGISTRY.values() if row_name in row_names(e))


def report_rows() -> list[str]:
    """The overall.csv rows analysis.report.table shows by default, in registry order."""
    return [r.name for r in rows().values() if r.report]


def allowed(use: str) -> tuple[str, ...]:
    """The estimators ``use`` ('grid' or 'multiverse') may run."""
    return tuple(n for n, e in _REGISTRY.items() if getattr(e, use))


def problems(spec: dict, ests: set, bad: set, default_fe: bool) -> list[tuple[str, str]]:
    """(field, message) for every field of ``spec`` an estimator of ``ests`` cannot honour, in the
    order analysis.spec reports them; fields in ``bad`` failed earlier checks and are skipped."""
    entries = [get(e) for e in names() if e in ests]
    out = []
    if "transform" not in bad:
        for reason in dict.fromkeys(e.transform_reason for e in entries if spec["transform"] not in e.transforms):
            out.append(("transform", reason))
    for e in entries:
        out += e.check(spec, ests) if e.check else []
    if "fixed_effects" not in bad:
        if not default_fe:
            out += [
                ("fixed_effects", f"{e.name} cannot take fixed effects {spec['fixed_effects']}: {e.fixed_effects}")
                for e in sorted(entries, key=lambda e: e.name)
                if e.fixed_effects
            ]
        out += [
            ("fixed_effects", e.fe_terms_reason)
            for e in entries
            if e.max_fe_terms is not None and len(spec["fixed_effects"]) > e.max_fe_terms
        ]
    for fld in ("controls", "baseline_controls"):
        if fld not in bad and spec[fld]:
            out += [
                (fld, f"{e.name} cannot take {fld}: {getattr(e, fld)}")
                for e in sorted(entries, key=lambda e: e.name)
                if getattr(e, fld)
            ]
    for e in _REGISTRY.values():
        for fld, message in e.fields.items():
            if e.name not in ests and fld in spec.get("lines", {}):
                out.append((fld, message))
    return out


# ---- The package's estimators --------------------------------------------------------------------------
def _m(module: str):
    """analysis.estimators.<module>, imported when first fitted (checking a spec loads no estimation library)."""
    return importlib.import_module(f"analysis.estimators.{module}")


TARGETS = {
    "simple": "cohort-size weighted average of post-period ATT(g,t)",
    "group": "cohort-share weighted average of each cohort's average effect",
    "dynamic": "average of event-time effects 0..hi",
    "calendar": "average over years of each year's effect",
}


def _cs_att_gt(ctx: Context, bootstrap: int):
    """analysis.estimators.cs.att_gt on the context, with ``bootstrap`` multiplier draws."""
    from analysis.estimators import cs

    spec, design = ctx.spec, ctx.design
    return cs.att_gt(
        ctx.df,
        ctx.y,
        ctx.time,
        ctx.unit,
        ctx.g,
        control_group=spec["control_group"],
        est_method=spec["est_method"],
        covariates=design["covariates"] or None,
        weights=design["weights"],
        cluster=ctx.cluster,
        base_period=spec["base_period"],
        anticipation=spec["anticipation"],
        bootstrap=bootstrap,
        seed=spec["seed"],
    )


def _refit_cs(ctx: Context) -> tuple[float, float]:
    """The simple ATT with analytic SEs (no bootstrap), for null draws."""
    from analysis.estimators import cs

    agg = cs.aggregate(_cs_att_gt(ctx, 0), "simple")
    return float(agg.overall_att), float(agg.overall_se)


def _fit_cs(ctx: Context) -> Output:
    """Callaway-Sant'Anna: one overall row per aggregation, the event study (dynamic) and its
    covariance, the group and calendar elements, the ATT(g,t) cells and the pre-tests."""
    from analysis.estimators import cs
    from analysis.estimators.tidy import EVENT_COLUMNS, normal_inference, summary_row

    spec = ctx.spec
    res = _cs_att_gt(ctx, spec["bootstrap"])
    out, (lo, hi), elements = [], spec["event_window"], []
    for kind in cs.KINDS:
        agg = cs.aggregate(res, kind, min_e=lo, max_e=hi) if kind == "dynamic" else cs.aggregate(res, kind)
        out.append(
            summary_row(
                f"cs_{kind}",
                agg.overall_att,
                agg.overall_se,
                res.n_obs,
                len(res.units),
                res.cluster.max() + 1,
                TARGETS[kind],
                alpha=res.alpha,
            )
        )
        table = agg.table.rename(columns={"att": "estimate"})
        table = table.assign(pvalue=normal_inference(table["estimate"], table["se"], res.alpha)["pvalue"])
        if kind == "dynamic":
            event = table.rename(columns={"element": "event_time"})
            vcov = pd.DataFrame(agg.vcov, index=event["event_time"], columns=event["event_time"])
            leads = cs.pretest_leads(agg)
        elif kind in ("group", "calendar"):
            elements.append(table.assign(estimator=f"cs_{kind}"))
    aggregations = pd.concat(elements).reindex(columns=["estimator", "element", *EVENT_COLUMNS[1:]])
    return Output(
        out,
        event,
        vcov,
        res.dropped,
        {
            "aggregations": aggregations,
            "attgt": res.table.rename(columns={"att": "estimate"}),
            "pretest": pd.DataFrame([cs.pretest(res), leads]),
        },
    )


def _fit_bacon(ctx: Context) -> Output:
    fit, table = _m("bacon").bacon(ctx.df, ctx.y, ctx.unit, ctx.time, ctx.g, weights=ctx.design["weights"])
    return Output.of(fit, bacon=table)


def _honest_source(ests) -> str:
    return "cs" if "cs" in ests else "event_twfe"


def _fit_honest(ctx: Context) -> Output:
    honest = _m("honest")
    source = _honest_source(ctx.spec["estimators"])
    event, vcov = ctx.events[source]
    table = pd.concat([honest.honest(event, vcov, method).assign(source=source) for method in honest.GRIDS])
    return Output([], tables={"honest": table})


def _check_honest(spec: dict, ests: set) -> list[tuple[str, str]]:
    out = []
    if not ests & {"cs", "event_twfe"}:
        out.append(("estimators", "honest needs an event study: add cs (base_period universal) or event_twfe"))
    if "cs" in ests and spec["base_period"] != "universal":
        out.append(("base_period", "honest on cs needs base_period universal (reference period -1)"))
    return out


def _imputation_se(spec: dict, m: dict) -> str:
    from analysis.spec import default_terms

    return f"BJS conservative variance, clustered by {m['cluster']}" + (
        "" if default_terms(spec["fixed_effects"]) else " (pyfixest did2s, one second-stage dummy per cohort x horizon)"
    )


NO_CONTROLS_CS = (
    "Callaway-Sant'Anna conditions on covariates fixed at baseline: put time-invariant columns in "
    "baseline_controls (e.g. a derived baseline) or run the others in their own spec"
)
NO_CONTROLS_BACON = "the Goodman-Bacon decomposition is of the regression without controls"

for _entry in (
    Estimator(
        "twfe",
        lambda c: Output.of(_m("twfe").static(c.df, c.y, c.unit, c.time, c.g, **c.common)),
        (Row("twfe", "Twfe", "TWFE", "TWFE"),),
        "TWFE",
        lambda s, m: (f"{m['y']} ~ {m['rhs']} | {m['fe']}", m["crv1"]),
        grid=True,
        multiverse=True,
        null_twfe={},
        comparison="implicit",
    ),
    Estimator(
        "twfe_trends",
        lambda c: Output.of(_m("twfe").static(c.df, c.y, c.unit, c.time, c.g, trends=True, **c.common)),
        (Row("twfe_trends", "TwfeTrends", "Trends", "TWFE with county trends"),),
        "TWFE with county trends",
        lambda s, m: (f"{m['y']} ~ {m['rhs']} | {m['fe']} + fips[year]", m["crv1"]),
        grid=True,
        multiverse=True,
        null_twfe={"trends": True},
        comparison="implicit",
    ),
    Estimator(
        "event_twfe",
        lambda c: Output.of(_m("twfe").event_study(c.df, c.y, c.unit, c.time, c.g, window=c.window, **c.common)),
        (Row("event_twfe", "EventTwfe", "Event TWFE", "TWFE event study"),),
        "TWFE event study",
        lambda s, m: (
            f"{m['y']} ~ i(event_time, ref = -1, binned at {s['event_window']}){m['rest']} | {m['fe']}",
            m["crv1"],
        ),
        comparison="implicit",
    ),
    Estimator(
        "cs",
        _fit_cs,
        (
            Row("cs_simple", "Cs", "CS", "Callaway–Sant'Anna (simple ATT)"),
            Row("cs_group", "CsGroup", "CS (cohort)", "Callaway–Sant'Anna (by cohort)", report=False),
            Row("cs_dynamic", "CsDynamic", "CS (event time)", "Callaway–Sant'Anna (event-time mean)"),
            Row("cs_calendar", "CsCalendar", "CS (year)", "Callaway–Sant'Anna (by year)", report=False),
        ),
        "Callaway–Sant'Anna",
        lambda s, m: (
            f"att_gt({m['y']}, gname = {s['treatment']}, xformla = "
            f"~{' + '.join(s['baseline_controls']) or '1'}, est_method = {s['est_method']}, "
            f"control_group = {s['control_group']})",
            f"{m['boot']}, clustered by {m['cluster']}",
        ),
        fixed_effects="Callaway-Sant'Anna compares each cohort with its controls in 2x2 differences; it has no "
        "fixed effects to add (condition on baseline_controls instead, or run cs in its own spec)",
        controls=NO_CONTROLS_CS,
        fields={"est_method": "est_method applies to cs only (Callaway-Sant'Anna): add cs or remove it"},
        grid=True,
        multiverse=True,
        order=0,
        refit=_refit_cs,
    ),
    Estimator(
        "sunab",
        lambda c: Output.of(
            _m("sunab").sunab(
                c.df, c.y, c.unit, c.time, c.g, control_group=c.spec["control_group"], window=c.window, **c.common
            )
        ),
        (Row("sunab", "Sunab", "Sun–Abraham", "Sun–Abraham"),),
        "Sun–Abraham",
        lambda s, m: (
            f"{m['y']} ~ sunab(cohort, period){m['rest']} | {m['fe']}",
            f"cluster-robust by {m['cluster']} (diff-diff)",
        ),
        fixed_effects="diff-diff's SunAbraham absorbs county and year effects only (use event_twfe or "
        "imputation, which take any fixed effects, or run sunab in its own spec)",
    ),
    Estimator(
        "imputation",
        lambda c: Output.of(_m("imputation").imputation(c.df, c.y, c.unit, c.time, c.g, window=c.window, **c.common)),
        (Row("imputation", "Imputation", "Imputation", "Imputation (BJS)"),),
        "Imputation (BJS)",
        lambda s, m: (
            f"{m['y']} ~ {' + '.join(m['extra']) or '0'} | {m['fe']} on untreated rows, treated rows imputed",
            _imputation_se(s, m),
        ),
        max_fe_terms=2,
        fe_terms_reason="imputation cannot take more than two fixed-effect terms: its "
        "untreated-outcome model takes county plus one other term (e.g. state^year)",
        multiverse=True,
        comparison="untreated",
    ),
    Estimator(
        "ppml",
        lambda c: Output.of(_m("ppml").ppml(c.df, c.y, c.unit, c.time, c.g, **c.common)),
        (Row("ppml", "Ppml", "PPML", "PPML (log rate ratio)"),),
        "PPML (log rate ratio)",
        lambda s, m: (f"fepois({s['outcome']} ~ {m['rhs']} | {m['fe']}, offset = log(population))", m["crv1"]),
        transforms=("count",),
        transform_reason="ppml models counts (population as exposure): use transform count",
        grid=True,
    ),
    Estimator(
        "wild",
        lambda c: Output.of(_m("wild").wild(c.df, c.y, c.unit, c.time, c.g, seed=c.spec["seed"], **c.common)),
        (Row("wild", "Wild", "Wild bootstrap", "TWFE, wild bootstrap", report=False),),
        "TWFE, wild bootstrap",
        lambda s, m: (
            f"{m['y']} ~ {m['rhs']} | {m['fe']}",
            f"wild cluster bootstrap p-value (WCR, 9999 draws, seed {s['seed']}) by {m['cluster']}",
        ),
        comparison="implicit",
    ),
    Estimator(
        "bacon",
        _fit_bacon,
        (Row("bacon", "Bacon", "Bacon", "Bacon (TWFE)", report=False),),
        "Bacon (TWFE)",
        lambda s, m: (f"{m['y']} ~ {m['d']} | fips + year, decomposed into 2x2 comparisons", "none"),
        fixed_effects="the Goodman-Bacon decomposition is of the regression with county and year effects only",
        controls=NO_CONTROLS_BACON,
        baseline_controls=NO_CONTROLS_BACON,
        order=2,
    ),
    Estimator(
        "honest",
        _fit_honest,
        (),
        "HonestDiD",
        lambda s, m: (f"HonestDiD of the {_honest_source(s['estimators'])} event study", "robust confidence sets"),
        check=_check_honest,
        order=3,
    ),
):
    register(_entry)
