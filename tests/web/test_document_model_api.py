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


def test_every_part_carries_the_whole_outline_and_the_signature_block(
    ask_client: TestClient,
) -> None:
    whole = ask_client.get(f"/api/documents/{PLAN}", params={"limit": 500}).json()
    blocks = whole["blocks"]
    outline = whole["outline"]
    # Every heading but the title, in order, each pointing at its block.
    headings = [i for i, b in enumerate(blocks) if b["kind"] == "heading" and b["heading_level"]]
    assert [e["block"] for e in outline if blocks[e["block"]]["kind"] == "heading"] == headings
    for e in outline:
        shown = e["text"].removesuffix("…")
        assert " ".join(blocks[e["block"]]["text"].split()).startswith(shown), e
        assert len(e["text"]) <= 121
    assert len(outline) > 5
    # A first part of a few blocks lists the headings of the parts after it too.
    first = ask_client.get(f"/api/documents/{PLAN}", params={"limit": 3}).json()
    assert first["part"]["more"] and first["outline"] == outline
    assert any(e["block"] >= first["part"]["end"] for e in first["outline"])
    later = ask_client.get(f"/api/documents/{PLAN}", params={"start": 40, "limit": 3}).json()
    assert later["outline"] == outline
    # The signature block, where an answer's /doc/ID#signature points.
    assert blocks[whole["signature"]]["kind"] == "signature"
    assert all(b["kind"] != "signature" for b in blocks[: whole["signature"]])


def test_outline_takes_the_lines_that_open_an_article_not_a_citation() -> None:
    from web.outline import outline

    rows = [
        ["QUYẾT ĐỊNH", None, 0],
        ["Điều 1. Ban hành kèm theo Quyết định này", None, None],
        ["Điều 43, khoản 4 của Luật quy định", None, None],
        ["Chương II", None, None],
        ["Điều 2 Quyết định này có hiệu lực", None, None],
        ["Mục 3: Tổ chức thực hiện", None, None],
        ["điều 3. viết thường", None, None],
        ["1. Mục tiêu", None, 2],
    ]
    got = [(e.block, e.level) for e in outline(rows)]
    assert got == [(1, 4), (3, 2), (4, 4), (5, 3), (7, 2)]
