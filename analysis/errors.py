"""Errors for bad input: each names the file, the line and the field."""
from __future__ import annotations


class InputError(ValueError):
    """Raised when a raw or specification file cannot be read as documented.

    The message always starts with ``file:line: field``, so the user can open the
    file at the offending place.
    """

    def __init__(self, file, message: str, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field = str(file), line, field
        where = self.file + (f":{line}" if line is not None else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")
