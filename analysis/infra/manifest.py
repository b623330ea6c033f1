"""The manifest of raw files (data_raw/manifest.csv): one row per file with its sha256, size,
pinned URL, source, licence and citation. Standard library only, so the build can check raw files
before any environment exists (analysis.infra.rawcheck)."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from analysis import config
from analysis.infra.errors import InputError

FIELDS = ("path", "sha256", "bytes", "url", "source", "licence", "citation", "redistribution", "note")
OPTIONAL = {"note"}


@dataclass(frozen=True)
class Entry:
    """One row of the manifest: a raw file, its checksum, size, pinned URL and terms."""

    path: str
    sha256: str
    bytes: int
    url: str
    source: str
    licence: str
    citation: str
    redistribution: str
    note: str


def _entry(row: dict, file: Path, line: int) -> Entry:
    """Check one manifest row and return it as an Entry (InputError naming the field if bad)."""
    if None in row:
        raise InputError(file, f"has more than {len(FIELDS)} fields", line=line)
    if None in row.values():
        missing = next(field for field in FIELDS if row[field] is None)
        raise InputError(file, f"has fewer than {len(FIELDS)} fields", line=line, field=missing)
    for field in FIELDS:
        if field not in OPTIONAL and not row[field].strip():
            raise InputError(file, "is empty", line=line, field=field)
    path = PurePosixPath(row["path"])
    if path.is_absolute() or ".." in path.parts or "\\" in row["path"] or str(path) != row["path"]:
        raise InputError(
            file, f"'{row['path']}' must be a plain relative path inside data_raw/", line=line, field="path"
        )
    if not re.fullmatch(r"[0-9a-f]{64}", row["sha256"]):
        raise InputError(
            file, f"'{row['sha256']}' is not a sha256 (64 lowercase hex digits)", line=line, field="sha256"
        )
    if not re.fullmatch(r"[0-9]+", row["bytes"]):
        raise InputError(file, f"'{row['bytes']}' is not a whole number of bytes", line=line, field="bytes")
    if not re.fullmatch(r"https?://\S+", row["url"]):
        raise InputError(
            file, f"'{row['url']}' is not an http(s) URL without spaces (encode them as %20)", line=line, field="url"
        )
    return Entry(**{**row, "bytes": int(row["bytes"])})


def read_manifest(path: str | os.PathLike = config.MANIFEST) -> list[Entry]:
    """Read and check the manifest; a malformed row raises InputError naming file, line and field."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != FIELDS:
                raise InputError(path, f"header must be {','.join(FIELDS)}", line=1)
            entries, lines = [], {}
            for row in reader:
                entry = _entry(row, path, reader.line_num)
                if entry.path in lines:
                    raise InputError(
                        path, f"'{entry.path}' repeats line {lines[entry.path]}", line=reader.line_num, field="path"
                    )
                lines[entry.path] = reader.line_num
                entries.append(entry)
    except FileNotFoundError:
        raise InputError(path, "manifest not found") from None
    return entries


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, as lowercase hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
