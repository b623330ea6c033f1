"""How every pipeline step ends: ``run(main, name)`` exits with main's status; an expected stop
(``errors.StopBuild``) prints one line ``error: ...`` and exits 1; Ctrl-C prints one line and exits
130. Outputs are written atomically, so neither leaves a partial file behind."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

from analysis.infra.errors import StopBuild


def run(main: Callable[[], int | None], name: str) -> NoReturn:
    """Call ``main()`` and exit as described above."""
    try:
        status = main()
    except KeyboardInterrupt:
        print(f"{name}: interrupted; the outputs of its last complete run are unchanged", file=sys.stderr)
        sys.exit(130)
    except StopBuild as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)
