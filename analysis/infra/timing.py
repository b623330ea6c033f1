"""Robust wall-clock timing: repeat, interleave, report the median and the spread.

Used by the benchmark (analysis.infra.bench, analysis.infra.bench_scaling). Functions compared with each
other are timed in the same process, in turns (a, b, a, b, ...), so drift in the machine's load
falls on all of them alike; a ratio is only ever stated between medians measured that way.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

MIN_SECONDS, MIN_REPS = 1.0, 20  # a short measurement runs until both hold
BUDGET, LONG_REPS = 60.0, 3  # a long one stops after this many seconds, with at least LONG_REPS runs


def summary(seconds: list[float]) -> dict:
    """Median, quartiles (linear interpolation), min, max, number and total of the ``seconds``."""
    s = np.asarray(seconds, float)
    q25, median, q75 = np.percentile(s, [25, 50, 75])
    return {
        "median": float(median),
        "q25": float(q25),
        "q75": float(q75),
        "min": float(s.min()),
        "max": float(s.max()),
        "reps": len(s),
        "total": float(s.sum()),
    }


def done(
    seconds: list[float],
    min_seconds: float = MIN_SECONDS,
    min_reps: int = MIN_REPS,
    budget: float = BUDGET,
    long_reps: int = LONG_REPS,
) -> bool:
    """Whether a measurement has run enough: ``min_reps`` runs and ``min_seconds`` in total, or,
    for a long one, ``budget`` seconds in total and ``long_reps`` runs."""
    total = sum(seconds)
    return (len(seconds) >= min_reps and total >= min_seconds) or (total >= budget and len(seconds) >= long_reps)


def repeat(
    fns: dict[str, Callable[[], object]], clock: Callable[[], float] = time.perf_counter, **rules
) -> dict[str, dict]:
    """Time every function of ``fns`` in turns until each is ``done`` (``rules``: its keywords):
    for each name, ``summary`` of its run times plus ``result``, the value its last run returned."""
    seconds = {name: [] for name in fns}
    results = {}
    while not all(done(seconds[name], **rules) for name in fns):
        for name, fn in fns.items():
            if done(seconds[name], **rules):
                continue
            start = clock()
            results[name] = fn()
            seconds[name].append(clock() - start)
    return {name: {**summary(seconds[name]), "result": results[name]} for name in fns}
