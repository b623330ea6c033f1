"""Run many paper specs in one process, each as if it were its own Make step:
``python -m analysis.infra.batch analysis/specs/A.yaml analysis/specs/B.yaml ...`` (the Makefile's
spec batches).

Starting a Python process with pandas, SciPy and the estimation libraries takes about 4 s, longer
than most specs take to fit; with one process per spec the build spent most of its estimation time
importing. A batch imports once. Each spec keeps the bookkeeping of a step of its own
(analysis.infra.runlog, step name ``estimate:<stem>``): it is skipped when its spec file, the panel, the
modules analysis.estimate can load (analysis.infra.makedeps) and the stamps of the samples and derived
columns it uses (``.make/specs.mk``, analysis.infra.specdeps) have the content of its last successful
run and its results folder is intact; otherwise it runs (analysis.estimate), and is recorded and
logged. Checking needs no pandas, so a batch with nothing to do takes a fraction of a second.

The first spec that fails stops the batch (exit 1; 130 on Ctrl-C) with its own message; the specs
finished before it stay recorded, so the next ``make`` goes on from there.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from analysis.config import MAKE_STATE, PANEL, RESULTS, ROOT, SPECS
from analysis.infra import cli, makedeps, runlog
from analysis.infra.errors import InputError


@dataclass(frozen=True)
class SpecStep:
    """One spec's step: its file, its name, fingerprint command, inputs and outputs."""

    spec: Path
    name: str
    cmd: list[str]
    inputs: list[str]
    outputs: list[str]


def stamps(mk: Path | None = None) -> dict[str, list[str]]:
    """Target (relative to the root) -> the stamps it depends on, as analysis.infra.specdeps wrote them
    in ``mk`` (default .make/specs.mk); empty if the file is missing (a spec then depends on its file,
    the panel and the modules only)."""
    mk = mk or MAKE_STATE / "specs.mk"
    found = {}
    for line in mk.read_text(encoding="utf-8").splitlines() if mk.exists() else []:
        if line and not line.startswith("#") and ": " in line:
            target, deps = line.split(": ", 1)
            found[target] = deps.split()
    return found


def _relative(paths: list[Path]) -> list[str]:
    """Paths relative to the working directory (the root, under make), as Make's own steps record
    them: a tree that is moved or copied keeps its records."""
    return [os.path.relpath(p) for p in paths]


def plan(specs: list[str]) -> list[SpecStep]:
    """The step of each spec. InputError for a file that is not a spec of analysis/specs/ (the user's own
    specs run with ``make mine``)."""
    modules = [ROOT / p for p in makedeps.closure({"analysis.estimate"}, entry=True)]
    extra = stamps()
    steps = []
    for given in specs:
        path = Path(given).resolve()
        if path.parent != SPECS.resolve() or path.suffix != ".yaml" or not path.is_file():
            raise InputError(
                given, f"not a spec file of {SPECS.relative_to(ROOT)}/ (run your own specs with make mine)"
            )
        target = f"results/{path.stem}/overall.csv"
        folder = RESULTS / path.stem
        steps.append(
            SpecStep(
                spec=path,
                name=f"estimate:{path.stem}",
                cmd=["analysis.estimate", path.relative_to(ROOT).as_posix()],
                inputs=_relative([path, PANEL, *modules, *(ROOT / s for s in extra.get(target, []))]),
                outputs=_relative([folder / "overall.csv", folder]),
            )
        )
    return steps


def run(specs: list[str]) -> int:
    """Skip the specs that are done, run the others in this process; the status of the batch."""
    todo = [s for s in plan(specs) if not runlog.skip_if_done(s.name, s.cmd, s.inputs, s.outputs)]
    if not todo:
        return 0
    from analysis import estimate  # the one slow import of the batch

    for step in todo:
        print(f"== {step.name}: python -m {' '.join(step.cmd)}", flush=True)
        start = time.perf_counter()
        try:
            status = estimate.main([str(step.spec)])
        except KeyboardInterrupt:
            runlog.finish(step.name, step.cmd, step.inputs, step.outputs, 130, time.perf_counter() - start)
            raise
        status = runlog.finish(step.name, step.cmd, step.inputs, step.outputs, status, time.perf_counter() - start)
        if status:
            return status
    return 0


if __name__ == "__main__":
    cli.run(lambda: run(sys.argv[1:]), "estimate")
