"""One query plan per query, built by the engine and read by every retriever and the answerer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import search.query
from policy_search.settings import Settings
from search.answer import Answerer
from search.engine import SearchEngine
from search.filters import Filters
from search.query import QueryKind, QueryPlan


@pytest.fixture
def spied(tiny_index: Path, embedder, monkeypatch: pytest.MonkeyPatch):
    """An engine whose plans are counted where they are made and recorded where read."""
    engine = SearchEngine(Settings(index_dir=tiny_index), embedder=embedder)
    made: list[str] = []
    read: list[QueryPlan] = []
    detect = search.query.detect_kind

    def counting_detect(query: str) -> QueryKind:
        made.append(query)  # every plan_query, wherever it is called from, detects once
        return detect(query)

    monkeypatch.setattr(search.query, "detect_kind", counting_detect)
    make_retriever = engine.retriever

    class Spy:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
            read.append(plan)
            return self.inner.retrieve(plan, k)

    monkeypatch.setattr(engine, "retriever", lambda snap: Spy(make_retriever(snap)))
    return engine, made, read


def test_search_plans_once_and_the_retriever_reads_that_plan(spied) -> None:
    engine, made, read = spied
    filters = Filters(province="Lào Cai")
    results = engine.search("chat thai ran sinh hoat", 3, filters)
    assert results and all(r.doc_id == "ke-hoach-lao-cai" for r in results)
    assert len(made) == 1 and len(read) == 1
    plan = read[0]
    assert plan.kind is QueryKind.VI_PLAIN
    # Restored from the index's own text for the dense side; BM25 reads it as typed.
    assert plan.restored and plan.dense_text == "chất thải rắn sinh hoạt"
    assert plan.lexical_text == "chat thai ran sinh hoat"
    assert plan.filters == filters


def test_the_answerer_reads_the_plan_of_its_retrieval(spied) -> None:
    engine, made, read = spied
    result = Answerer(engine).ask("Ai chủ trì quản lý chất thải rắn?", 3)
    assert result.passages
    assert len(made) == 1 and len(read) == 1


def test_empty_filters_are_no_filters(tiny_index: Path, embedder) -> None:
    engine = SearchEngine(Settings(index_dir=tiny_index), embedder=embedder)
    assert engine.plan("xe buýt điện", Filters()).filters is None
