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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.ann import AnnConfig, build_dense_index, labels_path, load_dense_index

FORMAT_VERSION = 1
KEEP_VERSIONS = 2  # the version served and the one served before it (rollback target)
CRASH_ENV = "POLICY_SEARCH_CRASH_AT"
UPLOADS = "uploads"  # the default upload folder, inside the index
# Said wherever an index has no usable version: the fixes that lose nothing.
SAFE_FIX = (
    "`policy-search rollback` goes back to an intact earlier version, "
    "`policy-search restore BACKUP` brings back a backup"
)

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
    blocks TEXT NOT NULL,         -- JSON list of [text, page, heading_level, {kind, ...}]
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
    embed_text TEXT NOT NULL,
    -- Where the text sits (ingest.models.Chunk): characters of the chunker's body text,
    -- and (block index, offset in its text) of its first and last character; -1 unplaced.
    char_start INTEGER NOT NULL DEFAULT -1,
    char_end INTEGER NOT NULL DEFAULT -1,
    first_block INTEGER NOT NULL DEFAULT -1,
    first_offset INTEGER NOT NULL DEFAULT -1,
    last_block INTEGER NOT NULL DEFAULT -1,
    last_offset INTEGER NOT NULL DEFAULT -1
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
    # Stored offsets (see the chunks table); -1 where unknown (versions written before).
    char_start: int = -1
    char_end: int = -1
    first_block: int = -1
    first_offset: int = -1
    last_block: int = -1
    last_offset: int = -1


_OFFSETS = ("char_start", "char_end", "first_block", "first_offset", "last_block", "last_offset")


@dataclass
class NewVersion:
    """Everything a build hands to :func:`write_version`."""

    manifest: dict[str, Any]
    documents: list[StoredDocument]
    chunks: list[StoredChunk]  # ids are reassigned 0..n-1 in this order
    vectors: np.ndarray
    extra_files: dict[str, bytes] = field(default_factory=dict)
    ann: AnnConfig = field(default_factory=AnnConfig)


def index_of(version_dir: Path) -> Path:
    """The index folder that holds ``version_dir`` (``versions/<id>``, or a ``current``
    folder left by a copy that followed links)."""
    return (
        version_dir.parent.parent if version_dir.parent.name == "versions" else version_dir.parent
    )


def stored_path(path: str, index_dir: Path) -> str:
    """How a document's file is written down: relative to the index when it lies inside it
    (an upload), so a copy of the index (``cp -r``, a backup) names its own files."""
    try:
        return Path(path).relative_to(index_dir).as_posix()
    except ValueError:
        return path


def _file_path(path: str, root: str, index_dir: Path) -> tuple[str, str]:
    """A document's (path, root) as stored, made absolute for this copy of the index.

    Versions written before paths were relative hold absolute ones. One under another
    index's ``uploads/`` (this index was copied with ``cp -r``) whose file this copy also
    holds is taken as this copy's file: the original's may change or go at any time.
    """
    if not os.path.isabs(path):
        return str(index_dir / path), str(index_dir / root)
    old, old_root = Path(path), Path(root)
    if old_root.name == UPLOADS and old_root.parent != index_dir and old_root in old.parents:
        own = index_dir / UPLOADS / old.relative_to(old_root)
        if (not old.exists() or (old_root.parent / "versions").is_dir()) and own.exists():
            return str(own), str(index_dir / UPLOADS)
    return path, root


def document_files(version_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """A version's manifest and each document's file (doc_id -> absolute path), read
    without opening the version's vectors and FAISS index (a backup does this under the
    writer lock)."""
    try:
        manifest = json.loads((version_dir / "manifest.json").read_text())
        uri = f"file:{version_dir / 'chunks.sqlite'}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True)
        try:
            rows = db.execute("SELECT doc_id, path, root FROM documents").fetchall()
        finally:
            db.close()
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise IndexUnavailable(f"version {version_dir.name} cannot be read ({exc})") from exc
    home = index_of(version_dir)
    return manifest, {doc_id: _file_path(path, root, home)[0] for doc_id, path, root in rows}


def _doc_from_row(row: sqlite3.Row, index_dir: Path) -> StoredDocument:
    path, root = _file_path(row["path"], row["root"], index_dir)
    return StoredDocument(
        doc_id=row["doc_id"],
        title=row["title"],
        source=row["source"],
        path=path,
        root=root,
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
        # Versions written before the columns existed have none (a Row's keys are asked).
        **{k: row[k] for k in _OFFSETS if k in row.keys()},  # noqa: SIM118
    )


class Snapshot:
    """One complete, immutable version of the index, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index_dir = index_of(path)
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

    def documents(self, blocks: bool = True) -> list[StoredDocument]:
        """Every document; ``blocks=False`` leaves their text out (``blocks`` is []), for a
        write that plans from the rest and reads each kept document's text as it copies it
        (:meth:`blocks_of`)."""
        if blocks:
            rows = self._db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        else:
            names = [r[1] for r in self._db.execute("PRAGMA table_info(documents)")]
            columns = ", ".join("'[]' AS blocks" if n == "blocks" else f'"{n}"' for n in names)
            rows = self._db.execute(f"SELECT {columns} FROM documents ORDER BY doc_id").fetchall()
        return [_doc_from_row(r, self.index_dir) for r in rows]

    def blocks_of(self, doc_id: str) -> list[list[Any]]:
        row = self._db.execute(
            "SELECT blocks FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return json.loads(row[0]) if row else []

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _doc_from_row(row, self.index_dir) if row else None

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


def no_index(index_dir: Path) -> IndexUnavailable:
    """Why ``index_dir`` serves nothing, with the fix that loses nothing.

    A ``current`` link that names a missing version is a damaged index, not an empty
    one: rebuilding it from one folder would drop every other document.
    """
    link = index_dir / "current"
    if link.is_symlink() and not link.exists():
        return IndexUnavailable(
            f"the index's 'current' link names version {Path(os.readlink(link)).name!r}, "
            f"which is missing; {SAFE_FIX} (the next ingest or upload re-links the newest "
            "intact version by itself)"
        )
    return IndexUnavailable(
        f"no index at {index_dir}: build one with `policy-search ingest [PATH ...]`"
    )


def open_current(index_dir: Path) -> Snapshot:
    path = current_path(index_dir)
    if path is None:
        raise no_index(index_dir)
    return Snapshot(path)


def version_dirs(index_dir: Path) -> list[Path]:
    """Complete version folders (by name, so by the time they were made), newest first."""
    versions = index_dir / "versions"
    if not versions.is_dir():
        return []
    return sorted(
        (p for p in versions.iterdir() if not p.name.startswith(".") and p.is_dir()),
        key=lambda p: p.name,
        reverse=True,
    )


def intact(version_dir: Path) -> bool:
    """The version opens and its parts agree (:meth:`Snapshot.verify`)."""
    try:
        Snapshot(version_dir).close()
    except IndexUnavailable:
        return False
    return True


def link_current(index_dir: Path, version_dir: Path, crash_name: str = "relink_made") -> None:
    """Point ``current`` at ``version_dir`` atomically: a reader sees the old link or the new."""
    link_tmp = index_dir / f".current-{version_dir.name}-{uuid.uuid4().hex[:6]}"
    os.symlink(Path("versions") / version_dir.name, link_tmp)
    crash_point(crash_name)
    os.replace(link_tmp, index_dir / "current")
    fsync_path(index_dir)


def relink_intact(
    index_dir: Path, publish: Callable[[Path], object] | None = None, unusable: str = ""
) -> str:
    """Re-link a ``current`` that names a missing version (or, given ``unusable``, the
    reason, an unusable one) to the newest intact version; what was done, or "" when
    nothing was needed. Called under the writer lock.

    When no version is intact nothing is written and the write is refused: starting a
    new index from one folder would drop every other document and upload.
    """
    link = index_dir / "current"
    if not link.is_symlink():
        return ""
    name = Path(os.readlink(link)).name
    if unusable:
        problem = f"'current' named version {name!r}, which is unusable ({unusable})"
    elif not link.exists():
        problem = f"'current' named version {name!r}, which is missing"
    else:
        return ""  # whether it opens is for the caller to find out, opening it anyway
    broken = link.resolve()
    for candidate in version_dirs(index_dir):
        if candidate.resolve() != broken and intact(candidate):
            if publish is not None:
                publish(candidate)
            link_current(index_dir, candidate)
            return f"{problem}; re-linked to the newest intact version {candidate.name!r}"
    raise IndexUnavailable(
        f"{problem}, and no other version of the index is intact; nothing was changed. "
        "Bring back a backup with `policy-search restore BACKUP` (or move the index folder "
        "away to start a new index)"
    )


def rollback(
    index_dir: Path, publish: Callable[[Path], object] | None = None
) -> tuple[str | None, str]:
    """Serve the version served before the current one: (from, to) version names.

    The manifest names the version each build replaced; an index written before it
    did (or whose record is gone) goes to the newest intact version older than the
    current one. A ``current`` that names a missing version goes to the newest intact
    one. Called under the writer lock; the versions themselves are kept.
    """
    link = index_dir / "current"
    if not link.is_symlink():
        if link.is_dir():
            raise IndexUnavailable(
                f"{link} is a folder, not a link to a version; run an ingest or upload to "
                "repair it first"
            )
        raise no_index(index_dir)
    name = Path(os.readlink(link)).name
    served = link.resolve()
    target: Path | None = None
    if link.exists():
        try:
            manifest = json.loads((served / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {}
        before = manifest.get("previous")
        candidates = [index_dir / "versions" / before] if isinstance(before, str) else []
        candidates += [v for v in version_dirs(index_dir) if v.name < name]
    else:
        candidates = version_dirs(index_dir)
    for candidate in candidates:
        if candidate.resolve() != served and candidate.is_dir() and intact(candidate):
            target = candidate
            break
    if target is None:
        raise IndexUnavailable(
            f"no intact version of the index before {name!r} to roll back to; "
            "`policy-search restore BACKUP` brings back a backup"
        )
    if publish is not None:
        publish(target)
    link_current(index_dir, target, "rollback_link_made")
    return name, target.name


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


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
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
    fsync_path(index_dir)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)
    return done + ", linked again"


def new_version_id() -> str:
    """Sortable by time to the microsecond: "newest" and "older than" are name orders."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


class NpyAppender:
    """A ``.npy`` file written row block by row block, its header last.

    The header's room is reserved up front (:data:`NPY_HEADER` bytes, enough for
    any row count) and filled in by :meth:`close`, so the rows never have to be
    held in memory or copied into a second file.
    """

    def __init__(self, path: Path, dtype: Any, width: int | None = None) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.width = width  # None: one value per row (a 1-D array)
        self.rows = 0
        # Unbuffered: nothing is left to flush (and fail again) when a full disk drops the
        # version, and a short write is retried here to get the kernel's ENOSPC / EFBIG,
        # which is how a full disk is told apart (index/fs_errors.py); ndarray.tofile
        # reports it as an OSError without errno.
        self._fh: Any = open(path, "wb", buffering=0)  # noqa: SIM115 (closed by close() or abort())
        self._write(b"\0" * NPY_HEADER)

    def _write(self, data: bytes | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            view = view[self._fh.write(view) :]

    def append(self, rows: np.ndarray) -> None:
        block = np.ascontiguousarray(rows, dtype=self.dtype)
        expected = (self.width,) if self.width is not None else ()
        if block.shape[1:] != expected:
            raise ValueError(f"rows of shape {block.shape[1:]} appended to {self.path.name}")
        self._write(block.data)
        self.rows += len(block)

    def abandon(self) -> None:
        """Close the file unfinished (the version it belongs to is being dropped)."""
        if not self._fh.closed:
            self._fh.close()

    def close(self) -> np.ndarray:
        """Finish the file; its rows, memory-mapped (nothing read into memory)."""
        if not self._fh.closed:
            shape = (self.rows,) if self.width is None else (self.rows, self.width)
            self._fh.seek(0)
            self._write(_npy_header(self.dtype, shape))
            self._fh.close()
        if self.rows == 0:  # numpy cannot map an empty file region
            width = () if self.width is None else (self.width,)
            return np.zeros((0, *width), dtype=self.dtype)
        return np.load(self.path, mmap_mode="r", allow_pickle=False)


# Room for a .npy version 1.0 header of any shape this index writes (a multiple of 64,
# as numpy aligns its own).
NPY_HEADER = 128


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    fields = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    text = repr(fields)
    room = NPY_HEADER - 10  # magic (6), version (2), header length (2)
    if len(text) + 1 > room:
        raise ValueError(f"shape {shape} does not fit a {NPY_HEADER}-byte .npy header")
    body = (text.ljust(room - 1) + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def _document_row(d: StoredDocument, home: Path) -> tuple[Any, ...]:
    return (
        d.doc_id,
        d.title,
        d.source,
        stored_path(d.path, home),
        stored_path(d.root, home),
        d.date,
        d.doc_type,
        json.dumps(d.provinces, ensure_ascii=False),
        d.content_hash,
        json.dumps(d.blocks, ensure_ascii=False),
        d.n_chunks,
        json.dumps(d.meta, ensure_ascii=False),
        json.dumps(d.header, ensure_ascii=False),
    )


class VersionWriter:
    """A new version written as it is made, in a temporary folder, then swapped in.

    Records go into SQLite and vectors onto the end of ``vectors.npy`` document by
    document (:meth:`add`), so a build holds one group of documents at a time, not
    the collection. :meth:`finish` builds the dense index from the memory-mapped
    vectors, completes the folder and switches ``current`` to it (as
    :func:`write_version` always did); until then, and after any failure or kill,
    the previous version keeps serving and the temporary folder is removed by the
    next build (:func:`collect_garbage`).
    """

    def __init__(self, index_dir: Path, dim: int) -> None:
        self.index_dir = index_dir
        self.home = index_dir.resolve()
        self.dim = dim
        self.versions = index_dir / "versions"
        self.versions.mkdir(parents=True, exist_ok=True)
        self.version_id = new_version_id()
        self.folder = self.versions / f".tmp-{self.version_id}"
        self.folder.mkdir()
        self.documents = 0
        self.chunks = 0
        self._appenders: list[NpyAppender] = []
        try:
            self.db = sqlite3.connect(self.folder / "chunks.sqlite", check_same_thread=False)
            # A temporary file: a crash discards it whole, and finish() syncs it.
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.executescript(SCHEMA)
            self.vectors = self.appender("vectors.npy", np.float32, dim)
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> VersionWriter:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is not None:
            self.abort()

    def appender(self, name: str, dtype: Any, width: int | None = None) -> NpyAppender:
        """Another ``.npy`` file of the version, written row block by row block."""
        out = NpyAppender(self.folder / name, dtype, width)
        self._appenders.append(out)
        return out

    def add(
        self, document: StoredDocument, chunks: Sequence[StoredChunk], vectors: np.ndarray
    ) -> int:
        """Write one document, its chunks and their vectors; the id of its first chunk."""
        self.add_documents([document])
        return self.add_chunks(chunks, vectors)

    def add_documents(self, documents: Iterable[StoredDocument]) -> None:
        rows = [_document_row(d, self.home) for d in documents]
        self.db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.documents += len(rows)

    def add_chunks(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> int:
        """Write chunks and their vectors; the id of the first (ids are 0..n-1 in the
        order chunks are added)."""
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        first = self.chunks
        self.db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    first + i,
                    c.doc_id,
                    c.ordinal,
                    c.section,
                    c.page,
                    c.text,
                    c.embed_text,
                    *(getattr(c, k) for k in _OFFSETS),
                )
                for i, c in enumerate(chunks)
            ],
        )
        if len(chunks):
            self.vectors.append(vectors)
        self.chunks += len(chunks)
        return first

    def write_file(self, name: str, data: bytes) -> None:
        (self.folder / name).write_bytes(data)

    def finish(
        self,
        manifest: dict[str, Any],
        ann: AnnConfig | None = None,
        before_switch: Callable[[Path], None] | None = None,
        collect: bool = True,
        carry: Callable[[np.ndarray], tuple[Any, dict[str, Any], np.ndarray] | None] | None = None,
    ) -> Path:
        """Complete the version and switch ``current`` to it (see :func:`write_version`).

        ``carry(vectors)``: the previous version's dense index brought to these rows
        (:func:`index.ann.carry_dense_index`), or None to build it.
        """
        replaced = current_path(self.index_dir)
        tmp = self.folder
        try:
            self.db.commit()
            self.db.close()
            crash_point("sqlite_written")
            vectors = self.vectors.close()
            carried = carry(vectors) if carry is not None else None
            if carried is not None:
                dense, dense_info, labels = carried
                np.save(labels_path(tmp / "dense.faiss"), labels, allow_pickle=False)
            else:
                dense, dense_info = build_dense_index(
                    vectors, int(manifest["dim"]), ann or AnnConfig()
                )
            faiss.write_index(dense, str(tmp / "dense.faiss"))
            del dense, vectors
            crash_point("faiss_written")
            for appender in self._appenders:
                appender.close()
            manifest = dict(manifest)
            manifest.update(
                format_version=FORMAT_VERSION,
                version=self.version_id,
                counts={"documents": self.documents, "chunks": self.chunks},
                index_type=dense_info["type"],
                dense_index=dense_info,
                # The rollback target (`policy-search rollback`).
                previous=replaced.name if replaced is not None else None,
            )
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            crash_point("version_complete")
            final = self.versions / self.version_id
            os.rename(tmp, final)
            fsync_path(self.versions)
        except BaseException:
            self.abort()
            raise
        crash_point("version_renamed")
        if before_switch is not None:
            before_switch(final)
        served = current_path(self.index_dir)  # what readers have been using until now
        link_tmp = self.index_dir / f".current-{self.version_id}"
        os.symlink(Path("versions") / self.version_id, link_tmp)
        crash_point("link_made")
        os.replace(link_tmp, self.index_dir / "current")
        fsync_path(self.index_dir)
        crash_point("switched")
        if collect:
            collect_garbage(self.index_dir, served)
        return final

    def abort(self) -> None:
        """Drop the unfinished version (the previous one keeps serving)."""
        for appender in self._appenders:
            appender.abandon()
        with suppress(AttributeError, sqlite3.Error):
            self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def write_version(
    index_dir: Path,
    new: NewVersion,
    before_switch: Callable[[Path], None] | None = None,
    collect: bool = True,
) -> Path:
    """Write a complete version, then switch ``current`` to it atomically.

    ``before_switch(version_dir)`` runs once the version is complete and before
    ``current`` names it (a backend publishing it elsewhere); if it raises, the
    previous version keeps serving. ``collect``: drop versions other than the new
    one and the one it replaces (off when this write repaired a damaged index, so
    that no intact version goes with the repair). A build that makes its vectors as
    it goes uses :class:`VersionWriter` directly, without holding them all.
    """
    with VersionWriter(index_dir, int(new.manifest["dim"])) as writer:
        writer.add_documents(new.documents)
        writer.add_chunks(new.chunks, np.asarray(new.vectors, dtype=np.float32))
        for name, data in new.extra_files.items():
            writer.write_file(name, data)
        return writer.finish(new.manifest, new.ann, before_switch, collect)


def collect_garbage(index_dir: Path, previous: Path | None) -> None:
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
