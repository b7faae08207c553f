"""Which sentence-window vectors to keep: embedded apart (today) or pooled from the chunk's pass.

    python -m bench.window_variants [--xquad PATH] [--alqac PATH] [--every 5]

For XQuAD (240 paragraphs) and the ALQAC articles (every N-th), builds an index
with today's windows (each sentence embedded again with its chunk's header),
then runs every chunk through the model once more, keeping the token states,
and pools each sentence's window vector from them in several ways ("late
chunking"): the sentence's tokens alone, with the header's tokens, with the
special and prefix tokens. Each variant replaces the windows of the same index
and is evaluated with the dense-windows and hybrid retrievers (MRR@10 per query
kind); "none" is the chunk vectors alone. Passage and query vectors are cached
under ``--cache`` so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import faiss
import numpy as np

from bench import alqac
from bench.common import print_table
from index.build import build_index
from index.embed import Embedder, make_embedder
from index.embed_base import SPECIAL_TOKENS, ProgressFn
from index.store import Snapshot, StoredChunk, open_current
from index.windows import WindowIndex, chunk_header, sentence_spans
from search.eval import CachedQueryEmbedder, xquad_set
from search.hybrid import HybridRetriever
from search.lexical import accent_model
from search.query import plan_query
from search.retrieve import Retriever
from search.settings import Settings
from search.windows import WindowRetriever, window_index

REPO = Path(__file__).resolve().parent.parent
Variant = Callable[[int, int, int], list[tuple[int, int]]]  # (header end, start, end) -> ranges

VARIANTS: dict[str, Variant] = {
    "late: sentence": lambda h, s, e: [(s, e)],
    "late: sentence+specials": lambda h, s, e: [(s, e), SPECIAL_TOKENS],
    "late: header+sentence": lambda h, s, e: [(0, h), (s, e)],
    "late: header+sentence+specials": lambda h, s, e: [(0, h), (s, e), SPECIAL_TOKENS],
}


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


def groups_of(chunk: StoredChunk, variant: Variant) -> list[list[tuple[int, int]]]:
    """The span groups of ``chunk``'s sentences in its embedded text (none for one sentence)."""
    spans = sentence_spans(chunk.text)
    if len(spans) <= 1:
        return []
    offset = len(chunk.embed_text) - len(chunk.text)
    header = len(chunk_header(chunk)) if offset else 0
    return [variant(header, offset + s, offset + e) for s, e in spans]


def late_windows(
    snapshot: Snapshot, embedder: Embedder, cache: Path
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(owners, vectors) of every variant, from one pass over the chunks (cached)."""
    path = cache / f"late-{snapshot.version}.npz"
    if path.exists():
        data = np.load(path)
        return {name: (data[f"{i}o"], data[f"{i}v"]) for i, name in enumerate(VARIANTS)}
    chunks = list(snapshot.all_chunks())
    groups: list[list[list[tuple[int, int]]]] = []
    owners: list[int] = []
    for chunk in chunks:
        per_chunk = [groups_of(chunk, v) for v in VARIANTS.values()]
        groups.append([g for gs in per_chunk for g in gs])
        owners += [chunk.id] * len(per_chunk[0])
    started = time.perf_counter()
    passages, pooled = embedder.embed_passages_pooled(  # type: ignore[attr-defined]
        [c.embed_text for c in chunks], groups
    )
    print(f"  one pass over {len(chunks)} chunks: {time.perf_counter() - started:.0f} s")
    stored = np.asarray(snapshot.vectors, dtype=np.float32)
    print(f"  chunk vectors vs stored: min cosine {np.min(np.sum(passages * stored, 1)):.5f}")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n = len(VARIANTS)
    # Rows of chunk i: n blocks of its sentences, one block per variant.
    sizes = [len(g) // n for g in groups]
    starts = np.cumsum([0, *(len(g) for g in groups)])
    for v, name in enumerate(VARIANTS):
        rows = [
            np.arange(starts[i] + v * sizes[i], starts[i] + (v + 1) * sizes[i])
            for i in range(len(chunks))
        ]
        out[name] = (np.asarray(owners, np.int32), pooled[np.concatenate(rows)])
    np.savez(
        path,
        **{f"{i}{k}": out[name][j] for i, name in enumerate(VARIANTS) for j, k in enumerate("ov")},
    )
    return out


def with_windows(path: Path, owners: np.ndarray | None, vectors: np.ndarray | None) -> Snapshot:
    """A fresh snapshot of ``path`` whose windows are ``vectors`` (none: no windows)."""
    snap = Snapshot(path)
    if owners is None or vectors is None:
        snap._derived["windows"] = None
        return snap
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    snap._derived["windows"] = WindowIndex(owners.astype(np.int32), vectors, index)
    return snap


def retrievers(snap: Snapshot, embedder: Embedder) -> dict[str, Retriever]:
    out: dict[str, Retriever] = {"hybrid": HybridRetriever(snap, embedder)}
    windows = snap._derived["windows"] if "windows" in snap._derived else window_index(snap)
    if windows is not None:
        out["dense-windows"] = WindowRetriever(snap, embedder, windows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", default=str(REPO.parent / "shared" / "eval" / "xquad"))
    parser.add_argument("--alqac", default=str(alqac.DEFAULT))
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--cache", default="/tmp/policy-search-window-variants")
    parser.add_argument("--sets", nargs="*", default=["xquad", "alqac"])
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    inner = make_embedder(Settings().embedder_spec)
    passages = PassageCache(inner, cache / "passages.npy")
    jobs: list[tuple[str, Path, list[alqac.Asked]]] = []
    if "xquad" in args.sets:
        docs, qs = xquad_set(Path(args.xquad))
        folder = cache / "xquad-docs"
        folder.mkdir(exist_ok=True)
        for doc_id, text in docs.items():
            (folder / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        build_index([folder], cache / "xquad-index", passages)
        asked = [alqac.Asked(q.qid, q.query, q.kind, frozenset([q.doc_id])) for q in qs]
        jobs.append(("xquad", cache / "xquad-index", asked))
    if "alqac" in args.sets:
        root = Path(args.alqac)
        folder = alqac.subset_folder(root, args.every, cache)
        index_dir = cache / f"alqac-every-{args.every}-index"
        build_index([folder], index_dir, passages)
        asked = alqac.questions(root, set(open_current(index_dir).chunk_doc_ids()))
        jobs.append((f"alqac/{args.every} ({len(asked) // 2} q)", index_dir, asked))
    rows = []
    for label, index_dir, asked in jobs:
        base = open_current(index_dir)
        queries = CachedQueryEmbedder(inner, cache / f"queries-{label.split('/')[0]}.npy")
        accents = accent_model(base)
        queries.embed_queries([plan_query(q.query, accents).dense_text for q in asked])
        queries.save()
        late = late_windows(base, inner, cache)
        for name in ["separate (today)", *VARIANTS, "none"]:
            if name == "separate (today)":
                snap = Snapshot(base.path)
            else:
                snap = with_windows(base.path, *late.get(name, (None, None)))
            table = alqac.mrr(snap, retrievers(snap, queries), asked)
            rows.append(
                [
                    label,
                    name,
                    *(
                        table.get((k, m), float("nan"))
                        for m in ("dense-windows", "hybrid")
                        for k in ("vi", "vi_plain", "en")
                    ),
                ]
            )
            print(rows[-1], flush=True)
    print_table(
        "Window vectors: MRR@10 (dw: dense-windows; hy: hybrid, the default)",
        ["set", "windows", "dw vi", "dw vi_plain", "dw en", "hy vi", "hy vi_plain", "hy en"],
        [[f"{c:.4f}" if isinstance(c, float) else c for c in r] for r in rows],
    )


if __name__ == "__main__":
    main()
