"""A date asked of a document named by its number, on a real index of a decision written
for the test: the clause that answers ("Quyết định có hiệu lực …") does not repeat the
title's words the question describes the decision with, and in a long document it sits in a
passage that ranks low for them."""

from __future__ import annotations

import pytest

from index.build import build_index
from policy_search.settings import Settings
from search.answer import Answerer
from search.answers.model import AnswerSettings
from search.engine import SearchEngine

ARTICLE = """
Điều {n}. Quản lý điểm kinh doanh số {n} tại chợ

1. Ban quản lý chợ bố trí điểm kinh doanh số {n} cho hộ kinh doanh rau, củ, quả theo sơ đồ \
được duyệt; hộ kinh doanh giữ vệ sinh, an toàn thực phẩm và phòng cháy, chữa cháy tại chợ.

2. Hộ kinh doanh tại điểm số {n} nộp phí sử dụng diện tích bán hàng theo quy định của Hội \
đồng nhân dân tỉnh và niêm yết giá công khai tại chợ.
"""

DECISION = (
    """ỦY BAN NHÂN DÂN TỈNH HÀ GIANG

Số: 45/2026/QĐ-UBND

Hà Giang, ngày 02 tháng 3 năm 2026

QUYẾT ĐỊNH

Ban hành Quy định quản lý và khai thác chợ trên địa bàn tỉnh Hà Giang

ỦY BAN NHÂN DÂN TỈNH HÀ GIANG

Căn cứ Nghị định 60/2024/NĐ-CP ngày 05 tháng 6 năm 2024 của Chính phủ về phát triển và \
quản lý chợ;

QUYẾT ĐỊNH:
"""
    + "".join(ARTICLE.format(n=n) for n in range(1, 31))
    + """
Điều 31. Hiệu lực thi hành

Quyết định có hiệu lực thi hành kể từ ngày 15 tháng 3 năm 2026.
"""
)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("decision")
    (docs / "qd-45-2026-cho.md").write_text(DECISION, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("decision-index")
    build_index([docs], index_dir, embedder)
    engine = SearchEngine(Settings(index_dir=index_dir), embedder=embedder)
    # A document this long is not read whole (its passages are more than doc_chunks).
    return Answerer(engine, AnswerSettings(doc_chunks=4))


@pytest.mark.parametrize(
    "question",
    [
        "Quyết định 45/2026/QĐ-UBND về quản lý và khai thác chợ có hiệu lực từ ngày nào?",
        "quyet dinh 45/2026/qd-ubnd ve quan ly va khai thac cho co hieu luc tu ngay nao",
    ],
)
def test_the_effective_date_of_a_decision_named_by_its_number(
    answerer: Answerer, question: str
) -> None:
    result = answerer.ask(question, threshold=0)
    assert result.answer is not None
    assert result.answer.exact is not None and "15 tháng 3 năm 2026" in result.answer.exact
