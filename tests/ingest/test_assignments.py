"""Assignment extraction from real plan text (the corpus plan) and small hand-made plans."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from index.assignments import assignment_files, load_agency_names, load_assignments
from ingest.assignments import (
    ADVISE,
    COOPERATE,
    FOCAL,
    LEAD,
    RESPONSIBLE,
    agency_of_heading,
    document_abbreviations,
    extract_assignments,
    locate_chunks,
)  # fmt: skip
from ingest.models import ParsedDocument
from ingest.pipeline import parse_file

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _blocks(doc: ParsedDocument) -> list[list]:
    return [b.stored() for b in doc.blocks]  # as the index stores them


def _plan() -> ParsedDocument:
    doc = parse_file(CORPUS / "004_0ae3777ec9422ce6.txt", CORPUS)
    assert isinstance(doc, ParsedDocument)
    return doc


def test_lead_stated_inside_another_agencys_section() -> None:
    doc = _plan()
    found = extract_assignments(doc.meta.doc_id, _blocks(doc))
    waste = {(a.agency, a.role) for a in found if "chất thải đô thị" in a.text}
    assert waste == {("Sở Tài nguyên và Môi trường", LEAD), ("Sở Xây dựng", COOPERATE)}
    lead = next(a for a in found if "chất thải đô thị" in a.text and a.role == LEAD)
    assert lead.stated_in == "Sở Xây dựng"
    assert lead.section.endswith("6. Sở Xây dựng")
    assert lead.task == "các hoạt động quản lý chất thải đô thị trên địa bàn tỉnh"


def test_focal_lead_advise_and_plain_tasks_in_the_plan() -> None:
    doc = _plan()
    found = extract_assignments(doc.meta.doc_id, _blocks(doc))
    roles = {(a.agency, a.role) for a in found}
    assert ("Sở Kế hoạch và Đầu tư", FOCAL) in roles
    assert ("Sở Tài nguyên và Môi trường", ADVISE) in roles
    # "Chủ trì, phối hợp với Sở Tài chính ...": Sở Tài chính cooperates.
    funding = [a for a in found if a.stated_in == "Sở Kế hoạch và Đầu tư" and "nguồn vốn" in a.text]
    assert {(a.agency, a.role) for a in funding} == {
        ("Sở Kế hoạch và Đầu tư", LEAD),
        ("Sở Tài chính", COOPERATE),
    }
    # A list item with no role phrase is still its section's agency's task.
    assert any(a.agency == "Sở Du lịch" and a.role == RESPONSIBLE for a in found)
    # "Phối hợp với đơn vị chủ trì" names no lead.
    media = [a for a in found if "đơn vị chủ trì" in a.text]
    assert {(a.agency, a.role) for a in media} == {("Sở Thông tin và Truyền thông", COOPERATE)}
    # Goals and targets (sections I-IV) assign nothing; the reporting section names its lead.
    assert not [a for a in found if a.section.startswith(("I.", "II.", "III.", "IV."))]
    assert any(a.section.startswith("VII.") and a.role == LEAD for a in found)


def test_news_states_the_lead_inline() -> None:
    doc = parse_file(CORPUS / "003_c37eb1d54eca6eb1.txt", CORPUS)
    assert isinstance(doc, ParsedDocument)
    found = extract_assignments(doc.meta.doc_id, _blocks(doc))
    assert ("Sở Lao động - Thương binh và Xã hội", LEAD) in {(a.agency, a.role) for a in found}
    assert all(a.role == LEAD for a in found)


def test_hand_made_plan_and_headings() -> None:
    blocks = [
        ["Kế hoạch thử", None, 0],
        ["I. Mục tiêu", 1, 1],
        ["- Chủ trì việc này không thuộc cơ quan nào.", 1, None],
        ["II. Tổ chức thực hiện", 2, 1],
        ["1. Công an tỉnh", 2, 2],
        [
            "- Chủ trì, phối hợp với Sở Y tế kiểm tra an toàn thực phẩm; tham mưu UBND tỉnh "
            "ban hành quy định.",
            2,
            None,
        ],
        ["2. Đề nghị Hội Nông dân tỉnh", 3, 2],
        ["Phối hợp với Công an tỉnh tuyên truyền pháp luật.", 3, None],
    ]
    found = extract_assignments("d", blocks)
    got = {(a.agency, a.role, a.page) for a in found}
    assert got == {
        ("Công an tỉnh", LEAD, 2),
        ("Sở Y tế", COOPERATE, 2),
        ("Công an tỉnh", ADVISE, 2),
        ("Hội Nông dân tỉnh", COOPERATE, 3),
        ("Công an tỉnh", LEAD, 3),
    }
    assert agency_of_heading("6. Sở Xây dựng") == "Sở Xây dựng"
    assert agency_of_heading("II. Tổ chức thực hiện") is None
    assert agency_of_heading("18. Đề nghị Ủy ban Mặt trận Tổ quốc") == "Ủy ban Mặt trận Tổ quốc"


def test_files_round_trip_and_reuse_vectors(tmp_path: Path) -> None:
    doc = _plan()

    class Stored:
        doc_id = doc.meta.doc_id
        blocks = _blocks(doc)

    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        # Deterministic real vectors from the texts' bytes: the point is the bookkeeping.
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], np.float32)

    files = assignment_files([Stored()], {}, embed, 3)
    v1 = tmp_path / "v1"
    v1.mkdir()
    for name, data in files.items():
        (v1 / name).write_bytes(data)
    items, vectors = load_assignments(v1)
    assert vectors is not None and len(items) == len(vectors) > 50
    assert calls == [len({a.task for a in items})]
    again = assignment_files([Stored()], {}, embed, 3, previous_dir=v1)
    assert calls == [len({a.task for a in items})]  # nothing new to embed
    assert again == files
    assert load_assignments(tmp_path / "missing") == ([], None)


def test_locate_chunks_finds_the_passage() -> None:
    doc = _plan()
    found = [a for a in extract_assignments("d", _blocks(doc)) if "chất thải đô thị" in a.text]
    locate_chunks(
        found,
        [
            "Mở đầu.",
            "- Phối hợp với Sở Tài nguyên và Môi trường trong các hoạt "
            "động quản lý chất thải đô thị trên địa bàn tỉnh.",
            "Khác.",
        ],
    )
    assert {a.chunk for a in found} == {1}


def test_abbreviation_a_document_defines_is_read_as_the_agency() -> None:
    blocks = [
        ["KẾ HOẠCH THỬ", None, 0],
        ["II. Tổ chức thực hiện", None, 1],
        ["1. Sở Tài chính (STC)", None, 2],
        ["- Chủ trì triển khai mua sắm công xanh.", None, None],
        ["2. Sở Xây dựng", None, 2],
        ["- Phối hợp với STC rà soát giá vật liệu xây dựng.", None, None],
    ]
    found = extract_assignments("d", blocks)
    assert {(a.agency, a.role, a.stated_in) for a in found} == {
        ("Sở Tài chính", LEAD, "Sở Tài chính"),
        ("Sở Xây dựng", COOPERATE, "Sở Xây dựng"),
        ("Sở Tài chính", LEAD, "Sở Xây dựng"),
    }
    texts = ["Giao Sở Kế hoạch và Đầu tư (sau đây gọi tắt là SKHĐT) chủ trì.", "Sở Y tế (SYT)"]
    assert document_abbreviations(texts, ["Sở Kế hoạch và Đầu tư", "Sở Y tế"]) == {
        "SKHĐT": "Sở Kế hoạch và Đầu tư",
        "SYT": "Sở Y tế",
    }
    assert agency_of_heading("1. Sở Tài chính (STC)") == "Sở Tài chính"


def test_every_section_of_the_plan_is_an_agency_with_tasks() -> None:
    doc = _plan()
    found = extract_assignments(doc.meta.doc_id, _blocks(doc))
    owners = {a.stated_in for a in found}
    assert "Các bên liên quan khác" in owners  # "19. Các bên liên quan khác"
    assert len({a.section for a in found if a.section.startswith("V.")}) == 19
    # "Cụ thể:" announces a list; it is not a task.
    assert not [a for a in found if a.task.strip(" :") == "Cụ thể"]
    # "tăng cường phối hợp công tư" is public-private partnership, not cooperation.
    health = {a.role for a in found if a.stated_in == "Sở Y tế"}
    assert COOPERATE not in health


def test_agency_names_and_abbreviations_of_a_version(tmp_path: Path) -> None:
    doc = _plan()
    files = assignment_files(
        [_Stored(doc.meta.doc_id, _blocks(doc))],
        {},
        lambda texts: np.zeros((len(texts), 4), dtype=np.float32),
        4,
    )
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    names, abbreviations = load_agency_names(tmp_path)
    assert "Sở Tài chính" in names and "Các bên liên quan khác" in names
    assert abbreviations == {}
    assert load_agency_names(tmp_path / "missing") == ([], {})


class _Stored:
    def __init__(self, doc_id: str, blocks: list[list]) -> None:
        self.doc_id, self.blocks = doc_id, blocks


# --- Conventions of administrative writing, on small synthetic plans read by the real
# --- ingest (parse_file), one convention a test.


def _extract(tmp_path: Path, text: str) -> list:
    path = tmp_path / "plan.md"
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path, tmp_path)
    assert isinstance(doc, ParsedDocument)
    return extract_assignments(doc.meta.doc_id, _blocks(doc))


def _pairs(found: list, roles: tuple[str, ...] = (LEAD, RESPONSIBLE)) -> set[tuple[str, str]]:
    # (agency, first word of the clause after its item number)
    return {
        (a.agency, re.sub(r"^\S+[.)]\s+", "", a.text).split()[0]) for a in found if a.role in roles
    }


def test_closing_line_recipients_and_signature_yield_no_task(tmp_path: Path) -> None:
    found = _extract(
        tmp_path,
        "I. TỔ CHỨC THỰC HIỆN\n\n1. Sở Y tế\n\n- Kiểm tra an toàn thực phẩm tại các chợ.\n\n"
        "Trên đây là Kế hoạch kiểm tra an toàn thực phẩm; yêu cầu các đơn vị thực hiện.\n\n"
        "Nơi nhận:\n\n- Bộ Y tế;\n\n- Sở Tài chính;\n\n- Lưu: VT.\n\nKT. CHỦ TỊCH\n\nPHÓ CHỦ TỊCH\n",
    )
    assert _pairs(found) == {("Sở Y tế", "Kiểm")}


def test_labelled_lead_partner_and_deadline_lines_attach_to_the_task_before(
    tmp_path: Path,
) -> None:
    found = _extract(
        tmp_path,
        "II. NHIỆM VỤ\n\n1. Xây dựng cơ sở dữ liệu dân cư của tỉnh.\n\n"
        "- Đơn vị chủ trì: Công an tỉnh\n\n- Đơn vị phối hợp: Sở Tư pháp; UBND các xã, phường\n\n"
        "- Thời gian hoàn thành: Quý II/2026\n",
    )
    leads = [a for a in found if a.role == LEAD]
    assert [(a.agency, a.deadline) for a in leads] == [("Công an tỉnh", "Quý II/2026")]
    assert leads[0].task.startswith("Xây dựng cơ sở dữ liệu")
    partners = {a.agency for a in found if a.role == COOPERATE}
    assert partners == {"Sở Tư pháp", "UBND các xã, phường"}


def test_agency_before_a_colon_owns_its_item_and_lettered_sub_items(tmp_path: Path) -> None:
    found = _extract(
        tmp_path,
        "III. TỔ CHỨC THỰC HIỆN\n\n1. Sở Tài chính: Bố trí kinh phí thực hiện kế hoạch.\n\n"
        "a) Thẩm định dự toán của các đơn vị.\n\nb) Hướng dẫn thanh quyết toán kinh phí.\n\n"
        "2. Sở Nông nghiệp và Môi trường chỉ đạo Chi cục Thủy sản thực hiện các nội dung sau:\n\n"
        "- Quan trắc môi trường nuôi trồng thủy sản.\n\n"
        "3. UBND các xã, phường: Theo dõi kết quả quan trắc trên địa bàn.\n",
    )
    assert _pairs(found) == {
        ("Sở Tài chính", "Bố"),
        ("Sở Tài chính", "Thẩm"),
        ("Sở Tài chính", "Hướng"),
        ("Sở Nông nghiệp và Môi trường", "Quan"),
        ("UBND các xã, phường", "Theo"),
    }  # the announcing line ("... các nội dung sau:") is no task of its own


def test_table_rows_with_lead_partner_and_deadline_columns_become_records(
    tmp_path: Path,
) -> None:
    found = _extract(
        tmp_path,
        "PHỤ LỤC\n\n| TT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành |\n"
        "|---|---|---|---|---|\n"
        "| **I.** | Hoàn thiện thể chế | | | |\n"
        "| 1. | Xây dựng Nghị định về quỹ đầu tư | Bộ Tài chính | Bộ Tư pháp; các bộ, ngành "
        "| 12/2025 |\n"
        "| 2. | Quy định đơn vị chủ trì đối với tổ chức khoa học | Bộ Khoa học và Công nghệ "
        "Bộ Nội vụ | | 2026 |\n",
    )
    leads = sorted((a.agency, a.task[:12], a.deadline) for a in found if a.role == LEAD)
    assert leads == [
        ("Bộ Khoa học và Công nghệ", "Quy định đơn", "2026"),
        ("Bộ Nội vụ", "Quy định đơn", "2026"),
        ("Bộ Tài chính", "Xây dựng Ngh", "12/2025"),
    ]
    assert {a.agency for a in found if a.role == COOPERATE} == {"Bộ Tư pháp", "các bộ, ngành"}


def test_agencies_of_every_level_by_pattern_and_data_file(tmp_path: Path) -> None:
    found = _extract(
        tmp_path,
        "IV. GIẢI PHÁP\n\n1. Bộ Y tế chủ trì, phối hợp với Bảo hiểm xã hội Việt Nam "
        "hướng dẫn thanh toán khám chữa bệnh.\n\n"
        "2. Ủy ban nhân dân xã, phường, thị trấn có trách nhiệm niêm yết danh sách hỗ trợ.\n\n"
        "3. Tập đoàn Điện lực Việt Nam chủ trì cấp điện cho các điểm cầu.\n\n"
        "4. Trên cơ sở đề nghị của Sở Xây dựng, Sở Tài chính thẩm định nguồn kinh phí.\n",
    )
    assert _pairs(found) == {
        ("Bộ Y tế", "Bộ"),
        ("Ủy ban nhân dân xã, phường, thị trấn", "Ủy"),
        ("Tập đoàn Điện lực Việt Nam", "Tập"),
        ("Sở Tài chính", "Trên"),
    }
    assert ("Bảo hiểm xã hội Việt Nam", COOPERATE) in {(a.agency, a.role) for a in found}


def test_article_giving_tasks_to_an_agency_names_it(tmp_path: Path) -> None:
    assert agency_of_heading("Điều 2. Giao Giám đốc Sở Giáo dục và Đào tạo") == (
        "Sở Giáo dục và Đào tạo"
    )
    assert agency_of_heading("Điều 5. Trách nhiệm của Bộ Y tế") == "Bộ Y tế"


def test_an_agency_line_read_as_text_heads_the_items_after_it(tmp_path: Path) -> None:
    # Converters break bold headings over lines; the agency line stays text, but still
    # heads its items, up to the next item of its rank.
    found = _extract(
        tmp_path,
        "Các nhiệm vụ\n\nGiao các đơn vị thực hiện nghiêm kế hoạch này.\n\n"
        "**4. Trung tâm Chuyển đổi số Thành phố** \n\n- Bảo trì hạ tầng kết nối dữ liệu.\n\n"
        "5. Cơ chế phối hợp giữa các đơn vị trong thành phố hằng năm.\n\n"
        "- Rà soát định kỳ tiến độ cập nhật dữ liệu.\n",
    )
    assert _pairs(found) == {("Trung tâm Chuyển đổi số Thành phố", "Bảo")}


def test_a_printed_line_wrap_is_undone_before_reading(tmp_path: Path) -> None:
    # Converted text keeps the page's hard line breaks; the partner list goes on over
    # the wrap and the task is one clause, not three.
    found = _extract(
        tmp_path,
        "II. NHIỆM VỤ\n\n3. Bộ Tài chính chủ trì cùng Bộ Xây dựng và\n"
        "các bộ, ngành liên quan rà soát, đánh giá đề xuất thưởng cho các công\n"
        "trình về đích sớm, hoàn thành trước ngày 15 tháng 12 năm 2025.\n",
    )
    leads = [a for a in found if a.role == LEAD]
    assert [a.agency for a in leads] == ["Bộ Tài chính"]
    assert leads[0].text.endswith("hoàn thành trước ngày 15 tháng 12 năm 2025.")


def test_folded_look_alikes_of_agency_heads_name_no_agency() -> None:
    # "Số" folds like "Sở", "Bổ" like "Bộ", "Bảo" like "Báo": the printed word decides.
    assert agency_of_heading("**Số lượng mẫu/lần**") is None
    assert agency_of_heading("Bổ sung kinh phí") is None
    assert agency_of_heading("Bảo đảm an toàn thông tin") is None
    assert agency_of_heading("2. Sở Tài chính") == "Sở Tài chính"
    assert agency_of_heading("Bảo hiểm xã hội Việt Nam") == "Bảo hiểm xã hội Việt Nam"


def test_a_bracketed_giao_at_an_items_end_names_who_leads_it(tmp_path: Path) -> None:
    found = _extract(
        tmp_path,
        "II. NỘI DUNG\n\n6. Xây dựng Quy chế bảo vệ bí mật nhà nước; hướng dẫn các huyện thực "
        "hiện (Giao Công an tỉnh chủ trì, phối hợp với Văn phòng UBND tỉnh; Sở Tư pháp và các "
        "cơ quan có liên quan tham mưu).\n",
    )
    assert {(a.agency, a.role) for a in found} == {
        ("Công an tỉnh", LEAD),
        ("Văn phòng UBND tỉnh", COOPERATE),
        ("Sở Tư pháp", COOPERATE),
    }
    assert found[0].task == "Xây dựng Quy chế bảo vệ bí mật nhà nước; hướng dẫn các huyện thực hiện"
