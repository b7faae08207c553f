"""SIGKILL an ingest at every stage; the previous complete version must keep serving.

The ingest runs as a real `policy-search ingest` process. ``POLICY_SEARCH_CRASH_AT``
makes it SIGKILL itself at a named point (:func:`index.store.crash_point`),
which is what an OOM kill or a power cut does: no cleanup, no ``finally``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.store import KEEP_VERSIONS, IndexUnavailable, Snapshot, current_path
from index.windows import WindowIndex, chunk_sentences
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

REPO = Path(__file__).resolve().parents[2]
# In the order an ingest passes them; all but the last come before the switch.
POINTS = [
    "parsed",
    "embedded",
    "sqlite_written",
    "faiss_written",
    "version_complete",
    "version_renamed",
    "link_made",
    "switched",
]
TOPIC = "Kế hoạch nuôi ong lấy mật ở Mộc Châu, tỉnh Sơn La, giai đoạn {n}."


def _ingest(path: Path, index: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "POLICY_SEARCH_CRASH_AT"}
    if crash_at:
        env["POLICY_SEARCH_CRASH_AT"] = crash_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "policy_search.cli",
            "ingest",
            str(path),
            "--index",
            str(index),
            "--quiet",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _agree(snap: Snapshot) -> None:
    """Chunk store and FAISS index agree on counts and on which id is which vector."""
    snap.verify()
    n = len(snap.chunk_doc_ids())
    assert snap.faiss_index.ntotal == n == snap.vectors.shape[0]
    assert sum(d.n_chunks for d in snap.documents()) == n
    for i in range(n):
        assert np.allclose(snap.faiss_index.reconstruct(i), snap.vectors[i], atol=1e-5)


@pytest.mark.slow
def test_sigkill_at_every_stage_leaves_the_previous_version_serving(
    corpus_index, tmp_path, embedder
):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    settings = Settings(index_dir=index)
    results = []
    for n, point in enumerate(POINTS):
        doc = tmp_path / "new" / f"ong-{n}.txt"
        doc.parent.mkdir(exist_ok=True)
        doc.write_text(TOPIC.format(n=2026 + n), encoding="utf-8")
        before = current_path(index)
        before_docs = {d.doc_id for d in Snapshot(before).documents()}
        proc = _ingest(doc, index, crash_at=point)
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr)

        after = current_path(index)
        snap = Snapshot(after)  # opens only a complete, consistent version
        _agree(snap)
        docs = {d.doc_id for d in snap.documents()}
        switched = point == "switched"
        assert (after != before) is switched, point
        assert docs == (before_docs | {f"ong-{n}"} if switched else before_docs), point

        # The service starts on what is there and answers from it.
        app = create_app(settings, engine=SearchEngine(settings, embedder=embedder))
        client = TestClient(app)
        health = client.get("/api/health").json()
        assert health["index_version"] == after.name and health["documents"] == len(docs)
        top = client.get("/api/search", params={"q": "nuôi ong lấy mật Mộc Châu", "k": 1})
        found = top.json()["results"][0]["doc_id"]
        assert (found == f"ong-{n}") is switched, (point, found)
        leftovers = sorted(p.name for p in (index / "versions").glob(".tmp-*"))
        results.append((point, proc.returncode, after.name == before.name, len(docs), leftovers))

    # The writer lock died with the process: the next ingest runs, and tidies up.
    proc = _ingest(tmp_path / "new", index)
    assert proc.returncode == 0, proc.stderr
    assert not list((index / "versions").glob(".tmp-*"))
    assert not list(index.glob(".current-*"))
    assert len([p for p in (index / "versions").iterdir()]) <= KEEP_VERSIONS
    final = Snapshot(current_path(index))
    _agree(final)
    # The sentence windows of every version, kept and new, come from the chunks' own pass.
    windows = WindowIndex.load(final.path, len(final), expect=settings.window_method)
    assert windows is not None and windows.method == "late"
    assert windows.chunk_ids.tolist() == [
        c.id for c in final.all_chunks() for _ in chunk_sentences(c)
    ]
    assert {f"ong-{n}" for n in range(len(POINTS))} <= {d.doc_id for d in final.documents()}
    print("\ncrash point        rc   previous-version-kept  documents  leftovers")
    for point, rc, kept, ndocs, leftovers in results:
        print(f"{point:18} {rc:4} {kept!s:22} {ndocs:9}  {leftovers}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_real_server_starts_after_a_crash_and_refuses_a_mismatched_index(corpus_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    doc = tmp_path / "ong.txt"
    doc.write_text(TOPIC.format(n=2030), encoding="utf-8")
    good = current_path(index)
    assert _ingest(doc, index, crash_at="version_complete").returncode == -signal.SIGKILL

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policy_search.cli",
            "serve",
            "--index",
            str(index),
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        assert health["index_version"] == good.name
        r = httpx.get(
            f"http://127.0.0.1:{port}/api/search", params={"q": "chất thải", "k": 3}, timeout=30
        )
        assert r.status_code == 200 and len(r.json()["results"]) == 3
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Tamper with the live version: FAISS from a version with other counts.
    other = Path(tmp_path / "other")
    shutil.copytree(index, other, symlinks=True)
    assert _ingest(doc, other).returncode == 0
    shutil.copy(current_path(other) / "dense.faiss", good / "dense.faiss")
    with pytest.raises(IndexUnavailable, match="inconsistent"):
        create_app(Settings(index_dir=index))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "policy_search.cli",
            "serve",
            "--index",
            str(index),
            "--port",
            str(port),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "is inconsistent" in proc.stderr and "dense.faiss has" in proc.stderr
    # And a manifest that lies about the counts is caught as well.
    shutil.copy(current_path(other) / "dense.faiss", good / "dense.faiss")
    manifest = json.loads((good / "manifest.json").read_text())
    manifest["counts"]["chunks"] += 1
    (good / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="manifest says"):
        Snapshot(good)


@pytest.mark.slow
def test_cleanup_keeps_the_last_served_version_as_rollback_target(corpus_index, tmp_path):
    """A build killed after writing its version but before switching to it leaves a complete
    version that never served; the next build must keep the one that did serve."""
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    served = current_path(index)
    assert served is not None
    doc = tmp_path / "new" / "ong.txt"
    doc.parent.mkdir()
    doc.write_text(TOPIC.format(n=2031), encoding="utf-8")
    assert _ingest(doc, index, crash_at="version_renamed").returncode == -signal.SIGKILL
    versions = index / "versions"
    never_served = {p.name for p in versions.iterdir()} - {served.name}
    assert len(never_served) == 1 and current_path(index) == served

    doc.write_text(TOPIC.format(n=2032), encoding="utf-8")
    proc = _ingest(doc.parent, index)
    assert proc.returncode == 0, proc.stderr
    now = current_path(index)
    assert now is not None and now != served
    assert {p.name for p in versions.iterdir()} == {now.name, served.name}
    _agree(Snapshot(served))  # the rollback target is whole
