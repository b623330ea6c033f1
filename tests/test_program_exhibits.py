"""The #12 §5 exhibits: program maps, the treated-county table, treated counties per event time, effects in
levels. Pure helpers on hand-built data; then the built exhibits and macros against the panel and results."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import event_counts, levels, program_maps, treated_counties
from analysis.exhibits.numbers import fmt_int, fmt_num, parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


# ---- pure helpers -------------------------------------------------------------------------------------------


def test_g287_categories_bin_every_year():
    g = pd.Series([0, 2002, 2006, 2007, 2008, 2009, 2010, 2012, 2016])
    assert program_maps.g287_categories(g).tolist() == [
        "None",
        "2002-2006",
        "2002-2006",
        "2007",
        "2008",
        "2009",
        "2010-2012",
        "2010-2012",
        "After 2012",
    ]
    assert set(program_maps.g287_categories(g)) <= set(program_maps.g287_order())


def test_g287_year_before_the_first_bin_stops():
    with pytest.raises(ValueError, match="2001"):
        program_maps.g287_categories(pd.Series([0, 2001]))


def test_sc_categories_and_order():
    s = program_maps.sc_categories(pd.Series([2010, pd.NA, 2008, 2013], dtype="Int64"))
    assert s.tolist() == ["2010", "No date", "2008", "2013"]
    assert program_maps.sc_order(s) == ["2008", "2010", "2013", "No date"]
    with pytest.raises(ValueError, match="2015"):
        program_maps.sc_categories(pd.Series([2015], dtype="Int64"))


def test_top_states_keeps_ties_and_orders_them():
    s = pd.Series(["NC"] * 3 + ["FL"] * 2 + ["AZ"] * 1 + ["CA"] * 1 + ["TX"])
    assert program_maps.top_states(s, k=3) == "NC (3), FL (2), AZ (1), CA (1) and TX (1)"
    assert program_maps.top_states(s, k=2) == "NC (3) and FL (2)"


def test_counties_refuses_timing_that_varies_within_a_county():
    p = pd.DataFrame(
        {
            "fips": ["01001", "01001"],
            "state": "AL",
            "county_name": "A",
            "year": [2000, 2001],
            "g287_county": [0, 2008],
            "sc_year": [2010, 2010],
            "in_main": [True, False],
        }
    )
    with pytest.raises(ValueError, match="g287_county"):
        program_maps.counties(p)
    ok = program_maps.counties(p.assign(g287_county=2008))
    assert ok.to_dict("records") == [
        {"fips": "01001", "state": "AL", "county_name": "A", "g287_county": 2008, "sc_year": 2010, "in_main": True}
    ]


def _panel(timing: dict[str, tuple[int, range]]) -> pd.DataFrame:
    """fips -> (treatment year, years observed)."""
    return pd.DataFrame([{"fips": f, "year": y, "g": g} for f, (g, years) in timing.items() for y in years])


def test_counts_by_event_time_on_a_hand_built_panel():
    df = _panel(
        {
            "a": (2005, range(2000, 2013)),
            "b": (2010, range(2008, 2013)),
            "c": (0, range(2000, 2013)),
            "d": (2016, range(2000, 2013)),
        }
    )  # d adopts after the window: untreated
    counts = event_counts.counts_by_event_time(df, "g")
    assert counts.to_dict() == {-5: 1, -4: 1, -3: 1, -2: 2, -1: 2, 0: 2, 1: 2, 2: 2, 3: 1, 4: 1, 5: 1}


def test_smallest_at_ends():
    c = pd.Series({-5: 10, -4: 10, 0: 12, 4: 3, 5: 0})
    assert event_counts.smallest_at_ends(c, (-5, 4)) == (4, 3)
    assert event_counts.smallest_at_ends(c, (-4, 0)) == (-4, 10)


def test_pre_mean_rate_weighted_and_unweighted():
    df = _panel({"a": (2002, range(2000, 2004)), "b": (0, range(2000, 2004))})
    df["rate"] = [100.0, 300.0, 1e6, 1e6, 5.0, 5.0, 5.0, 5.0]
    df["w"] = [1.0, 3.0, 1.0, 1.0, 9.0, 9.0, 9.0, 9.0]
    assert levels.pre_mean_rate(df, "g", "rate", None) == pytest.approx(200.0)
    assert levels.pre_mean_rate(df, "g", "rate", "w") == pytest.approx((100 + 900) / 4)
    with pytest.raises(ValueError, match="no pre-adoption"):
        levels.pre_mean_rate(df.assign(g=np.where(df["g"] > 0, 2000, 0)), "g", "rate", None)


def test_county_models_join_the_models_of_a_county():
    a = pd.DataFrame(
        {
            "level": ["county", "county", "municipal", "county"],
            "fips": ["01001", "01001", "01003", "01005"],
            "model": ["JEM", "TF", "TF", None],
            "agency_id": ["x", "y", "z", "w"],
        }
    )
    a["fips"] = a["fips"].astype("string")
    a["model"] = a["model"].astype("string")
    assert treated_counties.county_models(a).to_dict() == {"01001": "jail; task force", "01005": "not stated"}


# ---- the built exhibits against the panel and the results ------------------------------------------------------


@pytest.fixture(scope="module")
def macros() -> dict[str, str]:
    if not config.NUMBERS.exists():
        pytest.skip("numbers.tex not built (make exhibits)")
    return parse(config.NUMBERS)


@pytest.fixture(scope="module")
def county():
    return program_maps.counties(pd.read_parquet(config.PANEL))


def _body_rows(name: str) -> list[str]:
    text = (config.TABLES / f"{name}.tex").read_text()
    body = text.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
    return [line for line in body.strip().splitlines() if line.endswith(r"\\")]


def test_maps_exist_and_their_counts_are_the_panel(macros, county):
    for name in ("map_287g", "map_sc"):
        assert (config.FIGURES / f"{name}.pdf").stat().st_size > 0
    window = (county["g287_county"] > 0) & (county["g287_county"] <= config.LAST_YEAR)
    assert macros["MapPanelCounties"] == fmt_int(len(county))
    assert macros["MapMainCounties"] == fmt_int(county["in_main"].sum())
    assert macros["MapOutsideCounties"] == fmt_int((~county["in_main"]).sum())
    assert macros["MapTwoEightySevenCounties"] == fmt_int(window.sum())
    assert macros["MapTwoEightySevenMainCounties"] == fmt_int((window & county["in_main"]).sum())
    assert macros["MapScUndatedCounties"] == fmt_int(county["sc_year"].isna().sum())
    # every panel county gets exactly one category; the bins cover the treated in the window
    cats = program_maps.g287_categories(county["g287_county"])
    assert (cats.isin([b[0] for b in program_maps.BINS_287G])).sum() == window.sum()


def test_treated_table_has_one_row_per_treated_county(macros, county):
    rows = _body_rows("treated_287g")
    window = (county["g287_county"] > 0) & (county["g287_county"] <= config.LAST_YEAR)
    assert len(rows) == window.sum() == int(parse_int(macros["TreatedTableCounties"]))
    assert sum(r.rstrip(" \\").endswith("yes") for r in rows) == (window & county["in_main"]).sum()  # noqa: B005 (a set: trailing spaces and backslashes)


def parse_int(s: str) -> int:
    return int(s.replace("{,}", ""))


def test_event_counts_table_and_macros(macros):
    rows = {
        r.split(" & ")[0]: [parse_int(c.strip(" \\")) for c in r.split(" & ")[1:]] for r in _body_rows("event_counts")
    }
    panel = pd.read_parquet(config.PANEL)
    for name, label, _ in event_counts.SPECS:
        assert rows[label] == event_counts.spec_counts(name, panel).tolist()
    # at adoption, the national design has every treated main-sample county of the map
    assert rows["287(g), index"][event_counts.EVENT_TIMES.index(0)] == parse_int(
        macros["MapTwoEightySevenMainCounties"]
    )
    for name, _, prefix in event_counts.SPECS:
        if prefix:
            lo, hi = event_counts.shown_window(name)
            assert macros[f"{prefix}WindowHi"] == str(hi)
            n = min(
                rows[dict((s, lab) for s, lab, _ in event_counts.SPECS)[name]][event_counts.EVENT_TIMES.index(e)]
                for e in (lo, hi)
            )
            assert macros[f"{prefix}Min"] == fmt_int(n)


def test_level_macros_are_the_results(macros):
    for _, log_name, level_name, prefix in levels.PAIRS:
        o = pd.read_csv(config.RESULTS / level_name / "overall.csv").set_index("estimator")
        assert macros[f"{prefix}Cs"] == fmt_num(o.loc["cs_simple", "estimate"], 0)
        assert macros[f"{prefix}TwfeSe"] == fmt_num(o.loc["twfe", "se"], 0)
        log = pd.read_csv(config.RESULTS / log_name / "overall.csv").set_index("estimator")
        implied = log.loc["cs_simple", "estimate"] * parse_int(macros[f"{prefix}PreMean"])
        assert (
            abs(implied - float(re.sub(r"\$-\$", "-", macros[f"{prefix}CsImplied"])))
            <= abs(log.loc["cs_simple", "estimate"]) + 1
        )  # the mean is rounded in the macro


# ---- Sun-Abraham and Callaway-Sant'Anna: the generated sentence ------------------------------------------------


def test_identity_text_says_identical_only_when_equal():
    from analysis.exhibits import estimator_identity as ei

    same = ei.identity_text(-0.05921223181, -0.05921223181, "never_treated")
    assert "same number" in same and "never-treated" in same and "$-$0.0592" in same
    differ = ei.identity_text(-0.0461, -0.0425, "not_yet_treated")
    assert "differ" in differ and "same number" not in differ
    assert "same number" not in ei.identity_text(-0.05921223181, -0.05921223182, "never_treated")


def test_identity_macros_follow_the_results(macros):
    from analysis.exhibits import estimator_identity as ei

    for name, prefix in ei.SPECS:
        o = pd.read_csv(config.RESULTS / name / "overall.csv").set_index("estimator")
        equal = o.loc["sunab", "estimate"] == o.loc["cs_simple", "estimate"]
        assert ("same number" in macros[f"{prefix}SunabCsText"]) == equal
        assert (macros[f"{prefix}SunabCsNote"] != "") == equal
