"""Retrieval evaluation: MRR@10 and Recall@1/5/10 per method and per query kind.

A question set is a list of :class:`Question`: the query, the kind it was
typed as (``vi``, ``vi_plain``, ``en``), the document that answers it and,
optionally, evidence text that the answering chunk must contain. Without
evidence, results are ranked as documents (the chunks of one document count
once, at the rank of its best chunk); with evidence, as chunks.

Built-in sets:

* ``xquad``: XQuAD's 240 Vietnamese paragraphs as documents, its 1,190
  questions in Vietnamese, in Vietnamese without diacritics and in English;
* ``corpus``: questions about the documents of ``corpus/``
  (``search/data/corpus_questions.json``), each in the same three kinds.

Indexes for the built-in sets are built with the real ingest pipeline into a
cache folder and reused (ingest is incremental); query vectors are cached
there too, so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.build import build_index
from index.embed import Embedder, make_embedder
from index.milvus_store import MilvusBackend
from index.store import Snapshot, open_current
from index.stores import Backend, LocalBackend, Store
from ingest.text import fold, normalize
from search.backends import milvus_uri
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import QueryKind, detect_kind, plan_query
from search.retrieve import DenseRetriever, Retriever
from search.settings import Settings
from search.windows import dense_retriever

# "dense-windows" and "hybrid" score chunks by their sentences too (search/windows.py);
# "dense" and "hybrid-no-windows" are the same without them.
METHODS = ("lexical", "dense", "dense-windows", "hybrid-no-windows", "hybrid")
KINDS = tuple(k.value for k in QueryKind)
CUTOFF = 10
# Chunks fetched per question: enough for 10 distinct documents when ranking documents.
DEPTH = 50
CORPUS_QUESTIONS = Path(__file__).parent / "data" / "corpus_questions.json"
# `eval --backend milvus` fails when a method's MRR@10 on Milvus is further than this from
# the local store's: the same retrieval must rank the same on both.
BACKEND_GAP = 0.01


@dataclass(frozen=True)
class Question:
    qid: str
    query: str
    kind: str  # the kind it was typed as
    doc_id: str
    evidence: str = ""


@dataclass
class Scores:
    n: int = 0
    rr: float = 0.0
    hits: dict[int, int] = field(default_factory=lambda: {1: 0, 5: 0, 10: 0})

    def add(self, rank: int | None) -> None:
        self.n += 1
        if rank is not None and rank <= CUTOFF:
            self.rr += 1.0 / rank
            for cut in self.hits:
                if rank <= cut:
                    self.hits[cut] += 1

    def row(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {"mrr@10": self.rr / n, **{f"r@{c}": h / n for c, h in self.hits.items()}}


@dataclass
class Row:
    set_name: str
    kind: str
    method: str
    n: int
    metrics: dict[str, float]
    backend: str = "faiss"


# --- question sets -------------------------------------------------------------------------


def _plain(text: str) -> str:
    """What a user typing without diacritics produces: marks gone, case kept."""
    return "".join(fold(c).upper() if c.isupper() else fold(c) for c in text)


def xquad_set(path: Path) -> tuple[dict[str, str], list[Question]]:
    """(document id -> paragraph text, questions) of XQuAD under ``path``."""
    vi_file, en_file = path / "xquad.vi.json", path / "xquad.en.json"
    if not vi_file.is_file() or not en_file.is_file():
        raise FileNotFoundError(
            f"XQuAD not found: expected {vi_file} and {en_file} (pass --xquad PATH)"
        )
    vi = json.loads(vi_file.read_text(encoding="utf-8"))["data"]
    en = json.loads(en_file.read_text(encoding="utf-8"))["data"]
    english = {q["id"]: q["question"] for a in en for p in a["paragraphs"] for q in p["qas"]}
    docs: dict[str, str] = {}
    questions: list[Question] = []
    for ai, article in enumerate(vi):
        for pi, para in enumerate(article["paragraphs"]):
            doc_id = f"a{ai:02d}p{pi}"
            docs[doc_id] = para["context"]
            for q in para["qas"]:
                questions.append(Question(q["id"], q["question"], "vi", doc_id))
                questions.append(Question(q["id"], _plain(q["question"]), "vi_plain", doc_id))
                if q["id"] in english:
                    questions.append(Question(q["id"], english[q["id"]], "en", doc_id))
    return docs, questions


def load_questions(path: Path) -> list[Question]:
    """Questions from JSON (a list) or JSON lines.

    Each item: ``id``, ``doc_id``, optional ``evidence`` and either ``query``
    (with an optional ``kind``; detected when absent) or ``vi``/``vi_plain``/``en``
    variants of one question. A ``vi`` question without ``vi_plain`` gets one
    made by removing its diacritics.
    """
    text = path.read_text(encoding="utf-8")
    items = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    out: list[Question] = []
    for n, item in enumerate(items, 1):
        qid, doc_id, evidence = str(item.get("id", n)), item["doc_id"], item.get("evidence", "")
        if "query" in item:
            kind = item.get("kind") or detect_kind(item["query"]).value
            out.append(Question(qid, item["query"], kind, doc_id, evidence))
            continue
        variants = {k: item[k] for k in KINDS if item.get(k)}
        if "vi" in variants and "vi_plain" not in variants:
            variants["vi_plain"] = _plain(variants["vi"])
        if not variants:
            raise ValueError(f"{path}: question {qid} has no query, vi, vi_plain or en text")
        out.extend(Question(qid, q, kind, doc_id, evidence) for kind, q in variants.items())
    return out


# --- indexes -------------------------------------------------------------------------------


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def xquad_index(
    docs: dict[str, str], cache: Path, embedder: Embedder, publisher: Backend | None = None
) -> Snapshot:
    """XQuAD's paragraphs, one file each, ingested into a cached index (reused when unchanged)."""
    folder = cache / "xquad-docs"
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in docs.items():
        path = folder / f"{doc_id}.txt"
        data = (text + "\n").encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    index_dir = cache / f"xquad-index-{slug(embedder.name)}"
    build_index([folder], index_dir, embedder, publisher=publisher)
    return open_current(index_dir)


def corpus_index_dir(cache: Path, embedder: Embedder) -> Path:
    return cache / f"corpus-index-{slug(embedder.name)}"


def corpus_index(
    corpus: Path, cache: Path, embedder: Embedder, publisher: Backend | None = None
) -> Snapshot:
    index_dir = corpus_index_dir(cache, embedder)
    build_index([corpus], index_dir, embedder, publisher=publisher)
    return open_current(index_dir)


class CachedQueryEmbedder:
    """Wraps an embedder: query vectors come from a cache file when already computed."""

    def __init__(self, inner: Embedder, path: Path | None) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.with_suffix(".json").exists() and path.exists():
            texts = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            matrix = np.load(path, allow_pickle=False)
            if len(texts) == len(matrix):
                self.vectors = dict(zip(texts, matrix, strict=True))

    def embed_passages(self, texts: Sequence[str], progress: Callable | None = None) -> np.ndarray:
        return self.inner.embed_passages(texts, progress=progress)

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            for start in range(0, len(missing), 64):
                batch = missing[start : start + 64]
                self.vectors.update(zip(batch, self.inner.embed_queries(batch), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self.vectors)
        np.save(
            self.path,
            np.stack([self.vectors[t] for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32),
            allow_pickle=False,
        )
        self.path.with_suffix(".json").write_text(
            json.dumps(texts, ensure_ascii=False), encoding="utf-8"
        )


def query_cache_path(cache: Path, embedder: Embedder, set_name: str) -> Path:
    return cache / f"queries-{slug(set_name)}-{slug(embedder.name)}.npy"


# --- evaluation ----------------------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(normalize(text).lower().split())


def make_retrievers(store: Store, embedder: Embedder) -> dict[str, Retriever]:
    return {
        "lexical": LexicalRetriever(store),
        "dense": DenseRetriever(store, embedder),
        "dense-windows": dense_retriever(store, embedder),
        "hybrid-no-windows": HybridRetriever(store, embedder, windows=False),
        "hybrid": HybridRetriever(store, embedder),
    }


def rank_of(
    question: Question, hits: list[tuple[int, float]], store: Store, chunk_docs: list[str]
) -> int | None:
    """1-based rank of the first relevant result, or None when none is in the list."""
    if question.evidence:
        want = _squash(question.evidence)
        chunks = store.chunks([cid for cid, _ in hits[:CUTOFF]])
        for rank, chunk in enumerate(chunks, 1):
            if chunk.doc_id == question.doc_id and want in _squash(chunk.text):
                return rank
        return None
    seen: list[str] = []
    for cid, _ in hits:
        doc = chunk_docs[cid]
        if doc not in seen:
            seen.append(doc)
            if doc == question.doc_id:
                return len(seen)
    return None


def evaluate(
    set_name: str,
    store: Store,
    embedder: Embedder,
    questions: Sequence[Question],
    methods: Sequence[str] = METHODS,
    backend: str = "faiss",
) -> list[Row]:
    retrievers = make_retrievers(store, embedder)
    chunk_docs = store.chunk_doc_ids()
    known = set(chunk_docs)
    missing = {q.doc_id for q in questions} - known
    if missing:
        raise ValueError(
            f"{set_name}: questions name documents not in the index: "
            f"{', '.join(sorted(missing)[:5])}"
        )
    accents = accent_model(store)
    table: dict[tuple[str, str], Scores] = {}
    for q in questions:
        plan = plan_query(q.query, accents)  # once, read by every method
        for method in methods:
            depth = CUTOFF if q.evidence else DEPTH
            hits = retrievers[method].retrieve(plan, depth)
            rank = rank_of(q, hits, store, chunk_docs)
            table.setdefault((q.kind, method), Scores()).add(rank)
            table.setdefault(("all", method), Scores()).add(rank)
    order = [*KINDS, "all"]
    return [
        Row(set_name, kind, method, table[(kind, method)].n, table[(kind, method)].row(), backend)
        for kind in order
        for method in methods
        if (kind, method) in table
    ]


def kind_accuracy(questions: Sequence[Question]) -> dict[str, float]:
    """Share of questions whose detected kind is the kind they were typed as."""
    out = {}
    for kind in KINDS:
        qs = [q for q in questions if q.kind == kind]
        if qs:
            out[kind] = sum(detect_kind(q.query).value == kind for q in qs) / len(qs)
    return out


def format_rows(rows: Sequence[Row], markdown: bool = False) -> str:
    labels = {
        "vi": "Vietnamese",
        "vi_plain": "Vietnamese without diacritics",
        "en": "English",
        "all": "all",
    }
    backends = len({r.backend for r in rows}) > 1
    head = ["set", "queries", "method", *(["backend"] if backends else []), "n"]
    head += ["MRR@10", "R@1", "R@5", "R@10"]
    body = [
        [
            r.set_name,
            labels.get(r.kind, r.kind),
            r.method,
            *([r.backend] if backends else []),
            str(r.n),
            *(f"{r.metrics[m]:.3f}" for m in ("mrr@10", "r@1", "r@5", "r@10")),
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    left = 4 if backends else 3
    fmt = "  ".join(f"{{:<{w}}}" if i < left else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [head, *body])


def questions_digest(questions: Sequence[Question]) -> str:
    return hashlib.sha256("\n".join(q.query for q in questions).encode()).hexdigest()[:12]


def prewarm(
    embedder: CachedQueryEmbedder, snapshot: Snapshot, questions: Sequence[Question]
) -> None:
    """Embed every text the dense side will read, in batches, before the timed loop."""
    accents = accent_model(snapshot)
    texts = [plan_query(q.query, accents).dense_text for q in questions]
    embedder.embed_queries(texts)
    embedder.save()


def _first(questions: list[Question], limit: int | None) -> list[Question]:
    if limit is None:
        return questions
    keep = set(list(dict.fromkeys(q.qid for q in questions))[:limit])
    return [q for q in questions if q.qid in keep]


def backend_gaps(rows: Sequence[Row]) -> list[tuple[Row, Row, float]]:
    """(local row, other backend's row, MRR@10 difference) for every row measured on both."""
    local = {(r.set_name, r.kind, r.method): r for r in rows if r.backend == "faiss"}
    return [
        (base, r, r.metrics["mrr@10"] - base.metrics["mrr@10"])
        for r in rows
        if r.backend != "faiss" and (base := local.get((r.set_name, r.kind, r.method)))
    ]


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`policy-search eval`: prints the table; exit 1 when a set cannot be run."""
    inner = make_embedder(settings.embedder_spec)
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "policy-search-eval"
    methods = tuple(args.methods or METHODS)
    # --backend milvus: every method on the local store and on Milvus, side by side.
    with_milvus = getattr(args, "backend", "faiss") == "milvus"

    def milvus(name: str) -> Backend | None:
        uri = str(cache / f"milvus-{slug(name)}-{slug(inner.name)}.db")
        return MilvusBackend(uri) if with_milvus else None

    jobs: list[tuple[str, Snapshot, list[Question], Path | None, Backend | None]] = []
    status = 0
    if args.questions:
        path = Path(args.questions)
        if not path.is_file():
            print(f"error: question file not found: {path}", file=sys.stderr)
            return 1
        snap = open_current(settings.index_dir)
        snap.check_embedder(inner.name)
        published = MilvusBackend(milvus_uri(settings)) if with_milvus else None
        jobs.append((path.stem, snap, _first(load_questions(path), args.limit), None, published))
    else:
        sets = args.sets or ["xquad", "corpus"]
        if "xquad" in sets:
            try:
                docs, questions = xquad_set(Path(args.xquad))
            except FileNotFoundError as exc:
                print(f"skipping xquad: {exc}", file=sys.stderr)
                status = 1
            else:
                print(
                    f"xquad: indexing {len(docs)} paragraphs (cached in {cache})", file=sys.stderr
                )
                backend = milvus("xquad")
                jobs.append(
                    (
                        "xquad",
                        xquad_index(docs, cache, inner, backend),
                        _first(questions, args.limit),
                        query_cache_path(cache, inner, "xquad"),
                        backend,
                    )
                )
        if "corpus" in sets:
            corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
            if not corpus.is_dir():
                print(f"skipping corpus: no folder {corpus} (pass --corpus PATH)", file=sys.stderr)
                status = 1
            else:
                backend = milvus("corpus")
                jobs.append(
                    (
                        "corpus",
                        corpus_index(corpus, cache, inner, backend),
                        _first(load_questions(CORPUS_QUESTIONS), args.limit),
                        query_cache_path(cache, inner, "corpus"),
                        backend,
                    )
                )
    rows: list[Row] = []
    for name, snap, questions, vector_cache, milvus_backend in jobs:
        embedder = CachedQueryEmbedder(inner, vector_cache)
        print(f"{name}: embedding {len(questions)} queries (cached)", file=sys.stderr)
        prewarm(embedder, snap, questions)
        backends: list[Backend] = [LocalBackend()]
        if milvus_backend is not None:
            backends.append(milvus_backend)
        for backend in backends:
            started = time.perf_counter()
            rows += evaluate(name, backend.open(snap), embedder, questions, methods, backend.name)
            seconds = time.perf_counter() - started
            print(
                f"{name}: {backend.name}: {len(methods)} methods in {seconds:.0f} s",
                file=sys.stderr,
            )
        accuracy = ", ".join(f"{k} {v:.3f}" for k, v in kind_accuracy(questions).items())
        print(f"{name}: query kind detected correctly: {accuracy}", file=sys.stderr)
    if rows:
        print(format_rows(rows, markdown=args.markdown))
    for base, measured, gap in backend_gaps(rows):
        if abs(gap) > BACKEND_GAP:
            status = 1
            print(
                f"{base.set_name} {base.kind} {base.method}: MRR@10 {measured.backend} "
                f"{measured.metrics['mrr@10']:.3f} vs faiss {base.metrics['mrr@10']:.3f} "
                f"(more than {BACKEND_GAP} apart)",
                file=sys.stderr,
            )
    return status
