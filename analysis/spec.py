"""Specifications as data: one small YAML file per estimation, checked before any work.

The paper's specs live in analysis/specs/ (results in results/<file stem>/); a student's own in
myspecs/ (results in myspecs/results/<file stem>/, see analysis.workspace). Fields:

==================  ========  ==================================================================
field               default   meaning
==================  ========  ==================================================================
description         required  one sentence
program             required  287g or sc: the program the spec belongs to (exhibits and notebooks
                              group specs by this field, never by file name)
sample              required  a named sample of analysis/samples.yaml
outcome             required  a crime: murder ... index (panel columns rate_<outcome>)
transform           required  rate, log_rate or count (ppml only)
treatment           required  a timing column: g287_* (287g) or sc_year* (sc); 0/NA = never treated,
                              a year after 2012 = not yet treated in the window
control_group       required  never_treated or not_yet_treated
estimators          required  list of registered estimators (analysis.estimators.registry)
name                stem      if given, must equal the file stem (the results folder)
label               name      short label for plots and tables
controls            []        time-varying columns: y ~ D + controls
baseline_controls   []        time-invariant columns: i(year, x) in regressions, covariates in cs
fixed_effects       [county,  fixest terms: county, state, year, a^b (e.g. state^year)
                    year]
est_method          dr        cs only: dr, ipw or reg
weights             none      none or population (first sample year)
cluster             county    county or state
base_period         varying   cs: varying or universal
anticipation        0         cs: periods of anticipation
bootstrap           0         cs multiplier-bootstrap draws (0 = analytic), at most MAX_BOOTSTRAP
seed                SEED      every draw of the spec (cs bootstrap, wild bootstrap); 0..2**32-1
event_window        [-5, 5]   [lo, hi] event times reported (TWFE event study bins the endpoints)
sample_rules        {}        rules of analysis/samples.yaml (and years: [from, to]) applied after
                              the named sample
derived             {}        derived columns for this spec (analysis.derived syntax)
==================  ========  ==================================================================

``load_spec`` checks the file on its own; ``validate_spec`` checks it against the panel's columns
and rules out combinations an estimator cannot honour; ``check_spec`` does both. Every mistake of a
file is reported at once: a :class:`SpecError` lists one ``file:line: field`` line per mistake, with
the allowed values or the nearest valid name.
"""

from __future__ import annotations

from pathlib import Path

from analysis import derived as derived_columns
from analysis.config import CODEBOOK_SPEC, DERIVED, SAMPLES, SEED
from analysis.estimators import registry
from analysis.infra.errors import InputError
from analysis.infra.suggest import nearest, unknown
from analysis.infra.yamlfile import read_yaml
from analysis.model import ALIASES, DEFAULT_FE, TERM, fe_parts

CHOICES = {
    "program": ("287g", "sc"),
    "transform": ("rate", "log_rate", "count", "level"),
    "control_group": ("never_treated", "not_yet_treated"),
    "weights": ("none", "population"),
    "cluster": ("county", "state"),
    "base_period": ("varying", "universal"),
    "est_method": ("dr", "ipw", "reg"),
}
REQUIRED = {
    "description": str,
    "program": str,
    "sample": str,
    "outcome": str,
    "transform": str,
    "treatment": str,
    "control_group": str,
    "estimators": list,
}
OPTIONAL = {
    "name": str,
    "label": str,
    "controls": list,
    "baseline_controls": list,
    "fixed_effects": list,
    "est_method": str,
    "weights": str,
    "cluster": str,
    "base_period": str,
    "anticipation": int,
    "bootstrap": int,
    "seed": int,
    "event_window": list,
    "sample_rules": dict,
    "derived": dict,
    "clean_controls": list,
}
DEFAULTS = {
    "controls": [],
    "baseline_controls": [],
    "fixed_effects": DEFAULT_FE,
    "est_method": "dr",
    "weights": "none",
    "cluster": "county",
    "base_period": "varying",
    "anticipation": 0,
    "bootstrap": 0,
    "seed": SEED,
    "event_window": [-5, 5],
    "sample_rules": {},
    "derived": {},
    "clean_controls": [],
}
RENAMED = {
    "covariates": "controls (time-varying) or baseline_controls (time-invariant; what cs uses)",
    "fe": "fixed_effects",
    "formula": "controls and fixed_effects",
}
# Memory bound of the multiplier bootstrap: a draws x clusters matrix of 8-byte numbers; clusters are
# at most the 3,143 US counties, so MAX_BOOTSTRAP draws need about 0.5 GB.
MAX_BOOTSTRAP = 20_000
US_COUNTIES = 3_143
MAX_SEED = 2**32 - 1
# Keys a loaded spec carries besides its fields (grid variants add variant and dimension).
BOOKKEEPING = ("path", "lines", "variant", "dimension")
# Timing columns in which every dated unit is treated by the end (no never-treated units).
NO_NEVER_TREATED = ("sc_year", "sc_year_midyear")
TIMING_PREFIX = {"287g": "g287_", "sc": "sc_"}


class SpecError(InputError):
    """Every mistake of one specification file. ``problems`` is a list of (line, field, message),
    sorted by line; ``line`` and ``field`` are the first one's. The message has one
    ``file:line: field`` line per mistake."""

    def __init__(self, file, problems: list[tuple[int | None, str, str]]):
        self.problems = sorted(problems, key=lambda p: (p[0] is None, p[0] or 0))
        line, field, message = self.problems[0]
        super().__init__(file, message, line=line, field=field)
        if len(self.problems) > 1:
            each = [str(InputError(file, m, line=ln, field=f)) for ln, f, m in self.problems]
            self.args = (f"{file}: {len(each)} mistakes\n  " + "\n  ".join(each),)


class _Checks:
    """Collects (line, field, message) for one spec; ``bad`` holds the fields that failed their type."""

    def __init__(self, spec: dict):
        self.spec, self.problems, self.bad = spec, [], set()

    def fail(self, field: str, message: str) -> None:
        lines, key = self.spec.get("lines", {}), field
        while key not in lines and "." in key:
            key = key.rsplit(".", 1)[0]
        self.problems.append((lines.get(key), field, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise SpecError(self.spec["path"], self.problems)


def _node_lines(node, prefix: str = "") -> dict[str, int]:
    """Line of every key of a YAML mapping, nested keys as 'a.b' and list items as 'a.0'."""
    lines = {}
    if hasattr(node, "value") and isinstance(node.value, list):
        for i, item in enumerate(node.value):
            if isinstance(item, tuple):
                key, value = item
                name = f"{prefix}{key.value}"
                lines[name] = key.start_mark.line + 1
                lines.update(_node_lines(value, name + "."))
            elif prefix:
                lines[f"{prefix}{i}"] = item.start_mark.line + 1
                lines.update(_node_lines(item, f"{prefix}{i}."))
    return lines


def check_estimator_names(path, root, named: dict, rows: bool = False, use: str | None = None) -> None:
    """Every estimator a YAML file (grid, multiverse, inference, plan) names is registered: ``named`` maps
    the field ('romano_wolf.estimator', 'base.estimators.0') to the name; with ``rows`` the names are
    overall.csv rows (cs_simple), with ``use`` ('grid' or 'multiverse') the estimator must be registered
    for that use. SpecError with one ``file:line: field`` line per mistake (``root``: the YAML node tree)."""
    lines, problems = _node_lines(root), []
    for field, name in named.items():
        key = field
        while key not in lines and "." in key:
            key = key.rsplit(".", 1)[0]
        try:
            entry = registry.row(str(name)) if rows else registry.get(str(name))
        except KeyError as err:
            problems.append((lines.get(key), field, err.args[0]))
            continue
        if use and not getattr(entry, use):
            problems.append(
                (
                    lines.get(key),
                    field,
                    f"{name} cannot run in a {use} (estimators registered for it: {', '.join(registry.allowed(use))})",
                )
            )
    if problems:
        raise SpecError(path, problems)


def _kind(kind: type) -> str:
    return {str: "text", int: "a whole number", list: "a list", dict: "a mapping"}[kind]


def _samples() -> list[str]:
    from analysis.sample import read_samples

    return list(read_samples(SAMPLES)) if Path(SAMPLES).exists() else []


def shared_derived() -> dict:
    """The definitions of analysis/derived.yaml (empty if the file is absent)."""
    return derived_columns.read_derived(DERIVED)[0] if Path(DERIVED).exists() else {}


def _read(path: str | Path, stem: str | None = None) -> tuple[dict, _Checks]:
    """The spec with defaults filled in, and the checks of everything that needs no panel columns.
    ``stem`` replaces the file stem (a results folder's spec.yaml is read with the folder's name)."""
    data, root = read_yaml(path, dict, "a mapping of fields")
    stem = stem or Path(path).stem
    spec = {**DEFAULTS, "name": stem, **data, "path": str(path), "lines": _node_lines(root)}
    spec.setdefault("label", spec["name"] if isinstance(spec["name"], str) and spec["name"] else stem)
    ck = _Checks(spec)
    _fields(ck, data)
    _identity(ck, stem)
    return spec, ck


def _fields(ck: _Checks, data: dict) -> None:
    """Every check of the fields themselves (names, types, choices, ranges, samples, the model terms);
    ``data`` are the fields the spec gives (the rest are defaults)."""
    spec = ck.spec
    known = [*REQUIRED, *OPTIONAL]
    for field in data:
        if field in RENAMED:
            ck.fail(field, f"unknown field: use {RENAMED[field]}")
        elif field not in known:
            ck.fail(field, unknown("field", field, known))
    for field in REQUIRED:
        if field not in data:
            ck.fail(field, "required field missing")
            ck.bad.add(field)
    for field, kind in {**REQUIRED, **OPTIONAL}.items():
        value = spec.get(field)
        if field in data and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
            ck.fail(field, f"{value!r} should be {_kind(kind)}")
            ck.bad.add(field)
    for field, allowed in CHOICES.items():
        if field not in ck.bad and spec[field] not in allowed:
            near = nearest(spec[field], allowed)
            hint = f": did you mean {near!r}?" if near else ""
            ck.fail(field, f"{spec[field]!r} is not one of {', '.join(allowed)}{hint}")
            ck.bad.add(field)
    _estimators(ck)
    _numbers(ck)
    _sample(ck)
    _model(ck)


def _identity(ck: _Checks, stem: str) -> None:
    """name: if given, not empty, not a path, equal to the file stem (the results folder)."""
    from analysis.workspace import NAME

    spec = ck.spec
    if "name" in ck.bad:
        return
    name = spec["name"]
    if not name.strip():
        ck.fail("name", f"name is empty: leave it out (the file name '{stem}' is the name)")
    elif any(c in name for c in "/\\") or name.startswith(".") or not NAME.match(name):
        ck.fail(
            "name",
            f"{name!r} is not a plain name (letters, digits, '_' and '-'; not a path): a spec's "
            f"results folder is its file name, here '{stem}'",
        )
    elif name != stem:
        ck.fail(
            "name",
            f"{name!r} differs from the file name '{stem}': the results folder is the file name; "
            f"rename the file or remove name",
        )
    if "label" not in ck.bad and not str(spec["label"]).strip():
        ck.fail("label", "label is empty: leave it out (the name is the label) or give a short text")


def _estimators(ck: _Checks) -> None:
    spec = ck.spec
    if "estimators" in ck.bad:
        return
    ests, known = spec["estimators"], registry.names()
    if not ests:
        ck.fail("estimators", f"give at least one estimator (one of {', '.join(known)})")
    for i, est in enumerate(ests):
        if est not in known:
            ck.fail(f"estimators.{i}", unknown("estimator", est, known))
    if len(set(map(str, ests))) < len(ests):
        ck.fail("estimators", "an estimator is listed twice")


def _numbers(ck: _Checks) -> None:
    """event_window, anticipation, bootstrap (bounded by memory) and seed."""
    spec = ck.spec
    window = spec["event_window"]
    if "event_window" not in ck.bad and not (
        len(window) == 2 and all(isinstance(w, int) for w in window) and window[0] < -1 < 0 <= window[1]
    ):
        ck.fail("event_window", f"{window!r}: event_window must be [lo, hi] with lo < -1 and hi >= 0")
        ck.bad.add("event_window")
    if "anticipation" not in ck.bad and spec["anticipation"] < 0:
        ck.fail("anticipation", f"{spec['anticipation']} must be >= 0")
    draws = spec["bootstrap"]
    if "bootstrap" not in ck.bad and draws < 0:
        ck.fail("bootstrap", f"{draws} must be >= 0 (0 = analytic standard errors)")
    elif "bootstrap" not in ck.bad and draws > MAX_BOOTSTRAP:
        gb, limit = draws * US_COUNTIES * 8 / 1e9, MAX_BOOTSTRAP * US_COUNTIES * 8 / 1e9
        ck.fail(
            "bootstrap",
            f"{draws:,} draws is above the limit of {MAX_BOOTSTRAP:,}: the multiplier bootstrap "
            f"holds a draws x clusters matrix of 8-byte numbers, about {gb:,.1f} GB of memory with "
            f"the {US_COUNTIES:,} US counties as clusters (the limit needs {limit:.1f} GB)",
        )
    if "seed" not in ck.bad and not 0 <= spec["seed"] <= MAX_SEED:
        ck.fail(
            "seed",
            f"{spec['seed']} is not a valid seed: use a whole number from 0 to {MAX_SEED:,} "
            f"(or leave seed out: config.SEED = {SEED})",
        )


def _sample(ck: _Checks) -> None:
    """The named sample exists; the spec's own sample rules are valid."""
    from analysis.sample import rule_problems

    spec = ck.spec
    if "sample" not in ck.bad:
        names = _samples()
        if names and spec["sample"] not in names:
            ck.fail("sample", unknown("sample (analysis/samples.yaml)", spec["sample"], names))
    if "sample_rules" not in ck.bad:
        for key, message in rule_problems(spec["sample_rules"]):
            ck.fail(f"sample_rules.{key}", message)
    if "derived" not in ck.bad:
        for name, entry in spec["derived"].items():
            for key, message in derived_columns.definition_problems(name, entry):
                ck.fail(f"derived.{name}" + (f".{key}" if key else ""), f"derived column '{name}': {message}")
                ck.bad.add("derived")


def _model(ck: _Checks) -> None:
    """controls and baseline_controls are lists of names; fixed_effects are fixest terms with a county
    and a year dimension."""
    spec = ck.spec
    for field in ("controls", "baseline_controls", "fixed_effects"):
        if field in ck.bad:
            continue
        items = spec[field]
        for i, item in enumerate(items):
            if not isinstance(item, str) or not TERM.match(item) or ("^" in item and field != "fixed_effects"):
                ck.fail(
                    f"{field}.{i}",
                    f"{item!r} is not a column name"
                    + (" or a term such as state^year" if field == "fixed_effects" else ""),
                )
                ck.bad.add(field)
        if len(set(map(str, items))) < len(items):
            ck.fail(field, "a name is listed twice")
    if not {"controls", "baseline_controls"} & ck.bad:
        both = set(spec["controls"]) & set(spec["baseline_controls"])
        if both:
            ck.fail("baseline_controls", f"{', '.join(sorted(both))} also in controls: give each column once")
    if "fixed_effects" in ck.bad:
        return
    terms = spec["fixed_effects"]
    parts = [fe_parts(t) for t in terms]
    before = len(ck.problems)
    if ["fips"] not in parts:
        ck.fail(
            "fixed_effects",
            "the difference-in-differences designs compare changes within counties: fixed_effects must include county",
        )
    timed = [t for t, p in zip(terms, parts) if "year" in p]
    if not timed:
        ck.fail("fixed_effects", "fixed_effects need a year dimension: year, or an interaction such as state^year")
    elif ["year"] in parts and len(timed) > 1:
        nests = next(t for t in timed if t != "year")
        ck.fail(
            "fixed_effects", f"year is nested in {nests} (one effect per {nests.replace('^', ' x ')} cell): remove year"
        )
    if len(ck.problems) > before:
        ck.bad.add("fixed_effects")


def default_terms(terms: list[str]) -> bool:
    """Whether fixed-effect terms are county and year only (the default)."""
    return sorted("^".join(fe_parts(t)) for t in terms) == ["fips", "year"]


def panel_columns() -> list[str]:
    """The panel's documented columns (analysis/codebook.yaml), read without building the panel."""
    entries, _ = read_yaml(CODEBOOK_SPEC, list, "a list of columns")
    return [e["column"] for e in entries if isinstance(e, dict) and "column" in e]


def outcome_column(spec: dict) -> str:
    """The panel column the outcome and transform name (count, level: the column itself)."""
    return spec["outcome"] if spec["transform"] in ("count", "level") else f"{spec['transform']}_{spec['outcome']}"


def derived_definitions(spec: dict) -> dict:
    """The derived columns available to ``spec``: analysis/derived.yaml and the spec's own."""
    return {**shared_derived(), **spec.get("derived", {})}


def _columns(ck: _Checks, columns: set) -> None:
    """Every column the spec names exists (panel or derived), with the nearest name when it does not."""
    spec = ck.spec
    definitions = derived_definitions(spec) if "derived" not in ck.bad else shared_derived()
    available = columns | set(definitions)
    if not {"outcome", "transform"} & ck.bad and outcome_column(spec) not in columns:
        crimes = sorted(c.removeprefix("rate_") for c in columns if c.startswith("rate_"))
        ck.fail(
            "outcome",
            unknown("outcome", spec["outcome"], crimes)
            if spec["outcome"] not in crimes
            else f"column {outcome_column(spec)!r} is not in the panel",
        )
    if "treatment" not in ck.bad and spec["treatment"] not in columns:
        timing = sorted(c for c in columns if c.startswith(tuple(TIMING_PREFIX.values())))
        ck.fail("treatment", unknown("timing column", spec["treatment"], timing))
        ck.bad.add("treatment")
    for field in ("controls", "baseline_controls"):
        if field not in ck.bad:
            for i, col in enumerate(spec[field]):
                if col not in available:
                    ck.fail(
                        f"{field}.{i}",
                        unknown("column", col, sorted(available))
                        + " (panel columns: data_clean/codebook.csv; derived: analysis/derived.yaml or `derived:`)",
                    )
    if "clean_controls" not in ck.bad and "program" not in ck.bad:  # same program's timing columns (analysis.design)
        prefix = TIMING_PREFIX[spec["program"]]
        for column in spec["clean_controls"]:
            if not isinstance(column, str) or column not in columns or not column.startswith(prefix):
                ck.fail("clean_controls", f"{column!r} is not a {spec['program']} timing column of the panel")
    if "fixed_effects" not in ck.bad:
        for i, term in enumerate(spec["fixed_effects"]):
            for part in fe_parts(term):
                if part not in available:
                    ck.fail(
                        f"fixed_effects.{i}", unknown("fixed-effect dimension", part, [*ALIASES, *sorted(available)])
                    )
    if "derived" not in ck.bad:
        for name, entry in spec["derived"].items():
            if name in columns or name in shared_derived():
                ck.fail(
                    f"derived.{name}",
                    f"'{name}' is already a {'panel' if name in columns else 'shared derived'}"
                    " column: choose another name",
                )
            for src in derived_columns.sources(entry):
                if src not in available:
                    ck.fail(f"derived.{name}", unknown(f"column in derived '{name}':", src, sorted(available)))
        try:
            derived_columns.order(spec["derived"], definitions)
        except ValueError as err:
            ck.fail("derived", str(err))


def _combinations(ck: _Checks) -> None:
    """Combinations no estimator can run, and fields an estimator cannot honour (naming it and why)."""
    spec = ck.spec
    if "estimators" in ck.bad:
        return
    ests = {e for e in spec["estimators"] if e in registry.names()}  # misspelt ones are reported by _estimators
    if "program" not in ck.bad and "treatment" not in ck.bad:
        prefix = TIMING_PREFIX[spec["program"]]
        if not spec["treatment"].startswith(prefix):
            ck.fail("treatment", f"program {spec['program']} needs a timing column starting with {prefix!r}")
    if (
        "control_group" not in ck.bad
        and spec["control_group"] == "never_treated"
        and spec.get("treatment") in NO_NEVER_TREATED
    ):
        ck.fail("control_group", f"{spec['treatment']} has no never-treated units: use not_yet_treated")
    for field, message in registry.problems(
        spec, ests, ck.bad, "fixed_effects" in ck.bad or default_terms(spec["fixed_effects"])
    ):
        ck.fail(field, message)


def load_spec(path: str | Path, stem: str | None = None) -> dict:
    """The specification in ``path`` with defaults filled in (name = file stem, or ``stem``; label =
    name), plus 'path' and 'lines' (field -> line). Raises SpecError listing every mistake found
    without the panel."""
    spec, ck = _read(path, stem)
    ck.raise_if_any()
    return spec


def validate_spec(spec: dict, columns) -> dict:
    """Check ``spec`` (a loaded spec, or a modified copy of one) field by field, against the panel
    ``columns`` (plus derived columns) and for combinations an estimator cannot honour; returns
    ``spec``. Raises SpecError listing every mistake."""
    ck = _Checks(spec)
    _fields(ck, {k: v for k, v in spec.items() if k not in BOOKKEEPING})
    _columns(ck, set(columns))
    _combinations(ck)
    ck.raise_if_any()
    return spec


def check_spec(path: str | Path, columns=None) -> dict:
    """load_spec and validate_spec at once: one SpecError with every mistake of the file. ``columns``
    default to the panel's documented columns (analysis/codebook.yaml), so no panel is needed."""
    columns = panel_columns() if columns is None else columns
    spec, ck = _read(path)
    _columns(ck, set(columns))
    _combinations(ck)
    ck.raise_if_any()
    return spec
