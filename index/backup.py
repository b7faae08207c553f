"""Backup and restore: one served version of an index plus its uploaded originals.

A backup is itself an index folder, so it can be served or inspected as it is::

    DEST/current -> versions/<id>
    DEST/versions/<id>/...   the version's files; upload paths relative to DEST
    DEST/uploads/...         the original of every uploaded document of that version
    DEST/backup.json         the version, the time, the SHA-256 of every file above

Taken while the index serves and takes writes: the version ``current`` names
and the upload files it references are pinned (hard links, or copies where the
file system has none) under the writer lock, which no write holds at that
moment, so the pinned files are the ones that version was built from. The lock
is let go before the copy, the slow part; a write after it replaces names in
``uploads/`` and prunes versions, never the pinned files.

Everything is written to a hidden folder next to its destination and renamed
into place at the end: a backup or restore killed half-way leaves the backup
folder absent and the index serving what it served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from index.store import (
    UPLOADS,
    IndexUnavailable,
    Snapshot,
    collect_garbage,
    crash_point,
    current_path,
    document_files,
    fsync_path,
    intact,
    link_current,
    new_version_id,
    no_index,
    writer_lock,
)

BACKUP_FILE = "backup.json"
BACKUP_FORMAT = 1


class BadBackupUsage(ValueError):
    """A destination that is not empty, a source that is no backup: the caller's mistake."""


@dataclass
class BackupReport:
    version: str
    documents: int
    chunks: int
    uploads: int
    bytes: int
    missing: list[str] = field(default_factory=list)  # uploads the version names but lacks

    def summary(self) -> str:
        return (
            f"version {self.version}: {self.documents} documents, {self.chunks} chunks, "
            f"{self.uploads} uploaded originals, {self.bytes / 1e6:.1f} MB"
        )


@dataclass
class RestoreReport:
    version: str  # the version now served
    restored_from: str  # the version the backup holds
    replaced: str | None  # the version served before (the rollback target)
    documents: int
    uploads: int


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(folder: Path, prefix: str) -> None:
    """Remove ``prefix<pid>-*`` folders left by a process that died (kill -9, power cut)."""
    with contextlib.suppress(OSError):
        for path in folder.glob(prefix + "*"):
            pid = path.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _copy(src: Path, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    fsync_path(dest)
    return dest.stat().st_size


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(src, dest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _relative_upload(path: str, upload_dir: Path) -> Path | None:
    """Where ``path`` lies under ``upload_dir``, or None for a file from an ingested folder."""
    try:
        rel = Path(path).resolve().relative_to(upload_dir)
    except (ValueError, OSError):
        return None
    return rel if rel.parts and not rel.parts[0].startswith(".") else None


def _set_paths(db_file: Path, paths: dict[str, tuple[str, str]]) -> None:
    """Write (path, root) of the documents named; the version's other records stay as they are."""
    db = sqlite3.connect(db_file)
    try:
        db.executemany(
            "UPDATE documents SET path = ?, root = ? WHERE doc_id = ?",
            [(path, root, doc_id) for doc_id, (path, root) in paths.items()],
        )
        db.commit()
    finally:
        db.close()


def _check_empty(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise BadBackupUsage(f"{dest} exists and is not a folder; name a new folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise BadBackupUsage(f"{dest} is not empty; name a new or empty folder")


def backup(
    index_dir: Path,
    dest: Path,
    upload_dir: Path | None = None,
    lock_timeout: float | None = None,
    after_pin: Callable[[], None] | None = None,
) -> BackupReport:
    """Copy the served version of ``index_dir`` and its uploaded originals to ``dest``.

    ``dest`` must not exist or be empty. ``upload_dir``: where uploads are kept
    (default ``INDEX_DIR/uploads``); documents whose files lie elsewhere came from
    ingested folders, which stay the operator's to keep. ``after_pin`` runs once
    the files are pinned and the lock is let go (tests write to the index there).
    """
    if not os.path.lexists(index_dir / "current"):
        raise no_index(index_dir)  # before the lock, which would make the folder
    index_dir = index_dir.resolve()
    uploads = (upload_dir or index_dir / UPLOADS).resolve()
    dest = dest.absolute()
    _check_empty(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _sweep(dest.parent, f".{dest.name}.backup-")
    _sweep(index_dir, ".backup-pin-")
    pin = index_dir / f".backup-pin-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = dest.parent / f".{dest.name}.backup-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with writer_lock(index_dir, timeout=lock_timeout):
            version_dir = current_path(index_dir)
            if version_dir is None:
                raise no_index(index_dir)
            # Records only: the vectors and FAISS index are checked on the copy, after the lock.
            manifest, doc_files = document_files(version_dir)
            # The manifest's name: a `current` copied as a folder is named "current".
            version = str(manifest.get("version", version_dir.name))
            counts = dict(manifest.get("counts", {}))
            for file in version_dir.iterdir():
                _link_or_copy(file, pin / "version" / file.name)
            held: dict[str, Path] = {}
            missing: list[str] = []
            for doc_id, path in sorted(doc_files.items()):
                rel = _relative_upload(path, uploads)
                if rel is None:
                    continue
                if not Path(path).is_file():
                    missing.append(doc_id)
                    continue
                _link_or_copy(Path(path), pin / UPLOADS / rel)
                held[doc_id] = rel
        if after_pin is not None:
            after_pin()

        report = BackupReport(version, counts.get("documents", 0), counts.get("chunks", 0), 0, 0)
        report.missing = missing
        target = tmp / "versions" / version
        for n, file in enumerate(sorted((pin / "version").iterdir())):
            report.bytes += _copy(file, target / file.name)
            if n == 0:
                crash_point("backup_copying")
        for rel in held.values():
            report.bytes += _copy(pin / UPLOADS / rel, tmp / UPLOADS / rel)
            report.uploads += 1
        # The copy names its own originals (relative paths), so it can be served and
        # restored anywhere.
        _set_paths(
            target / "chunks.sqlite",
            {doc_id: ((Path(UPLOADS) / rel).as_posix(), UPLOADS) for doc_id, rel in held.items()},
        )
        fsync_path(target / "chunks.sqlite")
        os.symlink(Path("versions") / version, tmp / "current")
        _verify_copy(target, version, counts)
        files = {
            p.relative_to(tmp).as_posix(): _sha256(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        record = {
            "format": BACKUP_FORMAT,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "documents": report.documents,
            "chunks": report.chunks,
            "uploads": report.uploads,
            "files": files,
        }
        (tmp / BACKUP_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False))
        fsync_path(tmp / BACKUP_FILE)
        for folder in (target, tmp / UPLOADS, tmp / "versions", tmp):
            if folder.exists():
                fsync_path(folder)
        # An empty folder at ``dest`` is replaced by the rename (rename(2) allows it).
        os.rename(tmp, dest)
        fsync_path(dest.parent)
        return report
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def _verify_copy(version_dir: Path, version: str, counts: dict[str, int]) -> None:
    """The copy opens as the version it claims to be, with the counts its manifest names."""
    snap = Snapshot(version_dir)
    try:
        if snap.manifest.get("version") != version or snap.manifest.get("counts") != counts:
            raise IndexUnavailable(f"the copy of version {version} does not match its manifest")
    finally:
        snap.close()


def read_backup(src: Path) -> tuple[dict, Path]:
    """The record of the backup at ``src`` and its version folder, every file checked."""
    try:
        record = json.loads((src / BACKUP_FILE).read_text())
        version = str(record["version"])
        files = dict(record["files"])
    except FileNotFoundError as exc:
        raise BadBackupUsage(
            f"{src} is not a backup made by `policy-search backup` (no {BACKUP_FILE})"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnavailable(
            f"the backup at {src} has no readable {BACKUP_FILE} ({exc})"
        ) from exc
    damaged = []
    for rel, digest in files.items():
        path = src / rel
        outside = ".." in Path(rel).parts or Path(rel).is_absolute()
        if outside or not path.is_file() or _sha256(path) != digest:
            damaged.append(rel)
    if damaged:
        raise IndexUnavailable(
            f"the backup at {src} is damaged: {len(damaged)} file(s) missing or changed "
            f"({', '.join(damaged[:5])}); nothing was restored"
        )
    version_dir = src / "versions" / version
    counts = _counts(version_dir)
    if (record.get("documents"), record.get("chunks")) != (
        counts.get("documents"),
        counts.get("chunks"),
    ):
        raise IndexUnavailable(f"the backup at {src} holds another version than its record names")
    _verify_copy(version_dir, version, counts)
    return record, version_dir


def _counts(version_dir: Path) -> dict[str, int]:
    return dict(json.loads((version_dir / "manifest.json").read_text()).get("counts", {}))


def restore(
    src: Path,
    index_dir: Path,
    upload_dir: Path | None = None,
    publish: Callable[[Path], object] | None = None,
    lock_timeout: float | None = None,
) -> RestoreReport:
    """Serve the version held by the backup at ``src`` from ``index_dir``, with its uploads.

    The backup's version becomes a new version of the index (a new name, so the
    newest version is the one restored) and ``current`` switches to it; the version
    it replaces is kept, so ``policy-search rollback`` undoes a restore. The backup's
    originals are written into the upload folder, replacing files of the same name.
    """
    src = src.absolute()
    record, src_version = read_backup(src)
    index_dir.mkdir(parents=True, exist_ok=True)
    index_dir = index_dir.resolve()
    uploads = (upload_dir or index_dir / UPLOADS).resolve()
    with writer_lock(index_dir, timeout=lock_timeout):
        served = current_path(index_dir)
        replaced = served if served is not None and intact(served) else None
        version = new_version_id()
        versions = index_dir / "versions"
        versions.mkdir(exist_ok=True)
        tmp = versions / f".tmp-restore-{version}"
        staging = uploads / f".restore-{os.getpid()}-{version}"
        try:
            for n, file in enumerate(sorted(src_version.iterdir())):
                _copy(file, tmp / file.name)
                if n == 0:
                    crash_point("restore_copying")
            manifest = json.loads((tmp / "manifest.json").read_text())
            manifest.update(
                version=version,
                previous=replaced.name if replaced is not None else None,
                restored_from=record["version"],
            )
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
            fsync_path(tmp / "manifest.json")
            names = (
                sorted(
                    p.relative_to(src / UPLOADS)
                    for p in (src / UPLOADS).rglob("*")
                    if p.is_file() and not p.is_symlink()
                )
                if (src / UPLOADS).is_dir()
                else []
            )
            if uploads != index_dir / UPLOADS:
                # The backup names its originals under uploads/; this index keeps them elsewhere.
                _set_paths(tmp / "chunks.sqlite", _moved(tmp / "chunks.sqlite", uploads))
                fsync_path(tmp / "chunks.sqlite")
            _verify_copy(tmp, version, _counts(src_version))
            fsync_path(tmp)
            final = versions / version
            os.rename(tmp, final)
            fsync_path(versions)
            # Originals before the version that names them: a crash in between leaves files
            # no version names yet, never a version whose files are missing.
            uploads.mkdir(parents=True, exist_ok=True)
            _sweep(uploads, ".restore-")
            for rel in names:
                _copy(src / UPLOADS / rel, staging / rel)
            for rel in names:
                (uploads / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, uploads / rel)
            fsync_path(uploads)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if publish is not None:
            publish(final)
        link_current(index_dir, final, "restore_link_made")
        if served is None or replaced is not None:
            collect_garbage(index_dir, replaced)
        # else: the index was damaged; every version it still has is kept.
    return RestoreReport(
        version=version,
        restored_from=str(record["version"]),
        replaced=replaced.name if replaced is not None else None,
        documents=int(manifest.get("counts", {}).get("documents", 0)),
        uploads=len(names),
    )


def _moved(db_file: Path, uploads: Path) -> dict[str, tuple[str, str]]:
    """(path, root) under ``uploads`` for every document the backup names under uploads/."""
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT doc_id, path FROM documents").fetchall()
    finally:
        db.close()
    moved = {}
    for doc_id, path in rows:
        parts = Path(path).parts
        if not os.path.isabs(path) and parts[:1] == (UPLOADS,):
            moved[doc_id] = (str(uploads.joinpath(*parts[1:])), str(uploads))
    return moved
