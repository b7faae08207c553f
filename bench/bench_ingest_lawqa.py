"""Ingest of the lawqa collection at N and 2N documents: time per stage, counts, peak memory.

    python -m bench.bench_ingest --lawqa --docs 300            # 300 and 600 documents
    python -m bench.bench_ingest --lawqa PATH --docs 4000      # the whole collection, twice
    python -m bench.bench_ingest --lawqa --docs 200 --embedder st:MODEL_FOLDER
    python -m bench.bench_ingest --lawqa --docs 2000 --embedder hash   # memory, not the model

Rows, each one ``build_index`` in a process of its own through the extraction
sandbox, as ``policy-search ingest`` runs it:

* ``N``: the first N documents of ``PATH/docs`` (sorted by name) into a fresh index;
* ``N, 1% changed``: one document in a hundred of those edited (a line added), then
  ingested again into the same index: only those are read and embedded again; the
  unchanged ones keep their vectors, lexical postings, accent counts and assignment
  records, and the approximate FAISS indexes are carried over (``indexes carried``);
* ``2N``: the N documents twice, the second time under other file names, into a
  fresh index.

Peak memory is the ingest process's own high-water mark (``VmHWM``) from the moment
the model was loaded and warmed (reset through ``/proc/self/clear_refs``), so that
"peak" is what the ingest adds on top of the model; the model's own resident size is
the ``model MB`` column. Bounded memory means ``peak MB`` is the same at N and 2N.
``--embedder hash`` stands hashed words in for the model (384 numbers per text, the
sum of a random vector per word; token counts from the model's own tokenizer, so the
chunks are the model's; sentences embedded apart): the pipeline's own memory and time
at collection sizes the model would take an hour to embed on a shared machine.
The machine's load is printed too: compare ratios within one run, not seconds
across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, print_table

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO.parent / "shared" / "eval" / "lawqa"
STAGES = ("extract", "chunk", "embed", "index", "write")
CHANGED_EVERY = 100  # one document in a hundred is edited for the re-ingest row


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class HashEmbedder:
    """Vectors from hashed words: the pipeline without the model (``--embedder hash``).

    Each text is the normalised sum of a fixed random vector per word (words hashed into
    :attr:`BUCKETS` rows), so texts sharing words lie near each other, as with a real
    model: a hash of the whole text would give uniformly random vectors, the worst case
    for HNSW graph building and calibration, which would then time a case real
    collections never present. Token counts are the real model's (its tokenizer), so the
    chunks and sentence windows are the ones the model's ingest makes.
    """

    name = "bench-hash"
    dim = 384
    max_tokens = 512
    BUCKETS = 1 << 14  # 24 MB of table, loaded with the "model"

    def __init__(self) -> None:
        import functools

        import numpy as np
        from tokenizers import Tokenizer

        from index.e5convert import PASSAGE_PREFIX, ensure_model

        table = np.random.default_rng(0).standard_normal((self.BUCKETS, self.dim))
        self._table = table.astype(np.float32)
        tokenizer = Tokenizer.from_file(str(ensure_model(None) / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()

        def count(text: str) -> int:
            return len(tokenizer.encode(PASSAGE_PREFIX + text, add_special_tokens=True).ids)

        # The chunker counts the same pieces again and again while it merges them.
        self.token_count = functools.lru_cache(maxsize=1 << 16)(count)

    def embed_passages(self, texts: Any, progress: Any = None) -> Any:
        import zlib

        import numpy as np

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        mask = self.BUCKETS - 1
        for i, text in enumerate(texts):
            rows = [zlib.crc32(w.encode("utf-8")) & mask for w in text.lower().split()]
            out[i] = self._table[rows or [zlib.crc32(text.encode("utf-8")) & mask]].sum(axis=0)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        if progress is not None:
            progress(len(texts))
        return out

    def embed_queries(self, texts: Any) -> Any:
        return self.embed_passages(texts)


def child(folder: str, index: str, spec: str | None) -> None:
    """One ingest (run in a process of its own); prints one JSON line."""
    from index.build import build_index
    from index.embed import make_embedder
    from ingest.sandbox import ExtractionLimits, SandboxedParser
    from policy_search.settings import Settings

    settings = Settings()
    started = time.perf_counter()
    embedder: Any = (
        HashEmbedder() if spec == "hash" else make_embedder(spec or settings.embedder_spec)
    )
    embedder.embed_passages(["khởi động"])  # lazy set-up out of the timing
    load_s = time.perf_counter() - started
    model_kb = _status_kb("VmRSS")
    try:
        # The high-water mark from here on: what the ingest adds to the loaded model.
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    started = time.perf_counter()
    report = build_index(
        [Path(folder)],
        Path(index),
        embedder,
        parser=SandboxedParser(ExtractionLimits.from_settings(settings)),
        window_method="separate" if spec == "hash" else settings.window_method,
    )
    total = time.perf_counter() - started
    version = Path(index) / "current"
    carried = [
        name
        for name, file in (("dense", "dense.labels.npy"), ("windows", "windows.labels.npy"))
        if (version / file).exists()
    ]
    print(
        json.dumps(
            {
                "carried": carried,
                "total": total,
                "load": load_s,
                "stages": report.stages,
                "documents": report.documents,
                "added": len(report.added),
                "updated": len(report.updated),
                "chunks": report.chunks,
                "embedded_chunks": report.embedded_chunks,
                "windows": report.embedded_windows,
                "model_mb": model_kb / 1024,
                "peak_mb": _status_kb("VmHWM") / 1024,
                "peak_from_model": reset,
                "problems": len(report.problems),
            }
        )
    )


def _ingest(folder: Path, index: Path, spec: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_ingest_lawqa", "--child", str(folder), str(index)]
    if spec:
        cmd += ["--embedder", spec]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=str(REPO))
        # The child's own high-water mark from the kernel, not this process's
        # ru_maxrss for its children, which is the largest child's so far.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"ingest of {folder} failed:\n{err.read()[-3000:]}")
        result: dict[str, Any] = json.loads(out.read().strip().splitlines()[-1])
    result["process_peak_mb"] = usage.ru_maxrss / 1024
    return result


def make_folders(docs: Path, n: int, work: Path) -> tuple[Path, Path]:
    """(N documents, the same N twice under other names): copies, never links (a link out
    of its folder is not followed by ingest)."""
    names = sorted(p.name for p in docs.iterdir() if p.is_file())[:n]
    if len(names) < n:
        raise SystemExit(f"{docs} holds {len(names)} documents, fewer than --docs {n}")
    one, two = work / f"docs-{n}", work / f"docs-{2 * n}"
    for folder in (one, two):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for name in names:
        shutil.copyfile(docs / name, one / name)
        shutil.copyfile(docs / name, two / name)
        shutil.copyfile(docs / name, two / f"copy-{name}")
    return one, two


def change_some(folder: Path) -> int:
    """Edit one document in :data:`CHANGED_EVERY` (at least one); how many were edited."""
    names = sorted(p.name for p in folder.iterdir())
    edited = names[::CHANGED_EVERY]
    for name in edited:
        with open(folder / name, "a", encoding="utf-8") as fh:
            fh.write("\n\nVăn bản này được cập nhật lần cuối để kiểm tra việc lập chỉ mục lại.\n")
    return len(edited)


def run(args: argparse.Namespace) -> None:
    root = Path(args.lawqa)
    docs = root / "docs"
    if not docs.is_dir():
        raise SystemExit(f"lawqa not found: no folder {docs} (pass --lawqa PATH)")
    work = BENCH_DIR / "lawqa-ingest"
    one, two = make_folders(docs, args.docs, work)
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, dict[str, Any]]] = []
    index_one = work / f"index-{args.docs}"
    if not args.no_single:
        shutil.rmtree(index_one, ignore_errors=True)
        rows.append((f"{args.docs}", _ingest(one, index_one, args.embedder)))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
    if not args.no_change and not args.no_single:
        edited = change_some(one)
        rows.append((f"{args.docs}, {edited} changed", _ingest(one, index_one, args.embedder)))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
    if not args.no_double:
        index_two = work / f"index-{2 * args.docs}"
        shutil.rmtree(index_two, ignore_errors=True)
        rows.append((f"{2 * args.docs}", _ingest(two, index_two, args.embedder)))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
    model: dict[str, Any] | None = None
    if args.model_docs:
        # The real model on one embedding group's worth of documents: its own resident
        # size and its high-water mark while embedding, which the stand-in rows leave out.
        few = work / f"docs-{args.model_docs}-model"
        shutil.rmtree(few, ignore_errors=True)
        few.mkdir(parents=True)
        for name in sorted(p.name for p in one.iterdir())[: args.model_docs]:
            shutil.copyfile(one / name, few / name)
        index_few = work / f"index-{args.model_docs}-model"
        shutil.rmtree(index_few, ignore_errors=True)
        model = _ingest(few, index_few, None)
        print(f"  {args.model_docs} with the model: {model}", flush=True)
    load_after = os.getloadavg()[0]
    table = []
    for label, r in rows:
        st = r["stages"]
        table.append(
            [
                label,
                r["documents"],
                r["chunks"],
                r["embedded_chunks"],
                r["windows"],
                *(round(st.get(s, 0.0), 1) for s in STAGES),
                round(r["total"], 1),
                f"{1 - st.get('embed', 0.0) / r['total']:.0%}" if r["total"] else "-",
                round(r["model_mb"]),
                round(r["peak_mb"]),
                round(r["process_peak_mb"]),
                "+".join(r.get("carried", [])) or "-",
                # The model's peak while embedding, plus what the pipeline adds above its
                # loaded stand-in: an upper bound of the same ingest with the model.
                round(model["process_peak_mb"] + r["peak_mb"] - r["model_mb"]) if model else "-",
            ]
        )
    print_table(
        f"Ingest of lawqa ({docs}), seconds per stage (extract and chunk run beside embed); "
        f"embedder {args.embedder or 'from settings'}; load average {load_before:.1f} at the "
        f"start, {load_after:.1f} at the end; peak MB: the ingest process's high-water mark "
        "from the loaded model on; process peak MB: the child's mark as wait4 reports it "
        "(the same mark, so equal to peak MB when the reset worked; the whole process's "
        "where /proc/self/clear_refs is refused); indexes carried: approximate FAISS indexes "
        "brought over from the previous version instead of built again",
        [
            "documents",
            "docs",
            "chunks",
            "embedded",
            "sentences",
            *STAGES,
            "total s",
            "outside model",
            "model MB",
            "peak MB",
            "process peak MB",
            "indexes carried",
            "with model MB",
        ],
        table,
    )
    if model is not None:
        print(
            f"with model MB: the model's ingest of the first {args.model_docs} documents "
            f"({model['embedded_chunks']} chunks, {model['windows']} sentences; "
            f"{args.embedder or 'from settings'} -> the configured embedder): resident "
            f"{model['model_mb']:.0f} MB once loaded, peak {model['process_peak_mb']:.0f} MB "
            "while embedding, plus each row's peak MB less its model MB (what the pipeline "
            "adds above the loaded stand-in)"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--docs", type=int, default=4000, help="N: documents of the first row")
    parser.add_argument(
        "--embedder", default=None, help="embedder spec (default: POLICY_SEARCH_EMBEDDER)"
    )
    parser.add_argument("--no-change", action="store_true", help="skip the 1%% re-ingest row")
    parser.add_argument("--no-double", action="store_true", help="skip the 2N row")
    parser.add_argument(
        "--no-single", action="store_true", help="skip the N row (and the re-ingest row)"
    )
    parser.add_argument(
        "--model-docs",
        type=int,
        default=0,
        help="also ingest the first M documents with the configured embedder and add its "
        "peak to each row ('with model MB'): the honest total of a stand-in (--embedder "
        "hash) run; about 70 lawqa documents make one embedding group",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lawqa", default=str(DEFAULT), help="lawqa folder (docs/ inside)")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "INDEX"), help=argparse.SUPPRESS)
    add_arguments(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.embedder)
    else:
        run(args)


if __name__ == "__main__":
    main()
