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
  (``search/data/corpus_questions.json``), each in the same three kinds;
* ``alqac``: ALQAC's legal articles (one file per article) and its development
  questions, in Vietnamese and without diacritics, split into a tuning half
  and a check half by question id (:func:`alqac_set`).

Indexes for the built-in sets are built with the real ingest pipeline into a
cache folder and reused (ingest is incremental); query and passage vectors are
cached there too, so a second run embeds nothing and a rebuild after a
chunking change embeds only the texts that changed.

``bm25`` is a baseline outside the product: plain BM25 (bm25s, lower-cased
syllables, no bigrams) over each document's whole text, folded on both sides
for questions typed without diacritics.
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

import bm25s
import numpy as np

from evaluation import SEARCH_DATA
from evaluation.headers import run_header_eval
from index.build import build_index
from index.embed import Embedder, ProgressFn, make_embedder
from index.embed_base import SENTENCE_PASS, ForwardsSentences, Span, sentences_of
from index.milvus_store import MilvusBackend
from index.store import Snapshot, open_current
from index.stores import Backend, LocalBackend, Records, Store
from index.windows import DEFAULT_METHOD
from ingest.pipeline import PARSER_VERSION
from ingest.structure import strip_markup
from ingest.text import fold, normalize, tokenize
from policy_search.settings import Settings
from search.backends import milvus_uri
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import QueryKind, QueryPlan, detect_kind, plan_query
from search.retrieve import DenseRetriever, LookupRetriever, Retriever
from search.windows import dense_retriever

# "dense-windows" and "hybrid" score chunks by their sentences too (search/windows.py);
# "dense" and "hybrid-no-windows" are the same without them.
METHODS = ("lexical", "dense", "dense-windows", "hybrid-no-windows", "hybrid")
# Every method `--method` accepts: the product's, and the plain BM25 baseline.
ALL_METHODS = ("bm25", *METHODS)
ALQAC_METHODS = ("bm25", "lexical", "dense", "hybrid")
KINDS = tuple(k.value for k in QueryKind)
CUTOFF = 10
# Chunks fetched per question: enough for 10 distinct documents when ranking documents.
DEPTH = 50
CORPUS_QUESTIONS = SEARCH_DATA / "corpus_questions.json"
ALQAC_DEFAULT = "../shared/eval/alqac"
ADMINDOCS_DEFAULT = "../shared/eval/admindocs"
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
    also: tuple[str, ...] = ()  # other documents that answer it as well

    @property
    def relevant(self) -> tuple[str, ...]:
        return (self.doc_id, *self.also)


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


def half(qid: str) -> str:
    """``tune`` or ``check``: a fixed split of questions by a hash of their id.

    Thresholds and weights are chosen on the tuning half; the check half says
    whether the gain holds on questions they were not chosen on.
    """
    return ("tune", "check")[hashlib.sha256(qid.encode()).digest()[0] & 1]


def alqac_set(path: Path) -> tuple[Path, list[Question]]:
    """(folder of article files, questions) of ALQAC under ``path``.

    Each question is asked as written (``vi``) and without diacritics
    (``vi_plain``); a question with several relevant articles is answered by
    any of them. Article files are read where they are: nothing is copied.
    """
    docs, file = path / "docs", path / "dev_questions.jsonl"
    if not docs.is_dir() or not file.is_file():
        raise FileNotFoundError(f"ALQAC not found: expected {docs}/ and {file} (pass --alqac PATH)")
    questions: list[Question] = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        relevant = [str(r) for r in item["relevant"]]
        first, also = relevant[0], tuple(relevant[1:])
        qid, query = str(item["id"]), item["query"]
        questions.append(Question(qid, query, "vi", first, also=also))
        questions.append(Question(qid, _plain(query), "vi_plain", first, also=also))
    return docs, questions


# --- indexes -------------------------------------------------------------------------------


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def xquad_index(
    docs: dict[str, str],
    cache: Path,
    embedder: Embedder,
    publisher: Backend | None = None,
    window_method: str = DEFAULT_METHOD,
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
    build_index([folder], index_dir, embedder, publisher=publisher, window_method=window_method)
    return open_current(index_dir)


def corpus_index_dir(cache: Path, embedder: Embedder) -> Path:
    return cache / f"corpus-index-{slug(embedder.name)}"


def corpus_index(
    corpus: Path,
    cache: Path,
    embedder: Embedder,
    publisher: Backend | None = None,
    window_method: str = DEFAULT_METHOD,
) -> Snapshot:
    index_dir = corpus_index_dir(cache, embedder)
    build_index([corpus], index_dir, embedder, publisher=publisher, window_method=window_method)
    return open_current(index_dir)


def alqac_index(
    docs: Path,
    cache: Path,
    embedder: Embedder,
    publisher: Backend | None = None,
    window_method: str = DEFAULT_METHOD,
) -> Snapshot:
    """ALQAC's articles in a cached index, one folder per parser version.

    Versions of the parser keep their own index, so measuring before and after
    a structure change needs no rebuild of the other; passage vectors are
    shared through :class:`CachedEmbedder`, so a rebuild embeds only new texts.
    """
    index_dir = cache / f"alqac-index-{slug(embedder.name)}-p{slug(PARSER_VERSION)}"
    build_index([docs], index_dir, embedder, publisher=publisher, window_method=window_method)
    return open_current(index_dir)


class PlainBM25:
    """Baseline: bm25s over each document's whole text, lower-cased syllables, no bigrams.

    Questions typed without diacritics are matched against folded text (or
    they would match almost nothing). Ranks documents; each is returned as its
    first chunk, which is all a document-level evaluation reads.
    """

    def __init__(self, snapshot: Records) -> None:
        docs = snapshot.documents()
        first_chunk: dict[str, int] = {}
        for cid, doc_id in enumerate(snapshot.chunk_doc_ids()):
            first_chunk.setdefault(doc_id, cid)
        docs = [d for d in docs if d.doc_id in first_chunk]
        self.chunk_of = np.array([first_chunk[d.doc_id] for d in docs], dtype=np.int64)
        texts = ["\n".join([d.title, *(strip_markup(str(b[0])) for b in d.blocks)]) for d in docs]
        tokens = [tokenize(t) for t in texts]
        self.models: dict[bool, bm25s.BM25] = {}
        for folded in (False, True):
            model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
            model.index(
                [[fold(t) for t in toks] if folded else toks for toks in tokens],
                show_progress=False,
            )
            self.models[folded] = model

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        query = plan.text
        folded = plan.kind is not QueryKind.VI
        terms = [fold(t) for t in tokenize(query)] if folded else tokenize(query)
        model = self.models[folded]
        ids = model.get_tokens_ids(terms)
        if not ids:
            return []
        scores = np.asarray(model.get_scores_from_ids(ids), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.chunk_of[i]), float(scores[i])) for i in order if scores[i] > 0]


def _load_vectors(path: Path | None) -> dict[str, np.ndarray]:
    """key -> vector from ``path`` (.npy) and its .json list of keys; {} when absent or torn."""
    if path is None or not path.exists() or not path.with_suffix(".json").exists():
        return {}
    keys = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    matrix = np.load(path, allow_pickle=False)
    return dict(zip(keys, matrix, strict=True)) if len(keys) == len(matrix) else {}


def _save_vectors(path: Path, vectors: dict[str, np.ndarray], dim: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(vectors)
    matrix = np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, dim), np.float32)
    np.save(path, matrix.astype(np.float32), allow_pickle=False)
    path.with_suffix(".json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")


class CachedEmbedder(ForwardsSentences):
    """Wraps an embedder for evaluation: vectors come from cache files when already computed.

    Queries are keyed by their text; passages by a digest of theirs, saved
    after every call, so a rebuild of an evaluation index after a chunking
    change embeds only the chunks and sentences whose text changed. A chunk's
    one-pass vectors (late windows) are keyed by its text, its sentences and the
    pass (:data:`~index.embed_base.SENTENCE_PASS`).
    """

    def __init__(
        self, inner: Embedder, path: Path | None, passage_path: Path | None = None
    ) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.path = path
        self.passage_path = passage_path
        self.vectors = _load_vectors(path)
        self.passages = _load_vectors(passage_path)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        if self.passage_path is None:
            return self.inner.embed_passages(texts, progress=progress)
        keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.passages}
        if progress:
            progress(len(texts) - len(todo))
        if todo:
            new = self.inner.embed_passages(list(todo.values()), progress=progress)
            self.passages.update(zip(todo, new, strict=True))
            _save_vectors(self.passage_path, self.passages, self.dim)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.passages[k] for k in keys]).astype(np.float32)

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.passage_path is None:
            return sentences_of(self.inner, texts, sentences, progress)
        pass_label = SENTENCE_PASS.label()
        keys = [
            "late:" + hashlib.sha256(f"{pass_label}\n{spans}\n{t}".encode()).hexdigest()[:24]
            for t, spans in zip(texts, sentences, strict=True)
        ]
        counts = [len(s) if len(s) > 1 else 0 for s in sentences]
        todo = [i for i, k in enumerate(keys) if k not in self.passages]
        if progress:
            progress(len(texts) - len(todo))
        if todo:
            vectors, windows = sentences_of(
                self.inner, [texts[i] for i in todo], [sentences[i] for i in todo], progress
            )
            rows = iter(windows)
            for i, vector in zip(todo, vectors, strict=True):
                self.passages[keys[i]] = vector
                for j in range(counts[i]):
                    self.passages[f"{keys[i]}:{j}"] = next(rows)
            _save_vectors(self.passage_path, self.passages, self.dim)
        empty = np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.stack([self.passages[k] for k in keys]) if keys else empty
        rows_out = [
            self.passages[f"{k}:{j}"] for k, n in zip(keys, counts, strict=True) for j in range(n)
        ]
        stacked = np.stack(rows_out).astype(np.float32) if rows_out else empty
        return vectors.astype(np.float32), stacked

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
        if self.path is not None:
            _save_vectors(self.path, self.vectors, self.dim)


# The query-only wrapper of earlier versions: the same class without a passage cache.
CachedQueryEmbedder = CachedEmbedder


def query_cache_path(cache: Path, embedder: Embedder, set_name: str) -> Path:
    return cache / f"queries-{slug(set_name)}-{slug(embedder.name)}.npy"


def passage_cache_path(cache: Path, embedder: Embedder, set_name: str) -> Path:
    return cache / f"passages-{slug(set_name)}-{slug(embedder.name)}.npy"


# --- evaluation ----------------------------------------------------------------------------


def _squash(text: str) -> str:
    return " ".join(normalize(text).lower().split())


def make_retrievers(
    store: Store, embedder: Embedder, methods: Sequence[str] = METHODS
) -> dict[str, Retriever]:
    makers: dict[str, Callable[[], Retriever]] = {
        "bm25": lambda: PlainBM25(store),
        "lexical": lambda: LexicalRetriever(store),
        "dense": lambda: DenseRetriever(store, embedder),
        "dense-windows": lambda: dense_retriever(store, embedder),
        "hybrid-no-windows": lambda: HybridRetriever(store, embedder, windows=False),
        "hybrid": lambda: HybridRetriever(store, embedder),
    }
    # As the engine serves them: a document or article the question names by number, and
    # the law it names ("Theo Luật ..."), come first (search/lookup.py). The baseline stays plain.
    return {m: makers[m]() if m == "bm25" else LookupRetriever(makers[m](), store) for m in methods}


def rank_of(
    question: Question, hits: list[tuple[int, float]], store: Records, chunk_docs: list[str]
) -> int | None:
    """1-based rank of the first relevant result, or None when none is in the list."""
    relevant = question.relevant
    if question.evidence:
        want = _squash(question.evidence)
        chunks = store.chunks([cid for cid, _ in hits[:CUTOFF]])
        for rank, chunk in enumerate(chunks, 1):
            if chunk.doc_id in relevant and want in _squash(chunk.text):
                return rank
        return None
    seen: list[str] = []
    for cid, _ in hits:
        doc = chunk_docs[cid]
        if doc not in seen:
            seen.append(doc)
            if doc in relevant:
                return len(seen)
    return None


Ranks = dict[tuple[int, str], int | None]  # (question index, method) -> rank


def rank_questions(
    set_name: str,
    store: Store,
    embedder: Embedder,
    questions: Sequence[Question],
    methods: Sequence[str] = METHODS,
) -> Ranks:
    """The rank of the first relevant result of every question under every method."""
    retrievers = make_retrievers(store, embedder, methods)
    chunk_docs = store.chunk_doc_ids()
    known = set(chunk_docs)
    missing = {d for q in questions for d in q.relevant} - known
    if missing:
        raise ValueError(
            f"{set_name}: questions name documents not in the index: "
            f"{', '.join(sorted(missing)[:5])}"
        )
    accents = accent_model(store)
    ranks: Ranks = {}
    for i, q in enumerate(questions):
        plan = plan_query(q.query, accents)  # once, read by every method
        for method in methods:
            depth = CUTOFF if q.evidence else DEPTH
            hits = retrievers[method].retrieve(plan, depth)
            ranks[(i, method)] = rank_of(q, hits, store, chunk_docs)
    return ranks


def score_rows(
    set_name: str,
    questions: Sequence[Question],
    ranks: Ranks,
    methods: Sequence[str] = METHODS,
    keep: Callable[[Question], bool] | None = None,
    backend: str = "faiss",
) -> list[Row]:
    """Rows per kind and method (and over all kinds) of the questions ``keep`` accepts."""
    table: dict[tuple[str, str], Scores] = {}
    for i, q in enumerate(questions):
        if keep is not None and not keep(q):
            continue
        for method in methods:
            rank = ranks[(i, method)]
            table.setdefault((q.kind, method), Scores()).add(rank)
            table.setdefault(("all", method), Scores()).add(rank)
    order = [*KINDS, "all"]
    return [
        Row(set_name, kind, method, table[(kind, method)].n, table[(kind, method)].row(), backend)
        for kind in order
        for method in methods
        if (kind, method) in table
    ]


def evaluate(
    set_name: str,
    store: Store,
    embedder: Embedder,
    questions: Sequence[Question],
    methods: Sequence[str] = METHODS,
    backend: str = "faiss",
) -> list[Row]:
    ranks = rank_questions(set_name, store, embedder, questions, methods)
    return score_rows(set_name, questions, ranks, methods, backend=backend)


def alqac_rows(
    store: Store,
    embedder: Embedder,
    questions: Sequence[Question],
    methods: Sequence[str] = ALQAC_METHODS,
    backend: str = "faiss",
) -> list[Row]:
    """ALQAC rows for the tuning half, the check half and all questions (no "all" kind:
    the two kinds are the same questions)."""
    ranks = rank_questions("alqac", store, embedder, questions, methods)
    rows: list[Row] = []
    for name, keep in (
        ("alqac:tune", lambda q: half(q.qid) == "tune"),
        ("alqac:check", lambda q: half(q.qid) == "check"),
        ("alqac", None),
    ):
        rows += [
            r for r in score_rows(name, questions, ranks, methods, keep, backend) if r.kind != "all"
        ]
    return rows


def kind_accuracy(questions: Sequence[Question]) -> dict[str, float]:
    """Share of questions whose detected kind is the kind they were typed as."""
    out = {}
    for kind in KINDS:
        qs = [q for q in questions if q.kind == kind]
        if qs:
            out[kind] = sum(detect_kind(q.query).value == kind for q in qs) / len(qs)
    return out


def format_rows(rows: Sequence[Row], markdown: bool = False, hit_label: str = "R") -> str:
    """The table of ``rows``; ``hit_label="hit"`` where a hit is any of several relevant
    documents (R@k is then hit@k, not recall)."""
    labels = {
        "vi": "Vietnamese",
        "vi_plain": "Vietnamese without diacritics",
        "en": "English",
        "all": "all",
    }
    backends = len({r.backend for r in rows}) > 1
    head = ["set", "queries", "method", *(["backend"] if backends else []), "n"]
    head += ["MRR@10", *(f"{hit_label}@{c}" for c in (1, 5, 10))]
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


def prewarm(embedder: CachedEmbedder, snapshot: Snapshot, questions: Sequence[Question]) -> None:
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


@dataclass
class _Job:
    name: str
    snapshot: Snapshot
    questions: list[Question]
    query_cache: Path | None
    passages: CachedEmbedder | None = None
    milvus: Backend | None = None  # also measured on this Milvus backend (--backend milvus)


def _alqac_job(
    args: argparse.Namespace,
    inner: Embedder,
    cache: Path,
    milvus: Backend | None = None,
    window_method: str = DEFAULT_METHOD,
) -> _Job:
    docs, questions = alqac_set(Path(args.alqac or ALQAC_DEFAULT))
    embedder = CachedEmbedder(
        inner, query_cache_path(cache, inner, "alqac"), passage_cache_path(cache, inner, "alqac")
    )
    n_docs = sum(1 for _ in docs.glob("*.txt"))
    print(f"alqac: indexing {n_docs} articles from {docs} (cached in {cache})", file=sys.stderr)
    snap = alqac_index(docs, cache, embedder, milvus, window_method)
    return _Job("alqac", snap, _first(questions, args.limit), None, embedder, milvus)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`policy-search eval`: prints the table; exit 1 when a set cannot be run."""
    if getattr(args, "headers", False):
        return run_header_eval(Path(args.admindocs or ADMINDOCS_DEFAULT), markdown=args.markdown)
    inner = make_embedder(settings.embedder_spec)
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "policy-search-eval"
    # --backend milvus: every method on the local store and on Milvus, side by side.
    with_milvus = getattr(args, "backend", "faiss") == "milvus"

    def milvus(name: str) -> Backend | None:
        uri = str(cache / f"milvus-{slug(name)}-{slug(inner.name)}.db")
        return MilvusBackend(uri) if with_milvus else None

    jobs: list[_Job] = []
    status = 0
    if args.questions:
        path = Path(args.questions)
        if not path.is_file():
            print(f"error: question file not found: {path}", file=sys.stderr)
            return 1
        snap = open_current(settings.index_dir)
        snap.check_embedder(inner.name)
        published = MilvusBackend(milvus_uri(settings)) if with_milvus else None
        questions = _first(load_questions(path), args.limit)
        jobs.append(_Job(path.stem, snap, questions, None, milvus=published))
    else:
        sets = list(args.sets or ([] if getattr(args, "alqac", None) else ["xquad", "corpus"]))
        if getattr(args, "alqac", None) and "alqac" not in sets:
            sets.append("alqac")
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
                    _Job(
                        "xquad",
                        xquad_index(docs, cache, inner, backend, settings.window_method),
                        _first(questions, args.limit),
                        query_cache_path(cache, inner, "xquad"),
                        milvus=backend,
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
                    _Job(
                        "corpus",
                        corpus_index(corpus, cache, inner, backend, settings.window_method),
                        _first(load_questions(CORPUS_QUESTIONS), args.limit),
                        query_cache_path(cache, inner, "corpus"),
                        milvus=backend,
                    )
                )
        if "alqac" in sets:
            try:
                jobs.append(_alqac_job(args, inner, cache, milvus("alqac"), settings.window_method))
            except FileNotFoundError as exc:
                print(f"skipping alqac: {exc}", file=sys.stderr)
                status = 1
    rows: list[Row] = []
    legal_rows: list[Row] = []
    for job in jobs:
        embedder = job.passages or CachedEmbedder(inner, job.query_cache)
        print(f"{job.name}: embedding {len(job.questions)} queries (cached)", file=sys.stderr)
        prewarm(embedder, job.snapshot, job.questions)
        backends: list[Backend] = [LocalBackend()]
        if job.milvus is not None:
            backends.append(job.milvus)
        for backend in backends:
            started = time.perf_counter()
            store = backend.open(job.snapshot)
            if job.name == "alqac":
                methods = tuple(args.methods or ALQAC_METHODS)
                legal_rows += alqac_rows(store, embedder, job.questions, methods, backend.name)
            else:
                methods = tuple(args.methods or METHODS)
                rows += evaluate(job.name, store, embedder, job.questions, methods, backend.name)
            seconds = time.perf_counter() - started
            print(
                f"{job.name}: {backend.name}: {len(methods)} methods in {seconds:.0f} s",
                file=sys.stderr,
            )
        accuracy = ", ".join(f"{k} {v:.3f}" for k, v in kind_accuracy(job.questions).items())
        print(f"{job.name}: query kind detected correctly: {accuracy}", file=sys.stderr)
    if rows:
        print(format_rows(rows, markdown=args.markdown))
    if legal_rows:
        if rows:
            print()
        print(format_rows(legal_rows, markdown=args.markdown, hit_label="hit"))
    for base, measured, gap in backend_gaps(rows + legal_rows):
        if abs(gap) > BACKEND_GAP:
            status = 1
            print(
                f"{base.set_name} {base.kind} {base.method}: MRR@10 {measured.backend} "
                f"{measured.metrics['mrr@10']:.3f} vs faiss {base.metrics['mrr@10']:.3f} "
                f"(more than {BACKEND_GAP} apart)",
                file=sys.stderr,
            )
    return status
