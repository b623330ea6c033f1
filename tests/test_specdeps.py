"""Make's view of each spec: content stamps of samples and derived columns change only with their rules,
so adding a sample or a derived column rebuilds nothing and changing one rebuilds only its users."""

from __future__ import annotations

import os
import textwrap

import pytest

from analysis.infra import specdeps

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SAMPLES = """main:
  description: the main sample
  covind_min: 90
nc:
  states_include: [NC]
"""
DERIVED = """log_population:
  log: population
  meaning: log population
log_pop_2000:
  baseline: log_population
  year: 2000
"""
SPEC = """description: x
program: 287g
sample: {sample}
outcome: violent
transform: log_rate
treatment: g287_county
control_group: never_treated
estimators: [twfe]
{extra}"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for name, rel in {
        "ROOT": ".",
        "SPECS": "specs",
        "MINE": "myspecs",
        "GRIDS": "grids",
        "SAMPLES": "samples.yaml",
        "DERIVED": "derived.yaml",
        "MAKE_STATE": ".make",
    }.items():
        monkeypatch.setattr(specdeps, name, tmp_path / rel)
    for folder in ("specs", "myspecs", "grids"):
        (tmp_path / folder).mkdir()
    (tmp_path / "samples.yaml").write_text(SAMPLES)
    (tmp_path / "derived.yaml").write_text(DERIVED)
    (tmp_path / "specs" / "a.yaml").write_text(SPEC.format(sample="main", extra=""))
    (tmp_path / "myspecs" / "b.yaml").write_text(SPEC.format(sample="nc", extra="baseline_controls: [log_pop_2000]\n"))
    (tmp_path / "grids" / "g.yaml").write_text(
        textwrap.dedent("""\
        program: 287g
        base: {sample: main}
        variants:
          - {variant: base, dimension: base, changes: {}}
          - {variant: nc, dimension: sample, changes: {sample: nc}}
        """)
    )
    return tmp_path


def _times(root):
    return {p.relative_to(root / ".make").as_posix(): p.stat().st_mtime_ns for p in (root / ".make").rglob("*.yaml")}


def test_dependencies_of_specs_and_grids(repo):
    specdeps.main()
    mk = (repo / ".make" / "specs.mk").read_text().splitlines()
    assert "results/a/overall.csv: .make/samples/main.yaml" in mk
    assert ("myspecs/results/b/overall.csv: .make/samples/nc.yaml .make/derived/log_pop_2000.yaml") in mk
    assert "results/grid_g/estimates.csv: .make/samples/main.yaml .make/samples/nc.yaml" in mk
    assert "log_population: [('log', 'population')]" in (repo / ".make" / "derived" / "log_pop_2000.yaml").read_text()


def test_adding_a_sample_or_derived_column_touches_no_stamp(repo):
    specdeps.main()
    before = _times(repo)
    (repo / "samples.yaml").write_text(SAMPLES + "south:\n  states_include: [AL, GA]\n")
    (repo / "derived.yaml").write_text(
        DERIVED.replace("meaning: log population", "meaning: reworded") + "x:\n  log1p: covind\n"
    )
    os.utime(repo / "samples.yaml")
    specdeps.main()
    after = _times(repo)
    assert {k: after[k] for k in before} == before
    assert {"samples/south.yaml", "derived/x.yaml"} <= set(after)


def test_changing_a_sample_changes_only_its_stamp(repo):
    specdeps.main()
    before = _times(repo)
    (repo / "samples.yaml").write_text(SAMPLES.replace("[NC]", "[NC, SC]"))
    specdeps.main()
    after = _times(repo)
    assert after["samples/nc.yaml"] != before["samples/nc.yaml"]
    assert after["samples/main.yaml"] == before["samples/main.yaml"]


def test_a_spec_that_does_not_parse_gets_no_dependencies(repo):
    (repo / "myspecs" / "broken.yaml").write_text("sample: [unclosed\n")
    specdeps.main()
    assert "broken" not in (repo / ".make" / "specs.mk").read_text()


def test_the_spec_batches_read_what_specdeps_writes(repo):
    """analysis.infra.batch parses .make/specs.mk itself (no Make): each paper spec's stamps, as Make sees them."""
    from analysis.infra import batch

    specdeps.main()
    (repo / "specs" / "c.yaml").write_text(SPEC.format(sample="nc", extra="baseline_controls: [log_pop_2000]\n"))
    specdeps.main()
    found = batch.stamps(repo / ".make" / "specs.mk")
    assert found["results/a/overall.csv"] == [".make/samples/main.yaml"]
    assert found["results/c/overall.csv"] == [".make/samples/nc.yaml", ".make/derived/log_pop_2000.yaml"]
    assert all((repo / s).is_file() for deps in found.values() for s in deps)
    assert batch.stamps(repo / ".make" / "missing.mk") == {}
