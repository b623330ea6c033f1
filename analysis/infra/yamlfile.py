"""Reading the hand-written YAML files (specs, samples, grids, codebook, published results)."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

from analysis.infra.errors import InputError


def read_yaml(path: str | Path, kind: type, expected: str):
    """The parsed document and its node tree (for line numbers; shared between calls: read it, never
    change it). InputError names the file and the line when the text is not valid YAML, and line 1 when
    the top level is not a ``kind`` (``expected`` says what)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data, root = _parse(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(
            path, f"not valid YAML ({getattr(err, 'problem', None) or err})", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, kind):
        raise InputError(path, f"expected {expected}", line=1)
    # The document is copied (callers may change what they get); the node tree is not: copying its
    # thousands of nodes took 30 ms a call, a tenth of a credibility run that reads samples.yaml 240 times.
    return copy.deepcopy(data), root


@lru_cache(maxsize=64)
def _parse(text: str):
    """Document and node tree of ``text``, parsed once per distinct text (a credibility run reads the same
    samples and derived files for each of its hundred specs; keyed on the text, never stale)."""
    return yaml.safe_load(text), yaml.compose(text)
