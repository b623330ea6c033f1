"""Write outputs atomically: to a temporary file (or folder) beside the target, then rename.

A crash or a kill mid-write never leaves a half-written output under the final name. A kill
(SIGKILL) can leave the temporary ``.<name>.<pid>.<random>.tmp`` behind (a file, or a folder for
``atomic_dir``): the next write of the same target removes every such temporary whose process is
gone. A file whose new content equals the old is not rewritten (its time stays), so a step that
reruns without changing anything does not make its dependents look out of date.
"""

from __future__ import annotations

import contextlib
import filecmp
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without sending) and is not a zombie:
    a killed writer whose parent was killed too stays a zombie until something reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no procfs (not Linux) or the process just went away
        return True
    return stat[stat.rindex(")") + 2] != "Z"  # the state field follows "(command) "


def remove_stale(target: str | os.PathLike) -> list[Path]:
    """Delete the temporaries of ``target`` left by killed writers and return them: a temporary
    is stale when none of the pids in its name is alive (a name without pid was written before
    pids were recorded). Nested temporaries (``..<name>.<pid>.<r>.tmp.<pid>.<r>.tmp``: a writer
    such as write_parquet given a temporary path) are included. A live writer's file is kept."""
    target = Path(target)
    segment = r"\.(?:(\d+)\.)?[a-z0-9_]{8}\.tmp"
    pattern = re.compile(rf"\.+{re.escape(target.name)}(?:{segment})+")
    removed = []
    for tmp in target.parent.glob(f".*{glob.escape(target.name)}.*.tmp"):
        if not pattern.fullmatch(tmp.name):
            continue
        pids = [int(pid) for pid in re.findall(r"\.(\d+)\.[a-z0-9_]{8}\.tmp", tmp.name)]
        if not any(_alive(pid) for pid in pids):
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``target``, unless
    ``target`` already holds the same bytes (then it is left as it is). Stale temporaries of the
    same target (killed writers) are removed first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if not (target.is_file() and filecmp.cmp(tmp, target, shallow=False)):
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give outputs the usual mode
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` as a whole (the
    old folder, if any, is removed). Files whose bytes are unchanged keep their old times. A kill
    leaves ``target`` as it was; its temporary folders are removed by the next write."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700; give folders the usual mode
        for new in tmp.rglob("*"):
            before = target / new.relative_to(tmp)
            if new.is_file() and before.is_file() and filecmp.cmp(new, before, shallow=False):
                stat = before.stat()
                os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if target.exists():
            os.rename(target, old)  # onto the empty folder ``old``
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8, LF); nothing is written when ``target`` already
    holds exactly this text (so an unchanged file needs no write access)."""
    target = Path(target)
    with contextlib.suppress(OSError):
        if target.read_bytes() == text.encode("utf-8"):
            return
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_parquet(df, target: str | os.PathLike) -> None:
    """Write a DataFrame to parquet atomically, without the index and without timestamps."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="snappy")


def write_csv(df, target: str | os.PathLike) -> None:
    """Write a DataFrame to CSV atomically, without the index, LF line endings."""
    with atomic_path(target) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")
