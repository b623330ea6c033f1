"""Record which raw files a piece of code opens, to check that it reads only manifest files.

    with audit_raw_opens() as opened:
        build_panel()
    assert unlisted(opened) == []

The record comes from Python's audit hook ('open' event: ``open``, ``io.open``, ``os.open``).
Files opened by compiled libraries through their own C calls (e.g. pyreadr, pyarrow's native
filesystem) and files opened in other processes are not seen. An audit hook cannot be removed,
so the one installed here does nothing outside an ``audit_raw_opens`` block.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from analysis import config
from analysis.acquire import read_manifest

_recorders: list[tuple[str, set[str]]] = []  # (folder, paths opened under it), innermost last
_hooked = False


def _hook(event: str, args: tuple) -> None:
    """Audit hook: add each file opened under an active recorder's folder to its set."""
    if event != "open" or not _recorders or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    for folder, opened in _recorders:
        if path.startswith(folder + os.sep):
            opened.add(Path(os.path.relpath(path, folder)).as_posix())


@contextlib.contextmanager
def audit_raw_opens(root: str | os.PathLike = config.DATA_RAW) -> Iterator[set[str]]:
    """Yield a set that collects the paths (relative to ``root``, '/'-separated) opened in the block."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked = True
    opened: set[str] = set()
    _recorders.append((os.path.abspath(root), opened))
    try:
        yield opened
    finally:
        _recorders.pop()


def unlisted(paths: Iterable[str], manifest: str | os.PathLike = config.MANIFEST) -> list[str]:
    """The paths (relative to data_raw/) that are not files listed in ``manifest``, sorted."""
    listed = {entry.path for entry in read_manifest(manifest)}
    return sorted(set(paths) - listed)
