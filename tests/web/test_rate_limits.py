"""Rate limits for portals: per key and address, shared by workers, with the draft's headers.

* one contract for both bucket stores (memory and the shared SQLite file),
  with an injected clock; the file's budget holds across real processes;
* the real app: a key's budget per visitor address, ``RateLimit-Policy`` /
  ``RateLimit`` / ``Retry-After`` readable cross-origin, the portal scenario
  (20 questions in 2 minutes from one address, default limits);
* ``policy-search serve --workers 2`` as a real subprocess: forged
  X-Forwarded-For does not pick a bucket, and both workers count against one
  budget.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workers import serve, served_by, worker_processes

from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app
from web.ratelimit import BucketStore, RateLimiter, SqliteBuckets
from web.security import rate_limit_fields

REPO = Path(__file__).resolve().parents[2]
PLAN = "004_0ae3777ec9422ce6"
PORTAL = "https://portal.example.gov.vn"
QUESTIONS = [
    "Ai chủ trì quản lý chất thải đô thị?",
    "Sở nào là cơ quan đầu mối về tăng trưởng xanh?",
    "Đồng Nai ký kết hợp tác với thành phố nào của Nhật Bản?",
    "Cần Thơ hợp tác với Hiroshima về lĩnh vực gì?",
    "Trà Vinh có kế hoạch tăng trưởng xanh không?",
]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[BucketStore, Clock]:
    clock = Clock()
    if request.param == "memory":
        return RateLimiter(clock=clock), clock
    return SqliteBuckets(tmp_path / "runtime" / "buckets.sqlite", clock=clock), clock


def test_bucket_store_contract(store: tuple[BucketStore, Clock]) -> None:
    buckets, clock = store
    # A full bucket of 6 a minute: six takes of 1, then a wait of 10 s for the next.
    taken = [buckets.take("a", 6) for _ in range(7)]
    assert [d.allowed for d in taken] == [True] * 6 + [False]
    assert [d.remaining for d in taken[:6]] == [5, 4, 3, 2, 1, 0]
    assert taken[6].wait == pytest.approx(10.0)
    assert taken[5].reset == pytest.approx(60.0)  # empty: a minute until full again
    # Another bucket is untouched.
    assert buckets.take("b", 6).remaining == 5
    # Time refills: 10 s gives one token back.
    clock.now += 10
    assert buckets.take("a", 6).allowed
    assert not buckets.take("a", 6).allowed
    # A take dearer than the whole budget passes on a full bucket and is paid in full.
    clock.now += 60
    dear = buckets.take("a", 6, cost=10)
    assert dear.allowed and dear.remaining == -4
    refused = buckets.take("a", 6, cost=10)
    assert not refused.allowed and refused.wait == pytest.approx(100.0)  # back to 6 of 6
    # A clock stepping back neither refills nor breaks the bucket.
    clock.now -= 3600
    assert not buckets.take("a", 6).allowed
    # 0 a minute: unlimited.
    assert all(buckets.take("c", 0, cost=100).allowed for _ in range(10))


_TAKER = """
import sys
from pathlib import Path
from web.ratelimit import SqliteBuckets
buckets = SqliteBuckets(Path(sys.argv[1]), clock=lambda: 1_000_000.0)
sys.stdin.readline()  # start together
print(sum(buckets.take("shared", 50).allowed for _ in range(200)))
"""


def test_the_sqlite_file_is_one_budget_for_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "buckets.sqlite"
    SqliteBuckets(path)  # the schema, once
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _TAKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    allowed = [int(p.communicate(timeout=120)[0]) for p in procs]
    # 600 takes against a budget of 50 (the clock stands still): exactly 50 pass.
    assert sum(allowed) == 50, allowed


def test_full_buckets_are_pruned_from_the_file(tmp_path: Path) -> None:
    clock = Clock()
    buckets = SqliteBuckets(tmp_path / "b.sqlite", clock=clock, prune_every=0)
    for i in range(20):
        buckets.take(f"addr:198.51.100.{i}", 60)
    assert buckets.count() == 20
    assert b"198.51.100" not in (tmp_path / "b.sqlite").read_bytes()  # digests only
    clock.now += 61  # all full again: the same as no row
    buckets.take("addr:203.0.113.1", 60)
    assert buckets.count() == 1


def test_an_unusable_bucket_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    with pytest.raises(ValueError, match="POLICY_SEARCH_RATE_LIMIT_FILE"):
        SqliteBuckets(tmp_path / "not-a-folder" / "buckets.sqlite")


def test_a_bucket_file_held_by_another_process_lets_requests_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "buckets.sqlite"
    buckets = SqliteBuckets(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a stuck worker, or a disk that stopped answering
    try:
        decision = buckets.take("addr:192.0.2.7", 1)
        assert decision.allowed and math.isinf(decision.remaining)
        assert "request not counted" in caplog.text
        assert rate_limit_fields("address", 1, decision) == {}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the file is free again, counting resumes.
    assert buckets.take("addr:192.0.2.7", 1).allowed
    assert not buckets.take("addr:192.0.2.7", 1).allowed


# --- the app -------------------------------------------------------------------------------

SEARCH_KEY = "portal-search-key-5e1f"


def _app(index: Path, embedder: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {"index_dir": index, "query_cache_size": 0}
    values.update(overrides)
    settings = Settings(**values)
    return create_app(settings, SearchEngine(settings, embedder=embedder))


def _field(value: str) -> dict[str, Any]:
    """A draft RateLimit / RateLimit-Policy item: {"policy": name, param: int}."""
    m = re.fullmatch(r'"([a-z]+)"((?:;[a-z]+=\d+)+)', value)
    assert m, value
    params = dict(p.split("=") for p in m.group(2).strip(";").split(";"))
    return {"policy": m.group(1), **{k: int(v) for k, v in params.items()}}


def test_a_key_has_a_budget_per_visitor_address(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    app = _app(
        corpus_index,
        embedder,
        search_keys=SEARCH_KEY,
        rate_limit_per_key=4,
        rate_limit_per_address=2,
    )
    keyed = {"X-API-Key": SEARCH_KEY}
    one = TestClient(app, client=("203.0.113.10", 50000))
    other = TestClient(app, client=("203.0.113.11", 50000))
    page = f"/api/documents/{PLAN}"
    # A burst from one visitor of the portal uses up that visitor's budget...
    assert [one.get(page, headers=keyed).status_code for _ in range(5)] == [200] * 4 + [429]
    refused = one.get(page, headers=keyed)
    assert "for this key from one address" in refused.json()["detail"]
    assert "RATE_LIMIT_PER_KEY" in refused.json()["detail"]
    # ...and not another visitor's under the same key.
    assert [other.get(page, headers=keyed).status_code for _ in range(4)] == [200] * 4
    # Without a key, each address has its own (smaller) budget, apart from the keyed one.
    assert [one.get(page).status_code for _ in range(3)] == [200, 200, 429]
    assert other.get(page).status_code == 200


def test_budget_headers_follow_the_draft_and_reach_other_origins(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    app = _app(corpus_index, embedder, rate_limit_per_address=3, cors_origins=[PORTAL])
    clock = Clock()
    app.state.rate_limiter.clock = clock
    client = TestClient(app)
    page = f"/api/documents/{PLAN}"
    seen = []
    for _ in range(4):
        r = client.get(page, headers={"Origin": PORTAL})
        assert _field(r.headers["ratelimit-policy"]) == {"policy": "address", "q": 3, "w": 60}
        seen.append((r.status_code, _field(r.headers["ratelimit"])))
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"ratelimit", "ratelimit-policy", "retry-after"} <= exposed
        assert r.headers["access-control-allow-origin"] == PORTAL
    assert [s for s, _ in seen] == [200, 200, 200, 429]
    assert [f["r"] for _, f in seen] == [2, 1, 0, 0]
    assert [f["t"] for _, f in seen] == [20, 40, 60, 60]  # a token back every 20 s
    assert int(r.headers["retry-after"]) == 20
    clock.now += 20
    r = client.get(page)
    assert r.status_code == 200 and _field(r.headers["ratelimit"])["r"] == 0
    # What is not counted carries no budget.
    health = client.get("/api/health")
    assert "ratelimit" not in health.headers and "ratelimit-policy" not in health.headers
    # A preflight allows the widget to send a key.
    pre = client.options(
        "/api/ask",
        headers={
            "Origin": PORTAL,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == PORTAL


def test_a_portal_widget_asks_20_questions_in_2_minutes_from_one_address(
    corpus_index, embedder
) -> None:  # type: ignore[no-untyped-def]
    # The defaults, as a portal would run them; only CORS names the portal.
    app = _app(corpus_index, embedder, cors_origins=[PORTAL])
    clock = Clock()
    app.state.rate_limiter.clock = clock
    client = TestClient(app, client=("203.0.113.50", 50000))
    remaining = []
    for i in range(20):
        r = client.get(
            "/api/ask", params={"q": QUESTIONS[i % len(QUESTIONS)]}, headers={"Origin": PORTAL}
        )
        assert r.status_code == 200, (i, r.status_code, r.text)
        assert r.headers["access-control-allow-origin"] == PORTAL
        assert "ratelimit" in r.headers["access-control-expose-headers"].lower()
        remaining.append(_field(r.headers["ratelimit"])["r"])
        clock.now += 6  # one question every 6 s: 20 in 2 minutes
    # Every question was counted, yet the budget never ran out.
    defaults = Settings()
    assert remaining[0] == defaults.rate_limit_per_address - defaults.ask_cost
    assert min(remaining) > 0
    # The limit is still there: a tight loop of questions is stopped.
    codes = [client.get("/api/ask", params={"q": QUESTIONS[0]}).status_code for _ in range(80)]
    assert 429 in codes


# --- serve --workers 2 ---------------------------------------------------------------------


@pytest.fixture
def two_workers(index_copy: Path) -> Iterator[tuple[int, Any, Path]]:
    """`policy-search serve --workers 2` on a free loopback port: (port, process, index)."""
    settings = {"POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "3"}
    unset = ("POLICY_SEARCH_RATE_LIMIT_FILE", "POLICY_SEARCH_TRUSTED_PROXIES")
    with serve(index_copy, settings, unset) as (port, server):
        yield port, server, index_copy


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], int]:
    """(status, headers, the client port) on a fresh connection, left open while it answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        assert conn.sock is not None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, conn.sock.getsockname()[1]
    finally:
        conn.close()


def _wait(condition: Callable[[], bool], server: Any, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.mark.slow
def test_serve_with_two_workers_keeps_proxy_trust_the_embedder_processes_and_one_budget(
    two_workers,
) -> None:  # type: ignore[no-untyped-def]
    port, server, index = two_workers

    def up() -> bool:
        try:
            return _get(port, "/api/health", {})[0] == 200
        except OSError:
            return False

    _wait(up, server, "the server did not start")
    workers = worker_processes(server)
    assert len(workers) == 2

    def embedders() -> list[int]:
        return [
            sum("index.embed_process" in " ".join(c.cmdline()) for c in w.children())
            for w in workers
        ]

    # Each worker has an embedder process of its own.
    _wait(lambda: embedders() == [1, 1], server, f"embedder processes: {embedders()}")
    assert (index / "runtime" / f"ratelimit-{port}.sqlite").is_file()

    # Every request forges a new X-Forwarded-For from an untrusted peer, each on a new
    # connection so that both workers answer some: the budget of 3 is one budget.
    answers: list[tuple[int, int | None, int]] = []
    page = f"/api/documents/{PLAN}"
    for i in range(60):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}

        # Which worker holds the connection is looked up while it is open: a keep-alive
        # connection stays open after the response until closed, so check before closing.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", page, headers=forged)
            r = conn.getresponse()
            r.read()
            assert conn.sock is not None
            worker = served_by(workers, conn.sock.getsockname()[1])
            remaining = _field(r.getheader("RateLimit") or "")["r"]
            answers.append((r.status, worker, remaining))
        finally:
            conn.close()
        served = {w for _, w, _ in answers if w is not None}
        refused_by = {w for s, w, _ in answers if s == 429}
        if len(answers) >= 8 and served == {0, 1} and refused_by == {0, 1}:
            break
    statuses = [s for s, _, _ in answers]
    assert statuses[:3] == [200] * 3 and set(statuses[3:]) == {429}, answers
    assert [r for _, _, r in answers[:3]] == [2, 1, 0]
    # Both workers answered and both refused: neither gave a budget of its own.
    assert {w for _, w, _ in answers} == {0, 1}, answers
    assert {w for s, w, _ in answers if s == 429} == {0, 1}, answers
