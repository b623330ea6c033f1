"""Shared fixtures. No test assumes a folder outside the repository: a test that needs a raw-data
mirror gets one built in a temporary folder from the verified files in data_raw/."""
from __future__ import annotations

import os
import shutil

import pytest

from analysis import config
from analysis.manifest import read_manifest
from analysis.rawcheck import problems


@pytest.fixture(scope="session")
def raw_mirror(tmp_path_factory):
    """A mirror folder holding a copy of every manifest file, taken from the verified data_raw/."""
    found = problems()
    if found:
        pytest.fail("data_raw/ is not verified (run make data):\n" + "\n".join(found))
    mirror = tmp_path_factory.mktemp("mirror")
    for entry in read_manifest():
        target = mirror / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(config.DATA_RAW / entry.path, target)   # cheap; the bytes are verified above
        except OSError:
            shutil.copyfile(config.DATA_RAW / entry.path, target)
    return mirror


@pytest.fixture
def only_mirror(raw_mirror, monkeypatch):
    """DATA_MIRROR = the temporary mirror, and no default mirror beside the checkout."""
    monkeypatch.setenv("DATA_MIRROR", str(raw_mirror))
    monkeypatch.setattr(config, "DEFAULT_MIRROR", raw_mirror.parent / "no-default-mirror")
    return raw_mirror
