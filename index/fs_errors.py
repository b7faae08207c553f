"""File-system failures while storing uploads or writing an index, in words a person can act on.

Writing an index version goes through Python files, numpy, SQLite and FAISS,
and each reports a full disk its own way: ``OSError`` with ``ENOSPC`` or
``EFBIG``, ``OSError`` without an errno (numpy's short write),
``sqlite3.OperationalError`` (``SQLITE_FULL``, ``SQLITE_IOERR_WRITE``), or
FAISS's ``RuntimeError`` quoting ``strerror``. :func:`storage_failure`
reads all of them (and the exceptions they were raised from) as one
:class:`StorageFailure`, so the web API can answer 507/503 or reject one
file, and the CLI can print one line, instead of a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["full", "name", "denied", "io"]

_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NAME = {errno.ENAMETOOLONG, errno.EILSEQ}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
# Below this much free space a write failure without a reason is taken for a full disk.
_LOW_SPACE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class StorageFailure:
    kind: Kind  # full disk, a name the file system refuses, no permission, other I/O error
    reason: str  # one line: what failed and why


def _words(code: int) -> str:
    return os.strerror(code)


def _from_os(exc: OSError) -> StorageFailure:
    # The file's name only: the reason reaches API clients, server paths must not.
    where = f" ({Path(str(exc.filename)).name})" if exc.filename else ""
    code = exc.errno
    if code is None:
        return StorageFailure("io", f"{exc}{where}")
    if code in _FULL:
        return StorageFailure("full", f"{_words(code)}{where}")
    if code in _NAME:
        return StorageFailure("name", f"{_words(code)}{where}")
    if code in _DENIED:
        return StorageFailure("denied", f"{_words(code)}{where}")
    return StorageFailure("io", f"{exc.strerror or exc}{where}")


def _from_text(text: str) -> StorageFailure | None:
    for code, kind in [(c, "full") for c in _FULL] + [(c, "denied") for c in _DENIED]:
        if _words(code) in text:
            return StorageFailure(kind, _words(code))  # type: ignore[arg-type]
    return None


def _one(exc: BaseException) -> StorageFailure | None:
    if isinstance(exc, OSError):
        return _from_os(exc)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_FULL":
            return StorageFailure("full", f"SQLite: {exc}")
        if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN")):
            return StorageFailure("denied", f"SQLite: {exc}")
        if name.startswith("SQLITE_IOERR"):
            return StorageFailure("io", f"SQLite: {exc}")
        return None
    if isinstance(exc, RuntimeError) and "write error" in str(exc):  # FAISS
        found = _from_text(str(exc))
        return found or StorageFailure("io", "FAISS could not write its index file")
    return None


def storage_failure(exc: BaseException, where: Path | None = None) -> StorageFailure | None:
    """The file-system failure behind ``exc`` (or what it was raised from), else None.

    ``where``: the folder written to; when the failure names no reason and that
    disk is nearly full, it is reported as a full disk.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _one(current)
        if found is not None:
            if found.kind == "io" and where is not None and _nearly_full(where):
                return StorageFailure("full", f"{found.reason}; the disk is nearly full")
            return found
        current = current.__cause__ or current.__context__
    return None


def _nearly_full(path: Path) -> bool:
    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free < _LOW_SPACE_BYTES
        except OSError:
            continue
    return False


__all__ = ["StorageFailure", "storage_failure"]
