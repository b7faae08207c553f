"""Admission control: how many requests of each cost run at once, and for how long.

An ask costs the CPU of several searches (5.6x on the five-document corpus,
about 50x on a larger index). Without a bound, a burst of asks took every
worker thread and ``/api/health`` waited 37 s behind them. Each kind of work therefore has a :class:`Pool` of its own:

* ``ask`` (``POLICY_SEARCH_MAX_CONCURRENT_ASKS``) and ``search``
  (``POLICY_SEARCH_MAX_CONCURRENT_SEARCHES``: searches, document pages,
  related documents, lists and statistics) run at most that many at once;
* a request that finds its pool full waits in a first-come, first-served
  queue of at most ``POLICY_SEARCH_ADMISSION_QUEUE`` requests for at most
  ``POLICY_SEARCH_ADMISSION_WAIT_S``; a full queue or a longer wait is
  answered at once with ``503 overloaded`` and ``Retry-After``;
* admitted work runs in one of the pool's own worker threads under a
  deadline of ``POLICY_SEARCH_REQUEST_TIMEOUT_S`` from the request's arrival
  (queue time included); the work checks it between stages and stops
  (:mod:`search.deadline`), and the client gets ``503 timeout``. A stage
  that blocks past the deadline (an embedder process restarting on a loaded
  machine took 100 s) cannot be interrupted, so the client is answered at the
  deadline anyway; the thread stops at its next check and keeps its slot
  until then, so the pool never runs more than its size.

``/api/health`` belongs to no pool and opens no thread while the index
version it reports is already open, so it answers while asks queue. What the
event loop does for other requests delays it too, so admitted work returns
its response already rendered to JSON in the worker thread
(:meth:`Admission.json`): FastAPI would otherwise validate and serialise
the response model on the event loop.

Pools are plain locks and per-waiter events, not anyio primitives: one pool
serves every event loop of the process (the test client starts one per
request) and hands a freed slot straight to the oldest waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

from policy_search.settings import Settings
from search import deadline
from web.errors import ApiError, retry_after

T = TypeVar("T")
# Ask threads run at a lower CPU priority (Linux nice, per thread) than the event loop and
# the search threads: when the cores are short, the scheduler runs health checks and
# searches first and asks take what is left (bench/ask_storm.py).
ASK_NICE = 10
Kind = Literal["ask", "search"]
# How long past its deadline a client waits for work that has not reached a check.
GRACE_S = 1.0


@dataclass
class _Waiter:
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    granted: bool = False


class Pool:
    """At most ``slots`` at once; at most ``queue`` waiting, each for at most ``wait_s``."""

    def __init__(
        self, name: str, slots: int, queue: int, wait_s: float, setting: str, nice: int = 0
    ) -> None:
        self.name = name
        self.slots = slots
        self.queue = queue
        self.wait_s = wait_s
        self.setting = setting
        self._lock = threading.Lock()
        self._busy = 0
        self._waiters: deque[_Waiter] = deque()
        self.admitted = 0
        self.refused = 0
        self.abandoned = 0  # answered "timeout" before the work reached a check
        self.executor = ThreadPoolExecutor(
            max_workers=slots,
            thread_name_prefix=f"{name}-pool",
            initializer=_lower_priority,
            initargs=(nice,),
        )

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _overloaded(self, why: str) -> ApiError:
        self.refused += 1
        return ApiError(
            503,
            "overloaded",
            f"the server is busy with other {self.name} requests ({why}; "
            f"{self.setting}); try again shortly",
            retry_after(max(1.0, self.wait_s / 2)),
        )

    async def acquire(self) -> None:
        with self._lock:
            if self._busy < self.slots and not self._waiters:
                self._busy += 1
                self.admitted += 1
                return
            if len(self._waiters) >= self.queue:
                raise self._overloaded(f"{self.queue} already waiting")
            waiter = _Waiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter.event.wait(), self.wait_s)
        except BaseException as exc:
            with self._lock:
                if not waiter.granted:
                    self._waiters.remove(waiter)
                elif isinstance(exc, TimeoutError):
                    # Granted just as the wait ran out: the slot is ours, use it.
                    self.admitted += 1
                    return
                else:
                    self._release_locked()
            if isinstance(exc, TimeoutError):
                raise self._overloaded(f"waited {self.wait_s:g} s for a free slot") from None
            raise
        self.admitted += 1

    def release(self) -> None:
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            try:
                waiter.loop.call_soon_threadsafe(waiter.event.set)
            except RuntimeError:  # that request's event loop is gone
                continue
            waiter.granted = True  # the slot passes to it; _busy stays
            return
        self._busy -= 1

    def stats(self) -> dict[str, int]:
        return {
            "slots": self.slots,
            "busy": self._busy,
            "waiting": len(self._waiters),
            "admitted": self.admitted,
            "refused": self.refused,
            "abandoned": self.abandoned,
        }


class Admission:
    """The pools of one app, and the one way a route runs its work: :meth:`run`."""

    def __init__(self, settings: Settings) -> None:
        self.timeout_s = settings.request_timeout_s
        self.pools: dict[str, Pool] = {
            "ask": Pool(
                "ask",
                settings.max_concurrent_asks,
                settings.admission_queue,
                settings.admission_wait_s,
                "POLICY_SEARCH_MAX_CONCURRENT_ASKS",
                nice=ASK_NICE,
            ),
            "search": Pool(
                "search",
                settings.max_concurrent_searches,
                settings.admission_queue,
                settings.admission_wait_s,
                "POLICY_SEARCH_MAX_CONCURRENT_SEARCHES",
            ),
        }

    async def run(self, kind: Kind, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread once ``kind``'s pool admits it, under the deadline."""
        started = time.monotonic()
        pool = self.pools[kind]
        await pool.acquire()
        try:
            work: Future[T] = pool.executor.submit(
                _under_deadline, self.timeout_s, started, fn, *args
            )
        except BaseException:
            pool.release()
            raise
        # The slot is free when the work is, not when the client stops waiting.
        work.add_done_callback(lambda _: pool.release())
        waiting = asyncio.wrap_future(work)
        waiting.add_done_callback(_consume)
        remaining = self.timeout_s + GRACE_S - (time.monotonic() - started)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), max(remaining, 0.01))
        except TimeoutError:
            pool.abandoned += 1
            raise deadline.DeadlineExceeded(self.timeout_s, "waiting for a stage") from None

    async def json(self, kind: Kind, fn: Callable[..., BaseModel], *args: Any) -> Response:
        """:meth:`run` for work that returns a response model, rendered in the worker."""
        return await self.run(kind, _rendered, fn, *args)

    def stats(self) -> dict[str, dict[str, int]]:
        return {name: pool.stats() for name, pool in self.pools.items()}


def _rendered(fn: Callable[..., BaseModel], *args: Any) -> Response:
    return Response(fn(*args).model_dump_json(), media_type="application/json")


def _lower_priority(nice: int) -> None:
    """In a new pool thread: lower this thread's scheduling priority by ``nice`` (Linux)."""
    if nice > 0:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def _consume(waiting: asyncio.Future[Any]) -> None:
    # An abandoned request's work may still end in an exception nobody awaits.
    if not waiting.cancelled():
        waiting.exception()


def _under_deadline(limit_s: float, started: float, fn: Callable[..., T], *args: Any) -> T:
    with deadline.deadline(limit_s, started):
        deadline.check("admitted")  # the time spent queueing counts
        return fn(*args)


__all__ = ["Admission", "Pool"]
