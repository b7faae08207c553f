"""Index backends: where the vectors (and full-text postings) of a version are served from.

``POLICY_SEARCH_INDEX_BACKEND`` picks one of :data:`BACKENDS`. ``faiss``
(default) searches the version folder's own ``dense.faiss`` in-process;
``milvus`` (search/milvus_retriever.py) publishes each version to a Milvus
collection at ingest and queries Milvus. Either way the version folder's
SQLite stays the record the results' text is read from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from index.embed import Embedder
from index.store import Snapshot
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever
from search.milvus_retriever import MilvusBackend
from search.retrieve import Retriever
from search.settings import Settings
from search.windows import dense_retriever, searched_method


class IndexBackend(Protocol):
    def publish(self, version_dir: Path) -> str:
        """Make a complete version searchable before it becomes current; a report line."""
        ...

    def retire(self, versions: Sequence[str]) -> list[str]:
        """Forget ``versions``, whose folders garbage collection removed."""
        ...

    def retriever(self, snapshot: Snapshot, embedder: Embedder) -> Retriever: ...


class FaissBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def publish(self, version_dir: Path) -> str:
        return ""  # dense.faiss is written with the version itself

    def retire(self, versions: Sequence[str]) -> list[str]:
        return []

    def retriever(self, snapshot: Snapshot, embedder: Embedder) -> Retriever:
        windows = self.settings.dense_windows
        method = searched_method(self.settings.embedder_spec, self.settings.window_method)
        if self.settings.retrieval == "dense":
            return dense_retriever(snapshot, embedder, windows, method)
        if self.settings.retrieval == "lexical":
            return LexicalRetriever(snapshot)
        return HybridRetriever(snapshot, embedder, windows=windows, method=method)


BACKENDS: dict[str, Callable[[Settings], IndexBackend]] = {
    "faiss": FaissBackend,
    "milvus": MilvusBackend,
}


def make_backend(settings: Settings) -> IndexBackend:
    return BACKENDS[settings.index_backend](settings)
