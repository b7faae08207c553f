"""Ingest throughput from raw files to a searchable index, stage by stage.

    python -m bench.bench_ingest                      # corpus/ + 10k and 100k synthetic chunks
    python -m bench.bench_ingest --sizes 10000

Stages, each timed on its own with the functions ``build_index`` uses:
extraction (``parse_file``: read, extract, clean, metadata), chunking
(``default_chunker``), embedding (``embed_passages``) and indexing
(``write_version``: SQLite, vectors, the dense index chosen by size, with
its recall calibration).

corpus/: everything real. Synthetic sizes: real .txt files written from
real Vietnamese sentences (corpus + XQuAD-vi) with plan-like headings, really
extracted and chunked; embedding is measured on a sample of the chunks with
the real embedder and extrapolated (embedding 100k chunks takes hours on two
cores), and the index is built from synthetic vectors shaped like real ones.
The output marks both. Baseline for the ratio column: corpus/, same run.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from bench.common import (
    BENCH_DIR,
    embedder,
    print_table,
    real_passage_vectors,
    vietnamese_sentences,
)
from bench.synthetic import clustered_vectors, vietnamese_passages
from index.ann import AnnConfig
from index.build import default_chunker
from index.store import NewVersion, StoredChunk, StoredDocument, write_version
from ingest.pipeline import discover, parse_file
from search.settings import Settings

REPO = Path(__file__).resolve().parent.parent
EMBED_SAMPLE = 96
HEADINGS = ["I. MỤC TIÊU", "II. NHIỆM VỤ", "III. GIẢI PHÁP", "IV. TỔ CHỨC THỰC HIỆN"]


def write_synthetic_docs(folder: Path, n_docs: int, sentences: list[str]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paragraphs = vietnamese_passages(sentences, n_docs * 12, seed=n_docs)
    for d in range(n_docs):
        lines = [f"KẾ HOẠCH\nThực hiện nhiệm vụ phát triển kinh tế - xã hội số {d}/KH-UBND", ""]
        for heading in HEADINGS:
            lines += [heading, *(next(paragraphs) for _ in range(3)), ""]
        (folder / f"ke-hoach-{d:06d}.txt").write_text("\n".join(lines), encoding="utf-8")


def run(folder: Path, label: str, emb, ann: AnnConfig, real_embed: bool) -> list:
    chunker = default_chunker(emb)
    t0 = time.perf_counter()
    parsed = [parse_file(path, root) for path, root in discover([folder])]
    docs = [p for p in parsed if not hasattr(p, "reason")]
    t1 = time.perf_counter()
    chunked = [(doc, chunker.chunk(doc)) for doc in docs]  # type: ignore[arg-type]
    t2 = time.perf_counter()
    texts = [c.embed_text for _, cs in chunked for c in cs]
    n = len(texts)
    if real_embed:
        vectors = emb.embed_passages(texts)
        embed_s = time.perf_counter() - t2
        note = "all real"
    else:
        sample = texts[:: max(1, n // EMBED_SAMPLE)][:EMBED_SAMPLE]
        emb.embed_passages(sample)
        embed_s = (time.perf_counter() - t2) * n / len(sample)
        vectors = np.concatenate(list(clustered_vectors(n, real_passage_vectors(emb), seed=n)))
        note = f"embed: {len(sample)}-chunk sample, extrapolated; vectors synthetic"
    t3 = time.perf_counter()
    documents, chunks = [], []
    for doc, cs in chunked:
        m = doc.meta  # type: ignore[attr-defined]
        documents.append(
            StoredDocument(
                m.doc_id,
                m.title,
                m.source,
                m.path,
                str(folder),
                m.date,
                m.doc_type,
                m.provinces,
                doc.content_hash,
                [],
                len(cs),
            )  # type: ignore[attr-defined]
        )
        chunks += [
            StoredChunk(-1, c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text)
            for c in cs
        ]
    index_dir = BENCH_DIR / f"ingest-index-{label}"
    shutil.rmtree(index_dir, ignore_errors=True)
    manifest = {"embedder": emb.name, "dim": emb.dim}
    path = write_version(index_dir, NewVersion(manifest, documents, chunks, vectors, ann=ann))
    index_s = time.perf_counter() - t3
    extract_s, chunk_s = t1 - t0, t2 - t1
    total = extract_s + chunk_s + embed_s + index_s
    index_type = (path / "manifest.json").read_text().split('"index_type": "')[1].split('"')[0]
    shutil.rmtree(index_dir, ignore_errors=True)
    return [
        label,
        len(docs),
        n,
        round(extract_s, 1),
        round(chunk_s, 1),
        round(embed_s, 1),
        round(index_s, 1),
        index_type,
        round(total, 1),
        round(len(docs) / total, 2),
        round(n / total, 1),
        note,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    args = parser.parse_args()
    emb = embedder()
    ann = AnnConfig.from_settings(Settings())
    rows = [run(REPO / "corpus", "corpus", emb, ann, real_embed=True)]
    sentences = vietnamese_sentences()
    chunker = default_chunker(emb)
    pilot = BENCH_DIR / "ingest-pilot"
    write_synthetic_docs(pilot, 10, sentences)
    per_doc = np.mean(
        [len(chunker.chunk(parse_file(p, r))) for p, r in discover([pilot])]  # type: ignore[arg-type]
    )
    for size in args.sizes:
        folder = BENCH_DIR / f"ingest-docs-{size}"
        write_synthetic_docs(folder, max(1, round(size / per_doc)), sentences)
        rows.append(run(folder, f"synthetic-{size}", emb, ann, real_embed=False))
        print(f"  done {size}", flush=True)
    base = rows[0][10]
    for row in rows:
        row.insert(11, round(row[10] / base, 2))
    print_table(
        "Ingest, raw files -> searchable index (seconds per stage; baseline: corpus/ this run)",
        [
            "data",
            "docs",
            "chunks",
            "extract s",
            "chunk s",
            "embed s",
            "index s",
            "index",
            "total s",
            "docs/s",
            "chunks/s",
            "chunks/s vs base",
            "note",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
