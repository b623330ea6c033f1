"""Spec batches (analysis.infra.batch): many specs in one process, each skipped, run, recorded and logged
as a step of its own, so a batch reruns exactly the specs whose inputs changed and resumes after a
failure or an interruption."""

from __future__ import annotations

import shutil

import pytest

from analysis import estimate
from analysis.infra import batch, runlog
from analysis.infra.errors import InputError

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def point_at(root, monkeypatch):
    """The batch's paths and the run log's records under ``root``, which is the working directory (as under make)."""
    paths = {"ROOT": ".", "SPECS": "specs", "RESULTS": "results", "PANEL": "panel.parquet", "MAKE_STATE": ".make"}
    for name, rel in paths.items():
        monkeypatch.setattr(batch, name, root / rel)
    monkeypatch.setattr(runlog, "FINGERPRINTS", root / ".make" / "steps")
    monkeypatch.setattr(runlog, "LOGS", root / "logs")
    monkeypatch.setattr(runlog, "STEPS", root / "logs" / "steps.tsv")
    monkeypatch.chdir(root)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A root with two specs, a panel, a stamp used by spec a, and a fake analysis.estimate.main that
    writes results/<stem>/overall.csv from the spec's text; ``calls`` lists the specs it ran."""
    point_at(tmp_path, monkeypatch)
    monkeypatch.setattr(batch.makedeps, "closure", lambda modules, entry=False: [])
    (tmp_path / "specs").mkdir()
    for stem in ("a", "b"):
        (tmp_path / "specs" / f"{stem}.yaml").write_text(f"spec {stem}\n")
    (tmp_path / "panel.parquet").write_text("panel v1")
    (tmp_path / ".make" / "samples").mkdir(parents=True)
    (tmp_path / ".make" / "samples" / "main.yaml").write_text("covind_min: 90\n")
    (tmp_path / ".make" / "specs.mk").write_text("# generated\nresults/a/overall.csv: .make/samples/main.yaml\n")
    calls, failing = [], set()

    def fake_main(argv):
        spec = tmp_path / "specs" / argv[0].rsplit("/", 1)[-1]
        calls.append(spec.stem)
        if spec.stem in failing:
            return 1
        folder = tmp_path / "results" / spec.stem
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "overall.csv").write_text(spec.read_text())
        return 0

    monkeypatch.setattr(estimate, "main", fake_main)
    specs = [str(tmp_path / "specs" / f"{s}.yaml") for s in ("a", "b")]
    return tmp_path, specs, calls, failing


def test_a_batch_runs_each_spec_once_then_skips_them(tree):
    root, specs, calls, _ = tree
    assert batch.run(specs) == 0 and calls == ["a", "b"]
    assert batch.run(specs) == 0 and calls == ["a", "b"]
    assert [(s["step"], s.get("note", "ran")) for s in runlog.read_steps()] == [
        ("estimate:a", "ran"),
        ("estimate:b", "ran"),
        ("estimate:a", "skipped: inputs and outputs unchanged"),
        ("estimate:b", "skipped: inputs and outputs unchanged"),
    ]


@pytest.mark.parametrize(
    ("change", "rerun"),
    [
        ("specs/b.yaml", ["b"]),
        (".make/samples/main.yaml", ["a"]),  # only spec a uses the sample
        ("panel.parquet", ["a", "b"]),
        ("results/a/overall.csv", ["a"]),  # an edited output is rebuilt
    ],
)
def test_only_the_specs_whose_inputs_changed_rerun(tree, change, rerun):
    root, specs, calls, _ = tree
    batch.run(specs)
    (root / change).write_text("changed\n")
    calls.clear()
    assert batch.run(specs) == 0
    assert calls == rerun


def test_a_failing_spec_stops_the_batch_and_the_next_run_resumes_after_the_finished_ones(tree):
    root, specs, calls, failing = tree
    failing.add("a")
    specs = specs[::-1]  # b first, then a fails
    assert batch.run(specs) == 1 and calls == ["b", "a"]
    failing.clear()
    calls.clear()
    assert batch.run(specs) == 0 and calls == ["a"]
    assert [s["status"] for s in runlog.read_steps() if s["step"] == "estimate:a"] == [1, 0]


def test_an_interrupted_spec_is_logged_and_rerun(tree, monkeypatch):
    root, specs, calls, _ = tree

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(estimate, "main", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.run(specs)
    assert [(s["step"], s["status"]) for s in runlog.read_steps()] == [("estimate:a", 130)]
    assert not runlog.up_to_date("estimate:a", ["analysis.estimate", "specs/a.yaml"], [], [str(root / "results/a")])


def test_only_paper_specs_run_in_a_batch(tree):
    root, specs, calls, _ = tree
    (root / "mine.yaml").write_text("spec\n")
    with pytest.raises(InputError, match="mine.yaml.*make mine"):
        batch.run([specs[0], str(root / "mine.yaml")])
    assert calls == []  # checked before anything runs


def test_a_moved_or_copied_tree_keeps_its_records(tree, monkeypatch, tmp_path_factory):
    root, specs, calls, _ = tree
    assert batch.run(specs) == 0 and calls == ["a", "b"]
    copy = tmp_path_factory.mktemp("elsewhere") / "tree"
    shutil.copytree(root, copy)
    point_at(copy, monkeypatch)
    calls.clear()
    assert batch.run([str(copy / "specs" / f"{s}.yaml") for s in ("a", "b")]) == 0
    assert calls == []  # the records name files relative to the root, not where the root is


def test_stamps_are_read_from_specs_mk(tmp_path):
    mk = tmp_path / "specs.mk"
    mk.write_text("# comment\nresults/a/overall.csv: .make/samples/main.yaml .make/derived/x.yaml\n\n")
    assert batch.stamps(mk) == {"results/a/overall.csv": [".make/samples/main.yaml", ".make/derived/x.yaml"]}
    assert batch.stamps(tmp_path / "missing.mk") == {}
