"""GET /api/assignments: the records ingest reads, served from a real index.

The index is built once for the module from two short plans written for these tests in
the usual form of a provincial plan (an agency heading with its duties, a "Giao X chủ trì"
sentence, "Đơn vị chủ trì:" lines, an appendix table and an execution article) and one
corpus document, with the real embedder and the real app.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
GREEN = "004_0ae3777ec9422ce6"  # the corpus' provincial green-growth plan

PLAN_A = """ỦY BAN NHÂN DÂN TỈNH SƠN LA

KẾ HOẠCH
Triển khai chuyển đổi số trong quản lý đất đai tỉnh Sơn La năm 2026

## III. TỔ CHỨC THỰC HIỆN

### 1. Sở Nông nghiệp và Môi trường (STNMT)

- Chủ trì, phối hợp với Sở Tài chính xây dựng cơ sở dữ liệu đất đai cấp tỉnh, hoàn thành trước ngày 30/9/2026.
- Hướng dẫn Ủy ban nhân dân các xã cập nhật biến động đất đai hằng tháng.

### 2. Các nhiệm vụ khác

1. Giao Công an tỉnh chủ trì, phối hợp với Sở Khoa học và Công nghệ bảo đảm an ninh mạng cho hệ thống thông tin đất đai.

2. Tổ chức tập huấn kỹ năng số cho cán bộ địa chính xã.

Đơn vị chủ trì: Sở Nội vụ

Đơn vị phối hợp: Ủy ban nhân dân các xã

Sản phẩm: Báo cáo kết quả tập huấn gửi UBND tỉnh

Trên đây là Kế hoạch triển khai chuyển đổi số trong quản lý đất đai tỉnh Sơn La năm 2026.
"""

PLAN_B = """ỦY BAN NHÂN DÂN TỈNH NGHỆ AN

QUYẾT ĐỊNH
Ban hành Kế hoạch phát triển du lịch cộng đồng tỉnh Nghệ An năm 2026

Điều 1. Ban hành kèm theo Quyết định này Kế hoạch phát triển du lịch cộng đồng năm 2026.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

Điều 3. Chánh Văn phòng UBND tỉnh; Giám đốc các Sở: Văn hóa, Thể thao và Du lịch, Tài chính; Chủ tịch UBND huyện Con Cuông và các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành Quyết định này./.

## PHỤ LỤC. DANH MỤC NHIỆM VỤ

| TT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | Sản phẩm |
|---|---|---|---|---|---|
| 1 | Khảo sát các điểm du lịch cộng đồng tiềm năng | Sở Văn hóa, Thể thao và Du lịch | Sở Tài chính | Quý II/2026 | Danh mục điểm du lịch |
| 2 | Hỗ trợ hộ gia đình cải tạo nhà ở làm homestay | UBND huyện Con Cuông | Hội Nông dân huyện | 2026 | Hộ gia đình được hỗ trợ |
"""


@pytest.fixture(scope="module")
def records_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("records-docs")
    (docs / "ke-hoach-dat-dai-son-la.md").write_text(PLAN_A, encoding="utf-8")
    (docs / "ke-hoach-du-lich-nghe-an.md").write_text(PLAN_B, encoding="utf-8")
    shutil.copy(CORPUS / f"{GREEN}.txt", docs / f"{GREEN}.txt")
    index_dir = tmp_path_factory.mktemp("records-index")
    build_index([docs], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="module")
def client(records_index: Path, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=records_index, rate_limit_per_address=0)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        yield c


def _get(client: TestClient, **params: object) -> dict:  # type: ignore[type-arg]
    r = client.get("/api/assignments", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _doc_id(client: TestClient, fragment: str) -> str:
    docs = client.get("/api/documents").json()["documents"]
    return next(d["doc_id"] for d in docs if fragment in d["source"])


def test_records_carry_task_lead_partners_deadline_output_and_span(client: TestClient) -> None:
    found = _get(client, agency="Sở Nông nghiệp và Môi trường", q="cơ sở dữ liệu đất đai")
    assert found["total"] >= 1
    rec = next(a for a in found["assignments"] if a["role"] == "lead")
    assert rec["lead"] == "Sở Nông nghiệp và Môi trường"
    assert rec["partners"] == ["Sở Tài chính"]
    assert rec["deadline"] == "trước ngày 30/9/2026"
    assert rec["task"].startswith("xây dựng cơ sở dữ liệu đất đai")
    assert rec["section_path"][-1].endswith("Sở Nông nghiệp và Môi trường (STNMT)")
    assert rec["via"] == "section"
    # The span points into the stored blocks of the document.
    doc = client.get(f"/api/documents/{rec['doc_id']}").json()
    block = doc["blocks"][rec["block"]]["text"]
    assert rec["block"] == rec["block_end"]
    assert block[rec["start"] : rec["end"]] == rec["text"]
    # The document's own part lists the same task with its lead and partners.
    shown = [a for a in doc["assignments"] if a["text"] == rec["text"]]
    assert {(a["lead"], tuple(a["partners"]), a["deadline"]) for a in shown} == {
        ("Sở Nông nghiệp và Môi trường", ("Sở Tài chính",), "trước ngày 30/9/2026")
    }


def test_labelled_lines_and_table_rows_become_records(client: TestClient) -> None:
    labelled = _get(client, q="tập huấn kỹ năng số")["assignments"]
    lead = next(a for a in labelled if a["role"] == "lead")
    assert (lead["agency"], lead["via"]) == ("Sở Nội vụ", "labelled")
    assert lead["partners"] == ["Ủy ban nhân dân các xã"]
    assert lead["output"] == "Báo cáo kết quả tập huấn gửi UBND tỉnh"

    row = _get(client, q="homestay", agency="UBND huyện Con Cuông")["assignments"]
    assert [(a["role"], a["via"]) for a in row] == [("lead", "table")]
    assert row[0]["partners"] == ["Hội Nông dân huyện"]
    assert (row[0]["deadline"], row[0]["output"]) == ("2026", "Hộ gia đình được hỗ trợ")


def test_agency_is_matched_folded_and_by_the_documents_abbreviation(client: TestClient) -> None:
    exact = _get(client, agency="Sở Nông nghiệp và Môi trường", limit=500)
    folded = _get(client, agency="so nong nghiep va moi truong", limit=500)
    abbreviated = _get(client, agency="stnmt", limit=500)
    assert exact["total"] > 0
    assert folded["total"] == exact["total"]
    assert abbreviated["total"] == exact["total"]
    assert {a["agency"] for a in abbreviated["assignments"]} == {"Sở Nông nghiệp và Môi trường"}
    # Whole words, in order: a part of a word or words out of order name nobody.
    assert _get(client, agency="nghiep va moi")["total"] == exact["total"]
    assert _get(client, agency="nông nghiệ")["total"] == 0
    assert _get(client, agency="moi truong nong nghiep")["total"] == 0


def test_document_and_province_filters(client: TestClient) -> None:
    son_la = _doc_id(client, "son-la")
    by_doc = _get(client, document=son_la, limit=500)
    assert by_doc["total"] > 0
    assert {a["doc_id"] for a in by_doc["assignments"]} == {son_la}
    by_province = _get(client, province="son la", limit=500)
    assert {a["doc_id"] for a in by_province["assignments"]} == {son_la}
    assert by_province["total"] == by_doc["total"]
    nghe_an = _get(client, province="Nghệ An", limit=500)
    assert {a["doc_id"] for a in nghe_an["assignments"]} == {_doc_id(client, "nghe-an")}
    assert _get(client, document="no-such-document")["total"] == 0
    # The corpus plan's records are served too (its heading sections).
    assert _get(client, document=GREEN)["total"] > 0


def test_the_execution_article_is_a_record_of_its_own(client: TestClient) -> None:
    found = _get(client, q="thi hành", limit=500)["assignments"]
    execute = [a for a in found if a["role"] == "execute"]
    assert [a["agency"] for a in execute] == [
        "Văn phòng UBND tỉnh",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Sở Tài chính",
        "UBND huyện Con Cuông",
    ]
    assert all(a["via"] == "execution" and a["lead"] == "" for a in execute)
    assert {a["task"] for a in execute} == {"Thi hành Quyết định này"}
    # The answers' task lists leave them out; the document route too.
    doc = client.get(f"/api/documents/{execute[0]['doc_id']}").json()
    assert not any("thi hành" in a["task"].lower() for a in doc["assignments"])


def test_paging_is_stable_and_total_counts_every_page(client: TestClient) -> None:
    whole = _get(client, limit=500)
    total = whole["total"]
    assert total == len(whole["assignments"]) > 6
    pages = [_get(client, offset=n, limit=4) for n in range(0, total, 4)]
    assert all(p["total"] == total and p["limit"] == 4 for p in pages)
    assert [a for p in pages for a in p["assignments"]] == whole["assignments"]
    past = _get(client, offset=total + 10)
    assert past["assignments"] == [] and past["total"] == total


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"q": "  "}, "empty query"),
        ({"agency": "..."}, "agency"),
        ({"province": "x" * 201}, "province"),
    ],
)
def test_bad_values_are_a_422_bad_query(client: TestClient, params: dict, named: str) -> None:  # type: ignore[type-arg]
    r = client.get("/api/assignments", params=params)
    assert r.status_code == 422
    assert r.json()["error"] == "bad_query"
    assert named in r.json()["detail"]


def test_unknown_parameter_and_head(client: TestClient) -> None:
    r = client.get("/api/assignments", params={"agenc": "Sở Tài chính"})
    assert r.status_code == 422 and "agenc" in r.json()["detail"]
    head = client.head("/api/assignments", params={"agency": "Sở Tài chính"})
    assert head.status_code == 200 and head.content == b""


def test_no_index_is_a_503(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=tmp_path / "none", rate_limit_per_address=0)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        r = c.get("/api/assignments")
    assert r.status_code == 503
    assert r.json()["error"] == "index_unavailable"
    assert "Retry-After" in r.headers
