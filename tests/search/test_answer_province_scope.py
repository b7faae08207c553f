"""An agency's tasks asked of a province's plan come from that province's own documents
(issue 22 §3), on a real index of two documents written for the test: the province's plan,
which does not name the agency, and a national resolution that lists the province among
others and gives the agency tasks."""

from __future__ import annotations

import pytest

from index.build import build_index
from policy_search.settings import Settings
from search.answer import Answerer
from search.engine import SearchEngine

PLAN = """ỦY BAN NHÂN DÂN TỈNH BẮC KẠN

KẾ HOẠCH

Hỗ trợ nhà ở cho hộ nghèo trên địa bàn tỉnh Bắc Kạn năm 2026

I. TỔ CHỨC THỰC HIỆN

1. Sở Xây dựng

Chủ trì hướng dẫn thiết kế mẫu nhà ở cho hộ nghèo, kiểm tra chất lượng công trình.

2. Sở Tài chính

Chủ trì bố trí kinh phí hỗ trợ nhà ở cho hộ nghèo từ ngân sách tỉnh.
"""

RESOLUTION = """CHÍNH PHỦ

NGHỊ QUYẾT

Về hỗ trợ nhà ở sau thiên tai tại các tỉnh Bắc Kạn, Cao Bằng, Lạng Sơn, Thái Nguyên, Tuyên Quang

I. NHIỆM VỤ CỦA CÁC CƠ QUAN

1. Ngân hàng Chính sách xã hội

Cho vay ưu đãi để hộ gia đình sửa chữa, xây dựng lại nhà ở bị thiên tai làm hư hỏng.

2. Bộ Xây dựng

Hướng dẫn các địa phương thiết kế nhà ở an toàn trước thiên tai.
"""


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("province-scope")
    (docs / "ke-hoach-bac-kan.md").write_text(PLAN, encoding="utf-8")
    (docs / "nghi-quyet-thien-tai.md").write_text(RESOLUTION, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("province-scope-index")
    build_index([docs], index_dir, embedder)
    return Answerer(SearchEngine(Settings(index_dir=index_dir), embedder=embedder))


def test_an_agency_the_provinces_own_plan_does_not_name_gets_no_task_list(
    answerer: Answerer,
) -> None:
    result = answerer.ask(
        "Ngân hàng Chính sách xã hội có nhiệm vụ gì trong kế hoạch hỗ trợ nhà ở của tỉnh Bắc Kạn?",
        threshold=0,
    )
    assert result.answer is None or "Cho vay ưu đãi" not in result.answer.text


def test_the_provinces_own_plan_answers_for_its_agencies(answerer: Answerer) -> None:
    result = answerer.ask(
        "Sở Tài chính có nhiệm vụ gì trong kế hoạch của tỉnh Bắc Kạn?", threshold=0
    )
    assert result.answer is not None and "bố trí kinh phí" in result.answer.text


def test_without_a_province_the_agency_is_answered_from_where_it_has_tasks(
    answerer: Answerer,
) -> None:
    result = answerer.ask("Ngân hàng Chính sách xã hội có nhiệm vụ gì?", threshold=0)
    assert result.answer is not None and "Cho vay ưu đãi" in result.answer.text
