"""The 2025 wave plan (analysis/plans/wave_2025.yaml) and its runner (analysis.wave_plan): the refusal
without data, bad input, and an end-to-end run on simulated 2013-2026 data that recovers a known effect."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import wave_plan
from analysis.config import ROOT
from analysis.infra.errors import InputError
from analysis.infra.manifest import FIELDS, sha256_of

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

EFFECT = -0.10


def _manifest(path, raw, files):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for f in files:
            rel = f.relative_to(raw).as_posix()
            w.writerow(
                [
                    rel,
                    sha256_of(f),
                    f.stat().st_size,
                    f"https://example.org/{rel}",
                    "simulated",
                    "none",
                    "simulated data",
                    "none",
                    "",
                ]
            )


def simulate(folder, n_states=20, per_state=25, years=range(2013, 2027), seed=11):
    """Crime files for ``years``, their manifest and a wave timing: a third of counties adopt in 2025 or
    2026, a few before the wave; log crime rates fall by EFFECT from the adoption year on."""
    rng = np.random.default_rng(seed)
    raw = folder / "raw"
    (raw / "crime_wave").mkdir(parents=True)
    n = n_states * per_state
    state_fips = np.repeat([f"{s + 1:02d}" for s in range(n_states)], per_state)
    fips = [f"{s}{i:03d}" for s, i in zip(state_fips, np.tile(range(per_state), n_states))]
    u = rng.random(n)
    wave, pre = u < 0.35, (u >= 0.35) & (u < 0.40)
    year = np.where(rng.random(n) < 0.6, 2025, 2026)
    month = rng.integers(1, 13, n)
    first = pd.to_datetime(
        [f"{y}-{m:02d}-01" if w else ("2021-01-01" if p else None) for y, m, w, p in zip(year, month, wave, pre)]
    )
    timing = pd.DataFrame(
        {
            "fips": fips,
            "state_fips": state_fips,
            "state": [f"S{s}" for s in state_fips],
            "adopted": wave | pre,
            "wave_adopter": wave,
            "first_month": first,
        }
    )
    timing["first_year"] = timing["first_month"].dt.year.astype("Int64")
    timing.to_parquet(folder / "timing.parquet")
    level = rng.normal(0, 0.4, n) + 0.2 * wave
    pop = np.exp(rng.normal(11, 0.7, n)).round()
    state_shock = {(s, y): rng.normal(0, 0.02) for s in set(state_fips) for y in years}
    files = []
    for y in years:
        treated = wave & (year <= y)
        shift = level + np.array([state_shock[(s, y)] for s in state_fips]) + 0.01 * (y - 2013) + EFFECT * treated
        violent = rng.poisson(pop / 1e5 * 400 * np.exp(shift))
        prop = rng.poisson(pop / 1e5 * 2500 * np.exp(shift))
        df = pd.DataFrame(
            {
                "fips": fips,
                "year": y,
                "population": pop.astype(int),
                "index": violent + prop,
                "violent": violent,
                "property": prop,
                "covind": np.where(rng.random(n) < 0.02, 50, 100),
            }
        )
        path = raw / "crime_wave" / f"county_crime_{y}.csv"
        df.to_csv(path, index=False)
        files.append(path)
    _manifest(folder / "manifest.csv", raw, files)
    return raw, folder / "manifest.csv", folder / "timing.parquet", timing


def test_the_committed_plan_reads_and_fixes_every_field():
    plan = wave_plan.read_plan()
    assert plan["primary_outcome"] == "index" and plan["estimator"] == "twfe"
    assert plan["fixed_effects"] == ["county", "state^year"]
    assert plan["control_group"] == "never_treated" and plan["cluster"] == "county"
    # Callaway-Sant'Anna, the former primary, is kept as a robustness estimate with its own inference
    assert plan["robustness"]["cs_simple"]["estimator"] == "cs_simple"
    assert plan["robustness"]["cs_simple"]["cluster"] == "state"
    assert plan["robustness"]["imputation"]["fixed_effects"] == ["county", "state^year"]
    assert plan["multiple_testing"] == {"primary": "none", "secondary": "holm"}
    assert wave_plan.required_years(plan) == list(range(2015, 2026))


def test_refuses_without_data_on_todays_manifest():
    """On the package's own data_raw/ (no crime data after 2012) the command exits 1 with one message
    naming the years, the source, the format and the manifest."""
    done = subprocess.run([sys.executable, "-m", "analysis.wave_plan"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    err = done.stderr.strip()
    assert err.startswith("error: the plan wave_2025") and len(err.splitlines()) == 1
    for words in (
        "2015-2025",
        "missing: 2015-2025",
        "FBI Uniform Crime Reporting",
        "crime_wave/county_crime_{year}.csv",
        "fips,year,population,index,violent,property,covind",
        "data_raw/manifest.csv",
        "sha256",
    ):
        assert words in err
    assert done.stdout == ""


def test_refuses_when_one_required_year_is_missing(tmp_path):
    raw, manifest, timing, _ = simulate(tmp_path, n_states=2, per_state=5)
    (raw / "crime_wave" / "county_crime_2019.csv").unlink()
    with pytest.raises(wave_plan.PlanDataMissing, match="missing: 2019"):
        wave_plan.run(raw_dir=raw, manifest=manifest, timing=timing, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_value_named_by_file_line_field(tmp_path):
    raw, manifest, timing, _ = simulate(tmp_path, n_states=2, per_state=5)
    path = raw / "crime_wave" / "county_crime_2020.csv"
    df = pd.read_csv(path, dtype={"fips": str})
    df.loc[3, "violent"] = -4
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match="checksum|sha256"):
        wave_plan.run(raw_dir=raw, manifest=manifest, timing=timing, out=tmp_path / "out")
    _manifest(manifest, raw, sorted((raw / "crime_wave").glob("*.csv")))
    with pytest.raises(InputError, match=r"county_crime_2020.csv:5: field 'violent'"):
        wave_plan.run(raw_dir=raw, manifest=manifest, timing=timing, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_runs_end_to_end_on_simulated_2013_2026_data_and_recovers_the_effect(tmp_path):
    raw, manifest, timing, t = simulate(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.wave_plan",
            "--raw-dir",
            str(raw),
            "--manifest",
            str(manifest),
            "--timing",
            str(timing),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "wave plan: estimated in" in done.stdout
    est = pd.read_csv(out / "estimates.csv")
    log = pd.read_csv(out / "sample_log.csv")
    primary = est[(est["role"] == "primary")].iloc[0]
    assert primary["outcome"] == "index" and primary["estimator"] == "twfe_within_state"
    assert primary["inference"] == "clustered by county (CR1)" and primary["n_clusters"] == primary["n_counties"]
    cs_row = est[est["estimator"] == "cs_simple"].iloc[0]
    assert cs_row["n_clusters"] == 20 and "clustered by state" in cs_row["inference"]
    assert primary["ci_low"] < EFFECT < primary["ci_high"] and primary["ci_high"] < 0
    assert abs(primary["estimate"] - EFFECT) < 0.03
    for _, row in est.iterrows():  # every outcome and design recovers the effect
        assert abs(row["estimate"] - EFFECT) < 0.05
    # every outcome: the primary design first, then the two robustness estimates, not tested
    assert list(est["estimator"]) == ["twfe_within_state", "cs_simple", "imputation_within_state"] * 3
    rob = est[est["role"] == "robustness"]
    assert len(rob) == 6 and rob["pvalue_adjusted"].isna().all()
    assert set(est.loc[est["role"] == "secondary", "estimator"]) == {"twfe_within_state"}
    sec = est[est["role"] == "secondary"]
    assert (sec["pvalue_adjusted"] >= sec["pvalue"]).all() and sec["pvalue_adjusted"].notna().all()
    # the data years used: the plan's 2015 on, every later consecutive year (2013-2014 present, not used)
    assert "2015-2026" in log.loc[0, "reason"]
    # pre-wave adopters and the low-coverage counties are dropped and counted
    assert log.set_index("rule").at["pre_wave_adopters", "counties_dropped"] == int(
        (t["adopted"] & ~t["wave_adopter"]).sum()
    )
    assert log.set_index("rule").at["covind_min", "counties_dropped"] > 0
    assert (log["counties_after"].iloc[-1]) == primary["n_counties"]
    assert (out / "plan.yaml").read_text() == wave_plan.PLAN.read_text()
    # a second run gives the same bytes (seeded bootstrap)
    first = (out / "estimates.csv").read_bytes()
    wave_plan.run(raw_dir=raw, manifest=manifest, timing=timing, out=out)
    assert (out / "estimates.csv").read_bytes() == first


def test_data_after_the_window_shorten_the_controls(tmp_path):
    """With data through 2025 only, the 2026 adopters are left out, not used as controls."""
    raw, manifest, timing, t = simulate(tmp_path, n_states=4, per_state=10, years=range(2015, 2026))
    plan = wave_plan.read_plan()
    files = wave_plan.locate_data(plan, raw, manifest)
    df, log = wave_plan.build_sample(wave_plan.read_crime(files), pd.read_parquet(timing), plan)
    late = set(t.loc[t["wave_adopter"] & (t["first_year"] == 2026), "fips"])
    assert late and not late & set(df["fips"])
    assert log.set_index("rule").at["adopt_after_data", "counties_dropped"] == len(late)


@pytest.mark.parametrize(
    "edit,field",
    [
        (lambda t: t.replace("primary_outcome: index\n", ""), "primary_outcome"),
        (lambda t: t.replace("cluster: county\n", "cluster: county_pair\n"), "cluster"),
        (lambda t: t.replace("bootstrap: 999", "bootstrap: many"), "robustness"),
        (lambda t: t.replace("estimator: twfe\n", "estimator: cs_simple\n"), "estimator"),
        (
            lambda t: t.replace("fixed_effects: [county, state^year]\n", "fixed_effects: [county, year]\n"),
            "fixed_effects",
        ),
        (lambda t: t.replace("imputation: {estimator", "imputed: {estimator"), "robustness.imputed"),
    ],
)
def test_a_broken_plan_is_refused_naming_the_field(tmp_path, edit, field):
    path = tmp_path / "plan.yaml"
    path.write_text(edit(wave_plan.PLAN.read_text()))
    with pytest.raises(InputError, match=f"field '{field}'"):
        wave_plan.read_plan(path)
