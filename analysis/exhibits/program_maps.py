"""County maps of the two programs, 2000-2012 (Programs and timing section).

* Figure map_287g: each county by the year of its first county-level 287(g) agreement
  (g287_county) in year bins, agreements after the data end, or none.
* Figure map_sc: each county by its Secure Communities activation year (sc_year, 2008-2013), or
  no activation date.
* Both: counties of the panel outside the main sample are hatched; counties not in the panel are
  grey ("Not in panel"). Legend counts are counties of the panel.
* Macros: the counts behind the captions (Map*).
"""

from __future__ import annotations

import matplotlib as mpl
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.patches import Patch

from analysis.config import FIRST_YEAR, LAST_YEAR
from analysis.exhibits import inputs, style
from analysis.exhibits.maps import LEGEND_HEIGHT, boundaries, county_map, map_ids
from analysis.exhibits.numbers import fmt_int

# 287(g) year bins (label, first year, last year), in legend order; then LATE and NONE.
BINS_287G = [
    ("2002-2006", 2002, 2006),
    ("2007", 2007, 2007),
    ("2008", 2008, 2008),
    ("2009", 2009, 2009),
    ("2010-2012", 2010, LAST_YEAR),
]
LATE_287G = f"After {LAST_YEAR}"
NONE_287G = "None"
SC_NONE = "No date"
HATCH = "////"
HATCH_COLOR = "#7F7F7F"
OUTSIDE_LABEL = "Outside main sample (hatched)"
EXTRA_LEGEND_ROW = 0.35  # inches: the legend has a third row (the hatched entry)


def counties(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per county of the panel: fips, state, county_name, g287_county, sc_year, in_main (any
    county-year in the main sample). ValueError if a timing column varies within a county."""
    varying = [c for c in ("g287_county", "sc_year") if (panel.groupby("fips")[c].nunique(dropna=False) > 1).any()]
    if varying:
        raise ValueError(f"county_panel.parquet: {varying} vary within a county; a county has one timing")
    return panel.groupby("fips", as_index=False).agg(
        state=("state", "first"),
        county_name=("county_name", "first"),
        g287_county=("g287_county", "first"),
        sc_year=("sc_year", "first"),
        in_main=("in_main", "any"),
    )


def g287_categories(g: pd.Series) -> pd.Series:
    """The map category of each first year of a county-level agreement (0 = never): a BINS_287G label,
    LATE_287G after the data end, NONE_287G for 0. ValueError for a year before the first bin."""
    out = pd.Series(NONE_287G, index=g.index, dtype=object)
    out[g > LAST_YEAR] = LATE_287G
    for label, lo, hi in BINS_287G:
        out[(g >= lo) & (g <= hi)] = label
    stray = (g > 0) & (g < BINS_287G[0][1])
    if stray.any():
        raise ValueError(f"g287_county before {BINS_287G[0][1]} fits no map bin: {sorted(g[stray].unique())}")
    return out


def g287_order() -> list[str]:
    return [b[0] for b in BINS_287G] + [LATE_287G, NONE_287G]


def sc_categories(year: pd.Series) -> pd.Series:
    """The map category of each SC activation year: the year as text, SC_NONE where missing.
    ValueError for a year outside FIRST_YEAR..LAST_YEAR + 1."""
    y = pd.to_numeric(year, errors="coerce")
    bad = y.notna() & ((y < FIRST_YEAR) | (y > LAST_YEAR + 1))
    if bad.any():
        raise ValueError(f"sc_year outside {FIRST_YEAR}-{LAST_YEAR + 1}: {sorted(y[bad].unique())}")
    return pd.Series([SC_NONE if pd.isna(v) else str(int(v)) for v in y], index=year.index, dtype=object)


def sc_order(cats: pd.Series) -> list[str]:
    return sorted(c for c in cats.unique() if c != SC_NONE) + [SC_NONE]


def hatch_counties(ax, fips: list[str]) -> int:
    """Hatch the map counties that the panel codes ``fips`` are drawn on; returns how many map
    counties were hatched."""
    geo = boundaries()
    targets = {t for ids in map_ids(fips, set(geo.all_ids)).values() for t in ids}
    paths = [p for f, p in zip(geo.ids, geo.paths) if f in targets]
    ax.add_collection(
        PathCollection(paths, facecolors="none", edgecolors=HATCH_COLOR, linewidths=0, hatch=HATCH), autolim=False
    )
    return len(paths)


def draw(categories: pd.Series, order: list[str], colors: list, outside: list[str], title: str):
    """A categorical county map of ``categories`` (indexed by fips) with the counties ``outside``
    hatched and a legend entry for them."""
    x0, y0, x1, y1 = boundaries().bbox
    height = style.TEXT_WIDTH * (y1 - y0) / (x1 - x0) + LEGEND_HEIGHT + EXTRA_LEGEND_ROW
    fig, ax = county_map(
        categories,
        categories=order,
        colors=colors,
        counts=True,
        legend_title=title,
        missing_label="Not in panel",
        legend_columns=4,
        height=height,
    )
    hatch_counties(ax, outside)
    legend = ax.get_legend()
    handles = list(legend.legend_handles) + [
        Patch(facecolor="white", edgecolor=HATCH_COLOR, hatch=HATCH, linewidth=0, label=OUTSIDE_LABEL)
    ]
    labels = [t.get_text() for t in legend.get_texts()] + [OUTSIDE_LABEL]
    ax.legend(
        handles=handles,
        labels=labels,
        title=title,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=4,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.2,
    )
    return fig


def top_states(states: pd.Series, k: int = 3) -> str:
    """'NC (9), FL (5), AZ (4) and CA (4)': the states with at least as many counties as the k-th
    state by count (ties kept), most first, then alphabetical."""
    counts = states.value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    floor = counts.iloc[min(k, len(counts)) - 1]
    items = [f"{st} ({n})" for st, n in counts[counts >= floor].items()]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def macros(c: pd.DataFrame) -> dict[str, str]:
    """The caption counts: counties of the panel, in and outside the main sample, adopters of each
    program in the window (all and main sample)."""
    in_window = (c["g287_county"] > 0) & (c["g287_county"] <= LAST_YEAR)
    sc_window = c["sc_year"].notna() & (c["sc_year"] <= LAST_YEAR)
    main = c["in_main"]
    return {
        "MapPanelCounties": fmt_int(len(c)),
        "MapMainCounties": fmt_int(main.sum()),
        "MapOutsideCounties": fmt_int((~main).sum()),
        "MapTwoEightySevenCounties": fmt_int(in_window.sum()),
        "MapTwoEightySevenMainCounties": fmt_int((in_window & main).sum()),
        "MapTwoEightySevenLateCounties": fmt_int((c["g287_county"] > LAST_YEAR).sum()),
        "MapScWindowCounties": fmt_int(sc_window.sum()),
        "MapScUndatedCounties": fmt_int(c["sc_year"].isna().sum()),
        "MapTwoEightySevenTopStates": top_states(c.loc[in_window, "state"]),
    }


def build() -> dict[str, str]:
    """Write map_287g and map_sc; return the caption macros."""
    c = counties(inputs.panel()).set_index("fips")
    outside = c.index[~c["in_main"]].tolist()
    ramp = [style.OKABE_ITO[k] for k in ("blue", "sky_blue", "green", "yellow", "orange")]
    g = g287_categories(c["g287_county"])
    style.save(
        draw(
            g,
            g287_order(),
            ramp + [style.OKABE_ITO["purple"], "#F0F0F0"],
            outside,
            "First county-level 287(g) agreement",
        ),
        "map_287g",
    )
    s = sc_categories(c["sc_year"])
    order = sc_order(s)
    cmap = mpl.colormaps[style.SEQUENTIAL]
    years = [o for o in order if o != SC_NONE]
    colors = [cmap(x) for x in [0.1 + 0.8 * i / max(len(years) - 1, 1) for i in range(len(years))]] + ["#F0F0F0"]
    style.save(draw(s, order, colors, outside, "Secure Communities activation year"), "map_sc")
    return macros(c.reset_index())
