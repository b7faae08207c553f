"""Header metadata of official documents: fixtures in every format, the corpus, admindocs."""

from __future__ import annotations

from pathlib import Path

import pytest
from official import write_official_docs

from evaluation.headers import (
    FIXTURE_FIELDS,
    SAMPLES,
    SCORED,
    WRITERS,
    field_right,
    header_fields,
    score_admindocs,
)
from ingest.header import number_key, org_case, read_header, title_case
from ingest.metadata import DOC_TYPES
from ingest.models import DocumentHeader, ParsedDocument
from ingest.pipeline import parse_file

REPO = Path(__file__).resolve().parents[2]
ADMINDOCS = REPO.parent / "shared" / "eval" / "admindocs"


def _header(path: Path) -> DocumentHeader:
    parsed = parse_file(path)
    assert isinstance(parsed, ParsedDocument), parsed
    return parsed.meta.header


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_every_field_of_a_generated_document_is_read(sample, fmt: str, tmp_path: Path) -> None:
    """PDF (two-column tables laid out by PyMuPDF), DOCX tables, HTML and noisy plain text."""
    path = WRITERS[fmt](sample, tmp_path / f"{sample.name}.{fmt}")
    got = header_fields(_header(path))
    want = sample.expected()
    wrong = {f: (got[f], want[f]) for f in FIXTURE_FIELDS if not field_right(f, got[f], want[f])}
    assert not wrong


def test_official_document_title_and_date_become_the_documents(tmp_path: Path) -> None:
    sample = SAMPLES[0]
    parsed = parse_file(WRITERS["docx"](sample, tmp_path / "qd.docx"))
    assert isinstance(parsed, ParsedDocument)
    assert parsed.meta.title == sample.title
    assert parsed.meta.date == "2024-05-08"
    assert parsed.meta.header.references[0].doc_id is None  # resolved by the index, later


@pytest.mark.parametrize("name", ["000", "001", "002", "003"])
def test_news_in_the_corpus_has_no_header(corpus_dir: Path, name: str) -> None:
    header = _header(next(corpus_dir.glob(f"{name}_*.txt")))
    fields = header.to_json()
    fields.pop("references")  # a news article may cite a decision; that is not its header
    assert not any(fields.values()), fields


def test_the_lao_cai_plan_shows_only_what_it_prints(corpus_dir: Path) -> None:
    header = _header(next(corpus_dir.glob("004_*.txt")))
    # No national motto, number, place or date is printed: nothing is guessed.
    assert (header.issuer, header.issuer_parent, header.number) == ("", "", "")
    assert (header.place, header.date) == ("", "")
    # What it prints: the type line, its bases and its signature.
    assert header.document_type == "Kế hoạch"
    assert len(header.bases) == 1 and header.bases[0].startswith("Quyết định số 1658/QĐ-TTg")
    assert "Quyết định số 882/QĐ-TTg" in header.bases[0]
    assert [r.number for r in header.references[:2]] == ["1658/QĐ-TTg", "882/QĐ-TTg"]
    assert (header.signer, header.signer_title) == ("Trịnh Xuân Trường", "Chủ tịch")


@pytest.mark.skipif(not ADMINDOCS.is_dir(), reason="../shared/eval/admindocs is not here")
def test_real_documents_of_2025() -> None:
    """The 22 labelled real documents: at least 0.95 of the scored fields right."""
    scores = score_admindocs(ADMINDOCS)
    assert scores.scored(SCORED) >= 0.95, scores.misses


def test_a_header_broken_over_lines_and_cells() -> None:
    text = "\n".join(
        [
            "**ỦY BAN NHÂN",
            "DÂN **",
            "TỈNH BẮC KẠN",
            "-------",
            "|",
            "**CỘNG HÒA XÃ",
            "HỘI CHỦ NGHĨA VIỆT NAM**",
            "Độc lập - Tự do - Hạnh phúc",
            "|",
            "Số:",
            "15/2024/QĐ-UBND",
            "|",
            "*Bắc Kạn, ng**ày 3",
            "tháng 4 năm 2024*",
            "|",
            "**QUYẾT ĐỊNH**",
            "VỀ",
            "VIỆC BAN HÀNH QUY CHẾ",
            "**ỦY BAN NHÂN DÂN TỈNH BẮC KẠN**",
            "*Căn",
            "cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;*",
            "*Theo đề nghị của Giám đốc Sở Nội vụ.*",
            "**QUYẾT ĐỊNH:**",
            "**Điều 1.** Ban hành Quy chế.",
        ]
    )
    h = read_header(text)
    assert h.issuer == "Ủy ban nhân dân tỉnh Bắc Kạn"
    assert (h.number, h.place, h.date) == ("15/2024/QĐ-UBND", "Bắc Kạn", "2024-04-03")
    assert (h.document_type, h.title) == ("Quyết định", "VỀ VIỆC BAN HÀNH QUY CHẾ")
    assert h.bases == ["Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015"]


def test_bases_one_per_can_cu_and_references_in_the_body() -> None:
    text = "\n".join(
        [
            "Căn cứ Nghị định số 08/2015/NĐ-CP ngày 21/01/2015 của Chính phủ;",
            "Nghị định số 167/2025/NĐ-CP ngày 30/6/2025 của Chính phủ; Căn cứ Thông tư số",
            "38/2015/TT- BTC ngày 25/3/2015; Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:",
            "I. MỤC ĐÍCH",
            "Thực hiện theo Quyết định số 1658/QĐ-TTg; quy định tại Thông tư số 38/2015/TT-BTC.",
        ]
    )
    h = read_header(text)
    assert h.bases == [
        "Nghị định số 08/2015/NĐ-CP ngày 21/01/2015 của Chính phủ; "
        "Nghị định số 167/2025/NĐ-CP ngày 30/6/2025 của Chính phủ",
        "Thông tư số 38/2015/TT- BTC ngày 25/3/2015",
    ]
    numbers = [r.number for r in h.references]
    # Each cited once, in the form it is matched by, the body's mention of a basis included.
    assert numbers == ["08/2015/NĐ-CP", "167/2025/NĐ-CP", "38/2015/TT-BTC", "1658/QĐ-TTg"]
    assert h.references[0].date == "2015-01-21"
    assert h.references[0].document_type == "Nghị định"


def test_a_can_cu_in_the_body_is_an_argument_not_a_basis() -> None:
    text = "\n".join(
        [
            "Kính gửi: Cục Thuế các tỉnh.",
            "Tổng cục Thuế nhận được phản ánh của Cục Thuế. Về vấn đề này, ý kiến như sau:",
            "Căn cứ quy định tại Thông tư số 219/2013/TT-BTC, hàng hóa được áp dụng thuế suất 0%.",
        ]
    )
    h = read_header(text)
    assert h.bases == []
    assert [r.number for r in h.references] == ["219/2013/TT-BTC"]
    assert h.recipients == ["Cục Thuế các tỉnh"]


def test_the_documents_own_number_is_not_a_reference() -> None:
    text = "Số: 12/KH-UBND\nLào Cai, ngày 1 tháng 2 năm 2024\nKẾ HOẠCH\nThực hiện\n" + (
        "Ban hành kèm theo Kế hoạch số 12/KH-UBND và Quyết định 99/QĐ-UBND."
    )
    h = read_header(text)
    assert h.number == "12/KH-UBND"
    assert [r.number for r in h.references] == ["99/QĐ-UBND"]


def test_signature_blocks() -> None:
    text = "\n".join(
        [
            "Nơi nhận:",
            "- Như trên;",
            "- Lưu: VT.",
            "|",
            "**TL.",
            "CỤC TRƯỞNG**",
            "**KT. TRƯỞNG BAN NGHIỆP VỤ TH****UẾ**** HQ**",
            "PHÓ TRƯỞNG BAN",
            "(Đã ký)",
            "**Đào Thu",
            "Hương**",
        ]
    )
    h = read_header(text)
    assert (h.signer, h.signer_title) == ("Đào Thu Hương", "Phó Trưởng ban")
    assert h.signature_block == (
        "TL. / CỤC TRƯỞNG / KT. TRƯỞNG BAN NGHIỆP VỤ THUẾ HQ / PHÓ TRƯỞNG BAN"
    )
    assert h.recipients == ["Như trên"]


def test_display_case() -> None:
    assert org_case("ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH") == (
        "Ủy ban nhân dân thành phố Hồ Chí Minh"
    )
    assert org_case("BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH") == "Bộ Văn hóa, Thể thao và Du lịch"
    assert org_case("BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI") == (
        "Bộ Lao động - Thương binh và Xã hội"
    )
    assert org_case("VĂN PHÒNG CHÍNH PHỦ") == "Văn phòng Chính phủ"
    assert org_case("Sở Y tế") == "Sở Y tế"  # printed in mixed case: kept
    assert title_case("PHÓ TỔNG CỤC TRƯỞNG") == "Phó Tổng cục trưởng"


def test_number_key_matches_the_usual_forms() -> None:
    keys = {number_key(n) for n in ("1658/QĐ-TTg", "1658/QD-TTG", "1658 / QĐ - TTg", "1658/qđ-ttg")}
    assert keys == {"1658/QD-TTG"}


def test_header_round_trips_through_json(tmp_path: Path) -> None:
    header = _header(WRITERS["txt"](SAMPLES[2], tmp_path / "nd.txt"))
    assert DocumentHeader.from_json(header.to_json()) == header
    assert header.issuer == "Chính phủ" and header.signer_title == "Phó Thủ tướng"


def test_an_official_document_is_typed_by_its_header_not_as_news(tmp_path: Path) -> None:
    """A short decision is no news article; a plan with a header is a plan however short."""
    write_official_docs(tmp_path)
    types = {}
    for path in sorted(tmp_path.iterdir()):
        parsed = parse_file(path)
        assert isinstance(parsed, ParsedDocument), parsed
        types[path.name] = (parsed.meta.header.document_type, parsed.meta.doc_type)
    assert types["qd-1658-ttg.txt"] == ("Quyết định", "official")
    assert types["nd-08-2022.txt"] == ("Nghị định", "official")
    assert types["kh-123-lao-cai.txt"] == ("Kế hoạch", "plan")
    assert types["qd-1658-dak-lak.txt"] == ("Quyết định", "official")
    assert types["luat-bvmt.txt"] == ("Luật", "official")
    # One article of a law per file, no header: official all the same.
    assert types["blds__dieu-10.txt"] == ("", "official")
    assert all(t in DOC_TYPES for _, t in types.values())
