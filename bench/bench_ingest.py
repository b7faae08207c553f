"""Ingest speed and quality: the window methods side by side on the ALQAC articles.

    python -m bench.bench_ingest                         # all 3,238 ALQAC articles
    python -m bench.bench_ingest --every 5               # every fifth article (648)
    python -m bench.bench_ingest --repeat 2              # rows interleaved, fastest kept
    python -m bench.bench_ingest --alqac PATH --xquad PATH --previous-ref REF
    python -m bench.bench_ingest --sizes 10000 100000    # synthetic scale rows instead
    python -m bench.bench_ingest --lawqa --docs 4000     # lawqa at N and 2N: peak memory

Each row is one ``build_index`` of the ALQAC articles (``--alqac``, default
``../shared/eval/alqac``; its ``docs/`` folder) into a fresh index, in a process
of its own (the model is loaded and warmed before the clock starts; its load
time is shown apart), through the extraction sandbox as ``policy-search
ingest`` runs it:

* ``before``: the code of ``--previous-ref`` (default: the commit this work
  started from), which embeds every sentence again on its own;
* ``separate``: this code with ``POLICY_SEARCH_WINDOW_METHOD=separate``;
* ``late``: this code as it is (the default): one pass per chunk;
* ``no windows``: this code without windows: the time of embedding the chunks
  once, the floor.

Seconds per stage (this code times them itself; for older code extraction and
embedding are timed from outside and the rest is "other"), vectors (chunks and
sentence windows) per second, the speed-up over ``before``, and the share of
time outside the model. Then ``policy-search eval`` numbers of each index:
ALQAC development questions (MRR@10 of the default hybrid retriever, as
written and without diacritics; questions whose articles are all indexed) and
XQuAD (``--xquad``; its 240 paragraphs ingested the same way; Vietnamese, without
diacritics, English). ``--no-eval`` skips them. The machine's load average is
printed with the table: compare ratios of one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import alqac, bench_ingest_lawqa
from bench.common import (
    BENCH_DIR,
    embedder,
    print_table,
    real_passage_vectors,
    vietnamese_sentences,
)
from bench.synthetic import clustered_vectors, vietnamese_passages
from evaluation.retrieval import CachedQueryEmbedder, xquad_set
from index.ann import AnnConfig
from index.build import default_chunker
from index.store import NewVersion, StoredChunk, StoredDocument, open_current, write_version
from index.stores import LocalBackend
from ingest.models import ParsedDocument
from ingest.pipeline import discover, parse_file
from policy_search.settings import Settings
from search.hybrid import HybridRetriever
from search.lexical import accent_model
from search.query import plan_query

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "ingest_child.py"
# The commit this work started from: sentence windows embedded apart.
PREVIOUS_REF = "e518361"
EMBED_SAMPLE = 96
HEADINGS = ["I. MỤC TIÊU", "II. NHIỆM VỤ", "III. GIẢI PHÁP", "IV. TỔ CHỨC THỰC HIỆN"]
# (row, window method for the child, run with the previous code); --methods picks rows.
METHODS = [
    ("before", "separate", True),
    ("separate", "separate", False),
    ("late", "late", False),
    ("no windows", "off", False),
]


def row_label(name: str) -> str:
    return f"{name} (default)" if name == Settings().window_method else name


def checkout(ref: str) -> Path | None:
    """A copy of the repository at ``ref`` (cached by commit), or None without git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = BENCH_DIR / f"code-{sha[:12]}"
    if not (folder / "index" / "build.py").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", sha], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def ingest(folder: Path, index_dir: Path, windows: str, code: Path | None) -> dict[str, Any]:
    """One timed ingest in a child process (``code``: an older checkout to run instead)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, str(CHILD), str(folder), str(index_dir), "--windows", windows],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(code or REPO),
    )
    if done.returncode != 0:
        raise RuntimeError(f"ingest ({windows}) failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def hybrid_mrr(index_dir: Path, asked: list[alqac.Asked], queries: CachedQueryEmbedder) -> dict:
    snap = open_current(index_dir)
    accents = accent_model(snap)
    queries.embed_queries([plan_query(q.query, accents).dense_text for q in asked])
    queries.save()
    table = alqac.mrr(snap, {"hybrid": HybridRetriever(LocalBackend().open(snap), queries)}, asked)
    return {kind: score for (kind, _), score in table.items()}


def compare(args: argparse.Namespace) -> None:
    root = Path(args.alqac)
    work = BENCH_DIR / "ingest-compare"
    work.mkdir(parents=True, exist_ok=True)
    docs = root / "docs" if args.every == 1 else alqac.subset_folder(root, args.every, work)
    if not docs.is_dir():
        raise SystemExit(f"ALQAC not found: no folder {docs} (pass --alqac PATH)")
    code = checkout(args.previous_ref) if "before" in args.methods else None
    if code is None and "before" in args.methods:
        print(f"(no git checkout of {args.previous_ref}: the 'before' row is left out)")
    xquad_docs = None
    if not args.no_eval:
        paragraphs, xquad_questions = xquad_set(Path(args.xquad))
        xquad_docs = work / "xquad-docs"
        xquad_docs.mkdir(exist_ok=True)
        for doc_id, text in paragraphs.items():
            (xquad_docs / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {}
    quality = []
    # Rows interleaved, round after round: a burst of other work on a shared machine
    # slows one run of each method, not every run of one; each keeps its fastest.
    for round_ in range(args.repeat):
        for name, windows, previous in METHODS:
            if name not in args.methods or (previous and code is None):
                continue
            label = row_label(name)
            index_dir = work / f"alqac-{windows}-{'before' if previous else 'now'}"
            result = ingest(docs, index_dir, windows, code if previous else None)
            print(
                f"  {label} ({round_ + 1}): {result['total']:.1f} s, {result['stages']}", flush=True
            )
            runs.setdefault(label, []).append(result)
            if xquad_docs is None or round_:
                continue
            xquad_dir = work / f"xquad-{windows}-{'before' if previous else 'now'}"
            ingest(xquad_docs, xquad_dir, windows, code if previous else None)
            quality.append((label, index_dir, xquad_dir))
    load_after = os.getloadavg()
    rows = [(label, min(results, key=lambda r: r["total"])) for label, results in runs.items()]
    spread = {label: [round(r["total"], 1) for r in results] for label, results in runs.items()}

    base = rows[0][1]["total"]
    floor = next((r["stages"].get("embed", 0.0) for label, r in rows if label == "no windows"), 0)
    table = []
    for label, r in rows:
        st = r["stages"]
        vectors = r["chunks"] + r["windows"]
        table.append(
            [
                label,
                r["documents"],
                r["chunks"],
                r["windows"],
                *(
                    round(st.get(s, 0.0), 1)
                    for s in ("extract", "chunk", "embed", "index", "write")
                ),
                round(st.get("other", 0.0), 1),
                round(r["total"], 1),
                round(vectors / r["total"], 1),
                f"{base / r['total']:.2f}x",
                f"{r['total'] / floor:.2f}x" if floor else "-",
                f"{1 - st.get('embed', 0.0) / r['total']:.0%}",
                round(r["load"], 1),
            ]
        )
    print_table(
        f"Ingest of {rows[0][1]['documents']} ALQAC articles ({docs}), seconds per stage "
        f"(extract and chunk run beside embed in this code); load average "
        f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end (1 min)"
        + (
            f"; the fastest of {args.repeat} interleaved runs per method (all, s: "
            + "; ".join(f"{label} {times}" for label, times in spread.items())
            + ")"
            if args.repeat > 1
            else ""
        ),
        [
            "method",
            "docs",
            "chunks",
            "windows",
            "extract",
            "chunk",
            "embed",
            "index",
            "write",
            "other",
            "total s",
            "vectors/s",
            "speed-up",
            "vs chunks once",
            "outside model",
            "model load s",
        ],
        table,
    )
    if not quality:
        return
    inner = embedder()
    cache = BENCH_DIR / "ingest-compare-queries"
    alqac_asked = None
    xquad_asked = [
        alqac.Asked(q.qid, q.query, q.kind, frozenset([q.doc_id])) for q in xquad_questions
    ]
    out = []
    for label, alqac_dir, xquad_dir in quality:
        if alqac_asked is None:
            alqac_asked = alqac.questions(root, set(open_current(alqac_dir).chunk_doc_ids()))
        a = hybrid_mrr(alqac_dir, alqac_asked, CachedQueryEmbedder(inner, cache / "alqac.npy"))
        x = hybrid_mrr(xquad_dir, xquad_asked, CachedQueryEmbedder(inner, cache / "xquad.npy"))
        out.append(
            [label, *(f"{a[k]:.4f}" for k in ("vi", "vi_plain"))]
            + [f"{x[k]:.4f}" for k in ("vi", "vi_plain", "en")]
        )
    assert alqac_asked is not None
    print_table(
        f"policy-search eval, hybrid (the default retriever) MRR@10 on each method's indexes: "
        f"ALQAC development questions ({len(alqac_asked) // 2} whose articles are indexed, "
        "each as written and without diacritics) and XQuAD (1,190 questions per kind)",
        ["method", "ALQAC vi", "ALQAC vi_plain", "XQuAD vi", "XQuAD vi_plain", "XQuAD en"],
        out,
    )


# --- synthetic scale rows (--sizes) ---------------------------------------------------------


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


def synthetic_row(folder: Path, label: str, emb: Any, ann: AnnConfig) -> list:
    """Stage by stage with the functions build_index uses; embedding sampled and extrapolated."""
    chunker = default_chunker(emb)
    t0 = time.perf_counter()
    parsed = [parse_file(path, root) for path, root in discover([folder])]
    docs = [p for p in parsed if isinstance(p, ParsedDocument)]
    t1 = time.perf_counter()
    chunked = [(doc, chunker.chunk(doc)) for doc in docs]
    t2 = time.perf_counter()
    texts = [c.embed_text for _, cs in chunked for c in cs]
    n = len(texts)
    sample = texts[:: max(1, n // EMBED_SAMPLE)][:EMBED_SAMPLE]
    emb.embed_passages(sample)
    embed_s = (time.perf_counter() - t2) * n / len(sample)
    vectors = np.concatenate(list(clustered_vectors(n, real_passage_vectors(emb), seed=n)))
    t3 = time.perf_counter()
    documents, chunks = [], []
    for doc, cs in chunked:
        m = doc.meta
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
            )
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
    index_type = json.loads((path / "manifest.json").read_text())["index_type"]
    shutil.rmtree(index_dir, ignore_errors=True)
    total = (t1 - t0) + (t2 - t1) + embed_s + index_s
    return [
        label,
        len(docs),
        n,
        round(t1 - t0, 1),
        round(t2 - t1, 1),
        round(embed_s, 1),
        round(index_s, 1),
        index_type,
        round(total, 1),
        round(n / total, 1),
    ]


SYNTHETIC_HEADER = [
    "data",
    "docs",
    "chunks",
    "extract s",
    "chunk s",
    "embed s",
    "index s",
    "index",
    "total s",
    "chunks/s",
]


def synthetic(sizes: list[int]) -> None:
    emb = embedder()
    ann = AnnConfig.from_settings(Settings())
    sentences = vietnamese_sentences()
    chunker = default_chunker(emb)
    pilot = BENCH_DIR / "ingest-pilot"
    write_synthetic_docs(pilot, 10, sentences)
    per_doc = np.mean(
        [len(chunker.chunk(parse_file(p, r))) for p, r in discover([pilot])]  # type: ignore[arg-type]
    )
    rows = []
    for size in sizes:
        folder = BENCH_DIR / f"ingest-docs-{size}"
        write_synthetic_docs(folder, max(1, round(size / per_doc)), sentences)
        rows.append(synthetic_row(folder, f"synthetic-{size}", emb, ann))
    print_table(
        "Synthetic plans, raw files -> index (chunk vectors only; embedding: a "
        f"{EMBED_SAMPLE}-chunk sample extrapolated, vectors synthetic)",
        SYNTHETIC_HEADER,
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alqac", default=str(alqac.DEFAULT), help="ALQAC folder (docs/ inside)")
    parser.add_argument("--every", type=int, default=1, help="every N-th article only")
    parser.add_argument("--xquad", default=str(REPO.parent / "shared" / "eval" / "xquad"))
    parser.add_argument("--no-eval", action="store_true", help="speed only")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per method, interleaved; each row is its method's fastest",
    )
    parser.add_argument(
        "--methods",
        nargs="*",
        choices=[name for name, _, _ in METHODS],
        default=[name for name, _, _ in METHODS],
        help="rows to run (default: all); speed-up is over the first, 'vs chunks once' over "
        "'no windows'",
    )
    parser.add_argument(
        "--previous-ref",
        default=PREVIOUS_REF,
        help="git commit of the code to compare with (default: %(default)s, the code this "
        "work started from)",
    )
    parser.add_argument("--sizes", type=int, nargs="*", help="synthetic scale rows instead")
    parser.add_argument(
        "--lawqa",
        nargs="?",
        const=str(bench_ingest_lawqa.DEFAULT),
        help="lawqa rows instead (bench/bench_ingest_lawqa.py): N and 2N documents of this "
        "folder (default %(const)s), time per stage and peak memory",
    )
    bench_ingest_lawqa.add_arguments(parser)
    args = parser.parse_args()
    if args.lawqa:
        bench_ingest_lawqa.run(args)
    elif args.sizes:
        synthetic(args.sizes)
    else:
        compare(args)


if __name__ == "__main__":
    main()
