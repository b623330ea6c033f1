"""Faults a user can cause, in a temporary clone of the repository, each ending with a clear message,
a non-zero exit and the previous outputs untouched (analysis.infra.bench.clone: this interpreter's
environment, raw files copied from this tree's verified data_raw/ through DATA_MIRROR).

Raw files: edited, truncated at a line boundary, swapped for another year's, deleted: ``make`` stops
before any step with the raw check's message (file, expected and actual sha256 or "missing", what to
do), even when no code changed. A misspelt DATA_MIRROR: one line. Ctrl-C during the panel: one line,
the previous panel kept."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from analysis.infra.bench import check_clone_env, clone, clone_env
from analysis.infra.manifest import read_manifest

TIER = "e2e"  # the default tier of these tests (tests/conftest.py)


CRIME = "ucr/f-edwards-cw-race/data/{}-0004-Data.txt"
Y2000, Y2001, Y2005 = CRIME.format("03451"), CRIME.format("03721"), CRIME.format("04717")
COUNTIES = "census/national_county.txt"
ICE_LIST = next(e.path for e in read_manifest() if "/participatingAgencies/" in e.path)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A clone with verified raw files and no outputs; returns (folder, environment)."""
    folder = clone(tmp_path_factory.mktemp("faults") / "repo")
    env = clone_env()
    check_clone_env(folder, env)
    subprocess.run(["make", "data"], cwd=folder, env=env, check=True, capture_output=True, timeout=600)
    return folder, env


def make(repo, env, *goals, timeout=1200) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *goals], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def swap(raw: Path) -> str:
    shutil.copyfile(raw / Y2001, raw / Y2000)
    return f"its bytes are those of {Y2001}"


def truncate(raw: Path) -> str:
    lines = (raw / Y2005).read_bytes().split(b"\n")
    (raw / Y2005).write_bytes(b"\n".join(lines[:1000]) + b"\n")
    return "(98000 bytes), expected"


def edit(raw: Path) -> str:
    path = raw / COUNTIES
    body = bytearray(path.read_bytes())
    body[200] = ord("7") if body[200] != ord("7") else ord("8")
    stat = path.stat()
    path.write_bytes(bytes(body))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with its old time put back
    return "The raw files must not be edited"


def delete(raw: Path) -> str:
    (raw / ICE_LIST).unlink()
    return "missing (expected sha256"


FAULTS = {
    "swapped year file": (swap, Y2000),
    "truncated at a line boundary": (truncate, Y2005),
    "edited byte": (edit, COUNTIES),
    "deleted file": (delete, ICE_LIST),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_changed_raw_file_stops_the_build_with_its_name_and_the_fix(repo, fault):
    folder, env = repo
    raw = folder / "data_raw"
    damage, path = FAULTS[fault]
    words = damage(raw)
    done = make(folder, env, "all")
    assert done.returncode != 0
    assert done.stderr.startswith(
        "error: 1 raw file(s) in data_raw/ do not match data_raw/manifest.csv; nothing was built:\n"
    )
    assert f"{raw / path}: " in done.stderr and words in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert [p.name for p in (folder / "data_clean").iterdir()] == ["README.md"]  # nothing ran
    # the documented fix: delete the file (if still there) and fetch it again
    (raw / path).unlink(missing_ok=True)
    fixed = make(folder, env, "data")
    assert fixed.returncode == 0, fixed.stderr
    assert make(folder, env, "-n", "panel").returncode == 0  # the raw check passes again


def test_a_misspelt_data_mirror_gets_one_line(tmp_path):
    folder = clone(tmp_path / "repo")
    env = {**clone_env(), "DATA_MIRROR": str(tmp_path / "no-such-mirror")}
    check_clone_env(folder, env)
    done = make(folder, env, "data")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(
        f"error: DATA_MIRROR={tmp_path / 'no-such-mirror'} is not a folder: correct the "
        "path, or unset DATA_MIRROR to copy from "
    )
    assert first.endswith(" (if present) or download from the pinned URLs")
    assert not (folder / "data_raw" / ".verified").exists()


def reading_raw_files(proc: subprocess.Popen, folder: Path, timeout: float = 300) -> bool:
    """Wait until the panel step (``python -m analysis.panel`` in ``proc``'s group) has a file of
    ``folder``/data_raw open: it is past its imports and at work (a fixed sleep could land in the
    imports, where Python prints a traceback)."""
    raw = str(folder / "data_raw") + "/"
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if os.getpgid(int(pid)) != proc.pid or cmd[1:3] != [b"-m", b"analysis.panel"]:
                    continue  # not the step itself (make and the run-log wrapper read files too)
                if any(os.readlink(f"/proc/{pid}/fd/{fd}").startswith(raw) for fd in os.listdir(f"/proc/{pid}/fd")):
                    return True
            except OSError:  # the process or the descriptor is gone
                continue
        time.sleep(0.01)
    return False


def test_ctrl_c_during_the_panel_keeps_the_previous_panel(repo):
    folder, env = repo
    assert make(folder, env, "panel").returncode == 0
    outputs = {p.name: p.read_bytes() for p in (folder / "data_clean").iterdir()}
    codebook = folder / "analysis" / "codebook.yaml"  # (samples.yaml: only the 'main' rules' stamp counts)
    codebook.write_text(codebook.read_text() + "# a comment: the panel must be rebuilt\n")
    proc = subprocess.Popen(
        ["make", "panel"],
        cwd=folder,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reading_raw_files(proc, folder), "the panel finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Traceback" not in err
    assert "panel: interrupted; the outputs of its last complete run are unchanged" in err
    assert {p.name: p.read_bytes() for p in (folder / "data_clean").iterdir()} == outputs
    again = make(folder, env, "panel")
    assert again.returncode == 0, again.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in (folder / "data_clean").iterdir()} == outputs
