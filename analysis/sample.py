"""Named estimation samples: rules kept as data in analysis/samples.yaml, applied to the county panel.

A specification names its sample ('main', 'cov75', ...) and may add rules of its own
(``sample_rules``: the same keys); apply_sample and apply_rules return the county-years kept and
one sample-log row per rule, so every estimate can say what it dropped.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import FIRST_YEAR, LAST_YEAR, SAMPLES
from analysis.errors import InputError
from analysis.readers.rulelog import RuleLog
from analysis.yamlfile import read_yaml

KEYS = {"description": str, "covind_min": (int, float), "covind_above": (int, float),
        "every_year": bool, "balanced": bool, "drop_nyc_2001": bool,
        "drop_statewide_287g_states": bool, "states_exclude": list, "states_include": list,
        "drop_states_losing_over": (int, float), "years": list}
# USPS codes of the 50 states and DC (the panel's 'state' column).
STATES = ("AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM "
          "NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY").split()


def rule_problems(rule: dict, lines: dict | None = None) -> list[tuple[str, str]]:
    """Every mistake in one set of sample rules, as (key, message): unknown keys (with the nearest
    known one), wrong types, unknown state codes, bounds out of range, both COVIND rules."""
    from analysis.suggest import unknown
    problems = []
    for key, value in rule.items():
        if key not in KEYS:
            problems.append((key, unknown("sample rule", key, KEYS)))
        elif not isinstance(value, KEYS[key]) or (isinstance(value, bool) and KEYS[key] is not bool):
            problems.append((key, f"{value!r} has the wrong type (expected {_kind(KEYS[key])})"))
        elif key in ("states_include", "states_exclude"):
            problems += [(key, unknown("state code", code, STATES)) for code in value if code not in STATES]
        elif key in ("covind_min", "covind_above") and not 0 <= value <= 100:
            problems.append((key, f"{value} is outside 0-100 (COVIND is a percentage)"))
        elif key == "drop_states_losing_over" and not 0 <= value <= 1:
            problems.append((key, f"{value} is outside 0-1 (a share of a state's counties)"))
        elif key == "years" and not (len(value) == 2 and all(isinstance(y, int) and not isinstance(y, bool)
                                                             for y in value)
                                     and FIRST_YEAR <= value[0] <= value[1] <= LAST_YEAR):
            problems.append((key, f"{value!r} should be [first, last] with {FIRST_YEAR} <= first <= last <= {LAST_YEAR}"))
    if "covind_min" in rule and "covind_above" in rule:
        problems.append(("covind_above", "give either covind_min or covind_above, not both"))
    return problems


def _kind(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"int": "a number", "float": "a number", "str": "text", "bool": "true/false",
                        "list": "a list"}[k.__name__] for k in kinds[:1])


def read_samples(path: Path = SAMPLES) -> dict[str, dict]:
    """The named samples, validated: known keys of the right type, at most one COVIND rule.
    InputError names the file, the line and the offending key."""
    data, root = read_yaml(path, dict, "a mapping: sample name -> rules")
    for name_node, rule_node in root.value:
        name, rule = name_node.value, data[name_node.value]
        if not isinstance(rule, dict):
            raise InputError(path, "expected a mapping of rules", line=name_node.start_mark.line + 1,
                             field=name)
        lines = {k.value: k.start_mark.line + 1 for k, _ in rule_node.value}
        for key, message in rule_problems(rule):
            raise InputError(path, f"{message} in sample '{name}'", line=lines.get(key, name_node.start_mark.line + 1),
                             field=key)
    return data


def apply_sample(panel: pd.DataFrame, name: str, path: Path = SAMPLES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years of sample ``name`` and its sample-log rows (stage 'sample_<name>'); the rules
    are applied by :func:`apply_rules`."""
    samples = read_samples(path)
    if name not in samples:
        raise InputError(path, f"no sample named '{name}' (known: {', '.join(samples)})", field=name)
    return apply_rules(panel, samples[name], f"sample_{name}")


def apply_rules(panel: pd.DataFrame, rule: dict, stage: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years kept by the sample rules ``rule`` and one sample-log row per rule (``stage``).

    Order: years, states_include, states_exclude, drop_statewide_287g_states, drop_nyc_2001,
    drop_states_losing_over, the COVIND rule (per county-year, or per county with every_year),
    balanced (every year of the window: FIRST_YEAR..LAST_YEAR, or ``years``).
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
        df = log.drop(df, df["state_287g_statewide"], "drop_statewide_287g_states",
                      "States with a state-level 287(g) agreement (state police, DOC...).")
    if rule.get("drop_nyc_2001"):
        df = log.drop(df, df["nyc_2001"], "drop_nyc_2001",
                      "The five NYC counties in 2001: murders include the 11 September victims.")
    key = next((k for k in ("covind_min", "covind_above") if k in rule), None)
    if "drop_states_losing_over" in rule:
        share = rule["drop_states_losing_over"]
        losing = _states_losing(df, rule, key, last - first + 1)
        df = log.drop(df, df["state"].isin(losing[losing > share].index), f"drop_states_losing_over_{share:g}",
                      f"States losing more than {share:g} of their counties to this sample's COVIND/balance rules.")
    if key:
        bound, sign = rule[key], {"covind_min": ">=", "covind_above": ">"}[key]
        fails = df["covind"] < bound if key == "covind_min" else df["covind"] <= bound
        if rule.get("every_year"):
            df = log.drop(df, fails.groupby(df["fips"]).transform("any"), f"{key}_{bound:g}_every_year",
                          f"Counties without COVIND {sign} {bound:g} in every year.")
        else:
            df = log.drop(df, fails, f"{key}_{bound:g}", f"County-years without COVIND {sign} {bound:g}.")
    if rule.get("balanced"):
        years = df.groupby("fips")["year"].transform("nunique")
        df = log.drop(df, years < last - first + 1, "balanced", f"Counties not present in every year {first}-{last}.")
    return df.reset_index(drop=True), log.frame()


def _states_losing(df: pd.DataFrame, rule: dict, key: str | None, n_years: int = LAST_YEAR - FIRST_YEAR + 1
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
    counts = pd.DataFrame({"counties_panel": panel.groupby(["state_fips", "state"])["fips"].nunique(),
                           "counties_sample": sample.groupby(["state_fips", "state"])["fips"].nunique()})
    counts = counts.fillna(0).astype("int64").reset_index()
    counts["counties_lost"] = counts["counties_panel"] - counts["counties_sample"]
    counts["share_lost"] = (counts["counties_lost"] / counts["counties_panel"]).round(3)
    return counts.sort_values(["counties_lost", "state"], ascending=[False, True]).reset_index(drop=True)
