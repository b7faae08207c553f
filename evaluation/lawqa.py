"""Retrieval on lawqa: thousands of long legal Q&A articles, questions written by their editors.

``policy-search eval --lawqa [PATH]`` reads the collection the way its
``SOURCE.md`` describes it: ``docs/`` (one Markdown article per file) and
``dev_questions.jsonl`` (``id``, ``question``, ``doc``, ``answer``); a
``*_questions.jsonl`` file beside it (the held-out third, where it is given)
is scored as its own set. Each question is asked as written and without
diacritics. Scoring follows ``SOURCE.md``:

* **document level**: the answering article among the first k distinct
  documents (hit@1, hit@10, MRR@10);
* **passage level** (``passage@5``): one of the first five passages shares a
  run of 12 words with the answer's section (lower-cased syllables). Several
  articles may quote the same provision, so a passage of another article counts.

Plain BM25 over whole articles (:class:`evaluation.retrieval.PlainBM25`) runs on the same
index in the same run; it ranks documents, so it has no passage column.

The whole collection takes most of an hour to index on two cores:
``--limit-docs N`` indexes N articles, the answering articles of the first
questions (half of N at most) and, for the rest, articles that answer no
question, in name order (distractors). The index and its vectors are cached
like the other built-in sets (:mod:`evaluation.retrieval`), one index per N.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.retrieval import (
    CUTOFF,
    DEPTH,
    CachedEmbedder,
    _plain,
    make_retrievers,
    passage_cache_path,
    prewarm,
    query_cache_path,
    slug,
)
from index.build import build_index
from index.embed import Embedder, make_embedder
from index.store import Snapshot, open_current
from index.stores import LocalBackend, Store
from ingest.pipeline import PARSER_VERSION, make_doc_id
from ingest.text import tokenize
from policy_search.settings import Settings
from search.lexical import accent_model
from search.query import plan_query

LAWQA_DEFAULT = "../shared/eval/lawqa"
METHODS = ("bm25", "hybrid")
# A passage answers when it shares this many words in a row with the answer's section.
RUN = 12
PASSAGES = 5


@dataclass(frozen=True)
class LawQuestion:
    qid: str
    query: str
    kind: str  # vi or vi_plain: as written, or typed without diacritics
    doc_id: str
    split: str  # dev, or the stem of another questions file
    runs: frozenset[tuple[str, ...]]  # the answer's 12-word runs


def word_runs(text: str, n: int = RUN) -> frozenset[tuple[str, ...]]:
    """Every run of ``n`` lower-cased words of ``text``."""
    words = [w.lower() for w in tokenize(text)]
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def shares_run(passage: str, runs: frozenset[tuple[str, ...]], n: int = RUN) -> bool:
    words = [w.lower() for w in tokenize(passage)]
    return any(tuple(words[i : i + n]) in runs for i in range(len(words) - n + 1))


def question_files(path: Path) -> list[tuple[str, Path]]:
    """(split name, file): ``dev_questions.jsonl`` first, then any other ``*_questions.jsonl``."""
    files = sorted(
        path.glob("*_questions.jsonl"), key=lambda p: (p.name != "dev_questions.jsonl", p)
    )
    return [(f.name.removesuffix("_questions.jsonl"), f) for f in files]


def lawqa_set(path: Path) -> tuple[Path, list[LawQuestion]]:
    """(folder of articles, questions in both kinds) of the collection under ``path``."""
    docs = path / "docs"
    if not docs.is_dir() or not (path / "dev_questions.jsonl").is_file():
        raise FileNotFoundError(
            f"lawqa not found: expected {docs}/ and {path / 'dev_questions.jsonl'} "
            "(pass --lawqa PATH)"
        )
    questions: list[LawQuestion] = []
    for split, file in question_files(path):
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            doc_id = make_doc_id(Path(item["doc"]), Path("."))
            runs = word_runs(item["answer"])
            qid, query = str(item["id"]), item["question"]
            questions.append(LawQuestion(qid, query, "vi", doc_id, split, runs))
            questions.append(LawQuestion(qid, _plain(query), "vi_plain", doc_id, split, runs))
    return docs, questions


def choose_documents(
    docs: Path, questions: Sequence[LawQuestion], limit: int | None
) -> tuple[list[Path], list[LawQuestion]]:
    """The article files to index and the questions they answer (all, without ``limit``)."""
    files = sorted(docs.glob("*.md"))
    if limit is None or limit >= len(files):
        by_id = {make_doc_id(f, docs): f for f in files}
        return files, [q for q in questions if q.doc_id in by_id]
    by_id = {make_doc_id(f, docs): f for f in files}
    answering = [d for d in dict.fromkeys(q.doc_id for q in questions) if d in by_id]
    chosen = answering[: (limit + 1) // 2]
    asked = set(answering)
    distractors = [d for d in by_id if d not in asked][: limit - len(chosen)]
    keep = set(chosen)
    return [by_id[d] for d in [*chosen, *distractors]], [q for q in questions if q.doc_id in keep]


def lawqa_index(
    files: Sequence[Path], cache: Path, embedder: Embedder, window_method: str
) -> Snapshot:
    """``files`` copied into a cache folder and ingested there (incremental: reused when unchanged)."""
    tag = f"{len(files)}"
    folder = cache / f"lawqa-docs-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f.name for f in files}
    for old in folder.iterdir():
        if old.name not in wanted:
            old.unlink()
    for f in files:
        dest = folder / f.name
        if not dest.exists() or dest.stat().st_size != f.stat().st_size:
            shutil.copyfile(f, dest)
    index_dir = cache / f"lawqa-index-{tag}-{slug(embedder.name)}-p{slug(PARSER_VERSION)}"
    build_index([folder], index_dir, embedder, window_method=window_method)
    return open_current(index_dir)


@dataclass
class LawScores:
    n: int = 0
    rr: float = 0.0
    hit1: int = 0
    hit10: int = 0
    passage: int = 0

    def add(self, rank: int | None, passage: bool) -> None:
        self.n += 1
        if rank is not None and rank <= CUTOFF:
            self.rr += 1.0 / rank
            self.hit1 += rank == 1
            self.hit10 += 1
        self.passage += passage


@dataclass
class LawRow:
    set_name: str
    kind: str
    method: str
    scores: LawScores = field(default_factory=LawScores)


def _doc_rank(
    hits: Sequence[tuple[int, float]], chunk_docs: Sequence[str], doc_id: str
) -> int | None:
    seen: list[str] = []
    for cid, _ in hits:
        doc = chunk_docs[cid]
        if doc not in seen:
            seen.append(doc)
            if doc == doc_id:
                return len(seen)
    return None


def score_lawqa(
    store: Store, embedder: Embedder, questions: Sequence[LawQuestion], methods: Sequence[str]
) -> list[LawRow]:
    """Rows per split, kind and method."""
    retrievers = make_retrievers(store, embedder, methods)
    chunk_docs = store.chunk_doc_ids()
    accents = accent_model(store)
    table: dict[tuple[str, str, str], LawRow] = {}
    for q in questions:
        plan = plan_query(q.query, accents)
        for method in methods:
            hits = retrievers[method].retrieve(plan, DEPTH)
            rank = _doc_rank(hits, chunk_docs, q.doc_id)
            passage = method != "bm25" and any(
                shares_run(c.text, q.runs)
                for c in store.chunks([cid for cid, _ in hits[:PASSAGES]])
            )
            key = (f"lawqa:{q.split}", q.kind, method)
            table.setdefault(key, LawRow(*key)).scores.add(rank, passage)
    return list(table.values())


def format_lawqa(rows: Sequence[LawRow], markdown: bool = False) -> str:
    labels = {"vi": "Vietnamese", "vi_plain": "Vietnamese without diacritics"}
    head = ["set", "queries", "method", "n", "hit@1", "MRR@10", "hit@10", "passage@5"]
    body = []
    for r in rows:
        s, n = r.scores, max(r.scores.n, 1)
        passage = "-" if r.method == "bm25" else f"{s.passage / n:.3f}"
        body.append(
            [
                r.set_name,
                labels.get(r.kind, r.kind),
                r.method,
                str(s.n),
                f"{s.hit1 / n:.3f}",
                f"{s.rr / n:.3f}",
                f"{s.hit10 / n:.3f}",
                passage,
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [head, *body])


def run_lawqa_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`policy-search eval --lawqa`: prints the table; exit 1 when the collection is absent."""
    path = Path(args.lawqa or LAWQA_DEFAULT)
    try:
        docs, questions = lawqa_set(path)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    limit = getattr(args, "limit_docs", None)
    if limit is not None and limit < 1:
        print(f"error: --limit-docs must be at least 1; got {limit}", file=sys.stderr)
        return 1
    files, questions = choose_documents(docs, questions, limit)
    if args.limit is not None:
        keep = set(list(dict.fromkeys(q.qid for q in questions))[: args.limit])
        questions = [q for q in questions if q.qid in keep]
    inner = make_embedder(settings.embedder_spec)
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "policy-search-eval"
    embedder = CachedEmbedder(
        inner, query_cache_path(cache, inner, "lawqa"), passage_cache_path(cache, inner, "lawqa")
    )
    print(f"lawqa: indexing {len(files)} articles from {docs} (cached in {cache})", file=sys.stderr)
    started = time.perf_counter()
    snap = lawqa_index(files, cache, embedder, settings.window_method)
    print(
        f"lawqa: index of {len(snap)} passages ready in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    print(f"lawqa: embedding {len(questions)} queries (cached)", file=sys.stderr)
    prewarm(embedder, snap, questions)  # type: ignore[arg-type]
    methods = tuple(
        m for m in (args.methods or METHODS) if m in ("bm25", "lexical", "dense", "hybrid")
    )
    started = time.perf_counter()
    rows = score_lawqa(LocalBackend().open(snap), embedder, questions, methods or METHODS)
    print(
        f"lawqa: {len(methods)} methods in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    print(format_lawqa(rows, markdown=args.markdown))
    return 0
