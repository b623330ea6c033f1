"""The reporting-coverage audit: diagnostics on hand-built county-years, every audit rule of the samples
file (what it drops, its log row, the loud stops), ``extends``, the elasticity that justifies the jump
bound (recovered from simulated counts), and the data sanity checks on hand-built and real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import checks, config
from analysis.coverage import add_coverage, county_summary, elasticity_by_jump, fold_jump
from analysis.infra.errors import InputError
from analysis.sample import apply_sample, dropped_by, read_samples

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

YEARS = range(config.FIRST_YEAR, config.LAST_YEAR + 1)


def county(fips: str, pop_ucr=None, ag_off=None, index=None, population=1000, **extra) -> list[dict]:
    """13 county-years; per-year overrides as {year: value} for pop_ucr, ag_off and index."""
    rows = []
    for year in YEARS:
        rows.append(
            dict(
                fips=fips,
                state="AL",
                year=year,
                covind=100.0,
                population=population,
                pop_ucr=(pop_ucr or {}).get(year, population),
                ag_off=(ag_off or {}).get(year, 4),
                index=(index or {}).get(year, 50),
                nyc_2001=False,
                state_287g_statewide=False,
                **extra,
            )
        )
    return rows


def hand_panel() -> pd.DataFrame:
    """One county per audit rule, each failing it in exactly one year, and one clean county."""
    rows = (
        county("01001")  # clean
        + county("01003", pop_ucr={2005: 700})  # level: ln 0.7 = -0.36 (and two jumps)
        + county("01005", pop_ucr={y: 880 for y in range(2006, 2013)})  # one jump of ln 0.88 = -0.128
        + county("01007", ag_off={2008: 9})  # agencies 4 -> 9 (2.25-fold), 9 -> 4
        + county("01009", index={2010: 300}, population=10000)  # crimes 50 -> 300 (6-fold)
        + county("01011", index={2002: 0})  # a zero year (from/to zero: inf jumps)
        + county("01013", index={2004: 250}, population=1000)
    )  # rate 25,000 per 100,000; 5-fold
    df = pd.DataFrame(rows)
    df["rate_index"] = df["index"] / df["population"] * 1e5
    return add_coverage(df)


SAMPLES = """\
base:
  covind_min: 90
  every_year: true
  balanced: true
level:
  extends: base
  cov_ratio_log_max: 0.25
jump:
  extends: base
  cov_ratio_jump_max: 0.1
agencies:
  extends: base
  ag_off_jump_max: 2
crime:
  extends: base
  index_jump_max: 5.5
zero:
  extends: base
  drop_zero_index: true
rate:
  extends: base
  rate_index_max: 20000
all:
  extends: level
  cov_ratio_jump_max: 0.1
  ag_off_jump_max: 2
  index_jump_max: 5.5
  drop_zero_index: true
  rate_index_max: 20000
named:
  extends: base
  counties_exclude: [1001]
  drop_counties_flagged: [flag]
ended:
  drop_after_287g_end: true
"""


@pytest.fixture
def samples_file(tmp_path):
    path = tmp_path / "samples.yaml"
    path.write_text(SAMPLES)
    return path


def test_diagnostics_by_hand():
    df = hand_panel().set_index(["fips", "year"])
    assert df.loc[("01003", 2005), "cov_ratio"] == pytest.approx(0.7)
    assert df.loc[("01003", 2005), "cov_ratio_jump"] == pytest.approx(-np.log(0.7))
    assert df.loc[("01003", 2006), "cov_ratio_jump"] == pytest.approx(-np.log(0.7))  # and back
    assert np.isnan(df.loc[("01001", 2000), "cov_ratio_jump"])  # first year
    assert df.loc[("01007", 2008), "ag_off_jump"] == pytest.approx(2.25) == df.loc[("01007", 2009), "ag_off_jump"]
    assert df.loc[("01011", 2002), "index_jump"] == np.inf and df.loc[("01011", 2002), "zero_index"]
    assert df.loc[("01001", 2005), "ag_off_jump"] == 1.0 and df.loc[("01001", 2005), "index_jump"] == 1.0


def test_diagnostics_at_zero_coverage_and_gaps():
    df = pd.DataFrame(county("01001", pop_ucr={2003: 0, 2004: 0}, ag_off={2003: 0, 2004: 0}))
    df = add_coverage(df[df["year"] != 2008]).set_index("year")
    assert np.isnan(df.loc[2003, "log_cov_ratio"]) and df.loc[2003, "cov_ratio"] == 0
    assert df.loc[2003, "cov_ratio_jump"] == np.inf and np.isnan(df.loc[2004, "cov_ratio_jump"])  # 0 -> 0
    assert df.loc[2005, "cov_ratio_jump"] == np.inf and df.loc[2003, "ag_off_jump"] == np.inf
    assert df.loc[2003, "zero_ag_off"] and np.isnan(df.loc[2009, "cov_ratio_jump"])  # 2008 is missing: no jump
    assert county_summary(df.reset_index()).loc["01001", "max_abs_log_cov_ratio"] == np.inf


def test_fold_jump_is_symmetric():
    a, b = pd.Series([1.0, 4.0, 0.0, 0.0, 3.0]), pd.Series([4.0, 1.0, 2.0, 0.0, np.nan])
    got = fold_jump(a, b)
    assert got.iloc[:3].tolist() == [4.0, 4.0, np.inf] and got.iloc[3:].isna().all()


@pytest.mark.parametrize(
    "name, dropped, rule",
    [
        ("level", {"01003"}, "cov_ratio_log_max_0.25"),
        ("jump", {"01003", "01005"}, "cov_ratio_jump_max_0.1"),
        ("agencies", {"01007"}, "ag_off_jump_max_2"),
        ("crime", {"01009", "01011"}, "index_jump_max_5.5"),  # 01013 is exactly 5-fold: kept
        ("zero", {"01011"}, "drop_zero_index"),
        ("rate", {"01013"}, "rate_index_max_20000"),
    ],
)
def test_each_audit_rule_drops_its_counties(samples_file, name, dropped, rule):
    panel = hand_panel()
    sample, log = apply_sample(panel, name, samples_file)
    assert set(panel["fips"]) - set(sample["fips"]) == dropped
    row = log.set_index("rule").loc[rule]
    assert (row["dropped_units"], row["dropped_rows"]) == (len(dropped), 13 * len(dropped))
    assert list(log["rule"])[:2] == ["covind_min_90_every_year", "balanced"] and row["reason"].strip()
    assert (log["rows_before"] - log["dropped_rows"] == log["rows_after"]).all()


def test_all_rules_in_order_log_every_rule(samples_file):
    panel = hand_panel()
    sample, log = apply_sample(panel, "all", samples_file)
    assert set(sample["fips"]) == {"01001"}
    assert list(log["rule"]) == [
        "covind_min_90_every_year",
        "balanced",
        "cov_ratio_log_max_0.25",
        "cov_ratio_jump_max_0.1",
        "ag_off_jump_max_2",
        "index_jump_max_5.5",
        "drop_zero_index",
        "rate_index_max_20000",
    ]
    # the level rule takes 01003 first, so the jump rule counts only 01005
    assert log.set_index("rule").loc["cov_ratio_jump_max_0.1", "dropped_units"] == 1
    assert (log["rows_after"].iloc[:-1].to_numpy() == log["rows_before"].iloc[1:].to_numpy()).all()
    rules = dropped_by(panel, "all", samples_file)
    assert rules[panel["fips"] == "01003"].eq("cov_ratio_log_max_0.25").all()
    assert rules[panel["fips"] == "01001"].eq("").all()


def test_named_counties_flags_and_termination(samples_file):
    panel = hand_panel().assign(flag=lambda d: d["fips"] == "01005", g287_county_end=0)
    panel.loc[panel["fips"] == "01007", "g287_county_end"] = 2009
    sample, log = apply_sample(panel, "named", samples_file)
    assert {"01001", "01005"}.isdisjoint(sample["fips"])
    assert list(log["rule"][-2:]) == ["counties_exclude", "drop_flagged_flag"]
    sample, log = apply_sample(panel, "ended", samples_file)
    assert len(panel) - len(sample) == 3 and not ((sample["fips"] == "01007") & (sample["year"] > 2009)).any()


def test_extends_resolves_and_refuses(tmp_path, samples_file):
    rules = read_samples(samples_file)
    assert rules["all"]["cov_ratio_log_max"] == 0.25 and rules["all"]["covind_min"] == 90
    assert "extends" not in rules["all"]
    path = tmp_path / "bad.yaml"
    path.write_text("a:\n  extends: b\nb:\n  extends: a\n")
    with pytest.raises(InputError, match="circular extends"):
        read_samples(path)
    path.write_text("a:\n  covind_min: 90\nb:\n  extends: nope\n")
    with pytest.raises(InputError) as err:
        read_samples(path)
    assert err.value.line == 3 and err.value.field == "extends"
    path.write_text("a:\n  covind_min: 90\nb:\n  extends: a\n  covind_above: 0\n")
    assert read_samples(path)["b"] == {"covind_above": 0}  # an own COVIND rule replaces the inherited one
    path.write_text("a:\n  cov_ratio_jump_max: -0.1\n")
    with pytest.raises(InputError, match=r":2: field 'cov_ratio_jump_max'.*>= 0"):
        read_samples(path)


def test_a_rule_on_a_panel_without_its_column_stops(samples_file):
    panel = hand_panel().drop(columns="cov_ratio_jump")
    with pytest.raises(InputError, match="needs the panel column 'cov_ratio_jump'"):
        apply_sample(panel, "jump", samples_file)


def test_elasticity_recovers_known_slopes():
    """Counts per resident follow coverage one for one where it moves by more than 0.1, not at all below."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(600):
        big = i % 3 == 0
        steps = rng.normal(0, 0.25 if big else 0.03, len(YEARS))
        steps = np.where(np.abs(steps) > 0.1, steps, 0.0) if big else np.clip(steps, -0.1, 0.1)
        log_ratio = np.cumsum(steps) - np.cumsum(steps).mean()
        true_rate = np.exp(8 + rng.normal(0, 0.05, len(YEARS)))
        counted = true_rate * (np.exp(log_ratio) if big else 1.0)  # measurement error only for the big moves
        for year, lr, rate in zip(YEARS, log_ratio, counted):
            rows.append(
                dict(
                    fips=f"{i:05d}",
                    year=year,
                    pop_ucr=100_000 * np.exp(lr),
                    population=100_000,
                    ag_off=3,
                    index=rate,
                    rate_index=rate,
                )
            )
    got = elasticity_by_jump(add_coverage(pd.DataFrame(rows)), [0, 0.1, np.inf])
    assert got["slope"].iloc[0] == pytest.approx(0, abs=0.1)
    assert got["slope"].iloc[1] == pytest.approx(1, abs=0.05)
    assert (got["county_years"] > 1000).all() and (got["se"] < 0.05).all()


# ---- data sanity checks (issue 13) -------------------------------------------------------------------


def test_sanity_checks_on_hand_built_data(tmp_path, monkeypatch):
    panel = hand_panel().assign(county_name="X")
    path = tmp_path / "samples.yaml"
    path.write_text(SAMPLES.replace("all:", "main_all:"))
    monkeypatch.setattr(checks, "dropped_by", lambda p, name: dropped_by(p, "main_all", path))
    got = checks.sanity_checks(panel)
    flagged = set(zip(got["check"], got["fips"], got["year"]))
    assert ("zero_index", "01011", 2002) in flagged and ("index_jump", "01009", 2010) in flagged
    assert ("rate_index", "01013", 2004) in flagged and ("index_jump", "01013", 2004) not in flagged  # 5x: not > 5
    assert not got["in_main"].any() and checks.unhandled(got).empty
    assert set(got.loc[got["fips"] == "01011", "handled_by"]) == {"index_jump_max_5.5"}


def test_sanity_checks_stop_on_a_kept_county_year(monkeypatch):
    panel = hand_panel().assign(county_name="X")
    monkeypatch.setattr(checks, "dropped_by", lambda p, name: pd.Series("", index=p.index))
    got = checks.sanity_checks(panel)
    assert len(checks.unhandled(got)) == len(got) > 0
    monkeypatch.setattr(
        checks, "KNOWN", {(c, f, int(y)): "test" for c, f, y in zip(got["check"], got["fips"], got["year"])}
    )
    assert checks.unhandled(got).empty


@pytest.fixture(scope="module")
def panel():
    if not config.PANEL.exists():
        pytest.skip("county panel not built (make panel)")
    return pd.read_parquet(config.PANEL)


def test_real_sanity_checks_are_all_handled(panel):
    """Every zero-crime year, > 5-fold jump and implausible rate of the panel is listed and dropped from the
    main sample by a named rule; the listing counts match the panel's own columns."""
    got = checks.sanity_checks(panel)
    assert checks.unhandled(got).empty and not got["in_main"].any()
    assert (got["handled_by"] != "").all()
    counts = got["check"].value_counts()
    assert counts.get("zero_index", 0) == (panel["index"] == 0).sum()
    assert counts.get("index_jump", 0) == (panel["index_jump"] > checks.INDEX_JUMP_MAX).sum()
    assert counts.get("rate_index", 0) == (panel["rate_index"] > checks.RATE_INDEX_MAX).sum()
    if config.SANITY_CHECKS.exists():  # the make step's listing is this one
        written = pd.read_csv(config.SANITY_CHECKS, dtype={"fips": str})
        assert len(written) == len(got) and written["handled_by"].fillna("").ne("").all()


def test_cook_county_is_the_case_the_audit_catches(panel):
    """COVIND 100 every year, yet the counted agencies cover about half of Cook County IL until 2007."""
    cook = panel[panel["fips"] == "17031"].set_index("year")
    assert (cook["covind"] >= 90).all() and cook.loc[2005, "cov_ratio"] < 0.6 < 0.95 < cook.loc[2012, "cov_ratio"]
    assert not cook["in_main"].any()
