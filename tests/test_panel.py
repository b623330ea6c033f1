"""Tests of the county panel, its schema check, the sample log, named samples and the writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import panel as panel_module
from analysis.config import FIRST_YEAR, LAST_YEAR, SAMPLES
from analysis.coverage import add_coverage
from analysis.infra.errors import InputError
from analysis.panel import PanelSchemaError, build_panel, merge_treatment, sample_log_problems, validate_panel
from analysis.readers.fips_recodes import read_recodes
from analysis.sample import AUDIT_RULES, apply_sample, read_samples, state_losses

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

RAW_CRIME_RECORDS = 3146 + 3147 * 7 + 3172 + 3177 * 2 + 3178 * 2
YEARS = LAST_YEAR - FIRST_YEAR + 1


@pytest.fixture(scope="module")
def built():
    return build_panel()


def test_unique_county_years_and_schema(built):
    panel, _, _, _, codebook = built
    validate_panel(panel, codebook)
    assert not panel.duplicated(["fips", "year"]).any()
    assert list(panel.columns) == list(codebook["column"])
    assert set(panel["year"]) == set(range(FIRST_YEAR, LAST_YEAR + 1))
    assert (panel["fips"].str.len() == 5).all() and panel["state"].notna().all()
    meck = panel.set_index(["fips", "year"]).loc[("37119", 2012)]
    assert meck["rate_violent"] == pytest.approx(meck["violent"] / meck["population"] * 1e5)
    assert meck["log_rate_violent"] == pytest.approx(np.log(meck["rate_violent"] + 1))
    assert (panel["n_years"] == panel.groupby("fips")["year"].transform("size")).all()


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda p: pd.concat([p, p.iloc[[0]]]), "(fips, year) is not unique"),
        (lambda p: p.assign(robbery=p["robbery"].where(p.index != 3, -1)), "a count is negative"),
        (lambda p: p.assign(year=p["year"].where(p.index != 3, 1999)), "year is outside"),
        (lambda p: p.assign(g287_county=p["g287_county"].where(p.index != 3, 1999)), "g287_county is not 0"),
        (lambda p: p.assign(sc_year=p["sc_year"].where(p.index != 3, 2007)), "sc_year is not NA"),
        (lambda p: p.assign(rate_murder=p["rate_murder"].where(p.index != 3, np.inf)), "a rate is not finite"),
        (lambda p: p.assign(fips=p["fips"].where(p.index != 3, "1001")), "fips is not 5 digits"),
        (lambda p: p.assign(extra=1), "column 'extra' is not in the codebook"),
        (lambda p: p.drop(columns="cov_min"), "codebook column 'cov_min' is missing"),
    ],
)
def test_validate_panel_refuses(built, corrupt, words):
    with pytest.raises(PanelSchemaError, match=words.replace("(", r"\(").replace(")", r"\)")):
        validate_panel(corrupt(built[0].copy()), built[4])


def test_sample_log_reconciles_with_raw_counts(built):
    panel, _, _, log, _ = built
    assert list(log["step"]) == list(range(1, len(log) + 1))
    assert sample_log_problems(log, panel) == []
    first = log.groupby("stage").first()
    assert first.loc["crime", "rows_before"] == RAW_CRIME_RECORDS
    assert first.loc["treatment_sc", "rows_before"] == 3242
    assert log["reason"].str.len().min() > 10


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda log: log.assign(dropped_rows=log["dropped_rows"] + (log["step"] == 3)), "step 3"),
        (
            lambda log: log.assign(
                rows_after=log["rows_after"] - (log["step"] == 1), dropped_rows=log["dropped_rows"] + (log["step"] == 1)
            ),
            "does not start where",
        ),
    ],
)
def test_sample_log_problems_are_named(built, corrupt, words):
    panel, _, _, log, _ = built
    problems = sample_log_problems(corrupt(log.copy()), panel)
    assert problems and any(words in p for p in problems)
    assert sample_log_problems(log, panel.assign(in_main=False))[-1].startswith("sample_main ends at")


def test_main_sample_is_balanced_and_covered(built):
    """The main sample recomputed from the panel's columns and the bounds in samples.yaml, by hand."""
    panel = built[0]
    rules = read_samples(SAMPLES)["main"]
    main = panel[panel["in_main"]]
    assert (main.groupby("fips")["year"].nunique() == YEARS).all()
    assert (main["covind"] >= rules["covind_min"]).all()
    by_county = panel.groupby("fips").agg(
        years=("year", "size"),
        cov=("covind", "min"),
        ratio_lo=("cov_ratio", "min"),
        ratio_hi=("cov_ratio", "max"),
        jump=("cov_ratio_jump", "max"),
        agencies=("ag_off_jump", "max"),
        crime=("index_jump", "max"),
        zero=("index", "min"),
        rate=("rate_index", "max"),
    )
    keep = (
        (by_county["years"] == YEARS)
        & (by_county["cov"] >= rules["covind_min"])
        & (by_county["ratio_lo"] >= np.exp(-rules["cov_ratio_log_max"]))
        & (by_county["ratio_hi"] <= np.exp(rules["cov_ratio_log_max"]))
        & ~(by_county["jump"] > rules["cov_ratio_jump_max"])
        & ~(by_county["agencies"] > rules["ag_off_jump_max"])
        & ~(by_county["crime"] > rules["index_jump_max"])
        & (by_county["zero"] > 0)
        & (by_county["rate"] <= rules["rate_index_max"])
    )
    expected = by_county[keep].index
    assert set(main["fips"]) == set(expected) and len(main) == len(expected) * YEARS
    assert main["cov_ratio"].between(np.exp(-rules["cov_ratio_log_max"]), np.exp(rules["cov_ratio_log_max"])).all()


def test_main_sample_log_counts_every_audit_rule(built):
    """Each audit rule's row of the sample log: what it drops equals the counties, among those left by the
    rules before it, that fail it in some year (recomputed here from the panel columns)."""
    panel, _, _, log, _ = built
    rules = read_samples(SAMPLES)["main"]
    main_log = log[log["stage"] == "sample_main"].set_index("rule")
    assert list(main_log.index) == main_rule_names()
    by = panel.groupby("fips")
    keep = (by["year"].transform("size") == YEARS) & (by["covind"].transform("min") >= rules["covind_min"])
    left = panel[keep]
    checks = {
        "cov_ratio_log_max": lambda d: ~(d["log_cov_ratio"].abs() <= rules["cov_ratio_log_max"]),
        "cov_ratio_jump_max": lambda d: d["cov_ratio_jump"] > rules["cov_ratio_jump_max"],
        "ag_off_jump_max": lambda d: d["ag_off_jump"] > rules["ag_off_jump_max"],
        "index_jump_max": lambda d: d["index_jump"] > rules["index_jump_max"],
        "drop_zero_index": lambda d: d["index"] == 0,
        "rate_index_max": lambda d: d["rate_index"] > rules["rate_index_max"],
    }
    for key, fails in checks.items():
        row = main_log.loc[key if isinstance(rules[key], bool) else f"{key}_{rules[key]:g}"]
        failing = left[fails(left).groupby(left["fips"]).transform("any")]
        assert (row["dropped_units"], row["dropped_rows"]) == (failing["fips"].nunique(), len(failing)), key
        assert row["units_before"] == left["fips"].nunique() and row["reason"].strip()
        left = left[~left["fips"].isin(failing["fips"])]
    assert main_log["units_after"].iloc[-1] == left["fips"].nunique() == panel.loc[panel["in_main"], "fips"].nunique()


def test_state_losses_add_up(built):
    panel = built[0]
    losses = state_losses(panel, panel[panel["in_main"]])
    assert losses["counties_panel"].sum() == panel["fips"].nunique()
    assert losses["counties_lost"].sum() == panel["fips"].nunique() - panel.loc[panel["in_main"], "fips"].nunique()
    assert losses["counties_lost"].is_monotonic_decreasing and len(losses) == panel["state_fips"].nunique()


def test_merge_treatment_on_hand_made_tables():
    df = pd.DataFrame({"fips": ["01001", "37119", "51019"], "state_fips": ["01", "37", "51"], "year": 2005})
    date = pd.to_datetime
    agreements = pd.DataFrame(
        {
            "fips": pd.array(["37119", "51515", "51019", None], dtype="string"),
            "state_fips": ["37", "51", "51", "12"],
            "level": ["county", "municipal", "county", "state"],
            "model": ["JEM", "TF", "JEM", "TF"],
            "first_signed": date(["2006-02-27", "2009-08-01", "2010-03-01", "2002-07-01"]),
        }
    )
    sc = pd.DataFrame(
        {
            "fips": pd.array(["51019", "51515", "37119"], dtype="string"),
            "state": ["VA", "VA", "NC"],
            "sc_month": pd.array([6, 5, None], dtype="Int64"),
            "sc_year": pd.array([2010, 2010, None], dtype="Int64"),
            "sc_year_midyear": pd.array([2010, 2010, None], dtype="Int64"),
            "sc_dated": [True, True, False],
        }
    )
    out = merge_treatment(df, agreements, sc, read_recodes()).set_index("fips")
    assert out.loc["01001", ["g287_county", "g287_any"]].tolist() == [0, 0]
    assert pd.isna(out.loc["01001", "sc_year"]) and not out.loc["01001", "sc_dated"]
    assert out.loc["37119", ["g287_county", "g287_jem", "g287_tf"]].tolist() == [2006, 2006, 0]
    # Bedford city (51515) folds into Bedford County (51019): earliest dates win
    assert out.loc["51019", ["g287_county", "g287_any", "g287_any_midyear", "g287_tf"]].tolist() == [
        2010,
        2009,
        2010,
        2009,
    ]
    assert out.loc["51019", ["g287_county_month", "g287_county_end", "g287_exposure"]].tolist() == [3, 0, 0.0]
    assert out.loc["51019", "sc_exposure"] == 0.0 and pd.isna(out.loc["37119", "sc_exposure"])  # 2005; undated
    assert out.loc["51019", ["sc_year", "sc_month"]].tolist() == [2010, 5]
    assert out["state_287g_statewide"].tolist() == [False, False, False]


def tiny_panel() -> pd.DataFrame:
    """Three counties x 13 years: A full coverage; B one year at 80; C (NY) with a 2001 NYC flag and a gap."""
    rows = []
    for fips, state in [("01001", "AL"), ("01003", "AL"), ("36061", "NY")]:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            if fips == "36061" and year == 2012:
                continue
            covind = (
                80.0 if (fips == "01003" and year == 2004) else (0.0 if year == 2003 and fips == "36061" else 100.0)
            )
            rows.append(
                dict(
                    fips=fips,
                    state=state,
                    year=year,
                    covind=covind,
                    nyc_2001=(fips == "36061" and year == 2001),
                    state_287g_statewide=state == "AL",
                    pop_ucr=1000,
                    population=1000,
                    ag_off=2,
                    index=50,
                    rate_index=5000.0,
                )
            )
    return add_coverage(pd.DataFrame(rows))  # full, stable coverage: the audit rules drop nothing here


def main_rule_names() -> list[str]:
    """The rule names the committed 'main' sample writes to the sample log, from analysis/samples.yaml."""
    main = read_samples(SAMPLES)["main"]
    names = [f"covind_min_{main['covind_min']:g}_every_year", "balanced"]
    for key in AUDIT_RULES:
        if key in main and main[key] is not False:
            names.append(key if isinstance(main[key], bool) else f"{key}_{main[key]:g}")
    return names


@pytest.mark.parametrize(
    "name, kept, rules",
    [
        ("main", {"01001": 13}, main_rule_names()),
        ("covind90", {"01001": 13}, ["covind_min_90_every_year", "balanced"]),
        ("cov75", {"01001": 13, "01003": 13, "36061": 11}, ["covind_min_75"]),
        ("cov_pos", {"01001": 13, "01003": 13, "36061": 11}, ["covind_above_0"]),
        ("main_no_statewide", {}, ["drop_statewide_287g_states", *main_rule_names()]),
    ],
)
def test_named_samples(name, kept, rules):
    panel = tiny_panel()
    sample, log = apply_sample(panel, name)
    assert sample.groupby("fips").size().to_dict() == kept
    assert list(log["rule"]) == rules and (log["stage"] == f"sample_{name}").all()
    assert log["rows_before"].iloc[0] == len(panel) and log["rows_after"].iloc[-1] == len(sample)


def test_sample_options_from_a_custom_file(tmp_path):
    path = tmp_path / "samples.yaml"
    path.write_text("x:\n  states_exclude: [AL]\n  drop_nyc_2001: true\n")
    sample, log = apply_sample(tiny_panel(), "x", path)
    assert set(sample["fips"]) == {"36061"} and not sample["nyc_2001"].any()
    assert log[["rule", "dropped_rows", "dropped_units"]].values.tolist() == [
        ["states_exclude", 26, 2],
        ["drop_nyc_2001", 1, 0],
    ]


def test_bad_sample_file_names_line_and_field(tmp_path):
    path = tmp_path / "samples.yaml"
    path.write_text("main:\n  covind_min: 90\n  balance: true\n")
    with pytest.raises(InputError) as err:
        read_samples(path)
    assert (err.value.line, err.value.field) == (3, "balance")
    path.write_text("main:\n  covind_min: high\n")
    with pytest.raises(InputError, match=":2: field 'covind_min'"):
        read_samples(path)
    with pytest.raises(InputError, match="no sample named 'nope'"):
        apply_sample(tiny_panel(), "nope")
    assert {"main", "cov75", "cov_pos"} <= set(read_samples(SAMPLES))


def test_main_writes_all_outputs_or_none(built, tmp_path, monkeypatch):
    targets = ["PANEL", "AGREEMENTS", "SC_ACTIVATION", "SAMPLE_LOG", "CODEBOOK", "SAMPLE_STATE_LOSSES"]
    for name in targets:
        monkeypatch.setattr(panel_module, name, tmp_path / name.lower())
    monkeypatch.setattr(panel_module, "build_panel", lambda: built)
    real_write_csv = panel_module.write_csv

    def failing_write_csv(df, target):
        if "share_lost" in df:  # the last output: the five before it are already written to temporaries
            raise OSError("disk full")
        real_write_csv(df, target)

    monkeypatch.setattr(panel_module, "write_csv", failing_write_csv)
    with pytest.raises(OSError):
        panel_module.main()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(panel_module, "write_csv", real_write_csv)
    panel_module.main()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n.lower() for n in targets)
    written = pd.read_parquet(tmp_path / "panel")
    assert len(written) == len(built[0]) and written["fips"].str.len().eq(5).all()
