"""287(g) agreements before 2018, one row per agency x county, with cross-checks.

Source: Deportation Data Project, ice-287g, data/pre2018-agreements-best-guess.csv (one row per
agency spelling, 2002-2017), placed in counties with census/national_county.txt and the UCR
ORI crosswalk (ucr/jacobkap-crime_data/crosswalk.rds); cross-checked against the DHS OIG list
of October 2009 and the Washington Post's participation flags (287g_curated_2019.xlsx).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyreadr

from analysis.config import DATA_RAW, FIXES_287G
from analysis.infra.cli import interrupt_after
from analysis.infra.errors import InputError
from analysis.readers.places import county_part, normalise_agency, read_counties, read_states
from analysis.rulelog import RuleLog

SOURCE = Path("287g/deportationdata_ice-287g/data/pre2018-agreements-best-guess.csv")
OIG = Path("287g/deportationdata_ice-287g/data/intermediate/historical-oig-2009.csv")
WAPO = Path("287g/wpinvestigative_sheriffs_287g/data/raw_data/287g_curated_2019.xlsx")
CROSSWALK = Path("ucr/jacobkap-crime_data/crosswalk.rds")

# Valid dates per field. The program's first MOA was signed in 2002. The evidence window and
# MOA dates come from sources up to the last ICE roster (1 Aug 2017); first_signed_best also
# takes the McCann et al. (2024) appendix, which lists agreements signed up to 2020.
DATE_BOUNDS = {
    "first_signed_best": ("2002-01-01", "2020-12-31"),
    "latest_signed": ("2002-01-01", "2017-12-31"),
    "active_from": ("2002-01-01", "2017-12-31"),
    "active_to": ("2002-01-01", "2017-12-31"),
}
LAST_SIGNED = pd.Timestamp("2017-12-31")
MODELS = {"Jail Enforcement": "JEM", "Task Force": "TF"}
CONFIDENCE = ["high", "medium", "low"]
FIX_FIELDS = {"fips", "same_as", "level"}
STATE_AGENCY = (
    r"\b(state police|highway patrol|department of (public )?safety|department of corrections?"
    r"|department of law enforcement)\b"
)
COLUMNS = [
    "agency_id",
    "agency",
    "state",
    "state_fips",
    "fips",
    "level",
    "model",
    "first_signed",
    "end_date",
    "terminated",
    "source",
    "confidence",
    "in_oig_2009",
    "oig_signed",
    "wapo_first_year",
    "fips_source",
]


def _dates(df: pd.DataFrame, file: Path) -> pd.DataFrame:
    """Parse the date fields; raise InputError on a malformed or out-of-range date."""
    for field, (lo, hi) in DATE_BOUNDS.items():
        text = df[field].dropna()
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() | (parsed < pd.Timestamp(lo)) | (parsed > pd.Timestamp(hi))
        if bad.any():
            i = bad.idxmax()
            raise InputError(file, f"date {text[i]!r} is not a YYYY-MM-DD date in {lo}..{hi}", line=i + 2, field=field)
        df[field] = pd.to_datetime(df[field], format="%Y-%m-%d")
    return df


def _check(df: pd.DataFrame, field: str, ok, file: Path, what: str) -> None:
    """Raise InputError at the first row where ``ok`` is False."""
    ok = pd.Series(ok, index=df.index)
    if not ok.all():
        i = (~ok).idxmax()
        raise InputError(file, f"{df.at[i, field]!r} is not {what}", line=i + 2, field=field)


def model_code(models) -> str | None:
    """'Jail Enforcement' -> JEM, 'Task Force' -> TF; a switch 'A -> B' or a list 'A; B' of
    different models -> hybrid (the agency held both powers; the switch date is not recorded)."""
    if pd.isna(models):
        return None
    codes = {MODELS[m.strip()] for m in re.split(r"->|;", models)}
    return codes.pop() if len(codes) == 1 else "hybrid"


def agency_level(agency: str, jurisdiction_level) -> str | None:
    """county (sheriff; county/parish/regional jail, corrections, detention or police; 'X County'),
    state (statewide in the source, or a state police/patrol/DPS/DOC name), municipal (other
    police), None if the name fits none of these."""
    key = normalise_agency(agency)
    if jurisdiction_level == "statewide":
        return "state"
    if "sheriff" in key or re.search(r"\b(county|parish|regional)\b.*\b(jail|detention|corrections?|police)\b", key):
        return "county"
    if re.search(STATE_AGENCY, key):
        return "state"
    if re.search(r"\bpolice\b", key):
        return "municipal"
    if re.search(r"\b(county|parish)$", key):
        return "county"
    return None


def read_source(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The best-guess file, validated: dates parsed, state as USPS (NA if blank), codes checked."""
    file = Path(raw_dir) / SOURCE
    df = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
    missing = set(DATE_BOUNDS) | {
        "state",
        "agency",
        "jurisdiction_level",
        "county_fips",
        "models",
        "terminated",
        "confidence",
        "first_signed_source",
    }
    missing -= set(df.columns)
    if missing:
        raise InputError(file, "missing column(s) " + ", ".join(sorted(missing)), line=1, field=sorted(missing)[0])
    df = _dates(df, file)
    states = read_states(raw_dir)
    name = df["state"].str.replace(r"[^A-Za-z ]", "", regex=True).str.strip().str.upper()
    df["state"] = name.map(states.set_index("state_name")["state"])
    _check(df, "state", name.isna() | df["state"].notna(), file, "a U.S. state name")
    _check(
        df,
        "county_fips",
        df["county_fips"].fillna("1").str.fullmatch(r"\d{1,5}(; \d{1,5})*"),
        file,
        "county FIPS codes separated by '; '",
    )
    _check(df, "terminated", df["terminated"].isin(["TRUE", "FALSE"]), file, "TRUE or FALSE")
    _check(df, "confidence", df["confidence"].isin(CONFIDENCE), file, "high, medium or low")
    known = df["models"].fillna("Task Force").str.split(r"->|;").map(lambda ms: all(m.strip() in MODELS for m in ms))
    _check(df, "models", known, file, "a list of 'Jail Enforcement'/'Task Force'")
    df["state_name"] = df["state"].map(states.set_index("state")["state_name"])
    df["state_fips"] = df["state"].map(states.set_index("state")["state_fips"])
    return df


def read_fixes(source: pd.DataFrame, file: Path = FIXES_287G) -> pd.DataFrame:
    """The hand-made fixes (state, agency, field, value, reason); each must name a source row."""
    fixes = pd.read_csv(file, dtype=str, keep_default_na=False)
    known = set(zip(source["state_name"], source["agency"]))
    for i, fix in fixes.iterrows():
        if fix["field"] not in FIX_FIELDS:
            raise InputError(file, f"field must be one of {sorted(FIX_FIELDS)}", line=i + 2, field="field")
        if (fix["state"], fix["agency"]) not in known:
            raise InputError(
                file, f"no agency {fix['agency']!r} in {fix['state']} in {SOURCE}", line=i + 2, field="agency"
            )
        if fix["field"] == "same_as" and (fix["state"], fix["value"]) not in known:
            raise InputError(file, f"no agency {fix['value']!r} in {fix['state']}", line=i + 2, field="value")
        if not fix["reason"].strip():
            raise InputError(file, "every fix needs a reason", line=i + 2, field="reason")
    return fixes


def _key(agency: str, state, state_name) -> str:
    return normalise_agency(agency, "" if pd.isna(state) else state, "" if pd.isna(state_name) else state_name)


def agency_ids(source: pd.DataFrame, fixes: pd.DataFrame) -> pd.Series:
    """One id per agency, 'ST:normalised-name': spellings that normalise alike, or that a
    same_as fix joins, share an id. Rows without a state get '??:name'."""
    state = source.set_index("state_name")["state"].dropna().to_dict()
    alias = {
        (state[f.state], _key(f.agency, state[f.state], f.state)): _key(f.value, state[f.state], f.state)
        for f in fixes[fixes["field"] == "same_as"].itertuples()
    }
    keys = [_key(a, s, n) for a, s, n in zip(source["agency"], source["state"], source["state_name"])]
    return pd.Series(
        [
            f"{'??' if pd.isna(s) else s}:{alias.get((s, k), k)}".replace(" ", "-")
            for s, k in zip(source["state"], keys)
        ],
        index=source.index,
    )


def collapse_duplicates(df: pd.DataFrame) -> pd.DataFrame:
    """Order each agency's spellings best first (confidence, has FIPS, sources); the first is
    the one kept. Every spelling gets the agency's earliest signing date; among the spellings
    with an evidence window (active_to), the agency is terminated only if all of them are, and
    its last evidence date is their latest active_to."""
    rank = df["confidence"].map({c: i for i, c in enumerate(CONFIDENCE)})
    df = df.assign(
        _rank=rank, _fips=df["county_fips"].isna(), _n=-pd.to_numeric(df["n_sources"], errors="coerce").fillna(0)
    )
    df = df.sort_values(["agency_id", "_rank", "_fips", "_n"], kind="stable")
    ids, window = df["agency_id"], df["active_to"].notna()
    ended = (df["terminated"].eq("TRUE") | ~window).groupby(ids).transform("all")
    ended = ended.where(window.groupby(ids).transform("any"), df["terminated"].eq("TRUE"))
    df["terminated"] = ended.map({True: "TRUE", False: "FALSE"})
    df["first_signed_best"] = df.groupby(ids)["first_signed_best"].transform("min")
    df["active_to"] = df.groupby(ids)["active_to"].transform("max")
    return df.drop(columns=["_rank", "_fips", "_n"])


def read_crosswalk(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The UCR agency crosswalk: fips_state_code, fips_state_county_code, agency_type, crosswalk_agency_name."""
    with interrupt_after():  # Ctrl-C inside pyreadr's parser would print a traceback and be lost
        cw = pyreadr.read_r(Path(raw_dir) / CROSSWALK)[None]
    return cw[["fips_state_code", "fips_state_county_code", "agency_type", "crosswalk_agency_name"]]


def _place(df: pd.DataFrame, fixes: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """County FIPS per local agency (list; empty if not placed) and how it was found:
    fix (committed CSV) > county_fips (source) > census county name > UCR crosswalk agency name."""
    counties = read_counties(raw_dir)
    by_name = {(s, n.lower()): f for s, n, f in zip(counties["state"], counties["county_name"], counties["fips"])}
    cw = read_crosswalk(raw_dir)
    cw = cw[cw["agency_type"] == "local police department"]
    police = (
        pd.DataFrame(
            {
                "state_fips": cw["fips_state_code"],
                "key": cw["crosswalk_agency_name"].map(normalise_agency),
                "fips": cw["fips_state_county_code"],
            }
        )
        .drop_duplicates()
        .groupby(["state_fips", "key"])["fips"]
        .agg(list)
        .to_dict()
    )
    fix_fips = {(f.state, f.agency): f.value for f in fixes[fixes["field"] == "fips"].itertuples()}
    fips, how = [], []
    for row in df.itertuples():
        name = county_part(row.agency)
        police_fips = police.get((row.state_fips, normalise_agency(row.agency)), [])
        if (row.state_name, row.agency) in fix_fips:
            found = [fix_fips[(row.state_name, row.agency)]], "fix"
        elif pd.notna(row.county_fips):
            found = sorted({c.zfill(5) for c in row.county_fips.split("; ")}), "county_fips"
        elif row.level == "county" and (row.state, name) in by_name:
            found = [by_name[(row.state, name)]], "census_name"
        elif row.level == "municipal" and len(police_fips) == 1:
            found = police_fips, "crosswalk"
        else:
            found = [], None
        fips.append(found[0])
        how.append(found[1])
    return df.assign(fips=fips, fips_source=how)


def clean_agreements_287g(raw_dir: Path = DATA_RAW) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the pre-2018 287(g) agency table into one row per agency x county placed.

    Source: Deportation Data Project, ice-287g, pre2018-agreements-best-guess.csv (229 rows).
    Recodes and rules, in order (each logged, unit = agreement = one agency):
    1. state: full name -> USPS ('DELAWARE**' -> DE); rows with no state (name-only entries from
       GAO 2007 / Yale 2008 without a signing date) are dropped.
    2. duplicate spellings of one agency are collapsed (same normalised name, or a same_as fix in
       agreements_287g_fixes.csv); the highest-confidence spelling is kept, with the earliest
       signing date of all its spellings.
    3. agencies first signed after 2017 are dropped: those dates (2019-2020) come from the
       McCann et al. 2024 appendix, which this file covers only in part, mostly for the
       Warrant Service Officer model created in 2019.
    4. level: sheriff, county jail/corrections/detention, county police -> county; other police
       -> municipal; statewide in the source or a state police/patrol/DPS/DOC name -> state
       (fix: Las Vegas Metropolitan PD -> county). State agencies stay in the table with fips NA
       but leave the county sample.
    5. county: fix > county_fips (split on '; ', zero-padded) > census county name for county
       agencies ('X County Sheriff's Office' -> X County) > crosswalk agency name for police;
       an agency in several counties gives one row per county. Unplaced agencies are dropped.
    model: from `models` by model_code (JEM, TF; a switch or both -> hybrid; NA if none given).
    first_signed: first_signed_best (earliest date any source gives; no fallback is needed:
    every row kept has one). end_date: active_to if terminated, else NaT. source: the source
    of first_signed. in_oig_2009 / oig_signed (the OIG's original signing date, NaT if not listed) /
    wapo_first_year: see crosscheck_oig / crosscheck_wapo.
    """
    source = read_source(raw_dir)
    fixes = read_fixes(source)
    df = source.assign(agency_id=agency_ids(source, fixes))
    log = RuleLog("treatment_287g", "agreement", units="agency_id")
    df = log.drop(
        df, df["state"].isna(), "no_state", "Name-only entry (GAO 2007, Yale 2008) without state or signing date."
    )
    df = collapse_duplicates(df)
    df = log.drop(
        df,
        df["agency_id"].duplicated(),
        "duplicate_spelling",
        "Another spelling of an agency already in the table (kept: its best-attested row, earliest date).",
    )
    df = log.drop(
        df,
        df["first_signed_best"] > LAST_SIGNED,
        "signed_after_2017",
        "First signed 2019-2020 (McCann et al. 2024 appendix): after the file's 2002-2017 coverage.",
    )
    level_fix = {(f.state, f.agency): f.value for f in fixes[fixes["field"] == "level"].itertuples()}
    df["level"] = [
        level_fix.get((n, a), agency_level(a, j))
        for n, a, j in zip(df["state_name"], df["agency"], df["jurisdiction_level"])
    ]
    _check(
        df,
        "agency",
        df["level"].notna(),
        Path(raw_dir) / SOURCE,
        "an agency whose level can be told from its name: add a 'level' row to " + FIXES_287G.name,
    )
    table = _place(df, fixes, raw_dir)
    sample = log.drop(
        table,
        table["level"] == "state",
        "statewide",
        "State agency: kept in the agreements table (fips NA) for the statewide variant, not placed in a county.",
    )
    log.drop(
        sample,
        sample["fips"].map(len) == 0,
        "not_placed",
        "Local agency whose name matches no county (census) or police department (UCR crosswalk).",
    )
    table = table[(table["level"] == "state") | (table["fips"].map(len) > 0)]
    table = table.explode("fips").assign(
        model=lambda d: d["models"].map(model_code),
        first_signed=lambda d: d["first_signed_best"],
        end_date=lambda d: d["active_to"].where(d["terminated"] == "TRUE"),
        terminated=lambda d: d["terminated"] == "TRUE",
        source=lambda d: d["first_signed_source"],
    )
    oig = _read_oig(source, fixes, raw_dir).dropna(subset=["agency_id"])
    table["in_oig_2009"] = table["agency_id"].isin(oig["agency_id"])
    table["oig_signed"] = table["agency_id"].map(oig.groupby("agency_id")["oig_signed"].min())
    wapo = _read_wapo(source, fixes, raw_dir).groupby("agency_id")["wapo_first_year"].min()
    table["wapo_first_year"] = table["agency_id"].map(wapo).astype("Int64")
    table = table[COLUMNS].sort_values(["state", "agency_id", "fips"]).reset_index(drop=True)
    return table.astype({"model": "string", "fips": "string", "state_fips": "string"}), log.frame()


def _match(df: pd.DataFrame, source: pd.DataFrame, fixes: pd.DataFrame, key=_key) -> pd.Series:
    """agency_id of each row of ``df`` (columns state, state_name, agency), looked up among all
    spellings in the source by ``key(agency, state, state_name)``; NA where none matches."""
    spell = source[source["state"].notna()].assign(agency_id=agency_ids(source, fixes))
    spell["key"] = [key(a, s, n) for a, s, n in zip(spell["agency"], spell["state"], spell["state_name"])]
    lookup = spell.drop_duplicates(["state", "key"]).set_index(["state", "key"])["agency_id"]
    keys = list(zip(df["state"], [key(a, s, n) for a, s, n in zip(df["agency"], df["state"], df["state_name"])]))
    return pd.Series(lookup.reindex(keys).to_numpy(), index=df.index, dtype="string")


def _read_oig(source: pd.DataFrame, fixes: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """The OIG list: state, agency, oig_model (JEM/TF/hybrid), oig_signed, status, agency_id."""
    oig = pd.read_csv(Path(raw_dir) / OIG, dtype=str)
    states = read_states(raw_dir).set_index("state_name")["state"]
    oig["state_name"] = oig["state"].str.upper()
    oig["state"] = oig["state_name"].map(states)
    oig["agency_id"] = _match(oig, source, fixes)
    oig["oig_model"] = oig["model"].map({**MODELS, "Hybrid": "hybrid"})
    oig["oig_signed"] = pd.to_datetime(oig["date_signed_original"], format="%Y-%m-%d")
    return oig[["state", "agency", "oig_model", "oig_signed", "status", "agency_id"]]


def _wapo_key(agency: str, state, state_name) -> str:
    """The Post names sheriffs by county ('Pima County'): match without the word 'sheriff'."""
    return re.sub(r" sheriff$", "", _key(agency, state, state_name))


def _read_wapo(source: pd.DataFrame, fixes: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """The Post's agencies: state, agency, wapo_fips, wapo_first_year (first y20xx flagged X), agency_id.
    A blank State continues the block above it (the 'ended agreements' block at the bottom)."""
    wapo = pd.read_excel(Path(raw_dir) / WAPO, dtype=str)
    wapo = wapo[wapo["State"].ne("State (Alphabetical)") & wapo["County"].notna()]
    states = read_states(raw_dir).set_index("state_name")["state"]
    years = [c for c in wapo.columns if re.fullmatch(r"y20\d\d", c)]
    flagged = wapo[years].apply(lambda col: col.str.strip().str.upper().eq("X"))
    out = pd.DataFrame(
        {
            "state_name": wapo["State"].ffill().str.strip().str.upper(),
            "agency": wapo["County"].str.strip(),
            "wapo_fips": pd.to_numeric(wapo["FIPS"], errors="coerce").astype("Int64").astype("string").str.zfill(5),
            "wapo_first_year": flagged.idxmax(axis=1).str[1:].astype(int).where(flagged.any(axis=1)).astype("Int64"),
        }
    )
    out["state"] = out["state_name"].map(states)
    out["agency_id"] = _match(out, source, fixes, _wapo_key)
    return out.drop(columns="state_name").reset_index(drop=True)


def _agency_view(agreements: pd.DataFrame) -> pd.DataFrame:
    """One row per agency of the agreements table: first_signed, model, level, fips (';'-joined)."""
    return agreements.groupby("agency_id").agg(
        first_signed=("first_signed", "first"),
        model=("model", "first"),
        level=("level", "first"),
        fips=("fips", lambda f: "; ".join(f.dropna())),
    )


def crosscheck_oig(agreements: pd.DataFrame, raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The 67 agreements in force on 28 Oct 2009 (DHS OIG-10-63) against ours: per OIG row its
    agency_id (NA if no agency of the source matches), our first_signed and model, same_date
    (our first signing date equals the OIG's) and same_model."""
    source = read_source(raw_dir)
    oig = _read_oig(source, read_fixes(source), raw_dir).join(_agency_view(agreements), on="agency_id")
    return oig.assign(
        in_table=oig["first_signed"].notna(),
        same_date=oig["oig_signed"].eq(oig["first_signed"]).fillna(False),
        same_model=oig["oig_model"].eq(oig["model"]).fillna(False),
    )


def crosscheck_wapo(agreements: pd.DataFrame, raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The Post's agencies with a flagged year against ours: wapo_first_year, our first_year
    (year of first_signed), year_gap = first_year - wapo_first_year, and same_fips (the Post's
    FIPS, where it gives one, is among our counties for the agency)."""
    source = read_source(raw_dir)
    wapo = _read_wapo(source, read_fixes(source), raw_dir)
    wapo = wapo[wapo["wapo_first_year"].notna()].join(_agency_view(agreements), on="agency_id")
    first_year = wapo["first_signed"].dt.year.astype("Int64")
    same_fips = [
        pd.NA if pd.isna(w) or pd.isna(f) else w in f.split("; ") for w, f in zip(wapo["wapo_fips"], wapo["fips"])
    ]
    return wapo.assign(
        first_year=first_year,
        year_gap=first_year - wapo["wapo_first_year"],
        same_fips=pd.array(same_fips, dtype="boolean"),
    )


def main() -> None:
    """Print the table's log and cross-checks (the panel step writes data_clean/agreements_287g.parquet)."""
    agreements, log = clean_agreements_287g()
    print(log.to_string(index=False))
    print(agreements.groupby(["level", "model"], dropna=False).size().to_string())
    oig = crosscheck_oig(agreements)
    print(
        f"OIG 2009: {len(oig)} agreements, {oig['in_table'].sum()} in our table, "
        f"{oig['same_date'].sum()} same signing date, {oig['same_model'].sum()} same model"
    )
    wapo = crosscheck_wapo(agreements)
    print(
        f"WaPo: {len(wapo)} agencies flagged, {wapo['first_year'].notna().sum()} in our table, "
        f"{(wapo['year_gap'] == 0).sum()} same first year"
    )


if __name__ == "__main__":
    try:
        main()
    except InputError as err:
        raise SystemExit(f"error: {err}") from None
