"""The document route serves the document model: block kinds, table cells, list parents and
each passage's stored place in the blocks (additive fields)."""

from __future__ import annotations

from fastapi.testclient import TestClient

PLAN = "004_0ae3777ec9422ce6"  # the corpus plan: headings, items, closing, recipients, signature


def test_document_blocks_carry_kinds_and_passages_their_offsets(ask_client: TestClient) -> None:
    r = ask_client.get(f"/api/documents/{PLAN}", params={"limit": 500})
    assert r.status_code == 200, r.text
    body = r.json()
    blocks = body["blocks"]
    assert body["part"]["start"] == 0 and not body["part"]["more"]
    kinds = [b["kind"] for b in blocks]
    assert {"heading", "list_item", "closing", "recipients", "signature"} <= set(kinds)
    for i, b in enumerate(blocks):
        if b["kind"] in ("closing", "recipients", "signature", "letterhead"):
            assert b["passages"] == [], (i, b["text"][:60])  # never read as content
        if b["parent"] is not None:
            assert b["kind"] == "list_item" and 0 <= b["parent"] < i
    assert any(b["parent"] is not None for b in blocks)
    assert body["passages"]
    for p in body["passages"]:
        first, last = blocks[p["first_block"]], blocks[p["last_block"]]
        assert p["ordinal"] in first["passages"] and p["ordinal"] in last["passages"]
        if p["first_block"] == p["last_block"]:
            assert first["text"][p["first_offset"] : p["last_offset"]] == p["text"]
        else:
            assert p["text"].startswith(first["text"][p["first_offset"] :])
            assert p["text"].endswith(last["text"][: p["last_offset"]])


def test_openapi_documents_the_model_fields(ask_client: TestClient) -> None:
    schemas = ask_client.get("/openapi.json").json()["components"]["schemas"]
    block = schemas["BlockModel"]["properties"]
    assert {"kind", "rows", "header_rows", "parent"} <= set(block)
    assert "letterhead" in block["kind"]["description"]
    chunk = schemas["ChunkModel"]["properties"]
    assert {"first_block", "first_offset", "last_block", "last_offset"} <= set(chunk)
