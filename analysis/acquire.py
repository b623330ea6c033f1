"""Fetch the raw files listed in data_raw/manifest.csv and verify each one by sha256.

For every manifest entry, in order: a file already in data_raw/ with the right sha256 is kept;
otherwise it is copied from the first mirror folder that has it (``config.mirror_dirs()``:
DATA_MIRROR, then ../shared/data_raw), or else downloaded from its pinned URL. A copy or a
download goes to a temporary file beside the target and is renamed into place only once its
sha256 matches, so no partial file is ever left. A present file with the wrong sha256 is never
overwritten. Every problem is reported, then the run fails; on success data_raw/.verified lists
each file's sha256 in ``sha256sum -c`` format.

    python -m analysis.acquire [--dest FOLDER] [--timeout SECONDS] [--base-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from tqdm import tqdm

from analysis import config
from analysis.infra import cli
from analysis.infra.atomic import atomic_path, write_text
from analysis.infra.errors import InputError, StopBuild
from analysis.infra.manifest import FIELDS, Entry, read_manifest, sha256_of  # noqa: F401 (re-exported)

TIMEOUT = 60.0
CHUNK = 1 << 16
HELP = (
    "Rerun to retry, or put the file under the same relative path in a folder and set "
    "DATA_MIRROR to that folder (see data_raw/README.md)."
)


class AcquireError(RuntimeError, StopBuild):
    """A raw file could not be installed; the message names it and says what to do."""


def entry_url(entry: Entry, base_url: str | None = None) -> str:
    """The URL to download ``entry`` from: its pinned URL, or BASE_URL/<path> when given."""
    return entry.url if base_url is None else f"{base_url.rstrip('/')}/{quote(entry.path)}"


def _verify(tmp: Path, entry: Entry, origin: str, advice: str) -> None:
    """Raise AcquireError unless the temporary copy ``tmp`` has the entry's sha256."""
    actual = sha256_of(tmp)
    if actual != entry.sha256:
        raise AcquireError(
            f"{entry.path}: the copy from {origin} has sha256 {actual} ({tmp.stat().st_size} bytes), "
            f"expected {entry.sha256} ({entry.bytes} bytes); nothing was installed. {advice}"
        )


def _download(url: str, tmp: Path, timeout: float, label: str) -> None:
    """Stream ``url`` into ``tmp`` with a progress bar; a body shorter than announced raises."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = response.length
        received = 0
        with (
            open(tmp, "wb") as out,
            tqdm(total=announced, desc=label, unit="B", unit_scale=True, leave=False, disable=None) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if announced is not None and received < announced:
        raise ConnectionError(f"connection dropped after {received} of {announced} bytes")


def _reason(err: Exception, timeout: float) -> str:
    """Say in a few words why a download failed."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP status {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        err = err.reason if isinstance(err.reason, Exception) else err
    if isinstance(err, TimeoutError):
        return f"timed out: no data for {timeout:g} s"
    return str(err) or type(err).__name__


def _writable(target: Path, dest_root) -> contextlib.AbstractContextManager[Path]:
    """atomic_path(target), with a folder that cannot be written to reported as an AcquireError."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(target.parent, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as err:
        raise AcquireError(
            f"{_blocking_folder(target.parent, Path(dest_root))} cannot be written to "
            f"({err.strerror}): make {dest_root} writable (chmod -R u+w {dest_root}) and rerun "
            "`make data`."
        ) from None
    return atomic_path(target)


def _blocking_folder(folder: Path, dest_root: Path) -> Path:
    """The outermost existing folder between ``dest_root`` and ``folder`` that cannot be written to
    (so a read-only data_raw/ is named once, not once per subfolder); ``folder`` if none is found."""
    inside = [p for p in (folder, *folder.parents) if p == dest_root or dest_root in p.parents]
    for path in reversed(inside):  # outermost first
        if path.is_dir() and not os.access(path, os.W_OK):
            return path
    return folder


def ensure_file(
    entry: Entry,
    dest_root: str | os.PathLike,
    mirrors: list[Path],
    timeout: float = TIMEOUT,
    base_url: str | None = None,
) -> str:
    """Install ``entry`` under ``dest_root``; return 'present', 'mirror' or 'download'.

    Raises AcquireError (naming the file, the source and the fix) on any failure, leaving
    no temporary file and never overwriting a file already present.
    """
    target = Path(dest_root) / entry.path
    if target.exists():
        actual = sha256_of(target)
        if actual == entry.sha256:
            return "present"
        raise AcquireError(
            f"{entry.path}: {target} has sha256 {actual}, expected {entry.sha256}. It was left "
            "untouched: delete it (or move it away) and rerun to fetch the pinned file."
        )
    for mirror in mirrors:
        source = Path(mirror) / entry.path
        if source.is_file():
            with _writable(target, dest_root) as tmp:
                try:
                    shutil.copyfile(source, tmp)
                except OSError as err:
                    raise AcquireError(f"{entry.path}: copying {source} failed: {err}") from None
                _verify(tmp, entry, f"mirror {source}", "Replace or delete that mirror copy and rerun.")
            return "mirror"
    url = entry_url(entry, base_url)
    with _writable(target, dest_root) as tmp:
        try:
            _download(url, tmp, timeout, PurePosixPath(entry.path).name)
        except (OSError, http.client.HTTPException) as err:
            searched = ", ".join(str(m) for m in mirrors) or "none"
            raise AcquireError(
                f"{entry.path}: not in {dest_root} nor in a mirror (searched: {searched}), and the "
                f"download from {url} failed: {_reason(err, timeout)}. {HELP}"
            ) from None
        _verify(tmp, entry, url, "The upstream file may have changed or the transfer was corrupted. " + HELP)
    return "download"


def acquire_all(
    dest_root: str | os.PathLike = config.DATA_RAW,
    manifest: str | os.PathLike = config.MANIFEST,
    mirrors: list[Path] | None = None,
    timeout: float = TIMEOUT,
    base_url: str | None = None,
) -> Counter:
    """Install every manifest file under ``dest_root`` and write its stamp; count outcomes.

    All entries are tried; if any fails, the stamp is removed and one AcquireError lists
    every problem. ``mirrors`` defaults to ``config.mirror_dirs()``.
    """
    entries = read_manifest(manifest)
    mirrors = config.mirror_dirs() if mirrors is None else mirrors
    stamp = Path(dest_root) / config.RAW_STAMP.relative_to(config.DATA_RAW)
    outcomes, problems = Counter(), []
    for entry in entries:
        try:
            outcomes[ensure_file(entry, dest_root, mirrors, timeout, base_url)] += 1
        except AcquireError as err:
            problems.append(str(err))
    if problems:
        with contextlib.suppress(OSError):  # a read-only folder: the problems below say so
            stamp.unlink(missing_ok=True)
        distinct = list(dict.fromkeys(problems))  # one line per distinct problem (e.g. one unwritable folder)
        raise AcquireError(
            f"{len(problems)} of {len(entries)} raw files could not be installed:\n" + "\n".join(distinct)
        )
    try:
        write_text(stamp, "".join(f"{e.sha256}  {e.path}\n" for e in entries))
    except OSError as err:
        raise AcquireError(
            f"every raw file is verified, but {stamp} cannot be written ({err.strerror}): make "
            f"{dest_root} writable (chmod u+w {dest_root}) and rerun `make data`."
        ) from None
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Command line: install the manifest's files, print a summary, return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m analysis.acquire", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dest", type=Path, default=config.DATA_RAW, help="folder to install into (default: data_raw/)"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT, help=f"seconds to wait for data from a server (default: {TIMEOUT:g})"
    )
    parser.add_argument("--base-url", help="download from BASE_URL/<path> instead of the pinned URLs")
    args = parser.parse_args(argv)
    try:
        outcomes = acquire_all(args.dest, timeout=args.timeout, base_url=args.base_url)
    except (InputError, AcquireError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"{outcomes.total()} raw files verified in {args.dest}: {outcomes['present']} present, "
        f"{outcomes['mirror']} copied from a mirror, {outcomes['download']} downloaded"
    )
    return 0


if __name__ == "__main__":
    cli.run(main, "data")
