"""Interrupted builds: a SIGKILL never leaves a half-written output, and the next run recovers.

Decision: atomic_path names its temporary ``.<name>.<pid>.<random>.tmp``; SIGKILL leaves it
behind (no cleanup can run), and the next write of the same target deletes every temporary
whose process is gone. The make tests (slow) run ``make panel`` in a temporary clone of the
repository (analysis.infra.bench.clone: this interpreter's environment, raw files from data_raw/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.infra.atomic import remove_stale, write_text
from analysis.infra.bench import check_clone_env, clone, clone_env

TIER = "unit"  # the default tier of these tests (tests/conftest.py); those running make are e2e

OUTPUTS = [
    "county_panel.parquet",
    "agreements_287g.parquet",
    "sc_activation.parquet",
    "sample_log.csv",
    "codebook.csv",
    "sample_state_losses.csv",
]
WRITER = """
import sys, time
from analysis.infra.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half of an output")
    print(tmp, flush=True)
    time.sleep(60)
"""


def kill_mid_write(target: Path) -> Path:
    """SIGKILL a process inside atomic_path(target) once its temporary exists; return the temporary."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    tmp = Path(proc.stdout.readline().strip())
    proc.kill()
    proc.wait()
    return tmp


def test_sigkill_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "out.csv"
    stale = kill_mid_write(target)
    assert stale.exists() and not target.exists()  # nothing under the final name
    nested = kill_mid_write(stale)  # a writer given a temporary path (panel.main -> write_parquet)
    assert nested.name.startswith("..out.csv.") and nested.exists()
    live = tmp_path / f".out.csv.{os.getpid()}.abcdefgh.tmp"  # a writer still running (this one)
    live.write_text("in progress")
    write_text(target, "complete\n")
    assert target.read_text() == "complete\n"
    assert not stale.exists() and not nested.exists() and live.exists()
    assert remove_stale(target) == [] and live.exists()


def test_a_killed_writer_not_yet_reaped_counts_as_gone(tmp_path):
    """A writer killed with its parent stays a zombie until reaped; its temporary is still stale."""
    target = tmp_path / "out.csv"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent
    )
    tmp = Path(proc.stdout.readline().strip())
    proc.kill()
    while Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[-1][0] != "Z":  # killed, not yet reaped
        time.sleep(0.01)
    try:
        assert remove_stale(target) == [tmp] and not tmp.exists()
    finally:
        proc.wait()


def parse(path: Path) -> pd.DataFrame:
    """Read an output the way its users do (raises on a truncated file)."""
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def state(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """Final outputs (name -> bytes) and temporaries in data_clean/."""
    files = [p for p in folder.iterdir() if p.name != "README.md"]
    return (
        {p.name: p.read_bytes() for p in files if not p.name.endswith(".tmp")},
        sorted(p.name for p in files if p.name.endswith(".tmp")),
    )


@pytest.fixture(scope="module")
def clone_with_data(tmp_path_factory):
    """A temporary clone with verified raw files and no outputs."""
    repo = clone(tmp_path_factory.mktemp("interrupt") / "repo")
    env = clone_env()
    check_clone_env(repo, env)
    subprocess.run(["make", "data"], cwd=repo, env=env, check=True, capture_output=True, timeout=600)
    return repo, env


def run_and_kill(repo: Path, env: dict, when) -> tuple[list[str], bool]:
    """Start ``make panel`` in its own process group; SIGKILL the group when ``when(data_clean)``
    turns true. Return the temporaries seen at that moment and whether the build was still running."""
    for p in (repo / "data_clean").iterdir():
        if p.name != "README.md":
            p.unlink()
    proc = subprocess.Popen(
        ["make", "panel"],
        cwd=repo,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, seen = time.monotonic() + 300, []
    while proc.poll() is None and time.monotonic() < deadline:
        seen = sorted(p.name for p in (repo / "data_clean").iterdir() if p.name.endswith(".tmp"))
        if when(seen):
            break
        time.sleep(0.001)
    running = proc.poll() is None
    if running:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return seen, running


@pytest.mark.parametrize("moment", ["computing", "writing"])
def test_killed_make_panel_leaves_no_half_output_and_next_make_completes(clone_with_data, moment):
    repo, env = clone_with_data
    data_clean = repo / "data_clean"
    start = time.monotonic()
    when = (lambda seen: time.monotonic() - start > 1.5) if moment == "computing" else bool
    seen, running = run_and_kill(repo, env, when)
    assert running, "make panel finished before it could be killed"
    if moment == "writing":
        assert seen, "killed without seeing a temporary output"
    killed, temporaries = state(data_clean)
    if moment == "computing":
        assert killed == {} and temporaries == []
    for name in killed:
        parse(data_clean / name)

    rerun = subprocess.run(["make", "panel"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final, temporaries = state(data_clean)
    assert temporaries == [], "stale temporaries survived the next build"
    assert sorted(final) == sorted(OUTPUTS)
    for name in final:
        assert len(parse(data_clean / name)) > 0
    for name, content in killed.items():  # an output that survived the kill was complete
        assert content == final[name], f"{name} after the kill differs from the rebuilt one"
