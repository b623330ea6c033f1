"""Determinism: a second complete build, from no outputs in a temporary clone and in parallel
(``make -j4 all``), reproduces the tree's own build (serial, or CI's ``make -j<cores> all``) byte for
byte; after a change that leaves every output the same (all sources touched), ``make all`` reruns
nothing but checks and ``make -q all`` is true; after an edit to one spec, make reruns that spec
alone among the estimation steps (made: the estimation targets).

Compared: data_clean/*.parquet and *.csv, results/**, paper/generated/** (tables, figures,
numbers.tex) and paper/paper.pdf, the PDF with its /CreationDate, /ModDate and /ID masked: they
come from SOURCE_DATE_EPOCH, the time of the last commit, so a commit that touches no source
changes them without make rebuilding the PDF. Not compared, being run-specific by nature: logs/
(wall times, timestamps, git state) and LaTeX's own records (paper/*.log, *.fls, *.fdb_latexmk,
*.aux...: dates and absolute paths); notebooks/_build is not compared either (nbclient records
execution times in the notebooks). The clone holds the tree's code (committed plus uncommitted
changes, analysis.infra.bench.clone) and reuses this interpreter's environment and data_raw/.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pandas as pd
import pytest

from analysis.config import ROOT
from analysis.infra.atomic import write_parquet
from analysis.infra.bench import check_clone_env, clone, clone_env

TIER = "e2e"  # the default tier of these tests (tests/conftest.py)

COMPARED = [
    ("data_clean", "*.parquet"),
    ("data_clean", "*.csv"),
    ("results", "**/*"),
    ("paper/generated", "**/*"),
    ("paper", "paper.pdf"),
]


def mask_pdf_dates(pdf: bytes) -> bytes:
    """The PDF with its commit-time fields (dates and the /ID derived from them) masked."""
    pdf = re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", rb"/\1 (D:masked)", pdf)
    return re.sub(rb"/ID \[<[0-9A-Fa-f]+> ?<[0-9A-Fa-f]+>\]", b"/ID [masked]", pdf)


def outputs(root) -> dict[str, bytes]:
    """Every compared output under ``root``: relative path -> bytes (temporaries ignored)."""
    found = {}
    for folder, pattern in COMPARED:
        for path in (root / folder).glob(pattern):
            if path.is_file() and not path.name.endswith(".tmp"):
                data = path.read_bytes()
                found[str(path.relative_to(root))] = mask_pdf_dates(data) if path == root / "paper/paper.pdf" else data
    return found


def describe(rel: str, tree: bytes, fresh: bytes, root, other) -> str:
    """One line per differing file; for parquet, whether the data or only the bytes differ."""
    line = f"  differs: {rel} ({len(tree)} vs {len(fresh)} bytes)"
    if rel.endswith(".parquet"):
        same = pd.read_parquet(root / rel).equals(pd.read_parquet(other / rel))
        line += " - same data, different bytes" if same else " - different data"
    return line


@pytest.fixture(scope="module")
def second_build(tmp_path_factory):
    """``make -j4 all`` in a temporary clone with no outputs."""
    repo = clone(tmp_path_factory.mktemp("determinism") / "repo")
    env = clone_env()
    check_clone_env(repo, env)
    done = subprocess.run(["make", "-j4", "all"], cwd=repo, env=env, capture_output=True, text=True, timeout=3000)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return repo


def test_second_build_reproduces_the_tree_build(second_build):
    tree, fresh = outputs(ROOT), outputs(second_build)
    if not tree:
        pytest.skip("the tree has no build to compare: run make all first")
    only_tree = sorted(set(tree) - set(fresh))
    only_fresh = sorted(set(fresh) - set(tree))
    differ = sorted(rel for rel in set(tree) & set(fresh) if tree[rel] != fresh[rel])
    if only_tree or only_fresh or differ:
        stale = subprocess.run(["make", "-q", "all"], cwd=ROOT, capture_output=True).returncode != 0
        lines = (
            [f"  only in the tree's build: {rel}" for rel in only_tree]
            + [f"  only in the second build: {rel}" for rel in only_fresh]
            + [describe(rel, tree[rel], fresh[rel], ROOT, second_build) for rel in differ]
        )
        pytest.fail(
            f"{len(lines)} of {len(set(tree) | set(fresh))} outputs differ"
            + (" (make -q all: the tree's build is out of date with its sources)" if stale else "")
            + ":\n"
            + "\n".join(lines)
        )


def test_touching_every_source_rebuilds_nothing(second_build):
    """A checkout that changes every file time but no content: make reruns no step's work."""
    before = outputs(second_build)
    sources = subprocess.run(
        ["git", "ls-files"], cwd=second_build, capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in sources:
        os.utime(second_build / rel)
    env = clone_env()
    done = subprocess.run(["make", "all"], cwd=second_build, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = [line for line in done.stdout.splitlines() if line.startswith("== ")]
    assert ran == [], f"steps reran although no input changed: {ran}"
    assert subprocess.run(["make", "-q", "all"], cwd=second_build, env=env).returncode == 0
    assert outputs(second_build) == before


def test_parquet_outputs_are_byte_identical(second_build):
    tree = {rel: b for rel, b in outputs(ROOT).items() if rel.endswith(".parquet")}
    fresh = {rel: b for rel, b in outputs(second_build).items() if rel.endswith(".parquet")}
    assert set(fresh) >= {
        "data_clean/county_panel.parquet",
        "data_clean/agreements_287g.parquet",
        "data_clean/sc_activation.parquet",
    }
    different = [rel for rel in set(tree) & set(fresh) if tree[rel] != fresh[rel]]
    assert different == []


def test_editing_one_spec_reruns_that_spec_only(second_build):
    """A student's one-line change to a spec: make reruns that spec (inside its batch, analysis.infra.batch)
    and no other estimation step. The change here is a comment: the spec's estimates are the same, only the
    copy of the spec in its results folder changes. Made are the estimation targets (every spec, grid, RI,
    credibility, inference, wave power and multiverse step), not the exhibits, notebooks and paper, which
    read all of results/ and would only write the same files again (2-3 minutes of CI)."""
    spec = second_build / "analysis" / "specs" / "sc_violent.yaml"
    spec.write_text(spec.read_text() + "# a comment: new bytes, same specification\n")
    before = outputs(second_build)
    targets = ["estimates", "inference", "wave-power", "multiverse"]
    done = subprocess.run(
        ["make", "-j2", *targets], cwd=second_build, env=clone_env(), capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ran = {line[3:].split(": ", 1)[0] for line in done.stdout.splitlines() if line.startswith("== ")}
    assert {name for name in ran if name.startswith("estimate:")} == {"estimate:sc_violent"}, done.stdout[-3000:]
    assert "estimate:sc_index: up to date" in done.stdout  # its batch-mates are checked, not rerun
    assert {name.split(":")[0] for name in ran} <= {"estimate"}, sorted(ran)
    after = outputs(second_build)
    assert {rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel)} == {
        "results/sc_violent/spec.yaml"
    }


@pytest.mark.unit
def test_parquet_writer_records_no_time(tmp_path):
    """The same frame written twice, over a second apart, gives the same bytes."""
    df = pd.DataFrame(
        {
            "fips": ["01001", "37119"],
            "year": [2000, 2012],
            "rate": [1.5, float("nan")],
            "when": pd.to_datetime(["2006-02-27", None]),
        }
    )
    write_parquet(df, tmp_path / "a.parquet")
    time.sleep(1.1)
    write_parquet(df, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
