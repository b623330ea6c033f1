"""The TopoJSON reader on a hand-built topology, the real county boundaries, and county_map."""

from __future__ import annotations

import json

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection

from analysis.exhibits import maps, style
from analysis.infra.errors import InputError
from analysis.readers import topojson as tj
from analysis.readers.places import read_counties, read_states

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

# Two unit squares sharing an edge (arc 0), quantized: x = 10 + 0.5 q, y = 20 + 0.25 q, so the
# quantized corners (0,0)-(4,4) are [10,12] x [20,21]. A third feature: a square with a hole plus
# a detached square (MultiPolygon); a fourth without geometry.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
    "arcs": [
        [[2, 0], [0, 4]],  # 0: (11,20) -> (11,21), shared
        [[2, 4], [-2, 0], [0, -4], [2, 0]],  # 1: (11,21) -> (10,21) -> (10,20) -> (11,20)
        [[2, 0], [2, 0], [0, 4], [-2, 0]],  # 2: (11,20) -> (12,20) -> (12,21) -> (11,21)
        [[10, 0], [8, 0], [0, 8], [-8, 0], [0, -8]],  # 3: square (15,20)-(19,22), counter-clockwise
        [[12, 2], [0, 4], [4, 0], [0, -4], [-4, 0]],  # 4: hole (16,20.5)-(18,21.5), clockwise
        [[30, 0], [2, 0], [0, 4], [-2, 0], [0, -4]],  # 5: square (25,20)-(26,21)
    ],
    "objects": {
        "counties": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "01001", "properties": {"name": "Left"}},
                {"type": "Polygon", "arcs": [[2, -1]], "id": "01003", "properties": {"name": "Right"}},
                {"type": "MultiPolygon", "arcs": [[[3], [4]], [[5]]], "id": "02001"},
                {"type": None, "id": "02003"},
            ],
        },
        "states": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "01"},
                {"type": "Polygon", "arcs": [[2, -1]], "id": "02"},
            ],
        },
    },
}


@pytest.fixture
def topo_file(tmp_path):
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(TOPOLOGY))
    return path


@pytest.fixture
def topology(topo_file):
    return tj.read_topology(topo_file)


def test_arcs_are_delta_decoded_and_transformed(topology):
    arcs = tj.decode_arcs(topology)
    np.testing.assert_allclose(arcs[0], [[11, 20], [11, 21]])
    np.testing.assert_allclose(arcs[1], [[11, 21], [10, 21], [10, 20], [11, 20]])
    untransformed = {**TOPOLOGY, "transform": None}
    untransformed.pop("transform")
    assert tj.decode_arcs(untransformed)[1].tolist() == [[2, 4], [-2, 0], [0, -4], [2, 0]]


def test_polygons_join_arcs_and_reverse_negative_indices(topology):
    left, right, multi, empty = tj.features(topology, "counties")
    assert (left.id, left.properties["name"], right.id) == ("01001", "Left", "01003")
    ring = left.polygons[0][0]
    np.testing.assert_allclose(ring, [[11, 20], [11, 21], [10, 21], [10, 20], [11, 20]])  # closed, no repeats
    ring = right.polygons[0][0]
    np.testing.assert_allclose(ring, [[11, 20], [12, 20], [12, 21], [11, 21], [11, 20]])  # arc 0 reversed
    assert abs(tj.signed_area(left.polygons[0][0])) == pytest.approx(1.0)
    assert len(multi.polygons) == 2 and len(multi.polygons[0]) == 2  # exterior + hole, then a square
    assert tj.signed_area(multi.polygons[0][0]) == pytest.approx(8.0)  # 4 x 2, counter-clockwise
    assert tj.signed_area(multi.polygons[0][1]) == pytest.approx(-2.0)  # the hole, clockwise
    assert empty.id == "02003" and empty.polygons == []


def test_mesh_keeps_each_shared_border_once(topology):
    interior = tj.mesh(topology, "states", "interior")
    assert len(interior) == 1
    np.testing.assert_allclose(interior[0], [[11, 20], [11, 21]])
    assert len(tj.mesh(topology, "states", "exterior")) == 2
    assert len(tj.mesh(topology, "states", "all")) == 3
    with pytest.raises(ValueError):
        tj.mesh(topology, "states", "inside")


@pytest.mark.parametrize(
    "text,match",
    [
        ("{not json", r"toy\.json:1: not valid JSON"),
        (json.dumps({"type": "FeatureCollection"}), r"field 'type' not a TopoJSON topology"),
        (json.dumps({"type": "Topology", "objects": {}}), r"field 'arcs' 'arcs' missing"),
        (
            json.dumps({**TOPOLOGY, "transform": {"scale": [1], "translate": [0, 0]}}),
            r"transform\.scale must be two numbers",
        ),
    ],
)
def test_malformed_topologies_stop_naming_the_file(tmp_path, text, match):
    path = tmp_path / "toy.json"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        tj.read_topology(path)


def test_bad_references_stop(topology):
    with pytest.raises(InputError, match="no object 'county'.*objects: counties, states"):
        tj.features(topology, "county")
    bad = json.loads(json.dumps(TOPOLOGY))
    bad["objects"]["counties"]["geometries"][0]["arcs"] = [[0, 9]]
    with pytest.raises(InputError, match=r"arc index 9 out of range \(0\.\.5\)"):
        tj.features(bad, "counties")
    bad["objects"]["counties"]["geometries"][0] = {"type": "Circle", "arcs": []}
    with pytest.raises(InputError, match="unknown geometry type 'Circle'"):
        tj.features(bad, "counties")


def test_the_real_county_boundaries():
    """us-atlas: 3,142 counties and 51 states; the counties tile the states (same total area)."""
    topology = tj.read_topology()
    arcs = tj.decode_arcs(topology)
    counties = tj.features(topology, "counties", arcs)
    states = tj.features(topology, "states", arcs)
    assert len(counties) == 3142 and len(states) == 51
    assert all(len(c.id) == 5 and c.id.isdigit() for c in counties)

    def area(feats):
        return sum(
            abs(tj.signed_area(p[0])) - sum(abs(tj.signed_area(h)) for h in p[1:])
            for f in feats
            for p in f.polygons
            if len(p[0]) >= 4
        )

    assert area(counties) == pytest.approx(area(states), rel=1e-3)
    assert all(np.allclose(r[0], r[-1]) for c in counties for p in c.polygons for r in p)
    state_arcs, county_arcs = tj._arc_uses(topology, "states"), tj._arc_uses(topology, "counties")
    assert set(state_arcs) <= set(county_arcs)  # every state border is a county border
    interior = [users for users in state_arcs.values() if len(users) > 1]
    assert interior and all(len(users) == 2 for users in interior)
    assert len(tj.mesh(topology, "states", "interior", arcs)) == len(interior)


# ---- county_map ------------------------------------------------------------------------------------------


def _faces(ax) -> dict[str, tuple]:
    coll = next(c for c in ax.collections if isinstance(c, PathCollection))
    return coll.get_facecolors()


def test_map_ids_follow_the_committed_recodes():
    on_map = {"46102", "02158", "51019", "02105", "02230", "01001"}
    ids = maps.map_ids(["46113", "02270", "51515", "02232", "01001", "99999"], on_map)
    assert ids == {
        "46113": ["46102"],
        "02270": ["02158"],
        "51515": ["51019"],
        "02232": ["02105", "02230"],
        "01001": ["01001"],
        "99999": [],
    }


def test_values_on_map_precedence_conflicts_and_bad_codes():
    on_map = {"51019", "02105", "02230", "46102"}
    values = pd.Series({"51019": "a", "51515": "b", "02232": "c", "46113": "d"})
    got = maps._values_on_map(values, on_map, None)
    assert got.to_dict() == {"51019": "a", "02105": "c", "02230": "c", "46102": "d"}  # own value wins
    with pytest.raises(ValueError, match="gets different values"):
        # 02105 and 02230 are both folded into 02232 when only 02232 is on the map
        maps._values_on_map(pd.Series({"02105": "x", "02230": "y"}), {"02232"}, None)
    same = maps._values_on_map(pd.Series({"02105": "x", "02230": "x"}), {"02232"}, None)
    assert same.to_dict() == {"02232": "x"}
    with pytest.raises(ValueError, match="on no map county"):
        maps._values_on_map(pd.Series({"99999": 1.0}), on_map, None)
    with pytest.raises(ValueError, match="5-digit"):
        maps._values_on_map(pd.Series({"1001": 1.0}), on_map, None)


def test_categorical_map_colours_legend_and_missing(topo_file):
    fig, ax = maps.county_map(
        {"01001": "yes", "01003": "no"},
        categories=["yes", "no"],
        colors={"yes": "#000000", "no": "#FFFFFF"},
        counts=True,
        path=topo_file,
    )
    faces = _faces(ax)
    boundaries = maps.boundaries(str(topo_file))
    assert list(boundaries.ids) == ["01001", "01003", "02001"]
    assert faces[0].tolist() == [0, 0, 0, 1] and faces[1].tolist() == [1, 1, 1, 1]
    assert mpl.colors.to_hex(faces[2]) == maps.MISSING_COLOR.lower()  # no value: grey
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["yes (1)", "no (1)", "No data"]
    assert any(isinstance(c, LineCollection) for c in ax.collections)  # state borders
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y points down


def test_categorical_defaults_and_errors(topo_file):
    fig, ax = maps.county_map({"01001": "b", "01003": "a", "02001": "a"}, path=topo_file)
    faces = _faces(ax)
    assert mpl.colors.to_hex(faces[1]) == style.OKABE_ITO["blue"].lower()  # sorted: a first
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]  # nothing missing
    fig, ax = maps.county_map(pd.Series({"01001": True, "01003": False}), path=topo_file)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["False", "True", "No data"]
    with pytest.raises(ValueError, match="colour-blind-safe colours"):
        maps.county_map({"01001": "1"}, categories=list("12345678"), path=topo_file)
    with pytest.raises(ValueError, match="no colour for categories"):
        maps.county_map({"01001": "a"}, colors={"b": "#000000"}, path=topo_file)
    with pytest.raises(ValueError, match="not among the categories"):
        maps.county_map({"01001": "a"}, categories=["b"], path=topo_file)
    ramp = maps._category_colors(["x", "y", "z"], None, True, None)
    assert len(set(map(tuple, ramp.values()))) == 3  # ordered: a sequential ramp


def test_continuous_map_scale_and_colour_bar(topo_file):
    fig, ax = maps.county_map({"01001": 0.0, "01003": 10.0}, vmin=0, vmax=20, legend_title="rate", path=topo_file)
    faces = _faces(ax)
    ramp = mpl.colormaps[style.SEQUENTIAL]
    np.testing.assert_allclose(faces[0], ramp(0.0))
    np.testing.assert_allclose(faces[1], ramp(0.5))
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel() == "rate"  # the colour bar
    with pytest.raises(ValueError, match="kind must be"):
        maps.county_map({"01001": 1.0}, kind="bubbles", path=topo_file)


def test_real_map_of_every_county_and_deterministic_files(tmp_path):
    counties = read_counties()
    counties = counties[counties["state_fips"].isin(read_states()["state_fips"])]
    values = pd.Series(np.arange(len(counties), dtype=float), index=counties["fips"].to_numpy())
    fig, ax = maps.county_map(values)
    assert len(values) == 3143 and len(_faces(ax)) > 3100
    first = style.save(fig, "map", tmp_path / "a")
    second = style.save(maps.county_map(values)[0], "map", tmp_path / "b")
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))


def test_panel_codes_map_onto_the_2017_counties():
    """The 2000-2012 panel's county codes (2010 codes after fips_recodes.csv, e.g. Skagway-Hoonah-Angoon
    02232, Shannon SD 46113) paint the 2017 map counties they became, so the SC and pre-2018 287(g)
    maps can be drawn from panel values directly."""
    from analysis.readers.fips_recodes import read_recodes, successor

    counties = read_counties()
    counties = counties[counties["state_fips"].isin(read_states()["state_fips"])]
    panel = pd.Series(successor(counties["fips"], read_recodes()).unique())
    values = pd.Series(np.where(panel.str.startswith("02"), "Alaska", "other"), index=panel.to_numpy())
    fig, ax = maps.county_map(values, categories=["Alaska", "other"])
    geo = maps.boundaries(str(tj.COUNTY_BOUNDARIES))
    faces = dict(zip(geo.ids, map(mpl.colors.to_hex, _faces(ax))))
    alaska = style.OKABE_ITO["blue"].lower()
    for split in ["02105", "02230", "02195", "02275", "02198", "02158"]:  # from 02232, 02280, 02201, 02270
        assert faces[split] == alaska
    assert faces["46102"] == style.OKABE_ITO["vermillion"].lower()  # Shannon -> Oglala Lakota
    assert maps.MISSING_COLOR.lower() not in faces.values()  # every map county has a value
