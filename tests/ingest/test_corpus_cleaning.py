"""Cleaning, structure and metadata on the five real corpus documents."""

from pathlib import Path

import pytest

from ingest.chunk import StructureChunker
from ingest.models import ParsedDocument
from ingest.pipeline import parse_file

BOILERPLATE = [
    "Tin cùng chuyên mục",
    "Có thể bạn quan tâm",
    "mg-8524.jpg",
    "2222.jpg",
    "fb yt zl tw",
    "Sign In",
    "Chọn cỡ chữ",
    "Lượt xem",
    "Đang online",
    "lượt đánh giá",
    "image banner",
    "Mưu sinh trên lòng hồ",
    "Hành trình bền bỉ vì tương lai xanh",
]


@pytest.fixture(scope="module")
def docs(corpus_dir: Path) -> dict[str, ParsedDocument]:
    out = {}
    for path in sorted(corpus_dir.glob("*.txt")):
        parsed = parse_file(path, corpus_dir)
        assert isinstance(parsed, ParsedDocument), parsed
        out[path.stem[:3]] = parsed
    return out


def _text(doc: ParsedDocument) -> str:
    return "\n".join(b.text for b in doc.blocks)


def test_boilerplate_and_related_news_are_gone(docs):
    for key, doc in docs.items():
        text = _text(doc)
        for junk in BOILERPLATE:
            assert junk not in text, (key, junk)
        assert not any(b.text.strip() == "Zalo" for b in doc.blocks)


def test_content_survives_cleaning(docs):
    assert "xe buýt điện" in _text(docs["000"])
    assert "Masao Imanishi" in _text(docs["001"])
    assert "Sở Lao động Công thương tỉnh Hiroshima" in _text(docs["002"])
    assert "Sở Lao động - Thương binh và Xã hội chủ trì" in _text(docs["003"])


def test_broken_lines_are_rejoined(docs):
    plan = _text(docs["004"])
    assert "nhận thức về tăng trưởng xanh cho các cơ quan, công sở" in plan
    assert "lồng ghép tăng trưởng xanh và phát triển bền vững. Phối hợp với các Sở, ngành" in plan
    assert "Thực hiện đô thị hóa, xây dựng nông thôn mới" in plan
    assert "\ncơ\n" not in plan


def test_metadata(docs):
    assert docs["000"].meta.doc_type == "agreement"
    assert docs["001"].meta.doc_type == "agreement"
    assert docs["002"].meta.doc_type == "agreement"
    assert docs["003"].meta.doc_type == "news"
    assert docs["004"].meta.doc_type == "plan"
    assert docs["001"].meta.source.startswith("https://baodongnai.com.vn/")
    assert docs["002"].meta.date == "2025-10-28"
    assert docs["001"].meta.date == "2024-09-10"
    # The plan only cites other decisions' dates; the article gives no year.
    assert docs["004"].meta.date == ""
    assert docs["000"].meta.date == ""
    assert docs["000"].meta.provinces == ["Lào Cai"]
    assert docs["001"].meta.provinces == ["Đồng Nai"]
    assert docs["002"].meta.provinces[0] == "Cần Thơ"
    assert docs["003"].meta.provinces == ["Trà Vinh"]
    assert docs["001"].meta.title == (
        "Đồng Nai ký kết hợp tác tăng trưởng xanh với thành phố Kobe, Nhật Bản"
    )
    assert docs["004"].meta.title.startswith("Kế hoạch hành động: Triển khai thực hiện")
    assert docs["004"].meta.doc_id == "004_0ae3777ec9422ce6"


def test_plan_headings_give_section_paths(docs, embedder):
    chunker = StructureChunker(token_count=embedder.token_count)
    chunks = chunker.chunk(docs["004"])
    sections = {c.section for c in chunks}
    assert "V. Tổ chức thực hiện › 6. Sở Xây dựng" in sections
    assert "V. Tổ chức thực hiện › 3. Sở Công Thương" in sections
    # The bold lead "**2. Sở Nông nghiệp...:** Chủ trì ..." is a heading with its own body.
    assert "V. Tổ chức thực hiện › 2. Sở Nông nghiệp và Phát triển nông thôn" in sections
    assert "II. Mục tiêu › 2. Mục tiêu cụ thể › a) Giảm cường độ phát thải khí nhà kính" in sections
    waste = [c for c in chunks if "quản lý chất thải đô thị trên địa bàn" in c.text]
    assert len(waste) == 1
    assert waste[0].section == "V. Tổ chức thực hiện › 6. Sở Xây dựng"
    # The embedded text carries the title and the section, so the bullet knows its agency.
    assert "6. Sở Xây dựng" in waste[0].embed_text
    assert docs["004"].meta.title in waste[0].embed_text
    assert "**" not in waste[0].text


def test_chunks_fit_the_model(docs, embedder):
    chunker = StructureChunker(token_count=embedder.token_count)
    for doc in docs.values():
        chunks = chunker.chunk(doc)
        assert chunks
        for c in chunks:
            assert embedder.token_count(c.embed_text) <= 512
            assert embedder.token_count(c.text) <= chunker.chunk_tokens


def test_a_line_opening_lower_case_past_emphasis_or_a_bracket_carries_on_its_sentence():
    from ingest.clean import clean_pages
    from ingest.models import Page

    page = (
        "**2. Thời hạn nộp hồ sơ:**\n"
        "Hồ sơ đề nghị gửi về Sở Nội vụ (qua Phòng Tổ chức)\n"
        "*trước ngày 15/4/2026 *để tổng hợp.\n"
        "Các thông số (pH, DO)\n"
        "quan trắc 2 lần/tháng.\n"
        "Kế hoạch gồm các nội dung sau (03 nhóm)\n"
        "a) Tuyên truyền;\n"
        "*b) *Kiểm tra.\n"
    )
    texts = [b.text for b in clean_pages([Page(1, page)])]
    assert (
        "Hồ sơ đề nghị gửi về Sở Nội vụ (qua Phòng Tổ chức) *trước ngày 15/4/2026 *để tổng hợp."
        in texts
    )
    assert "Các thông số (pH, DO) quan trắc 2 lần/tháng." in texts
    # A lettered item opens a new line of its own, emphasised or not.
    assert "a) Tuyên truyền;" in texts and "*b) *Kiểm tra." in texts
