"""Named estimation samples: rules kept as data in analysis/samples.yaml, applied to the county panel.

A specification names its sample ('main', 'cov75', ...) and may add rules of its own
(``sample_rules``: the same keys); apply_sample and apply_rules return the county-years kept and
one sample-log row per rule, so every estimate can say what it dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import FIRST_YEAR, LAST_YEAR, PANEL, SAMPLES
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.rulelog import RuleLog

NUMBER = (int, float)
KEYS = {
    "description": str,
    "extends": str,
    "covind_min": NUMBER,
    "covind_above": NUMBER,
    "every_year": bool,
    "balanced": bool,
    "drop_nyc_2001": bool,
    "drop_statewide_287g_states": bool,
    "states_exclude": list,
    "states_include": list,
    "drop_states_losing_over": NUMBER,
    # reporting-coverage audit (analysis/coverage.py): per county, every year of the sample
    "cov_ratio_log_max": NUMBER,
    "cov_ratio_jump_max": NUMBER,
    "ag_off_jump_max": NUMBER,
    "index_jump_max": NUMBER,
    "drop_zero_index": bool,
    "rate_index_max": NUMBER,
    # named counties and treatment-coding rules
    "counties_exclude": list,
    "drop_counties_flagged": list,
    "drop_after_287g_end": bool,
    "drop_never_treated": str,
    # the years of the window (a spec's own sample_rules, e.g. [2003, 2012])
    "years": list,
}
# USPS codes of the 50 states and DC (the panel's 'state' column).
STATES = (
    "AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM "
    "NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY"
).split()
# Per-county audit rules: key -> (panel column, failing test, reason template). A county is dropped
# when any of its years in the sample fails; the reasons quote the bound.
AUDIT_RULES = {
    "cov_ratio_log_max": (
        "log_cov_ratio",
        lambda s, b: ~(s.abs() <= b),
        "Counties whose covered population (CPOPCRIM) differs from the Census population by "
        "more than {b:g} log points (or is 0) in some year.",
    ),
    "cov_ratio_jump_max": (
        "cov_ratio_jump",
        lambda s, b: s > b,
        "Counties whose coverage ratio (CPOPCRIM / population) moves by more than {b:g} log points in a year.",
    ),
    "ag_off_jump_max": (
        "ag_off_jump",
        lambda s, b: s > b,
        "Counties whose reporting agencies (AG_OFF) change more than {b:g}-fold (or from/to 0) in a year.",
    ),
    "index_jump_max": (
        "index_jump",
        lambda s, b: s > b,
        "Counties whose index crimes change more than {b:g}-fold (or from/to 0) in a year.",
    ),
    "drop_zero_index": ("zero_index", lambda s, b: s.astype(bool), "Counties with a year of zero index crimes."),
    "rate_index_max": (
        "rate_index",
        lambda s, b: s > b,
        "Counties with more than {b:,g} index crimes per 100,000 residents in some year.",
    ),
}


def read_panel(columns: list[str] | None = None) -> pd.DataFrame:
    """The county x year panel (data_clean/county_panel.parquet; ``columns`` only, if given), read by
    every estimation step. InputError naming the step that builds it when it is missing."""
    if not PANEL.exists():
        raise InputError(PANEL, "the county panel is not built yet (make panel)")
    return pd.read_parquet(PANEL, columns=columns)


def rule_problems(rule: dict, lines: dict | None = None) -> list[tuple[str, str]]:
    """Every mistake in one set of sample rules, as (key, message): unknown keys (with the nearest
    known one), wrong types, unknown state codes, bounds out of range (both COVIND rules: read_samples, after
    extends)."""
    from analysis.infra.suggest import unknown

    problems = []
    for key, value in rule.items():
        if key not in KEYS:
            problems.append((key, unknown("sample rule", key, KEYS)))
        elif not isinstance(value, KEYS[key]) or (isinstance(value, bool) and KEYS[key] is not bool):
            problems.append((key, f"{value!r} has the wrong type (expected {_kind(KEYS[key])})"))
        elif key in ("states_include", "states_exclude"):
            problems += [(key, unknown("state code", code, STATES)) for code in value if code not in STATES]
        elif KEYS[key] is NUMBER and value < 0:
            problems.append((key, f"{value!r} must be >= 0"))
        elif key in ("covind_min", "covind_above") and not 0 <= value <= 100:
            problems.append((key, f"{value} is outside 0-100 (COVIND is a percentage)"))
        elif key == "drop_states_losing_over" and not 0 <= value <= 1:
            problems.append((key, f"{value} is outside 0-1 (a share of a state's counties)"))
        elif key == "years" and not (
            len(value) == 2
            and all(isinstance(y, int) and not isinstance(y, bool) for y in value)
            and FIRST_YEAR <= value[0] <= value[1] <= LAST_YEAR
        ):
            problems.append(
                (key, f"{value!r} should be [first, last] with {FIRST_YEAR} <= first <= last <= {LAST_YEAR}")
            )
    return problems


def _kind(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {"int": "a number", "float": "a number", "str": "text", "bool": "true/false", "list": "a list"}[k.__name__]
        for k in kinds[:1]
    )


def read_samples(path: Path = SAMPLES) -> dict[str, dict]:
    """The named samples, validated and with ``extends`` resolved (a sample takes every rule of the
    sample it extends, then its own): known keys of the right type, at most one COVIND rule, no
    unknown or circular parent. InputError names the file, the line and the offending key."""
    data, root = read_yaml(path, dict, "a mapping: sample name -> rules")
    lines = {}
    for name_node, rule_node in root.value:
        name, rule = name_node.value, data[name_node.value]
        lines[name] = name_node.start_mark.line + 1
        if not isinstance(rule, dict):
            raise InputError(path, "expected a mapping of rules", line=lines[name], field=name)
        key_lines = {k.value: k.start_mark.line + 1 for k, _ in rule_node.value}
        for key, message in rule_problems(rule):
            raise InputError(path, f"{message} in sample '{name}'", line=key_lines.get(key, lines[name]), field=key)
    resolved = {name: _resolve(data, name, path, lines, ()) for name in data}
    for name, rule in resolved.items():
        if "covind_min" in rule and "covind_above" in rule:
            raise InputError(
                path, f"sample '{name}' gives both covind_min and covind_above", line=lines[name], field="covind_above"
            )
    return resolved


def _resolve(data: dict, name: str, path: Path, lines: dict, seen: tuple) -> dict:
    """The rules of ``name`` with its ``extends`` chain merged in (own rules win)."""
    rule = data[name]
    parent = rule.get("extends")
    if parent is None:
        return dict(rule)
    if parent not in data:
        raise InputError(path, f"sample '{name}' extends unknown sample '{parent}'", line=lines[name], field="extends")
    if parent in seen or parent == name:
        raise InputError(
            path,
            f"sample '{name}': circular extends ({' -> '.join([*seen, name, parent])})",
            line=lines[name],
            field="extends",
        )
    inherited = _resolve(data, parent, path, lines, (*seen, name))
    if {"covind_min", "covind_above"} & set(rule):  # an own COVIND rule replaces the inherited one
        inherited = {k: v for k, v in inherited.items() if k not in ("covind_min", "covind_above")}
    merged = {**inherited, **rule}
    merged.pop("extends")
    return merged


def apply_sample(panel: pd.DataFrame, name: str, path: Path = SAMPLES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years of sample ``name`` and its sample-log rows (stage 'sample_<name>'); see
    sample_rules for the order of the rules."""
    return apply_rules(panel, named_rules(name, path), f"sample_{name}", path)


def apply_rules(panel: pd.DataFrame, rule: dict, stage: str, path: Path = SAMPLES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years kept by the sample rules ``rule`` (a named sample's, or a spec's own
    ``sample_rules``) and one sample-log row per rule (``stage``)."""
    df, log = sample_rules(panel, rule, stage, path)
    return df.reset_index(drop=True), log.frame()


def named_rules(name: str, path: Path = SAMPLES) -> dict:
    """The rules of sample ``name`` (extends resolved); InputError naming the known samples if none."""
    samples = read_samples(path)
    if name not in samples:
        raise InputError(path, f"no sample named '{name}' (known: {', '.join(samples)})", field=name)
    return samples[name]


def dropped_by(panel: pd.DataFrame, name: str, path: Path = SAMPLES) -> pd.Series:
    """For every row of ``panel`` (same index): the rule of sample ``name`` that drops it, '' if kept."""
    _, log = sample_rules(panel, named_rules(name, path), f"sample_{name}", path)
    out = pd.Series("", index=panel.index, dtype=object)
    for rule, index in log.dropped_index.items():
        out[index] = rule
    return out


def sample_rules(panel: pd.DataFrame, rule: dict, stage: str, path: Path = SAMPLES) -> tuple[pd.DataFrame, RuleLog]:
    """The county-years kept by ``rule`` (``panel``'s index kept) and the RuleLog of its rules.

    Order: years, states_include, states_exclude, drop_statewide_287g_states, drop_nyc_2001,
    drop_states_losing_over, the COVIND rule (per county-year, or per county with every_year),
    balanced (every year of the window: FIRST_YEAR..LAST_YEAR, or ``years``); then the
    coverage-audit rules, each per county over its years still in the sample (AUDIT_RULES order);
    then counties_exclude (fips codes), drop_counties_flagged (boolean panel columns: counties
    flagged in any year), drop_after_287g_end (county-years after the year the county's 287(g)
    agreements ended, g287_county_end) and drop_never_treated (counties whose timing column is 0 or
    missing: never treated, so only counties that adopt, in the window or after it, remain).
    Every rule writes one log row, also when it drops nothing.
    """
    df = panel
    log = RuleLog(stage, "county-year", units="fips")
    first, last = rule.get("years") or (FIRST_YEAR, LAST_YEAR)
    if rule.get("years"):
        df = log.drop(df, ~df["year"].between(first, last), f"years_{first}_{last}", f"Years outside {first}-{last}.")
    if rule.get("states_include"):
        states = rule["states_include"]
        df = log.drop(df, ~df["state"].isin(states), "states_include", f"States other than {', '.join(states)}.")
    if rule.get("states_exclude"):
        states = rule["states_exclude"]
        df = log.drop(df, df["state"].isin(states), "states_exclude", f"States excluded: {', '.join(states)}.")
    if rule.get("drop_statewide_287g_states"):
        df = log.drop(
            df,
            df["state_287g_statewide"],
            "drop_statewide_287g_states",
            "States with a state-level 287(g) agreement (state police, DOC...).",
        )
    if rule.get("drop_nyc_2001"):
        df = log.drop(
            df,
            df["nyc_2001"],
            "drop_nyc_2001",
            "The five NYC counties in 2001: murders include the 11 September victims.",
        )
    key = next((k for k in ("covind_min", "covind_above") if k in rule), None)
    if "drop_states_losing_over" in rule:
        share = rule["drop_states_losing_over"]
        losing = _states_losing(df, rule, key, last - first + 1)
        df = log.drop(
            df,
            df["state"].isin(losing[losing > share].index),
            f"drop_states_losing_over_{share:g}",
            f"States losing more than {share:g} of their counties to this sample's COVIND/balance rules.",
        )
    if key:
        bound, sign = rule[key], {"covind_min": ">=", "covind_above": ">"}[key]
        fails = df["covind"] < bound if key == "covind_min" else df["covind"] <= bound
        if rule.get("every_year"):
            df = log.drop(
                df,
                fails.groupby(df["fips"]).transform("any"),
                f"{key}_{bound:g}_every_year",
                f"Counties without COVIND {sign} {bound:g} in every year.",
            )
        else:
            df = log.drop(df, fails, f"{key}_{bound:g}", f"County-years without COVIND {sign} {bound:g}.")
    if rule.get("balanced"):
        years = df.groupby("fips")["year"].transform("nunique")
        df = log.drop(df, years < last - first + 1, "balanced", f"Counties not present in every year {first}-{last}.")
    for audit, (column, fails, reason) in AUDIT_RULES.items():
        if audit not in rule or rule[audit] is False:
            continue
        bound = rule[audit]
        _require(df, column, audit, path)
        bad = fails(df[column], bound).fillna(False).astype(bool)
        label = audit if isinstance(bound, bool) else f"{audit}_{bound:g}"
        df = log.drop(df, bad.groupby(df["fips"]).transform("any"), label, reason.format(b=bound))
    if rule.get("counties_exclude"):
        codes = [str(c).zfill(5) for c in rule["counties_exclude"]]
        df = log.drop(df, df["fips"].isin(codes), "counties_exclude", f"Counties excluded by name: {', '.join(codes)}.")
    for column in rule.get("drop_counties_flagged") or []:
        _require(df, column, "drop_counties_flagged", path)
        flagged = df[column].fillna(False).astype(bool).groupby(df["fips"]).transform("any")
        df = log.drop(df, flagged, f"drop_flagged_{column}", f"Counties flagged by the panel column {column}.")
    if rule.get("drop_after_287g_end"):
        _require(df, "g287_county_end", "drop_after_287g_end", path)
        ended = (df["g287_county_end"] > 0) & (df["year"] > df["g287_county_end"])
        df = log.drop(
            df,
            ended,
            "drop_after_287g_end",
            "County-years after the year the county's last county-level 287(g) agreement ended.",
        )
    if rule.get("drop_never_treated"):
        column = rule["drop_never_treated"]
        _require(df, column, "drop_never_treated", path)
        never = ~(pd.to_numeric(df[column], errors="coerce") > 0)
        df = log.drop(
            df,
            never.groupby(df["fips"]).transform("all"),
            f"drop_never_treated_{column}",
            f"Counties never treated under {column} (0 or no date): only adopters, in the window or "
            "after it, remain, so later adopters are the only controls.",
        )
    return df, log


def _require(df: pd.DataFrame, column: str, rule: str, path: Path) -> None:
    """InputError if the panel lacks the column a rule reads (e.g. a panel built before the audit)."""
    if column not in df.columns:
        raise InputError(
            path,
            f"rule {rule} needs the panel column '{column}', which is missing (rebuild the panel: make panel)",
            field=rule,
        )


def _states_losing(
    df: pd.DataFrame, rule: dict, key: str | None, n_years: int = LAST_YEAR - FIRST_YEAR + 1
) -> pd.Series:
    """Per state, the share of its counties that would lose at least one year to the COVIND rule
    (or, with balanced, not be present in every year): the 'coverage holes' of a state."""
    fails = pd.Series(False, index=df.index)
    if key:
        fails = df["covind"] < rule[key] if key == "covind_min" else df["covind"] <= rule[key]
    county_fails = fails.groupby(df["fips"]).any()
    if rule.get("balanced"):
        county_fails |= df.groupby("fips")["year"].nunique() < n_years
    state = df.groupby("fips")["state"].first()
    return county_fails.groupby(state).mean()


def state_losses(panel: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """Per state: counties in the panel, in the sample, lost, and the share lost (most lost first)."""
    counts = pd.DataFrame(
        {
            "counties_panel": panel.groupby(["state_fips", "state"])["fips"].nunique(),
            "counties_sample": sample.groupby(["state_fips", "state"])["fips"].nunique(),
        }
    )
    counts = counts.fillna(0).astype("int64").reset_index()
    counts["counties_lost"] = counts["counties_panel"] - counts["counties_sample"]
    counts["share_lost"] = (counts["counties_lost"] / counts["counties_panel"]).round(3)
    return counts.sort_values(["counties_lost", "state"], ascending=[False, True]).reset_index(drop=True)
