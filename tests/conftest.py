"""Shared fixtures and the test tiers. No test assumes a folder outside the repository: a test that needs
a raw-data mirror gets one built in a temporary folder from the verified files in data_raw/.

Tiers (one per test; a test with none, or with two, stops the collection):

* ``unit`` - hand-built data only: runs on a clone with no data_raw/, data_clean/, results/ or
  paper/generated/, in seconds (``make test-unit``). Enforced while it runs: opening a built file
  (anything under those folders, notebooks/_build/ or logs/ that git does not track) fails the test, and so
  does a skip (a "not built" skip would hide a failure).
* ``data`` - reads the built panel, results, exhibits or paper, or the verified raw files.
* ``e2e`` - temporary clones, full rebuilds, ``make`` or servers in subprocesses, and the long Monte
  Carlo (the slow tier: what only `make test` runs).

A test module states its default tier in a constant ``TIER = "unit"`` (not ``pytestmark``, which ``-m``
would also match for a test marked otherwise); a test marked ``@pytest.mark.data`` etc. has its own. The
tier is then raised automatically from the code: a test whose body, fixtures or helper functions (in
tests/) name a built path (config.PANEL, config.RESULTS, DATA_RAW...) or call a package function leaving a
parameter at a built default (clean_sc() reads data_raw/) is at least ``data``; one that runs
``make`` is ``e2e``. Reads hidden inside library calls are caught by the unit guard below and by running
the unit tier on a clone with no data.
"""

from __future__ import annotations

import ast
import inspect
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analysis import config
from analysis.infra.manifest import read_manifest
from analysis.infra.rawcheck import problems

# A shell that starts pytest in the background (`pytest ... &` without job control) ignores SIGINT, and
# children inherit an ignored signal across exec: the tests that interrupt a build would then see it run
# on. Python's own handler instead, so that every child starts with the default disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def raw_mirror(tmp_path_factory):
    """A mirror folder holding a copy of every manifest file, taken from the verified data_raw/."""
    found = problems()
    if found:
        pytest.fail("data_raw/ is not verified (run make data):\n" + "\n".join(found))
    mirror = tmp_path_factory.mktemp("mirror")
    for entry in read_manifest():
        target = mirror / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(config.DATA_RAW / entry.path, target)  # cheap; the bytes are verified above
        except OSError:
            shutil.copyfile(config.DATA_RAW / entry.path, target)
    return mirror


@pytest.fixture
def only_mirror(raw_mirror, monkeypatch):
    """DATA_MIRROR = the temporary mirror, and no default mirror beside the checkout."""
    monkeypatch.setenv("DATA_MIRROR", str(raw_mirror))
    monkeypatch.setattr(config, "DEFAULT_MIRROR", raw_mirror.parent / "no-default-mirror")
    return raw_mirror


# ---- Test tiers --------------------------------------------------------------------------------------
TIERS = ("unit", "data", "e2e")  # in order: a test gets the highest its marks and fixtures imply
# Folders a build writes (git-tracked files in them, e.g. data_raw/manifest.csv, are sources).
BUILT = [
    config.DATA_RAW,
    config.DATA_CLEAN,
    config.RESULTS,
    config.GENERATED,
    config.NOTEBOOKS / "_build",
    config.LOGS,
    config.PAPER / "paper.pdf",
    config.ROOT / "myspecs" / "results",
]


def _built(path: Path) -> bool:
    path = Path(os.path.abspath(path))
    return path not in _TRACKED and any(path == b or b in path.parents for b in BUILT)


def _resolve(node, env):
    """The object a name or module attribute (config.PANEL, wave_design.FOLDER) in a test's code stands for."""
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, env)
        return getattr(base, node.attr, None) if inspect.ismodule(base) else None
    return None


def _needs(func, seen: set) -> tuple[str, str] | None:
    """('data', what) if the code of ``func``, or of a test-folder function it names, names a built path;
    ('e2e', what) if it runs make. None otherwise (the code of library functions is not read)."""
    func = inspect.unwrap(func)
    if func in seen or not str(getattr(func, "__code__", None) and func.__code__.co_filename).startswith(
        str(config.ROOT / "tests")
    ):
        return None
    seen.add(func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None
    env = {
        **vars(sys.modules[func.__module__]),
        **dict(zip(func.__code__.co_freevars, (c.cell_contents for c in func.__closure__ or ()))),
    }
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == "make":
            return "e2e", "runs make"
        if found is None and isinstance(node, ast.Call):
            found = _default_built(node, _resolve(node.func, env))
        obj = _resolve(node, env)
        if found is None and isinstance(obj, Path) and _built(obj):
            found = "data", ast.unparse(node)
        elif found is None and inspect.isfunction(obj):
            found = _needs(obj, seen)
            if found and found[0] == "e2e":
                return found
    return found


def _default_built(call: ast.Call, func) -> tuple[str, str] | None:
    """('data', what) if ``call`` leaves a parameter of the package function ``func`` at a built default
    (e.g. clean_sc() reads data_raw/: its raw_dir defaults to config.DATA_RAW)."""
    if not inspect.isfunction(func) or not func.__module__.startswith("analysis"):
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    given = {k.arg for k in call.keywords}
    for i, (name, p) in enumerate(inspect.signature(func).parameters.items()):
        default = p.default
        if (
            i >= len(call.args)
            and name not in given
            and isinstance(default, (Path, str))
            and default
            and _built(Path(default) if Path(default).is_absolute() else config.ROOT / default)
        ):
            return "data", f"{func.__name__}({name}={default})"
    return None


def _detected(item) -> tuple[str, str] | None:
    """The highest tier the test's code and fixtures' code imply (see _needs), with the reason."""
    funcs = [item.obj] if inspect.isfunction(getattr(item, "obj", None)) else []
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        funcs += [d.func for d in defs]
    best, seen = None, set()
    for func in funcs:
        hit = _needs(func, seen)
        if hit and (best is None or TIERS.index(hit[0]) > TIERS.index(best[0])):
            best = hit
    return best


def pytest_collection_modifyitems(config, items):
    """Give every test exactly one tier: its own mark, else its module's TIER; raised to what its code
    and its fixtures' code need (a built path named: data; make run: e2e)."""
    missing = []
    for item in items:
        own = [m.name for m in item.own_markers if m.name in TIERS]
        module = getattr(getattr(item, "module", None), "TIER", None)
        if len(own) > 1 or (module is not None and module not in TIERS):
            raise pytest.UsageError(f"{item.nodeid}: one tier of {TIERS}, not {own or module!r}")
        tier = own[0] if own else module
        if tier is None:
            missing.append(item.nodeid)
            continue
        hit = _detected(item)
        if hit and TIERS.index(hit[0]) > TIERS.index(tier):
            tier = hit[0]
        item.own_markers = [m for m in item.own_markers if m.name not in TIERS]
        item.add_marker(tier)  # the test's only tier mark: what -m unit / data / e2e select
        item.stash[TIER] = tier
    if missing:
        raise pytest.UsageError(
            "tests without a tier (set TIER in the module or mark the test unit, data or e2e; "
            "see tests/conftest.py):\n  " + "\n  ".join(missing)
        )


TIER = pytest.StashKey[str]()
# A unit test may skip only for a missing tool (LaTeX, an optional package), never for missing data.
TOOL_MISSING = ("is not installed", "not installed in this environment", "could not import")
_unit_opened: list[str] = []
_guard = {"on": False}


def _tracked() -> set[Path]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=config.ROOT, capture_output=True, text=True)
    return {config.ROOT / p for p in done.stdout.split("\0") if p} if done.returncode == 0 else set()


_TRACKED = _tracked()


def _audit(event, args):
    """While a unit test runs, note every built file it opens (the open audit event of Python's own I/O)."""
    if not _guard["on"] or event != "open" or not isinstance(args[0], (str, os.PathLike)):
        return
    path = Path(os.path.abspath(os.fspath(args[0])))
    if _built(path):
        _unit_opened.append(str(path.relative_to(config.ROOT)))


sys.addaudithook(_audit)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _guard["on"] = item.stash.get(TIER, None) == "unit"
    _unit_opened.clear()
    try:
        return (yield)
    finally:
        _guard["on"] = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if item.stash.get(TIER, None) != "unit":
        return report
    if call.when == "call" and _unit_opened and report.passed:
        report.outcome = "failed"
        report.longrepr = "a unit test read built files (mark it data): " + ", ".join(sorted(set(_unit_opened)))
    reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else str(report.longrepr)
    if report.skipped and not hasattr(report, "wasxfail") and not any(t in reason for t in TOOL_MISSING):
        report.outcome = "failed"
        report.longrepr = f"a unit test may not skip ({reason}): hand-built data cannot be missing"
    return report
