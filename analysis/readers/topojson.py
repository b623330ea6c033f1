"""A small TopoJSON reader: arcs decoded, polygons assembled, shared borders as lines.

TopoJSON (https://github.com/topojson/topojson-specification) stores each border once, as an
arc; a polygon ring is a list of arc indices (``~i``, i.e. ``-i - 1``, means arc ``i`` reversed).
In a quantized topology the arcs hold integer positions, each after the first a delta from the
previous one, and ``transform`` maps them back: ``x = x_q * scale_x + translate_x``.

Used for the county boundaries of geo/us-atlas/counties-albers-10m.json (objects counties,
states, nation; already projected, so coordinates are drawn as they are). No GIS library needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.config import COUNTY_BOUNDARIES
from analysis.infra.errors import InputError

POLYGONAL = {"Polygon", "MultiPolygon"}
KNOWN = POLYGONAL | {"GeometryCollection", "LineString", "MultiLineString", "Point", "MultiPoint", None}


@dataclass
class Feature:
    """One geometry of an object: its id, properties, and polygons (each a list of rings, the
    exterior first and then its holes; a ring is an (n, 2) array whose last point repeats its first)."""

    id: str | None
    properties: dict = field(default_factory=dict)
    polygons: list[list[np.ndarray]] = field(default_factory=list)


def read_topology(path: str | Path = COUNTY_BOUNDARIES) -> dict:
    """The topology as parsed JSON, checked: type Topology, arcs and objects present, and a
    transform (if any) with two scale and two translate numbers. InputError names the file."""
    path = Path(path)
    try:
        topology = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON ({err.msg})", line=err.lineno) from None
    except FileNotFoundError:
        raise InputError(path, "file not found (run `make data`)") from None
    if not isinstance(topology, dict) or topology.get("type") != "Topology":
        raise InputError(path, "not a TopoJSON topology (type must be 'Topology')", field="type")
    for key, kind in [("arcs", list), ("objects", dict)]:
        if not isinstance(topology.get(key), kind):
            raise InputError(path, f"'{key}' missing or not a {kind.__name__}", field=key)
    transform = topology.get("transform")
    if transform is not None:
        for key in ("scale", "translate"):
            value = transform.get(key) if isinstance(transform, dict) else None
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
                raise InputError(path, f"transform.{key} must be two numbers", field=f"transform.{key}")
    topology["_path"] = str(path)
    return topology


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Every arc as an (n, 2) float array of positions (delta-decoded and transformed when the
    topology is quantized; extra position dimensions dropped)."""
    transform = topology.get("transform")
    out = []
    for i, arc in enumerate(topology["arcs"]):
        try:
            xy = np.asarray(arc, dtype=float)[:, :2]
        except (ValueError, IndexError):
            raise InputError(
                topology.get("_path", "topology"), f"arc {i} is not a list of [x, y] positions", field="arcs"
            ) from None
        if transform is not None:
            xy = np.cumsum(xy, axis=0) * transform["scale"] + transform["translate"]
        out.append(xy)
    return out


def _ring(indices: list[int], arcs: list[np.ndarray], where: str) -> np.ndarray:
    """The points of a ring (or line) from its arc indices; each arc after the first starts where
    the previous one ended, so its first point is dropped."""
    pieces = []
    for k, index in enumerate(indices):
        if not isinstance(index, int) or not -len(arcs) <= index < len(arcs):
            raise InputError(where, f"arc index {index!r} out of range (0..{len(arcs) - 1})", field="arcs")
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        pieces.append(points if k == 0 else points[1:])
    return np.concatenate(pieces) if pieces else np.empty((0, 2))


def _polygon(rings: list[list[int]], arcs: list[np.ndarray], where: str) -> list[np.ndarray]:
    return [_ring(r, arcs, where) for r in rings]


def features(topology: dict, name: str, arcs: list[np.ndarray] | None = None) -> list[Feature]:
    """The geometries of object ``name`` (a GeometryCollection or a single geometry) as Features,
    nested collections flattened. Lines and points have no polygons."""
    where = topology.get("_path", "topology")
    objects = topology["objects"]
    if name not in objects:
        raise InputError(where, f"no object {name!r} (objects: {', '.join(objects)})", field="objects")
    arcs = decode_arcs(topology) if arcs is None else arcs
    out = []

    def visit(geometry: dict) -> None:
        kind = geometry.get("type")
        if kind not in KNOWN:
            raise InputError(where, f"unknown geometry type {kind!r} in object {name!r}", field="type")
        if kind == "GeometryCollection":
            for child in geometry.get("geometries", []):
                visit(child)
            return
        gid = geometry.get("id")
        feature = Feature(None if gid is None else str(gid), geometry.get("properties") or {})
        if kind == "Polygon":
            feature.polygons = [_polygon(geometry["arcs"], arcs, where)]
        elif kind == "MultiPolygon":
            feature.polygons = [_polygon(p, arcs, where) for p in geometry["arcs"]]
        out.append(feature)

    visit(objects[name])
    return out


def _arc_uses(topology: dict, name: str) -> dict[int, set[int]]:
    """For each arc used by a polygon of object ``name``: the positions of the features using it."""
    uses: dict[int, set[int]] = {}
    geometries = topology["objects"][name]
    geometries = geometries.get("geometries", []) if geometries.get("type") == "GeometryCollection" else [geometries]
    for position, geometry in enumerate(geometries):
        polys = {"Polygon": [geometry.get("arcs", [])], "MultiPolygon": geometry.get("arcs", [])}.get(
            geometry.get("type"), []
        )
        for polygon in polys:
            for ring in polygon:
                for index in ring:
                    uses.setdefault(index if index >= 0 else ~index, set()).add(position)
    return uses


def mesh(topology: dict, name: str, which: str = "interior", arcs: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """The borders of object ``name`` as polylines, each shared border once: 'interior' (arcs
    shared by two different features, e.g. state lines), 'exterior' (arcs used by one feature
    only, e.g. the coast and the national border) or 'all'."""
    if which not in ("interior", "exterior", "all"):
        raise ValueError(f"which must be 'interior', 'exterior' or 'all', not {which!r}")
    if name not in topology["objects"]:
        raise InputError(topology.get("_path", "topology"), f"no object {name!r}", field="objects")
    arcs = decode_arcs(topology) if arcs is None else arcs
    keep = {"interior": lambda n: n > 1, "exterior": lambda n: n == 1, "all": lambda n: True}[which]
    return [arcs[i] for i, users in sorted(_arc_uses(topology, name).items()) if keep(len(users))]


def signed_area(ring: np.ndarray) -> float:
    """The shoelace area of a closed ring: positive when counter-clockwise in x-right, y-up axes."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
