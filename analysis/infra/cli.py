"""How every pipeline step ends: ``run(main, name)`` exits with main's status; an expected stop
(``errors.StopBuild``) prints one line ``error: ...`` and exits 1; Ctrl-C prints one line and exits
130. Outputs are written atomically, so neither leaves a partial file behind. ``interrupt_after()``
holds Ctrl-C while a compiled library call runs, so that it still ends the step that way."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from analysis.infra.errors import StopBuild


def run(main: Callable[[], int | None], name: str) -> NoReturn:
    """Call ``main()`` and exit as described above. An error raised after a Ctrl-C counts as the
    interruption: compiled readers turn it into their own errors (pandas' C parser: "Calling
    read(nbytes) on source failed")."""
    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, on_sigint)  # (an ignored SIGINT stays ignored)
    try:
        status = main()
    except KeyboardInterrupt:
        _interrupted(name)
    except StopBuild as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        if interrupted:
            _interrupted(name)
        raise
    sys.exit(status or 0)


def _interrupted(name: str) -> NoReturn:
    print(f"{name}: interrupted; the outputs of its last complete run are unchanged", file=sys.stderr)
    sys.exit(130)


@contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) while the block runs and deliver it when the block ends. For compiled
    calls with Python callbacks (pyreadr's parser): a KeyboardInterrupt raised inside such a callback
    is printed as a traceback and lost; held until the call returns, it reaches ``run`` as one line.
    The Python handler is swapped (not the thread's signal mask: a signal sent to the process may be
    delivered to any other thread, e.g. a BLAS or test-runner thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and callable(previous):
            previous(signal.SIGINT, None)
