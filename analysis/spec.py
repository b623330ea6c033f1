"""Specifications as data: one small YAML per estimation in analysis/specs/, checked before any work.

``load_spec`` reads and checks one file on its own (fields, types, allowed values, the named
sample); ``validate_spec`` checks it against the panel's columns and rules out impossible
combinations. Every error is an InputError naming the file, the line and the field.
"""
from __future__ import annotations

from pathlib import Path

from analysis.config import SAMPLES
from analysis.errors import InputError
from analysis.yamlfile import read_yaml

ESTIMATORS = ("twfe", "twfe_trends", "event_twfe", "cs", "sunab", "imputation", "bacon", "honest", "ppml", "wild")
CHOICES = {"program": ("287g", "sc"), "transform": ("rate", "log_rate", "count", "level"),
           "control_group": ("never_treated", "not_yet_treated"), "weights": ("none", "population"),
           "cluster": ("county", "state"), "base_period": ("varying", "universal")}
REQUIRED = {"name": str, "description": str, "program": str, "sample": str, "outcome": str, "transform": str,
            "treatment": str, "control_group": str, "estimators": list}
DEFAULTS = {"covariates": [], "weights": "none", "cluster": "county", "base_period": "varying", "anticipation": 0,
            "bootstrap": 0, "seed": None, "event_window": [-5, 5], "clean_controls": []}
OPTIONAL = {"covariates": list, "weights": str, "cluster": str, "base_period": str, "anticipation": int,
            "bootstrap": int, "seed": int, "event_window": list, "clean_controls": list}
# Timing columns in which every dated unit is treated by the end (no never-treated units).
NO_NEVER_TREATED = ("sc_year", "sc_year_midyear")


def _fail(spec: dict, message: str, field: str) -> None:
    raise InputError(spec["path"], message, line=spec["lines"].get(field), field=field)


def load_spec(path: str | Path) -> dict:
    """The specification in ``path`` with defaults filled in, plus 'path' and 'lines' (field -> line)."""
    data, root = read_yaml(path, dict, "a mapping of fields")
    lines = {k.value: k.start_mark.line + 1 for k, _ in root.value}
    spec = {**DEFAULTS, **data, "path": str(path), "lines": lines}
    for field in data:
        if field not in REQUIRED and field not in OPTIONAL:
            _fail(spec, f"unknown field (known: {', '.join([*REQUIRED, *OPTIONAL])})", field)
    for field in REQUIRED:
        if field not in data:
            raise InputError(path, "required field missing", field=field)
    for field, kind in {**REQUIRED, **OPTIONAL}.items():
        value = spec[field]
        if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
            _fail(spec, f"{value!r} should be of type {kind.__name__}", field)
    for field, allowed in CHOICES.items():
        if spec[field] not in allowed:
            _fail(spec, f"{spec[field]!r} is not one of {', '.join(allowed)}", field)
    unknown = [e for e in spec["estimators"] if e not in ESTIMATORS]
    if unknown or not spec["estimators"]:
        _fail(spec, f"unknown estimators {unknown} (known: {', '.join(ESTIMATORS)})", "estimators")
    window = spec["event_window"]
    if len(window) != 2 or not all(isinstance(w, int) for w in window) or not window[0] < -1 < 0 <= window[1]:
        _fail(spec, "event_window must be [lo, hi] with lo < -1 and hi >= 0", "event_window")
    if spec["anticipation"] < 0 or spec["bootstrap"] < 0:
        _fail(spec, "must be >= 0", "anticipation" if spec["anticipation"] < 0 else "bootstrap")
    if Path(SAMPLES).exists():
        from analysis.sample import read_samples
        if spec["sample"] not in read_samples(SAMPLES):
            _fail(spec, f"no sample named {spec['sample']!r} in {SAMPLES.name}", "sample")
    return spec


def outcome_column(spec: dict) -> str:
    """The panel column the outcome and transform name (count, level: the column itself)."""
    return spec["outcome"] if spec["transform"] in ("count", "level") else f"{spec['transform']}_{spec['outcome']}"


def validate_spec(spec: dict, columns) -> dict:
    """Check ``spec`` against the panel ``columns`` and for impossible combinations; returns ``spec``."""
    columns = set(columns)
    for field, column in (("outcome", outcome_column(spec)), ("treatment", spec["treatment"])):
        if column not in columns:
            _fail(spec, f"column {column!r} is not in the panel", field)
    for cov in spec["covariates"]:
        if cov not in columns:
            _fail(spec, f"covariate column {cov!r} is not in the panel", "covariates")
    prefix = {"287g": "g287_", "sc": "sc_"}[spec["program"]]
    if not spec["treatment"].startswith(prefix):
        _fail(spec, f"program {spec['program']} needs a timing column starting with {prefix!r}", "treatment")
    for column in spec["clean_controls"]:  # timing columns of the same program (analysis.design)
        if not isinstance(column, str) or column not in columns or not column.startswith(prefix):
            _fail(spec, f"{column!r} is not a {spec['program']} timing column of the panel", "clean_controls")
    if spec["control_group"] == "never_treated" and spec["treatment"] in NO_NEVER_TREATED:
        _fail(spec, f"{spec['treatment']} has no never-treated units: use not_yet_treated", "control_group")
    estimators = set(spec["estimators"])
    if "ppml" in estimators and spec["transform"] != "count":
        _fail(spec, "ppml models counts (population as exposure): use transform count", "transform")
    if estimators - {"ppml"} and spec["transform"] == "count":
        _fail(spec, "linear estimators need transform rate, log_rate or level; put ppml in its own spec", "transform")
    if "honest" in estimators and not estimators & {"cs", "event_twfe"}:
        _fail(spec, "honest needs an event study: add cs (base_period universal) or event_twfe", "estimators")
    if "honest" in estimators and "cs" in estimators and spec["base_period"] != "universal":
        _fail(spec, "honest on cs needs base_period universal (reference period -1)", "base_period")
    if spec["covariates"] and estimators != {"cs"}:
        _fail(spec, "covariates are used only by cs: put other estimators in their own spec", "covariates")
    return spec
