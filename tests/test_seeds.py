"""One seed: every draw comes from config.SEED unless a spec overrides it, and nothing is drawn unseeded."""

from __future__ import annotations

import ast
import warnings

import pytest

from analysis import config, estimate
from analysis.estimators import cs, wild
from analysis.estimators.simulate import simulate_panel
from analysis.spec import load_spec
from tests.spec_text import spec_yaml

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SPEC = spec_yaml(description="seeds", estimators=["cs", "wild"], bootstrap=199)


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(40, seed=7, cohorts=(2004, 2008))


def _run(path, panel, root, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate.write_results(name, estimate.run_spec(load_spec(path), panel), root, path)


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "spec.yaml"}


def test_a_spec_without_seed_is_byte_identical_twice_and_equals_seed_config_seed(tmp_path, panel):
    monkey = tmp_path / "s.yaml"
    monkey.write_text(SPEC)
    explicit = tmp_path / "e.yaml"
    explicit.write_text(SPEC + f"seed: {config.SEED}\n")
    first = _run(monkey, panel, tmp_path / "one", "s")
    second = _run(monkey, panel, tmp_path / "two", "s")
    seeded = _run(explicit, panel, tmp_path / "three", "s")
    assert _bytes(first) == _bytes(second) == _bytes(seeded)


def test_the_seed_is_used(tmp_path, panel):
    """Another seed changes the bootstrap draws (so the default seed above was a real one)."""
    path = tmp_path / "o.yaml"
    path.write_text(SPEC + "seed: 12345\n")
    other = _run(path, panel, tmp_path / "other", "o")
    default = tmp_path / "d.yaml"
    default.write_text(SPEC)
    base = _run(default, panel, tmp_path / "base", "d")
    assert (other / "overall.csv").read_bytes() != (base / "overall.csv").read_bytes()


def test_estimators_refuse_to_draw_unseeded_and_default_to_config_seed(panel):
    with pytest.raises(ValueError, match="seed"):
        cs.att_gt(panel, "log_rate_violent", "year", "fips", "g287_county", bootstrap=9, seed=None)
    with pytest.raises(ValueError, match="seed"):
        wild.wild(panel, "log_rate_violent", "fips", "year", "g287_county", cluster="state_fips", seed=None)
    assert cs.att_gt.__defaults__[-2] == config.SEED and wild.wild.__kwdefaults__ is None
    assert wild.wild.__defaults__[2] == config.SEED


def test_no_random_generator_in_the_package_is_created_without_a_seed():
    """Every numpy generator (default_rng, RandomState, np.random.seed) in analysis/ is given a seed
    argument, and no module draws from numpy's global state (np.random.<dist>)."""
    unseeded = []
    for path in sorted((config.ROOT / "analysis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                owner = ast.unparse(node.func.value)
                if name in ("default_rng", "RandomState", "seed") and not (node.args or node.keywords):
                    unseeded.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
                if owner in ("np.random", "numpy.random") and name not in ("default_rng", "RandomState", "seed"):
                    unseeded.append(f"{path.name}:{node.lineno} {ast.unparse(node)} (global state)")
    assert not unseeded, unseeded
