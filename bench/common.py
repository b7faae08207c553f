"""What the benchmarks share: real embeddings (cached), synthetic indexes, table printing.

Everything expensive is cached under ``POLICY_SEARCH_BENCH_DIR`` (default
``/tmp/policy-search-bench``): real passage and query embeddings of the
corpus and XQuAD-vi, and the synthetic indexes of each size, so a second run
of a benchmark only measures.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.synthetic import (
    clustered_vectors,
    split_sentences,
    vietnamese_passages,
    window_counts,
    window_vectors,
)
from index.accents import build_accent_files
from index.ann import AnnConfig
from index.embed import Embedder, make_embedder
from index.lexical import build_lexical_files
from index.store import NewVersion, StoredChunk, StoredDocument, current_path, write_version
from index.windows import window_files

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("POLICY_SEARCH_BENCH_DIR", "/tmp/policy-search-bench"))
XQUAD = Path(os.environ.get("POLICY_SEARCH_XQUAD_DIR", REPO.parent / "shared" / "eval" / "xquad"))
if not XQUAD.exists():
    XQUAD = Path("/work/shared/eval/xquad")
CHUNKS_PER_DOC = 25
MAX_REAL_PASSAGES = 2000
HOLDOUT = 500


def embedder() -> Embedder:
    """The configured embedder (``POLICY_SEARCH_EMBEDDER``, default as the server's)."""
    from policy_search.settings import Settings

    return make_embedder(Settings().embedder_spec)


def _cache_key(emb: Embedder) -> str:
    return "".join(c if c.isalnum() else "-" for c in emb.name)


def xquad_vi() -> tuple[list[str], list[str]]:
    """(contexts, questions) of XQuAD-vi."""
    data = json.loads((XQUAD / "xquad.vi.json").read_text(encoding="utf-8"))
    contexts, questions = [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            contexts.append(para["context"])
            questions.extend(qa["question"] for qa in para["qas"])
    return contexts, questions


def corpus_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").glob("*.txt"))]


def vietnamese_sentences() -> list[str]:
    contexts, _ = xquad_vi()
    return [s for text in [*corpus_texts(), *contexts] for s in split_sentences(text)]


def _cached(name: str, make: Any) -> np.ndarray:
    path = BENCH_DIR / f"{name}.npy"
    if path.exists():
        return np.load(path)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    arr = np.asarray(make(), dtype=np.float32)
    np.save(path, arr)
    print(f"(embedded and cached {name}: {arr.shape[0]} vectors in {time.perf_counter() - t:.0f}s)")
    return arr


def real_passage_vectors(emb: Embedder) -> np.ndarray:
    """Real passage embeddings: XQuAD-vi paragraphs and their sentences, corpus sentences."""
    contexts, _ = xquad_vi()
    sentences = vietnamese_sentences()
    # Capped: embedding them costs minutes on two cores, once.
    texts = list(dict.fromkeys([*contexts, *sentences]))[:MAX_REAL_PASSAGES]
    return _cached(f"passages-{_cache_key(emb)}", lambda: emb.embed_passages(texts))


def real_query_vectors(emb: Embedder) -> np.ndarray:
    """Real query embeddings: the XQuAD-vi questions."""
    _, questions = xquad_vi()
    return _cached(f"queries-{_cache_key(emb)}", lambda: emb.embed_queries(questions))


def synthetic_index(
    n: int, emb: Embedder, ann: AnnConfig, tag: str = ""
) -> tuple[Path, dict[str, Any]]:
    """An index of ``n`` synthetic Vietnamese chunks with synthetic vectors shaped like real ones.

    Chunk text: real Vietnamese sentences recombined. Vectors: drawn around the
    real passage embeddings (:func:`bench.synthetic.clustered_vectors`), and
    sentence windows around their chunks (``windows.*``, 2.7 a chunk), with the
    embedder's name in the manifest so the real server accepts it and embeds
    real queries. Reused when already built.
    """
    chosen = ann.kind_for(n)
    shape = (
        "flat" if chosen == "flat-ip" else f"{chosen}-r{ann.target_recall}-h{ann.effort_headroom}"
    )
    index_dir = BENCH_DIR / f"index-{n}-{shape}-{_cache_key(emb)}-lex-win{tag}"
    if current_path(index_dir) is not None:
        manifest = json.loads((current_path(index_dir) / "manifest.json").read_text())  # type: ignore[operator]
        if manifest["counts"]["chunks"] == n:
            return index_dir, manifest
    anchors = real_passage_vectors(emb)
    sentences = vietnamese_sentences()
    vectors = np.empty((n + HOLDOUT, emb.dim), dtype=np.float32)
    done = 0
    for block in clustered_vectors(n + HOLDOUT, anchors, seed=n):
        vectors[done : done + len(block)] = block
        done += len(block)
    # Never indexed: queries from the same distribution for recall measurements.
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    np.save(BENCH_DIR / f"holdout-{n}.npy", vectors[n:])
    vectors = vectors[:n]
    short = (1, 3) if n > 200_000 else (3, 8)  # keeps a million texts in a few hundred MB
    texts = list(vietnamese_passages(sentences, n, seed=n, per_passage=short))
    chunks, documents = [], []
    for i, text in enumerate(texts):
        doc_id = f"syn-{i // CHUNKS_PER_DOC:06d}"
        chunks.append(StoredChunk(-1, doc_id, i % CHUNKS_PER_DOC, "Mục 1", None, text, text))
    for d in range((n + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC):
        size = min(CHUNKS_PER_DOC, n - d * CHUNKS_PER_DOC)
        documents.append(
            StoredDocument(
                f"syn-{d:06d}",
                f"Kế hoạch tổng hợp số {d}",
                "synthetic",
                f"/syn/{d}.txt",
                "/syn",
                "",
                "plan",
                [],
                f"h{d}",
                [],
                size,
            )
        )
    manifest = {"embedder": emb.name, "dim": emb.dim, "synthetic": True}
    t = time.perf_counter()
    # The lexical and accent files a real ingest writes: without them the server would
    # build both on its first query.
    extra = {**build_lexical_files(texts), **build_accent_files(texts)}
    # Sentence windows as a real ingest builds them (counts like the corpus', vectors synthetic).
    counts = window_counts(n, seed=n)
    owners = np.repeat(np.arange(n, dtype=np.int32), counts)
    windows = np.empty((len(owners), emb.dim), dtype=np.float32)
    done = 0
    for block in window_vectors(vectors, counts, anchors, seed=n):
        windows[done : done + len(block)] = block
        done += len(block)
    extra.update(window_files(owners, windows, emb.name, emb.dim, ann))
    del windows
    new = NewVersion(manifest, documents, chunks, vectors, extra_files=extra, ann=ann)
    path = write_version(index_dir, new)
    written = json.loads((path / "manifest.json").read_text())
    written["write_seconds"] = round(time.perf_counter() - t, 1)
    return index_dir, written


STAND_IN_EMBEDDER = "bench-hash"  # bench.bench_ingest_lawqa.HashEmbedder's name


def lawqa_questions(root: Path) -> list[str]:
    """The lawqa collection's development questions (``dev_questions.jsonl``), in file order."""
    path = root / "dev_questions.jsonl"
    if not path.exists():
        raise SystemExit(f"lawqa questions not found: no file {path} (pass --lawqa PATH)")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def existing_index(index_dir: Path, emb: Embedder) -> tuple[dict[str, Any], dict[str, str], str]:
    """An index built elsewhere, ready for the benchmark's server: (manifest, server env, note).

    An index of ``bench.bench_ingest --lawqa --embedder hash`` holds stand-in vectors of the
    model's dimension (the model would take an hour to embed the collection here): its
    manifests are relabelled in place to the configured embedder, so the server embeds real
    queries and searches the stand-in vectors (the time and memory of the search, not its
    ranking; ``vectors_from`` keeps what they are). Any other embedder is refused.
    """
    version = current_path(index_dir)
    if version is None:
        raise SystemExit(f"no index at {index_dir} (build one with policy-search ingest)")
    manifest = json.loads((version / "manifest.json").read_text())
    vectors_from = manifest.get("vectors_from", manifest["embedder"])
    if manifest["embedder"] not in (emb.name, STAND_IN_EMBEDDER):
        raise SystemExit(
            f"{index_dir} was built with {manifest['embedder']!r}, not the configured "
            f"{emb.name!r}: set POLICY_SEARCH_EMBEDDER to match"
        )
    if int(manifest["dim"]) != emb.dim:
        raise SystemExit(f"{index_dir} holds {manifest['dim']}-number vectors, not {emb.dim}")
    env = {}
    for name in ("manifest.json", "windows.json"):
        file = version / name
        if not file.exists():
            continue
        meta = json.loads(file.read_text())
        if name == "windows.json":
            # The server refuses windows made another way than the one it is set to.
            env["POLICY_SEARCH_WINDOW_METHOD"] = meta.get("method", "separate")
        if meta["embedder"] != emb.name:
            meta.update(embedder=emb.name, vectors_from=vectors_from)
            file.write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    manifest = json.loads((version / "manifest.json").read_text())
    note = (
        f"index {index_dir}: {manifest['counts']['documents']} documents, "
        f"{manifest['counts']['chunks']} chunks"
        + (
            f", vectors from {vectors_from} (stand-ins of the model's dimension: real text, "
            "lexical index and queries; the dense ranking is not the model's)"
            if vectors_from != emb.name
            else ""
        )
    )
    return manifest, env, note


def holdout_vectors(n: int) -> np.ndarray:
    return np.load(BENCH_DIR / f"holdout-{n}.npy")


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in header]] + [
        [f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for j, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if j == 0:
            print("  ".join("-" * w for w in widths))
