"""A disk that fills up, for the tests (importable as ``fsfull`` from tests).

:func:`small_disk` mounts a real tmpfs of a given size where the tests may
mount one (as root); :func:`file_size_limit` makes the kernel refuse writes
past a size in this process (``RLIMIT_FSIZE``, EFBIG), which works anywhere;
:func:`limit_child_file_size` does the same for a child process.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, nbytes: int) -> Iterator[None]:
    """``folder`` on a tmpfs of ``nbytes``; skips the test where none can be mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={nbytes}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the RLIMIT_FSIZE variant runs")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def file_size_limit(nbytes: int) -> Iterator[None]:
    """Writes past ``nbytes`` in any file fail with EFBIG (SIGXFSZ ignored meanwhile)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def limit_child_file_size(nbytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving a child process the same limit."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return apply
