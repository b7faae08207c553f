"""Chunk offsets and block kinds survive the index: what the document view reads back."""

from __future__ import annotations

from pathlib import Path

from index.store import open_current
from ingest.models import FRAME_KINDS, Block, block_kind


def test_every_chunk_is_placed_in_its_stored_blocks(corpus_index: Path) -> None:
    snap = open_current(corpus_index)
    docs = snap.documents()
    assert docs
    kinds: set[str] = set()
    for doc in docs:
        blocks = [Block.from_stored(b) for b in doc.blocks]
        kinds.update(block_kind(b) for b in doc.blocks)
        chunks = snap.doc_chunks(doc.doc_id)
        assert chunks
        for c in chunks:
            assert 0 <= c.char_start < c.char_end
            assert 0 <= c.first_block <= c.last_block < len(blocks)
            first, last = blocks[c.first_block], blocks[c.last_block]
            if c.first_block == c.last_block:
                assert first.text[c.first_offset : c.last_offset] == c.text
            else:
                assert c.text.startswith(first.text[c.first_offset :])
                assert c.text.endswith(last.text[: c.last_offset])
            covered = {blocks[i].kind for i in range(c.first_block, c.last_block + 1)}
            assert not covered & FRAME_KINDS
    # The corpus plan ends with its closing line, recipients and signature.
    assert {"closing", "recipients", "signature", "list_item", "heading"} <= kinds
