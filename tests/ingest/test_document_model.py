"""The document model ingest builds: plain text, tables with header cells, the official frame
marked, list items under their parent, and chunk offsets that point into the blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunk import StructureChunker
from ingest.models import (
    CLOSING,
    FRAME_KINDS,
    LETTERHEAD,
    LIST_ITEM,
    RECIPIENTS,
    SIGNATURE,
    TABLE,
    Block,
    ParsedDocument,
)
from ingest.pipeline import parse_file

ADMINDOCS = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "admindocs" / "docs"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _words(text: str) -> int:
    return len(text.split())


def _parse(path: Path) -> ParsedDocument:
    doc = parse_file(path, path.parent)
    assert isinstance(doc, ParsedDocument), doc
    return doc


def _markup(text: str) -> list[str]:
    """What a reader must never see: emphasis marks, rules, a line of only pipes, pipe rows."""
    found = [m for m in ("**", "__", "---") if m in text]
    for line in text.split("\n"):
        if re.fullmatch(r"\s*\|[\s|]*", line) or re.match(r"^\s*\|.*\|\s*$", line):
            found.append(line)
    return found


def _admindocs() -> list[Path]:
    if not ADMINDOCS.is_dir():
        return []
    return sorted(ADMINDOCS.glob("*.md"))


@pytest.mark.skipif(not _admindocs(), reason=f"no admindocs at {ADMINDOCS}")
@pytest.mark.parametrize("path", _admindocs(), ids=lambda p: p.name[:24])
def test_official_documents_read_as_plain_text(path: Path) -> None:
    doc = _parse(path)
    chunks = StructureChunker(token_count=_words).chunk(doc)
    texts = [b.text for b in doc.blocks]
    texts += [cell for b in doc.blocks for row in b.rows or [] for cell in row]
    texts += [c.text for c in chunks] + [c.embed_text for c in chunks]
    leftovers = [(t[:80], _markup(t)) for t in texts if _markup(t)]
    assert not leftovers
    kinds = {b.kind for b in doc.blocks}
    # Every one of these official texts prints a letterhead, recipients and a signature.
    assert {LETTERHEAD, RECIPIENTS, SIGNATURE} <= kinds, kinds
    assert doc.blocks[0].kind == LETTERHEAD
    letterhead = doc.blocks[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in letterhead
    assert doc.meta.header.number and doc.meta.header.number in letterhead


@pytest.mark.skipif(not _admindocs(), reason=f"no admindocs at {ADMINDOCS}")
def test_an_annex_table_of_cells_one_per_line_is_rows_under_its_header() -> None:
    [path] = [p for p in _admindocs() if "2820-QD-UBND" in p.name]
    doc = _parse(path)
    [table] = [b for b in doc.blocks if b.kind == TABLE]
    assert table.header_rows == 1 and table.rows is not None
    header = table.rows[0]
    assert header[:4] == ["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp"]
    assert all(len(row) <= len(header) for row in table.rows)
    # A row reads with its column names, one row a line.
    row = next(line for line in table.text.split("\n") if line.startswith("TT: 1;"))
    assert "Cơ quan chủ trì: Sở Tài chính" in row
    # Recipients and signature sat side by side in a layout table: two marked blocks.
    signature = next(b for b in doc.blocks if b.kind == SIGNATURE)
    recipients = next(b for b in doc.blocks if b.kind == RECIPIENTS)
    assert signature.text.startswith("KT. CHỦ TỊCH") and signature.text.endswith("Nguyễn Lộc Hà")
    assert recipients.text.split("\n")[:2] == ["Nơi nhận:", "- Như Điều 3;"]


def test_frame_blocks_are_marked_and_left_out_of_passages(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.md"
    path.write_text(
        "| **ỦY BAN NHÂN DÂN TỈNH A**<br>------- | **CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM** |\n"
        "|---|---|\n"
        "| Số: 12/KH-UBND | *A, ngày 02 tháng 3 năm 2025* |\n\n"
        "**KẾ HOẠCH**\n\nThực hiện chuyển đổi số năm 2025\n\n"
        "**I. MỤC ĐÍCH**\n\nNâng cao chất lượng dịch vụ công trực tuyến.\n\n"
        "**II. TỔ CHỨC THỰC HIỆN**\n\n"
        "1. Sở Khoa học và Công nghệ chủ trì triển khai nền tảng số.\n\n"
        "Trên đây là Kế hoạch thực hiện chuyển đổi số năm 2025 của tỉnh.\n\n"
        "**Nơi nhận:**\n- Bộ Khoa học và Công nghệ;\n- Lưu: VT.\n\n"
        "**KT. CHỦ TỊCH**\n**PHÓ CHỦ TỊCH**\n\nNguyễn Văn An\n",
        encoding="utf-8",
    )
    doc = _parse(path)
    kinds = [b.kind for b in doc.blocks]
    assert kinds[0] == LETTERHEAD and {CLOSING, RECIPIENTS, SIGNATURE} <= set(kinds)
    assert doc.blocks[0].text.split("\n") == [
        "ỦY BAN NHÂN DÂN TỈNH A",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Số: 12/KH-UBND",
        "A, ngày 02 tháng 3 năm 2025",
    ]
    assert next(b for b in doc.blocks if b.kind == RECIPIENTS).text == (
        "Nơi nhận:\n- Bộ Khoa học và Công nghệ;\n- Lưu: VT."
    )
    assert next(b for b in doc.blocks if b.kind == SIGNATURE).text == (
        "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn An"
    )
    chunks = StructureChunker(token_count=_words).chunk(doc)
    body = " ".join(c.text for c in chunks)
    assert "nền tảng số" in body
    for words in ("Trên đây là", "Nơi nhận", "Nguyễn Văn An", "CỘNG HÒA"):
        assert words not in body
    frame = {i for i, b in enumerate(doc.blocks) if b.kind in FRAME_KINDS}
    for c in chunks:
        assert not frame & set(range(c.first_block, c.last_block + 1))


def test_sub_items_nest_under_their_real_parent(tmp_path: Path) -> None:
    path = tmp_path / "cong-dien.md"
    path.write_text(
        "Thủ tướng Chính phủ yêu cầu:\n\n"
        "1. Các bộ, ngành rà soát danh mục dự án, gửi báo cáo trước ngày 10 tháng 12 năm 2025.\n\n"
        "2. Bộ Xây dựng:\n\n"
        "a) Chủ trì, phối hợp với Bộ Tài chính rà soát danh mục các dự án, công trình;\n\n"
        "b) Khẩn trương hoàn thiện hồ sơ các dự án sau:\n\n"
        "- dự án đường cao tốc;\n\n"
        "- dự án cảng hàng không.\n\n"
        "3. Bộ Nội vụ hướng dẫn khen thưởng các tập thể, cá nhân có thành tích.\n",
        encoding="utf-8",
    )
    doc = _parse(path)
    at = {b.text.split()[0]: i for i, b in enumerate(doc.blocks)}
    blocks = doc.blocks
    assert blocks[at["a)"]].kind == LIST_ITEM
    assert blocks[at["a)"]].parent == at["2."]
    assert blocks[at["b)"]].parent == at["2."]
    dashes = [b for b in blocks if b.text.startswith("- ")]
    assert len(dashes) == 2 and all(b.parent == at["b)"] for b in dashes)
    assert blocks[at["3."]].parent is None and blocks[at["1."]].parent is None


def test_a_ruled_pdf_table_is_a_table_block_with_header_cells(tmp_path: Path) -> None:
    import pymupdf

    font = pymupdf.Font("notos")
    rows = [
        ["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian"],
        ["1", "Xây dựng cơ sở dữ liệu", "Sở Tài chính", "Quý IV/2025"],
        ["2", "Tập huấn cán bộ", "Sở Nội vụ", "Năm 2026"],
    ]
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    page.insert_font(fontname="notos", fontbuffer=font.buffer)
    page.insert_text((72, 72), "KẾ HOẠCH THỰC HIỆN NĂM 2026", fontsize=12, fontname="notos")
    page.insert_text((72, 100), "Các nhiệm vụ cụ thể như sau:", fontsize=11, fontname="notos")
    xs, top, height = [72, 102, 272, 402, 522], 120, 24
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            box = pymupdf.Rect(xs[c], top + r * height, xs[c + 1], top + (r + 1) * height)
            page.draw_rect(box, color=(0, 0, 0), width=0.8)
            page.insert_text((xs[c] + 3, box.y0 + 16), cell, fontsize=10, fontname="notos")
    page.insert_text((72, 230), "Các cơ quan báo cáo kết quả hằng quý.", fontname="notos")
    path = tmp_path / "ke-hoach.pdf"
    pdf.save(path)
    pdf.close()

    doc = _parse(path)
    [table] = [b for b in doc.blocks if b.kind == TABLE]
    assert table.rows == rows and table.header_rows == 1
    assert table.text.split("\n")[0] == (
        "TT: 1; Nhiệm vụ: Xây dựng cơ sở dữ liệu; Cơ quan chủ trì: Sở Tài chính; "
        "Thời gian: Quý IV/2025"
    )
    # The cells are read once, as the table, not again as loose lines of text.
    assert sum("Tập huấn cán bộ" in b.text for b in doc.blocks) == 1
    texts = [b.text for b in doc.blocks]
    assert texts.index("Các nhiệm vụ cụ thể như sau:") < texts.index(table.text)
    assert texts.index(table.text) < texts.index("Các cơ quan báo cáo kết quả hằng quý.")


def test_html_and_docx_tables_keep_their_header_cells(tmp_path: Path) -> None:
    import docx

    html = tmp_path / "bang.html"
    html.write_text(
        "<html><body><h1>Kế hoạch</h1><p>Phân công nhiệm vụ như sau:</p><table>"
        "<thead><tr><th>Nhiệm vụ</th><th>Cơ quan chủ trì</th></tr></thead>"
        "<tr><td><b>Xây dựng</b> đề án</td><td>Sở Nội vụ</td></tr></table></body></html>",
        encoding="utf-8",
    )
    word = docx.Document()
    word.add_paragraph("Phân công nhiệm vụ như sau:")
    grid = word.add_table(rows=2, cols=2)
    for r, row in enumerate([["Nhiệm vụ", "Cơ quan chủ trì"], ["Xây dựng đề án", "Sở Nội vụ"]]):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    word.save(str(tmp_path / "bang.docx"))
    for path in (html, tmp_path / "bang.docx"):
        [table] = [b for b in _parse(path).blocks if b.kind == TABLE]
        assert table.rows == [["Nhiệm vụ", "Cơ quan chủ trì"], ["Xây dựng đề án", "Sở Nội vụ"]]
        assert table.header_rows == 1
        assert table.text == "Nhiệm vụ: Xây dựng đề án; Cơ quan chủ trì: Sở Nội vụ"


def test_chunk_offsets_point_into_the_blocks() -> None:
    doc = _parse(CORPUS / "004_0ae3777ec9422ce6.txt")
    chunks = StructureChunker(token_count=_words, chunk_tokens=60, overlap_tokens=10).chunk(doc)
    assert len(chunks) > 5
    for c in chunks:
        first, last = doc.blocks[c.first_block], doc.blocks[c.last_block]
        if c.first_block == c.last_block:
            assert first.text[c.first_offset : c.last_offset] == c.text
        else:
            assert c.text.startswith(first.text[c.first_offset :])
            assert c.text.endswith(last.text[: c.last_offset])


def test_stored_blocks_round_trip_and_old_rows_still_read() -> None:
    block = Block("TT: 1; Nhiệm vụ: A", 3, None, kind=TABLE, rows=[["TT", "Nhiệm vụ"], ["1", "A"]])
    block.header_rows = 1
    assert Block.from_stored(block.stored()) == block
    old = Block.from_stored(["Điều 1. Phạm vi", None, 4])  # an index written before kinds
    assert (old.text, old.heading_level, old.kind) == ("Điều 1. Phạm vi", 4, "")


def test_numbered_agency_labels_head_their_tasks(tmp_path: Path) -> None:
    """ "1.1. Sở Tài chính:" and "a) UBND các huyện:" over bullets are the headings of their
    sections: the passages' section path and the assignment records carry the agency."""
    from ingest.assignments import extract_assignments

    path = tmp_path / "ke-hoach.md"
    path.write_text(
        "II. TỔ CHỨC THỰC HIỆN\n\n"
        "1. Các sở, ban, ngành\n\n"
        "1.1. Sở Tài chính:\n\n"
        "- Tham mưu bố trí kinh phí thực hiện Kế hoạch trong dự toán hằng năm.\n\n"
        "- Hướng dẫn thanh quyết toán kinh phí theo quy định.\n\n"
        "1.2. Sở Khoa học và Công nghệ:\n\n"
        "- Chủ trì xây dựng nền tảng dữ liệu dùng chung, hoàn thành trước ngày 30/6/2026.\n\n"
        "2. Địa phương\n\n"
        "a) UBND các huyện, thành phố:\n\n"
        "- Bố trí cán bộ chuyên trách chuyển đổi số cấp huyện.\n\n"
        "b) UBND các xã:\n\n"
        "- Tuyên truyền cho người dân sử dụng dịch vụ công trực tuyến.\n\n"
        "3. Các sở phối hợp thực hiện như sau:\n\n"
        "- Báo cáo kết quả về Sở Tài chính.\n",
        encoding="utf-8",
    )
    doc = _parse(path)
    headings = [b.text for b in doc.blocks if b.is_heading]
    assert "1.1. Sở Tài chính" in headings and "b) UBND các xã" in headings
    # A lettered label starts its own line, not the end of "2. Địa phương".
    assert "2. Địa phương" in headings and "a) UBND các huyện, thành phố" in headings
    # A numbered line ending in a colon that names no agency stays text.
    assert not any(h.startswith("3.") for h in headings)
    sections = {
        c.text.split("\n")[0][:20]: c.section
        for c in StructureChunker(token_count=_words).chunk(doc)
    }
    assert any(s.endswith("1.1. Sở Tài chính") for s in sections.values()), sections
    records = extract_assignments("d", [b.stored() for b in doc.blocks])
    by_lead = {a.lead: a.section for a in records}
    assert by_lead["Sở Tài chính"].endswith("› 1.1. Sở Tài chính")
    assert by_lead["UBND các huyện, thành phố"].endswith("› a) UBND các huyện, thành phố")
    assert by_lead["UBND các xã"].endswith("› b) UBND các xã")
