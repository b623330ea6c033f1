"""The raw-file check run before every build (analysis.infra.rawcheck): hashes cached by size, mtime, ctime
and inode; any edit, truncation, swap or deletion is reported with the file, both sha256 and the fix."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from analysis.config import ROOT
from analysis.infra import rawcheck
from analysis.infra.manifest import FIELDS

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

BODIES = {
    "a/one.txt": b"first file\nline two\n",
    "a/two.txt": b"second file\nline two\n",
    "b/three.bin": bytes(range(256)) * 4,
}


@pytest.fixture
def tree(tmp_path):
    """A data_raw-like folder with three files, its manifest and a cache path."""
    root = tmp_path / "raw"
    rows = []
    for path, body in BODIES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
        rows.append(
            [
                path,
                hashlib.sha256(body).hexdigest(),
                str(len(body)),
                f"https://example.org/{path}",
                "o/r@c",
                "public domain",
                "cite",
                "public domain",
                "",
            ]
        )
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(",".join(FIELDS) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    return root, manifest, tmp_path / "cache.json"


def check(tree):
    return rawcheck.problems(*tree)


def test_clean_tree_passes_and_is_cached(tree, monkeypatch):
    assert check(tree) == []
    calls = []
    monkeypatch.setattr(rawcheck, "sha256_of", lambda p: calls.append(p) or "x")
    assert check(tree) == [] and calls == []  # every file a cache hit: nothing hashed


def test_an_edited_byte_is_found_even_with_the_old_times_put_back(tree):
    root = tree[0]
    check(tree)
    path = root / "a/one.txt"
    stat = path.stat()
    path.write_bytes(b"First file\nline two\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    [problem] = check(tree)
    assert problem.startswith(f"{path}: sha256 {hashlib.sha256(b'First file' + BODIES['a/one.txt'][10:]).hexdigest()}")
    assert f"expected {hashlib.sha256(BODIES['a/one.txt']).hexdigest()}" in problem
    assert "delete it and run `make data`" in problem


def test_swapped_files_are_named_with_the_file_they_are(tree):
    root = tree[0]
    check(tree)
    one, two = root / "a/one.txt", root / "a/two.txt"
    tmp = root / "swap"
    os.rename(one, tmp), os.rename(two, one), os.rename(tmp, two)  # rename keeps mtimes; ctime moves
    found = check(tree)
    assert len(found) == 2
    assert found[0].startswith(f"{one}: ") and "its bytes are those of a/two.txt" in found[0]
    assert found[1].startswith(f"{two}: ") and "its bytes are those of a/one.txt" in found[1]


def test_truncated_at_a_line_boundary_and_deleted(tree):
    root = tree[0]
    (root / "a/two.txt").write_bytes(BODIES["a/two.txt"].split(b"\n")[0] + b"\n")
    (root / "b/three.bin").unlink()
    found = check(tree)
    assert found[0].startswith(f"{root / 'a/two.txt'}: sha256 ") and "(12 bytes), expected" in found[0]
    assert found[1] == (
        f"{root / 'b/three.bin'}: missing (expected sha256 "
        f"{hashlib.sha256(BODIES['b/three.bin']).hexdigest()}). Run `make data` to fetch it "
        "again from DATA_MIRROR or its pinned URL."
    )


def test_a_read_only_cache_folder_costs_only_a_rehash(tree, tmp_path):
    root, manifest, _ = tree
    cache = tmp_path / "nowhere" / "cache.json"
    (tmp_path / "nowhere").write_text("a file where the cache folder should be")
    assert rawcheck.problems(root, manifest, cache) == []


def test_command_line_exits_1_with_one_line_per_problem(tmp_path):
    """The real manifest against an empty data_raw: every file missing, no traceback."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.infra.rawcheck",
            "--root",
            str(tmp_path),
            "--cache",
            str(tmp_path / "cache.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: ") and "raw file(s) in data_raw/ do not match" in lines[0]
    assert all(" missing (expected sha256 " in line for line in lines[1:])


def test_the_tree_data_raw_is_verified():
    assert rawcheck.problems() == [], "data_raw/ differs from the manifest: run make data"


def test_shutil_copy_of_a_file_keeps_it_valid(tree):
    """Replacing a file by an identical copy (new inode and times) is not a problem."""
    root = tree[0]
    check(tree)
    shutil.copyfile(root / "a/one.txt", root / "copy")
    os.replace(root / "copy", root / "a/one.txt")
    assert check(tree) == []


def test_files_the_manifest_adds_after_acquisition_are_left_to_acquisition(tree):
    """A new manifest entry is not 'missing' while the stamp predates it: make data will fetch it."""
    root, manifest, cache = tree
    entries = manifest.read_text().splitlines()
    (root / ".verified").write_text("".join(f"{line.split(',')[1]}  {line.split(',')[0]}\n" for line in entries[1:3]))
    (root / "b/three.bin").unlink()  # listed in the manifest, not yet in the stamp
    assert check(tree) == []
    (root / "a/one.txt").unlink()  # verified before: its loss is a problem
    assert [p.split(":")[0] for p in check(tree)] == [str(root / "a/one.txt")]
