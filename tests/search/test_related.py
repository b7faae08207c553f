"""Related documents through shared references, on a small real index: two provincial
plans implementing the same decision are related, and say so; the decision, once indexed,
is related to both ("a basis of this document" / "implements this document"); a basis
every document cites counts for little."""

from __future__ import annotations

from pathlib import Path

import pytest
from official import DECISION_TTG

from index.build import build_index
from index.store import Snapshot, current_path
from search import related
from search.related import related_documents

_HEAD = """ỦY BAN NHÂN DÂN
TỈNH {PROVINCE}
-------
Số: {number}

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
{place}, ngày {day} tháng 3 năm 2023

{TYPE}
{TITLE}

"""

# A provincial plan implementing 1658/QĐ-TTg, under the law every province cites.
_PLAN_BODY = """Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;

Căn cứ Quyết định số 1658/QĐ-TTg ngày 01/10/2021 của Thủ tướng Chính phủ phê duyệt Chiến \
lược quốc gia về tăng trưởng xanh;

Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:

I. MỤC TIÊU

{goal}

Nơi nhận:
- Như trên;
- Lưu: VT.

{signature}
"""


def _plan(
    province: str, number: str, place: str, day: int, title: str, goal: str, sign: str
) -> str:
    head = _HEAD.format(
        PROVINCE=province, number=number, place=place, day=day, TYPE="KẾ HOẠCH", TITLE=title
    )
    return head + _PLAN_BODY.format(goal=goal, signature=sign)


LAO_CAI = _plan(
    "LÀO CAI",
    "45/KH-UBND",
    "Lào Cai",
    15,
    "THỰC HIỆN CHIẾN LƯỢC QUỐC GIA VỀ TĂNG TRƯỞNG XANH",
    "Giảm cường độ phát thải khí nhà kính, phát triển rừng và du lịch sinh thái bền vững.",
    "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nHoàng Quốc Khánh",
)
YEN_BAI = _plan(
    "YÊN BÁI",
    "88/KH-UBND",
    "Yên Bái",
    20,
    "TRIỂN KHAI CHIẾN LƯỢC QUỐC GIA VỀ TĂNG TRƯỞNG XANH",
    "Chuyển đổi năng lượng sạch, nông nghiệp hữu cơ và giao thông công cộng trên địa bàn tỉnh.",
    "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\nTrần Huy Tuấn",
)
DAK_LAK = (
    _HEAD.format(
        PROVINCE="ĐẮK LẮK",
        number="1234/QĐ-UBND",
        place="Đắk Lắk",
        day=25,
        TYPE="QUYẾT ĐỊNH",
        TITLE="VỀ VIỆC CÔNG BỐ DANH MỤC THỦ TỤC HÀNH CHÍNH LĨNH VỰC GIÁO DỤC",
    )
    + """CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;

QUYẾT ĐỊNH:

Điều 1. Công bố danh mục thủ tục hành chính lĩnh vực giáo dục và đào tạo.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Nguyễn Thiên Văn
"""
)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Snapshot, Snapshot]:  # type: ignore[no-untyped-def]
    """The three provincial documents, then the same with decision 1658/QĐ-TTg added."""
    tmp = tmp_path_factory.mktemp("related")
    docs, index = tmp / "docs", tmp / "index"
    docs.mkdir()
    for name, text in (("kh-lao-cai", LAO_CAI), ("kh-yen-bai", YEN_BAI), ("qd-dak-lak", DAK_LAK)):
        (docs / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index([docs], index, embedder)
    before = _snapshot(index)
    (docs / "qd-1658-ttg.txt").write_text(DECISION_TTG, encoding="utf-8")
    build_index([docs], index, embedder)
    return before, _snapshot(index)


def _snapshot(index: Path) -> Snapshot:
    path = current_path(index)
    assert path is not None
    return Snapshot(path)


def _why(snap: Snapshot, doc_id: str, lang: str = "vi") -> dict[str, str]:
    return {r.doc_id: r.why for r in related_documents(snap, doc_id, 5, lang)}


def test_two_plans_implementing_one_decision_are_related(
    versions: tuple[Snapshot, Snapshot],
) -> None:
    before, _ = versions
    found = related_documents(before, "kh-lao-cai", 5)
    assert [r.doc_id for r in found] == ["kh-yen-bai", "qd-dak-lak"]
    assert found[0].why.startswith("cùng thực hiện Quyết định 1658/QĐ-TTg")
    # Official documents compare the type they print, not the coarse type.
    assert "cùng loại: Kế hoạch" in found[0].why and "cùng loại" not in found[1].why
    en = _why(before, "kh-lao-cai", "en")
    assert en["kh-yen-bai"].startswith("both implement Quyết định 1658/QĐ-TTg")
    # Both cite the law too, as every provincial document does: named after the decision.
    assert "Luật Tổ chức chính quyền địa phương" in en["kh-yen-bai"]
    assert en["qd-dak-lak"].startswith("both implement Luật Tổ chức chính quyền địa phương")


def test_a_basis_every_document_cites_counts_for_little(
    versions: tuple[Snapshot, Snapshot], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every other part off: the scores are the references part alone.
    for name in ("W_CONTENT", "W_PARTIES", "W_PLACES", "W_TOPICS", "W_TYPE"):
        monkeypatch.setattr(related, name, 0.0)
    before, _ = versions
    scores = {r.doc_id: r.score for r in related_documents(before, "kh-lao-cai", 5)}
    # The plans share the decision (cited by 2 of 3) and the law (by all 3); the Đắk Lắk
    # decision only the law: a cosine of idf-weighted cited sets.
    assert scores["kh-yen-bai"] == pytest.approx(related.W_REFERENCES, abs=1e-3)
    assert 0 < scores["qd-dak-lak"] < 0.4 * scores["kh-yen-bai"]


def test_the_decision_once_indexed_is_related_to_the_plans_implementing_it(
    versions: tuple[Snapshot, Snapshot], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, after = versions
    assert list(_why(after, "qd-1658-ttg"))[:2] == ["kh-lao-cai", "kh-yen-bai"]
    assert _why(after, "qd-1658-ttg")["kh-lao-cai"].startswith("thực hiện văn bản này")
    assert _why(after, "qd-1658-ttg", "en")["kh-yen-bai"].startswith("implements this document")
    assert _why(after, "kh-lao-cai")["qd-1658-ttg"].startswith("là căn cứ của văn bản này")
    assert _why(after, "kh-lao-cai", "en")["qd-1658-ttg"].startswith("a basis of this document")
    # Resolved to the indexed decision, the plans' shared basis is still the same document.
    assert _why(after, "kh-lao-cai")["kh-yen-bai"].startswith(
        "cùng thực hiện Quyết định 1658/QĐ-TTg"
    )
    # The Đắk Lắk decision neither cites nor is cited by it, and shares none of its bases.
    assert "văn bản này" not in _why(after, "qd-1658-ttg")["qd-dak-lak"]
    for name in ("W_CONTENT", "W_PARTIES", "W_PLACES", "W_TOPICS", "W_TYPE"):
        monkeypatch.setattr(related, name, 0.0)
    scores = {r.doc_id: r.score for r in related_documents(after, "qd-1658-ttg", 5)}
    assert scores["kh-lao-cai"] == scores["kh-yen-bai"] == related.W_REFERENCES
    assert scores["qd-dak-lak"] == 0.0
