"""Hypothesis properties of the normaliser, tokeniser and chunker."""

from __future__ import annotations

import itertools
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import SEGMENT_SEP, StructureChunker, body_text, place_pieces
from ingest.models import Block, DocumentMeta, ParsedDocument
from ingest.text import fold, normalize, tokenize

# Vietnamese letters in both composed and decomposed forms, tone marks on their own,
# punctuation the splitter breaks at, and whitespace of several kinds.
VI = "aăâeêioôơuưyđAĂÂEÊIOÔƠUƯYĐbcdghklmnpqrstvx"
TONES = "\u0300\u0301\u0303\u0309\u0323"
vi_text = st.text(
    alphabet=st.sampled_from(list(VI + TONES + "àáảãạằắẳẵặờớởỡợùúủũụ .,;:!?-\n\t\u00a00123")),
    max_size=200,
)
any_text = st.one_of(vi_text, st.text(max_size=100))

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(any_text)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    assert unicodedata.is_normalized("NFC", once)


@PROPS
@given(any_text)
def test_normalize_keeps_the_letters(text):
    # Moving a tone mark or composing never adds or drops a letter.
    def letters(s: str) -> str:
        return "".join(c for c in fold(s) if c.isalnum())

    assert letters(normalize(text)) == letters(text)


@PROPS
@given(any_text)
def test_fold_is_idempotent_and_plain(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(c) for c in folded)
    assert "đ" not in folded and "Đ" not in folded


@PROPS
@given(any_text)
def test_tokens_are_normalised_lowercase_words_in_order(text):
    tokens = tokenize(text)
    assert tokenize(normalize(text)) == tokens
    haystack = normalize(text).lower()
    at = 0
    for tok in tokens:
        assert tok and tok == tok.lower() and not any(c.isspace() for c in tok)
        found = haystack.find(tok, at)
        assert found >= 0, tok
        at = found + len(tok)
    # One-letter syllables such as "ở" and "ý" are kept.
    assert tokenize("ở ý") == ["ở", "ý"]


def _words(text: str) -> int:
    return len(text.split())


blocks = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
        st.lists(
            st.sampled_from([*"abc xyz ơư đ.;,\n", "lorem ", "ipsum. ", "\n\n", "1. "]),
            min_size=1,
            max_size=120,
        ).map("".join),
    ),
    max_size=12,
)


def _doc(items) -> ParsedDocument:
    return ParsedDocument(
        meta=DocumentMeta(doc_id="d", title="T", source="", path="/d"),
        blocks=[Block(text=t, page=1, heading_level=h) for h, t in items],
        content_hash="h",
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks, st.integers(min_value=4, max_value=40), st.integers(min_value=0, max_value=8))
def test_chunks_cover_the_text_once_beyond_the_overlap(items, chunk_tokens, overlap):
    overlap = min(overlap, chunk_tokens - 1)
    chunker = StructureChunker(
        token_count=_words, chunk_tokens=chunk_tokens, overlap_tokens=overlap, max_tokens=64
    )
    doc = _doc(items)
    chunks = chunker.chunk(doc)
    text = body_text(doc)
    covered = [False] * len(text)
    for c in chunks:
        assert c.start >= 0, "chunk could not be placed"
        assert text[c.start : c.end] == c.text  # offsets point at the right text
        for i in range(c.start, c.end):
            covered[i] = True
    # No text lost: every non-space character is in some chunk.
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, text[lost[0] : lost[0] + 20]
    # No text duplicated beyond the overlap: consecutive chunks share at most the
    # configured overlap, and chunks further apart share nothing.
    budget = max(32, chunk_tokens)  # the chunker's floor for the body budget
    allowed = min(overlap, budget // 4)
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start
        if b.start < a.end:
            assert _words(text[b.start : a.end]) <= allowed
    for a, c in zip(chunks, chunks[2:], strict=False):
        assert c.start >= a.end or _words(text[c.start : a.end]) == 0
    # And the order and numbering the index relies on.
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ab", "a", "b", " ", "\n\n", "ab ab"]), max_size=30))
def test_place_pieces_handles_repeated_text(parts):
    text = "".join(parts)
    pieces = [p.strip() for p in text.split(SEGMENT_SEP) if p.strip()]
    spans = place_pieces(text, pieces)
    assert spans is not None
    assert [text[s:e] for s, e in spans] == pieces


def test_a_long_single_line_is_split_within_the_model_limit(embedder, tmp_path):
    from hostile import make_long_line

    from index.build import default_chunker
    from ingest.pipeline import parse_file

    path = tmp_path / "long-line.txt"
    make_long_line(path)
    doc = parse_file(path)
    assert isinstance(doc, ParsedDocument)
    chunker = default_chunker(embedder)
    chunks = chunker.chunk(doc)
    text = body_text(doc)
    assert len(chunks) > 5
    assert all(embedder.token_count(c.embed_text) <= chunker.max_tokens for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())
    for a, b in itertools.pairwise(chunks):
        assert not text[a.end : b.start].strip()  # nothing skipped between chunks
