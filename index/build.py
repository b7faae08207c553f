"""The one write pipeline: every change to an index goes through :class:`Pipeline`.

``policy-search ingest`` (:func:`build_index`), the upload and delete API
(:func:`apply_changes`) and the distributed build (``ingest --ray``, an
:class:`Executor` from :mod:`index.ray_pipeline`) all run the same stages, under
the writer lock:

1. **plan** (:func:`plan_changes`): diff the request against the previous
   version into one :class:`ChangeSet`. Every rule about document identity lives
   there: ids from paths, one document per real file, links not followed out of
   a folder, a second source with an id that is taken refused by name,
   unchanged bytes kept, files gone removed;
2. **extract** (the executor; in a sandbox for files from strangers);
3. **chunk**;
4. **embed** (the executor): chunks and their sentence windows (one pass per
   chunk with late windows, :func:`index.windows.embed_chunks`), assignment tasks;
5. **write** the new version as it is made (:class:`~index.store.VersionWriter`):
   each group's records, vectors and sentence windows go to disk once embedded,
   so memory holds a group, not the collection; at the end the dense indexes are
   built from the memory-mapped files, the lexical index and accent model from
   the chunks read back, then the assignments;
6. **publish**: the backend (:mod:`index.stores`; Milvus publishes its
   collections) before ``current`` switches, then ``current`` itself, so a
   reader sees the old version or the new one everywhere, never a mix.

Incremental: a document whose bytes (and the parser and chunker settings) did
not change keeps its chunks and vectors; only new and changed documents are
embedded.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np

from index.accents import accent_files, carried_accent_files
from index.ann import AnnConfig, carry_dense_index, describe, release_pages
from index.assignments import assignment_files, carried_documents
from index.embed import Embedder, ProgressFn
from index.embed_base import Span, gives_sentences, sentences_of
from index.lexical import LexicalBuilder, chunk_syllables, syllables
from index.store import (
    IndexUnavailable,
    NpyAppender,
    Snapshot,
    StoredChunk,
    StoredDocument,
    VersionWriter,
    crash_point,
    current_path,
    no_index,
    relink_intact,
    repair_current,
    writer_lock,
)
from index.windows import (
    DEFAULT_METHOD,
    OWNERS_FILE,
    VECTORS_FILE,
    WINDOW_SENTENCES,
    Embedded,
    WindowIndex,
    embed_chunks,
    finish_window_files,
    passage_pass,
    resolve_method,
    sentence_pass,
)
from index.windows import (
    MANIFEST as WINDOWS_MANIFEST,
)
from ingest.chunk import Chunker, StructureChunker
from ingest.models import Chunk, IngestProblem, ParsedDocument
from ingest.pipeline import discover, hash_file, make_doc_id, parse_file, source_name
from ingest.text import tokenize

ProgressFactory = Callable[[str, int], ProgressFn]
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
    repaired: str = ""  # what was fixed in the index folder before writing
    published: str = ""  # the backend's line about the new version ("" for the folder alone)
    # Seconds spent in each stage (STAGES). Extraction and chunking run beside the
    # model, so the stages add up to more than ``seconds``.
    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - started

    def stage_line(self) -> str:
        """'extract 1.2 s, chunk 0.8 s, embed 20.3 s, index 1.1 s, write 0.6 s'."""
        return ", ".join(f"{name} {self.stages.get(name, 0.0):.1f} s" for name in STAGES)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.problems)}; "
            f"index now has {self.documents} documents, {self.chunks} chunks "
            f"({self.embedded_chunks} chunks and {self.embedded_windows} sentences embedded "
            f"in {self.seconds:.1f}s); " + describe(self.dense_index) + "; "
            f"time per stage: {self.stage_line()} (extract and chunk run beside embed)"
        )


# Stages timed in BuildReport.stages: reading files (waiting for the extraction
# sandbox), chunking, the model, the derived files (lexical, accents, windows,
# assignments), and the version itself (records, vectors, dense index, publication).
STAGES = ("extract", "chunk", "embed", "index", "write")
# Called with the report of every build that completes (the server's /metrics counts
# stage times through this; the index layer knows nothing of the web layer).
BUILD_OBSERVERS: list[Callable[[BuildReport], None]] = []
# Documents read and chunked ahead of the model at most.
READ_AHEAD = 64
# Chunks embedded together: enough for length-sorted batches to waste little on
# padding, few enough that the model starts while the next documents are read.
# Padded tokens of the first 300 lawqa articles' 4,324 chunks (752k real):
# groups of 256 805k (6.5% padding), 512 784k, 1024 771k (2.4%), 2048 764k.
EMBED_GROUP = 1024


def default_chunker(embedder: Embedder) -> StructureChunker:
    # Leave room for the special tokens the model adds, and for the title and
    # section header that every chunk's embedded text carries.
    max_tokens = embedder.max_tokens - 2
    return StructureChunker(
        token_count=embedder.token_count,
        chunk_tokens=min(256, max(64, max_tokens * 2 // 3)),
        max_tokens=max_tokens,
    )


# --- the request and its plan ------------------------------------------------------------


@dataclass
class Upload:
    """A file to add: parsed from ``staged``, kept at ``dest``, whose name gives the doc id.

    Staging lets a rejected re-upload leave the previous file (and document) in
    place; ``dest`` is where incremental and full rebuilds will re-read it.
    """

    staged: Path
    dest: Path


@dataclass(frozen=True)
class Changes:
    """What one write asks for.

    ``folders``: files and folders to bring in step (every supported file under
    them; documents whose files are gone from them are removed unless
    ``remove_missing`` is off). ``add``: named files (uploads). ``remove_ids``:
    documents to drop. ``rebuild``: when the embedder or chunker changed, embed
    everything again (``ingest``) instead of refusing (the API). ``always_write``:
    write a version even when no document changed (``ingest`` also applies new
    index settings, such as sentence windows).
    """

    folders: tuple[Path, ...] = ()
    add: tuple[Upload, ...] = ()
    remove_ids: tuple[str, ...] = ()
    remove_missing: bool = True
    rebuild: bool = False
    always_write: bool = False


@dataclass
class Source:
    """One document to read: where from, under which id, and where it lives."""

    doc_id: str
    read: Path  # the bytes to parse (an upload's staged copy)
    path: Path  # the real file the document is kept as (links resolved)
    root: Path
    shown: Path  # the name problems are reported under
    old: StoredDocument | None = None  # the previous version of this document
    upload: Upload | None = None
    reread: bool = False  # read again from where it lives because the vectors do not fit


@dataclass
class ChangeSet:
    """The plan of one write: what to parse, keep and remove."""

    parse: list[Source] = field(default_factory=list)
    keep: list[StoredDocument] = field(default_factory=list)  # with their chunks and vectors
    unchanged: list[str] = field(default_factory=list)
    placed: list[Upload] = field(default_factory=list)  # uploads to move into place
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _file_sources(
    changes: Changes, report: list[IngestProblem]
) -> tuple[list[tuple[str, Path, Path, Path]], list[tuple[str, Path]], list[Path]]:
    """(id, path found, real file, root) of every supported file under ``changes.folders``.

    Also the (id, target) of links refused because they lead out of their folder,
    and the resolved folders themselves. A file is one document however many links
    lead to it inside its folder: the id of its own path when the walk finds it
    there, else of the first link to it.
    """
    found: list[tuple[str, Path, Path, Path]] = []
    refused: list[tuple[str, Path]] = []
    roots: list[Path] = []
    seen: set[Path] = set()
    for given in changes.folders:
        if not given.exists():
            raise FileNotFoundError(f"no such file or folder: {given}")
        if not given.is_dir():
            roots.append(given.resolve())
            found.append((make_doc_id(given, given.parent), given, given.resolve(), given.parent))
            continue
        root = given.resolve()
        roots.append(root)
        paths = [path for path, _ in discover([given])]
        direct = {p.resolve() for p in paths if not p.is_symlink()}
        for path in paths:
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError) as exc:  # a link loop
                report.append(IngestProblem(path, f"cannot read file: {exc}"))
                continue
            if not _under(real, root):
                # A folder is ingested as what it holds: a link must not publish a file
                # from elsewhere on the machine.
                refused.append((make_doc_id(path, given), real))
                report.append(
                    IngestProblem(
                        path, f"a link to {real}, outside {given}; links are not followed"
                    )
                )
                continue
            if real in seen:
                continue  # another link to a file already taken: the same document
            seen.add(real)
            doc_id = make_doc_id(real, root) if real in direct else make_doc_id(path, given)
            found.append((doc_id, path, real, root))
    return found, refused, roots


def plan_changes(
    previous: Snapshot | None,
    changes: Changes,
    reuse: bool,
    hash: Callable[[Path], str | IngestProblem],
) -> ChangeSet:
    """Diff ``changes`` against ``previous`` into one change set (see :class:`Changes`).

    ``hash``: a file's content hash, or why it cannot be used (unreadable, too large).

    ``reuse``: the previous version's vectors fit (same embedder and chunker), so
    unchanged documents keep them; otherwise every document is parsed again.

    Identity rules, the same for folders and uploads: a document id belongs to one
    source (a file of a folder, or an upload). A second source whose id is taken
    by a document whose file still exists is refused by name; a document whose
    file is gone may be taken over. One real file is one document. Within one
    write, only a usable file claims its id (:func:`first_usable`).
    """
    plan = ChangeSet()
    # Without their text: a plan needs ids, files and hashes, and a kept document's text
    # is read when it is copied (_Version.keep), not held for the whole collection.
    prev = {d.doc_id: d for d in previous.documents(blocks=False)} if previous is not None else {}
    by_path = {d.path: d.doc_id for d in prev.values()}
    removing: set[str] = set()
    for doc_id in changes.remove_ids:
        if doc_id in prev:
            removing.add(doc_id)
            plan.removed.append(doc_id)
        else:
            plan.missing.append(doc_id)

    files, refused, roots = _file_sources(changes, plan.problems)
    claimed_paths = {str(real) for _, _, real, _ in files}

    def gone(doc: StoredDocument) -> bool:
        """``doc``'s own file no longer backs it (deleted, or out of this sync's folders)."""
        if doc.doc_id in removing:
            return True
        path = Path(doc.path)
        synced = any(_under(path, r) for r in roots) and changes.remove_missing
        return (synced and doc.path not in claimed_paths) or not path.exists()

    sources: list[Source] = []

    def claim(doc_id: str, shown: Path, real: Path) -> tuple[bool, StoredDocument | None]:
        """(claimed, the previous document ``doc_id`` stands for, or None when it is new)."""
        old = prev.get(doc_id)
        if old is not None and Path(old.path) != real and not gone(old):
            plan.problems.append(
                IngestProblem(
                    shown,
                    f"a document with id {doc_id!r} already exists (from {old.path}); "
                    "rename the file",
                )
            )
            return False, None
        return True, None if doc_id in removing else old

    for doc_id, shown, real, root in files:
        ok, old = claim(doc_id, shown, real)
        if ok:
            sources.append(Source(doc_id, shown, real, root, shown, old))
    for upload in changes.add:
        dest = upload.dest.resolve()
        doc_id = make_doc_id(dest, dest.parent)
        ok, old = claim(doc_id, upload.dest, dest)
        if ok:
            sources.append(
                Source(doc_id, upload.staged, dest, dest.parent, upload.dest, old, upload)
            )

    # One file, one document: the same file under a new id (its folder ingested from
    # another level) replaces the document of its old id, and a document that came in
    # through a link that now leads out of its folder goes.
    stale = [by_path.get(str(s.path)) for s in sources if by_path.get(str(s.path)) != s.doc_id]
    stale += [link_id for link_id, target in refused if by_path.get(str(target)) == link_id]
    for old_id in stale:
        if old_id is not None and old_id not in removing:
            removing.add(old_id)
            plan.removed.append(old_id)

    kept_ids: set[str] = set()
    for source in sources:
        digest = hash(source.read)
        if isinstance(digest, IngestProblem):
            plan.problems.append(IngestProblem(source.shown, digest.reason))
            if source.old is not None:
                plan.keep.append(source.old)  # it keeps its last good version
                kept_ids.add(source.doc_id)
            continue
        old = source.old
        if reuse and old is not None and old.content_hash == digest:
            old.path, old.root = str(source.path), str(source.root)
            plan.keep.append(old)
            plan.unchanged.append(source.doc_id)
            kept_ids.add(source.doc_id)
            if source.upload is not None:
                plan.placed.append(source.upload)
            continue
        plan.parse.append(source)

    parsing = {s.doc_id for s in plan.parse}
    for doc_id, old in prev.items():
        if doc_id in kept_ids or doc_id in parsing or doc_id in removing:
            continue
        if gone(old) and any(_under(Path(old.path), r) for r in roots) and changes.remove_missing:
            plan.removed.append(doc_id)
        elif reuse:
            plan.keep.append(old)
        else:
            # The vectors do not fit any more: read the document again from where it lives.
            path = Path(old.path)
            plan.parse.append(Source(doc_id, path, path, Path(old.root), path, reread=True))
    return plan


def first_usable(
    sources: Sequence[Source],
    usable: Sequence[bool],
    problems: list[IngestProblem],
    claimed: dict[str, Path] | None = None,
) -> list[bool]:
    """Which of ``sources`` (in order) keep their id: the first usable one of each id.

    Two files of one write with the same id ("Kế hoạch.md", "ke-hoach.txt") cannot
    both be documents; a file that could not be read does not take the id from one
    that can. The others are reported by name. ``claimed``: ids already taken by
    earlier sources (updated).
    """
    claimed = {} if claimed is None else claimed
    keep = []
    for source, ok in zip(sources, usable, strict=True):
        if ok and source.doc_id in claimed:
            problems.append(
                IngestProblem(
                    source.shown, f"same document id {source.doc_id!r} as {claimed[source.doc_id]}"
                )
            )
            ok = False
        elif ok:
            claimed[source.doc_id] = source.shown
        keep.append(ok)
    return keep


class _Claims:
    """:func:`first_usable`, one source at a time (in order), for a stream of results."""

    def __init__(self, problems: list[IngestProblem]) -> None:
        self.claimed: dict[str, Path] = {}
        self.problems = problems

    def claim(self, source: Source, usable: bool) -> bool:
        [ok] = first_usable([source], [usable], self.problems, self.claimed)
        return ok


def _stored(chunk: Chunk) -> StoredChunk:
    c = chunk
    return StoredChunk(
        -1,
        c.doc_id,
        c.ordinal,
        c.section,
        c.page,
        c.text,
        c.embed_text,
        char_start=c.start,
        char_end=c.end,
        first_block=c.first_block,
        first_offset=c.first_offset,
        last_block=c.last_block,
        last_offset=c.last_offset,
    )


# --- executors: who extracts and embeds -----------------------------------------------------


class Executor(Protocol):
    """Runs the two expensive stages; the pipeline does everything else the same way."""

    def extract(
        self, sources: Sequence[Source], progress: ProgressFactory | None
    ) -> Iterable[ParsedDocument | IngestProblem]:
        """One result per source, in order (an iterator lets the pipeline start on the first)."""
        ...

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passages and their sentences in one pass (:class:`~index.embed_base.SentenceEmbedder`);
        only called when the embedder is one."""
        ...


class LocalExecutor:
    """In this process: ``parser`` file by file, the embedder in batches."""

    def __init__(self, embedder: Embedder, parser: Parser | None = None) -> None:
        self.embedder = embedder
        self.parser: Parser = parser or parse_file

    def extract(
        self, sources: Sequence[Source], progress: ProgressFactory | None
    ) -> Iterator[ParsedDocument | IngestProblem]:
        tick = progress("reading", len(sources)) if progress and sources else None
        items = [(source.read, source.root) for source in sources]
        # The extraction sandbox reads batches of files in a pool of helpers.
        many = getattr(self.parser, "map", None)
        results = many(items) if many is not None else (self.parser(p, r) for p, r in items)
        for result in results:
            yield result
            if tick:
                tick(1)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.embedder.embed_passages(texts, progress=progress)

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return sentences_of(self.embedder, texts, sentences, progress)


class _Passages:
    """The embedder as the derived-file builders see it, embedding through the executor."""

    def __init__(self, embedder: Embedder, executor: Executor) -> None:
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.gives_sentences = gives_sentences(embedder)
        self._embedder = embedder
        self._executor = executor

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self._executor.embed_passages(texts, progress=progress)

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._executor.embed_passages_and_sentences(texts, sentences, progress=progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_queries(texts)

    def token_count(self, text: str) -> int:
        return self._embedder.token_count(text)


class Publisher(Protocol):
    """Where a version is served from besides its folder (:class:`index.stores.Backend`)."""

    def publish(self, version_dir: Path) -> str:
        """Make the complete version at ``version_dir`` searchable; a line for the report."""
        ...

    def retire(self, versions: Sequence[str]) -> list[str]:
        """Forget ``versions``, whose folders garbage collection removed; what went."""
        ...


class _Embedding:
    """Embeds the chunks of claimed documents group by group, as they arrive, and hands
    each group to the version being written (:class:`_Version`): nothing of a document
    is kept once its group is on disk.

    Drives the ingest's progress bar: documents done, their rate per minute and the
    time left at that rate, chunks and sentences embedded.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        documents: int,
        report: BuildReport,
        version: Callable[[], _Version],
    ) -> None:
        assert pipeline.executor is not None
        self.method = pipeline.method
        self.passages = _Passages(pipeline.embedder, pipeline.executor)
        self.report = report
        self.version = version  # opened on first use
        self.pending: list[tuple[StoredDocument, list[StoredChunk]]] = []
        self.pending_chunks = 0
        self.waiting = 0  # documents whose chunks are pending
        self.total = documents
        self.done = 0
        self.started = time.perf_counter()
        progress = pipeline.progress
        self.bar = progress("documents", documents) if progress and documents else None

    def add(self, parsed: ParsedDocument, chunks: Sequence[Chunk]) -> None:
        self.pending.append((_to_stored(parsed, len(chunks)), [_stored(c) for c in chunks]))
        if parsed.warnings:
            self.report.warnings[parsed.meta.doc_id] = list(parsed.warnings)
        self.pending_chunks += len(chunks)
        self.waiting += 1
        if self.pending_chunks >= EMBED_GROUP:
            self._flush()

    def skip(self) -> None:
        self.waiting += 1
        if not self.pending:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            chunks = [c for _, cs in self.pending for c in cs]
            with self.report.timing("embed"):
                group = embed_chunks(chunks, self.passages, self.method)
            crash_point("embedded")
            with self.report.timing("write"):
                self.version().add_embedded(self.pending, group)
            crash_point("group_written")
            self.report.embedded_chunks += len(chunks)
            self.report.embedded_windows += len(group.windows)
            self.pending = []
            self.pending_chunks = 0
        self.done += self.waiting
        if self.bar is not None and self.waiting:
            # Described before the step: the step is what redraws the bar.
            describe_bar = getattr(self.bar, "describe", None)
            if describe_bar is not None:
                describe_bar(self.describe())
            self.bar(self.waiting)
        self.waiting = 0

    def describe(self) -> str:
        """'120 docs/min, 3 min left, 1840 chunks, 9120 sentences'."""
        r = self.report
        minutes = (time.perf_counter() - self.started) / 60
        rate = self.done / minutes if minutes > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = f"{left:.0f} min left" if left is not None and left >= 1 else "under a minute left"
        return (
            f"{rate:.0f} docs/min, {eta}, "
            f"{r.embedded_chunks} chunks, {r.embedded_windows} sentences"
        )

    def finish(self) -> None:
        self._flush()


class _Version:
    """The version being written: records and vectors go to disk document group by
    document group (:class:`~index.store.VersionWriter`), the sentence windows beside
    them, so memory holds one group, not the collection.

    Kept documents (unchanged since ``previous``) take their vectors and windows from
    it; their windows are embedded again only when ``previous`` has none that fit.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        report: BuildReport,
        previous: Snapshot | None,
        passages: _Passages,
    ) -> None:
        self.pipeline = pipeline
        self.report = report
        self.previous = previous
        self.passages = passages
        self.method = pipeline.method
        self.dim = pipeline.embedder.dim
        self.writer = VersionWriter(pipeline.index_dir, self.dim)
        self.owners: NpyAppender | None = None
        self.windows: NpyAppender | None = None
        self.old_windows: WindowIndex | None = None
        self.reuse_windows = False
        # Where the previous version's chunk and window rows went in this one (-1: gone),
        # so that its approximate indexes can be carried over (index.ann.carry_dense_index).
        self.moved_chunks = np.full(len(previous) if previous is not None else 0, -1, np.int64)
        self.moved_windows: np.ndarray | None = None
        try:
            if self.method is not None:
                self.owners = self.writer.appender(OWNERS_FILE, np.int32)
                self.windows = self.writer.appender(VECTORS_FILE, np.float32, self.dim)
                if previous is not None:
                    try:
                        self.old_windows = WindowIndex.load(previous.path)
                    except IndexUnavailable:
                        self.old_windows = None  # embed them all again
                old = self.old_windows
                self.reuse_windows = (
                    old is not None
                    and old.size == WINDOW_SENTENCES
                    and old.method == self.method
                    and old.sentence_pass == sentence_pass(self.method)
                )
                if self.reuse_windows and old is not None:
                    self.moved_windows = np.full(len(old), -1, np.int64)
        except BaseException:
            self.writer.abort()
            raise
        self.kept = 0
        self.kept_ids: set[str] = set()  # documents copied from ``previous`` as they were

    def add_embedded(
        self, documents: Sequence[tuple[StoredDocument, list[StoredChunk]]], group: Embedded
    ) -> None:
        """New documents with their chunks, embedded together as ``group`` (in order)."""
        first = self.writer.chunks
        at = 0
        for doc, chunks in documents:
            self.writer.add(doc, chunks, group.vectors[at : at + len(chunks)])
            at += len(chunks)
        self._add_windows(first, group)

    def _add_windows(self, first: int, group: Embedded) -> None:
        if self.owners is not None and self.windows is not None and len(group.windows):
            self.owners.append(group.owners.astype(np.int64) + first)
            self.windows.append(group.windows)

    def keep(self, documents: Sequence[StoredDocument]) -> None:
        """Unchanged documents of ``previous``, with its vectors (and windows)."""
        assert self.previous is not None
        batch: list[tuple[StoredDocument, list[StoredChunk], np.ndarray]] = []
        size = 0
        for doc in documents:
            doc.blocks = self.previous.blocks_of(doc.doc_id)
            stored = self.previous.doc_chunks(doc.doc_id)
            ids = [c.id for c in stored]
            vectors = (
                np.asarray(self.previous.vectors[ids], dtype=np.float32)
                if ids
                else np.zeros((0, self.dim), np.float32)
            )
            batch.append((doc, stored, vectors))
            size += len(stored)
            if size >= EMBED_GROUP:
                self._keep(batch)
                batch, size = [], 0
        if batch:
            self._keep(batch)
        self.kept += len(documents)
        self.kept_ids.update(doc.doc_id for doc in documents)

    def _keep(self, batch: list[tuple[StoredDocument, list[StoredChunk], np.ndarray]]) -> None:
        first = self.writer.chunks
        for doc, stored, vectors in batch:
            self.writer.add(doc, stored, vectors)
        # The previous version's rows are read once: their pages need not stay resident.
        if self.previous is not None:
            release_pages(self.previous.vectors)
        chunks = [c for _, cs, _ in batch for c in cs]
        old_ids = np.array([c.id for c in chunks], dtype=np.int64)
        self.moved_chunks[old_ids] = first + np.arange(len(chunks))
        if self.method is None:
            return
        if self.reuse_windows and self.old_windows is not None:
            old = self.old_windows
            rows = [np.arange(s.start, s.stop) for s in (old.rows_of(c.id) for c in chunks)]
            counts = np.array([len(r) for r in rows], dtype=np.int64)
            owners = np.repeat(np.arange(len(chunks), dtype=np.int64), counts)
            flat = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            vectors = np.asarray(old.vectors[flat], dtype=np.float32)
            if self.moved_windows is not None and self.windows is not None:
                self.moved_windows[flat] = self.windows.rows + np.arange(len(flat))
            release_pages(old.vectors)
            self._add_windows(first, Embedded(np.zeros((len(chunks), 0)), owners, vectors))
            return
        # The previous version has no windows made this way: embed the kept chunks'
        # (their chunk vectors stay the previous version's).
        with self.report.timing("embed"):
            group = embed_chunks(chunks, self.passages, self.method)
        self.report.embedded_windows += len(group.windows)
        self._add_windows(first, group)

    def finish(
        self, manifest: dict[str, Any], publish: Callable[[Path], None], collect: bool
    ) -> Path:
        """The derived files (lexical, accents, windows' index, assignments), then the
        version itself, switched in."""
        writer = self.writer
        report = self.report
        writer.db.commit()
        with report.timing("index"):
            if self.owners is not None and self.windows is not None:
                finish_window_files(
                    writer.folder,
                    self.owners.close(),
                    self.windows.close(),
                    self.pipeline.embedder.name,
                    self.dim,
                    self.pipeline.ann,
                    self.method or DEFAULT_METHOD,
                    carry=self._carry("windows.faiss", self.moved_windows),
                )
            if self.previous is None or not _carry_text_files(
                writer.db, writer.folder, self.previous, self.moved_chunks, self.kept_ids
            ):
                _write_text_files(writer.db, writer.folder)
        # Finding assignments is indexing; embedding their tasks is the model's time.
        model_before = report.stages.get("embed", 0.0)
        started_index = time.perf_counter()

        def embed_tasks(texts: list[str]) -> np.ndarray:
            with report.timing("embed"):
                return self.passages.embed_passages(texts)

        previous_path = self.previous.path if self.previous is not None else None
        # Blocks are skipped only for documents whose records are really copied: a file made
        # by other extractor code (an upgrade) is read from scratch, every document with it.
        carried = carried_documents(previous_path, self.kept_ids)
        files = assignment_files(
            _StoredBlocks(writer.db, carried),
            _ChunkTexts(writer.db),
            embed_tasks,
            self.dim,
            previous_path,
            kept=self.kept_ids,
        )
        for name, data in files.items():
            writer.write_file(name, data)
        model = report.stages.get("embed", 0.0) - model_before
        report.stages["index"] = (
            report.stages.get("index", 0.0) + time.perf_counter() - started_index - model
        )
        with report.timing("write"):
            return writer.finish(
                manifest,
                self.pipeline.ann or AnnConfig(),
                publish,
                collect,
                carry=self._carry("dense.faiss", self.moved_chunks),
            )

    def _carry(
        self, name: str, moved: np.ndarray | None
    ) -> Callable[[np.ndarray], tuple[Any, dict[str, Any], np.ndarray] | None] | None:
        """The previous version's approximate index ``name`` brought to this version's rows
        (:func:`index.ann.carry_dense_index`), when its rows were carried over."""
        previous = self.previous
        if previous is None or moved is None or not np.any(moved >= 0):
            return None
        if name == "dense.faiss":
            info = previous.manifest.get("dense_index")
        else:
            try:
                info = json.loads((previous.path / WINDOWS_MANIFEST).read_text())["index"]
            except (OSError, ValueError, KeyError):
                return None
        ann = self.pipeline.ann or AnnConfig()
        return lambda vectors: carry_dense_index(previous.path / name, info, moved, vectors, ann)

    def abort(self) -> None:
        self.writer.abort()


def _write_text_files(db: sqlite3.Connection, folder: Path) -> None:
    """The lexical index and the accent model, from the chunks already written to ``db``,
    into ``folder``.

    Texts are read back in order a block at a time and tokenised once, for both; the
    lexical index takes each chunk's syllables as they come and the accent model
    only counts them, so neither holds the collection's tokens.
    """
    lexical = LexicalBuilder(folder)

    def bodies() -> Iterator[list[str]]:
        rows = db.execute("SELECT embed_text, text FROM chunks ORDER BY id")
        while block := rows.fetchmany(512):
            heads, texts = zip(*block, strict=True)
            embedded, body = chunk_syllables(heads, texts)
            for tokens in embedded:
                lexical.add(tokens)
            yield from body
        # Titles once, not once per chunk, so they do not skew the syllable counts.
        for (title,) in db.execute("SELECT title FROM documents"):
            yield tokenize(title)

    try:
        for name, data in accent_files(bodies()).items():
            (folder / name).write_bytes(data)
        lexical.write(folder)
    except BaseException:
        lexical.abandon()  # its open files; the version's folder goes with the failure
        raise


# Share of a version's chunks that may be new for its lexical index and accent model to be
# carried over from the previous version; past it they are built again from the text.
CARRY_TEXT_BELOW = 0.25


def _carry_text_files(
    db: sqlite3.Connection,
    folder: Path,
    previous: Snapshot,
    moved: np.ndarray,
    kept_ids: Collection[str],
) -> bool:
    """The lexical index and accent model of a version that kept most of ``previous``'s
    chunks (``moved``: where each of its chunks went, -1 gone), without analysing their
    text again: their postings are copied, the new chunks analysed, and the accent
    counts updated by what came and went. False (nothing written) when the previous
    version's files were made by other code, or most chunks are new."""
    n = int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    carried = np.flatnonzero(moved >= 0)
    if not len(carried) or n - len(carried) > CARRY_TEXT_BELOW * n:
        return False
    lexical = LexicalBuilder.continuing(previous.path, folder)
    if lexical is None:
        return False
    origin = np.full(n, -1, dtype=np.int64)  # row of the previous version, or -1 (new)
    origin[moved[carried]] = carried
    fresh = np.flatnonzero(origin < 0).tolist()
    embedded: dict[int, list[str]] = {}
    added: list[list[str]] = []
    for lo in range(0, len(fresh), 500):
        ids = fresh[lo : lo + 500]
        rows = db.execute(
            f"SELECT id, embed_text, text FROM chunks WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
        heads, bodies = chunk_syllables([r[1] for r in rows], [r[2] for r in rows])
        embedded.update(zip([r[0] for r in rows], heads, strict=True))
        added += bodies
    added += [
        tokenize(t)
        for d, t in db.execute("SELECT doc_id, title FROM documents")
        if d not in kept_ids
    ]
    gone_ids = np.flatnonzero(moved < 0).tolist()
    gone = [
        syllables(c.text)
        for lo in range(0, len(gone_ids), 500)
        for c in previous.chunks(gone_ids[lo : lo + 500])
    ]
    gone += [
        tokenize(d.title) for d in previous.documents(blocks=False) if d.doc_id not in kept_ids
    ]
    accents = carried_accent_files(previous.path, gone, added)
    if accents is None:
        lexical.abandon()
        return False
    try:
        # Rows in id order: runs of carried chunks copied, new ones from their analysis.
        edges = [0, *(np.flatnonzero(np.diff(origin < 0)) + 1).tolist(), n]
        for lo, hi in pairwise(edges):
            if origin[lo] >= 0:
                lexical.add_previous(origin[lo:hi])
            else:
                for i in range(lo, hi):
                    lexical.add(embedded.pop(i))
        for name, data in accents.items():
            (folder / name).write_bytes(data)
        lexical.write(folder)
    except BaseException:
        lexical.abandon()
        raise
    return True


class _StoredBlocks(Sequence[Any]):
    """The documents of a version being written, one at a time: ``doc_id`` and ``blocks``
    (what finding assignments reads), read from its SQLite file."""

    def __init__(self, db: sqlite3.Connection, unread: Collection[str] = ()) -> None:
        self.db = db
        self.n = int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        self.unread = unread  # ids whose blocks are not needed (their records are copied)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        raise IndexError("read in order")

    def __iter__(self) -> Iterator[Any]:
        rows = self.db.execute("SELECT doc_id, blocks FROM documents ORDER BY rowid")
        for doc_id, blocks in rows:
            yield SimpleNamespace(
                doc_id=doc_id, blocks=[] if doc_id in self.unread else json.loads(blocks)
            )


class _ChunkTexts(dict[str, list[str]]):
    """Chunk texts of a document, in order, by doc id: read from the version's SQLite file
    when asked instead of held for the whole collection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__()
        self.db = db

    def get(self, doc_id: str, default: Any = None) -> Any:
        rows = self.db.execute(
            "SELECT text FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,)
        ).fetchall()
        return [text for (text,) in rows] if rows else default


# --- the pipeline -------------------------------------------------------------------------


# DocumentMeta fields with a column of their own; any other field goes to StoredDocument.meta.
_COLUMNS = {"doc_id", "title", "source", "path", "date", "doc_type", "provinces", "header"}


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
        blocks=[b.stored() for b in doc.blocks],
        n_chunks=n_chunks,
        meta={k: v for k, v in asdict(m).items() if k not in _COLUMNS},
        header=m.header.to_json(),
    )


@dataclass
class Pipeline:
    """How versions of the index at ``index_dir`` are made: one per :meth:`run`."""

    index_dir: Path
    embedder: Embedder
    chunker: Chunker | None = None
    parser: Parser | None = None
    executor: Executor | None = None
    ann: AnnConfig | None = None
    windows: bool = True
    progress: ProgressFactory | None = None
    publisher: Publisher | None = None
    lock_timeout: float | None = None
    max_file_bytes: int | None = None  # larger files are refused from their size, unread
    window_method: str = DEFAULT_METHOD
    _collect: bool = field(default=True, init=False, repr=False)

    def __post_init__(self) -> None:
        self.chunker = self.chunker or default_chunker(self.embedder)
        self.executor = self.executor or LocalExecutor(self.embedder, self.parser)
        # None: no windows. "late" falls back to "separate" for embedders without token states.
        self.method = resolve_method(self.window_method, self.embedder) if self.windows else None

    def settings(self) -> dict[str, Any]:
        """What the manifest records so a later build can tell whether vectors still fit."""
        assert self.chunker is not None
        e = self.embedder
        return {
            "embedder": e.name,
            "dim": e.dim,
            "chunker": self.chunker.settings(),
            "passages": passage_pass(self.method),
        }

    def _fits(self, previous: Snapshot) -> bool:
        """Whether ``previous``'s vectors are what this pipeline would compute."""
        assert self.chunker is not None
        return (
            previous.embedder == self.embedder.name
            and previous.manifest.get("chunker") == self.chunker.settings()
            and previous.manifest.get("passages", "plain") == passage_pass(self.method)
        )

    def run(self, changes: Changes) -> BuildReport:
        started = time.perf_counter()
        report = BuildReport()
        with writer_lock(self.index_dir, timeout=self.lock_timeout):
            report.repaired = repair_current(self.index_dir)
            previous = self._previous(changes, report)
            try:
                self._run(changes, previous, report, started)
            finally:
                if previous is not None:
                    previous.close()
        for observe in BUILD_OBSERVERS:
            observe(report)
        return report

    def _previous(self, changes: Changes, report: BuildReport) -> Snapshot | None:
        # A `current` naming a missing or unusable version goes back to the newest intact
        # one, never to a new index of this write's files alone (the rest would be lost).
        publish = self.publisher.publish if self.publisher is not None else None
        relinked = relink_intact(self.index_dir, publish)
        path = current_path(self.index_dir)
        if path is None:
            if (self.index_dir / "current").is_symlink():
                raise no_index(self.index_dir)  # re-linked a moment ago; never build over it
            return None
        try:
            previous = Snapshot(path)
        except IndexUnavailable as exc:
            relinked = relink_intact(self.index_dir, publish, unusable=str(exc))
            previous = Snapshot(current_path(self.index_dir) or path)
        if relinked:
            # A write that repaired a damaged index deletes no version: which one the
            # operator wants back may not be the one re-linked.
            self._collect = False
            report.repaired = "; ".join(filter(None, [report.repaired, relinked]))
        if not self._fits(previous):
            if not changes.rebuild:
                previous.close()
                raise IndexUnavailable(
                    f"the index was built with embedder {previous.embedder!r} and other chunker "
                    f"or sentence-window settings than {self.embedder.name!r} uses now; rebuild "
                    "it with `policy-search ingest` before adding or removing documents"
                )
            report.full_rebuild_reason = (
                f"embedder, chunker or window method changed ({previous.embedder} "
                f"{previous.manifest.get('passages', 'plain')} -> {self.embedder.name} "
                f"{passage_pass(self.method)})"
            )
        return previous

    def _run(
        self, changes: Changes, previous: Snapshot | None, report: BuildReport, started: float
    ) -> None:
        assert self.chunker is not None and self.executor is not None
        reuse = previous is not None and not report.full_rebuild_reason
        max_bytes = self.max_file_bytes
        plan = plan_changes(previous, changes, reuse, lambda p: hash_file(p, max_bytes))
        report.problems = plan.problems
        report.removed, report.missing = plan.removed, plan.missing
        report.unchanged = plan.unchanged
        placed = list(plan.placed)
        kept_source = previous if reuse else None
        passages = _Passages(self.embedder, self.executor)
        opened: list[_Version] = []

        def version() -> _Version:
            """The version being written, opened with the kept documents first."""
            if not opened:
                opened.append(_Version(self, report, kept_source, passages))
                if kept_source is not None and plan.keep:
                    with report.timing("write"):
                        opened[0].keep(plan.keep)
            return opened[0]

        try:
            # Sources read, by outcome only: a parsed document is on disk (or dropped)
            # once its group is embedded, never held for the whole collection.
            results: list[tuple[Source, str | None, bool]] = []
            new = 0
            claims = _Claims(report.problems)
            embedding = _Embedding(self, len(plan.parse), report, version)
            # Read and chunk in a thread, a bounded queue ahead of the model: the next
            # documents are extracted (in the sandbox's processes) and chunked while the
            # model embeds the ones before them.
            for source, parsed, chunks in self._stream(plan.parse, report):
                ok = isinstance(parsed, ParsedDocument)
                claimed = claims.claim(source, ok)
                problem = parsed.reason if isinstance(parsed, IngestProblem) else None
                results.append((source, problem, claimed))
                if claimed:
                    assert isinstance(parsed, ParsedDocument)
                    embedding.add(parsed, chunks)
                    new += 1
                else:
                    embedding.skip()
                del parsed, chunks
            embedding.finish()
            claimed_ids = set(claims.claimed)
            late_keep: list[StoredDocument] = []
            for source, problem, claimed in results:
                if claimed:
                    if source.upload is not None:
                        placed.append(source.upload)
                    if not source.reread:  # a full rebuild re-reads: neither added nor updated
                        (report.updated if source.old is not None else report.added).append(
                            source.doc_id
                        )
                    continue
                if problem is not None:
                    report.problems.append(IngestProblem(source.shown, problem))
                if source.old is not None and reuse and source.doc_id not in claimed_ids:
                    # A file that turned unusable keeps its last good version.
                    late_keep.append(source.old)
                elif source.reread:
                    report.removed.append(source.doc_id)  # cannot be read again for the rebuild
            crash_point("parsed")

            if not new and not report.removed and not changes.always_write:
                # Nothing changed: no new version.
                for upload in placed:
                    _place(upload)
                if previous is not None:
                    counts = previous.manifest.get("counts", {})
                    report.version = previous.version
                    report.documents = counts.get("documents", 0)
                    report.chunks = counts.get("chunks", 0)
                report.seconds = time.perf_counter() - started
                if opened:
                    opened[0].abort()
                return
            being_written = version()
            if late_keep:
                with report.timing("write"):
                    being_written.keep(late_keep)
            # Files go to their lasting place before the version that names them exists:
            # a crash in between leaves a file nobody indexes yet, never an index entry
            # whose file is missing.
            for upload in placed:
                _place(upload)
            self._write(being_written, report, started)
        except BaseException:
            if opened:
                opened[0].abort()
            raise

    def _stream(
        self, sources: Sequence[Source], report: BuildReport
    ) -> Iterator[tuple[Source, ParsedDocument | IngestProblem, list[Chunk]]]:
        """(source, parsed document or problem, chunks) of every source, in order.

        Extraction and chunking run in a thread of their own, at most
        :data:`READ_AHEAD` documents ahead of the caller.
        """
        assert self.chunker is not None and self.executor is not None
        chunker, executor = self.chunker, self.executor
        ahead: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD)
        stop = threading.Event()
        done = object()

        def put(item: Any) -> None:
            while not stop.is_set():
                try:
                    ahead.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def read() -> None:
            try:
                results = iter(executor.extract(sources, None))
                for source in sources:
                    with report.timing("extract"):
                        parsed = next(results)
                    chunks: list[Chunk] = []
                    if isinstance(parsed, ParsedDocument):
                        parsed.meta.doc_id = source.doc_id
                        parsed.meta.path = str(source.path)
                        if parsed.meta.source == source_name(source.read, source.root):
                            # An upload is read from its staging copy: its source is the
                            # name it is kept under, not the staging folder's.
                            parsed.meta.source = source_name(source.path, source.root)
                        parsed.root = str(source.root)
                        with report.timing("chunk"):
                            chunks = chunker.chunk(parsed)
                        if not chunks:
                            parsed = IngestProblem(source.shown, "no text to index after chunking")
                    put((source, parsed, chunks))
                    if stop.is_set():
                        return
                put(done)
            except BaseException as exc:  # raised again in the caller
                put(exc)

        reader = threading.Thread(target=read, name="ingest-read", daemon=True)
        reader.start()
        try:
            while True:
                item = ahead.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            reader.join()

    def _write(self, version: _Version, report: BuildReport, started: float) -> None:
        """Complete the version (its derived files), publish it and switch."""
        manifest = {
            **self.settings(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - started, 3),
        }

        def publish(version_dir: Path) -> None:
            if self.publisher is not None:
                report.published = self.publisher.publish(version_dir)

        versions = self.index_dir / "versions"

        def on_disk() -> set[str]:
            return (
                {p.name for p in versions.iterdir() if p.name[:1] != "."}
                if versions.exists()
                else set()
            )

        before = on_disk()
        documents, chunks = version.writer.documents, version.writer.chunks
        final = version.finish(manifest, publish, self._collect)
        with report.timing("write"):
            gone = sorted(before - on_disk())
            if self.publisher is not None and gone:
                self.publisher.retire(gone)
        report.dense_index = json.loads((final / "manifest.json").read_text())["dense_index"]
        report.version = final.name
        report.documents = documents
        report.chunks = chunks
        report.seconds = time.perf_counter() - started


def _place(upload: Upload) -> None:
    if upload.staged.resolve() != upload.dest.resolve():
        upload.dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(upload.staged, upload.dest)


# --- the two ways in ----------------------------------------------------------------------


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
    publisher: Publisher | None = None,
    executor: Executor | None = None,
    max_file_bytes: int | None = None,
    window_method: str = DEFAULT_METHOD,
) -> BuildReport:
    """Bring the index at ``index_dir`` in step with the files under ``paths`` (``ingest``).

    ``windows``: also give every sentence of each chunk a vector, made the
    ``window_method`` way (:mod:`index.windows`).
    ``max_file_bytes``: larger files are skipped from their size, unread.
    """
    pipeline = Pipeline(
        index_dir,
        embedder,
        chunker=chunker,
        parser=parser,
        executor=executor,
        ann=ann,
        windows=windows,
        progress=progress,
        publisher=publisher,
        max_file_bytes=max_file_bytes,
        window_method=window_method,
    )
    changes = Changes(
        folders=tuple(Path(p) for p in paths),
        remove_missing=remove_missing,
        rebuild=True,
        always_write=True,
    )
    return pipeline.run(changes)


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
    publisher: Publisher | None = None,
    window_method: str = DEFAULT_METHOD,
) -> BuildReport:
    """Add files and remove documents by id in one new version (nothing written if no change).

    Documents not named are kept with their vectors. Files that cannot be used
    land in ``report.problems`` (with ``dest`` as their path); ids that are not
    in the index land in ``report.missing``.
    """
    pipeline = Pipeline(
        index_dir,
        embedder,
        chunker=chunker,
        parser=parser,
        ann=ann,
        windows=windows,
        publisher=publisher,
        lock_timeout=lock_timeout,
        window_method=window_method,
    )
    return pipeline.run(Changes(add=tuple(add), remove_ids=tuple(remove_ids)))
