"""The model's share of ingest on lawqa: each embedder and window choice on the same chunks.

    python -m bench.bench_embed_lawqa [PATH] [--docs 200] [--rounds 2] [--variant ...]

The first ``--docs`` articles of ``PATH/docs`` (default ``../shared/eval/lawqa``, sorted by
name) are read and chunked as ingest does (the default chunker), then embedded in ingest's
groups of :data:`index.build.EMBED_GROUP` chunks through :func:`index.windows.embed_chunks`,
once per variant and round, the variants interleaved and each keeping its fastest round
(the machine is shared: compare the ratios of one run, not seconds across runs):

* ``e5-st late``: today's default (torch bf16, sentence windows from the chunk's pass);
* ``e5-st chunks``: the chunks alone, no windows;
* ``e5-ov late`` and ``e5-ov chunks``: the same through OpenVINO (:mod:`index.e5ov`).

``--threads 1`` runs both models on one thread: on a machine shared with other work, a
model on two threads loses more to the other jobs than its kernels' speed says.

The first table counts what the model is given: the articles' own tokens, the chunks'
(their title and section header repeated, the overlap between neighbours) and the padding
of length-sorted batches for sort groups of several sizes. The second gives each variant's
seconds, chunks per second, speed-up over ``e5-st late``, the projected model time for the
whole collection (4,000 articles, scaled by articles) and the parity of its vectors with
``e5-st late``'s (minimum cosine of the chunk vectors, and of the sentence vectors).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import print_table

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO.parent / "shared" / "eval" / "lawqa"
COLLECTION = 4000
VARIANTS = ("e5-st late", "e5-st chunks", "e5-ov late", "e5-ov chunks")


def _chunks(folder: Path, docs: int, embedder: Any) -> tuple[list[Any], int]:
    from index.build import default_chunker
    from ingest.chunk import body_text
    from ingest.models import ParsedDocument
    from ingest.pipeline import parse_file

    files = sorted((folder / "docs").glob("*.md"))[:docs]
    if not files:
        raise SystemExit(f"no articles in {folder / 'docs'}: pass the lawqa folder")
    chunker = default_chunker(embedder)
    chunks: list[Any] = []
    body = 0
    for path in files:
        doc = parse_file(path, folder / "docs")
        if isinstance(doc, ParsedDocument):
            body += embedder.token_count(body_text(doc))
            chunks += chunker.chunk(doc)
    return chunks, body


def _padding(chunks: list[Any], embedder: Any, group: int) -> tuple[int, int]:
    """(real tokens, padded tokens) of ingest's batches when sorted in groups of ``group``."""
    from index.e5convert import PASSAGE_PREFIX

    real = padded = 0
    for start in range(0, len(chunks), group):
        texts = [c.embed_text for c in chunks[start : start + group]]
        windows, _, _ = embedder._windows(texts, PASSAGE_PREFIX)
        for batch in embedder._batches(windows):
            lengths = [len(windows[i]) for i in batch]
            real += sum(lengths)
            padded += max(lengths) * len(lengths)
    return real, padded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT), help="the lawqa folder")
    parser.add_argument("--docs", type=int, default=200, help="first N articles")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads each model runs on (default: all cores); 1 compares the kernels on one "
        "core, less disturbed by other work on a shared machine",
    )
    parser.add_argument(
        "--variant", action="append", choices=VARIANTS, help="repeatable; default: all"
    )
    args = parser.parse_args()
    folder = Path(args.path)
    if not (folder / "docs").is_dir():
        raise SystemExit(f"lawqa not found at {folder} (a folder with docs/): pass its path")

    from index.build import EMBED_GROUP
    from index.embed import make_embedder
    from index.windows import embed_chunks

    torch_model = make_embedder("e5-st")
    chunks, body = _chunks(folder, args.docs, torch_model)
    tokens = sum(torch_model.token_count(c.embed_text) for c in chunks)
    text_tokens = sum(torch_model.token_count(c.text) for c in chunks)
    rows: list[list[Any]] = [
        ["articles' own text", body, "1.00", ""],
        ["chunks' text (overlap)", text_tokens, f"{text_tokens / body:.2f}", ""],
        ["chunks with their headers", tokens, f"{tokens / body:.2f}", ""],
    ]
    for group in sorted({EMBED_GROUP, 1024, 4096}):
        real, padded = _padding(chunks, torch_model, group)
        rows.append(
            [
                f"padded, sorted by {group}",
                padded,
                f"{padded / body:.2f}",
                f"{(padded - real) / padded:.1%}",
            ]
        )
    print_table(
        f"tokens given to the model: {args.docs} lawqa articles, {len(chunks)} chunks",
        ["what", "tokens", "vs the text", "padding"],
        rows,
    )

    labels = args.variant or list(VARIANTS)
    embedders = {"e5-st": torch_model}
    if any(v.startswith("e5-ov") for v in labels):
        embedders["e5-ov"] = make_embedder("e5-ov")
        embedders["e5-ov"].passage_threads = args.threads  # type: ignore[attr-defined]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    warm = chunks[:16]
    for embedder in embedders.values():
        embed_chunks(warm, embedder, "late")  # converts and compiles the graphs once
    times: dict[str, list[float]] = {v: [] for v in labels}
    results: dict[str, Any] = {}
    for _ in range(args.rounds):
        for label in labels:
            name, method = label.split()
            embedder = embedders[name]
            started = time.perf_counter()
            parts = [
                embed_chunks(
                    chunks[i : i + EMBED_GROUP], embedder, "late" if method == "late" else None
                )
                for i in range(0, len(chunks), EMBED_GROUP)
            ]
            times[label].append(time.perf_counter() - started)
            results[label] = (
                np.concatenate([p.vectors for p in parts]),
                np.concatenate([p.windows for p in parts]),
            )
    base_label = "e5-st late" if "e5-st late" in labels else labels[0]
    base = min(times[base_label])
    reference = results[base_label]
    table = []
    for label in labels:
        best = min(times[label])
        vectors, windows = results[label]
        chunk_cos = float(np.sum(vectors * reference[0], axis=1).min())
        same_windows = len(windows) == len(reference[1]) and len(windows)
        window_cos = (
            f"{float(np.sum(windows * reference[1], axis=1).min()):.5f}" if same_windows else "-"
        )
        table.append(
            [
                label,
                len(windows),
                round(best, 1),
                round(len(chunks) / best, 1),
                f"{base / best:.2f}x",
                round(best * COLLECTION / args.docs / 60, 1),
                f"{chunk_cos:.5f}",
                window_cos,
            ]
        )
    print_table(
        f"{len(chunks)} chunks of {args.docs} lawqa articles in groups of {EMBED_GROUP}, "
        f"{args.threads or 'all'} threads; "
        f"fastest of {args.rounds} interleaved rounds; parity with {base_label}",
        [
            "variant",
            "sentences",
            "s",
            "chunks/s",
            f"vs {base_label}",
            f"min for {COLLECTION}",
            "min cos chunks",
            "min cos sentences",
        ],
        table,
    )


if __name__ == "__main__":
    main()
