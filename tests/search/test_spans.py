"""Clauses and exact spans, on the corpus plan's real target lists and news sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.spans import capitalised_runs, clauses, dates, people, proper_names, quantities

PLAN = Path(__file__).resolve().parents[2] / "corpus" / "004_0ae3777ec9422ce6.txt"


def paragraph(start: str, nth: int = 0) -> str:
    """The ``nth`` paragraph of the corpus plan that starts with ``start``."""
    found = [p.strip() for p in PLAN.read_text(encoding="utf-8").split("\n\n")]
    return [p for p in found if p.startswith(start)][nth]


def test_a_target_list_splits_into_clauses_that_keep_their_year() -> None:
    text = paragraph("Mục tiêu chủ yếu đến năm 2030: Tỷ lệ chất thải rắn")
    found = clauses(text)
    assert len(found) == 7
    assert {c.context for c in found} == {"Mục tiêu chủ yếu đến năm 2030"}
    assert all(c.sentence == text for c in found)
    bus = next(c for c in found if "xe buýt" in c.text)
    assert bus.text == "tỷ lệ xe buýt sử dụng năng lượng sạch đạt 10% số lượng xe buýt mới"
    assert bus.display == f"Mục tiêu chủ yếu đến năm 2030: {bus.text}"
    assert [q.text for q in quantities(bus.text)] == ["10%"]
    transport = next(c for c in found if "hành khách công cộng" in c.text)
    assert [q.text for q in quantities(transport.text)] == ["5%"]
    waste = found[0]
    assert waste.text.startswith("Tỷ lệ chất thải rắn") and waste.text.endswith("đạt 97%")


def test_the_2050_list_is_its_own_context() -> None:
    found = clauses(paragraph("Mục tiêu chủ yếu đến năm 2050: 100% chất thải rắn"))
    assert {c.context for c in found} == {"Mục tiêu chủ yếu đến năm 2050"}
    bus = next(c for c in found if "xe buýt" in c.text)
    assert [q.text for q in quantities(bus.text)] == ["ít nhất 40%"]


def test_a_sentence_without_a_list_is_one_clause() -> None:
    text = "Đồng Nai có 39 khu công nghiệp được quy hoạch với tổng diện tích trên 18,5 ngàn ha."
    (only,) = clauses(text)
    assert only.text == text and only.context == ""
    assert [q.text for q in quantities(text)] == ["39 khu công nghiệp", "trên 18,5 ngàn ha"]


def test_figures_are_not_years_ranges_of_years_document_numbers_or_dates() -> None:
    text = (
        "Quyết định số 1658/QĐ-TTg ngày 01/10/2021 giai đoạn 2021-2030; giảm ít nhất 15% so với "
        "năm 2014; Chiều 10-9; từ 1,0 - 1,5%/năm; HDI đạt trên 0,75"
    )
    assert [q.text for q in quantities(text)] == ["ít nhất 15%", "từ 1,0 - 1,5%/năm", "trên 0,75"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gửi báo cáo trước ngày 30/11 hàng năm để tổng hợp", ["trước ngày 30/11 hàng năm"]),
        ("Sáng 27/2, UBND tỉnh Lào Cai và Tập đoàn Vingroup ký kết", ["Sáng 27/2"]),
        ("Chiều 10-9, UBND tỉnh Đồng Nai", ["Chiều 10-9"]),
        ("Kể từ ngày 1/7/2025, TP. Cần Thơ", ["Kể từ ngày 1/7/2025"]),
        ("sơ kết giữa kỳ vào năm 2025, tổng kết vào năm 2030", ["vào năm 2025", "vào năm 2030"]),
        ("13:50 28/10/2025", ["13:50 28/10/2025"]),
        # a period is one span; a range of amounts is no date
        ("quan trắc từ tháng 3 đến tháng 10 năm 2026;", ["từ tháng 3 đến tháng 10 năm 2026"]),
        (
            "kể từ ngày 1/7/2025 đến hết ngày 31/12/2025",
            ["kể từ ngày 1/7/2025 đến hết ngày 31/12/2025"],
        ),
        ("giai đoạn từ năm 2021 đến năm 2025", ["từ năm 2021 đến năm 2025"]),
        ("thời hạn từ 3 đến 5 năm", []),
        # a month of a year, as plans' tables write deadlines; never a document's number
        ("Thời gian hoàn thành: 6/2025", ["6/2025"]),
        ("Nghị định số 12/2025/NĐ-CP", []),
    ],
)
def test_dates(text: str, expected: list[str]) -> None:
    assert [d.text for d in dates(text)] == expected


def test_signature_block_is_read_as_one_line() -> None:
    text = "Lưu: VT.\n\nTM. ỦY BAN NHÂN DÂN\n\nCHỦ TỊCH\n\nTrịnh Xuân Trường"
    last = clauses(text)[-1]
    assert last.text == "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Trịnh Xuân Trường"
    assert [p.text for p in people(last.text)] == ["Trịnh Xuân Trường"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Phó chủ tịch UBND tỉnh Nguyễn Thị Hoàng ký kết hợp tác", ["Nguyễn Thị Hoàng"]),
        ("có Phó thị trưởng thành phố Masao Imanishi và các phòng", ["Masao Imanishi"]),
        ("Nhật Bản, ông Yutaka Matsuzawa, Thứ trưởng", ["Yutaka Matsuzawa"]),
        ("Ông Nguyễn Tấn Nhơn - Phó Giám đốc Sở", ["Nguyễn Tấn Nhơn"]),
        ("bà Quyền Thị Thúy Hà, Trưởng chi nhánh Thương vụ", ["Quyền Thị Thúy Hà"]),
        ("bà Lê Thị Thu Thủy, Phó Chủ tịch Tập đoàn Vingroup", ["Lê Thị Thu Thủy"]),
    ],
)
def test_people(text: str, names: list[str]) -> None:
    assert [p.text for p in people(text)] == names


def test_capitalised_runs_keep_shouting_apart_from_names() -> None:
    runs = [r.text for r in capitalised_runs("TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Trịnh Xuân Trường")]
    assert "Trịnh Xuân Trường" in runs and all("TỊCH Trịnh" not in r for r in runs)


def test_places() -> None:
    text = "Chiều 10-9, UBND tỉnh Đồng Nai đã ký kết với chính quyền thành phố Kobe, Nhật Bản."
    assert [p.text for p in proper_names(text, frozenset({"dong nai"}))] == ["Đồng Nai", "Kobe"]


def test_a_table_rows_cells_are_clauses_about_the_row() -> None:
    row = (
        "TT: 3.; Tên nhiệm vụ: Xây dựng cơ sở dữ liệu đất đai; Cơ quan chủ trì: Sở Nông "
        "nghiệp và Môi trường; Thời gian hoàn thành: Quý III/2026"
    )
    cells = clauses(row)
    assert [c.text for c in cells] == [p.strip() for p in row.split(";")]
    deadline = cells[-1]
    assert deadline.row and "cơ sở dữ liệu đất đai" in deadline.context
    assert "Thời gian hoàn thành" not in deadline.context
    assert deadline.display == row
    # A list sentence with a lead-in is no row: its items keep the lead-in.
    items = clauses("Mục tiêu đến năm 2030: tỷ lệ A đạt 50%; tỷ lệ B đạt 60%; tỷ lệ C đạt 70%")
    assert not any(c.row for c in items)
    assert {c.context for c in items} == {"Mục tiêu đến năm 2030"}
