"""Named estimation samples: rules kept as data in analysis/samples.yaml, applied to the county panel.

A specification names its sample ('main', 'cov75', ...); apply_sample returns the county-years
kept and one sample-log row per rule, so every estimate can say what it dropped.
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
        "drop_states_losing_over": (int, float)}


def read_samples(path: Path = SAMPLES) -> dict[str, dict]:
    """The named samples, validated: known keys of the right type, at most one COVIND rule.
    InputError names the file, the line and the offending key."""
    data, root = read_yaml(path, dict, "a mapping: sample name -> rules")
    for name_node, rule_node in root.value:
        name, rule = name_node.value, data[name_node.value]
        if not isinstance(rule, dict):
            raise InputError(path, "expected a mapping of rules", line=name_node.start_mark.line + 1,
                             field=name)
        for key_node, _ in rule_node.value:
            key, line = key_node.value, key_node.start_mark.line + 1
            if key not in KEYS:
                raise InputError(path, f"unknown rule in sample '{name}' (known: {', '.join(KEYS)})",
                                 line=line, field=key)
            value = rule[key]
            if not isinstance(value, KEYS[key]) or (isinstance(value, bool) and KEYS[key] is not bool):
                raise InputError(path, f"{value!r} has the wrong type in sample '{name}'", line=line, field=key)
        if "covind_min" in rule and "covind_above" in rule:
            raise InputError(path, f"sample '{name}' gives both covind_min and covind_above",
                             line=name_node.start_mark.line + 1, field="covind_above")
    return data


def apply_sample(panel: pd.DataFrame, name: str, path: Path = SAMPLES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years of sample ``name`` and its sample-log rows (stage 'sample_<name>').

    Order: states_include, states_exclude, drop_statewide_287g_states, drop_nyc_2001,
    drop_states_losing_over, the COVIND rule (per county-year, or per county with every_year),
    balanced (all years FIRST_YEAR..LAST_YEAR).
    """
    samples = read_samples(path)
    if name not in samples:
        raise InputError(path, f"no sample named '{name}' (known: {', '.join(samples)})", field=name)
    rule, df = samples[name], panel
    log = RuleLog(f"sample_{name}", "county-year", units="fips")
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
        losing = _states_losing(df, rule, key)
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
        df = log.drop(df, years < LAST_YEAR - FIRST_YEAR + 1, "balanced",
                      f"Counties not present in every year {FIRST_YEAR}-{LAST_YEAR}.")
    return df.reset_index(drop=True), log.frame()


def _states_losing(df: pd.DataFrame, rule: dict, key: str | None) -> pd.Series:
    """Per state, the share of its counties that would lose at least one year to the COVIND rule
    (or, with balanced, not be present in every year): the 'coverage holes' of a state."""
    fails = pd.Series(False, index=df.index)
    if key:
        fails = df["covind"] < rule[key] if key == "covind_min" else df["covind"] <= rule[key]
    county_fails = fails.groupby(df["fips"]).any()
    if rule.get("balanced"):
        county_fails |= df.groupby("fips")["year"].nunique() < LAST_YEAR - FIRST_YEAR + 1
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
