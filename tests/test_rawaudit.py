"""Tests of the raw-file audit: which files under data_raw/ a piece of code opens."""

from __future__ import annotations

import csv
import hashlib
import os

import pandas as pd

from analysis.acquire import FIELDS
from analysis.infra.rawaudit import audit_raw_opens, unlisted

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def toy_reader(root):
    """A toy build step: reads one listed and one unlisted raw file, and a file outside root."""
    pd.read_csv(root / "census" / "listed.csv")
    with open(os.fsencode(root / "extra" / "unlisted.txt"), "rb") as fh:  # bytes path
        fh.read()
    os.close(os.open(root / "census" / "listed.csv", os.O_RDONLY))
    return (root.parent / "outside.txt").read_text()


def test_audit_records_opens_under_root_only_inside_the_block(tmp_path):
    root = tmp_path / "data_raw"
    for name, text in (("census/listed.csv", "a,b\n1,2\n"), ("extra/unlisted.txt", "x"), ("census/later.txt", "z")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "outside.txt").write_text("y")
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerow(
            {
                "path": "census/listed.csv",
                "bytes": 8,
                "url": "https://example.org/l.csv",
                "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest(),
                "source": "toy@0",
                "licence": "pd",
                "citation": "toy",
                "redistribution": "public domain",
                "note": "",
            }
        )

    with audit_raw_opens(root) as opened:
        assert toy_reader(root) == "y"
        with audit_raw_opens(root / "census") as inner:
            (root / "census" / "listed.csv").read_text()
    assert opened == {"census/listed.csv", "extra/unlisted.txt"}
    assert inner == {"listed.csv"}
    assert unlisted(opened, root / "manifest.csv") == ["extra/unlisted.txt"]

    toy_reader(root)  # outside the block the hook records nothing
    (root / "census" / "later.txt").read_text()
    assert opened == {"census/listed.csv", "extra/unlisted.txt"} and inner == {"listed.csv"}
    with audit_raw_opens(root) as again:
        pass
    assert again == set()
