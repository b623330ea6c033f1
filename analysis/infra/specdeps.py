"""Make's view of what each spec uses: ``python -m analysis.infra.specdeps`` (run by make itself).

Writes, under .make/ (gitignored):

* ``samples/<name>.yaml``: the rules of each named sample of analysis/samples.yaml,
* ``derived/<name>.yaml``: each derived column of analysis/derived.yaml with those it needs,
  both rewritten only when their content changes (descriptions and meanings left out), and
* ``specs.mk``: for every spec (analysis/specs/, myspecs/) and robustness grid, a rule making its
  results depend on the stamps of the samples and derived columns it uses.

So adding a named sample or a derived column rebuilds nothing, changing one rebuilds only the specs
that use it, and the panel depends on the stamp of 'main' alone. A spec that does not parse gets no
extra dependencies (its own run reports the mistakes).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from analysis import config
from analysis.config import DERIVED, GRIDS, MAKE_STATE, MINE, ROOT, SAMPLES, SPECS, grid_folder, ri_folder
from analysis.model import fe_parts

USES = ("controls", "baseline_controls")


def _read(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that (keeping its time stamp)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def _uses(fields: dict, samples: dict, derived: dict) -> list[str]:
    """The stamps a spec's (or a grid base's/variant's) fields depend on."""
    if not isinstance(fields, dict):
        return []
    out = []
    if isinstance(fields.get("sample"), str) and fields["sample"] in samples:
        out.append(f"samples/{fields['sample']}.yaml")
    columns = [c for f in USES for c in (fields.get(f) or []) if isinstance(c, str)]
    columns += [p for t in fields.get("fixed_effects") or [] if isinstance(t, str) for p in fe_parts(t)]
    inline = fields.get("derived") if isinstance(fields.get("derived"), dict) else {}
    for entry in inline.values():
        if isinstance(entry, dict):
            columns += [v for k, v in entry.items() if k in ("log", "log1p", "baseline") and isinstance(v, str)]
            columns += [v for v in entry.get("product") or [] if isinstance(v, str)]
    out += [f"derived/{c}.yaml" for c in dict.fromkeys(columns) if c in derived]
    return out


def _samples() -> dict:
    """The named samples with ``extends`` resolved (a sample's stamp holds its parent's rules too);
    the raw file when it does not validate (the build's own run then reports the mistake)."""
    from analysis.infra.errors import InputError
    from analysis.sample import read_samples

    try:
        return read_samples(SAMPLES) if SAMPLES.exists() else {}
    except InputError:
        raw = _read(SAMPLES)
        return raw if isinstance(raw, dict) else {}


def _relative(folder: Path) -> str:
    """A result folder as the Makefile names it (relative to the package root)."""
    return folder.relative_to(config.ROOT).as_posix()


def rules() -> tuple[dict[str, str], dict[str, list[str]]]:
    """(stamp -> content, target -> stamps) for the whole repository."""
    from analysis import derived as derived_columns

    samples = _samples()
    derived = _read(DERIVED) if DERIVED.exists() else {}
    derived = {k: v for k, v in (derived or {}).items() if not derived_columns.definition_problems(k, v)}
    stamps = {
        f"samples/{name}.yaml": yaml.safe_dump(
            {k: v for k, v in (rule or {}).items() if k != "description"}, sort_keys=True
        )
        for name, rule in samples.items()
    }
    for name in derived:
        try:
            stamps[f"derived/{name}.yaml"] = derived_columns.stamp(name, derived)
        except ValueError:
            continue
    targets = {}
    for folder, root in ((SPECS, "results"), (MINE, "myspecs/results")):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            targets[f"{root}/{path.stem}/overall.csv"] = _uses(_read(path), samples, derived)
    for path in sorted(GRIDS.glob("*.yaml")):
        grid = _read(path) or {}
        base = grid.get("base") if isinstance(grid, dict) else None
        uses = _uses(base, samples, derived)
        for item in (grid.get("variants") or []) if isinstance(grid, dict) else []:
            changes = item.get("changes") if isinstance(item, dict) else None
            if isinstance(base, dict) and isinstance(changes, dict):
                uses += _uses({**base, **changes}, samples, derived)
        uses = list(dict.fromkeys(uses))
        targets[f"{_relative(grid_folder(path.stem))}/estimates.csv"] = uses
        block = grid.get("ri") if isinstance(grid.get("ri"), dict) else {}
        strata = [c for c in block.get("strata") or [] if isinstance(c, str) and c in derived]
        targets[f"{_relative(ri_folder(path.stem))}/ri.csv"] = list(
            dict.fromkeys(uses + [f"derived/{c}.yaml" for c in strata])
        )
    return stamps, targets


def main() -> int:
    """Refresh the stamps (only those whose content changed) and rewrite .make/specs.mk."""
    stamps, targets = rules()
    state = MAKE_STATE
    for rel, text in stamps.items():
        write_if_changed(state / rel, text)
    for kind in ("samples", "derived"):
        for old in (state / kind).glob("*.yaml") if (state / kind).is_dir() else []:
            if f"{kind}/{old.name}" not in stamps:
                old.unlink()
    prefix = state.relative_to(ROOT)
    lines = ["# Generated by analysis.infra.specdeps: what each spec and grid uses (do not edit)."]
    lines += [f"{target}: {' '.join(f'{prefix}/{s}' for s in uses)}" for target, uses in targets.items() if uses]
    mk = state / "specs.mk"
    mk.parent.mkdir(parents=True, exist_ok=True)
    mk.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
