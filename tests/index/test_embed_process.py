"""The embedder in a child process: same vectors as in-process, and a dead child is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.embed_process import EmbedderProcessError, ProcessEmbedder

QUERIES = ["ai chủ trì quản lý chất thải đô thị", "who leads urban waste management?"]
PASSAGES = [f"Sở Xây dựng phối hợp xử lý chất thải rắn, đợt {i}." for i in range(300)]


@pytest.fixture(scope="module")
def remote(embedder):
    proc = ProcessEmbedder(embedder.name.split(":", 1)[0])
    yield proc
    proc.close()


def test_same_protocol_and_vectors_as_in_process(remote, embedder):
    assert (remote.name, remote.dim, remote.max_tokens) == (
        embedder.name,
        embedder.dim,
        embedder.max_tokens,
    )
    assert remote.pid is not None and remote.pid != os.getpid()
    np.testing.assert_allclose(
        remote.embed_queries(QUERIES), embedder.embed_queries(QUERIES), atol=1e-6
    )
    seen: list[int] = []
    vectors = remote.embed_passages(PASSAGES, progress=seen.append)
    np.testing.assert_allclose(vectors, embedder.embed_passages(PASSAGES), atol=1e-6)
    # Sent in slices, each reported as it comes back.
    assert sum(seen) == len(PASSAGES) and len(seen) == 2
    assert remote.token_count(PASSAGES[0]) == embedder.token_count(PASSAGES[0])
    assert remote.embed_passages([]).shape == (0, embedder.dim)


def _wait_until_dead(pid: int, timeout: float = 30.0) -> None:
    """Until the killed child can be reaped (a fixed sleep lost the race on a loaded machine).

    WNOWAIT leaves it unreaped, for the embedder's own poll() to find. /proc's "Z" comes
    too early: the leader is a zombie while torch's other threads are still exiting.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except ChildProcessError:
            return  # already reaped, by the embedder's watcher (ingest/children.py)
        time.sleep(0.02)
    raise AssertionError(f"child {pid} still alive {timeout} s after SIGKILL")


def test_a_dead_child_is_replaced_and_a_death_mid_call_is_reported(remote):
    first = remote.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    _wait_until_dead(first)
    # Found dead before the request is sent: a fresh child answers it.
    assert remote.embed_queries(QUERIES[:1]).shape == (1, remote.dim)
    second = remote.pid
    assert second is not None and second != first

    errors: list[BaseException] = []

    def long_call() -> None:
        try:
            remote.embed_passages(PASSAGES * 20)
        except BaseException as exc:  # the assertion is on its type
            errors.append(exc)

    worker = threading.Thread(target=long_call)
    worker.start()
    time.sleep(1.0)
    os.kill(second, signal.SIGKILL)
    worker.join(timeout=120)
    assert len(errors) == 1 and isinstance(errors[0], EmbedderProcessError)
    assert "died" in str(errors[0])
    assert remote.embed_queries(QUERIES[:1]).shape == (1, remote.dim)
    assert remote.pid not in (first, second)


def test_a_child_that_cannot_load_says_why():
    with pytest.raises(EmbedderProcessError, match=r"cannot load.*unknown embedder"):
        ProcessEmbedder("no-such-backend")


def test_engine_runs_its_embedder_in_a_process_when_asked(corpus_index: Path, embedder):
    from index.embed_process import ProcessEmbedder as Remote
    from policy_search.settings import Settings
    from search.engine import SearchEngine

    query = "Ai chủ trì quản lý chất thải đô thị?"
    local = SearchEngine(Settings(index_dir=corpus_index), embedder=embedder)
    engine = SearchEngine(Settings(index_dir=corpus_index, embedder_process=True))
    inner = engine.embedder
    while hasattr(inner, "inner"):
        inner = inner.inner
    assert isinstance(inner, Remote)
    try:
        ours = [(r.doc_id, r.section) for r in engine.search(query, 5)]
        assert ours == [(r.doc_id, r.section) for r in local.search(query, 5)]
    finally:
        inner.close()
