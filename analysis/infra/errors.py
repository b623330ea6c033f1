"""Errors that stop the build on purpose: each says what is wrong and what to do.

Every pipeline entry point runs through ``analysis.infra.cli.run``, which prints such an error as one
line (no traceback) and exits 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StopBuild(Exception):
    """An expected stop (bad input, missing file, failed check): the message is for the user."""


class InputError(ValueError, StopBuild):
    """Raised when a raw or specification file cannot be read as documented.

    The message always starts with ``file:line: field``, so the user can open the
    file at the offending place.
    """

    def __init__(self, file, message: str, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field = str(file), line, field
        where = self.file + (f":{line}" if line is not None else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")
