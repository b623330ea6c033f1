"""Every file the pipeline opens under data_raw/ is listed in the committed manifest."""

from analysis.infra.rawaudit import audit_raw_opens, unlisted
from analysis.panel import build_panel
from analysis.readers.ice_lists import clean_ice_lists
from analysis.readers.topojson import read_topology
from analysis.wave_timing import build as build_wave

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_every_raw_file_opened_is_in_the_manifest():
    with audit_raw_opens() as opened:
        build_panel()
        clean_ice_lists()
        build_wave()
        read_topology()
    # The audit sees the crime, census, 287(g), ICE and SC files the readers open.
    assert any(p.endswith("-0004-Data.txt") for p in opened)
    assert any(p.endswith(".xlsx") for p in opened)
    assert any(p.endswith(".dta") for p in opened)
    assert "geo/us-atlas/counties-albers-10m.json" in opened
    assert unlisted(opened) == []
