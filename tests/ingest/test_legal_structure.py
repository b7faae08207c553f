"""Legal structure: Phần / Chương / Mục / Điều give section paths; an article is one chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunk import SECTION_SEP, StructureChunker, body_text
from ingest.models import Block, ParsedDocument
from ingest.pipeline import parse_file
from ingest.structure import mark_headings, sentence_case

DECREE = """**CHÍNH PHỦ**
-------
|
**CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM**
Độc lập - Tự do - Hạnh phúc
|
Số: 45/2022/NĐ-CP
|
*Hà Nội, ngày 7 tháng 7 năm 2022*
|

**NGHỊ ĐỊNH**

QUY ĐỊNH VỀ XỬ PHẠT VI PHẠM HÀNH CHÍNH TRONG LĨNH VỰC BẢO VỆ MÔI TRƯỜNG

*Căn cứ Luật Bảo vệ môi trường ngày 17 tháng 11 năm 2020;*

**Chương I**

**QUY ĐỊNH CHUNG**

**Điều 1. Phạm vi điều chỉnh**

1. Nghị định này quy định về hành vi vi phạm hành chính trong lĩnh vực bảo vệ môi trường.

2. Vi phạm khác:

a) Không thu gom chất thải;

b) Không báo cáo.

**Điều 2.** Nghị định này áp dụng đối với cơ quan, tổ chức và cá nhân có hành vi vi phạm.

**Chương II**

**HÀNH VI VI PHẠM, HÌNH THỨC XỬ PHẠT**

**Mục 1**

**VI PHẠM VỀ CHẤT THẢI**

**Điều 12. Vi phạm về quản lý chất thải rắn**

{clauses}
"""


def _clause(n: int) -> str:
    return (
        f"{n}. Phạt tiền từ {n} triệu đồng đến {n + 1} triệu đồng đối với hành vi không phân "
        "loại, không lưu giữ, không chuyển giao chất thải rắn sinh hoạt cho tổ chức, cá nhân "
        "có chức năng thu gom, vận chuyển, xử lý theo quy định của pháp luật về bảo vệ môi "
        "trường và các quy định khác có liên quan."
    )


@pytest.fixture(scope="module")
def decree(tmp_path_factory: pytest.TempPathFactory) -> ParsedDocument:
    path = tmp_path_factory.mktemp("legal") / "nd-45.md"
    path.write_text(DECREE.format(clauses="\n\n".join(_clause(n) for n in range(1, 13))))
    parsed = parse_file(path)
    assert isinstance(parsed, ParsedDocument)
    return parsed


@pytest.fixture(scope="module")
def chunker(embedder) -> StructureChunker:
    from index.build import default_chunker

    return default_chunker(embedder)


def test_divisions_and_articles_are_headings_clauses_are_text(decree: ParsedDocument) -> None:
    headings = [(b.heading_level, b.text) for b in decree.blocks if b.heading_level]
    assert headings == [
        (2, "Chương I. Quy định chung"),
        (4, "Điều 1. Phạm vi điều chỉnh"),
        (4, "Điều 2."),
        (2, "Chương II. Hành vi vi phạm, hình thức xử phạt"),
        (3, "Mục 1. Vi phạm về chất thải"),
        (4, "Điều 12. Vi phạm về quản lý chất thải rắn"),
    ]
    texts = [b.text for b in decree.blocks if b.heading_level is None]
    assert "a) Không thu gom chất thải;" in texts  # a point, not a heading
    assert texts[texts.index("a) Không thu gom chất thải;") - 1] == "2. Vi phạm khác:"


def test_a_short_article_is_one_chunk_with_its_path(
    decree: ParsedDocument, chunker: StructureChunker
) -> None:
    chunks = chunker.chunk(decree)
    article = [c for c in chunks if c.section.endswith("Điều 1. Phạm vi điều chỉnh")]
    assert len(article) == 1
    assert article[0].section == "Chương I. Quy định chung › Điều 1. Phạm vi điều chỉnh"
    assert article[0].text.startswith("1. Nghị định này") and "b) Không báo cáo." in article[0].text
    # The article's title is embedded and indexed with its text.
    assert "Điều 1. Phạm vi điều chỉnh" in article[0].embed_text
    statement = [c for c in chunks if c.section.endswith("Điều 2.")]
    assert statement[0].text.startswith("Nghị định này áp dụng")


def test_a_long_article_is_split_at_its_clauses(
    decree: ParsedDocument, chunker: StructureChunker, embedder
) -> None:
    chunks = chunker.chunk(decree)
    path = "Chương II. Hành vi vi phạm, hình thức xử phạt › Mục 1. Vi phạm về chất thải"
    article = f"{path} › Điều 12. Vi phạm về quản lý chất thải rắn"
    parts = [c for c in chunks if c.section.startswith(article)]
    assert len(parts) >= 2
    # Each part is a run of whole clauses, named in its path, in order and without gaps.
    names = [c.section.split(SECTION_SEP)[-1] for c in parts]
    assert all(name.startswith("Khoản ") for name in names)
    covered: list[int] = []
    for part, name in zip(parts, names, strict=True):
        first, _, last = name.removeprefix("Khoản ").partition("–")
        numbers = list(range(int(first), int(last or first) + 1))
        assert part.text.startswith(f"{numbers[0]}. Phạt tiền")
        assert part.text.rstrip().endswith("có liên quan.")
        covered += numbers
        assert embedder.token_count(part.embed_text) <= chunker.max_tokens
    assert covered == list(range(1, 13))
    # Offsets still point into the document's body text.
    text = body_text(decree)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_a_document_titled_by_its_article_is_one_article(
    tmp_path: Path, chunker: StructureChunker
) -> None:
    """One article per file, as legal sites and ALQAC give them."""
    path = tmp_path / "blds__dieu-10.txt"
    path.write_text(
        "Bộ Luật Dân sự 2015 – Điều 10. Giới hạn việc thực hiện quyền dân sự\n\n"
        "1. Cá nhân, pháp nhân không được lạm dụng quyền dân sự.\n\n"
        "2. Trường hợp không tuân thủ:\n\n"
        "a) Tòa án không bảo vệ;\n\n"
        "b) Buộc bồi thường.\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert isinstance(parsed, ParsedDocument)
    assert [b.heading_level for b in parsed.blocks] == [0, None, None, None, None]
    chunks = chunker.chunk(parsed)
    assert len(chunks) == 1
    assert chunks[0].embed_text.startswith("Bộ Luật Dân sự 2015 – Điều 10. Giới hạn")


def test_plans_keep_their_numbering() -> None:
    blocks = mark_headings(
        [
            Block(t)
            for t in ["KẾ HOẠCH", "I. MỤC ĐÍCH", "1. Mục đích", "a) Giảm phát thải", "Nội dung."]
        ]
    )
    assert [(b.heading_level, b.text) for b in blocks] == [
        (0, "Kế hoạch"),
        (1, "I. Mục đích"),
        (2, "1. Mục đích"),
        (4, "a) Giảm phát thải"),
        (None, "Nội dung."),
    ]


def test_a_decision_then_the_plan_it_issues() -> None:
    """Articles first, then the attached plan's I./1. numbering: the plan leaves the article."""
    blocks = mark_headings(
        [
            Block(t)
            for t in [
                "QUYẾT ĐỊNH",
                "Điều 1. Ban hành Kế hoạch",
                "1. Nội dung thứ nhất của điều.",
                "I. MỤC ĐÍCH",
                "1. Sở Xây dựng",
                "Nội dung.",
            ]
        ]
    )
    assert [b.heading_level for b in blocks] == [0, 4, None, 1, 2, None]


def test_division_names_in_capitals_are_sentence_cased() -> None:
    assert sentence_case("CHƯƠNG II. QUYỀN VÀ NGHĨA VỤ") == "Chương II. Quyền và nghĩa vụ"
    assert sentence_case("PHẦN THỨ NHẤT") == "Phần thứ nhất"
