"""County timing of the 2025-2026 287(g) wave, from ICE's monthly participating-agency lists.

Source: the 68 ICE lists 2021-01 .. 2026-05 (analysis.readers.ice_lists: one row per agency x
support type per list), placed in 2010 Census counties (census/national_county.txt) and, where
ICE prints no county, by name in the UCR agency crosswalk (ucr/jacobkap-crime_data/crosswalk.rds).

The rules are data: wave_287g_rules.yaml fixes their order, parameters and reasons;
wave_287g_fixes.csv corrects agencies one by one (fields state, same_as, level, fips) and
wave_287g_county_names.csv reads misspelt printed counties, each row with its reason.
:func:`build_wave` applies them to tables in memory (so tests can hand-build lists) and returns
one row per agreement, one row per county and the log of every rule's effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import DATA_RAW, WAVE_COUNTY_NAMES, WAVE_FIXES, WAVE_RULES
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.readers.agreements_287g import agency_level, read_crosswalk
from analysis.readers.fips_recodes import read_recodes, successor
from analysis.readers.ice_lists import FOLDER as LISTS_FOLDER
from analysis.readers.ice_lists import clean_ice_lists
from analysis.readers.places import county_part, normalise_agency, read_counties, read_states
from analysis.rulelog import RuleLog

# The rules, in the order they are applied; the YAML must list exactly these, in this order.
RULES = [
    "outside_states",
    "state_fixes",
    "normalise_names",
    "same_as_fixes",
    "duplicate_rows",
    "level_latest_type",
    "level_fixes",
    "level_from_name",
    "county_printed",
    "carry_latest_county",
    "county_agency_by_name",
    "crosswalk_by_name",
    "fips_fixes",
    "unplaced",
    "state_agencies",
    "gaps",
    "left_censored",
    "intent_to_treat",
]
PARAMS = {
    "outside_states": {"territories": list},
    "crosswalk_by_name": {"exclude_agency_types": list},
    "gaps": {"date_to": str},
}
DATE_TO = ("first_list", "after_previous_list")
FIX_COLUMNS = ["state", "agency", "field", "value", "reason"]
FIX_FIELDS = ("state", "same_as", "level", "fips")
NAME_COLUMNS = ["state", "printed", "fips", "reason"]
LEVELS = {"County": "county", "Municipality": "municipal", "State Agency": "state"}
LOCAL = ("county", "municipal")
MODELS = ("JEM", "TFM", "WSO")
LOG_EXTRA = [
    "agencies_changed",
    "counties_before",
    "counties_after",
    "wave_counties_before",
    "wave_counties_after",
    "counties_redated",
    "counties_flagged",
]


# ---- the committed rule files -------------------------------------------------------------------


@dataclass
class Rules:
    """The rules file: wave start, and per rule whether it applies, its reason and parameters."""

    wave_start: pd.Timestamp
    wave_start_reason: str
    steps: dict[str, dict] = field(default_factory=dict)  # rule -> {apply, reason, **params}

    def on(self, rule: str) -> bool:
        return self.steps[rule]["apply"]


def read_rules(path: Path = WAVE_RULES) -> Rules:
    """wave_287g_rules.yaml, validated: every rule of RULES once and in order, a reason each,
    known parameters of the right type; InputError names the file and line otherwise."""
    data, root = read_yaml(path, dict, "a mapping with wave_start, wave_start_reason and rules")
    top = {k.value: v for k, v in root.value}
    for key in ("wave_start", "wave_start_reason", "rules"):
        if key not in data:
            raise InputError(path, f"no '{key}'", line=1, field=key)
    try:
        start = pd.Timestamp(str(data["wave_start"]))
    except ValueError:
        raise InputError(
            path,
            f"{data['wave_start']!r} is not a date",
            line=top["wave_start"].start_mark.line + 1,
            field="wave_start",
        ) from None
    items, nodes = data["rules"], top["rules"]
    if not isinstance(items, list):
        raise InputError(path, "rules must be a list", line=nodes.start_mark.line + 1, field="rules")
    steps = {}
    for i, (item, node) in enumerate(zip(items, nodes.value)):
        line = node.start_mark.line + 1
        if not isinstance(item, dict) or "rule" not in item:
            raise InputError(path, "each entry needs a 'rule'", line=line, field="rule")
        name = item["rule"]
        expected = RULES[i] if i < len(RULES) else None
        if name != expected:
            what = f"unknown rule {name!r}" if name not in RULES else f"rule {name!r} out of order or repeated"
            raise InputError(
                path, f"{what}: expected {expected!r} here (rules: {', '.join(RULES)})", line=line, field="rule"
            )
        if not str(item.get("reason") or "").strip():
            raise InputError(path, f"rule {name!r} has no reason", line=line, field="reason")
        apply = item.get("apply", True)
        if not isinstance(apply, bool):
            raise InputError(path, f"rule {name!r}: apply must be true or false", line=line, field="apply")
        allowed = PARAMS.get(name, {})
        for key in set(item) - {"rule", "reason", "apply"}:
            if key not in allowed:
                raise InputError(path, f"rule {name!r} takes no parameter {key!r}", line=line, field=key)
        for key, kind in allowed.items():
            if not isinstance(item.get(key), kind):
                raise InputError(path, f"rule {name!r} needs {key} ({kind.__name__})", line=line, field=key)
        if name == "gaps" and item["date_to"] not in DATE_TO:
            raise InputError(path, f"date_to must be one of {DATE_TO}", line=line, field="date_to")
        steps[name] = {**item, "apply": apply, "reason": " ".join(str(item["reason"]).split())}
    if len(steps) != len(RULES):
        missing = RULES[len(steps)]
        raise InputError(
            path, f"rule {missing!r} is missing (rules: {', '.join(RULES)})", line=nodes.end_mark.line + 1, field="rule"
        )
    return Rules(start, " ".join(str(data["wave_start_reason"]).split()), steps)


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    """A committed CSV as text, every column present and every cell filled; ``line`` added."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(path, "missing column", line=1, field=missing[0])
    df = df[columns].apply(lambda s: s.str.strip())
    for column in columns:
        empty = df[column] == ""
        if empty.any():
            raise InputError(path, "is empty", line=int(empty.to_numpy().argmax()) + 2, field=column)
    return df.assign(line=np.arange(len(df)) + 2)


def read_fixes(path: Path = WAVE_FIXES) -> pd.DataFrame:
    """wave_287g_fixes.csv (state, agency, field, value, reason): field one of FIX_FIELDS; a level
    is county/municipal/state; fips one or more 5-digit codes separated by ';'. Whether each
    agency and value exist in the lists is checked when the fixes are applied."""
    df = _read_csv(path, FIX_COLUMNS)
    checks = [
        ("field", df["field"].isin(FIX_FIELDS), f"one of {', '.join(FIX_FIELDS)}"),
        ("value", (df["field"] != "level") | df["value"].isin(LEVELS.values()), "county, municipal or state"),
        (
            "value",
            (df["field"] != "fips") | df["value"].str.fullmatch(r"\d{5}(;\d{5})*"),
            "5-digit FIPS codes separated by ';'",
        ),
        ("state", df["state"].str.fullmatch(r"[A-Z. ]+"), "a state name in capitals, as ICE prints it"),
    ]
    for column, ok, what in checks:
        if not ok.all():
            i = int((~ok.to_numpy()).argmax())
            raise InputError(path, f"{df[column].iloc[i]!r} is not {what}", line=i + 2, field=column)
    twice = df.duplicated(["state", "agency", "field"])
    if twice.any():
        i = int(twice.to_numpy().argmax())
        raise InputError(path, "a second fix of the same field for this agency", line=i + 2, field="agency")
    return df


def read_county_names(path: Path = WAVE_COUNTY_NAMES) -> pd.DataFrame:
    """wave_287g_county_names.csv (state, printed, fips, reason): how to read a printed COUNTY."""
    df = _read_csv(path, NAME_COLUMNS)
    ok = df["fips"].str.fullmatch(r"\d{5}")
    if not ok.all():
        i = int((~ok.to_numpy()).argmax())
        raise InputError(path, f"{df['fips'].iloc[i]!r} is not a 5-digit FIPS code", line=i + 2, field="fips")
    return df


# ---- places ----------------------------------------------------------------------------------------


def county_key(name: str) -> str:
    """A matching key for a county name: normalised, 'Saint' as 'st', no spaces
    ("St. Mary's County" -> 'stmaryscounty', 'De Kalb' and 'DeKalb' alike)."""
    return re.sub(r"\bsaint\b", "st", normalise_agency(name)).replace(" ", "")


def _key_variants(printed: str) -> list[str]:
    """The keys tried for a printed county: as printed, with 'county' or 'parish' added, and a
    Louisiana-style 'X County' as 'X Parish'."""
    key = county_key(printed)
    out = [key, key + "county", key + "parish"]
    if key.endswith("county"):
        out.append(key[: -len("county")] + "parish")
    return out


@dataclass
class Places:
    """Lookups: counties by (usps, county key), county names fixes, crosswalk by (usps, agency key)."""

    counties: pd.DataFrame
    by_key: dict
    names: dict
    crosswalk: dict

    def printed_fips(self, usps: str, printed: str) -> str | None:
        """The county FIPS of a printed COUNTY in state ``usps``, or None if it cannot be read."""
        for key in _key_variants(printed):
            if (usps, key) in self.by_key:
                return self.by_key[(usps, key)]
        return self.names.get((usps, " ".join(printed.split()).lower()))


def _places(
    counties: pd.DataFrame,
    states: pd.DataFrame,
    crosswalk: pd.DataFrame,
    county_names: pd.DataFrame,
    path: Path = WAVE_COUNTY_NAMES,
    exclude_types=(),
) -> Places:
    """Build the lookups; a county-name row whose state or FIPS is not a county of that state raises."""
    counties = counties[counties["state_fips"].isin(states["state_fips"])]
    by_key = {(s, county_key(n)): f for s, n, f in zip(counties["state"], counties["county_name"], counties["fips"])}
    usps = states.set_index("state_name")["state"]
    names = {}
    for row in county_names.itertuples():
        if row.state not in usps.index:
            raise InputError(path, f"{row.state!r} is not a state name", line=row.line, field="state")
        if row.fips not in set(counties.loc[counties["state"] == usps[row.state], "fips"]):
            raise InputError(path, f"{row.fips} is not a county of {row.state}", line=row.line, field="fips")
        names[(usps[row.state], " ".join(row.printed.split()).lower())] = row.fips
    cw = crosswalk[~crosswalk["agency_type"].isin(list(exclude_types))]
    state_of = states.set_index("state_fips")["state"]
    cw = pd.DataFrame(
        {
            "state": cw["fips_state_code"].map(state_of),
            "fips": cw["fips_state_county_code"],
            "name": cw["crosswalk_agency_name"],
        }
    ).dropna()
    cw["key"] = [normalise_agency(n, s, "") for n, s in zip(cw["name"], cw["state"])]
    lookup = cw.drop_duplicates(["state", "key", "fips"]).groupby(["state", "key"])["fips"].agg(tuple).to_dict()
    return Places(counties, by_key, names, lookup)


# ---- the log --------------------------------------------------------------------------------------


def county_starts(rows: pd.DataFrame) -> pd.Series:
    """Per county (fips) the earliest ``start`` of its placed local rows (a row with several
    counties, 'a;b', counts in each)."""
    local = rows.loc[rows["level"].isin(LOCAL) & rows["fips"].notna(), ["fips", "start"]]
    parts = [f.split(";") for f in local["fips"]]
    if not parts:
        return pd.Series(dtype="datetime64[ns]")
    starts = np.repeat(local["start"].to_numpy(), [len(p) for p in parts])
    return pd.Series(starts, index=np.concatenate(parts)).groupby(level=0).min().rename_axis("fips")


def _starts_or_none(rows: pd.DataFrame) -> pd.Series:
    """county_starts, or an empty series before levels and counties exist."""
    if {"level", "fips"} <= set(rows.columns):
        return county_starts(rows)
    return pd.Series(dtype="datetime64[ns]")


class WaveLog:
    """A RuleLog (unit: agreement) plus each rule's effect on agencies and counties."""

    def __init__(self, wave_start: pd.Timestamp):
        self.log = RuleLog("wave_287g", "agreement", units="agreement_id")
        self.wave_start, self.extra = wave_start, []

    def step(self, before: pd.DataFrame, after: pd.DataFrame, rule: str, reason: str, flagged: int = 0) -> pd.DataFrame:
        """Record ``rule`` (before -> after); return ``after``. agencies_changed counts agencies
        whose identity, level or county differs on a row kept by the rule."""
        common = before.index.intersection(after.index)
        changed = np.zeros(len(common), dtype=bool)
        for column in ["agency_id", "level", "fips"]:
            if column in before and column in after:
                a, b = before.loc[common, column], after.loc[common, column]
                changed |= ~((a == b).fillna(False) | (a.isna() & b.isna())).to_numpy()
        ids = after.loc[common, "agency_id"] if "agency_id" in after else after.loc[common, "agreement_id"]
        s0, s1 = _starts_or_none(before), _starts_or_none(after)
        both = s0.index.intersection(s1.index)
        redated = int((s0[both].dt.to_period("M") != s1[both].dt.to_period("M")).sum())
        self.extra.append(
            dict(
                agencies_changed=int(ids[changed].nunique()),
                counties_before=len(s0),
                counties_after=len(s1),
                wave_counties_before=int((s0 >= self.wave_start).sum()),
                wave_counties_after=int((s1 >= self.wave_start).sum()),
                counties_redated=redated,
                counties_flagged=int(flagged),
            )
        )
        return self.log.record(before, after, rule, reason)

    def frame(self) -> pd.DataFrame:
        return pd.concat([self.log.frame(), pd.DataFrame(self.extra, columns=LOG_EXTRA)], axis=1)


# ---- the rules ---------------------------------------------------------------------------------------


def _row_error(row: pd.Series, message: str, field: str) -> InputError:
    """An InputError at a list row: its file, line and the sheet's column name."""
    return InputError(LISTS_FOLDER / row["file"], message, line=int(row["line"]), field=field)


def _agency_mask(rows: pd.DataFrame, fix, fixes_path: Path, column: str = "agency") -> pd.Series:
    """Rows printed with the fix's agency (or value, with ``column='value'``) in the fix's state."""
    name = getattr(fix, column)
    mask = (rows["state"] == fix.state) & (rows["agency"] == name)
    if not mask.any():
        raise InputError(fixes_path, f"no agency {name!r} under {fix.state} in any list", line=fix.line, field=column)
    return mask


def _ids(rows: pd.DataFrame) -> pd.DataFrame:
    """agreement_id from the current agency_id (or, before names are normalised, the printed name)."""
    agency = rows["agency_id"] if "agency_id" in rows else rows["state"] + ":" + rows["agency"]
    return rows.assign(agreement_id=agency + "|" + rows["support_type"])


def _latest(rows: pd.DataFrame, value: str, by: str = "agency_id") -> pd.Series:
    """Per ``by``: the ``value`` of its latest row (list date, then line) where it is not NA."""
    have = rows[rows[value].notna()].sort_values(["list_date", "line"])
    return have.groupby(by)[value].last()


@dataclass
class _Context:
    """What the rule stages share: the rules, fixes and lookups, the log, and the files to name in errors."""

    rules: Rules
    fixes: pd.DataFrame
    places: Places
    usps_of: pd.Series
    log: WaveLog
    fixes_path: Path
    names_path: Path

    def step(self, before: pd.DataFrame, after: pd.DataFrame, rule: str, flagged: int = 0) -> pd.DataFrame:
        return self.log.step(before, after, rule, self.rules.steps[rule]["reason"], flagged)

    def on(self, rule: str) -> bool:
        return self.rules.on(rule)

    def fixes_of(self, field: str):
        return self.fixes[self.fixes["field"] == field].itertuples()

    def agency_of(self, rows: pd.DataFrame, fix) -> str:
        """agency_id of the agency a fix names (after the identity rules)."""
        return rows.loc[_agency_mask(rows, fix, self.fixes_path), "agency_id"].iloc[0]


def build_wave(
    lists: pd.DataFrame,
    counties: pd.DataFrame,
    states: pd.DataFrame,
    crosswalk: pd.DataFrame,
    rules: Rules,
    fixes: pd.DataFrame,
    county_names: pd.DataFrame,
    recodes: pd.DataFrame | None = None,
    fixes_path: Path = WAVE_FIXES,
    names_path: Path = WAVE_COUNTY_NAMES,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(agreements, timing, log) from the long table of ICE lists, by the rules in order.

    agreements: one row per agreement (agency x model), every level, placed or not.
    timing: one row per county of the 50 states and DC (census/national_county.txt), adopting or
    not: first month of a local agreement overall, by agency level and by model, the first month
    of a state agency in its state, and flags (left_censored, wave_adopter, after_gap, exited).
    log: one row per rule (RuleLog schema plus LOG_EXTRA).
    """
    places = _places(
        counties, states, crosswalk, county_names, names_path, rules.steps["crosswalk_by_name"]["exclude_agency_types"]
    )
    ctx = _Context(
        rules, fixes, places, states.set_index("state_name")["state"], WaveLog(rules.wave_start), fixes_path, names_path
    )
    rows = lists.reset_index(drop=True).copy()
    for column in ["state", "agency", "type", "county", "support_type", "file"]:
        rows[column] = rows[column].astype("object").where(rows[column].notna(), None)
    rows = _ids(rows.assign(start=rows["list_date"]))
    rows = _identity(rows, ctx)
    rows = _levels(rows, ctx)
    rows = _counties(rows, ctx)
    all_rows = rows.copy()
    rows, state_rows = _local_only(rows, ctx)
    rows, state_rows, all_rows = _dating(rows, state_rows, all_rows, lists["list_date"], ctx)
    first_list, last_list = lists["list_date"].min(), lists["list_date"].max()
    agreements = _agreements(all_rows, rows, first_list, last_list, rules)
    timing = _timing(rows, state_rows, places.counties, states, lists["list_date"], rules, recodes)
    return agreements, timing, ctx.log.frame()


def _identity(rows: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Rules 1-5: territories out, state fixes, normalised names, same_as fixes, duplicate rows."""
    # 1. outside_states
    territories = set(ctx.rules.steps["outside_states"]["territories"])
    unknown = ~rows["state"].isin(set(ctx.usps_of.index) | territories)
    if unknown.any():
        raise _row_error(
            rows[unknown].iloc[0],
            f"{rows.loc[unknown, 'state'].iloc[0]!r} is not a U.S. state, "
            "DC or a territory named in the rules' outside_states",
            "STATE",
        )
    rows = ctx.step(
        rows, rows[~rows["state"].isin(territories)] if ctx.on("outside_states") else rows, "outside_states"
    )

    # 2. state_fixes
    after = rows.copy()
    for fix in ctx.fixes_of("state"):
        if fix.value not in ctx.usps_of.index:
            raise InputError(ctx.fixes_path, f"{fix.value!r} is not a state name", line=fix.line, field="value")
        if ctx.on("state_fixes"):
            after.loc[_agency_mask(rows, fix, ctx.fixes_path), "state"] = fix.value
    rows = ctx.step(rows, _ids(after), "state_fixes")
    rows["usps"] = rows["state"].map(ctx.usps_of).fillna("??")  # '??': a territory kept with outside_states off

    # 3. normalise_names: agency_id 'ST:normalised-name' (or 'ST:name as printed' when off)
    def key(agency, usps, state):
        return normalise_agency(agency, usps, state) if ctx.on("normalise_names") else " ".join(agency.lower().split())

    rows["key"] = [key(a, u, s) for a, u, s in zip(rows["agency"], rows["usps"], rows["state"])]
    after = rows.assign(agency_id=rows["usps"] + ":" + rows["key"].str.replace(" ", "-"))
    rows = ctx.step(rows, _ids(after), "normalise_names")

    # 4. same_as_fixes: both names must be printed in the lists, and the target not renamed itself
    alias = {}
    for fix in ctx.fixes_of("same_as"):
        src = rows.loc[_agency_mask(rows, fix, ctx.fixes_path), "agency_id"].iloc[0]
        dst = rows.loc[_agency_mask(rows, fix, ctx.fixes_path, "value"), "agency_id"].iloc[0]
        if src == dst:
            raise InputError(
                ctx.fixes_path,
                "the two names are already one agency: the fix does nothing",
                line=fix.line,
                field="value",
            )
        alias[src] = (dst, fix)
    for _src, (dst, fix) in alias.items():
        if dst in alias:
            raise InputError(
                ctx.fixes_path,
                f"{fix.value!r} is itself renamed by another same_as fix: point both to the final name",
                line=fix.line,
                field="value",
            )
    after = (
        rows.assign(agency_id=rows["agency_id"].map(lambda a: alias[a][0] if a in alias else a))
        if ctx.on("same_as_fixes")
        else rows
    )
    rows = ctx.step(rows, _ids(after), "same_as_fixes")

    # 5. duplicate_rows
    dup = rows.duplicated(["file", "agreement_id"]) & ctx.on("duplicate_rows")
    return ctx.step(rows, rows[~dup], "duplicate_rows")


def _levels(rows: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Rules 6-8: the latest TYPE, level fixes, then the name for agencies never typed."""
    rows["level"] = None
    latest_type = _latest(rows, "type")
    after = (
        rows.assign(level=rows["agency_id"].map(latest_type).map(LEVELS))
        if ctx.on("level_latest_type")
        else rows.assign(level=rows["type"].map(LEVELS))
    )
    rows = ctx.step(rows, after, "level_latest_type")
    after = rows.copy()
    for fix in ctx.fixes_of("level"):
        target = ctx.agency_of(rows, fix)
        if rows.loc[rows["agency_id"] == target, "level"].eq(fix.value).all():
            raise InputError(
                ctx.fixes_path,
                f"{fix.agency!r} already has level {fix.value}: the fix does nothing",
                line=fix.line,
                field="value",
            )
        if ctx.on("level_fixes"):
            after.loc[after["agency_id"] == target, "level"] = fix.value
    rows = ctx.step(rows, after, "level_fixes")
    after = rows.copy()
    untyped = after["level"].isna()
    if untyped.any():
        if not ctx.on("level_from_name"):
            raise _row_error(after[untyped].iloc[0], "no TYPE and level_from_name is off", "TYPE")
        names = after.loc[untyped].sort_values(["list_date", "line"]).groupby("agency_id").last()
        guessed = {a: agency_level(row["agency"], None) for a, row in names.iterrows()}
        bad = [a for a, level in guessed.items() if level is None]
        if bad:
            row = names.loc[bad[0]]
            raise _row_error(
                row,
                f"{row['agency']!r} has no TYPE in any list and its level cannot be told from "
                f"its name: add a 'level' row to {ctx.fixes_path.name}",
                "LAW ENFORCEMENT AGENCY",
            )
        after.loc[untyped, "level"] = after.loc[untyped, "agency_id"].map(guessed)
    return ctx.step(rows, after, "level_from_name")


def _assign(df: pd.DataFrame, fips_by_agency: dict | pd.Series, how: str) -> pd.DataFrame:
    """Every local row of each agency in ``fips_by_agency`` gets that county; placed_by names the
    rule on the rows whose county it sets or changes."""
    fips_by_agency = pd.Series(fips_by_agency, dtype="object")
    hit = df["agency_id"].isin(fips_by_agency.index) & df["level"].isin(LOCAL)
    new = df.loc[hit, "agency_id"].map(fips_by_agency)
    changed = new.index[new.ne(df.loc[hit, "fips"]).to_numpy()]
    df.loc[changed, "fips"] = new[changed]
    df.loc[changed, "placed_by"] = how
    return df


def _crosswalk_matches(rows: pd.DataFrame, places: Places) -> pd.Series:
    """Per local agency, the one county of the crosswalk agency of the same normalised name, when
    every spelling of the agency that matches points to that single county."""
    spellings = rows[rows["level"].isin(LOCAL)].drop_duplicates(["agency_id", "key"])
    matches = {}
    for agency, grp in spellings.groupby("agency_id"):
        hits = {places.crosswalk.get((u, normalise_agency(n, u, ""))) for u, n in zip(grp["usps"], grp["agency"])}
        hits.discard(None)
        if len(hits) == 1 and len(next(iter(hits))) == 1:
            matches[agency] = next(iter(hits))[0]
    return pd.Series(matches, dtype="object")


def _counties(rows: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Rules 9-13: printed county, carried to all the agency's lists, county agencies by name,
    the crosswalk for agencies still unplaced, committed placements."""
    places = ctx.places
    # 9. county_printed (row by row)
    rows["fips"], rows["placed_by"] = None, None
    local = rows["level"].isin(LOCAL) & rows["county"].notna()
    found = pd.Series(
        [places.printed_fips(u, c) for u, c in zip(rows.loc[local, "usps"], rows.loc[local, "county"])],
        index=rows.index[local],
        dtype="object",
    )
    rows["county_unread"] = False
    rows.loc[found.index, "county_unread"] = found.isna()
    after = rows.copy()
    if ctx.on("county_printed"):
        after.loc[found.index, "fips"] = found
        after.loc[found.dropna().index, "placed_by"] = "county_printed"
    rows = ctx.step(rows, after, "county_printed")
    printed_fips = _latest(rows[rows["placed_by"] == "county_printed"], "fips")

    # 10. carry_latest_county
    after = _assign(rows.copy(), printed_fips, "carry_latest_county") if ctx.on("carry_latest_county") else rows
    rows = ctx.step(rows, after, "carry_latest_county")

    # 11. county_agency_by_name
    named = rows[rows["level"] == "county"].assign(part=lambda d: d["agency"].map(county_part))
    named["by_name"] = [
        places.by_key.get((u, county_key(p))) if p else None for u, p in zip(named["usps"], named["part"])
    ]
    by_name = _latest(named, "by_name")
    after = _assign(rows.copy(), by_name, "county_agency_by_name") if ctx.on("county_agency_by_name") else rows
    rows = ctx.step(rows, after, "county_agency_by_name")

    # 12. crosswalk_by_name, for agencies with no county on any row
    crosswalk_fips = _crosswalk_matches(rows, places)
    unplaced = rows.groupby("agency_id")["fips"].apply(lambda f: f.isna().all())
    todo = crosswalk_fips[crosswalk_fips.index.isin(unplaced[unplaced].index)]
    after = _assign(rows.copy(), todo, "crosswalk_by_name") if ctx.on("crosswalk_by_name") else rows
    rows = ctx.step(rows, after, "crosswalk_by_name")
    rows["crosswalk_fips"] = rows["agency_id"].map(crosswalk_fips)
    rows["printed_fips"] = rows["agency_id"].map(printed_fips)

    # 13. fips_fixes: counties of the agency's state, a local agency, and a change
    after = rows.copy()
    for fix in ctx.fixes_of("fips"):
        target = ctx.agency_of(rows, fix)
        own = rows["agency_id"] == target
        in_state = set(places.counties.loc[places.counties["state"] == rows.loc[own, "usps"].iloc[0], "fips"])
        for code in fix.value.split(";"):
            if code not in in_state:
                raise InputError(ctx.fixes_path, f"{code} is not a county of {fix.state}", line=fix.line, field="value")
        if not rows.loc[own, "level"].isin(LOCAL).all():
            raise InputError(
                ctx.fixes_path,
                f"{fix.agency!r} is a state agency: add a level fix first to place it",
                line=fix.line,
                field="agency",
            )
        if rows.loc[own, "fips"].eq(fix.value).all():
            raise InputError(
                ctx.fixes_path,
                f"the other rules already place {fix.agency!r} in {fix.value}: the fix does nothing",
                line=fix.line,
                field="value",
            )
        if ctx.on("fips_fixes"):
            after = _assign(after, {target: fix.value}, "fips_fixes")
    return ctx.step(rows, after, "fips_fixes")


def _local_only(rows: pd.DataFrame, ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rules 14-15: unplaced local agencies and state agencies leave the county timing; (local
    placed rows, state-agency rows). A local agency left without a county whose printed county
    could not be read stops the build: its spelling belongs in the county-names file."""
    lost = rows["level"].isin(LOCAL) & rows["fips"].isna()
    unread = rows[lost & rows["county_unread"]]
    if len(unread):
        row = unread.iloc[0]
        raise _row_error(
            row,
            f"{row['county']!r} is not a county of {row['state']}: add it to "
            f"{ctx.names_path.name} or place {row['agency']!r} with a fips row in {ctx.fixes_path.name}",
            "COUNTY",
        )
    rows = ctx.step(rows, rows[~lost] if ctx.on("unplaced") else rows, "unplaced")
    state_rows = rows[rows["level"] == "state"]
    return ctx.step(
        rows, rows[rows["level"] != "state"] if ctx.on("state_agencies") else rows, "state_agencies"
    ), state_rows


def _dating(
    rows: pd.DataFrame, state_rows: pd.DataFrame, all_rows: pd.DataFrame, list_dates: pd.Series, ctx: _Context
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rules 16-18: the date each row's agreement is dated to (gaps), and the flags left_censored and
    intent_to_treat (counted in the log; set in the tables)."""
    gap_after, gap_start = gap_dates(list_dates, ctx.rules.steps["gaps"]["date_to"] if ctx.on("gaps") else "first_list")

    def dated(df):
        return df.assign(after_gap=df["list_date"].map(gap_after).astype(bool), start=df["list_date"].map(gap_start))

    after, state_rows, all_rows = dated(rows), dated(state_rows), dated(all_rows)
    starts = county_starts(after)
    rows = ctx.step(rows, after, "gaps", flagged=_first_rows(after, starts).groupby("fips")["after_gap"].any().sum())
    left = county_starts(rows[rows["list_date"] == list_dates.min()])
    rows = ctx.step(rows, rows, "left_censored", flagged=len(left) if ctx.on("left_censored") else 0)
    latest = county_starts(rows[rows["list_date"] == list_dates.max()])
    exited = starts.index.difference(latest.index)
    rows = ctx.step(rows, rows, "intent_to_treat", flagged=len(exited) if ctx.on("intent_to_treat") else 0)
    return rows, state_rows, all_rows


def gap_dates(list_dates: pd.Series, date_to: str = "first_list") -> tuple[dict, dict]:
    """Per list date: whether it follows a calendar month with no list (after_gap), and the date an
    agreement first seen in it is dated to: the list date itself (date_to 'first_list'), or after
    a gap the first day of the month after the previous list ('after_previous_list')."""
    dates = sorted(pd.Series(list_dates).drop_duplicates())
    after_gap, start = {dates[0]: False}, {dates[0]: dates[0]}
    for prev, date in zip(dates[:-1], dates[1:]):
        gap_months = (date.to_period("M") - prev.to_period("M")).n - 1
        after_gap[date] = gap_months > 0
        start[date] = (
            (prev.to_period("M") + 1).to_timestamp() if gap_months > 0 and date_to == "after_previous_list" else date
        )
    return after_gap, start


LIST_COLUMNS = ["list_date", "file", "month", "rows", "states", "lists_in_month", "after_gap", "dated_to"]


def list_summary(lists: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per list: date, file, month, rows (agreements as printed), states, how many lists
    fall in its month, whether it follows a month without a list, and the date an agreement first
    seen in it is dated to (rule gaps)."""
    g = lists.groupby(["list_date", "file"])
    out = pd.DataFrame({"rows": g.size(), "states": g["state"].nunique()}).reset_index()
    out["month"] = out["list_date"].dt.to_period("M").dt.to_timestamp()
    out["lists_in_month"] = out.groupby("month")["file"].transform("size")
    after_gap, start = gap_dates(out["list_date"], rules.steps["gaps"]["date_to"] if rules.on("gaps") else "first_list")
    out["after_gap"] = out["list_date"].map(after_gap).astype(bool)
    out["dated_to"] = out["list_date"].map(start)
    return out[LIST_COLUMNS]


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key (NA where absent), keeping the values' dtype even when empty."""
    return values.reindex(keys.to_numpy()).set_axis(keys.index)


def _first_rows(rows: pd.DataFrame, starts: pd.Series) -> pd.DataFrame:
    """The placed local rows that date each county (exploded by county)."""
    local = rows[rows["level"].isin(LOCAL) & rows["fips"].notna()]
    ex = local.assign(fips=local["fips"].str.split(";")).explode("fips")
    return ex[ex["start"] == _lookup(ex["fips"], starts)]


AGREEMENT_COLUMNS = [
    "agreement_id",
    "agency_id",
    "agency",
    "state",
    "level",
    "model",
    "fips",
    "placed_by",
    "printed_fips",
    "crosswalk_fips",
    "first_list_date",
    "first_month",
    "last_list_date",
    "n_lists",
    "in_latest_list",
    "first_signed",
    "left_censored",
    "wave",
    "after_gap",
    "in_timing",
]


def _month(dates: pd.Series) -> pd.Series:
    """The first day of each date's month (NaT stays NaT)."""
    return pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp()


def _agreements(
    all_rows: pd.DataFrame, kept: pd.DataFrame, first_list: pd.Timestamp, last_list: pd.Timestamp, R: Rules
) -> pd.DataFrame:
    """One row per agreement: identity, level, model, county, first and last list, flags."""
    rows = all_rows.sort_values(["list_date", "line"])
    g = rows.groupby("agreement_id")
    out = pd.DataFrame(
        {
            "agency_id": g["agency_id"].last(),
            "agency": g["agency"].last(),
            "state": g["usps"].last(),
            "level": g["level"].last(),
            "model": g["support_type"].last(),
            "fips": g["fips"].last(),
            "placed_by": g["placed_by"].last(),
            "printed_fips": g["printed_fips"].last(),
            "crosswalk_fips": g["crosswalk_fips"].last(),
            "first_list_date": g["list_date"].min(),
            "last_list_date": g["list_date"].max(),
            "n_lists": g["list_date"].nunique(),
            "first_signed": g["signed"].min(),
        }
    )
    out["first_month"] = _month(g["start"].first())
    out["in_latest_list"] = out["last_list_date"] == last_list
    out["left_censored"] = out["first_list_date"] == first_list
    out["wave"] = out["first_list_date"] >= R.wave_start
    out["after_gap"] = g["after_gap"].first().astype(bool)
    out["in_timing"] = out.index.isin(kept["agreement_id"])
    out = out.reset_index().sort_values(["state", "agency_id", "model"]).reset_index(drop=True)
    return out[AGREEMENT_COLUMNS].astype(
        {
            "agreement_id": "string",
            "agency_id": "string",
            "agency": "string",
            "state": "string",
            "level": "string",
            "model": "string",
            "fips": "string",
            "placed_by": "string",
            "printed_fips": "string",
            "crosswalk_fips": "string",
        }
    )


TIMING_COLUMNS = [
    "fips",
    "panel_fips",
    "state_fips",
    "state",
    "county_name",
    "adopted",
    "first_list_date",
    "first_month",
    "first_year",
    "first_month_county_agency",
    "first_month_municipal",
    "first_month_jem",
    "first_month_tfm",
    "first_month_wso",
    "first_month_state_agency",
    "first_month_new_in_wave",
    "first_signed",
    "left_censored",
    "active_at_wave_start",
    "wave_adopter",
    "after_gap",
    "in_latest_list",
    "exited",
    "n_agencies",
    "n_agreements",
]


def _timing(
    rows: pd.DataFrame,
    state_rows: pd.DataFrame,
    counties: pd.DataFrame,
    states: pd.DataFrame,
    list_dates: pd.Series,
    R: Rules,
    recodes: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per county of the 50 states and DC: first months by level and model, and flags."""
    first_list, last_list = list_dates.min(), list_dates.max()
    last_before_wave = list_dates[list_dates < R.wave_start].max()
    ex = rows.assign(fips=rows["fips"].str.split(";")).explode("fips")
    out = counties[counties["state_fips"].isin(states["state_fips"])][["fips", "state_fips", "state", "county_name"]]
    out = out.sort_values("fips").set_index("fips")
    g = ex.groupby("fips")
    start = g["start"].min()
    out["first_list_date"] = g["list_date"].min()
    out["first_month"] = _month(start.reindex(out.index))
    out["adopted"] = out["first_month"].notna()
    out["first_year"] = out["first_month"].dt.year.astype("Int64")
    for column, mask in [
        ("county_agency", ex["level"] == "county"),
        ("municipal", ex["level"] == "municipal"),
        *[(m.lower(), ex["support_type"] == m) for m in MODELS],
    ]:
        out[f"first_month_{column}"] = _month(ex[mask].groupby("fips")["start"].min().reindex(out.index))
    by_state = state_rows.groupby("usps")["start"].min()
    out["first_month_state_agency"] = _month(out["state"].map(by_state.to_dict()))
    new_in_wave = ex.groupby("agreement_id")["list_date"].transform("min") >= R.wave_start
    out["first_month_new_in_wave"] = _month(ex[new_in_wave].groupby("fips")["start"].min().reindex(out.index))
    out["first_signed"] = g["signed"].min()
    out["active_at_wave_start"] = out.index.isin(ex.loc[ex["list_date"] == last_before_wave, "fips"])
    out["left_censored"] = (out["first_list_date"] == first_list) & R.on("left_censored")
    out["wave_adopter"] = out["first_list_date"] >= R.wave_start
    first = ex[ex["start"] == _lookup(ex["fips"], start)]
    out["after_gap"] = first.groupby("fips")["after_gap"].any().reindex(out.index).fillna(False).astype(bool)
    latest = set(ex.loc[ex["list_date"] == last_list, "fips"])
    out["in_latest_list"] = out.index.isin(latest)
    out["exited"] = out["adopted"] & ~out["in_latest_list"] & R.on("intent_to_treat")
    out["n_agencies"] = g["agency_id"].nunique().reindex(out.index).fillna(0).astype("int64")
    out["n_agreements"] = g["agreement_id"].nunique().reindex(out.index).fillna(0).astype("int64")
    out = out.reset_index()
    out["panel_fips"] = successor(out["fips"], recodes) if recodes is not None else out["fips"]
    for column in ["left_censored", "wave_adopter"]:
        out[column] = out[column].fillna(False).astype(bool)
    return out[TIMING_COLUMNS].astype(
        {c: "string" for c in ["fips", "panel_fips", "state_fips", "state", "county_name"]}
    )


def clean_wave_287g(
    raw_dir: Path = DATA_RAW,
    rules_path: Path = WAVE_RULES,
    fixes_path: Path = WAVE_FIXES,
    names_path: Path = WAVE_COUNTY_NAMES,
    lists: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(agreements, timing, log) from the raw files and the committed rules (see build_wave)."""
    lists = clean_ice_lists(raw_dir) if lists is None else lists
    return build_wave(
        lists,
        read_counties(raw_dir),
        read_states(raw_dir),
        read_crosswalk(raw_dir),
        read_rules(rules_path),
        read_fixes(fixes_path),
        read_county_names(names_path),
        read_recodes(),
        fixes_path=fixes_path,
        names_path=names_path,
    )
