"""ALQAC legal article retrieval, as the ingest benchmarks measure it (MRR@10 per kind).

ALQAC (``../shared/eval/alqac``): one file per article of 23 Vietnamese laws in
``docs/`` and 1,073 development questions in ``dev_questions.jsonl``
(``{"id", "query", "relevant": [file stems]}``). Each question is asked as
written and without diacritics; a hit is any relevant article, ranked as
documents (an article's chunks count once, at its best chunk's rank).

Used by ``bench/bench_ingest.py`` and ``bench/window_variants.py`` on an index
of all the articles or of every N-th one (``--every``): with a subset, only
questions whose relevant articles are all in it are asked.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluation.retrieval import CUTOFF, DEPTH, Scores, _plain
from index.store import Snapshot
from ingest.pipeline import make_doc_id
from search.lexical import accent_model
from search.query import plan_query
from search.retrieve import Retriever

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO.parent / "shared" / "eval" / "alqac"


@dataclass(frozen=True)
class Asked:
    qid: str
    query: str
    kind: str  # vi | vi_plain | en
    relevant: frozenset[str]  # doc ids, any of which answers it


def article_files(root: Path, every: int = 1) -> list[Path]:
    """Every ``every``-th article file of ALQAC under ``root`` (sorted by name)."""
    docs = root / "docs"
    if not docs.is_dir():
        raise FileNotFoundError(f"ALQAC not found: no folder {docs} (pass --alqac PATH)")
    return sorted(docs.glob("*.txt"))[::every]


def subset_folder(root: Path, every: int, into: Path) -> Path:
    """A folder holding every ``every``-th article (copied: ingest does not follow links out).

    Kept outside the repository; refreshed when the set of names differs.
    """
    files = article_files(root, every)
    folder = into / f"alqac-every-{every}"
    if folder.is_dir() and sorted(p.name for p in folder.iterdir()) == [f.name for f in files]:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in files:
        shutil.copyfile(f, folder / f.name)
    return folder


def questions(root: Path, doc_ids: set[str] | None = None) -> list[Asked]:
    """ALQAC's development questions, as written and without diacritics.

    ``doc_ids``: the articles indexed; questions about others are left out.
    """
    path = root / "dev_questions.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"ALQAC questions not found: {path} (pass --alqac PATH)")
    out: list[Asked] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        # Article ids as ingest makes them from the file names.
        relevant = frozenset(make_doc_id(Path(f"{r}.txt"), Path()) for r in item["relevant"])
        if doc_ids is not None and not relevant <= doc_ids:
            continue
        out.append(Asked(str(item["id"]), item["query"], "vi", relevant))
        out.append(Asked(str(item["id"]), _plain(item["query"]), "vi_plain", relevant))
    return out


def mrr(
    snapshot: Snapshot,
    retrievers: Mapping[str, Retriever],
    asked: Sequence[Asked],
) -> dict[tuple[str, str], float]:
    """MRR@10 per (kind, method), documents ranked by their best chunk."""
    chunk_docs = snapshot.chunk_doc_ids()
    accents = accent_model(snapshot)
    table: dict[tuple[str, str], Scores] = {}
    for q in asked:
        plan = plan_query(q.query, accents)
        for method, retriever in retrievers.items():
            seen: list[str] = []
            rank = None
            for cid, _ in retriever.retrieve(plan, DEPTH):
                doc = chunk_docs[cid]
                if doc not in seen:
                    seen.append(doc)
                    if doc in q.relevant:
                        rank = len(seen)
                        break
                if len(seen) >= CUTOFF:
                    break
            table.setdefault((q.kind, method), Scores()).add(rank)
    return {key: scores.row()["mrr@10"] for key, scores in table.items()}
