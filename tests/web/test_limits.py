"""Admission control, request deadlines, cost-weighted rate limits and document parts.

Asks are made slow by :class:`SlowEmbedder`: the real model, with a pause
before each call, as on a server whose CPU is busy. Nothing is timed
against a wall-clock target: the tests check what happened (who was
answered, with what, and whether work went on after the answer).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from index.store import open_current
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app
from web.outline import MAX_ENTRY_CHARS

PLAN = "004_0ae3777ec9422ce6"
QUESTIONS = [
    "Ai chủ trì quản lý chất thải đô thị?",
    "Sở nào là cơ quan đầu mối về tăng trưởng xanh?",
    "Đồng Nai ký kết hợp tác với thành phố nào của Nhật Bản?",
    "Cần Thơ hợp tác với Hiroshima về lĩnh vực gì?",
    "Trà Vinh có kế hoạch tăng trưởng xanh không?",
]


class SlowEmbedder:
    """The real embedder, pausing ``delay`` seconds before each call (a busy CPU)."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.calls = 0
        self._lock = threading.Lock()

    def token_count(self, text: str) -> int:
        return int(self.inner.token_count(text))

    def _pause(self) -> None:
        time.sleep(self.delay)
        with self._lock:
            self.calls += 1

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self._pause()
        return np.asarray(self.inner.embed_queries(texts))

    def embed_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        self._pause()
        return np.asarray(self.inner.embed_passages(texts, progress=progress))


def _app(index: Path, embedder: Any, **overrides: Any):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {
        "index_dir": index,
        "rate_limit_per_address": 0,
        "rate_limit_per_key": 0,
        "query_cache_size": 0,
    }
    values.update(overrides)
    settings = Settings(**values)
    return create_app(settings, SearchEngine(settings, embedder=embedder))


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


def test_asks_queue_apart_while_health_and_searches_answer(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    slow = SlowEmbedder(embedder, delay=0.4)
    app = _app(
        corpus_index,
        slow,
        max_concurrent_asks=1,
        admission_queue=1,
        admission_wait_s=120,
        request_timeout_s=300,
    )
    asks = app.state.admission.pools["ask"]
    answers: dict[int, Any] = {}
    with TestClient(app) as client:

        def ask(i: int) -> None:
            answers[i] = client.get("/api/ask", params={"q": QUESTIONS[i]})

        first = threading.Thread(target=ask, args=(0,))
        first.start()
        _wait_for(lambda: asks.busy == 1)
        second = threading.Thread(target=ask, args=(1,))
        second.start()
        _wait_for(lambda: asks.waiting == 1)
        # One running, one waiting: the queue is full, so more asks are refused at once...
        for i in (2, 3):
            ask(i)
            assert answers[i].status_code == 503, answers[i].text
            assert answers[i].json()["error"] == "overloaded"
            assert "POLICY_SEARCH_MAX_CONCURRENT_ASKS" in answers[i].json()["detail"]
            assert int(answers[i].headers["retry-after"]) >= 1
        # ...while the health check and a search are answered before the queued ask starts.
        assert client.get("/api/health").status_code == 200
        r = client.get("/api/search", params={"q": "tăng trưởng xanh", "k": 2})
        assert r.status_code == 200, r.text
        assert asks.waiting == 1 or 1 not in answers
        assert "overloaded" not in str(client.get("/api/stats").json()["admission"]["search"])
        first.join()
        second.join()
    assert answers[0].status_code == 200 and answers[1].status_code == 200
    assert asks.stats()["refused"] == 2 and asks.busy == 0


def test_request_timeout_stops_the_work_and_answers_503(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    slow = SlowEmbedder(embedder, delay=0.7)
    app = _app(corpus_index, slow, request_timeout_s=1.0)
    with TestClient(app) as client:
        r = client.get("/api/ask", params={"q": QUESTIONS[4]})
        calls = slow.calls
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "timeout"
        assert "POLICY_SEARCH_REQUEST_TIMEOUT_S" in r.json()["detail"]
        assert int(r.headers["retry-after"]) >= 1
        # The work stopped: nothing more reaches the embedder after the answer.
        time.sleep(2.0)
        assert slow.calls == calls
        assert app.state.admission.pools["ask"].busy == 0
        # A request that fits its time is answered as usual.
        assert client.get("/api/health").status_code == 200


def test_a_stage_blocked_past_the_deadline_is_answered_at_the_deadline(
    corpus_index, embedder
) -> None:  # type: ignore[no-untyped-def]
    # One embedder call outlasts the whole time limit (a restarting embedder process).
    slow = SlowEmbedder(embedder, delay=6.0)
    app = _app(corpus_index, slow, request_timeout_s=1.0)
    searches = app.state.admission.pools["search"]
    with TestClient(app) as client:
        r = client.get("/api/search", params={"q": QUESTIONS[3]})
        assert r.status_code == 503 and r.json()["error"] == "timeout", r.text
        # Answered while the blocked call still holds its slot: the pool never runs more
        # work than its size, even for requests it has given up on.
        assert slow.calls == 0 and searches.busy == 1
        _wait_for(lambda: searches.busy == 0, timeout=30)
        assert slow.calls == 1  # it stopped at the check after the call, nothing more ran
        assert searches.stats()["abandoned"] == 1


def test_rate_limits_count_what_a_request_costs(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    app = _app(corpus_index, embedder, rate_limit_per_address=25, ask_cost=10)
    client = TestClient(app)
    codes = [client.get("/api/ask", params={"q": QUESTIONS[i]}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    r = client.get("/api/ask", params={"q": QUESTIONS[3]})
    assert "10 searches" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1

    # Document pages and related documents are counted too, under the same budget.
    pages = _app(corpus_index, embedder, rate_limit_per_address=3)
    client = TestClient(pages)
    codes = [client.get(f"/api/documents/{PLAN}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    related = _app(corpus_index, embedder, rate_limit_per_address=3)
    client = TestClient(related)
    codes = [client.get(f"/api/documents/{PLAN}/related").status_code for _ in range(2)]
    assert codes == [200, 429]  # 2 searches each
    assert client.get("/api/health").status_code == 200  # never counted


def test_documents_come_in_parts_of_bounded_size(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    cap = 4000
    client = TestClient(_app(corpus_index, embedder, max_document_part_chars=cap))
    whole = open_current(corpus_index).document(PLAN)
    assert whole is not None and sum(len(t) for t, *_ in whole.blocks) > 3 * cap

    r = client.get(f"/api/documents/{PLAN}")
    assert r.status_code == 200
    first = r.json()
    assert first["part"]["start"] == 0 and first["part"]["more"] is True
    assert first["part"]["total_blocks"] == len(whole.blocks)
    assert sum(len(b["text"]) for b in first["blocks"]) <= cap
    # Passages repeat the blocks' text; besides them only the whole document's outline,
    # one short line per heading, comes with every part (the page's outline links).
    outline = first["outline"]
    assert outline and all(len(e["text"]) <= MAX_ENTRY_CHARS + 1 for e in outline)
    outline_bytes = len(json.dumps(outline, ensure_ascii=False, separators=(",", ":")).encode())
    assert len(r.content) - outline_bytes < 4 * cap
    shown = {o for b in first["blocks"] for o in b["passages"]}
    assert {p["ordinal"] for p in first["passages"]} == shown

    # Reading on with start=end gives every block exactly once.
    blocks, start, parts = list(first["blocks"]), first["part"]["end"], 1
    while True:
        part = client.get(f"/api/documents/{PLAN}", params={"start": start}).json()
        blocks += part["blocks"]
        parts += 1
        if not part["part"]["more"]:
            break
        start = part["part"]["end"]
    assert [b["text"] for b in blocks] == [str(t) for t, *_ in whole.blocks]
    assert parts >= 3

    # Around a cited passage: the part holds it, with the blocks just before it.
    last = max(o for b in blocks for o in b["passages"])
    around = client.get(f"/api/documents/{PLAN}", params={"passage": last}).json()
    assert around["part"]["start"] > 0
    assert any(last in b["passages"] for b in around["blocks"])
    assert last in {p["ordinal"] for p in around["passages"]}
    assert client.get(f"/api/documents/{PLAN}", params={"passage": 10_000}).status_code == 404
    assert client.get(f"/api/documents/{PLAN}", params={"limit": 0}).status_code == 422
    two = client.get(f"/api/documents/{PLAN}", params={"limit": 2}).json()
    assert len(two["blocks"]) == 2 and two["part"]["end"] == 2


def test_forwarded_for_is_believed_only_from_trusted_proxies(  # type: ignore[no-untyped-def]
    live_server, corpus_index, embedder
) -> None:
    import httpx

    params = {"q": "chất thải", "k": 1}
    url = live_server(_app(corpus_index, embedder, rate_limit_per_address=3))
    codes = [
        httpx.get(
            f"{url}/api/search", params=params, headers={"X-Forwarded-For": f"198.51.100.{i}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [200, 200, 200, 429, 429, 429]  # all from 127.0.0.1, whatever they claim

    url = live_server(
        _app(corpus_index, embedder, rate_limit_per_address=3, trusted_proxies="127.0.0.1")
    )
    codes = [
        httpx.get(
            f"{url}/api/search", params=params, headers={"X-Forwarded-For": f"198.51.100.{i}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [200] * 6  # six visitors behind a trusted proxy
    # A visitor cannot hide behind a forged hop: the proxy's own (right-most) entry counts.
    forged = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
    codes = [
        httpx.get(f"{url}/api/search", params=params, headers=forged).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
