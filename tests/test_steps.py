"""Build steps (analysis.infra.runlog step): a step whose inputs and outputs have the content of its last
success is skipped and its outputs stamped done; anything else reruns it. Atomic folders
(analysis.infra.atomic.atomic_dir): replaced whole, unchanged files keep their times, normal permissions,
temporaries of killed writers removed by the next write."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from analysis.config import ROOT
from analysis.infra import cli, runlog
from analysis.infra.atomic import atomic_dir, write_text

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

WRITE = (
    "import sys, pathlib; p = pathlib.Path(sys.argv[1]); p.write_text(pathlib.Path(sys.argv[2]).read_text().upper())"
)


@pytest.fixture
def step(tmp_path, monkeypatch):
    """run(…) -> exit status of a step that upper-cases in.txt into out.txt, counting real runs."""
    monkeypatch.setattr(runlog, "FINGERPRINTS", tmp_path / "fingerprints")
    monkeypatch.setattr(runlog, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(runlog, "STEPS", tmp_path / "logs" / "steps.tsv")
    source, out = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("hello\n")
    cmd = [sys.executable, "-c", WRITE, str(out), str(source)]

    def run(command=cmd):
        return runlog.run_step("upper", command, [str(source)], [str(out)])

    return run, source, out


def runs(tmp_path) -> list[str]:
    return [s["note"] if "note" in s else "ran" for s in runlog.read_steps()]


def test_same_content_skips_and_stamps_the_outputs(step, tmp_path):
    run, source, out = step
    assert run() == 0 and out.read_text() == "HELLO\n"
    old = out.stat().st_mtime_ns
    time.sleep(0.01)
    os.utime(source)  # a touch, a checkout: same bytes
    assert run() == 0
    assert runs(tmp_path) == ["ran", "skipped: inputs and outputs unchanged"]
    assert out.stat().st_mtime_ns > old  # stamped done for make


def test_changed_input_command_or_output_reruns(step, tmp_path):
    run, source, out = step
    run()
    source.write_text("world\n")
    run()
    assert out.read_text() == "WORLD\n"
    out.write_text("edited by hand\n")
    run()
    assert out.read_text() == "WORLD\n"
    out.unlink()
    run()
    assert out.read_text() == "WORLD\n"
    assert runs(tmp_path) == ["ran"] * 4


def test_a_failed_step_records_nothing_and_reruns(step, tmp_path):
    run, source, out = step
    assert run([sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert not list((tmp_path / "fingerprints").glob("*.json"))
    assert run() == 0 and out.read_text() == "HELLO\n"


def test_a_step_that_writes_no_output_fails(step):
    run, _, out = step
    assert run([sys.executable, "-c", "pass"]) == 1 and not out.exists()


def test_steps_log_the_make_run(step, monkeypatch):
    run, _, _ = step
    monkeypatch.setenv("RUN_ID", "first")
    run()
    monkeypatch.setenv("RUN_ID", "second")
    run()
    assert [s["step"] for s in runlog.read_steps("second")] == ["upper"]
    assert len(runlog.read_steps()) == 2


def test_record_marks_untracked_files_dirty(tmp_path, monkeypatch):
    monkeypatch.setattr(runlog, "_git", lambda *a: "?? analysis/specs/new.yaml" if a[0] == "status" else "abc")
    monkeypatch.setattr(runlog, "LOGS", tmp_path)
    monkeypatch.setattr(runlog, "RECORD", tmp_path / "run_record.json")
    monkeypatch.setattr(runlog, "STEPS", tmp_path / "steps.tsv")
    assert runlog.write_record("x")["git_dirty"] is True


def test_ctrl_c_in_a_step_prints_one_line(tmp_path):
    """SIGINT to a running step: one line from the step, exit 130, no traceback."""
    code = "from analysis.infra import cli; import time; cli.run(lambda: time.sleep(30), 'sleeper')"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "sleeper: interrupted; the outputs of its last complete run are unchanged"


def test_atomic_dir_keeps_unchanged_files_and_normal_modes(tmp_path):
    target = tmp_path / "results" / "spec"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("1\n")
        (tmp / "b.csv").write_text("2\n")
    a_time = (target / "a.csv").stat().st_mtime_ns
    time.sleep(0.01)
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("1\n")
        (tmp / "c.csv").write_text("3\n")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "c.csv"]
    assert (target / "a.csv").stat().st_mtime_ns == a_time
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["spec"]  # no temporary left


def test_atomic_dir_leaves_the_old_folder_when_the_writer_dies(tmp_path):
    target = tmp_path / "spec"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("old\n")
    code = (
        "import sys, time; from analysis.infra.atomic import atomic_dir\n"
        "with atomic_dir(sys.argv[1]) as tmp:\n"
        "    (tmp / 'a.csv').write_text('half'); print(tmp, flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    stale = proc.stdout.readline().strip()
    proc.kill()
    proc.wait()
    assert (target / "a.csv").read_text() == "old\n" and os.path.isdir(stale)
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("new\n")
    assert not os.path.exists(stale) and [p.name for p in tmp_path.iterdir()] == ["spec"]


def test_write_text_leaves_identical_files_alone(tmp_path):
    target = tmp_path / "numbers.tex"
    write_text(target, "x\n")
    before = target.stat().st_mtime_ns
    time.sleep(0.01)
    write_text(target, "x\n")
    assert target.stat().st_mtime_ns == before
    write_text(target, "y\n")
    assert target.read_text() == "y\n"


def test_an_interrupt_inside_interrupt_after_arrives_when_the_block_ends():
    """Ctrl-C during a held block (a compiled call) is raised after it, where run() turns it into one line."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # xdist workers may ignore SIGINT
    steps = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with cli.interrupt_after():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10_000):  # bytecode at which a pending KeyboardInterrupt would be raised
                    pass
                steps.append("block ran to its end")
            steps.append("after the block")  # never: the held interrupt arrives first
    finally:
        signal.signal(signal.SIGINT, previous)
    assert steps == ["block ran to its end"]


def test_an_error_a_library_raises_for_a_ctrl_c_is_reported_as_the_interruption():
    """pandas' C parser turns a Ctrl-C during read() into a ParserError: still one line and exit 130."""
    code = (
        "from analysis.infra import cli; import time\n"
        "def main():\n"
        "    try:\n"
        "        time.sleep(30)\n"
        "    except KeyboardInterrupt:\n"
        "        raise ValueError('Calling read(nbytes) on source failed')\n"
        "cli.run(main, 'reader')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "reader: interrupted; the outputs of its last complete run are unchanged"
    done = subprocess.run(
        [sys.executable, "-c", code.replace("time.sleep(30)", "pass").replace("except KeyboardInterrupt", "finally")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "ValueError" in done.stderr  # without a Ctrl-C the error is the error
