"""County maps: any value per county, drawn on the Census county boundaries (us-atlas TopoJSON).

``county_map(values_by_fips, ...)`` draws a categorical map (str, bool or pandas categorical
values: one colour per category, a legend) or a continuous one (numbers: a colour scale and a
colour bar), with state borders, and counties without a value in grey ("No data").

Codes: the boundaries are the 2017 counties (geo/us-atlas/counties-albers-10m.json). A value
given for a code that is not on the map is drawn on the map counties it corresponds to through
the merges of analysis/readers/fips_recodes.csv, read in both directions: 2010 codes renamed
since (Shannon SD 46113 -> 46102, Wade Hampton AK 02270 -> 02158), Bedford city VA 51515 (in
51019 since 2013), and the panel's merged Alaska census areas (02232 -> 02105 and 02230, ...).
A map county's own value wins over values recoded into it; two recoded values that disagree, or
a code that reaches no map county, raise ValueError.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from analysis.config import COUNTY_BOUNDARIES
from analysis.exhibits import style
from analysis.readers.fips_recodes import read_recodes
from analysis.readers.topojson import decode_arcs, features, mesh, read_topology, signed_area

MISSING_COLOR = "#BDBDBD"  # counties without a value
EDGE_COLOR = "#FFFFFF"  # thin county borders
BORDER_COLOR = "#4D4D4D"  # state borders and coast
LEGEND_HEIGHT = 0.6  # inches below the map for the legend or colour bar


@dataclass(frozen=True)
class Boundaries:
    """County outlines (one compound path per county id) and the state borders as polylines."""

    ids: tuple[str, ...]  # the counties drawn, in the order of ``paths``
    paths: tuple[MplPath, ...]
    state_lines: tuple[np.ndarray, ...]
    bbox: tuple[float, float, float, float]
    all_ids: frozenset[str]  # every county of the file, also those too small to draw


def _path(polygons: list[list[np.ndarray]]) -> MplPath | None:
    """One compound path for a feature: every ring closed, exteriors counter-clockwise and holes
    clockwise, so holes stay empty under either fill rule. Rings that quantization collapsed to
    fewer than three distinct points are left out (a polygon whose exterior collapsed, entirely);
    None if nothing is left (a county too small to draw at this scale)."""
    vertices, codes = [], []
    for polygon in polygons:
        if len(polygon[0]) < 4:
            continue
        for k, ring in enumerate(polygon):
            if len(ring) < 4:
                continue
            ring = ring if (signed_area(ring) > 0) == (k == 0) else ring[::-1]
            vertices.append(ring)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 2) + [MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(vertices), np.concatenate(codes)) if vertices else None


@functools.lru_cache(maxsize=4)
def boundaries(path: str | Path = COUNTY_BOUNDARIES, counties: str = "counties", states: str = "states") -> Boundaries:
    """The county outlines of ``path`` (object ``counties``) and, if the file has an object
    ``states``, the state borders and coast (each border once)."""
    topology = read_topology(path)
    arcs = decode_arcs(topology)
    feats = features(topology, counties, arcs)
    drawn = [(f.id, _path(f.polygons)) for f in feats if f.polygons]
    drawn = [(fips, p) for fips, p in drawn if p is not None]
    lines = tuple(mesh(topology, states, "all", arcs)) if states in topology["objects"] else ()
    points = np.concatenate([p.vertices for _, p in drawn])
    bbox = (*points.min(axis=0), *points.max(axis=0))
    return Boundaries(
        tuple(f for f, _ in drawn),
        tuple(p for _, p in drawn),
        lines,
        bbox,
        frozenset(f.id for f in feats if f.id is not None),
    )


def map_ids(codes, on_map: set[str], recodes: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """For each county code, the map counties it is drawn on: itself if on the map, otherwise its
    successors or predecessors in the merges of fips_recodes.csv that are on the map."""
    recodes = read_recodes() if recodes is None else recodes
    merges = recodes[recodes["action"] == "merge"]
    forward = merges.groupby("old_fips")["new_fips"].agg(list).to_dict()
    backward = merges.groupby("new_fips")["old_fips"].agg(list).to_dict()
    return {
        c: [c] if c in on_map else [x for x in forward.get(c, []) + backward.get(c, []) if x in on_map] for c in codes
    }


def _values_on_map(values: pd.Series, on_map: set[str], recodes) -> pd.Series:
    """The values re-indexed by map county (see the module docstring for the rules)."""
    bad = [c for c in values.index if not (isinstance(c, str) and len(c) == 5 and c.isdigit())]
    if bad:
        raise ValueError(f"county codes must be 5-digit strings, got {bad[:5]}")
    if values.index.duplicated().any():
        raise ValueError(f"county codes given twice: {sorted(values.index[values.index.duplicated()])[:5]}")
    targets = map_ids(values.index, on_map, recodes)
    lost = [c for c, ids in targets.items() if not ids]
    if lost:
        raise ValueError(f"{len(lost)} county code(s) are on no map county, even through fips_recodes.csv: {lost[:10]}")
    own = {c: values[c] for c in values.index if targets[c] == [c]}
    recoded: dict[str, list] = {}
    for c in values.index:
        if targets[c] != [c]:
            for t in targets[c]:
                recoded.setdefault(t, []).append((c, values[c]))
    for t, given in recoded.items():
        if t in own:
            continue
        distinct = {v for _, v in given if not pd.isna(v)}
        if len(distinct) > 1:
            raise ValueError(
                f"map county {t} gets different values from {[c for c, _ in given]}: {sorted(map(str, distinct))}"
            )
        own[t] = given[0][1]
    return pd.Series(own, dtype=values.dtype if not isinstance(values.dtype, pd.CategoricalDtype) else "object")


def _categories(values: pd.Series, categories: Sequence | None) -> list:
    if categories is not None:
        unknown = set(values.dropna()) - set(categories)
        if unknown:
            raise ValueError(f"values not among the categories: {sorted(map(str, unknown))}")
        return list(categories)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return sorted(values.dropna().unique(), key=str)


def _category_colors(categories: list, colors, ordered: bool, cmap) -> dict:
    if isinstance(colors, Mapping):
        missing = [c for c in categories if c not in colors]
        if missing:
            raise ValueError(f"no colour for categories {missing}")
        return {c: colors[c] for c in categories}
    if colors is not None:
        if len(colors) < len(categories):
            raise ValueError(f"{len(categories)} categories but {len(colors)} colours")
        return dict(zip(categories, colors))
    if ordered:
        ramp = mpl.colormaps[cmap or style.SEQUENTIAL]
        return dict(zip(categories, [ramp(x) for x in np.linspace(0.1, 0.9, len(categories))]))
    palette = [style.OKABE_ITO[c] for c in style.CYCLE]
    if len(categories) > len(palette):
        raise ValueError(
            f"{len(categories)} categories and {len(palette)} colour-blind-safe colours: "
            "pass colors=, merge categories, or use ordered=True"
        )
    return dict(zip(categories, palette))


def county_map(
    values_by_fips: Mapping | pd.Series,
    *,
    kind: str | None = None,
    categories: Sequence | None = None,
    colors: Sequence | Mapping | None = None,
    ordered: bool = False,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    legend_title: str | None = None,
    counts: bool = False,
    missing_label: str = "No data",
    missing_color: str = MISSING_COLOR,
    legend_columns: int | None = None,
    ax=None,
    width: float = style.TEXT_WIDTH,
    height: float | None = None,
    path: str | Path = COUNTY_BOUNDARIES,
    recodes: pd.DataFrame | None = None,
):
    """A county map of ``values_by_fips`` ({5-digit FIPS: value}); returns (fig, ax).

    kind: 'categorical' or 'continuous'; by default numbers are continuous, anything else
    (str, bool, pandas categorical) categorical. Categorical: ``categories`` fixes the order of
    the legend (default: the categorical's order, else sorted); ``colors`` a list or dict of
    colours (default: Okabe-Ito, or a sequential ramp of ``cmap`` when ``ordered``); ``counts``
    adds the number of counties given each category to its legend label. Continuous: ``cmap``
    (default style.SEQUENTIAL), ``vmin``/``vmax`` and a colour bar titled ``legend_title``.
    Counties of the map without a value are ``missing_color`` and, if any, get a legend entry
    ``missing_label``. State borders are drawn when the boundary file has a ``states`` object.
    """
    values = pd.Series(values_by_fips) if not isinstance(values_by_fips, pd.Series) else values_by_fips
    values.index = values.index.astype(object)
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    kind = kind or ("categorical" if categories is not None or not numeric else "continuous")
    if kind not in ("categorical", "continuous"):
        raise ValueError(f"kind must be 'categorical' or 'continuous', not {kind!r}")
    geo = boundaries(str(path))
    on_map = _values_on_map(values, set(geo.all_ids), recodes)
    if ax is None:
        x0, y0, x1, y1 = geo.bbox
        fig, ax = style.figure(width=width, height=height or width * (y1 - y0) / (x1 - x0) + LEGEND_HEIGHT)
    else:
        fig = ax.figure
    face = np.empty(len(geo.ids), dtype=object)
    handles = []
    if kind == "categorical":
        cats = _categories(values, categories)
        palette = _category_colors(
            cats, colors, ordered or (isinstance(values.dtype, pd.CategoricalDtype) and values.cat.ordered), cmap
        )
        for i, fips in enumerate(geo.ids):
            v = on_map.get(fips)
            face[i] = missing_color if v is None or pd.isna(v) else palette[v]
        given = values.value_counts()
        handles = [
            Patch(facecolor=palette[c], edgecolor="none", label=f"{c} ({given.get(c, 0):,})" if counts else str(c))
            for c in cats
        ]
    else:
        numbers = pd.to_numeric(on_map, errors="raise").astype(float)
        norm = mpl.colors.Normalize(
            vmin=numbers.min() if vmin is None else vmin, vmax=numbers.max() if vmax is None else vmax
        )
        ramp = mpl.colormaps[cmap or style.SEQUENTIAL]
        for i, fips in enumerate(geo.ids):
            v = numbers.get(fips)
            face[i] = missing_color if v is None or np.isnan(v) else ramp(norm(v))
        bar = fig.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=ramp),
            ax=ax,
            orientation="horizontal",
            fraction=0.035,
            pad=0.01,
            shrink=0.5,
            aspect=40,
        )
        bar.outline.set_visible(False)
        if legend_title:
            bar.set_label(legend_title)
    if any(c == missing_color for c in face):
        handles.append(Patch(facecolor=missing_color, edgecolor="none", label=missing_label))
    ax.add_collection(
        PathCollection(list(geo.paths), facecolors=list(face), edgecolors=EDGE_COLOR, linewidths=0.08), autolim=False
    )
    if geo.state_lines:
        ax.add_collection(LineCollection(list(geo.state_lines), colors=BORDER_COLOR, linewidths=0.3), autolim=False)
    x0, y0, x1, y1 = geo.bbox
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # projected coordinates, y pointing down
    ax.set_aspect("equal")
    ax.set_axis_off()
    if handles:
        ax.legend(
            handles=handles,
            title=legend_title if kind == "categorical" else None,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=legend_columns or min(len(handles), 4),
            frameon=False,
            handlelength=1.2,
            columnspacing=1.2,
        )
    return fig, ax
