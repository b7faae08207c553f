"""Extraction from real files of every supported format, good and bad."""

import unicodedata
from pathlib import Path

import pymupdf
import pytest

from ingest.models import IngestProblem, ParsedDocument
from ingest.pipeline import parse_file


def _parsed(path: Path) -> ParsedDocument:
    out = parse_file(path, path.parent)
    assert isinstance(out, ParsedDocument), out
    return out


def test_pdf_pages_and_vietnamese_survive(tmp_path, make_pdf):
    pdf = make_pdf(
        tmp_path / "ke-hoach.pdf",
        [
            "KẾ HOẠCH HÀNH ĐỘNG\n\nI. MỤC ĐÍCH\n\nTăng trưởng xanh của tỉnh Lào Cai.",
            "V. TỔ CHỨC THỰC HIỆN\n\n6. Sở Xây dựng\n\n- Phối hợp với Sở Tài nguyên và Môi trường "
            "trong các hoạt động quản lý chất thải đô thị.",
            "VII. CHẾ ĐỘ BÁO CÁO\n\nBáo cáo hằng năm về Sở Kế hoạch và Đầu tư.",
        ],
    )
    doc = _parsed(pdf)
    text = "\n".join(b.text for b in doc.blocks)
    assert unicodedata.is_normalized("NFC", text)
    assert "quản lý chất thải đô thị" in text
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["6. Sở Xây dựng"].page == 2
    assert by_text["6. Sở Xây dựng"].heading_level == 2
    assert by_text["V. Tổ chức thực hiện"].heading_level == 1
    assert any(b.page == 3 and "Báo cáo hằng năm" in b.text for b in doc.blocks)
    assert doc.meta.provinces == ["Lào Cai"]


def test_pdf_with_decomposed_text_comes_back_nfc(tmp_path, make_pdf):
    decomposed = unicodedata.normalize("NFD", "Sở Tài nguyên và Môi trường chủ trì")
    doc = _parsed(make_pdf(tmp_path / "nfd.pdf", [decomposed]))
    assert doc.blocks[0].text == "Sở Tài nguyên và Môi trường chủ trì"


def test_encrypted_pdf_is_reported(tmp_path, make_pdf):
    plain = make_pdf(tmp_path / "plain.pdf", ["Nội dung mật"])
    locked = tmp_path / "locked.pdf"
    with pymupdf.open(plain) as doc:
        doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    out = parse_file(locked, tmp_path)
    assert isinstance(out, IngestProblem)
    assert "encrypted" in out.reason


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.pdf", b"", "empty file"),
        ("corrupt.pdf", b"%PDF-1.7\n this is not really a pdf \x00\xff", "PDF"),
        ("zip.pdf", b"PK\x03\x04" + b"\x00" * 100, "PDF"),
        ("empty.txt", b"   \n\n", "empty file"),
        ("binary.txt", b"abc\x00def", "binary"),
        ("data.xlsx", b"whatever", "unsupported"),
    ],
)
def test_bad_files_are_reported_with_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    out = parse_file(path, tmp_path)
    assert isinstance(out, IngestProblem)
    assert reason.lower() in out.reason.lower()


def test_image_only_pdf_is_reported(tmp_path):
    path = tmp_path / "scan.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(50, 50, 200, 200), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    doc.save(path)
    out = parse_file(path, tmp_path)
    assert isinstance(out, IngestProblem)
    assert "no extractable text" in out.reason


def test_html_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "bai-viet.html"
    path.write_text(
        "<html><head><title>Báo X</title><script>var x = 'ăn cắp';</script>"
        "<style>p{color:red}</style>"
        '<link rel="canonical" href="https://baox.vn/bai-viet-123"></head><body>'
        "<nav><a>Trang chủ</a><a>Thời sự</a></nav>"
        "<h1>Đồng Nai ký kết hợp tác với Kobe</h1>"
        "<p>Chiều 10-9, UBND tỉnh Đồng Nai ký kết biên bản ghi nhớ hợp tác.</p>"
        "<p>mg-1234.jpg</p><footer>Bản quyền thuộc Báo X</footer></body></html>",
        encoding="utf-8",
    )
    doc = _parsed(path)
    text = "\n".join(b.text for b in doc.blocks)
    assert doc.meta.title == "Đồng Nai ký kết hợp tác với Kobe"
    assert doc.meta.source == "https://baox.vn/bai-viet-123"
    assert "UBND tỉnh Đồng Nai ký kết" in text
    for junk in ("ăn cắp", "color:red", "Trang chủ", "Bản quyền", "mg-1234.jpg"):
        assert junk not in text
    assert doc.meta.doc_type == "agreement"


def test_docx_headings_become_sections(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("KẾ HOẠCH HÀNH ĐỘNG", level=1)
    document.add_paragraph("Căn cứ tình hình thực tế của tỉnh Trà Vinh.")
    document.add_heading("V. TỔ CHỨC THỰC HIỆN", level=2)
    document.add_heading("1. Sở Công Thương", level=3)
    document.add_paragraph("- Chủ trì phát triển năng lượng tái tạo.")
    path = tmp_path / "plan.docx"
    document.save(str(path))
    doc = _parsed(path)
    levels = {b.text: b.heading_level for b in doc.blocks if b.is_heading}
    assert levels["V. Tổ chức thực hiện"] == 1
    assert levels["1. Sở Công Thương"] == 2
    assert doc.meta.provinces == ["Trà Vinh"]


def test_legacy_windows_1258_text_is_decoded(tmp_path):
    path = tmp_path / "cu.txt"
    # Windows-1258 writes the vowel precomposed and the tone as a combining mark.
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    legacy = ""
    for ch in "Tỉnh Lào Cai ban hành kế hoạch":
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        legacy += base + "".join(c for c in parts if c in tones)
    path.write_bytes(legacy.encode("cp1258"))
    doc = _parsed(path)
    assert doc.blocks[0].text == "Tỉnh Lào Cai ban hành kế hoạch"
