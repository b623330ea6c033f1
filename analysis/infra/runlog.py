"""Run record and content-checked build steps.

``python -m analysis.infra.runlog step NAME --out FILE... --in PATH... -- CMD ...`` runs one Make step.
Before running CMD it compares a fingerprint (CMD, and the sha256 of every input and every output;
a folder counts as all the files inside it) with the one recorded after the step's last success in
``.make/steps/NAME.json``. If nothing changed but file times (a checkout, a ``touch``, an upstream
step that rewrote identical bytes), CMD is skipped; otherwise CMD runs and, on success, the new
fingerprint is recorded. Either way the outputs' times are then set to now, so Make sees the step
done: after any change that leaves the content the same, the next ``make all`` is a no-op. Each run
is appended to ``logs/steps.tsv`` with the Make run it belongs to (RUN_ID) and its wall time; the
step exits with CMD's status (130 on Ctrl-C, with one line, not a traceback).

``python -m analysis.infra.runlog record`` writes ``logs/run_record.json``: git commit, whether the tree
was dirty (untracked files that are not ignored count), Python and package versions, and the steps
of the current Make run. Standard library only, so it starts fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from analysis.config import LOGS, ROOT
from analysis.infra.atomic import write_text

STEPS = LOGS / "steps.tsv"
RECORD = LOGS / "run_record.json"
FINGERPRINTS = ROOT / ".make" / "steps"


def _file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def digest(path: str | Path) -> str | None:
    """sha256 of a file; of a folder, over the relative paths and digests of every file inside it
    (hidden names, i.e. temporaries, skipped); None if missing."""
    path = Path(path)
    if path.is_file():
        return _file_digest(path)
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for sub in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = sub.relative_to(path)
        if not any(part.startswith(".") for part in rel.parts):
            h.update(f"{rel.as_posix()}\0{_file_digest(sub)}\n".encode())
    return h.hexdigest()


def fingerprint(cmd: list[str], inputs: list[str], outputs: list[str]) -> dict:
    """What a step's result depends on, and what it produced."""
    return {
        "cmd": cmd,
        "inputs": {p: digest(p) for p in sorted(set(inputs))},
        "outputs": {p: digest(p) for p in sorted(set(outputs))},
    }


def _record_path(name: str) -> Path:
    return FINGERPRINTS / (name.replace("/", "_").replace(":", "_") + ".json")


def up_to_date(name: str, cmd: list[str], inputs: list[str], outputs: list[str]) -> bool:
    """Whether the step's last success had the same command, input and output contents."""
    try:
        recorded = json.loads(_record_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    now = fingerprint(cmd, inputs, outputs)
    return None not in now["outputs"].values() and recorded == now


def _touch(outputs: list[str]) -> None:
    for out in outputs:
        path = Path(out)
        if path.exists():
            os.utime(path)


def _log(name: str, status: int, seconds: float, note: str = "") -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with open(STEPS, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp}\t{os.environ.get('RUN_ID', '')}\t{name}\t{status}\t{seconds:.2f}\t{note}\n")


def skip_if_done(name: str, cmd: list[str], inputs: list[str], outputs: list[str]) -> bool:
    """If the step's fingerprint is unchanged: touch its outputs, log it as skipped, say so, True."""
    start = time.perf_counter()
    if not (outputs and up_to_date(name, cmd, inputs, outputs)):
        return False
    _touch(outputs)
    _log(name, 0, time.perf_counter() - start, "skipped: inputs and outputs unchanged")
    print(f"{name}: up to date (same inputs and outputs as its last run)")
    return True


def finish(name: str, cmd: list[str], inputs: list[str], outputs: list[str], status: int, seconds: float) -> int:
    """After the step ran: on success check that every output exists, record the fingerprint and
    touch the outputs; log the run. Returns the step's status (1 if an output is missing)."""
    if status == 0 and outputs:
        missing = [o for o in outputs if not Path(o).exists()]
        if missing:
            print(f"{name}: finished but did not write {', '.join(missing)}", file=sys.stderr)
            status = 1
        else:
            write_text(_record_path(name), json.dumps(fingerprint(cmd, inputs, outputs), indent=1) + "\n")
            _touch(outputs)
    _log(name, status, seconds)
    return status


def run_step(name: str, cmd: list[str], inputs: list[str] = (), outputs: list[str] = ()) -> int:
    """Run ``cmd`` unless its fingerprint is unchanged; log it; touch the outputs on success."""
    inputs, outputs = list(inputs), list(outputs)
    if skip_if_done(name, cmd, inputs, outputs):
        return 0
    start = time.perf_counter()
    print(f"== {name}: {' '.join(cmd)}", flush=True)
    process = subprocess.Popen(cmd)
    try:
        status = process.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: give CMD time to stop cleanly
        try:
            process.wait(timeout=5)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                process.kill()
                process.wait()
        status = 130  # the step itself says so in one line (analysis.infra.cli)
    return finish(name, cmd, inputs, outputs, status, time.perf_counter() - start)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _requirements() -> list[str]:
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.append(line.split("==")[0])
    return names


def package_versions() -> dict[str, str]:
    """Installed version of every direct dependency in requirements.txt."""
    versions = {}
    for name in _requirements():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def read_steps(run_id: str | None = None) -> list[dict]:
    """The logged steps, of Make run ``run_id`` only when given."""
    steps = []
    if STEPS.exists():
        for line in STEPS.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) != 6:  # a line from an older format, or cut by a kill: not this run's
                continue
            when, run, name, status, seconds, note = fields
            if run_id is None or run == run_id:
                steps.append(
                    {
                        "finished": when,
                        "step": name,
                        "status": int(status),
                        "seconds": float(seconds),
                        **({"note": note} if note else {}),
                    }
                )
    return steps


def write_record(run_id: str | None = None) -> dict:
    """Write ``logs/run_record.json`` (the steps of Make run ``run_id``) and a copy in logs/history/."""
    steps = read_steps(run_id)
    record = {
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain")),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "run_id": run_id,
        "steps": steps,
        "total_seconds": round(sum(s["seconds"] for s in steps), 2),
    }
    write_text(RECORD, json.dumps(record, indent=2) + "\n")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    write_text(LOGS / "history" / f"run_{stamp}.json", json.dumps(record, indent=2) + "\n")
    return record


def _split_step(argv: list[str]) -> tuple[str, list[str], list[str], list[str]]:
    """NAME [--out FILE...] [--in PATH...] -- CMD... -> (name, outputs, inputs, cmd)."""
    if "--" not in argv or argv.index("--") < 1:
        raise ValueError("usage: step NAME [--out FILE...] [--in PATH...] -- CMD ...")
    head, cmd = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    name, lists, current = head[0], {"--out": [], "--in": []}, None
    for word in head[1:]:
        if word in lists:
            current = word
        elif current is None:
            raise ValueError(f"step {name}: {word!r} is neither --out nor --in")
        else:
            lists[current].append(word)
    if not cmd:
        raise ValueError(f"step {name}: no command after --")
    return name, lists["--out"], lists["--in"], cmd


def main(argv: list[str]) -> int:
    if argv and argv[0] == "step":
        try:
            name, outputs, inputs, cmd = _split_step(argv[1:])
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return run_step(name, cmd, inputs, outputs)
    if argv == ["record"]:
        record = write_record(os.environ.get("RUN_ID") or None)
        print(
            f"run record: {RECORD.relative_to(ROOT)} ({record['total_seconds']} s in "
            f"{len(record['steps'])} steps, commit {record['git_commit'][:10]}"
            f"{', dirty tree' if record['git_dirty'] else ''})"
        )
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C while fingerprinting or logging: one line, no traceback
        print("interrupted: nothing was recorded for this step; rerun make", file=sys.stderr)
        sys.exit(130)
