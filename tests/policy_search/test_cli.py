"""The `policy-search` CLI contract, run in-process and as a real subprocess."""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from policy_search.cli import main

WASTE_Q = "Ai chủ trì quản lý chất thải đô thị?"
RESULT_KEYS = {"doc_id", "title", "source", "section", "page", "text", "score"}


def test_search_json_finds_the_construction_department_bullet(corpus_index, capsys):
    assert main(["search", WASTE_Q, "--k", "5", "--index", str(corpus_index), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == WASTE_Q
    assert len(out["results"]) == 5
    assert all(set(r) == RESULT_KEYS for r in out["results"])
    hits = [
        r
        for r in out["results"]
        if "Phối hợp với Sở Tài nguyên và Môi trường trong các hoạt động quản lý chất thải đô thị"
        in r["text"]
    ]
    assert hits, [r["section"] for r in out["results"]]
    assert hits[0]["section"] == "V. Tổ chức thực hiện › 6. Sở Xây dựng"
    assert hits[0]["doc_id"] == "004_0ae3777ec9422ce6"
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)


def test_english_query_finds_the_kobe_agreement(corpus_index, capsys):
    assert (
        main(
            [
                "search",
                "green growth cooperation with Kobe, Japan",
                "--index",
                str(corpus_index),
                "--json",
                "--k",
                "3",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["doc_id"] == "001_1239ce19dc31f053"


def test_human_output_names_section(corpus_index, capsys):
    assert main(["search", WASTE_Q, "--index", str(corpus_index)]) == 0
    out = capsys.readouterr().out
    assert "1. [" in out and "6. Sở Xây dựng" in out


def test_batch_loads_once_and_prints_one_line_per_query(corpus_index, tmp_path, capsys):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"id": "a", "query": WASTE_Q}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": 2, "query": "xe buýt điện Vingroup"}, ensure_ascii=False)
        + "\n\n"
    )
    assert main(["search", "--batch", str(batch), "--k", "2", "--index", str(corpus_index)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == ["a", 2]
    assert lines[1]["query"] == "xe buýt điện Vingroup"
    assert all(len(x["results"]) == 2 for x in lines)
    assert lines[1]["results"][0]["doc_id"] == "000_336029cc1bf055f9"


def test_k_larger_than_index_is_clamped(corpus_index, capsys):
    assert (
        main(["search", "tăng trưởng xanh", "--k", "50", "--index", str(corpus_index), "--json"])
        == 0
    )
    results = json.loads(capsys.readouterr().out)["results"]
    assert 0 < len(results) <= 50
    assert len({(r["doc_id"], r["text"]) for r in results}) == len(results)


@pytest.mark.parametrize(
    "args", [["search", "   "], ["search", "x", "--k", "0"], ["search", "x", "--k", "100000"]]
)
def test_bad_query_exits_2_with_a_message(corpus_index, capsys, args):
    assert main([*args, "--index", str(corpus_index)]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "numbers"),
    [
        (["--issuer", "ubnd tinh lao cai"], {"123/KH-UBND"}),
        (["--number", "1658"], {"1658/QĐ-TTg", "1658/QĐ-UBND"}),
        (["--number", "1658/qd-ttg"], {"1658/QĐ-TTg"}),
        (["--document-type", "Quyết định", "--date-from", "2024"], {"1658/QĐ-UBND"}),
    ],
)
def test_search_and_ask_take_the_header_filters(official_index, capsys, flags, numbers):
    from index.store import open_current

    number_of = {
        d.doc_id: d.header.get("number", "") for d in open_current(official_index).documents()
    }
    index = ["--index", str(official_index), "--json", "--k", "20"]
    assert main(["search", "tăng trưởng xanh quyết định", *index, *flags]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert {number_of[r["doc_id"]] for r in results} == numbers
    assert main(["ask", "Mục tiêu tăng trưởng xanh là gì?", *index, *flags]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages and {number_of[p["doc_id"]] for p in passages} <= numbers


@pytest.mark.parametrize("command", [["search", "x"], ["ask", "x?"]])
@pytest.mark.parametrize(
    "flags", [["--number", "abc"], ["--issuer", "!!!"], ["--document-type", "plan"]]
)
def test_a_bad_header_filter_exits_2_with_a_message(official_index, capsys, command, flags):
    assert main([*command, "--index", str(official_index), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and flags[0].lstrip("-").replace("-", "_") in err


def test_missing_index_exits_1(tmp_path, capsys):
    assert main(["search", "chất thải", "--index", str(tmp_path / "none")]) == 1
    assert "policy-search ingest" in capsys.readouterr().err


def test_real_subprocess_empty_query_and_ingest(tmp_path, corpus_copy):
    run = [sys.executable, "-m", "policy_search.cli"]
    proc = subprocess.run(
        [*run, "search", "", "--index", str(tmp_path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "empty query" in proc.stderr
    (corpus_copy / "hong.pdf").write_bytes(b"not a pdf")
    proc = subprocess.run(
        [*run, "ingest", str(corpus_copy), "--index", str(tmp_path / "i")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped" in proc.stderr and "hong.pdf" in proc.stderr
    assert "added 5" in proc.stdout
    # Not a terminal: no progress bar noise.
    assert "embedding" not in proc.stderr


def _ingest_on_a_terminal(folder: Path, index: Path, *flags: str) -> tuple[str, str]:
    """(what reached the terminal on stderr, stdout) of `policy-search ingest` in a pty."""
    main_fd, child_fd = pty.openpty()
    # A terminal 160 columns wide (a new pty has 0, and tqdm fits its bar to the width).
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policy_search.cli",
            "ingest",
            str(folder),
            "--index",
            str(index),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=child_fd,
        text=True,
    )
    os.close(child_fd)
    seen = bytearray()
    while True:
        try:
            data = os.read(main_fd, 4096)
        except OSError:  # the child closed the terminal (EIO)
            break
        if not data:
            break
        seen += data
    out = proc.stdout.read() if proc.stdout else ""
    assert proc.wait() == 0, seen.decode(errors="replace")
    os.close(main_fd)
    return seen.decode(errors="replace"), out


def test_ingest_on_a_terminal_shows_documents_chunks_and_time_left(tmp_path, corpus_copy):
    for extra in sorted(corpus_copy.iterdir())[2:]:
        extra.unlink()
    terminal, out = _ingest_on_a_terminal(corpus_copy, tmp_path / "i")
    # tqdm's bar: documents done of all, time spent<time left, the rate in documents per
    # minute and the time left in words, then chunks and sentences.
    bar = re.search(
        r"documents:.*?2/2 \[\d\d:\d\d<\d\d:\d\d, [^,]+, \d+ docs/min, [^,]+ left, (\d+) chunks",
        terminal,
    )
    assert bar, terminal
    summary = re.search(r"index now has 2 documents, (\d+) chunks", out)
    assert summary and bar.group(1) == summary.group(1)
    assert re.search(r"time per stage: extract [\d.]+ s, chunk [\d.]+ s, embed [\d.]+ s", out)
    # --quiet: no bar and no per-document lines on the terminal; the summary still prints.
    (corpus_copy / "them.txt").write_text("Kế hoạch mới.\nMột câu nữa.\n", encoding="utf-8")
    terminal, out = _ingest_on_a_terminal(corpus_copy, tmp_path / "i", "--quiet")
    assert "documents" not in terminal and "%|" not in terminal, terminal
    assert len(out.splitlines()) == 1 and out.startswith("added 1,") and "time per stage" in out


def test_serve_caps_malloc_arenas_unless_the_environment_does(monkeypatch) -> None:
    import platform

    from policy_search.cli import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # the operator's setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    # glibc accepts the cap (mallopt returns 1); other C libraries have no mallopt.
    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("disk", ["tmpfs", "rlimit"])
def test_ingest_on_a_full_disk_prints_one_line_and_exits_1(tmp_path, corpus_copy, disk):
    import contextlib

    from fsfull import limit_child_file_size, small_disk

    index = tmp_path / "disk" / "index"
    preexec = None
    with contextlib.ExitStack() as stack:
        if disk == "tmpfs":
            stack.enter_context(small_disk(tmp_path / "disk", 256 * 1024))
        else:
            preexec = limit_child_file_size(64 * 1024)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "policy_search.cli",
                "ingest",
                str(corpus_copy),
                "--index",
                str(index),
            ],
            capture_output=True,
            text=True,
            preexec_fn=preexec,
            timeout=900,
        )
        leftovers = list(index.glob("versions/*")) + list(index.glob("current"))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    (line,) = _error_lines(proc.stderr)
    assert line.startswith(f"error: cannot write the index in {index}: "), line
    assert "previous version still serves" in line
    assert leftovers == []  # nothing half-written


def test_ingest_refuses_a_huge_file_from_its_size_before_reading_it(tmp_path, corpus_copy):
    huge = corpus_copy / "huge.txt"
    with open(huge, "wb") as fh:  # sparse: 3 GiB that take no disk
        fh.truncate(3 << 30)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    index = tmp_path / "i"
    # A child's ru_maxrss starts at its parent's peak (exec folds in the hiwater mark of
    # the memory it replaces, pytest's own when vforked), and pytest passes 3 GB late in
    # the suite. A small launcher in between parents the ingest, and reports its peak.
    launcher = (
        "import os, subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[1:])\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "print(usage.ru_maxrss, file=sys.stderr)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    argv = [
        sys.executable,
        "-m",
        "policy_search.cli",
        "ingest",
        str(corpus_copy),
        "--index",
        str(index),
    ]
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.run([sys.executable, "-c", launcher, *argv], stdout=o, stderr=e)
    assert proc.returncode == 0, err.read_text()
    maxrss_kib = int(err.read_text().splitlines()[-1])
    assert f"skipped {huge}: the file is {3 << 30} bytes" in err.read_text()
    assert "POLICY_SEARCH_MAX_FILE_BYTES" in err.read_text()
    assert "index now has 5 documents" in out.read_text()
    # Peak memory of the ingest, model included, stays below the file's size: never read.
    assert maxrss_kib * 1024 < 3 << 30, maxrss_kib
