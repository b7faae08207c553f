"""Token buckets for the rate limits, in process memory or in a file every worker shares.

A bucket holds up to ``per_minute`` tokens and gains ``per_minute / 60`` a
second. A request costing ``cost`` passes when the bucket holds at least
``min(cost, per_minute)`` and then takes all ``cost`` (the bucket may go
below zero), so a request dearer than a whole minute's budget is still
possible once a minute, and is paid for in full.

Two stores behind one :class:`BucketStore` protocol, with the same arithmetic
(:func:`_take`):

* :class:`RateLimiter`: in memory, per process (tests, single-process use).
* :class:`SqliteBuckets`: one SQLite file (WAL, one row per bucket, each take
  one ``BEGIN IMMEDIATE`` transaction), so every worker process of one server
  counts against the same budgets. ``policy-search serve`` uses it.

Why not the ``limits`` library: its storages that share state between
processes (Redis, Memcached, MongoDB, etcd) each need a server to run beside
this one; its memory storage is per process. Its strategies (fixed, moving
and sliding windows) also refuse a request dearer than the whole limit,
where an ask must stay possible once a minute. A file shared by the workers
of one host needs no other service, and a token bucket is a dozen lines.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Clock = Callable[[], float]


@dataclass(frozen=True)
class Decision:
    """What one take found: ``wait`` 0 if allowed, else seconds until it would be."""

    wait: float
    remaining: float  # tokens left after the take (may be below zero)
    reset: float  # seconds until the bucket is full again

    @property
    def allowed(self) -> bool:
        return self.wait <= 0


UNLIMITED = Decision(0.0, float("inf"), 0.0)
_log = logging.getLogger("policy-search")


class BucketStore(Protocol):
    def take(self, bucket: str, per_minute: int, cost: int = 1) -> Decision:
        """Take ``cost`` tokens from ``bucket`` if it holds enough."""
        ...


def _take(
    tokens: float, last: float, now: float, per_minute: int, cost: int
) -> tuple[float, Decision]:
    """(tokens left in the bucket, decision) for a take at ``now``."""
    rate = per_minute / 60.0
    # A clock that stepped back (a wall clock set back, a file from before a reboot)
    # neither refills nor drains the bucket.
    tokens = min(float(per_minute), tokens + max(0.0, now - last) * rate)
    need = float(min(cost, per_minute))
    if tokens >= need:
        tokens -= cost
        wait = 0.0
    else:
        wait = (need - tokens) / rate
    return tokens, Decision(wait, tokens, (per_minute - tokens) / rate)


class RateLimiter:
    """Buckets in process memory, least recently used dropped past ``max_buckets``.

    A dropped bucket is a full one: at worst one client gets a fresh
    allowance, and memory stays bounded whatever addresses arrive.
    ``clock`` may be replaced (tests advance time without sleeping).
    """

    def __init__(self, max_buckets: int = 100_000, clock: Clock = time.monotonic) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_buckets
        self.clock = clock

    def take(self, bucket: str, per_minute: int, cost: int = 1) -> Decision:
        if per_minute <= 0 or cost <= 0:
            return UNLIMITED
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(bucket, (float(per_minute), now))
            tokens, decision = _take(tokens, last, now, per_minute, cost)
            self._buckets[bucket] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return decision

    def hit(self, bucket: str, per_minute: int, cost: int = 1) -> float:
        """Take ``cost`` tokens; 0.0 if allowed, else seconds until it would be."""
        return self.take(bucket, per_minute, cost).wait


_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    last REAL NOT NULL,
    full_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS buckets_full_at ON buckets (full_at);
"""


class SqliteBuckets:
    """Buckets in one SQLite file that every process of a server opens.

    Each take is one ``BEGIN IMMEDIATE`` transaction (read the row, write it
    back), so takes from different processes never interleave. WAL with
    ``synchronous=NORMAL``: a commit is not flushed to disk (a crash may
    forget the last takes, which only hands out a little more allowance).
    The clock is the wall clock, the one every process agrees on; a bucket
    that will be full again by now (``full_at``) is the same as no row, so
    such rows are pruned every ``prune_every`` seconds and the file stays as
    small as the set of clients active in the last minutes.
    """

    def __init__(
        self,
        path: Path,
        clock: Clock = time.time,
        # Takes run on the event loop: a file held longer than this by another worker (or
        # a broken disk) lets the request through rather than stalling every request.
        busy_timeout_s: float = 0.25,
        prune_every: float = 60.0,
    ) -> None:
        self.path = path
        self.clock = clock
        self._busy_ms = int(busy_timeout_s * 1000)
        self._prune_every = prune_every
        self._next_prune = 0.0
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            conn.executescript(_SCHEMA)
            conn.close()
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(
                f"cannot use {path} for the rate-limit buckets ({exc}); set "
                "POLICY_SEARCH_RATE_LIMIT_FILE to a file in a writable local folder"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are begun explicitly below.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread (request threads and the event loop's).
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def take(self, bucket: str, per_minute: int, cost: int = 1) -> Decision:
        if per_minute <= 0 or cost <= 0:
            return UNLIMITED
        # Bucket names hold client addresses: the file keeps only their digests.
        name = hashlib.sha256(bucket.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        try:
            return self._take(name, per_minute, cost)
        except sqlite3.Error as exc:
            # A limiter that cannot count lets requests through (as 0 a minute does) and
            # says so, rather than answering 500 for the server's own trouble.
            _log.warning("rate-limit file %s unusable (%s): request not counted", self.path, exc)
            return UNLIMITED

    def _take(self, name: str, per_minute: int, cost: int) -> Decision:
        conn = self._conn()
        now = self.clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT tokens, last FROM buckets WHERE name = ?", (name,)
            ).fetchone()
            tokens, last = (float(row[0]), float(row[1])) if row else (float(per_minute), now)
            tokens, decision = _take(tokens, last, now, per_minute, cost)
            conn.execute(
                "INSERT INTO buckets (name, tokens, last, full_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, "
                "last = excluded.last, full_at = excluded.full_at",
                (name, tokens, now, now + decision.reset),
            )
            if now >= self._next_prune:
                self._next_prune = now + self._prune_every
                conn.execute("DELETE FROM buckets WHERE full_at < ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return decision

    def count(self) -> int:
        """Rows in the file (for tests and the curious)."""
        return int(self._conn().execute("SELECT count(*) FROM buckets").fetchone()[0])


__all__ = ["BucketStore", "Decision", "RateLimiter", "SqliteBuckets"]
