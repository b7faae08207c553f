"""Which sentence-window vectors to keep: embedded apart, or pooled from the chunk's own pass.

    python -m bench.window_variants [--xquad PATH] [--alqac PATH] [--every 5] [--bias 0 1 2]
        [--pool header sentence]

For XQuAD (240 paragraphs) and the ALQAC articles (every N-th), builds an index
with ``separate`` windows (each sentence embedded again with its chunk's
header, the method before late windows), then runs every chunk through the
model once more per attention bias (:data:`index.embed_base.SENTENCE_BIAS`: 0
is plain late chunking) and takes the chunk vectors and the window vectors
from that one pass, a sentence's vector pooled from its tokens and its
chunk's header (title and section), or from its tokens alone (``--pool``). Each variant replaces the vectors of the same index (same
chunks, same lexical files) and is evaluated with the dense-windows and hybrid
retrievers; "no windows" is the separate index's chunk vectors alone. Prints
MRR@10 per query kind. Passage and query vectors are cached under ``--cache``
(the separate windows by text, the one-pass vectors per bias), so a second run
embeds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench import alqac
from bench.common import print_table
from index.build import build_index
from index.e5st import E5STEmbedder
from index.embed import Embedder, make_embedder
from index.embed_base import ProgressFn
from index.store import Snapshot, open_current
from index.windows import WindowIndex, chunk_sentences
from search.eval import CachedQueryEmbedder, xquad_set
from search.hybrid import HybridRetriever
from search.lexical import accent_model
from search.query import plan_query
from search.retrieve import Retriever
from search.settings import Settings
from search.windows import WindowRetriever, window_index

REPO = Path(__file__).resolve().parent.parent


class PassageCache:
    """An embedder whose passage vectors are looked up by text digest first (then saved)."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner, self.path = inner, path
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            keys = json.loads(path.with_suffix(".json").read_text())
            self.vectors = dict(zip(keys, np.load(path), strict=True))

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if todo:
            print(f"  embedding {len(todo)} passages not in the cache", flush=True)
            new = self.inner.embed_passages(list(todo.values()))
            self.vectors.update(zip(todo, new, strict=True))
            np.save(self.path, np.stack(list(self.vectors.values())))
            self.path.with_suffix(".json").write_text(json.dumps(list(self.vectors)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)


def one_pass(
    snapshot: Snapshot, embedder: E5STEmbedder, bias: float, header: bool, cache: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chunk vectors, window owners, window vectors) from one pass per chunk (cached)."""
    pooled = "header" if header else "sentence"
    path = cache / f"one-pass-{snapshot.version}-bias{bias:g}-{pooled}.npz"
    if path.exists():
        data = np.load(path)
        return data["vectors"], data["owners"], data["windows"]
    chunks = list(snapshot.all_chunks())
    sentences = [chunk_sentences(c) for c in chunks]
    started = time.perf_counter()
    vectors, windows = embedder.embed_passages_and_sentences(
        [c.embed_text for c in chunks], sentences, bias=bias, header=header
    )
    print(
        f"  bias {bias:g}: one pass over {len(chunks)} chunks in {time.perf_counter() - started:.0f} s"
    )
    owners = np.repeat([c.id for c in chunks], [len(s) for s in sentences]).astype(np.int32)
    np.savez(path, vectors=vectors, owners=owners, windows=windows)
    return vectors, owners, windows


def variant(
    path: Path, vectors: np.ndarray | None, owners: np.ndarray | None, windows: np.ndarray | None
) -> Snapshot:
    """A snapshot of ``path`` with other chunk vectors and windows (None: its own; no windows)."""
    snap = Snapshot(path)
    if vectors is not None:
        snap.vectors = vectors
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        snap.faiss_index = index
    if owners is None or windows is None:
        snap._derived["windows"] = None
    else:
        index = faiss.IndexFlatIP(windows.shape[1])
        index.add(np.ascontiguousarray(windows, dtype=np.float32))
        snap._derived["windows"] = WindowIndex(owners, windows, index, method="late")
    return snap


def retrievers(snap: Snapshot, embedder: Embedder) -> dict[str, Retriever]:
    out: dict[str, Retriever] = {"hybrid": HybridRetriever(snap, embedder)}
    windows = window_index(snap)
    if windows is not None:
        out["dense-windows"] = WindowRetriever(snap, embedder, windows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", default=str(REPO.parent / "shared" / "eval" / "xquad"))
    parser.add_argument("--alqac", default=str(alqac.DEFAULT))
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--bias", type=float, nargs="*", default=[0.0, 1.0, 2.0])
    parser.add_argument(
        "--pool",
        nargs="*",
        choices=["header", "sentence"],
        default=["header", "sentence"],
        help="a sentence's vector: its tokens and the header's, or its tokens alone",
    )
    parser.add_argument("--cache", default="/tmp/policy-search-window-variants")
    parser.add_argument("--sets", nargs="*", default=["xquad", "alqac"])
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    inner = make_embedder(Settings().embedder_spec)
    if not isinstance(inner, E5STEmbedder):
        raise SystemExit("needs the e5-st embedder (POLICY_SEARCH_EMBEDDER=e5-st)")
    passages = PassageCache(inner, cache / "passages.npy")
    jobs: list[tuple[str, Path, list[alqac.Asked]]] = []
    if "xquad" in args.sets:
        docs, qs = xquad_set(Path(args.xquad))
        folder = cache / "xquad-docs"
        folder.mkdir(exist_ok=True)
        for doc_id, text in docs.items():
            (folder / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        build_index([folder], cache / "xquad-index", passages, window_method="separate")
        asked = [alqac.Asked(q.qid, q.query, q.kind, frozenset([q.doc_id])) for q in qs]
        jobs.append(("xquad", cache / "xquad-index", asked))
    if "alqac" in args.sets:
        root = Path(args.alqac)
        folder = alqac.subset_folder(root, args.every, cache)
        index_dir = cache / f"alqac-every-{args.every}-index"
        build_index([folder], index_dir, passages, window_method="separate")
        asked = alqac.questions(root, set(open_current(index_dir).chunk_doc_ids()))
        jobs.append((f"alqac/{args.every} ({len(asked) // 2} q)", index_dir, asked))
    rows: list[list[Any]] = []
    for label, index_dir, asked in jobs:
        base = open_current(index_dir)
        queries = CachedQueryEmbedder(inner, cache / f"queries-{label.split('/')[0]}.npy")
        accents = accent_model(base)
        queries.embed_queries([plan_query(q.query, accents).dense_text for q in asked])
        queries.save()
        variants: list[tuple[str, Snapshot]] = [
            ("separate", Snapshot(base.path)),
            ("no windows", variant(base.path, None, None, None)),
        ]
        for bias in args.bias:
            for pool in args.pool:
                snap = variant(base.path, *one_pass(base, inner, bias, pool == "header", cache))
                variants.append((f"one pass, bias {bias:g}, {pool}", snap))
        for name, snap in variants:
            table = alqac.mrr(snap, retrievers(snap, queries), asked)
            rows.append(
                [label, name]
                + [
                    f"{table[(k, m)]:.4f}" if (k, m) in table else "-"
                    for m in ("dense-windows", "hybrid")
                    for k in ("vi", "vi_plain", "en")
                ]
            )
            print("  ".join(rows[-1]), flush=True)
    print_table(
        "Window vectors: MRR@10 (dw: dense-windows; hy: hybrid, the default retriever)",
        ["set", "vectors", "dw vi", "dw vi_plain", "dw en", "hy vi", "hy vi_plain", "hy en"],
        rows,
    )


if __name__ == "__main__":
    main()
