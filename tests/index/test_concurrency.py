"""Searches while documents are added and removed see one whole version, never a mix."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from index.build import Upload, apply_changes
from index.store import IndexBusy, writer_lock
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

QUERY = "nuôi tôm hùm trên biển Vân Phong"
DOC = "Kế hoạch nuôi tôm hùm lồng trên vịnh Vân Phong, tỉnh Khánh Hòa, năm 2026."


def _signature(results) -> tuple:
    return tuple((r.doc_id, r.text, r.score) for r in results)


def test_searches_during_ingests_each_come_from_one_version(corpus_index, tmp_path: Path, embedder):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    # The loop below outruns any sane per-address rate limit; this test is about versions.
    settings = Settings(index_dir=index, rate_limit_per_key=0, rate_limit_per_address=0)
    engine = SearchEngine(settings, embedder=embedder)
    src = tmp_path / "src" / "tom-hum.txt"
    src.parent.mkdir()
    src.write_text(DOC, encoding="utf-8")

    def add():
        apply_changes(index, embedder, add=[Upload(src, src)])

    def remove():
        apply_changes(index, embedder, remove_ids=["tom-hum"])

    # The two versions the index alternates between, and what each answers.
    without = _signature(engine.search(QUERY, 8))
    add()
    with_doc = _signature(engine.search(QUERY, 8))
    assert with_doc[0][0] == "tom-hum" and "tom-hum" not in {r[0] for r in without}
    remove()
    assert _signature(engine.search(QUERY, 8)) == without
    # A search that took FAISS ids from one version and chunk rows from the other
    # would lose or misplace the new document's chunk and match neither answer.

    client = TestClient(create_app(settings, engine=engine))
    seen: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher(via_http: bool) -> None:
        try:
            while not stop.is_set():
                if via_http:
                    body = client.get("/api/search", params={"q": QUERY, "k": 8}).json()
                    seen.append(
                        tuple((r["doc_id"], r["text"], r["score"]) for r in body["results"])
                    )
                else:
                    seen.append(_signature(engine.search(QUERY, 8)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=searcher, args=(i == 0,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            add()
            remove()
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert len(seen) >= 6
    mixed = [s for s in seen if s not in (without, with_doc)]
    assert not mixed, mixed[:1]
    assert with_doc in seen or without in seen


def test_one_writer_at_a_time(tmp_path: Path):
    with writer_lock(tmp_path):
        try:
            with writer_lock(tmp_path, timeout=0.2):
                raise AssertionError("a second writer got the lock")
        except IndexBusy as exc:
            assert "another ingest" in str(exc)
    with writer_lock(tmp_path, timeout=0.2):
        pass  # free again once the first writer is done
