"""Exhibits of the 2025-2026 wave on hand-built tables, and the paper's statements against the data."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import wave
from analysis.exhibits.inputs import MissingResult
from analysis.exhibits.numbers import parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

T = pd.Timestamp


def agreements_table(rows):
    """(model, first_list_date, last_list_date, left_censored)."""
    return pd.DataFrame(
        [
            {
                "model": m,
                "first_list_date": T(a),
                "first_month": T(a).to_period("M").to_timestamp(),
                "last_list_date": T(b),
                "left_censored": left,
            }
            for m, a, b, left in rows
        ]
    )


def timing_table(rows):
    """(fips, state, first_month or None, wave_adopter, first_month_county_agency, models)."""
    out = []
    for fips, state, month, wave_adopter, county_month, models in rows:
        month = T(month) if month else pd.NaT
        out.append(
            {
                "fips": fips,
                "state": state,
                "first_month": month,
                "first_list_date": month,
                "adopted": month is not pd.NaT,
                "wave_adopter": wave_adopter,
                "first_month_county_agency": T(county_month) if county_month else pd.NaT,
                "first_month_municipal": pd.NaT,
                "first_month_state_agency": pd.NaT,
                **{f"first_month_{m.lower()}": (month if m in models else pd.NaT) for m in wave.MODELS},
            }
        )
    return pd.DataFrame(out)


def test_adoptions_by_month_leave_out_the_first_list_and_fill_empty_months():
    a = agreements_table(
        [
            ("JEM", "2021-01-13", "2026-05-18", True),
            ("TFM", "2025-03-01", "2025-03-01", False),
            ("TFM", "2025-03-01", "2026-05-18", False),
            ("WSO", "2025-05-28", "2026-05-18", False),
        ]
    )
    m = wave.adoptions_by_month(a)
    assert m.index[0] == pd.Period("2021-02", "M") and m.index[-1] == pd.Period("2026-05", "M")
    assert m.loc[pd.Period("2025-03", "M")].tolist() == [0, 2, 0]
    assert m.loc[pd.Period("2025-05", "M")].tolist() == [0, 0, 1]
    assert m.to_numpy().sum() == 3
    assert wave.quiet_months(m) == (pd.Period("2021-02", "M"), pd.Period("2025-02", "M"))


def test_counties_by_month_are_cumulative_by_level():
    t = timing_table(
        [
            ("01001", "AL", "2021-01-01", False, "2021-01-01", ["JEM"]),
            ("01003", "AL", "2025-04-01", True, None, ["TFM"]),
            ("01005", "AL", None, False, None, []),
        ]
    )
    c = wave.counties_by_month(t)
    assert c.loc[pd.Period("2021-01", "M")].tolist() == [1, 1, 0]
    assert c.loc[pd.Period("2025-04", "M"), "any"] == 2 and c["any"].is_monotonic_increasing


def test_map_categories_and_state_counts():
    t = timing_table(
        [
            ("01001", "AL", "2021-01-01", False, "2021-01-01", ["JEM"]),
            ("01003", "AL", "2025-04-01", True, None, ["TFM"]),
            ("01005", "AL", "2025-09-01", True, "2025-09-01", ["WSO"]),
            ("02001", "AK", "2026-02-01", True, "2026-02-01", ["TFM", "WSO"]),
            ("02003", "AK", None, False, None, []),
        ]
    )
    labels = wave.map_categories(t)
    assert labels.to_dict() == {
        "01001": "Before 2025",
        "01003": "Jan-Jun 2025",
        "01005": "Jul-Dec 2025",
        "02001": "Jan-May 2026",
        "02003": wave.NONE,
    }
    s = wave.by_state(t).set_index("state")
    assert s.loc["AL", ["counties", "before", "y2025", "y2026", "adopting"]].tolist() == [3, 1, 2, 0, 3]
    assert s.loc["AK", ["tfm", "wso", "jem"]].tolist() == [1, 1, 0] and s.at["AK", "share"] == 50
    bad = t.copy()
    bad.loc[0, "wave_adopter"] = True  # a 2021 county called a wave adopter
    with pytest.raises(ValueError, match="Before 2025"):
        wave.map_categories(bad)


def test_lag_share_counts_the_month_and_the_month_before():
    w = pd.DataFrame(
        {
            "first_month": [T("2025-04-01")] * 4,
            "first_signed": [T("2025-03-20"), T("2025-04-02"), T("2025-01-10"), T("2025-03-01")],
        }
    )
    assert wave.lag_share(w) == 0.75


def test_missing_wave_tables_are_named(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "WAVE_TIMING", tmp_path / "wave_287g_timing.parquet")
    with pytest.raises(MissingResult, match="wave_287g_timing.parquet"):
        wave.read_tables()


@pytest.fixture(scope="module")
def macros():
    if not config.NUMBERS.exists() or not config.WAVE_TIMING.exists():
        pytest.skip("numbers.tex or the wave tables not built (make exhibits)")
    return parse(config.NUMBERS)


def test_paper_numbers_match_the_wave_tables(macros):
    timing = pd.read_parquet(config.WAVE_TIMING)
    log = pd.read_csv(config.WAVE_LOG).set_index("rule")

    def num(name):
        return int(macros[name].replace("{,}", ""))

    assert num("WaveCounties") == len(timing) == 3143
    assert num("WaveCountiesAdopted") == timing["adopted"].sum() == log["counties_after"].iloc[-1]
    assert num("WaveCountiesWave") == timing["wave_adopter"].sum()
    assert num("WaveCountiesTwentyFive") + num("WaveCountiesTwentySix") == num("WaveCountiesWave")
    assert num("WaveCountiesPreWave") + num("WaveCountiesWave") == num("WaveCountiesAdopted")
    assert num("WaveCountiesCountyAgency") + num("WaveCountiesMunicipalOnly") == num("WaveCountiesWave")
    assert num("WaveCarryRedated") == log.at["carry_latest_county", "counties_redated"]
    assert num("WaveSameAsMerged") == log.at["same_as_fixes", "dropped_units"]
    wave_counties = timing[timing["wave_adopter"]]
    assert num("WaveCountiesTfm") == wave_counties["first_month_tfm"].notna().sum()
    assert macros["WaveFirstMonth"] == f"{wave_counties['first_month'].min():%B %Y}"
    # 'Before 2025 (all of them already in the first list)' in the map's caption
    if macros["WaveBeforeFirstList"].startswith("all"):
        assert (timing["adopted"] & ~timing["wave_adopter"]).sum() == timing["left_censored"].sum()


def test_the_top_state_is_the_one_with_most_wave_adopters(macros):
    """The paragraph on the wave's adopters names the state with most counties adopting in the wave,
    with its wave count and share (counties that adopted before the wave are the separate 'all' count)."""
    timing = pd.read_parquet(config.WAVE_TIMING)
    wave_by_state = timing[timing["wave_adopter"]].groupby("state").size()
    adopted_by_state = timing[timing["adopted"]].groupby("state").size()
    top = macros["WaveTopState"]
    assert wave_by_state[top] == wave_by_state.max()
    assert int(macros["WaveTopStateCounties"].replace("{,}", "")) == wave_by_state[top]
    assert int(macros["WaveTopStateCountiesAll"].replace("{,}", "")) == adopted_by_state[top]
    share = 100 * wave_by_state[top] / (timing["state"] == top).sum()
    assert macros["WaveTopStateShare"] == f"{share:.0f}"
    top_five = 100 * wave_by_state.nlargest(5).sum() / wave_by_state.sum()
    assert macros["WaveTopFiveShare"] == f"{top_five:.0f}"
