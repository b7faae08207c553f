"""The backend and the retrieval method the settings choose.

``POLICY_SEARCH_INDEX_BACKEND`` picks where versions are served from
(:data:`BACKENDS`): ``faiss``, the version folder itself, or ``milvus``, where
every write publishes the version (index/milvus_store.py). Either way the same
retrieval runs over the backend's :class:`~index.stores.Store`;
``POLICY_SEARCH_RETRIEVAL`` picks it (:data:`RETRIEVERS`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.embed import Embedder
from index.milvus_store import MilvusBackend
from index.stores import Backend, LocalBackend, Store
from policy_search.settings import Settings
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever
from search.retrieve import Retriever
from search.windows import dense_retriever, searched_method


def milvus_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(Path(settings.index_dir) / "milvus.db")


BACKENDS: dict[str, Callable[[Settings], Backend]] = {
    "faiss": lambda settings: LocalBackend(),
    "milvus": lambda settings: MilvusBackend(milvus_uri(settings), settings.milvus_index_type),
}


def _method(s: Settings) -> str:
    return searched_method(s.embedder_spec, s.window_method)


RETRIEVERS: dict[str, Callable[[Store, Embedder, Settings], Retriever]] = {
    "hybrid": lambda store, embedder, s: HybridRetriever(
        store, embedder, windows=s.dense_windows, method=_method(s)
    ),
    "dense": lambda store, embedder, s: dense_retriever(
        store, embedder, s.dense_windows, _method(s)
    ),
    "lexical": lambda store, embedder, s: LexicalRetriever(store),
}


def make_backend(settings: Settings) -> Backend:
    return BACKENDS[settings.index_backend](settings)


def make_retriever(store: Store, embedder: Embedder, settings: Settings) -> Retriever:
    return RETRIEVERS[settings.retrieval](store, embedder, settings)
