"""Messages that teach: the nearest valid name for a misspelt one (difflib), or the valid names."""

from __future__ import annotations

import difflib


def nearest(word: str, choices) -> str | None:
    """The valid name closest to ``word`` (difflib ratio >= 0.6, case-insensitive), or None."""
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def unknown(what: str, word, choices, limit: int = 12) -> str:
    """'unknown <what> 'x': did you mean 'y'?' or, without a near name, the valid names (at most ``limit``)."""
    near = nearest(word, choices)
    if near is not None:
        return f"unknown {what} {word!r}: did you mean {near!r}?"
    choices = [str(c) for c in choices]
    shown = ", ".join(choices[:limit]) + (f", ... ({len(choices)} in all)" if len(choices) > limit else "")
    return f"unknown {what} {word!r} (valid: {shown})"
