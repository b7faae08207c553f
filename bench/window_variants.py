"""Which sentence-window vectors to keep: embedded apart, or from the chunk's own pass, and how.

    python -m bench.window_variants [--sets xquad corpus alqac] [--every 5]
        [--pass NAME=FIELD=VALUE,... ...] [--mix] [--ranks FILE]

For XQuAD (240 paragraphs), the corpus questions (``corpus/``) and the ALQAC
articles (every N-th; the questions whose articles are all in), builds an index
with ``separate`` windows (each sentence embedded again with its chunk's
header), then runs every chunk through the model once per ``--pass``: a
:class:`index.embed_base.SentencePass` by its fields (``default`` is the one
ingest uses; ``first=sentence_layers=0`` the first late windows, every layer
damped and no fork). Each variant replaces the chunk and window vectors of the
same index (same chunks, same lexical files) and is ranked by the dense-windows
and hybrid retrievers exactly as ``policy-search eval`` ranks them (by the
evidence chunk for the corpus, by document otherwise). ``--mix`` adds, per
pass, its windows beside the plain chunk vectors and its chunk vectors beside
the separate windows: which of the two a loss comes from. Prints MRR@10 per
query kind, then the corpus questions whose rank moved; ``--ranks``
writes every rank as JSON. Passage, query and one-pass vectors are cached
under ``--cache``, so a second run embeds only new passes.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from evaluation.retrieval import (
    CORPUS_QUESTIONS,
    CUTOFF,
    CachedQueryEmbedder,
    Question,
    alqac_set,
    load_questions,
    prewarm,
    rank_questions,
    xquad_set,
)
from index.build import build_index
from index.e5st import E5STEmbedder
from index.embed import Embedder, make_embedder
from index.embed_base import SENTENCE_PASS, ProgressFn, SentencePass
from index.store import Snapshot, open_current
from index.stores import LocalBackend
from index.windows import WindowIndex, chunk_sentences
from policy_search.settings import Settings

REPO = Path(__file__).resolve().parent.parent
METHODS = ("dense-windows", "hybrid")
KINDS = ("vi", "vi_plain", "en")


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


def parse_pass(text: str) -> tuple[str, SentencePass]:
    """``NAME`` or ``NAME=FIELD=VALUE,FIELD=VALUE``: a SentencePass that differs from the default."""
    name, _, fields = text.partition("=")
    changes: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(SentencePass)}
    for item in filter(None, fields.split(",")):
        key, _, value = item.partition("=")
        if key not in types:
            raise SystemExit(f"--pass {text}: no SentencePass field {key!r} ({', '.join(types)})")
        if "bool" in str(types[key]):
            changes[key] = value.lower() in ("1", "true", "yes")
        elif value.lower() == "none":
            changes[key] = None
        elif "int" in str(types[key]):
            changes[key] = int(value)
        else:
            changes[key] = float(value)
    return name, dataclasses.replace(SENTENCE_PASS, **changes)


def one_pass(
    snapshot: Snapshot, embedder: E5STEmbedder, spec: SentencePass, cache: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chunk vectors, window owners, window vectors) from one pass per chunk (cached)."""
    path = cache / f"one-pass-{snapshot.version}-{spec.label()}.npz"
    if path.exists():
        data = np.load(path)
        return data["vectors"], data["owners"], data["windows"]
    chunks = list(snapshot.all_chunks())
    sentences = [chunk_sentences(c) for c in chunks]
    started = time.perf_counter()
    vectors, windows = embedder.embed_passages_and_sentences(
        [c.embed_text for c in chunks], sentences, spec=spec
    )
    print(f"  {spec.label()}: {len(chunks)} chunks in {time.perf_counter() - started:.0f} s")
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


def question_set(
    name: str, args: argparse.Namespace, cache: Path
) -> tuple[Path, list[Question]] | None:
    """(folder to index, questions) of set ``name``; None when its data is absent."""
    if name == "xquad":
        try:
            docs, questions = xquad_set(Path(args.xquad))
        except FileNotFoundError as exc:
            print(f"skipping xquad: {exc}")
            return None
        folder = cache / "xquad-docs"
        folder.mkdir(exist_ok=True)
        for doc_id, text in docs.items():
            (folder / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
        return folder, questions
    if name == "corpus":
        return REPO / "corpus", load_questions(CORPUS_QUESTIONS)
    try:
        docs, questions = alqac_set(Path(args.alqac))
    except FileNotFoundError as exc:
        print(f"skipping alqac: {exc}")
        return None
    if args.every > 1:
        docs = alqac.subset_folder(Path(args.alqac), args.every, cache)
    return docs, questions


def mrr(ranks: dict[tuple[int, str], int | None], questions: Sequence[Question]) -> dict:
    out: dict[tuple[str, str], float] = {}
    for method in METHODS:
        for kind in KINDS:
            rr = [
                1 / r if (r := ranks[(i, method)]) and r <= CUTOFF else 0.0
                for i, q in enumerate(questions)
                if q.kind == kind
            ]
            if rr:
                out[(kind, method)] = float(np.mean(rr))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", default=str(REPO.parent / "shared" / "eval" / "xquad"))
    parser.add_argument("--alqac", default=str(alqac.DEFAULT))
    parser.add_argument("--every", type=int, default=5, help="every N-th ALQAC article")
    parser.add_argument("--sets", nargs="*", default=["xquad", "corpus", "alqac"])
    parser.add_argument(
        "--pass",
        dest="passes",
        nargs="*",
        default=["default", "first=sentence_layers=0"],
        help="NAME or NAME=FIELD=VALUE,...: sentence passes (fields of SentencePass)",
    )
    parser.add_argument("--mix", action="store_true", help="also each half of each pass")
    parser.add_argument("--ranks", help="write every rank here (JSON)")
    parser.add_argument("--cache", default="/tmp/policy-search-window-variants")
    args = parser.parse_args()
    passes = [parse_pass(p) for p in args.passes]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    inner = make_embedder(Settings().embedder_spec)
    if not isinstance(inner, E5STEmbedder):
        raise SystemExit("needs the e5-st embedder (POLICY_SEARCH_EMBEDDER=e5-st)")
    passages = PassageCache(inner, cache / "passages.npy")
    rows: list[list[Any]] = []
    all_ranks: dict[str, dict[str, int | None]] = {}
    for set_name in args.sets:
        found = question_set(set_name, args, cache)
        if found is None:
            continue
        folder, questions = found
        label = set_name if set_name != "alqac" or args.every == 1 else f"alqac/{args.every}"
        index_dir = cache / f"{label.replace('/', '-')}-index"
        build_index([folder], index_dir, passages, window_method="separate")
        base = open_current(index_dir)
        known = set(base.chunk_doc_ids())
        questions = [q for q in questions if set(q.relevant) <= known]
        queries = CachedQueryEmbedder(inner, cache / f"queries-{set_name}.npy")
        prewarm(queries, base, questions)
        separate = WindowIndex.load(base.path)
        assert separate is not None
        variants: list[tuple[str, Snapshot]] = [
            ("separate", Snapshot(base.path)),
            ("no windows", variant(base.path, None, None, None)),
        ]
        for name, spec in passes:
            vectors, owners, windows = one_pass(base, inner, spec, cache)
            variants.append((name, variant(base.path, vectors, owners, windows)))
            if args.mix:
                sep_windows = np.asarray(separate.vectors)
                variants.append(
                    (f"{name}: windows only", variant(base.path, None, owners, windows))
                )
                variants.append(
                    (
                        f"{name}: chunks only",
                        variant(base.path, vectors, separate.chunk_ids, sep_windows),
                    )
                )
        for name, snap in variants:
            ranks = rank_questions(set_name, LocalBackend().open(snap), queries, questions, METHODS)
            all_ranks[f"{label} {name}"] = {
                f"{q.qid} {q.kind} {m}": ranks[(i, m)]
                for i, q in enumerate(questions)
                for m in METHODS
            }
            table = mrr(ranks, questions)
            rows.append(
                [label, name]
                + [
                    f"{table[(k, m)]:.4f}" if (k, m) in table else "-"
                    for m in METHODS
                    for k in KINDS
                ]
            )
            print("  ".join(rows[-1]), flush=True)
        queries.save()
    print_table(
        "Window vectors: MRR@10 (dw: dense-windows; hy: hybrid, the default retriever)",
        ["set", "vectors", "dw vi", "dw vi_plain", "dw en", "hy vi", "hy vi_plain", "hy en"],
        rows,
    )
    corpus = {n.split(" ", 1)[1]: r for n, r in all_ranks.items() if n.startswith("corpus ")}
    moved = [
        (key, {name: ranks[key] for name, ranks in corpus.items()})
        for key in next(iter(corpus.values()), {})
        if key.endswith("hybrid")
    ]
    moved = [(k, v) for k, v in moved if len(set(v.values())) > 1]
    if moved:
        print("\ncorpus: hybrid ranks that differ between variants")
        for key, by_variant in moved:
            print(f"  {key}: " + ", ".join(f"{n} {r}" for n, r in by_variant.items()))
    if args.ranks:
        Path(args.ranks).write_text(json.dumps(all_ranks, indent=1))


if __name__ == "__main__":
    main()
