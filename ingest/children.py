"""Child processes of a server: started from one long-lived thread, killed with it, reaped.

The server runs two kinds of helper processes: the embedder
(:mod:`index.embed_process`, about 1.3 GB) and the extraction helpers
(:mod:`ingest.sandbox`). Three rules keep them from outliving it:

* **Parent-death signal.** Each child asks the kernel, first thing, for
  SIGKILL when its parent goes (``prctl(PR_SET_PDEATHSIG)``, Linux), so a
  server killed with ``-9`` takes its children along at once. Before that, an
  embedder whose server was killed kept running for minutes.
* **One spawning thread.** The kernel sends that signal when the *thread*
  that forked the child ends, not the process. Request threads come and go
  (anyio's idle workers exit after seconds), so every child is started from
  :func:`spawn`'s single thread, which lives as long as the process.
* **Reaped.** A watcher thread waits for each child, so one that dies
  (killed, crashed) is never left defunct until the next request happens to
  notice it.

:func:`stop_all` kills every live child at once: the server calls it on
SIGTERM, so a stopping server does not keep 1.3 GB for seconds more.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)
# The variable through which a spawned child learns which process it must die with.
PARENT_ENV = "POLICY_SEARCH_PARENT_PID"

# Never shut down: its one thread is the parent (for PR_SET_PDEATHSIG) of every child.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="child-spawner")
_LIVE: dict[int, subprocess.Popen[bytes]] = {}
# Re-entrant: stop_all runs in a signal handler, possibly over a spawn of the main thread.
_LIVE_LOCK = threading.RLock()
_stopping = threading.Event()


class ServerStopping(RuntimeError):
    """No new child: the server is shutting down."""


def die_with_parent(parent: int | None = None) -> None:
    """In a child: ask for SIGKILL when the parent dies (Linux; elsewhere nothing).

    ``parent``: the pid the child was started by (default: from ``PARENT_ENV``);
    if that process is already gone, exit now rather than live on as an orphan.
    """
    if parent is None:
        value = os.environ.get(PARENT_ENV, "")
        parent = int(value) if value.isdigit() else None
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(70)  # the parent died before the request was made


def spawn(argv: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(argv, **popen)``, started from the spawning thread and watched.

    The child finds this process's pid in ``POLICY_SEARCH_PARENT_PID`` for
    :func:`die_with_parent`.
    """
    if _stopping.is_set():
        raise ServerStopping("the server is stopping; no new helper process")
    env = dict(popen.pop("env", None) or os.environ)
    env[PARENT_ENV] = str(os.getpid())

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, env=env, **popen)

    proc = _SPAWNER.submit(start).result()
    with _LIVE_LOCK:
        _LIVE[proc.pid] = proc
    threading.Thread(target=_reap, args=(proc,), name=f"reap-{proc.pid}", daemon=True).start()
    return proc


def _reap(proc: subprocess.Popen[bytes]) -> None:
    proc.wait()
    with _LIVE_LOCK:
        _LIVE.pop(proc.pid, None)


def live() -> list[int]:
    """Pids of the children started by :func:`spawn` that have not ended."""
    with _LIVE_LOCK:
        return list(_LIVE)


def stop_all(refuse_new: bool = True) -> list[int]:
    """SIGKILL every live child (they hold no state worth a gentler end); their pids.

    ``refuse_new``: :func:`spawn` refuses from now on, so a request still
    running cannot start the embedder again while the server stops.
    """
    if refuse_new:
        _stopping.set()
    with _LIVE_LOCK:
        procs = list(_LIVE.values())
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
    return [p.pid for p in procs]


__all__ = ["ServerStopping", "die_with_parent", "live", "spawn", "stop_all"]
