"""Assignment records, one test per source the extractor reads (issue 22 §2).

Every text here was written for these tests in the usual form of Vietnamese plans and
decisions; none is copied from a document of the corpus or of ../shared.
"""

from __future__ import annotations

from typing import Any

from ingest.assignments import (
    COOPERATE,
    EXECUTE,
    LEAD,
    RESPONSIBLE,
    VIA_ARTICLE,
    VIA_EXECUTION,
    VIA_LABELLED,
    VIA_SECTION,
    VIA_SENTENCE,
    VIA_TABLE,
    Assignment,
    extract_assignments,
    inline_deadline,
    pattern_agencies,
)


def _blocks(*lines: str | tuple[str, int]) -> list[list[Any]]:
    """Body lines, or (heading text, level)."""
    out: list[list[Any]] = []
    for line in lines:
        if isinstance(line, tuple):
            out.append([line[0], 1, line[1]])
        else:
            out.append([line, 1, None])
    return out


def _by(items: list[Assignment], agency: str, role: str | None = None) -> Assignment:
    return next(a for a in items if a.agency == agency and (role is None or a.role == role))


def test_an_agency_heading_owns_its_duties_with_lead_partners_and_path() -> None:
    blocks = _blocks(
        ("IV. TỔ CHỨC THỰC HIỆN", 2),
        ("2. Sở Xây dựng", 3),
        "- Chủ trì, phối hợp với Sở Tài chính lập danh mục nhà ở xã hội cần hỗ trợ sửa chữa.",
        "- Kiểm tra chất lượng công trình sau sửa chữa trên địa bàn tỉnh.",
    )
    items = extract_assignments("kh", blocks)
    lead = _by(items, "Sở Xây dựng", LEAD)
    assert lead.via == VIA_SECTION
    assert lead.lead == "Sở Xây dựng" and lead.partners == ["Sở Tài chính"]
    assert lead.task.startswith("lập danh mục nhà ở xã hội")
    assert lead.section_path == ["IV. TỔ CHỨC THỰC HIỆN", "2. Sở Xây dựng"]
    partner = _by(items, "Sở Tài chính", COOPERATE)
    assert partner.lead == "Sở Xây dựng" and partner.task == lead.task
    own = _by(items, "Sở Xây dựng", RESPONSIBLE)
    assert own.task.startswith("Kiểm tra chất lượng công trình")
    # The span is the clause's place in the stored block.
    text = blocks[own.block][0]  # type: ignore[index]
    assert (own.block, own.block_end) == (3, 3)
    assert text[own.start : own.end] == own.text


def test_giao_x_chu_tri_and_x_chu_tri_phoi_hop_voi_y_name_their_lead() -> None:
    items = extract_assignments(
        "qd",
        _blocks(
            ("III. NHIỆM VỤ VÀ GIẢI PHÁP", 2),
            "1. Giao Sở Giáo dục và Đào tạo chủ trì, phối hợp với Sở Y tế tổ chức khám sức "
            "khỏe định kỳ cho học sinh tiểu học, hoàn thành trước ngày 15/5/2027.",
            "2. Ban Quản lý các khu công nghiệp chủ trì, phối hợp với Công an tỉnh và Sở Nội vụ "
            "rà soát lao động nước ngoài tại các doanh nghiệp.",
        ),
    )
    school = _by(items, "Sở Giáo dục và Đào tạo", LEAD)
    assert school.via == VIA_SENTENCE
    assert school.partners == ["Sở Y tế"]
    assert school.deadline == "trước ngày 15/5/2027"
    assert school.task.startswith("tổ chức khám sức khỏe định kỳ")
    board = _by(items, "Ban Quản lý các khu công nghiệp", LEAD)
    assert board.partners == ["Công an tỉnh", "Sở Nội vụ"]
    assert board.task.startswith("rà soát lao động nước ngoài")


def test_labelled_lead_partner_deadline_and_output_lines_label_the_task_before() -> None:
    items = extract_assignments(
        "kh",
        _blocks(
            ("II. NHIỆM VỤ CỤ THỂ", 2),
            "3. Xây dựng bản đồ số các điểm du lịch nông thôn",
            "Đơn vị chủ trì: Sở Văn hóa, Thể thao và Du lịch",
            "Đơn vị phối hợp: Sở Khoa học và Công nghệ; UBND các huyện",
            "Thời gian hoàn thành: Quý IV/2026",
            "Sản phẩm: Bản đồ số được tích hợp trên cổng thông tin du lịch",
        ),
    )
    lead = _by(items, "Sở Văn hóa, Thể thao và Du lịch", LEAD)
    assert lead.via == VIA_LABELLED
    assert lead.task == "Xây dựng bản đồ số các điểm du lịch nông thôn"
    assert lead.partners == ["Sở Khoa học và Công nghệ", "UBND các huyện"]
    assert lead.deadline == "Quý IV/2026"
    assert lead.output == "Bản đồ số được tích hợp trên cổng thông tin du lịch"
    assert {a.agency for a in items if a.role == COOPERATE} == set(lead.partners)


def test_table_columns_give_lead_partners_deadline_and_output() -> None:
    items = extract_assignments(
        "pl",
        _blocks(
            "PHỤ LỤC",
            "| STT | Nội dung công việc | Đơn vị chủ trì | Đơn vị phối hợp | Thời hạn | Kết quả đầu ra |",
            "|---|---|---|---|---|---|",
            "| 1 | Số hóa hồ sơ hộ tịch giai đoạn 2010-2020 | Sở Tư pháp | Sở Khoa học và Công nghệ, "
            "UBND các xã | Tháng 10/2026 | Cơ sở dữ liệu hộ tịch điện tử |",
            "| 2 | Đào tạo kỹ năng số cho công chức cấp xã | Sở Nội vụ | | 2027 | Công chức được đào tạo |",
        ),
    )
    first = _by(items, "Sở Tư pháp")
    assert (first.role, first.via) == (LEAD, VIA_TABLE)
    assert first.task == "Số hóa hồ sơ hộ tịch giai đoạn 2010-2020"
    assert first.partners == ["Sở Khoa học và Công nghệ", "UBND các xã"]
    assert (first.deadline, first.output) == ("Tháng 10/2026", "Cơ sở dữ liệu hộ tịch điện tử")
    second = _by(items, "Sở Nội vụ")
    assert second.partners == [] and second.output == "Công chức được đào tạo"
    assert second.block == 4


def test_an_article_on_an_agencys_duties_as_heading_or_as_text() -> None:
    as_heading = extract_assignments(
        "nd",
        _blocks(
            ("Điều 7. Trách nhiệm của Bộ Xây dựng", 2),
            "1. Hướng dẫn định mức chi phí bảo trì công trình giao thông nông thôn.",
            "2. Kiểm tra việc thực hiện của các địa phương.",
        ),
    )
    assert [(a.agency, a.via) for a in as_heading] == [("Bộ Xây dựng", VIA_ARTICLE)] * 2
    as_text = extract_assignments(
        "nd",
        _blocks(
            "Điều 8. Trách nhiệm của Ủy ban nhân dân huyện Bảo Lâm",
            "1. Bố trí quỹ đất tái định cư cho các hộ dân vùng sạt lở.",
            "a) Lập danh sách hộ cần di dời trước tháng 3/2027.",
            "2. Báo cáo kết quả về Sở Nông nghiệp và Môi trường.",
            "Điều 9. Hiệu lực thi hành",
            "1. Nghị quyết này có hiệu lực từ ngày ký.",
        ),
    )
    owner = "Ủy ban nhân dân huyện Bảo Lâm"
    assert [a.agency for a in as_text] == [owner] * 3
    assert all(a.via == VIA_ARTICLE for a in as_text)
    assert as_text[1].deadline == "trước tháng 3/2027"


def test_the_execution_article_names_who_carries_the_decision_out() -> None:
    items = extract_assignments(
        "qd",
        _blocks(
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            "Điều 3. Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc các Sở: Nội vụ, Văn hóa, "
            "Thể thao và Du lịch; Chủ tịch Ủy ban nhân dân thị xã Nghĩa Lộ, Giám đốc Công ty "
            "cổ phần Môi trường đô thị và các cơ quan, đơn vị có liên quan chịu trách nhiệm "
            "thi hành Quyết định này./.",
        ),
    )
    assert [a.agency for a in items] == [
        "Văn phòng Ủy ban nhân dân tỉnh",
        "Sở Nội vụ",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Ủy ban nhân dân thị xã Nghĩa Lộ",
        "Công ty cổ phần Môi trường đô thị",
    ]
    assert {(a.role, a.via, a.task, a.lead) for a in items} == {
        (EXECUTE, VIA_EXECUTION, "Thi hành Quyết định này", "")
    }
    # "căn cứ Quyết định thi hành" says the same.
    other = extract_assignments(
        "qd",
        _blocks("Điều 3. Thủ trưởng các sở, ban, ngành tỉnh căn cứ Quyết định thi hành."),
    )
    assert [(a.agency, a.role) for a in other] == [("Các sở, ban, ngành tỉnh", EXECUTE)]


def test_bodies_of_every_level_are_recognised_by_how_they_are_written() -> None:
    found = pattern_agencies(
        [
            "UBND xã Tà Xùa phối hợp với Hội Liên hiệp Phụ nữ huyện và Đoàn Thanh niên xã Tà Xùa; "
            "Phòng Tài chính - Kế hoạch huyện Bắc Yên; Trạm Y tế xã; Tổng công ty Cấp nước miền "
            "Trung chủ trì; các công ty trên địa bàn."
        ]
    )
    assert {
        "UBND xã Tà Xùa",
        "Hội Liên hiệp Phụ nữ huyện",
        "Đoàn Thanh niên xã Tà Xùa",
        "Phòng Tài chính - Kế hoạch huyện Bắc Yên",
        "Trạm Y tế xã",
        "Tổng công ty Cấp nước miền Trung",
    } <= set(found)
    assert not any(name.startswith("công ty") for name in found)
    items = extract_assignments(
        "kh",
        _blocks(
            ("V. PHÂN CÔNG", 2),
            "1. UBND xã Tà Xùa chủ trì, phối hợp với Đoàn Thanh niên xã Tà Xùa tổ chức trồng "
            "cây phân tán dọc tuyến đường liên thôn.",
        ),
    )
    lead = _by(items, "UBND xã Tà Xùa", LEAD)
    assert lead.partners == ["Đoàn Thanh niên xã Tà Xùa"]
    assert lead.task.startswith("tổ chức trồng cây phân tán")


def test_a_deadline_needs_its_cue_word() -> None:
    assert inline_deadline("Báo cáo UBND tỉnh chậm nhất ngày 05 tháng 01 năm 2027.") == (
        "chậm nhất ngày 05 tháng 01 năm 2027"
    )
    assert inline_deadline("hoàn thành trong quý II năm 2026") == "trong quý II năm 2026"
    # A year in a task's name is no deadline.
    assert inline_deadline("Triển khai Kế hoạch phát triển du lịch năm 2026") == ""


def test_a_clause_wrapped_over_printed_lines_spans_both_blocks() -> None:
    blocks = _blocks(
        ("II. TỔ CHỨC THỰC HIỆN", 2),
        "1. Sở Công Thương chủ trì, phối hợp với Sở Tài chính kiểm tra giá bán lẻ xăng dầu tại",
        "các cửa hàng trên địa bàn tỉnh.",
    )
    lead = _by(extract_assignments("kh", blocks), "Sở Công Thương", LEAD)
    assert (lead.block, lead.block_end) == (1, 2)
    assert blocks[1][0][lead.start :].startswith("Sở Công Thương chủ trì")
    assert blocks[2][0][: lead.end] == "các cửa hàng trên địa bàn tỉnh."


def test_records_of_an_older_index_version_still_load() -> None:
    old = {
        "doc_id": "d",
        "agency": "Sở Y tế",
        "role": "lead",
        "task": "t",
        "text": "t",
        "section": "A › B",
        "page": None,
        "stated_in": "Sở Y tế",
        "chunk": 0,
        "deadline": "",
    }
    a = Assignment.from_json({**old, "a_field_of_a_later_version": 1})
    assert (a.lead, a.partners, a.block, a.via) == ("", [], None, "")
    assert Assignment.from_json(a.to_json()) == a


def test_an_article_about_a_kind_of_unit_names_no_agency() -> None:
    items = extract_assignments(
        "nd",
        _blocks(
            ("Điều 6. Vụ thuộc bộ", 2),
            "1. Vụ thuộc bộ là tổ chức tham mưu tổng hợp, chuyên sâu về ngành, lĩnh vực.",
            ("Điều 7. Trách nhiệm của Bộ Tư pháp", 2),
            "1. Hướng dẫn thống nhất việc áp dụng quy định này.",
        ),
    )
    assert [a.agency for a in items] == ["Bộ Tư pháp"]


def test_a_file_titled_by_one_article_hands_its_clauses_to_that_agency() -> None:
    items = extract_assignments(
        "luat",
        [
            [
                "Luật Bảo vệ nguồn nước 2030 – Điều 12. Trách nhiệm của Bộ Nông nghiệp và Môi trường",
                1,
                0,
            ],
            ["1. Xây dựng quy chuẩn kỹ thuật về chất lượng nước mặt.", 1, None],
            ["2. Phối hợp với Bộ Y tế giám sát chất lượng nước sinh hoạt nông thôn.", 1, None],
        ],
    )
    owner = "Bộ Nông nghiệp và Môi trường"
    first = _by(items, owner, RESPONSIBLE)
    assert (first.via, first.task) == (
        VIA_ARTICLE,
        "Xây dựng quy chuẩn kỹ thuật về chất lượng nước mặt",
    )
    # "Phối hợp với Bộ Y tế …" in its article: Bộ Y tế leads, the article's agency supports.
    assert _by(items, "Bộ Y tế").role == LEAD
    assert _by(items, owner, COOPERATE).lead == "Bộ Y tế"
