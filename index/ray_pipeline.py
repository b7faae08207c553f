"""Distributed ingestion: the write pipeline with extraction and embedding on Ray.

    policy-search ingest /data/plans --ray [--ray-address ray://head:10001]

:class:`RayExecutor` is an :class:`~index.build.Executor`: the plan, chunking,
every derived file, the version and its publication are the one write pipeline
of :mod:`index.build`, exactly as a plain ``ingest`` runs them. Ray only does
the two expensive stages:

* extraction: the parser (the extraction sandbox, as ``ingest`` uses) in a
  Ray Data ``map`` over the files to read;
* embedding: chunks, sentence windows and assignment tasks in an actor pool
  (``map_batches`` with a callable class, so each worker loads the model once;
  ``num_gpus`` puts the actors on GPUs with the sentence-transformers backend).

Results come back in input order, so the version is the plain ingest's, file
for file: the same records and derived files, vectors equal up to float
rounding (tests/index/test_ray_pipeline.py compares the two folders).

On a cluster, give its address (``--ray-address`` or ``RAY_ADDRESS``) with this
package installed on the workers; without one a local Ray instance is started.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from index.build import ProgressFactory, Source
from index.embed import Embedder, ProgressFn, make_embedder
from index.embed_base import Span, sentences_of
from ingest.models import Block, DocumentHeader, DocumentMeta, IngestProblem, ParsedDocument
from ingest.pipeline import parse_file

REPO = Path(__file__).resolve().parent.parent


def _to_row(result: ParsedDocument | IngestProblem) -> dict[str, Any]:
    if isinstance(result, IngestProblem):
        return {"problem": result.reason, "document": None}
    return {"problem": "", "document": asdict(result)}


def _from_row(row: dict[str, Any], path: Path) -> ParsedDocument | IngestProblem:
    if row["problem"]:
        return IngestProblem(path, str(row["problem"]))
    data = row["document"]
    meta = dict(data["meta"])
    header = DocumentHeader.from_json(meta.pop("header", None))
    return ParsedDocument(
        meta=DocumentMeta(**meta, header=header),
        blocks=[Block(**b) for b in data["blocks"]],
        content_hash=data["content_hash"],
        root=data["root"],
        warnings=list(data["warnings"]),
    )


def _parse(row: dict[str, Any], parser: Any) -> dict[str, Any]:
    """One file, in a Ray worker: the parser's result as plain data."""
    result = parser(Path(row["path"]), Path(row["root"]))
    return {"order": row["order"], **_to_row(result)}


class _Embed:
    """Actor: loads the embedder once, embeds batches of passages."""

    def __init__(self, embedder_spec: str, device: str = "cpu") -> None:
        self.embedder: Embedder = make_embedder(embedder_spec)
        model = getattr(self.embedder, "_model", None)
        if device != "cpu" and hasattr(model, "to"):
            model.to(device)  # type: ignore[union-attr]  # sentence-transformers on a GPU

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        batch["vector"] = self.embedder.embed_passages(texts)
        return batch


class _EmbedSentences:
    """Actor: chunk and sentence vectors from one pass per chunk ('late' windows).

    A chunk has any number of sentences; their vectors travel as float32 bytes
    (one binary cell per chunk), which every Ray block format carries as is.
    """

    def __init__(self, embedder_spec: str, device: str = "cpu") -> None:
        self.inner = _Embed(embedder_spec, device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        spans = [[tuple(s) for s in json.loads(str(x))] for x in batch["spans"]]
        passages, sentences = sentences_of(self.inner.embedder, texts, spans)
        cells, at = [], 0
        for row in spans:
            cells.append(np.ascontiguousarray(sentences[at : at + len(row)], np.float32).tobytes())
            at += len(row)
        batch["vector"] = passages
        batch["sentences"] = np.array(cells, dtype=object)
        return batch


class RayExecutor:
    """Extraction and embedding on Ray; ``close()`` stops a Ray instance it started."""

    def __init__(
        self,
        embedder_spec: str,
        parser: Any = None,
        address: str | None = None,
        num_cpus: int | None = None,
        embed_workers: int = 1,
        embed_batch: int = 64,
        num_gpus: float = 0,
    ) -> None:
        import ray

        self.ray = ray
        self.embedder_spec = embedder_spec
        self.parser = parser or parse_file
        self.embed_workers = embed_workers
        self.embed_batch = embed_batch
        self.num_gpus = num_gpus
        self.started = not ray.is_initialized()
        if self.started:
            ray.init(
                address=address,
                num_cpus=None if address else num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
            )

    def extract(
        self, sources: Sequence[Source], progress: ProgressFactory | None
    ) -> list[ParsedDocument | IngestProblem]:
        if not sources:
            return []
        items = [
            {"order": i, "path": str(s.read), "root": str(s.root)} for i, s in enumerate(sources)
        ]
        rows = self.ray.data.from_items(items).map(partial(_parse, parser=self.parser)).take_all()
        rows.sort(key=lambda r: r["order"])
        if progress:
            progress("reading", len(sources))(len(sources))
        return [_from_row(r, s.shown) for r, s in zip(rows, sources, strict=True)]

    def _embedded(self, items: list[dict[str, Any]], actor: type) -> list[dict[str, Any]]:
        """``items`` (each with an ``order``) through ``actor`` on Ray, back in order."""
        rows = (
            self.ray.data.from_items(items)
            .map_batches(
                actor,
                fn_constructor_kwargs={
                    "embedder_spec": self.embedder_spec,
                    "device": "cuda" if self.num_gpus else "cpu",
                },
                batch_size=self.embed_batch,
                concurrency=self.embed_workers,
                num_gpus=self.num_gpus or None,
            )
            .take_all()
        )
        rows.sort(key=lambda r: r["order"])
        return rows

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows = self._embedded([{"order": i, "text": t} for i, t in enumerate(texts)], _Embed)
        if progress:
            progress(len(texts))
        return np.stack([np.asarray(r["vector"], dtype=np.float32) for r in rows])

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Chunk vectors and their sentences' vectors, from one pass per chunk, on Ray."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), np.zeros((0, 0), dtype=np.float32)
        items = [
            {"order": i, "text": t, "spans": json.dumps([list(s) for s in spans])}
            for i, (t, spans) in enumerate(zip(texts, sentences, strict=True))
        ]
        rows = self._embedded(items, _EmbedSentences)
        if progress:
            progress(len(texts))
        passages = np.stack([np.asarray(r["vector"], dtype=np.float32) for r in rows])
        dim = passages.shape[1]
        parts = [np.frombuffer(bytes(r["sentences"]), dtype=np.float32) for r in rows]
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return passages, flat.reshape(-1, dim)

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
