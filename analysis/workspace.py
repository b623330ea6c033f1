"""Where specifications live and where their results go: the paper's specs and a student's own.

* ``analysis/specs/<stem>.yaml`` -> ``results/<stem>/``: the paper (``make estimates``).
* ``myspecs/<stem>.yaml`` - or a spec file anywhere else - -> ``myspecs/results/<stem>/``: the user
  workspace (``make mine``; gitignored), or ``--out FOLDER`` -> ``FOLDER/<stem>/``. A spec run from
  outside analysis/specs/ can therefore never write into the paper's results/.

Identity: a spec's results folder is its file stem (``name``, if given, must equal it, see
analysis.spec). Two specs can never write the same folder: :func:`identity_problems` checks every
spec in analysis/specs/ and myspecs/ and every spec given on the command line - stems are plain
names (letters, digits, '_', '-'), spec files end in ``.yaml``, no two files share a folder (also
case-insensitively, as on macOS), the paper's stems do not start with ``grid_`` or ``ri_`` (the
robustness grids' folders), and a user spec does not reuse a paper spec's stem (plots and tables
find specs by name).
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.config import GRID_PREFIX, MINE, MINE_RESULTS, RESULTS, RI_PREFIX, SPECS
from analysis.infra.errors import InputError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
RESERVED = (GRID_PREFIX, RI_PREFIX)


def is_paper(path: str | Path) -> bool:
    """Whether ``path`` is a spec of the paper (a file directly in analysis/specs/)."""
    return Path(path).resolve().parent == SPECS.resolve()


def results_root(path: str | Path, out: str | Path | None = None) -> Path:
    """The folder that receives ``<stem>/`` for the spec in ``path``: ``out`` if given, else results/ for
    the paper's specs and myspecs/results/ for every other spec."""
    if out is not None:
        return Path(out)
    return RESULTS if is_paper(path) else MINE_RESULTS


def paper_specs() -> list[Path]:
    """analysis/specs/*.yaml, sorted."""
    return sorted(SPECS.glob("*.yaml"))


def user_specs() -> list[Path]:
    """myspecs/*.yaml, sorted (none if the folder does not exist)."""
    return sorted(MINE.glob("*.yaml")) if MINE.is_dir() else []


def identity_problems(paths=(), out: str | Path | None = None) -> list[InputError]:
    """Every identity conflict among the paper's specs, the workspace's and ``paths`` (run with
    ``out``): one InputError per conflict, naming the files and the folder they would share."""
    problems = []
    given = [Path(p) for p in paths]
    for folder in (SPECS, MINE):
        if folder.is_dir():
            problems += [
                InputError(p, f"spec files end in .yaml (make runs {folder.name}/*.yaml only): rename it", field="name")
                for p in sorted(folder.glob("*.yml"))
            ]
    everything = {p.resolve(): (p, None) for p in [*paper_specs(), *user_specs()]}
    everything.update({p.resolve(): (p, out) for p in given})
    folders: dict[str, list[Path]] = {}
    paper_stems = {p.stem.lower(): p for p in paper_specs()}
    for _resolved, (path, root) in everything.items():
        stem = path.stem
        if path.suffix != ".yaml":
            problems.append(InputError(path, "a spec file name ends in .yaml", field="name"))
        if not NAME.match(stem):
            problems.append(
                InputError(
                    path,
                    f"file name '{stem}' is not a plain name (letters, digits, '_', '-'): it names the results folder",
                    field="name",
                )
            )
            continue
        target = results_root(path, root).resolve() / stem.lower()
        folders.setdefault(str(target), []).append(path)
        if is_paper(path) and stem.startswith(RESERVED):
            problems.append(
                InputError(
                    path,
                    f"'{stem}' starts with {' or '.join(RESERVED)}, the prefixes of the "
                    "robustness grids' folders in results/: choose another name",
                    field="name",
                )
            )
        if not is_paper(path) and root is None and stem.lower() in paper_stems:
            problems.append(
                InputError(
                    path,
                    f"'{stem}' is the name of a paper spec ({paper_stems[stem.lower()]}): "
                    "choose another file name, so results, plots and tables can tell them "
                    "apart",
                    field="name",
                )
            )
    for target, owners in sorted(folders.items()):
        if len(owners) > 1:
            listed = ", ".join(str(p) for p in sorted(owners))
            problems.append(
                InputError(
                    sorted(owners)[0],
                    f"these specs would all write {target}/: {listed}; rename all but one",
                    field="name",
                )
            )
    return problems


def results_folder(name: str | Path) -> Path:
    """The results folder of a spec given by name (paper or workspace), by its spec file, or by the
    folder itself; FileNotFoundError says how to make it."""
    path = Path(name)
    if path.is_dir() and (path / "overall.csv").exists():
        return path
    if path.suffix == ".yaml":
        return results_root(path) / path.stem
    found = [root / str(name) for root in (RESULTS, MINE_RESULTS) if (root / str(name) / "overall.csv").exists()]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise FileNotFoundError(f"spec '{name}' has results in both {found[0]} and {found[1]}: pass the folder")
    hint = (
        "run `make estimates`"
        if (SPECS / f"{name}.yaml").exists()
        else "run `make mine`"
        if (MINE / f"{name}.yaml").exists()
        else f"no spec file analysis/specs/{name}.yaml or myspecs/{name}.yaml either"
    )
    raise FileNotFoundError(f"no results for spec '{name}' in results/ or myspecs/results/ ({hint})")
