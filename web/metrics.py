"""Prometheus metrics at ``GET /metrics``, through ``prometheus-client``.

What is counted (every name starts with ``policy_search_``):

* ``http_requests_total{route,method,status}`` and
  ``http_request_duration_seconds{route,method}``: by route *template*
  (``/api/documents/{doc_id}``), so a scan of random paths cannot grow the
  label set (a path that matches no route counts as ``unmatched``);
* ``admission_busy`` / ``admission_waiting`` / ``admission_slots{pool}``
  and ``admission_{admitted,refused,abandoned}_total{pool}``: the ask and
  search pools of :mod:`web.admission`;
* ``query_cache_{hits,misses}_total`` and ``query_cache_entries``: the query
  embedding cache (:mod:`index.query_cache`);
* ``index_documents``, ``index_chunks`` and ``index_version_info{version}``
  (1 for the version served, 0 for one served before);
* ``ingest_stage_seconds{stage}`` (a histogram per build stage: extract,
  chunk, embed, index, write) and ``ingest_builds_total``.

The pools and the cache keep their own running counts; :meth:`Metrics.sync`
turns what changed since the last look into counter increments, after every
request and before every scrape. That keeps the hot paths free of metric
calls and the lower layers free of this one.

**Several workers.** Each uvicorn worker is a process with its own counts.
When ``PROMETHEUS_MULTIPROC_DIR`` is set, prometheus-client keeps every
value in a file there and a scrape (answered by whichever worker gets it)
reads them all: counters and histograms are summed over the workers, dead
ones included; gauges are summed (pools, cache) or taken from the latest
write (index size) over the live workers. ``policy-search serve --workers N``
sets it to a fresh folder (:func:`prepare_workers`). The variable must be
set before ``prometheus_client`` is first imported, which is why it is only
imported inside functions here.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from index import build
from index.store import current_path
from web.errors import ApiError, ErrorModel
from web.security import key_from_headers

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "policy_search_"
# Seconds: from a cached health check (sub-ms) to an ask at its deadline.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STAGE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def prepare_workers(workers: int) -> Path | None:
    """Before a server starts ``workers`` processes: a fresh folder for their metrics.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used (and emptied: files
    of an earlier run would add its counts to this one's); otherwise, with more
    than one worker, a new temporary folder. One worker needs none.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for entry in folder.glob("*.db"):
            entry.unlink(missing_ok=True)
        return folder
    if workers <= 1:
        return None
    folder = Path(tempfile.mkdtemp(prefix="policy-search-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def remove_worker_folder(folder: Path | None) -> None:
    """After the server: remove a folder :func:`prepare_workers` made."""
    if folder is not None and folder.name.startswith("policy-search-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)


class Metrics:
    """The metrics of this process (one set, whatever number of apps it creates)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            PREFIX + "http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.pool_busy = Gauge(
            PREFIX + "admission_busy",
            "Requests running in an admission pool.",
            ["pool"],
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.pool_waiting = Gauge(
            PREFIX + "admission_waiting",
            "Requests queued for an admission pool's slot.",
            ["pool"],
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.pool_slots = Gauge(
            PREFIX + "admission_slots",
            "An admission pool's size (POLICY_SEARCH_MAX_CONCURRENT_*), summed over workers.",
            ["pool"],
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.pool_counts = {
            what: Counter(
                PREFIX + f"admission_{what}",
                text,
                ["pool"],
                registry=reg,
            )
            for what, text in (
                ("admitted", "Requests an admission pool let run."),
                (
                    "refused",
                    "Requests refused with 503 overloaded (queue full or waited too long).",
                ),
                ("abandoned", "Requests answered 503 timeout before their work reached a check."),
            )
        }
        self.cache_hits = Counter(
            PREFIX + "query_cache_hits", "Query embeddings found in the cache.", registry=reg
        )
        self.cache_misses = Counter(
            PREFIX + "query_cache_misses", "Query embeddings computed.", registry=reg
        )
        self.cache_entries = Gauge(
            PREFIX + "query_cache_entries",
            "Query embeddings held in the cache.",
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.documents = Gauge(
            PREFIX + "index_documents",
            "Documents in the index version served.",
            multiprocess_mode="livemostrecent",
            registry=reg,
        )
        self.chunks = Gauge(
            PREFIX + "index_chunks",
            "Passages (chunks) in the index version served.",
            multiprocess_mode="livemostrecent",
            registry=reg,
        )
        self.version = Gauge(
            PREFIX + "index_version_info",
            "1 for the index version served, 0 for versions served before.",
            ["version"],
            multiprocess_mode="livemax",
            registry=reg,
        )
        self.stages = Histogram(
            PREFIX + "ingest_stage_seconds",
            "Seconds of each stage of a build (uploads, deletes and ingest in this process).",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=reg,
        )
        self.builds = Counter(
            PREFIX + "ingest_builds", "Builds (uploads, deletes, ingest) completed.", registry=reg
        )
        self._lock = threading.Lock()
        # Last counts seen per pool / cache object: what a sync adds is the difference.
        self._seen: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
        self._served: str | None = None
        build.BUILD_OBSERVERS.append(self.observe_build)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_build(self, report: build.BuildReport) -> None:
        self.builds.inc()
        for stage, seconds in report.stages.items():
            self.stages.labels(stage).observe(seconds)

    def _delta(self, source: Any, name: str, now: int) -> int:
        seen = self._seen.setdefault(source, {})
        before = seen.get(name, 0)
        seen[name] = now
        return max(0, now - before)

    def sync(self, app: FastAPI, scrape: bool = False) -> None:
        """Bring the gauges and counters of ``app``'s pools, cache and index up to date.

        ``scrape``: the index's version and size too (read from its manifest if no
        request opened the version yet).
        """
        state = app.state
        with self._lock:
            admission = getattr(state, "admission", None)
            if admission is not None:
                for name, pool in admission.pools.items():
                    self.pool_busy.labels(name).set(pool.busy)
                    self.pool_waiting.labels(name).set(pool.waiting)
                    self.pool_slots.labels(name).set(pool.slots)
                    for what, counter in self.pool_counts.items():
                        change = self._delta(pool, what, int(getattr(pool, what)))
                        if change:
                            counter.labels(name).inc(change)
            engine = getattr(state, "engine", None)
            cache = getattr(engine, "_cached", None)
            if cache is not None:
                hits = self._delta(cache, "hits", int(cache.hits))
                misses = self._delta(cache, "misses", int(cache.misses))
                if hits:
                    self.cache_hits.inc(hits)
                if misses:
                    self.cache_misses.inc(misses)
                self.cache_entries.set(len(cache))
            # The index's size only when scraped: finding the version served touches the
            # file system, which the event loop should not do for every request.
            if engine is not None and scrape:
                self._index(engine)

    def _index(self, engine: Any) -> None:
        snap = engine.open_snapshot()
        if snap is not None:
            version, manifest = snap.version, snap.manifest
        else:
            # A new version no request has opened yet: its manifest says what it holds.
            path = current_path(engine.index_dir)
            try:
                manifest = json.loads((path / "manifest.json").read_text()) if path else None
            except (OSError, ValueError):
                manifest = None
            if path is None or not isinstance(manifest, dict):
                return
            version = path.name
        counts = manifest.get("counts", {})
        self.documents.set(counts.get("documents", 0))
        self.chunks.set(counts.get("chunks", 0))
        if version != self._served:
            if self._served is not None:
                self.version.labels(self._served).set(0)
            self.version.labels(version).set(1)
            self._served = version

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        if not multiprocess():
            return bytes(generate_latest(self.registry))
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        return bytes(generate_latest(registry))

    def worker_exit(self) -> None:
        """A worker that stops: its live gauges leave the sums (multiprocess mode)."""
        if multiprocess():
            from prometheus_client import multiprocess as mp

            mp.mark_process_dead(os.getpid())


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    return Metrics()


def install_metrics(app: FastAPI, key_required: bool) -> None:
    """``GET /metrics`` (and HEAD); ``key_required``: only with an admin key."""
    from prometheus_client import CONTENT_TYPE_LATEST

    app.state.metrics = metrics()

    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "Prometheus' text exposition format (version 0.0.4).",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        }
    }
    if key_required:
        responses[401] = {
            "description": "No admin key (POLICY_SEARCH_METRICS_KEY_REQUIRED)",
            "model": ErrorModel,
        }

    @app.get(
        "/metrics",
        operation_id="metrics",
        tags=["service"],
        summary="Metrics for Prometheus",
        response_class=Response,
        responses=responses,
    )
    async def prometheus_metrics(request: Request) -> Response:
        if key_required:
            key = key_from_headers({k.lower(): v for k, v in request.headers.items()})
            if key is None or request.app.state.keys.role(key) != "admin":
                raise ApiError(
                    401,
                    "unauthorized",
                    "/metrics needs an admin key (POLICY_SEARCH_METRICS_KEY_REQUIRED)",
                    {"WWW-Authenticate": "Bearer"},
                )
        m: Metrics = request.app.state.metrics
        m.sync(request.app, scrape=True)
        return Response(m.render(), media_type=CONTENT_TYPE_LATEST)


__all__ = ["Metrics", "install_metrics", "metrics", "prepare_workers", "remove_worker_folder"]
