"""Latency of the document view (``GET /api/documents/{id}``) on a long document.

    python -m bench.bench_document_view
    python -m bench.bench_document_view --blocks 500 --repeat 30

Indexes ``corpus/`` plus one generated plan of ``--blocks`` blocks (headings,
agency sections, lettered sub-items and a task table, the shapes of a real
provincial plan; cached under ``POLICY_SEARCH_BENCH_DIR``), starts
``policy-search serve`` and times, ``--repeat`` times each:

* the first part of the long document (what the page asks first);
* the part around a passage near its end (a cited passage's ``#pN`` link);
* every part from the first to the last block (reading the whole document);
* ``/api/health`` on the same server, the baseline of the ratio column.

Each part's passages carry their stored block offsets, which the page's
highlights are drawn from. Target (issue 24): the document view of a
500-block document under 300 ms. The load generator shares the machine's
cores with the server: compare ratios, not absolute numbers, across machines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time

from bench.bench_query import Server
from bench.common import BENCH_DIR, REPO, embedder, percentile, print_table
from index.build import build_index

AGENCIES = [
    "Sở Tài chính",
    "Sở Xây dựng",
    "Sở Nội vụ",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Nông nghiệp và Môi trường",
    "Ủy ban nhân dân các xã, phường",
    "Công an tỉnh",
]
_TEXT = (
    "triển khai thực hiện rà soát đánh giá báo cáo kết quả tổ chức tuyên truyền hướng dẫn "
    "kiểm tra giám sát bố trí kinh phí nâng cao chất lượng dịch vụ công trực tuyến chuyển đổi "
    "số cải cách hành chính đào tạo bồi dưỡng cán bộ công chức viên chức theo quy định"
)
WORDS = _TEXT.split()


def _sentence(i: int, words: int = 28) -> str:
    body = " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(words))
    return body[0].upper() + body[1:] + f" trong năm {2025 + i % 5}."


def long_plan(blocks: int) -> str:
    """A plan of about ``blocks`` blocks in the shapes of a provincial plan."""
    lines = ["# KẾ HOẠCH", "", "Thực hiện chuyển đổi số và cải cách hành chính năm 2025", ""]
    count, section = 2, 0
    while count < blocks - 12:
        section += 1
        agency = AGENCIES[section % len(AGENCIES)]
        lines += [f"## {section}. {agency}", ""]
        count += 1
        for k, letter in enumerate("abcdef"):
            lines += [f"{letter}) {_sentence(section * 10 + k)}", ""]
            count += 1
        lines += [_sentence(section * 31), ""]
        count += 1
    lines += ["## Phụ lục: Danh mục nhiệm vụ", ""]
    lines += ["| STT | Nhiệm vụ | Cơ quan chủ trì | Thời gian hoàn thành |", "|---|---|---|---|"]
    for r in range(1, 9):
        agency = AGENCIES[r % len(AGENCIES)]
        lines.append(f"| {r} | {_sentence(r, 10)} | {agency} | Quý {1 + r % 4}/2025 |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=500, help="blocks of the long document")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    emb = embedder()
    root = BENCH_DIR / f"document-view-{args.blocks}"
    docs = root / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    shutil.copytree(REPO / "corpus", docs)
    (docs / "ke-hoach-dai.md").write_text(long_plan(args.blocks), encoding="utf-8")
    index_dir = root / f"index-{''.join(c if c.isalnum() else '-' for c in emb.name)}"
    started = time.perf_counter()
    build_index([docs], index_dir, emb)
    print(f"index ready in {time.perf_counter() - started:.1f} s: {index_dir}")

    server = Server(index_dir, {"POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "0"})
    try:
        _, body = server.get("/api/documents?limit=100")
        listed = json.loads(body)["documents"]
        doc = next(d for d in listed if "ke-hoach-dai" in d["doc_id"])
        doc_id = doc["doc_id"]
        _, first = server.get(f"/api/documents/{doc_id}")
        part = json.loads(first)
        total_blocks = part["part"]["total_blocks"]
        offsets = sum(p["first_block"] >= 0 for p in part["passages"])
        near_end = max(int(doc.get("chunks") or 1) - 2, 0)
        print(
            f"document {doc_id}: {total_blocks} blocks, {doc.get('chunks')} passages; "
            f"{offsets} of the first part's {len(part['passages'])} passages carry stored offsets"
        )

        def timed(path: str) -> float:
            t0 = time.perf_counter()
            status, _ = server.get(path)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            return time.perf_counter() - t0

        def read_whole() -> tuple[float, int]:
            t0, start, parts = time.perf_counter(), 0, 0
            while True:
                status, raw = server.get(f"/api/documents/{doc_id}?start={start}")
                if status != 200:
                    raise RuntimeError(f"part from {start}: HTTP {status}")
                got = json.loads(raw)["part"]
                parts += 1
                if not got["more"]:
                    return time.perf_counter() - t0, parts
                start = int(got["end"])

        for _ in range(3):  # warm the server's caches
            timed(f"/api/documents/{doc_id}")
        kinds: dict[str, list[float]] = {
            "/api/health (baseline)": [],
            "first part": [],
            f"part around passage {near_end}": [],
            "whole document, every part": [],
        }
        parts = 0
        for _ in range(args.repeat):
            kinds["/api/health (baseline)"].append(timed("/api/health"))
            kinds["first part"].append(timed(f"/api/documents/{doc_id}"))
            kinds[f"part around passage {near_end}"].append(
                timed(f"/api/documents/{doc_id}?passage={near_end}")
            )
            whole, parts = read_whole()
            kinds["whole document, every part"].append(whole)
    finally:
        server.stop()

    base = percentile(kinds["/api/health (baseline)"], 95)
    rows = []
    for kind, times in kinds.items():
        p95 = percentile(times, 95)
        rows.append(
            [
                kind,
                len(times),
                round(percentile(times, 50) * 1000, 1),
                round(p95 * 1000, 1),
                round(p95 / base, 1) if base else "",
            ]
        )
    print_table(
        f"{total_blocks}-block plan, read in {parts} parts; target: a part under 300 ms",
        ["request", "n", "p50 ms", "p95 ms", "p95 / health"],
        rows,
    )


if __name__ == "__main__":
    main()
