"""The 2025-2026 287(g) wave: adoptions per month, the county map, counts by state, each rule's effect.

Reads the wave tables that ``make wave`` writes (data_clean/wave_287g_*), never the raw lists.
Counting rules: an adoption is an agreement (agency x model) in the month of the first list that
shows it; agreements already in the first list (13 Jan 2021) began earlier and are not adoptions
of a month. A county adopts in the month of its first local (county or municipal) agreement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.dates import DateFormatter, MonthLocator, YearLocator

from analysis import config
from analysis.exhibits import latex, style
from analysis.exhibits.inputs import read_csv, require
from analysis.exhibits.maps import county_map
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.readers.wave_287g import MODELS, read_county_names, read_fixes, read_rules

MODEL_NAMES = {"JEM": "Jail enforcement (JEM)", "TFM": "Task force (TFM)", "WSO": "Warrant service officer (WSO)"}
MODEL_COLORS = {"JEM": style.OKABE_ITO["blue"], "TFM": style.OKABE_ITO["vermillion"], "WSO": style.OKABE_ITO["green"]}
# Map categories, in legend order: before the wave, then the wave by half-year, then none.
PERIODS = [
    ("Before 2025", None, "2025-01-01"),
    ("Jan-Jun 2025", "2025-01-01", "2025-07-01"),
    ("Jul-Dec 2025", "2025-07-01", "2026-01-01"),
    ("Jan-May 2026", "2026-01-01", None),
]
NONE = "No local agreement"
COUNTY_PRINTED_FROM = pd.Timestamp("2025-03-17")  # first ICE list with a COUNTY column (287g/SOURCES.md)
MAP_COLORS = [
    style.OKABE_ITO["blue"],
    style.OKABE_ITO["vermillion"],
    style.OKABE_ITO["orange"],
    style.OKABE_ITO["yellow"],
    "#F0F0F0",
]


def read_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(timing, agreements, lists, log) from data_clean/ (MissingResult naming a missing file)."""
    timing = pd.read_parquet(require(config.WAVE_TIMING))
    agreements = pd.read_parquet(require(config.WAVE_AGREEMENTS))
    lists = read_csv(config.WAVE_LISTS, ["list_date", "month", "rows", "lists_in_month"])
    lists["list_date"], lists["month"] = pd.to_datetime(lists["list_date"]), pd.to_datetime(lists["month"])
    log = read_csv(config.WAVE_LOG, ["rule", "units_after", "counties_after", "wave_counties_after"])
    return timing, agreements, lists, log


def adoptions_by_month(agreements: pd.DataFrame) -> pd.DataFrame:
    """New agreements per month by model (columns JEM, TFM, WSO), every month from the month
    after the first list to the last list's month; agreements of the first list left out."""
    new = agreements[~agreements["left_censored"]]
    first = agreements["first_list_date"].min().to_period("M")
    last = agreements["last_list_date"].max().to_period("M")
    months = pd.period_range(first + 1, last, freq="M")
    counts = new.groupby([new["first_month"].dt.to_period("M"), "model"]).size().unstack(fill_value=0)
    return counts.reindex(index=months, columns=list(MODELS), fill_value=0)


def counties_by_month(timing: pd.DataFrame) -> pd.DataFrame:
    """Cumulative counties with a local agreement at each month's end, any level and by level."""
    first = timing["first_list_date"].dropna().min().to_period("M")
    last = timing["first_list_date"].max().to_period("M")
    months = pd.period_range(first, last, freq="M")
    out = {}
    for name, column in [
        ("any", "first_month"),
        ("county_agency", "first_month_county_agency"),
        ("municipal", "first_month_municipal"),
    ]:
        per = timing[column].dropna().dt.to_period("M").value_counts()
        out[name] = per.reindex(months, fill_value=0).cumsum()
    return pd.DataFrame(out, index=months)


def map_categories(timing: pd.DataFrame) -> pd.Series:
    """Per county (fips): its period of adoption (PERIODS labels) or NONE. Stops if a county that
    adopted before the wave start would fall in a wave period, or a wave adopter before 2025."""
    t = timing.set_index("fips")
    labels = pd.Series(NONE, index=t.index, dtype=object)
    for label, lo, hi in PERIODS:
        hit = t["first_month"].notna()
        if lo:
            hit &= t["first_month"] >= pd.Timestamp(lo)
        if hi:
            hit &= t["first_month"] < pd.Timestamp(hi)
        labels[hit] = label
    before = labels == PERIODS[0][0]
    if (before != (t["adopted"] & ~t["wave_adopter"])).any():
        raise ValueError("the map's 'Before 2025' does not match the counties adopting before the wave start")
    return labels


def by_state(timing: pd.DataFrame) -> pd.DataFrame:
    """Counts by state: counties, adopting before 2025 / in 2025 / in 2026, share adopting, counties
    with each model, and the month of the state's first state-agency agreement."""
    year = timing["first_month"].dt.year
    flags = pd.DataFrame(
        {
            "state": timing["state"],
            "counties": 1,
            "before": timing["adopted"] & ~timing["wave_adopter"],
            "y2025": timing["wave_adopter"] & (year == 2025),
            "y2026": timing["wave_adopter"] & (year == 2026),
            **{m.lower(): timing[f"first_month_{m.lower()}"].notna() for m in MODELS},
        }
    )
    out = flags.groupby("state").sum().astype(int)
    out["state_agency"] = timing.groupby("state")["first_month_state_agency"].first()
    out["adopting"] = out["before"] + out["y2025"] + out["y2026"]
    out["share"] = 100 * out["adopting"] / out["counties"]
    out = out[(out["adopting"] > 0) | out["state_agency"].notna()]
    return out.reset_index()


def quiet_months(monthly: pd.DataFrame) -> tuple[pd.Period, pd.Period]:
    """The first and last month of the run of months without a new agreement that starts the series."""
    total = monthly.sum(axis=1)
    busy = total[total > 0]
    if busy.empty or busy.index[0] == total.index[0]:
        raise ValueError("the series does not start with months without a new agreement")
    return total.index[0], busy.index[0] - 1


def _plot_adoptions(monthly: pd.DataFrame, counties: pd.DataFrame, n_left: int, double: list[pd.Period]):
    """Two panels: new agreements per month by model (stacked bars, months with two lists marked);
    counties with a local agreement (cumulative)."""
    fig, (top, bottom) = style.figure(height=5.0, nrows=2, sharex=True)
    x = monthly.index.to_timestamp() + pd.Timedelta(days=14)
    base = np.zeros(len(monthly))
    for m in MODELS:
        top.bar(x, monthly[m], bottom=base, width=24, color=MODEL_COLORS[m], label=MODEL_NAMES[m], lw=0)
        base += monthly[m].to_numpy()
    for month in double:
        if month in monthly.index:
            top.text(
                month.to_timestamp() + pd.Timedelta(days=14),
                monthly.loc[month].sum() + 4,
                "2",
                ha="center",
                va="bottom",
                fontsize=7,
                color="#555555",
            )
    top.set_ylabel("New agreements per month")
    top.legend(loc="upper left")
    first, last = quiet_months(monthly)
    top.text(
        0.01,
        0.56,
        f"{first:%b %Y} - {last:%b %Y}: no new agreement.\n"
        f"Not shown: {n_left} agreements already in the first\nlist (13 Jan 2021), begun earlier.\n"
        "2: two lists in the month.",
        transform=top.transAxes,
        fontsize=7.5,
        color="#555555",
        va="top",
    )
    cx = counties.index.to_timestamp(how="end").normalize()
    for name, label, color in [
        ("any", "Any local agency", "black"),
        ("county_agency", "County agency (sheriff, county jail)", style.OKABE_ITO["blue"]),
        ("municipal", "Municipal agency", style.OKABE_ITO["vermillion"]),
    ]:
        bottom.step(cx, counties[name], where="post", color=color, label=label)
    bottom.set_ylabel("Counties with a local\nagreement (cumulative)")
    bottom.legend(loc="upper left")
    bottom.xaxis.set_major_locator(YearLocator())
    bottom.xaxis.set_minor_locator(MonthLocator(bymonth=[4, 7, 10]))
    bottom.xaxis.set_major_formatter(DateFormatter("%Y"))
    bottom.set_xlim(pd.Timestamp("2021-01-01"), x.max() + pd.Timedelta(days=20))
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
    return fig


def _rules_table(log: pd.DataFrame) -> pd.DataFrame:
    """The log as a table: rule, agreements after, agencies changed, rows dropped, counties after,
    wave counties after, counties redated or flagged."""
    return pd.DataFrame(
        {
            "step": log["step"],
            "rule": log["rule"].str.replace("_", " "),
            "dropped": log["dropped_units"],
            "agreements": log["units_after"],
            "changed": log["agencies_changed"],
            "counties": log["counties_after"],
            "wave": log["wave_counties_after"],
            "redated": log["counties_redated"],
            "flagged": log["counties_flagged"],
        }
    )


def lag_share(wave: pd.DataFrame) -> float:
    """Share of wave adopters whose earliest SIGNED date falls in their adoption month or the month
    before (lists dated early in a month show the agreements signed in the previous month)."""
    signed = wave["first_signed"].dt.to_period("M")
    month = wave["first_month"].dt.to_period("M")
    return float(((signed == month) | (signed == month - 1)).mean())


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _month(ts) -> str:
    return f"{pd.Timestamp(ts):%B %Y}"


def _day(ts) -> str:
    ts = pd.Timestamp(ts)
    return f"{ts.day} {ts:%B %Y}"


def build() -> dict[str, str]:
    """Write wave_adoptions, wave_map, the wave_states and wave_rules tables; return the macros."""
    timing, agreements, lists, log = read_tables()
    rules = read_rules()
    monthly = adoptions_by_month(agreements)
    counties = counties_by_month(timing)
    n_left = int(agreements["left_censored"].sum())
    double = sorted(lists.loc[lists["lists_in_month"] > 1, "month"].dt.to_period("M").unique())
    style.save(_plot_adoptions(monthly, counties, n_left, double), "wave_adoptions")

    labels = map_categories(timing)
    fig, _ = county_map(
        labels, categories=[p[0] for p in PERIODS] + [NONE], colors=MAP_COLORS, counts=True, legend_columns=3
    )
    style.save(fig, "wave_map")

    states = by_state(timing)
    nation = by_state(timing.assign(state="All counties")).assign(state_agency=pd.NaT)
    table = pd.concat([states, nation], ignore_index=True)
    if nation.at[0, "adopting"] != states["adopting"].sum():
        raise ValueError("the states' adopting counties do not add up to the national count")
    table["state_agency"] = table["state_agency"].map(lambda t: "" if pd.isna(t) else f"{t:%b %Y}")
    cols = ["state", "counties", "before", "y2025", "y2026", "share", "jem", "tfm", "wso", "state_agency"]
    body = latex.data_table(
        table[cols],
        {
            "state": "text",
            "counties": "int",
            "before": "int",
            "y2025": "int",
            "y2026": "int",
            "share": 0,
            "jem": "int",
            "tfm": "int",
            "wso": "int",
            "state_agency": "text",
        },
        labels={
            "state": "State",
            "counties": "Counties",
            "before": "Before 2025",
            "y2025": "2025",
            "y2026": "2026",
            "share": "Share (%)",
            "jem": "JEM",
            "tfm": "TFM",
            "wso": "WSO",
            "state_agency": "State agency",
        },
        groups=[[("", 2), ("Counties adopting", 4), ("Counties with model", 3), ("", 1)]],
        midrule_before=[len(states)],  # a rule above the national total
    )
    latex.write_table(body, "wave_states")
    latex.write_table(
        latex.data_table(
            _rules_table(log),
            {
                "step": "int",
                "rule": "text",
                "dropped": "int",
                "agreements": "int",
                "changed": "int",
                "counties": "int",
                "wave": "int",
                "redated": "int",
                "flagged": "int",
            },
            labels={
                "step": "",
                "rule": "Rule",
                "dropped": "Removed",
                "agreements": "After",
                "changed": "Agencies changed",
                "counties": "All",
                "wave": "Wave",
                "redated": "Redated",
                "flagged": "Flagged",
            },
            groups=[[("", 2), ("Agreements", 2), ("", 1), ("Counties", 4)]],
        ),
        "wave_rules",
    )

    lg = log.set_index("rule")
    adopted = timing[timing["adopted"]]
    wave = timing[timing["wave_adopter"]]
    per_month = wave["first_month"].value_counts()
    agencies = agreements.drop_duplicates("agency_id")
    compared = agencies[agencies["printed_fips"].notna() & agencies["crosswalk_fips"].notna()]
    fixes, names = read_fixes(), read_county_names()
    lists_first, lists_last = agreements["first_list_date"].min(), agreements["last_list_date"].max()
    by_model = {m: int(wave[f"first_month_{m.lower()}"].notna().sum()) for m in MODELS}
    macros = {
        "WaveFirstList": _day(lists_first),
        "WaveLatestList": _day(lists_last),
        "WaveStart": _day(rules.wave_start),
        "WaveListRows": fmt_int(lg["rows_before"].iloc[0]),
        "WaveAgreementsPrinted": fmt_int(lg["units_before"].iloc[0]),
        "WaveAgreements": fmt_int(len(agreements)),
        "WaveAgreementsLocal": fmt_int(agreements["in_timing"].sum()),
        "WaveAgreementsState": fmt_int((agreements["level"] == "state").sum()),
        "WaveAgreementsUnplaced": fmt_int(lg.at["unplaced", "dropped_units"]),
        "WaveAgreementsLeftCensored": fmt_int(n_left),
        "WaveAgreementsNew": fmt_int(monthly.to_numpy().sum()),
        "WaveTerritoryAgreements": fmt_int(lg.at["outside_states", "dropped_units"]),
        "WaveSameAsMerged": fmt_int(lg.at["same_as_fixes", "dropped_units"]),
        "WaveNormaliseMerged": fmt_int(lg.at["normalise_names", "dropped_units"]),
        "WaveStateFixMerged": fmt_int(lg.at["state_fixes", "dropped_units"]),
        "WaveDuplicateRows": fmt_int(lg.at["duplicate_rows", "dropped_rows"]),
        "WaveUntypedAgencies": fmt_int(lg.at["level_from_name", "agencies_changed"]),
        "WavePrintedCounties": fmt_int(lg.at["county_printed", "counties_after"]),
        "WaveCarryAgencies": fmt_int(lg.at["carry_latest_county", "agencies_changed"]),
        "WaveCarryRedated": fmt_int(lg.at["carry_latest_county", "counties_redated"]),
        "WaveCarryPreWave": fmt_int(
            lg.at["county_printed", "wave_counties_after"] - lg.at["carry_latest_county", "wave_counties_after"]
        ),
        "WaveByNameAgencies": fmt_int(lg.at["county_agency_by_name", "agencies_changed"]),
        "WaveByNameCounties": fmt_int(
            lg.at["county_agency_by_name", "counties_after"] - lg.at["carry_latest_county", "counties_after"]
        ),
        "WaveCrosswalkAgencies": fmt_int(lg.at["crosswalk_by_name", "agencies_changed"]),
        "WaveCrosswalkCounties": fmt_int(
            lg.at["crosswalk_by_name", "counties_after"] - lg.at["county_agency_by_name", "counties_after"]
        ),
        "WaveCrosswalkCompared": fmt_int(len(compared)),
        "WaveCrosswalkAgree": fmt_int((compared["printed_fips"] == compared["crosswalk_fips"]).sum()),
        "WaveFixAgencies": fmt_int(lg.at["fips_fixes", "agencies_changed"]),
        "WaveFixCounties": fmt_int(
            lg.at["fips_fixes", "counties_after"] - lg.at["crosswalk_by_name", "counties_after"]
        ),
        "WaveFixRows": fmt_int(len(fixes)),
        "WaveCountyNameRows": fmt_int(len(names)),
        "WaveGapCounties": fmt_int(lg.at["gaps", "counties_flagged"]),
        "WaveLists": fmt_int(len(lists)),
        "WaveListMonths": fmt_int(lists["month"].nunique()),
        "WaveListMonthsSpan": fmt_int(len(pd.period_range(lists["month"].min(), lists["month"].max(), freq="M"))),
        "WaveListGaps": fmt_int(lists["after_gap"].sum()),
        "WaveTwoListMonths": _and([f"{m:%B %Y}" for m in double]),
        "WaveQuietFirst": f"{quiet_months(monthly)[0]:%B %Y}",
        "WaveQuietLast": f"{quiet_months(monthly)[1]:%B %Y}",
        "WaveSignedLagShare": fmt_num(100 * lag_share(wave), 0),
        "WaveCounties": fmt_int(len(timing)),
        "WaveCountiesAdopted": fmt_int(len(adopted)),
        "WaveCountiesPreWave": fmt_int(len(adopted) - len(wave)),
        "WaveCountiesLeftCensored": fmt_int(timing["left_censored"].sum()),
        "WaveCountiesActiveAtStart": fmt_int(timing["active_at_wave_start"].sum()),
        "WaveCountiesPreWaveNewAgreement": fmt_int(
            (timing["adopted"] & ~timing["wave_adopter"] & timing["first_month_new_in_wave"].notna()).sum()
        ),
        "WaveCountiesWave": fmt_int(len(wave)),
        "WaveCountiesWaveShare": fmt_num(100 * len(wave) / len(timing), 1),
        "WaveCountiesTwentyFive": fmt_int((wave["first_year"] == 2025).sum()),
        "WaveCountiesTwentySix": fmt_int((wave["first_year"] == 2026).sum()),
        "WaveCountiesCountyAgency": fmt_int(wave["first_month_county_agency"].notna().sum()),
        "WaveCountiesMunicipalOnly": fmt_int((wave["first_month_county_agency"].isna()).sum()),
        "WaveCountiesJem": fmt_int(by_model["JEM"]),
        "WaveCountiesTfm": fmt_int(by_model["TFM"]),
        "WaveCountiesWso": fmt_int(by_model["WSO"]),
        "WaveCountiesExited": fmt_int(timing["exited"].sum()),
        "WaveFirstMonth": _month(wave["first_month"].min()),
        "WavePeakMonth": _month(per_month.idxmax()),
        "WavePeakMonthCounties": fmt_int(per_month.max()),
        "WaveStatesAdopting": fmt_int(adopted["state"].nunique()),
        "WaveStatesWave": fmt_int(wave["state"].nunique()),
        "WaveStatesStateAgency": fmt_int(timing.loc[timing["first_month_state_agency"].notna(), "state"].nunique()),
        "WavePeakAgreementsMonth": _month(monthly.sum(axis=1).idxmax().to_timestamp()),
        "WavePeakAgreements": fmt_int(monthly.sum(axis=1).max()),
    }
    gaps = int(lists["after_gap"].sum())
    macros["WaveGapText"] = (
        "Every month from the first list to the last has a list, so the rule for gaps changes no date today"
        if gaps == 0
        else f"{fmt_int(gaps)} lists follow a month without a list, and "
        f"{fmt_int(lg.at['gaps', 'counties_flagged'])} counties are first seen in one of them"
    )
    pre, left = len(adopted) - len(wave), int(timing["left_censored"].sum())
    macros["WaveBeforeFirstList"] = (
        "all of them already in the first list" if pre == left else f"{fmt_int(left)} of them already in the first list"
    )
    by_name = agreements[agreements["placed_by"] == "county_agency_by_name"].drop_duplicates("agency_id")
    macros["WaveByNameGoneAgencies"] = fmt_int((by_name["last_list_date"] < COUNTY_PRINTED_FROM).sum())
    macros["WaveListsEarly"] = fmt_int((lists["list_date"].dt.day <= 5).sum())
    # the state with most counties adopting in the wave (the paragraph's subject; not those adopting before)
    in_wave = states.assign(wave=states["y2025"] + states["y2026"])
    top = in_wave.sort_values(["wave", "state"], ascending=[False, True]).iloc[0]
    macros["WaveTopState"], macros["WaveTopStateCounties"] = str(top["state"]), fmt_int(top["wave"])
    macros["WaveTopStateShare"] = fmt_num(100 * top["wave"] / top["counties"], 0)
    macros["WaveTopStateCountiesAll"] = fmt_int(top["adopting"])
    macros["WaveTopFiveShare"] = fmt_num(100 * in_wave["wave"].nlargest(5).sum() / in_wave["wave"].sum(), 0)
    return macros
