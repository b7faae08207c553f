"""Index builder: the one entry point that turns files into a searchable version.

Incremental: a document whose bytes (and the parser and chunker settings)
did not change keeps its chunks and vectors; only new and changed documents
are embedded. Documents whose files are gone from a folder being ingested
are removed; documents from other folders or uploads are kept.

:func:`build_index` ingests files and folders (the CLI); :func:`apply_changes`
adds named files and removes documents by id (the upload API). Both run under
the writer lock and end in one :func:`~index.store.write_version`, so readers
see the old version or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.accents import build_accent_files
from index.ann import AnnConfig, describe
from index.embed import Embedder
from index.lexical import build_lexical_files
from index.store import (
    IndexUnavailable,
    NewVersion,
    Snapshot,
    StoredChunk,
    StoredDocument,
    crash_point,
    current_path,
    write_version,
    writer_lock,
)
from index.windows import WindowIndex, build_window_files
from ingest.assignments import assignment_files
from ingest.chunk import Chunker, StructureChunker
from ingest.models import IngestProblem, ParsedDocument
from ingest.pipeline import content_hash, discover, make_doc_id, parse_file

ProgressFactory = Callable[[str, int], Callable[[int], None]]
# parse_file, or ingest.sandbox.SandboxedParser for files from strangers.
Parser = Callable[[Path, Path], ParsedDocument | IngestProblem]
# doc_id -> (stored document, chunks, vectors or None when they must be embedded)
Kept = dict[str, tuple[StoredDocument, list[StoredChunk], np.ndarray | None]]


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids asked to be removed but not there
    problems: list[IngestProblem] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> notes
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    embedded_windows: int = 0
    seconds: float = 0.0
    version: str = ""
    full_rebuild_reason: str = ""
    dense_index: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.problems)}; "
            f"index now has {self.documents} documents, {self.chunks} chunks "
            f"({self.embedded_chunks} chunks and {self.embedded_windows} sentences embedded "
            f"in {self.seconds:.1f}s); " + describe(self.dense_index)
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
        header=m.header.to_json(),
    )


def _is_under(path: str, roots: list[Path]) -> bool:
    p = Path(path).resolve()
    return any(p == r or r in p.parents for r in roots)


def _kept_entry(
    previous: Snapshot, doc: StoredDocument
) -> tuple[StoredDocument, list[StoredChunk], np.ndarray]:
    chunks = previous.doc_chunks(doc.doc_id)
    return doc, chunks, np.asarray(previous.vectors[[c.id for c in chunks]])


def build_index(
    paths: Iterable[Path],
    index_dir: Path,
    embedder: Embedder,
    chunker: Chunker | None = None,
    progress: ProgressFactory | None = None,
    remove_missing: bool = True,
    parser: Parser | None = None,
    windows: bool = True,
    ann: AnnConfig | None = None,
) -> BuildReport:
    """Ingest ``paths`` into the index at ``index_dir`` and switch to the new version.

    ``windows``: also embed every sentence of each chunk (:mod:`index.windows`).
    """
    started = time.perf_counter()
    chunker = chunker or default_chunker(embedder)
    parse: Parser = parser or parse_file
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
        if previous is not None and (
            previous.embedder != embedder.name
            or previous.manifest.get("chunker") != chunker.settings()
        ):
            report.full_rebuild_reason = (
                f"embedder or chunker changed ({previous.embedder} -> {embedder.name})"
            )
        reuse = previous is not None and not report.full_rebuild_reason
        prev_docs = {d.doc_id: d for d in previous.documents()} if previous else {}

        kept: Kept = {}
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
            parsed = parse(path, root)
            if isinstance(parsed, IngestProblem):
                report.problems.append(parsed)
                if old is not None and reuse and previous is not None:
                    # A file that became unreadable keeps its last good version.
                    kept[doc_id] = _kept_entry(previous, old)
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
                kept[doc_id] = _kept_entry(previous, old)
            elif previous is not None:
                # Re-embed documents from other folders when the embedder changed.
                reparsed = parse(Path(old.path), Path(old.root))
                if isinstance(reparsed, ParsedDocument):
                    reparsed.meta.doc_id = doc_id
                    new_chunks = chunker.chunk(reparsed)
                    if new_chunks:
                        to_embed.append((reparsed, new_chunks))
                else:
                    report.removed.append(doc_id)

        crash_point("parsed")
        _write(
            _Target(index_dir, embedder, chunker, ann=ann, windows=windows, progress=progress),
            kept,
            to_embed,
            report,
            started,
            previous.path if reuse and previous is not None else None,
        )
        if previous is not None:
            previous.close()
    return report


@dataclass(frozen=True)
class _Target:
    """Where a new version goes and how it is made: one per build_index or apply_changes."""

    index_dir: Path
    embedder: Embedder
    chunker: Chunker
    ann: AnnConfig | None = None
    windows: bool = True
    progress: ProgressFactory | None = None

    def settings(self) -> dict[str, Any]:
        """What the manifest records so a later build can tell whether vectors still fit."""
        e = self.embedder
        return {"embedder": e.name, "dim": e.dim, "chunker": self.chunker.settings()}


def _write(
    target: _Target,
    kept: Kept,
    to_embed: list[tuple[ParsedDocument, list]],
    report: BuildReport,
    started: float,
    previous_path: Path | None = None,
) -> None:
    """Embed what is new, assemble kept + new, write and switch to the version.

    ``previous_path``: the version whose derived files (assignments, the sentence windows
    of kept chunks) may be reused.
    """
    index_dir, embedder, progress = target.index_dir, target.embedder, target.progress
    texts = [c.embed_text for _, chunks in to_embed for c in chunks]
    tick = progress("embedding", len(texts)) if progress and texts else None
    new_vectors = embedder.embed_passages(texts, progress=tick) if texts else None
    report.embedded_chunks = len(texts)
    crash_point("embedded")

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
        if parsed.warnings:
            report.warnings[parsed.meta.doc_id] = list(parsed.warnings)
    vectors = (
        np.concatenate(all_vectors)
        if all_vectors
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    # Windows of kept chunks come from the previous version, under their old chunk ids.
    window_files: dict[str, bytes] = {}
    if target.windows:
        old_windows = None
        if previous_path is not None:
            try:
                old_windows = WindowIndex.load(previous_path)
            except IndexUnavailable:
                old_windows = None  # embed them all again
        window_files, report.embedded_windows = build_window_files(
            all_chunks, embedder, old_windows, progress=progress, ann=target.ann
        )
    manifest = {
        **target.settings(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    extra = {
        **window_files,
        **build_lexical_files([c.embed_text for c in all_chunks]),
        # Titles once, not once per chunk, so they do not skew the syllable counts.
        **build_accent_files([c.text for c in all_chunks] + [d.title for d in documents]),
    }
    chunk_texts: dict[str, list[str]] = {}
    for c in sorted(all_chunks, key=lambda c: (c.doc_id, c.ordinal)):
        chunk_texts.setdefault(c.doc_id, []).append(c.text)
    extra.update(
        assignment_files(
            documents, chunk_texts, embedder.embed_passages, embedder.dim, previous_path
        )
    )
    final = write_version(
        index_dir,
        NewVersion(
            manifest,
            documents,
            all_chunks,
            vectors,
            extra_files=extra,
            ann=target.ann or AnnConfig(),
        ),
    )
    report.dense_index = json.loads((final / "manifest.json").read_text())["dense_index"]
    report.version = final.name
    report.documents = len(documents)
    report.chunks = len(all_chunks)
    report.seconds = time.perf_counter() - started


@dataclass
class Upload:
    """A file to add: parsed from ``staged``, kept at ``dest``, whose name gives the doc id.

    Staging lets a rejected re-upload leave the previous file (and document) in
    place; ``dest`` is where incremental and full rebuilds will re-read it.
    """

    staged: Path
    dest: Path


def apply_changes(
    index_dir: Path,
    embedder: Embedder,
    add: Sequence[Upload] = (),
    remove_ids: Sequence[str] = (),
    parser: Parser | None = None,
    chunker: Chunker | None = None,
    lock_timeout: float | None = None,
    ann: AnnConfig | None = None,
    windows: bool = True,
) -> BuildReport:
    """Add files and remove documents by id in one new version (nothing written if no change).

    Documents not named are kept with their vectors. Files that cannot be used
    land in ``report.problems`` (with ``dest`` as their path); ids that are not
    in the index land in ``report.missing``.
    """
    started = time.perf_counter()
    chunker = chunker or default_chunker(embedder)
    parse: Parser = parser or parse_file
    report = BuildReport()
    with writer_lock(index_dir, timeout=lock_timeout):
        previous: Snapshot | None = None
        path = current_path(index_dir)
        if path is not None:
            previous = Snapshot(path)
            if (
                previous.embedder != embedder.name
                or previous.manifest.get("chunker") != chunker.settings()
            ):
                raise IndexUnavailable(
                    f"the index was built with embedder {previous.embedder!r} and other chunker "
                    f"settings than {embedder.name!r} uses now; rebuild it with "
                    "`policy-search ingest` before adding or removing documents"
                )
        prev_docs = {d.doc_id: d for d in previous.documents()} if previous else {}
        removing = set()
        for doc_id in remove_ids:
            if doc_id in prev_docs:
                removing.add(doc_id)
                report.removed.append(doc_id)
            else:
                report.missing.append(doc_id)

        to_embed: list[tuple[ParsedDocument, list]] = []
        unchanged: set[str] = set()
        placed: list[Upload] = []
        seen: dict[str, Path] = {}
        for upload in add:
            dest = upload.dest.resolve()
            doc_id = make_doc_id(dest, dest.parent)
            old = prev_docs.get(doc_id)
            if doc_id in seen:
                report.problems.append(
                    IngestProblem(
                        upload.dest, f"same document id {doc_id!r} as {seen[doc_id].name}"
                    )
                )
                continue
            if old is not None and Path(old.path).resolve() != dest:
                report.problems.append(
                    IngestProblem(
                        upload.dest,
                        f"a document with id {doc_id!r} already exists "
                        f"(from {Path(old.path).name}); rename the file",
                    )
                )
                continue
            parsed = parse(upload.staged, upload.staged.parent)
            if isinstance(parsed, IngestProblem):
                report.problems.append(IngestProblem(upload.dest, parsed.reason))
                continue
            seen[doc_id] = dest  # only a usable file claims its id
            parsed.meta.doc_id = doc_id
            parsed.meta.path = str(dest)
            parsed.root = str(dest.parent)
            if (
                old is not None
                and old.content_hash == parsed.content_hash
                and doc_id not in removing
            ):
                unchanged.add(doc_id)
                report.unchanged.append(doc_id)
                placed.append(upload)
                continue
            chunks = chunker.chunk(parsed)
            if not chunks:
                report.problems.append(
                    IngestProblem(upload.dest, "no text to index after chunking")
                )
                continue
            to_embed.append((parsed, chunks))
            placed.append(upload)
            (report.updated if old is not None and doc_id not in removing else report.added).append(
                doc_id
            )
        crash_point("parsed")
        replaced = {p.meta.doc_id for p, _ in to_embed}
        if not to_embed and not removing:
            for upload in placed:
                _place(upload)
            if previous is not None:
                report.version = previous.version
                counts = previous.manifest.get("counts", {})
                report.documents = counts.get("documents", 0)
                report.chunks = counts.get("chunks", 0)
                previous.close()
            report.seconds = time.perf_counter() - started
            return report
        kept: Kept = {}
        if previous is not None:
            for doc_id, doc in prev_docs.items():
                if doc_id not in removing and doc_id not in replaced:
                    kept[doc_id] = _kept_entry(previous, doc)
        # Files go to their lasting place before the version that names them exists:
        # a crash in between leaves a file nobody indexes yet, never an index entry
        # whose file is missing.
        for upload in placed:
            _place(upload)
        _write(
            _Target(index_dir, embedder, chunker, ann=ann, windows=windows),
            kept,
            to_embed,
            report,
            started,
            previous.path if previous is not None else None,
        )
        if previous is not None:
            previous.close()
    return report


def _place(upload: Upload) -> None:
    if upload.staged.resolve() != upload.dest.resolve():
        upload.dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(upload.staged, upload.dest)
