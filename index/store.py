"""On-disk index: versions swapped in atomically, read as immutable snapshots.

Layout of ``INDEX_DIR``::

    current -> versions/<id>      symlink, replaced atomically by each build
    versions/<id>/manifest.json   embedder, dimension, chunker settings, counts
    versions/<id>/chunks.sqlite   documents and chunks (text, section, page)
    versions/<id>/vectors.npy     float32 passage vectors, row i = chunk id i
    versions/<id>/dense.faiss     FAISS inner-product index over those rows (exact or
                                  IVF-SQ8 by size, see index/ann.py)
    .writer.lock                  held by the one build running

A build writes a new version folder next to the others and only then points
``current`` at it, so a crash at any point leaves the previous version
serving, and a reader that opened a snapshot keeps a consistent view.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.ann import AnnConfig, build_dense_index, load_dense_index

FORMAT_VERSION = 1
KEEP_VERSIONS = 2  # the version served and the one served before it (rollback target)
CRASH_ENV = "POLICY_SEARCH_CRASH_AT"

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    root TEXT NOT NULL,
    date TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    provinces TEXT NOT NULL,      -- JSON list
    content_hash TEXT NOT NULL,
    blocks TEXT NOT NULL,         -- JSON list of [text, page, heading_level]
    n_chunks INTEGER NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',  -- JSON object: any further metadata (StoredDocument.meta)
    header TEXT NOT NULL DEFAULT '{}'  -- JSON: ingest.models.DocumentHeader
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,       -- row of vectors.npy and of the FAISS index
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id, ordinal);
"""


class IndexUnavailable(Exception):
    """The index is missing, incompatible or inconsistent; the message says which."""


class IndexBusy(IndexUnavailable):
    """Another ingest holds the writer lock."""


def crash_point(name: str) -> None:
    """Test hook: die here as an OOM kill or power cut would (SIGKILL, no cleanup).

    Set ``POLICY_SEARCH_CRASH_AT`` to a point's name; the crash tests walk all of
    them and check that the previous complete version keeps serving.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class StoredDocument:
    doc_id: str
    title: str
    source: str
    path: str
    root: str
    date: str
    doc_type: str
    provinces: list[str]
    content_hash: str
    blocks: list[list[Any]]
    n_chunks: int
    # Further metadata, kept as a JSON object so that a new field (an official
    # document's issuer, number, signer, ...) needs no new column: every field of
    # ingest.models.DocumentMeta beyond the ones above lands here at ingest.
    meta: dict[str, Any] = field(default_factory=dict)
    # An official document's header (issuer, number, bases, references, ...), as JSON.
    header: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredChunk:
    id: int
    doc_id: str
    ordinal: int
    section: str
    page: int | None
    text: str
    embed_text: str


@dataclass
class NewVersion:
    """Everything a build hands to :func:`write_version`."""

    manifest: dict[str, Any]
    documents: list[StoredDocument]
    chunks: list[StoredChunk]  # ids are reassigned 0..n-1 in this order
    vectors: np.ndarray
    extra_files: dict[str, bytes] = field(default_factory=dict)
    ann: AnnConfig = field(default_factory=AnnConfig)


def _doc_from_row(row: sqlite3.Row) -> StoredDocument:
    return StoredDocument(
        doc_id=row["doc_id"],
        title=row["title"],
        source=row["source"],
        path=row["path"],
        root=row["root"],
        date=row["date"],
        doc_type=row["doc_type"],
        provinces=json.loads(row["provinces"]),
        content_hash=row["content_hash"],
        blocks=json.loads(row["blocks"]),
        n_chunks=row["n_chunks"],
        # Versions written before the column existed have none (on a sqlite3.Row,
        # `in` looks at the values, so the keys are asked for).
        meta=json.loads(row["meta"]) if "meta" in row.keys() else {},  # noqa: SIM118
        # Versions written before the column existed have no header.
        header=json.loads(row["header"]) if "header" in row.keys() else {},  # noqa: SIM118 (a Row)
    )


def _chunk_from_row(row: sqlite3.Row) -> StoredChunk:
    return StoredChunk(
        id=row["id"],
        doc_id=row["doc_id"],
        ordinal=row["ordinal"],
        section=row["section"],
        page=row["page"],
        text=row["text"],
        embed_text=row["embed_text"],
    )


class Snapshot:
    """One complete, immutable version of the index, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(
                f"index at {path} has no readable manifest.json ({exc})"
            ) from exc
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexUnavailable(
                f"index at {path} has format version {self.manifest.get('format_version')}, "
                f"this program reads version {FORMAT_VERSION}: re-run `policy-search ingest`"
            )
        uri = f"file:{path / 'chunks.sqlite'}?mode=ro&immutable=1"
        self._derived: dict[str, Any] = {}
        # Re-entrant: a store built as derived data loads other derived data (its vocabulary).
        self._derived_lock = threading.RLock()
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self.vectors = np.load(path / "vectors.npy", mmap_mode="r")
            # Declared Any: a FAISS index, or index.ann.RefinedIndex that searches like one.
            self.faiss_index: Any = load_dense_index(
                path / "dense.faiss", self.manifest.get("dense_index"), self.vectors
            )
            self.verify()
        except (OSError, ValueError, RuntimeError, sqlite3.Error) as exc:
            # A truncated or foreign file: say which index, not a library traceback.
            raise IndexUnavailable(f"index at {path} cannot be read ({exc})") from exc

    def derived(self, name: str, load: Callable[[Snapshot], Any]) -> Any:
        """A structure built from this version's files on first use, then kept (BM25, ...)."""
        with self._derived_lock:
            if name not in self._derived:
                self._derived[name] = load(self)
            return self._derived[name]

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def embedder(self) -> str:
        return str(self.manifest["embedder"])

    def verify(self) -> None:
        """Refuse an index whose parts disagree (a half-written or tampered version)."""
        n_chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        n_docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        max_id = self._db.execute("SELECT COALESCE(MAX(id), -1) FROM chunks").fetchone()[0]
        counts = self.manifest.get("counts", {})
        problems = []
        if counts.get("chunks") != n_chunks or counts.get("documents") != n_docs:
            problems.append(
                f"manifest says {counts} but chunks.sqlite has {n_docs} documents, {n_chunks} chunks"
            )
        if self.faiss_index.ntotal != n_chunks or self.vectors.shape[0] != n_chunks:
            problems.append(
                f"dense.faiss has {self.faiss_index.ntotal} vectors, vectors.npy "
                f"{self.vectors.shape[0]}, chunks.sqlite {n_chunks} chunks"
            )
        if max_id != n_chunks - 1:
            problems.append("chunk ids are not 0..n-1")
        orphans = self._db.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
        ).fetchone()[0]
        declared = self._db.execute("SELECT COALESCE(SUM(n_chunks), 0) FROM documents").fetchone()[
            0
        ]
        if orphans or declared != n_chunks:
            problems.append(
                f"{orphans} chunks belong to no document; documents declare {declared} chunks "
                f"but chunks.sqlite has {n_chunks}"
            )
        if self.faiss_index.d != self.manifest.get("dim"):
            problems.append(f"dense.faiss dimension {self.faiss_index.d} != manifest dim")
        if not problems and n_chunks:
            # Row i of vectors.npy must be vector i of the FAISS index: check a few rows.
            exact = self.manifest.get("dense_index", {}).get("exact", True)
            for i in sorted({0, n_chunks // 2, n_chunks - 1}):
                row = np.asarray(self.vectors[i], dtype=np.float32)
                if not (self._holds_exactly(i, row) if exact else self._finds(i, row)):
                    problems.append(f"dense.faiss vector {i} differs from vectors.npy row {i}")
                    break
        if problems:
            raise IndexUnavailable(f"index at {self.path} is inconsistent: " + "; ".join(problems))

    def prefetch(self) -> None:
        """Start reading the version's files into the page cache (for a server: see _prefetch).

        A thread: for gigabytes the kernel may block while it queues the reads.
        """
        threading.Thread(target=_prefetch, args=(self.path,), name="prefetch", daemon=True).start()

    def _holds_exactly(self, i: int, row: np.ndarray) -> bool:
        return bool(np.allclose(self.faiss_index.reconstruct(i), row, atol=1e-5))

    def _finds(self, i: int, row: np.ndarray) -> bool:
        """An approximate index finds row ``i`` by its own vector (or an identical row)."""
        _, ids = self.faiss_index.search(row.reshape(1, -1), 10)
        found = [int(j) for j in ids[0] if j >= 0]
        return i in found or any(np.array_equal(self.vectors[j], self.vectors[i]) for j in found)

    def check_embedder(self, embedder_name: str) -> None:
        if self.embedder != embedder_name:
            raise IndexUnavailable(
                f"index at {self.path} was built with embedder {self.embedder!r} but "
                f"{embedder_name!r} is configured; set POLICY_SEARCH_EMBEDDER={self.embedder} "
                "or rebuild the index with `policy-search ingest`"
            )

    def __len__(self) -> int:
        return int(self.faiss_index.ntotal)

    def documents(self) -> list[StoredDocument]:
        rows = self._db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        return [_doc_from_row(r) for r in rows]

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _doc_from_row(row) if row else None

    def chunks(self, ids: Sequence[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT * FROM chunks WHERE id IN ({marks})", list(ids))
        by_id = {r["id"]: _chunk_from_row(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]:
        rows = self._db.execute(
            "SELECT * FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,)
        ).fetchall()
        return [_chunk_from_row(r) for r in rows]

    def all_chunks(self) -> Iterator[StoredChunk]:
        for row in self._db.execute("SELECT * FROM chunks ORDER BY id"):
            yield _chunk_from_row(row)

    def chunk_doc_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT doc_id FROM chunks ORDER BY id")]

    def search_dense(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, len(self))
        if k <= 0:
            return []
        scores, ids = self.faiss_index.search(np.asarray(query, np.float32).reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def close(self) -> None:
        self._db.close()


def _prefetch(version_dir: Path) -> None:
    """Ask the kernel to read the version's files into the page cache, in the background.

    Search reads them at random (memory-mapped vectors and BM25 postings, SQLite
    pages): at a million chunks a query that found them on disk took twice as long
    (p95 140 vs 85 ms). Advice only: nothing is mapped or copied into the process,
    and the kernel may drop the pages again under memory pressure.
    """
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is None:
        return
    try:
        files = list(version_dir.iterdir())
    except OSError:  # the version was pruned meanwhile
        return
    for file in files:
        try:
            fd = os.open(file, os.O_RDONLY)
        except OSError:
            continue
        try:
            fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def current_path(index_dir: Path) -> Path | None:
    link = index_dir / "current"
    if not link.exists():
        return None
    return link.resolve()


def open_current(index_dir: Path) -> Snapshot:
    path = current_path(index_dir)
    if path is None:
        raise IndexUnavailable(
            f"no index at {index_dir}: build one with `policy-search ingest [PATH ...]`"
        )
    return Snapshot(path)


@contextmanager
def writer_lock(index_dir: Path, wait: bool = True, timeout: float | None = None) -> Iterator[None]:
    """One build at a time per index folder (an OS lock: released if the process dies).

    ``timeout`` (seconds) bounds the wait; past it :class:`IndexBusy` is raised.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".writer.lock", "w") as fh:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                blocking = wait and deadline is None
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                break
            except BlockingIOError as exc:
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    raise IndexBusy(f"another ingest is writing to {index_dir}") from exc
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_current(index_dir: Path) -> str:
    """Turn a ``current`` that is a folder (an index copied by a tool that follows links)
    back into a link to a version; what was done, or "" when nothing was needed.

    The folder is a complete version or it is refused: a clear message beats a build
    that fails to replace it. Called under the writer lock.
    """
    link = index_dir / "current"
    if link.is_symlink() or not link.is_dir():
        return ""
    try:
        version_id = str(json.loads((link / "manifest.json").read_text())["version"])
        Snapshot(link).close()
    except (OSError, ValueError, KeyError, IndexUnavailable) as exc:
        raise IndexUnavailable(
            f"{link} is a folder, not a link to a version, and not a usable version "
            f"({exc}); restore the index folder with its links (cp -a, rsync -a) or rebuild "
            "it with `policy-search ingest`"
        ) from exc
    versions = index_dir / "versions"
    versions.mkdir(exist_ok=True)
    target = versions / version_id
    if target.exists():
        # The copy also holds the version itself: the folder is a duplicate.
        stale = versions / f".tmp-copied-current-{uuid.uuid4().hex[:6]}"
        os.rename(link, stale)
        done = f"'current' was a copy of version {version_id}"
    else:
        os.rename(link, target)
        stale = None
        done = f"'current' was a folder; it is now version {version_id}"
    # Between the rename and the link a reader finds no index for a moment; a copied
    # folder is repaired once, by the next write.
    os.symlink(Path("versions") / version_id, link)
    _fsync_dir(index_dir)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)
    return done + ", linked again"


def write_version(
    index_dir: Path, new: NewVersion, before_switch: Callable[[Path], None] | None = None
) -> Path:
    """Write a complete version, then switch ``current`` to it atomically.

    ``before_switch(version_dir)`` runs once the version is complete and before
    ``current`` names it (a backend publishing it elsewhere); if it raises, the
    previous version keeps serving.
    """
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    # Sortable by time to the microsecond, so garbage collection keeps the newest.
    version_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
    tmp = versions / f".tmp-{version_id}"
    tmp.mkdir()
    try:
        db = sqlite3.connect(tmp / "chunks.sqlite")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    d.doc_id,
                    d.title,
                    d.source,
                    d.path,
                    d.root,
                    d.date,
                    d.doc_type,
                    json.dumps(d.provinces, ensure_ascii=False),
                    d.content_hash,
                    json.dumps(d.blocks, ensure_ascii=False),
                    d.n_chunks,
                    json.dumps(d.meta, ensure_ascii=False),
                    json.dumps(d.header, ensure_ascii=False),
                )
                for d in new.documents
            ],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
            [
                (i, c.doc_id, c.ordinal, c.section, c.page, c.text, c.embed_text)
                for i, c in enumerate(new.chunks)
            ],
        )
        db.commit()
        db.close()
        crash_point("sqlite_written")
        vectors = np.ascontiguousarray(new.vectors, dtype=np.float32)
        np.save(tmp / "vectors.npy", vectors)
        dense, dense_info = build_dense_index(vectors, int(new.manifest["dim"]), new.ann)
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        del dense
        crash_point("faiss_written")
        for name, data in new.extra_files.items():
            (tmp / name).write_bytes(data)
        manifest = dict(new.manifest)
        manifest.update(
            format_version=FORMAT_VERSION,
            version=version_id,
            counts={"documents": len(new.documents), "chunks": len(new.chunks)},
            index_type=dense_info["type"],
            dense_index=dense_info,
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        crash_point("version_complete")
        final = versions / version_id
        os.rename(tmp, final)
        _fsync_dir(versions)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    crash_point("version_renamed")
    if before_switch is not None:
        before_switch(final)
    served = current_path(index_dir)  # what readers have been using until now
    link_tmp = index_dir / f".current-{version_id}"
    os.symlink(Path("versions") / version_id, link_tmp)
    crash_point("link_made")
    os.replace(link_tmp, index_dir / "current")
    _fsync_dir(index_dir)
    crash_point("switched")
    _collect_garbage(index_dir, served)
    return final


def _collect_garbage(index_dir: Path, previous: Path | None) -> None:
    """Keep the version now served and ``previous`` (the one served before it, the rollback
    target); drop every other version and the leftovers of crashed builds.

    Which versions were served is known, not guessed from names: a build killed
    between writing its version and switching to it leaves a complete version newer
    than the served one, and keeping "the newest two" after the next build kept that
    never-served version and deleted the last one that had served.
    """
    versions = index_dir / "versions"
    current = current_path(index_dir)
    for leftover in versions.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in index_dir.glob(".current-*"):
        link.unlink(missing_ok=True)
    keep = {p.resolve() for p in (current, previous) if p is not None}
    for old in versions.iterdir():
        if not old.name.startswith(".") and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)
