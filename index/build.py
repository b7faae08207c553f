"""Index builder: the one entry point that turns files into a searchable version.

Incremental: a document whose bytes (and the parser and chunker settings)
did not change keeps its chunks and vectors; only new and changed documents
are embedded. Documents whose files are gone from a folder being ingested
are removed; documents from other folders or uploads are kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.ann import AnnConfig, describe
from index.embed import Embedder
from index.store import (
    IndexUnavailable,
    NewVersion,
    Snapshot,
    StoredChunk,
    StoredDocument,
    current_path,
    write_version,
    writer_lock,
)
from ingest.chunk import Chunker, StructureChunker
from ingest.models import IngestProblem, ParsedDocument
from ingest.pipeline import content_hash, discover, make_doc_id, parse_file

ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    version: str = ""
    full_rebuild_reason: str = ""
    dense_index: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.problems)}; "
            f"index now has {self.documents} documents, {self.chunks} chunks "
            f"({self.embedded_chunks} embedded in {self.seconds:.1f}s); "
            + describe(self.dense_index)
        )


def default_chunker(embedder: Embedder) -> StructureChunker:
    # Leave room for the special tokens the model adds, and for the title and
    # section header that every chunk's embedded text carries.
    max_tokens = embedder.max_tokens - 2
    return StructureChunker(
        token_count=embedder.token_count,
        chunk_tokens=min(256, max(64, max_tokens * 2 // 3)),
        max_tokens=max_tokens,
    )


def _to_stored(doc: ParsedDocument, n_chunks: int) -> StoredDocument:
    m = doc.meta
    return StoredDocument(
        doc_id=m.doc_id,
        title=m.title,
        source=m.source,
        path=m.path,
        root=doc.root,
        date=m.date,
        doc_type=m.doc_type,
        provinces=m.provinces,
        content_hash=doc.content_hash,
        blocks=[[b.text, b.page, b.heading_level] for b in doc.blocks],
        n_chunks=n_chunks,
    )


def _is_under(path: str, roots: list[Path]) -> bool:
    p = Path(path).resolve()
    return any(p == r or r in p.parents for r in roots)


def build_index(
    paths: Iterable[Path],
    index_dir: Path,
    embedder: Embedder,
    chunker: Chunker | None = None,
    progress: ProgressFactory | None = None,
    remove_missing: bool = True,
    ann: AnnConfig | None = None,
) -> BuildReport:
    """Ingest ``paths`` into the index at ``index_dir`` and switch to the new version."""
    started = time.perf_counter()
    chunker = chunker or default_chunker(embedder)
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
    report = BuildReport()
    with writer_lock(index_dir):
        previous: Snapshot | None = None
        if current_path(index_dir) is not None:
            try:
                previous = Snapshot(current_path(index_dir))  # type: ignore[arg-type]
            except IndexUnavailable as exc:
                report.full_rebuild_reason = f"previous index unusable ({exc})"
        settings = {"embedder": embedder.name, "dim": embedder.dim, "chunker": chunker.settings()}
        if previous is not None and (
            previous.embedder != embedder.name
            or previous.manifest.get("chunker") != chunker.settings()
        ):
            report.full_rebuild_reason = (
                f"embedder or chunker changed ({previous.embedder} -> {embedder.name})"
            )
        reuse = previous is not None and not report.full_rebuild_reason
        prev_docs = {d.doc_id: d for d in previous.documents()} if previous else {}

        # doc_id -> (stored document, chunks, vectors or None when they must be embedded)
        kept: dict[str, tuple[StoredDocument, list[StoredChunk], np.ndarray | None]] = {}
        to_embed: list[tuple[ParsedDocument, list]] = []
        seen_paths: dict[str, str] = {}
        files = list(discover(paths))
        tick = progress("reading", len(files)) if progress else None
        for path, root in files:
            if tick:
                tick(1)
            try:
                data = path.read_bytes()
            except OSError as exc:
                report.problems.append(IngestProblem(path, f"cannot read file: {exc.strerror}"))
                continue
            parsed: ParsedDocument | IngestProblem | None = None
            # Unchanged bytes under an unchanged parser and chunker need no parsing.
            doc_id = make_doc_id(path, root)
            if doc_id in seen_paths and seen_paths[doc_id] != str(path):
                report.problems.append(
                    IngestProblem(path, f"same document id {doc_id!r} as {seen_paths[doc_id]}")
                )
                continue
            seen_paths[doc_id] = str(path)
            old = prev_docs.get(doc_id)
            if reuse and old is not None and old.content_hash == content_hash(data):
                assert previous is not None
                chunks = previous.doc_chunks(doc_id)
                vecs = np.asarray(previous.vectors[[c.id for c in chunks]]) if chunks else None
                old.path, old.root = str(path), str(root)
                kept[doc_id] = (old, chunks, vecs)
                report.unchanged.append(doc_id)
                continue
            parsed = parse_file(path, root)
            if isinstance(parsed, IngestProblem):
                report.problems.append(parsed)
                if old is not None and reuse and previous is not None:
                    # A file that became unreadable keeps its last good version.
                    chunks = previous.doc_chunks(doc_id)
                    kept[doc_id] = (
                        old,
                        chunks,
                        np.asarray(previous.vectors[[c.id for c in chunks]]),
                    )
                continue
            chunks_new = chunker.chunk(parsed)
            if not chunks_new:
                report.problems.append(IngestProblem(path, "no text to index after chunking"))
                continue
            to_embed.append((parsed, chunks_new))
            (report.updated if old is not None else report.added).append(doc_id)

        roots = [p.resolve() for p in paths]
        for doc_id, old in prev_docs.items():
            if doc_id in kept or doc_id in seen_paths:
                continue
            if remove_missing and _is_under(old.path, roots) and not Path(old.path).exists():
                report.removed.append(doc_id)
            elif reuse and previous is not None:
                chunks = previous.doc_chunks(doc_id)
                kept[doc_id] = (old, chunks, np.asarray(previous.vectors[[c.id for c in chunks]]))
            elif previous is not None:
                # Re-embed documents from other folders when the embedder changed.
                reparsed = parse_file(Path(old.path), Path(old.root))
                if isinstance(reparsed, ParsedDocument):
                    reparsed.meta.doc_id = doc_id
                    new_chunks = chunker.chunk(reparsed)
                    if new_chunks:
                        to_embed.append((reparsed, new_chunks))
                else:
                    report.removed.append(doc_id)

        texts = [c.embed_text for _, chunks in to_embed for c in chunks]
        tick = progress("embedding", len(texts)) if progress and texts else None
        new_vectors = embedder.embed_passages(texts, progress=tick) if texts else None
        report.embedded_chunks = len(texts)

        documents: list[StoredDocument] = []
        all_chunks: list[StoredChunk] = []
        all_vectors: list[np.ndarray] = []
        for doc, chunks, vecs in kept.values():
            documents.append(doc)
            all_chunks.extend(chunks)
            if vecs is not None and len(vecs):
                all_vectors.append(vecs)
        offset = 0
        for parsed, chunks in to_embed:
            documents.append(_to_stored(parsed, len(chunks)))
            for c in chunks:
                all_chunks.append(
                    StoredChunk(-1, c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text)
                )
            assert new_vectors is not None
            all_vectors.append(new_vectors[offset : offset + len(chunks)])
            offset += len(chunks)
        vectors = (
            np.concatenate(all_vectors)
            if all_vectors
            else np.zeros((0, embedder.dim), dtype=np.float32)
        )
        manifest = {
            **settings,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        final = write_version(
            index_dir,
            NewVersion(manifest, documents, all_chunks, vectors, ann=ann or AnnConfig()),
        )
        report.dense_index = json.loads((final / "manifest.json").read_text())["dense_index"]
        if previous is not None:
            previous.close()
        report.version = final.name
        report.documents = len(documents)
        report.chunks = len(all_chunks)
        report.seconds = time.perf_counter() - started
    return report
