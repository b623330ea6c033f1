"""The benchmark's machinery: robust repetition, the scaling frames, the report's checks, and one
memory measurement in a fresh process. (The performance targets themselves are checked by the
benchmark, never by timed tests.)"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from analysis import config
from analysis.config import LAST_YEAR
from analysis.infra import bench_scaling, timing

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


# ---- analysis.infra.timing -----------------------------------------------------------------------------
def test_summary_is_median_quartiles_and_range():
    s = timing.summary([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (s["median"], s["q25"], s["q75"], s["min"], s["max"], s["reps"], s["total"]) == (3, 2, 4, 1, 5, 5, 15)


@pytest.mark.parametrize(
    "seconds, expected",
    [
        ([0.01] * 19, False),  # too few runs
        ([0.01] * 20, False),  # 20 runs but 0.2 s
        ([0.05] * 20, True),  # 20 runs and 1 s
        ([30.0, 31.0], False),  # long, but fewer than LONG_REPS runs
        ([30.0, 31.0, 29.0], True),  # budget spent with LONG_REPS runs
    ],
)
def test_done_rules(seconds, expected):
    assert timing.done(seconds) is expected


def test_repeat_interleaves_until_each_is_done_and_keeps_the_last_result():
    ticks = itertools.count()
    clock = lambda: next(ticks) * 0.03  # noqa: E731  every call of the clock advances 30 ms
    calls = []
    out = timing.repeat(
        {"a": lambda: calls.append("a") or len(calls), "b": lambda: calls.append("b") or -1}, clock=clock
    )
    assert calls[:4] == ["a", "b", "a", "b"]
    for name in "ab":
        assert out[name]["reps"] == 34 and out[name]["median"] == pytest.approx(0.03)  # 34 x 30 ms >= 1 s
    assert out["a"]["result"] == len(calls) - 1 and out["b"]["result"] == -1


def test_repeat_stops_a_long_measurement_at_the_budget():
    ticks = itertools.count()
    out = timing.repeat({"slow": lambda: None}, clock=lambda: next(ticks) * 25.0)
    assert out["slow"]["reps"] == 3 and out["slow"]["median"] == 25.0


# ---- analysis.infra.bench_scaling ----------------------------------------------------------------------
def test_scaling_frame_is_the_simulated_panel_reduced_to_the_estimator_frame():
    df = bench_scaling.scaling_frame(300, seed=5)
    assert list(df.columns) == ["id", "year", "y", "g"] and len(df) == 300 * 13
    assert df["id"].nunique() == 300 and df["id"].min() == 0 and df["id"].max() == 299
    assert not df.duplicated(["id", "year"]).any()
    assert df["g"].max() <= LAST_YEAR and (df["g"] == 0).any() and (df["g"] > 0).any()
    assert df.groupby("id")["g"].nunique().max() == 1


def _row(units, ours, dd, own=100.0, baseline=None):
    times = {"ours": ours, "diff-diff": dd, **({"baseline": baseline} if baseline else {})}
    time = {
        p: {"median": t, "q25": t * 0.9, "q75": t * 1.1, "min": t * 0.8, "reps": 20, "att": -0.1, "se": 0.01}
        for p, t in times.items()
    }
    memory = {p: {"peak_mb": own + 500, "own_mb": own, "frame_mb": units * 13 * 32 / 2**20} for p in time}
    return {"units": units, "timing": {"time": time, "load_before": [1.0], "load_after": [1.2]}, "memory": memory}


def test_exponents_and_checks():
    rows = [_row(1_000, 0.1, 0.2), _row(10_000, 1.0, 3.0), _row(bench_scaling.LARGE, 100.0 * 10**0.1, 500, own=2500)]
    exps = bench_scaling.exponents(rows)
    assert exps[0] == pytest.approx(1.0) and exps[1] == pytest.approx(1.05)
    assert bench_scaling.exponents(rows, stat="min") == pytest.approx(exps)
    lines = bench_scaling.checks(rows)
    assert "1.05" in lines[0] and lines[0].endswith("yes.")
    assert "2500 MB" in lines[1] and lines[1].endswith("yes.")
    worse = rows[:2] + [_row(bench_scaling.LARGE, 1000.0, 500, own=3500)]
    assert all(line.endswith("**no**.") for line in bench_scaling.checks(worse))
    assert "not measured" in bench_scaling.checks(rows[:2])[1]


def test_report_states_medians_ratios_failures_and_the_baseline(tmp_path):
    rows = [_row(1_000, 0.1, 0.2, baseline=0.3), _row(10_000, 1.0, 3.0, baseline=9.0)]
    rows[1]["memory"]["diff-diff"] = {"error": "exit status -9: Killed"}
    text = bench_scaling.report(rows, 999, "4730b17")
    assert "| 1,000 | 0.4 | ours | 0.1 [0.09, 0.11] (20) | 600 / 100 | 0.50 |" in text  # ratio of the medians
    assert "| | ours, baseline (4730b17) | 9 [8.1, 9.9] (20) | 600 / 100 | 3.00 |" in text
    assert "failed: exit status -9: Killed" in text and "load average (1 min)" in text
    assert "time of ours, baseline (4730b17) between consecutive sizes" in text
    bench_scaling.plot(rows, tmp_path / "scaling.png", "4730b17")
    assert (tmp_path / "scaling.png").stat().st_size > 1000


@pytest.mark.e2e  # benchmark workers in fresh processes: the slow tier
def test_memory_worker_measures_in_a_fresh_process(tmp_path):
    frame = tmp_path / "frame.parquet"
    bench_scaling.scaling_frame(200).to_parquet(frame, index=False)
    out = bench_scaling._python(["worker", "memory", "--package", "ours", "--frame", str(frame), "--draws", "49"])
    assert out["units"] == 200 and out["peak_mb"] >= out["baseline_mb"] > 0 and out["own_mb"] >= 0
    assert math.isfinite(out["att"]) and out["se"] > 0
    json.dumps(out)
    failed = bench_scaling._python(["worker", "memory", "--package", "ours", "--frame", str(tmp_path / "none.parquet")])
    assert failed["error"].startswith("exit status 1")
    assert np.isfinite(out["first_run_s"])


@pytest.mark.e2e  # benchmark workers in fresh processes: the slow tier
def test_time_worker_times_every_size_and_package_in_one_process(tmp_path):
    frames = []
    for units in (100, 200):
        frames += ["--frame", str(tmp_path / f"f{units}.parquet")]
        bench_scaling.scaling_frame(units).to_parquet(frames[-1], index=False)
    baseline = str(config.ROOT / "analysis" / "estimators" / "cs.py")  # the same code as a baseline
    out = bench_scaling._python(["worker", "time", *frames, "--draws", "19", "--baseline-cs", baseline])
    assert set(out) == {"100", "200"}
    for row in out.values():
        assert set(row["time"]) == {"ours", "diff-diff", "baseline"} and row["load_before"] and row["load_after"]
        assert (row["time"]["ours"]["att"], row["time"]["ours"]["se"]) == (
            row["time"]["baseline"]["att"],
            row["time"]["baseline"]["se"],
        )
        assert all(t["reps"] >= timing.MIN_REPS and t["total"] >= timing.MIN_SECONDS for t in row["time"].values())
        assert row["time"]["ours"]["att"] == pytest.approx(row["time"]["diff-diff"]["att"], abs=1e-10)
