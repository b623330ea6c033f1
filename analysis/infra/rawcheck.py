"""Check the raw files in data_raw/ against the manifest on every build, in milliseconds.

``python -m analysis.infra.rawcheck`` exits 0 when every file listed in data_raw/manifest.csv is present
with its sha256, and otherwise prints one line per problem (the file, expected and actual sha256 or
"missing", and what to do) and exits 1. The Makefile runs it before any step that reads raw files,
so a file edited, truncated, swapped for another or deleted stops ``make all`` even when no code
changed.

Hashes are cached in .make/raw-sha256.json, keyed by each file's size, mtime, ctime and inode. The
ctime changes whenever a file is written, renamed or replaced and cannot be set back by a user, so
a cache hit means the bytes hashed before are still the bytes on disk; any other file is hashed
again. Standard library only: it runs before the Python environment exists.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from analysis import config
from analysis.infra.errors import InputError
from analysis.infra.manifest import read_manifest, sha256_of

CACHE = config.ROOT / ".make" / "raw-sha256.json"


def _key(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _load(cache: Path) -> dict:
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(cache: Path, data: dict) -> None:
    """Write the cache atomically; a read-only folder only costs the next run a re-hash."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass


def hashes(root: Path, paths: list[str], cache: Path = CACHE) -> dict[str, str | None]:
    """sha256 of each path under ``root`` (None if missing), from the cache where the file's
    (size, mtime, ctime, inode) are those recorded with the hash."""
    known, fresh, out = _load(cache), {}, {}
    for rel in paths:
        file = Path(root) / rel
        try:
            stat = file.stat()
        except OSError:
            out[rel] = None
            continue
        key = f"{file.resolve()}"
        hit = known.get(key)
        if hit and hit["stat"] == _key(stat):
            out[rel] = hit["sha256"]
        else:
            out[rel] = sha256_of(file)
        fresh[key] = {"stat": _key(file.stat()), "sha256": out[rel]}
    if fresh != {k: known.get(k) for k in fresh}:
        _save(cache, {**known, **fresh})
    return out


def verified(root: Path) -> set[tuple[str, str]] | None:
    """The (sha256, path) pairs the last acquisition verified (``root``/.verified), None if none did."""
    try:
        text = (Path(root) / config.RAW_STAMP.name).read_text(encoding="utf-8")
    except OSError:
        return None
    return {tuple(line.split("  ", 1)) for line in text.splitlines() if "  " in line}


def problems(root: Path = config.DATA_RAW, manifest: Path = config.MANIFEST, cache: Path = CACHE) -> list[str]:
    """One line per manifest file that is missing or has the wrong sha256 under ``root``. Once an
    acquisition has stamped ``root``, only the files it verified are checked: a file the manifest
    adds or changes since then is acquisition's to fetch (make runs it: the manifest is newer)."""
    entries = read_manifest(manifest)
    stamped = verified(root)
    if stamped is not None:
        entries = [e for e in entries if (e.sha256, e.path) in stamped]
    found = hashes(root, [e.path for e in entries], cache)
    owner = {e.sha256: e.path for e in entries}
    out = []
    for entry in entries:
        actual = found[entry.path]
        where = Path(root) / entry.path
        if actual is None:
            out.append(
                f"{where}: missing (expected sha256 {entry.sha256}). Run `make data` to fetch it "
                "again from DATA_MIRROR or its pinned URL."
            )
        elif actual != entry.sha256:
            same = f"; its bytes are those of {owner[actual]}" if actual in owner else ""
            out.append(
                f"{where}: sha256 {actual} ({where.stat().st_size} bytes), expected {entry.sha256} "
                f"({entry.bytes} bytes){same}. The raw files must not be edited: delete it and run "
                "`make data` to fetch the pinned file again."
            )
    return out


def main(argv: list[str] | None = None) -> int:
    """Print every problem to stderr; exit 1 if there is one. Options: --root FOLDER (default
    data_raw/), --manifest FILE, --cache FILE."""
    parser = argparse.ArgumentParser(prog="python -m analysis.infra.rawcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=config.DATA_RAW)
    parser.add_argument("--manifest", type=Path, default=config.MANIFEST)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    try:
        found = problems(args.root, args.manifest, args.cache)
    except InputError as err:
        found = [str(err)]
    if found:
        print(
            f"error: {len(found)} raw file(s) in data_raw/ do not match data_raw/manifest.csv; "
            "nothing was built:\n  " + "\n  ".join(found),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
