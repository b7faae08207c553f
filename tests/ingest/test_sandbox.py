"""Hostile and broken files through the extraction sandbox: each one gets a clear verdict."""

from __future__ import annotations

import resource
import threading
import time
from pathlib import Path

import pytest
from hostile import CASES, TEST_LIMITS, write_all

from ingest.models import IngestProblem, ParsedDocument
from ingest.sandbox import SandboxedParser


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def parser() -> SandboxedParser:
    return SandboxedParser(TEST_LIMITS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_file_gets_a_clear_verdict(case, hostile_files, parser):
    started = time.monotonic()
    result = parser(hostile_files[case.name])
    elapsed = time.monotonic() - started
    # Nothing may run past the time limit by more than the cost of a fork and a kill.
    assert elapsed < TEST_LIMITS.timeout_s + 3
    if case.outcome == "rejected":
        assert isinstance(result, IngestProblem), f"{case.name} was ingested"
        assert case.matches(result.reason), result.reason
    else:
        assert isinstance(result, ParsedDocument), getattr(result, "reason", "")
        assert any(not b.is_heading for b in result.blocks)
        if case.reason:
            assert any(case.matches(w) for w in result.warnings)


def test_bombs_do_not_grow_the_calling_process(hostile_files, parser):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in ("bomb.pdf", "bomb.docx", "hangs.pdf"):
        assert isinstance(parser(hostile_files[name]), IngestProblem)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert (after - before) * 1024 < 64 << 20  # ru_maxrss is in KiB on Linux
    # And the sandbox still works for the next, ordinary file.
    assert isinstance(parser(hostile_files["utf16.txt"]), ParsedDocument)


def test_legacy_encodings_read_as_vietnamese(hostile_files, parser):
    for name in ("legacy-cp1258.txt", "utf16.txt"):
        doc = parser(hostile_files[name])
        assert isinstance(doc, ParsedDocument)
        text = " ".join(b.text for b in doc.blocks)
        assert "Sở Văn hóa, Thể thao và Du lịch chủ trì" in text
        assert doc.meta.provinces == ["Hà Giang"]


def test_scripts_never_reach_the_text(hostile_files, parser):
    from hostile import SCRIPT_MARK

    doc = parser(hostile_files["scripts.html"])
    assert isinstance(doc, ParsedDocument)
    text = "\n".join(b.text for b in doc.blocks)
    assert SCRIPT_MARK not in text and "document.cookie" not in text
    assert "Xem thêm chi tiết" in text  # link text is kept, its javascript: URL is not
    assert "<script>alert('literal text')</script>" in text  # escaped text stays text
    assert not doc.meta.source.lower().startswith("javascript")


def test_sandbox_result_matches_in_process_parse(parser, corpus_dir):
    from ingest.pipeline import parse_file

    path = sorted(corpus_dir.iterdir())[0]
    inside, outside = parse_file(path), parser(path)
    assert isinstance(inside, ParsedDocument) and isinstance(outside, ParsedDocument)
    assert inside.meta == outside.meta
    assert inside.blocks == outside.blocks
    assert inside.content_hash == outside.content_hash


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a reparented zombie may wait a while for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _extracting(parser: SandboxedParser, path: Path) -> tuple[threading.Thread, int, int]:
    """Start parsing ``path`` in a thread; (thread, helper pid, the child parsing it)."""
    from ingest import sandbox

    thread = threading.Thread(target=parser, args=(path,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while True:
        proc = sandbox._HELPER._proc
        children = _children(proc.pid) if proc is not None and proc.poll() is None else []
        # A child still exiting from an earlier request is not the one parsing this file.
        running = [c for c in children if _running(c)]
        if running:
            return thread, proc.pid, running[-1]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "no extraction child appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["helper killed", "server gone"])
def test_the_extraction_child_dies_with_its_helper(hostile_files, how):
    import os
    import signal

    from ingest import sandbox
    from ingest.sandbox import ExtractionLimits

    # A long limit: the child must go because its helper did, not because time ran out.
    parser = SandboxedParser(ExtractionLimits(timeout_s=60, memory_mb=256))
    thread, helper, child = _extracting(parser, hostile_files["hangs.pdf"])
    assert _running(child)
    if how == "helper killed":
        os.kill(helper, signal.SIGKILL)
    else:  # the server closes its end, as it does when it dies
        sandbox._HELPER._proc.stdin.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while _running(child):
        assert time.monotonic() < deadline, "the extraction child outlived its helper"
        time.sleep(0.05)
    thread.join(timeout=30)
    assert not thread.is_alive()
    # The next file gets a fresh helper.
    assert isinstance(SandboxedParser(TEST_LIMITS)(hostile_files["utf16.txt"]), ParsedDocument)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    from ingest.sandbox import ExtractionLimits

    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:  # sparse: 3 GB that take no disk
        fh.truncate(3 << 30)
    result = SandboxedParser(ExtractionLimits(max_file_bytes=1 << 20))(big)
    assert isinstance(result, IngestProblem)
    assert "POLICY_SEARCH_MAX_FILE_BYTES" in result.reason and str(3 << 30) in result.reason


def test_a_batch_gives_every_file_its_own_verdict(hostile_files, parser, corpus_dir):
    """Many files to one child per batch: a bomb or a hang costs that file, not its neighbours."""
    good = sorted(corpus_dir.iterdir())[:2]
    names = ["bomb.pdf", "utf16.txt", "hangs.pdf", "bomb.docx", "legacy-cp1258.txt", "empty.txt"]
    items = [(good[0], corpus_dir)]
    items += [(hostile_files[n], hostile_files[n].parent) for n in names]
    items += [(good[1], corpus_dir)]
    results = list(parser.map(items, workers=2, batch=4))
    assert len(results) == len(items)
    # The same verdict, file by file, as one child per file gives.
    for (path, root), result in zip(items, results, strict=True):
        alone = parser(path, root)
        assert type(result) is type(alone), path.name
        if isinstance(result, IngestProblem):
            assert isinstance(alone, IngestProblem) and result.reason == alone.reason
        else:
            assert isinstance(alone, ParsedDocument)
            assert result.meta == alone.meta and result.blocks == alone.blocks
            assert result.content_hash == alone.content_hash
    # The files after the hang and the bombs in their batches were read, not given up.
    assert isinstance(results[-1], ParsedDocument) and isinstance(results[5], ParsedDocument)
