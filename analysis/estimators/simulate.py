"""A seeded county x year panel with the county-panel contract's columns and known treatment effects.

Used to test the estimators and the specification runner before (and beside) the real panel.
Crime counts are Poisson with mean ``population / 1e5 * exp(a_i + b_t + c_x + tau_it)``, so the
true effect on every ``log_rate_<x>`` is ``tau_it`` (column ``true_effect``) and on counts the
factor ``exp(tau_it)``. 287(g) timing (``g287_*``) has never-treated counties (0) and a cohort after
the window; Secure Communities timing (``sc_year``) has every dated county treated by 2013.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import FIRST_YEAR, LAST_YEAR
from analysis.coverage import add_coverage
from analysis.treatment import exposure

BASE_RATES = {
    "murder": 5.0,
    "rape": 30.0,
    "robbery": 100.0,
    "agg_assault": 250.0,
    "burglary": 700.0,
    "larceny": 2000.0,
    "mv_theft": 300.0,
}
STATES = [
    "AL",
    "AZ",
    "CA",
    "CO",
    "FL",
    "GA",
    "ID",
    "MA",
    "NC",
    "NV",
    "NY",
    "OH",
    "OK",
    "PA",
    "SC",
    "TN",
    "TX",
    "UT",
    "VA",
    "WA",
]


def dynamic_effect(g: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Heterogeneous dynamic effects: zero before treatment, then growing with exposure and larger
    for early cohorts: tau = -(0.03 + 0.02 e) (1 + (2012 - g) / 10) for e >= 0."""
    return np.where(e >= 0, -(0.03 + 0.02 * e) * (1 + (2012 - g) / 10), 0.0)


def simulate_panel(
    n_counties: int = 400,
    seed: int = 1,
    cohorts=(2003, 2005, 2007, 2009, 2013),
    treated_share: float = 0.5,
    effect=dynamic_effect,
    sc_cohorts=(2008, 2009, 2010, 2011, 2012, 2013),
) -> pd.DataFrame:
    """The simulated panel (FIRST_YEAR..LAST_YEAR), one row per county-year, contract columns plus
    ``true_effect``. Treated counties are spread evenly over ``cohorts``; earlier cohorts have
    higher crime levels (selection on levels, which the fixed effects remove)."""
    rng = np.random.default_rng(seed)
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    state_idx = rng.integers(0, len(STATES), n_counties)
    g = np.where(rng.random(n_counties) < treated_share, rng.choice(cohorts, n_counties), 0)
    level = rng.normal(0, 0.3, n_counties) + np.where(g > 0, 0.2 - 0.01 * (g - 2000), 0.0)
    sc = rng.choice(sc_cohorts, n_counties)
    county = pd.DataFrame(
        {
            "fips": [f"{s + 1:02d}{i:03d}" for i, s in enumerate(state_idx)],
            "state_fips": [f"{s + 1:02d}" for s in state_idx],
            "state": [STATES[s] for s in state_idx],
            "county_name": [f"County {i}" for i in range(n_counties)],
            "g287_county": g,
            "level": level,
            "pop0": np.exp(rng.normal(11.5, 0.8, n_counties)),
            "sc_year": pd.array(np.where(rng.random(n_counties) < 0.02, -1, sc), dtype="Int64").astype("Int64"),
        }
    )
    county["sc_year"] = county["sc_year"].where(county["sc_year"] > 0)
    panel = county.merge(pd.DataFrame({"year": years}), how="cross")
    year_effect = dict(zip(years, np.cumsum(rng.normal(-0.02, 0.03, len(years)))))
    e = panel["year"] - panel["g287_county"]
    panel["true_effect"] = np.where(
        panel["g287_county"] > 0, effect(panel["g287_county"].to_numpy(), e.to_numpy()), 0.0
    )
    panel["population"] = np.round(panel["pop0"] * np.exp(0.01 * (panel["year"] - FIRST_YEAR))).astype("int64")
    mean_log = panel["level"] + panel["year"].map(year_effect) + panel["true_effect"]
    for name, base in BASE_RATES.items():
        mu = panel["population"] / 1e5 * base * np.exp(mean_log + rng.normal(0, 0.05, len(panel)))
        panel[name] = rng.poisson(mu)
    panel["violent"] = panel[["murder", "rape", "robbery", "agg_assault"]].sum(axis=1)
    panel["property"] = panel[["burglary", "larceny", "mv_theft"]].sum(axis=1)
    panel["index"] = panel["violent"] + panel["property"]
    for name in [*BASE_RATES, "violent", "property", "index"]:
        panel[f"rate_{name}"] = panel[name] / panel["population"] * 1e5
        panel[f"log_rate_{name}"] = np.log(panel[f"rate_{name}"].where(panel[f"rate_{name}"] > 0))
    for col in ("g287_any", "g287_jem", "g287_tf", "g287_county_midyear", "g287_any_midyear"):
        panel[col] = panel["g287_county"]
    panel["sc_year_midyear"], panel["sc_dated"] = panel["sc_year"], panel["sc_year"].notna()
    panel["g287_county_wapo"] = panel["g287_county"]
    panel["g287_county_month"] = np.where(panel["g287_county"] > 0, 1, 0)
    panel["g287_county_end"], panel["g287_county_list_date"] = 0, False
    panel["sc_month"] = pd.array(np.where(panel["sc_year"].notna(), 1, pd.NA), dtype="Int64")
    panel["g287_exposure"] = exposure(panel["year"], panel["g287_county"], panel["g287_county_month"])
    panel["sc_exposure"] = exposure(panel["year"], panel["sc_year"], panel["sc_month"])
    panel["covind"], panel["pop_ucr"], panel["ag_off"] = 100.0, panel["population"], 3  # full, stable coverage
    panel["nyc_2001"], panel["state_287g_statewide"], panel["in_main"] = False, False, True
    panel = add_coverage(panel.sort_values(["fips", "year"]).reset_index(drop=True))
    return panel.drop(columns=["level", "pop0"])
