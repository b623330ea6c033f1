"""Run record: time each pipeline step and write what a build ran with.

``python -m analysis.runlog step NAME -- CMD ...`` runs CMD, appends its wall time to
``logs/steps.tsv`` and exits with CMD's status.  ``python -m analysis.runlog record`` writes
``logs/run_record.json``: git commit, whether the tree was dirty, Python and package versions,
and the steps timed since the previous record.  Standard library only, so it starts fast.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata

from analysis.atomic import write_text
from analysis.config import LOGS, ROOT

STEPS = LOGS / "steps.tsv"
RECORD = LOGS / "run_record.json"


def run_step(name: str, cmd: list[str]) -> int:
    """Run ``cmd``, log ``name``, its exit status and seconds to ``logs/steps.tsv``."""
    start = time.perf_counter()
    status = subprocess.call(cmd)
    seconds = time.perf_counter() - start
    LOGS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with open(STEPS, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp}\t{name}\t{status}\t{seconds:.2f}\n")
    return status


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
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


def write_record() -> dict:
    """Write ``logs/run_record.json`` and start a new step list; return the record."""
    steps = []
    if STEPS.exists():
        for line in STEPS.read_text(encoding="utf-8").splitlines():
            when, name, status, seconds = line.split("\t")
            steps.append({"finished": when, "step": name, "status": int(status),
                          "seconds": float(seconds)})
    record = {
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "steps": steps,
        "total_seconds": round(sum(s["seconds"] for s in steps), 2),
    }
    write_text(RECORD, json.dumps(record, indent=2) + "\n")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    write_text(LOGS / "history" / f"run_{stamp}.json", json.dumps(record, indent=2) + "\n")
    STEPS.unlink(missing_ok=True)
    return record


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "step" and argv[2] == "--":
        return run_step(argv[1], argv[3:])
    if argv == ["record"]:
        record = write_record()
        print(f"run record: {RECORD.relative_to(ROOT)} ({record['total_seconds']} s in "
              f"{len(record['steps'])} steps, commit {record['git_commit'][:10]}"
              f"{', dirty tree' if record['git_dirty'] else ''})")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
