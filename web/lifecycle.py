"""What the server does when it is told to stop: its child processes go first, at once.

uvicorn answers SIGTERM (and SIGINT) by draining: it stops accepting, waits
for the requests in flight, runs the app's shutdown, then exits. Children
used to be stopped only by the end of that (their pipes closing), so the
embedder process (about 1.3 GB) outlived a SIGTERM by 5-25 s. Here the
signal itself kills them (:func:`ingest.children.stop_all`, a few system
calls) before uvicorn's own handler starts the drain; requests still in
flight that needed the embedder get ``503 embedder_unavailable``, and no new
child is started. A server killed with ``-9`` runs none of this: there the
children's parent-death signal ends them (see :mod:`ingest.children`).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from fastapi import FastAPI

from ingest import children

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# How long a thread that wants the GIL waits before the running one must hand it over
# (Python's default: 5 ms). The event loop gives the GIL up at every system call and
# then waits this long behind the ask and search threads, several times per request;
# at 1 ms /api/health's p99 during an ask storm fell (bench/ask_storm.py,
# docs/deployment.md).
SWITCH_INTERVAL_S = 0.001
Handler = Callable[[int, FrameType | None], Any] | int | None


def _chain(previous: Handler) -> Callable[[int, FrameType | None], None]:
    def handler(sig: int, frame: FrameType | None) -> None:
        children.stop_all()
        if callable(previous):
            previous(sig, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    return handler


def hook_stop_signals() -> bool:
    """Put the child-killing step in front of the current SIGTERM/SIGINT handlers.

    Called at startup, after the server installed its own handlers; only the
    main thread may (a test client's app starts in another: nothing is done).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    for sig in STOP_SIGNALS:
        signal.signal(sig, _chain(signal.getsignal(sig)))
    return True


def install_lifecycle(app: FastAPI, on_shutdown: list[Callable[[], None]]) -> None:
    """Hook the stop signals at startup; at shutdown, stop the children and run ``on_shutdown``."""

    def startup() -> None:
        app.state.signals_hooked = hook_stop_signals()
        if app.state.signals_hooked:  # a real server's process, not a test's
            sys.setswitchinterval(SWITCH_INTERVAL_S)

    def shutdown() -> None:
        # Only a real server's: apps in a test process share the children module.
        if getattr(app.state, "signals_hooked", False):
            children.stop_all()
        for step in on_shutdown:
            step()

    app.router.add_event_handler("startup", startup)
    app.router.add_event_handler("shutdown", shutdown)


__all__ = ["hook_stop_signals", "install_lifecycle"]
