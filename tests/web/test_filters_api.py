"""The official documents' filters through the real app (tests/official.py): `issuer`,
`number`, `document_type` and the header's date on /api/search, /api/ask and the document
list, alone and combined; nothing passing is an empty answer, a bad value a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

Q = "tăng trưởng xanh môi trường quyết định"


@pytest.fixture(scope="module")
def client(official_index: Path, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=official_index, rate_limit_per_address=0, max_k=50)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        yield c


@pytest.fixture(scope="module")
def number_of(client: TestClient) -> dict[str, str]:
    """Number as printed by doc_id ("" for the civil code's article files)."""
    return {d["doc_id"]: d["number"] for d in client.get("/api/documents").json()["documents"]}


def _searched(client: TestClient, number_of: dict[str, str], params: dict[str, str]) -> set[str]:
    r = client.get("/api/search", params={"q": Q, "k": 50, **params})
    assert r.status_code == 200, r.text
    return {number_of[x["doc_id"]] for x in r.json()["results"]}


def _asked(client: TestClient, number_of: dict[str, str], params: dict[str, str]) -> set[str]:
    r = client.get("/api/ask", params={"q": "Mục tiêu tăng trưởng xanh là gì?", "k": 50, **params})
    assert r.status_code == 200, r.text
    return {number_of[p["doc_id"]] for p in r.json()["passages"]}


def _listed(client: TestClient, params: dict[str, str]) -> set[str]:
    r = client.get("/api/documents", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["documents"])
    return {d["number"] for d in body["documents"]}


LAO_CAI = {"123/KH-UBND"}
BOTH_1658 = {"1658/QĐ-TTg", "1658/QĐ-UBND"}
CASES = [
    # issuer: accented, unaccented, capitals, the short form, without the unit, a place
    ({"issuer": "Ủy ban nhân dân tỉnh Lào Cai"}, LAO_CAI),
    ({"issuer": "UBND tỉnh Lào Cai"}, LAO_CAI),
    ({"issuer": "ubnd tinh lao cai"}, LAO_CAI),
    ({"issuer": "UBND TỈNH LÀO CAI"}, LAO_CAI),
    ({"issuer": "UBND Lào Cai"}, LAO_CAI),
    ({"issuer": "dak lak"}, {"1658/QĐ-UBND"}),
    ({"issuer": "Quốc hội"}, {"72/2020/QH14"}),
    ({"issuer": "chinh phu"}, {"1658/QĐ-TTg", "08/2022/NĐ-CP"}),
    # number: as printed, unaccented, lower case, short, bare
    ({"number": "1658/QĐ-TTg"}, {"1658/QĐ-TTg"}),
    ({"number": "1658/qd-ttg"}, {"1658/QĐ-TTg"}),
    ({"number": "1658/QD-TTG"}, {"1658/QĐ-TTg"}),
    ({"number": "qd 1658"}, BOTH_1658),
    ({"number": "1658"}, BOTH_1658),
    ({"number": "nghị định 08/2022"}, {"08/2022/NĐ-CP"}),
    ({"number": "8/2022/nd-cp"}, {"08/2022/NĐ-CP"}),
    ({"number": "72/2020/QH14"}, {"72/2020/QH14"}),
    # type as printed
    ({"document_type": "Quyết định"}, BOTH_1658),
    ({"document_type": "quyet dinh"}, BOTH_1658),
    ({"document_type": "KẾ HOẠCH"}, LAO_CAI),
    ({"document_type": "luat"}, {"72/2020/QH14"}),
    # the header's date (the plan's body names 2014 and 2030; its header says 2023-03-15)
    ({"date_from": "2023-03-15", "date_to": "2023-03-15"}, LAO_CAI),
    ({"date_from": "2024"}, {"1658/QĐ-UBND"}),
    ({"date_to": "2021-12"}, {"1658/QĐ-TTg", "72/2020/QH14"}),
    # combined, and with the other filters
    ({"number": "1658", "issuer": "UBND"}, {"1658/QĐ-UBND"}),
    ({"number": "1658", "date_to": "2022"}, {"1658/QĐ-TTg"}),
    ({"document_type": "Quyết định", "year": "2021"}, {"1658/QĐ-TTg"}),
    ({"issuer": "ubnd lao cai", "type": "plan", "province": "Lào Cai"}, LAO_CAI),
]


@pytest.mark.parametrize(("params", "numbers"), CASES, ids=lambda v: str(v))
def test_search_ask_and_list_filter_alike(
    client: TestClient, number_of: dict[str, str], params: dict[str, str], numbers: set[str]
) -> None:
    assert _searched(client, number_of, params) == numbers
    asked = _asked(client, number_of, params)
    assert asked and asked <= numbers
    assert _listed(client, params) == numbers


@pytest.mark.parametrize(
    "params",
    [
        {"issuer": "UBND tỉnh Cà Mau"},
        {"number": "9999/QĐ-UBND"},
        {"number": "1658/QĐ-TTg", "issuer": "UBND tỉnh Lào Cai"},
        {"document_type": "Thông tư"},
        {"issuer": "Lào Cai", "date_from": "2024"},
    ],
    ids=str,
)
def test_nothing_passing_is_an_empty_answer(client: TestClient, params: dict[str, str]) -> None:
    r = client.get("/api/search", params={"q": Q, **params})
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [] and r.json()["total"] == 0
    r = client.get("/api/ask", params={"q": "Mục tiêu tăng trưởng xanh là gì?", **params})
    assert r.status_code == 200, r.text
    assert r.json()["passages"] == [] and r.json()["answer"] is None
    listed = client.get("/api/documents", params=params).json()
    assert listed["documents"] == [] and listed["total"] == 0


def test_results_name_an_official_document_as_printed(client: TestClient) -> None:
    params = {"q": Q, "number": "1658/QĐ-TTg", "k": 1}
    (result,) = client.get("/api/search", params=params).json()["results"]
    assert (result["number"], result["document_type"], result["issuer"]) == (
        "1658/QĐ-TTg",
        "Quyết định",
        "Thủ tướng Chính phủ",
    )
    (article,) = client.get("/api/search", params={"q": "quyền dân sự", "k": 1}).json()["results"]
    assert (article["number"], article["document_type"], article["issuer"]) == ("", "", "")


def test_a_question_naming_a_number_answers_within_the_filters(client: TestClient) -> None:
    # "Which plans implement 1658?": the Lào Cai plan, unless the filters leave it out.
    q = "những kế hoạch nào thực hiện Quyết định 1658/QĐ-TTg?"
    body = client.get("/api/ask", params={"q": q, "issuer": "UBND Lào Cai"}).json()
    assert body["answer"]["type"] == "set"
    assert [i["doc_id"] for i in body["answer"]["items"]] == ["kh-123-lao-cai"]
    body = client.get("/api/ask", params={"q": q, "issuer": "UBND Đắk Lắk"}).json()
    assert body["answer"] is None
    assert {p["doc_id"] for p in body["passages"]} == {"qd-1658-dak-lak"}


@pytest.mark.parametrize("route", ["/api/search", "/api/ask", "/api/documents"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"issuer": "---"}, "issuer"),
        ({"issuer": "x" * 201}, "issuer"),
        ({"number": "abc"}, "number"),
        ({"number": "1658/QĐ-TTg, 08/2022/NĐ-CP"}, "number"),
        ({"number": "\x00"}, "number"),
        ({"document_type": "plan"}, "document_type"),
        ({"document_type": "Quyết"}, "document_type"),
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"date_from": "2025", "date_to": "2024"}, "date_from"),
        ({"date_from": "2025", "year": "2024"}, "date_from"),
        ({"date_from": "0.0", "year": "1900"}, "date_from"),  # a year never hides a bad date
    ],
    ids=str,
)
def test_bad_values_are_a_clear_422(
    client: TestClient, route: str, params: dict[str, str], field: str
) -> None:
    # The document list takes no query (an unknown parameter is a 422 of its own).
    query = {} if route == "/api/documents" else {"q": Q}
    r = client.get(route, params={**query, **params})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "bad_query" and body["detail"].startswith(field), body


def test_empty_parameters_are_no_condition(client: TestClient, number_of: dict[str, str]) -> None:
    empty = {"issuer": "", "number": "", "document_type": "", "date_from": "", "date_to": ""}
    assert _searched(client, number_of, empty) == _searched(client, number_of, {})
    assert len(_listed(client, empty)) == len(set(number_of.values()))


def test_the_list_counts_document_types_under_the_other_filters(client: TestClient) -> None:
    facets = client.get("/api/documents").json()["facets"]
    assert facets["document_type"] == {
        "Quyết định": 2,
        "Kế hoạch": 1,
        "Luật": 1,
        "Nghị định": 1,
    }
    chosen = client.get("/api/documents", params={"document_type": "Quyết định"}).json()
    assert chosen["facets"]["document_type"] == facets["document_type"]  # its own: unfiltered
    assert chosen["facets"]["year"] == {"2021": 1, "2024": 1}
    by_year = client.get("/api/documents", params={"year": 2021, "date_from": "2021-06"}).json()
    assert {d["number"] for d in by_year["documents"]} == {"1658/QĐ-TTg"}
    # The year facet counts every year the date range allows.
    assert by_year["facets"]["year"] == {"2021": 1, "2022": 1, "2023": 1, "2024": 1}


def test_openapi_documents_the_filters_on_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for route in ("/api/search", "/api/ask", "/api/documents"):
        params = {p["name"]: p for p in spec["paths"][route]["get"]["parameters"]}
        for name in ("issuer", "number", "document_type", "date_from", "date_to"):
            assert name in params, (route, name)
            assert params[name]["description"], (route, name)
            string = next(s for s in params[name]["schema"]["anyOf"] if s["type"] == "string")
            if name.startswith("date"):
                assert "pattern" in string
            else:
                assert string["maxLength"] == 200
        assert "2666/QĐ-UBND" in params["number"]["description"]
        assert "422" in spec["paths"][route]["get"]["responses"]


def test_several_provinces_are_any_of_them(client: TestClient) -> None:
    def docs(route: str, params: list[tuple[str, str]]) -> set[str]:
        r = client.get(route, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        if route == "/api/documents":
            return {d["doc_id"] for d in body["documents"]}
        return {x["doc_id"] for x in body.get("results", body.get("passages", []))}

    counts = client.get("/api/documents").json()["facets"]["province"]
    a, b = list(counts)[:2]
    listed = {p: docs("/api/documents", [("province", p)]) for p in (a, b)}
    assert listed[a] != listed[b]
    both = docs("/api/documents", [("province", a), ("province", b)])
    assert both == listed[a] | listed[b]
    # The other filters still apply (AND), and one value reads as before.
    assert docs("/api/documents", [("province", a)]) == listed[a]
    q = [("q", Q), ("k", "50")]
    for route in ("/api/search", "/api/ask"):
        found = docs(route, [*q, ("province", a), ("province", b)])
        assert found and found <= both, (route, found, both)
    page = client.get(
        "/api/search", params=[*q, ("province", a), ("province", b), ("group", "document")]
    ).json()
    assert {d["doc_id"] for d in page["documents"]} <= both
    # The facets count the hits' documents: each of them names a or b.
    assert (
        page["facets"]["province"].get(a, 0) + page["facets"]["province"].get(b, 0) >= page["total"]
    )
    many = [("province", f"Tỉnh {i}") for i in range(35)]
    r = client.get("/api/search", params=[*q, *many])
    assert r.status_code == 422 and r.json()["detail"].startswith("province"), r.text
    spec = client.get("/openapi.json").json()
    for route in ("/api/search", "/api/ask", "/api/documents"):
        params = {p["name"]: p for p in spec["paths"][route]["get"]["parameters"]}
        schema = params["province"]["schema"]
        assert any(s.get("type") == "array" for s in schema["anyOf"]), (route, schema)


def _numbers(client: TestClient, number_of: dict[str, str], route: str, params: list) -> set[str]:  # type: ignore[type-arg]
    query = [
        ("q", Q if route == "/api/search" else "Mục tiêu tăng trưởng xanh là gì?"),
        ("k", "50"),
    ]
    r = client.get(route, params=[*query, *params])
    assert r.status_code == 200, r.text
    return {
        number_of[x["doc_id"]]
        for x in r.json()["results" if route == "/api/search" else "passages"]
    }


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [
        ("document_type", "Quyết định", "luat"),
        ("issuer", "UBND Lào Cai", "Quốc hội"),
        ("year", "2021", "2024"),
        ("type", "plan", "official"),
    ],
)
def test_several_values_of_a_filter_are_any_of_them(
    client: TestClient, number_of: dict[str, str], name: str, a: str, b: str
) -> None:
    one = {v: _listed(client, {name: v}) for v in (a, b)}
    assert one[a] and one[b] and one[a] != one[b], one
    both = [(name, a), (name, b)]
    r = client.get("/api/documents", params=both)
    assert r.status_code == 200, r.text
    listed = {d["number"] for d in r.json()["documents"]}
    assert listed == one[a] | one[b]
    # Searches and answers stay within them; another filter still applies (AND).
    found = _numbers(client, number_of, "/api/search", both)
    assert found == listed, (found, listed)
    asked = _numbers(client, number_of, "/api/ask", both)
    assert asked and asked <= listed, (asked, listed)
    narrowed = _numbers(client, number_of, "/api/search", [*both, ("number", "1658")])
    assert narrowed == listed & BOTH_1658
    # The list counts this facet under the other filters only: every value stays on offer.
    if name != "issuer":
        alone = client.get("/api/documents").json()["facets"][name]
        assert r.json()["facets"][name] == alone
    # Past the cap, a clear 422 naming the filter.
    many = [(name, str(1990 + i) if name == "year" else f"{a} {i}") for i in range(35)]
    r = client.get("/api/search", params=[("q", Q), *many])
    assert r.status_code == 422 and r.json()["detail"].startswith(name), r.text


def test_a_bad_value_among_several_is_a_422_naming_it(client: TestClient) -> None:
    for params, field in (
        ([("type", "plan"), ("type", "decree-ish")], "type"),
        ([("year", "2021"), ("year", "1800")], "year"),
        ([("document_type", "Quyết định"), ("document_type", "Quyết")], "document_type"),
        ([("issuer", "UBND"), ("issuer", "---")], "issuer"),
    ):
        for route in ("/api/search", "/api/documents"):
            query = [] if route == "/api/documents" else [("q", Q)]
            r = client.get(route, params=[*query, *params])
            assert r.status_code == 422, (route, params, r.text)
            body = r.json()
            assert body["error"] == "bad_query" and body["detail"].startswith(field), body
