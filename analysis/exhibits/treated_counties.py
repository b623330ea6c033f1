"""The treated counties of the national 287(g) design (appendix table treated_287g).

One row per county whose first county-level 287(g) agreement (g287_county) falls in the data
window: its first signing date (ours), the Washington Post's first flagged year and the DHS OIG
(2009) signing date where those sources list it, the model(s) of its county-level agreements, the
year its last county-level agreement ended, its Secure Communities activation (year-month), its
FIRST_YEAR (2000) population and whether it is in the main sample. Dates come from treatment_coding.dating
(the same per-county dating as the dating table); the other columns from the panel.
"""

from __future__ import annotations

import pandas as pd

from analysis import config
from analysis.exhibits import inputs, latex
from analysis.exhibits.numbers import fmt_int
from analysis.exhibits.treatment_coding import dating
from analysis.readers.fips_recodes import read_recodes, successor

MODEL_NAMES = {"JEM": "jail", "TF": "task force", "hybrid": "jail + task force"}


def county_models(agreements: pd.DataFrame) -> pd.Series:
    """Per panel county code: the models of its county-level agreements ('jail', 'task force',
    'jail + task force'; 'not stated' where the source gives none), joined by '; '."""
    county = agreements[(agreements["level"] == "county") & agreements["fips"].notna()].copy()
    county["fips"] = successor(county["fips"].astype(str), read_recodes())
    names = county["model"].astype(object).map(lambda m: "not stated" if pd.isna(m) else MODEL_NAMES.get(m, str(m)))
    return names.groupby(county["fips"]).agg(lambda s: "; ".join(sorted(set(s))))


def treated_table(panel: pd.DataFrame, agreements: pd.DataFrame) -> pd.DataFrame:
    """The table's rows (see the module docstring), sorted by first year, state, county. ValueError
    if a treated county of the panel has no dating row."""
    first = panel.sort_values("year").groupby("fips").first()
    g = first["g287_county"]
    treated = first[(g > 0) & (g <= config.LAST_YEAR)]
    pop2000 = panel[panel["year"] == config.FIRST_YEAR].set_index("fips")["population"].reindex(treated.index)
    if pop2000.isna().any():
        raise ValueError(f"treated counties without a {config.FIRST_YEAR} row: {sorted(pop2000.index[pop2000.isna()])}")
    d = dating(agreements, panel).set_index("fips")
    missing = sorted(set(treated.index) - set(d.index))
    if missing:
        raise ValueError(f"treated counties without a dating row: {missing}")
    d = d.loc[treated.index]
    models = county_models(agreements).reindex(treated.index)
    end = treated["g287_county_end"]
    sc = [f"{int(y)}-{int(m):02d}" if pd.notna(y) else "none" for y, m in zip(treated["sc_year"], treated["sc_month"])]
    out = pd.DataFrame(
        {
            "county": treated["county_name"],
            "state": treated["state"],
            "year": treated["g287_county"].astype(int),
            "ours": d["first_signed"].dt.strftime("%Y-%m-%d"),
            "wapo": ["" if pd.isna(v) else str(int(v)) for v in d["wapo_year"]],
            "oig": d["oig_signed"].dt.strftime("%Y-%m-%d").fillna(""),
            "model": models.fillna(""),
            "end": ["" if v == 0 else str(int(v)) for v in end],
            "sc": sc,
            "pop2000": pop2000.astype(int),
            "main": treated.index.map(panel.groupby("fips")["in_main"].any()).map({True: "yes", False: "no"}),
        },
        index=treated.index,
    )
    if (d["year"] != out["year"]).any():
        raise ValueError("the dating table's first year differs from the panel's g287_county")
    return out.sort_values(["year", "state", "county"])


FORMATS = {
    "county": "text",
    "state": "text",
    "ours": "text",
    "wapo": "text",
    "oig": "text",
    "model": "text",
    "end": "text",
    "sc": "text",
    "pop2000": "int",
    "main": "text",
}
LABELS = {
    "county": "County",
    "state": "State",
    "ours": "First signed",
    "wapo": "Post year",
    "oig": "OIG 2009",
    "model": "Model",
    "end": "Ended",
    "sc": "SC",
    "pop2000": "Pop. 2000",
    "main": "Main",
}


def build() -> dict[str, str]:
    """Write table treated_287g; return its counts."""
    panel = inputs.panel()
    agreements = pd.read_parquet(inputs.require(config.DATA_CLEAN / "agreements_287g.parquet"))
    t = treated_table(panel, agreements)
    latex.write_table(latex.data_table(t[list(FORMATS)], FORMATS, labels=LABELS), "treated_287g")
    return {
        "TreatedTableCounties": fmt_int(len(t)),
        "TreatedTableMain": fmt_int((t["main"] == "yes").sum()),
        "TreatedTableWapoListed": fmt_int((t["wapo"] != "").sum()),
        "TreatedTableOigListed": fmt_int((t["oig"] != "").sum()),
        "TreatedTableEnded": fmt_int((t["end"] != "").sum()),
    }
