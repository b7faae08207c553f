"""Lexical (BM25) index over the chunks, with a Vietnamese analyzer.

Two fields are indexed, each as its own bm25s matrix:

* ``syllable``: normalised (NFC, one tone-mark convention), lower-cased
  syllables, one-letter syllables ("ở", "ý") kept, plus syllable bigrams;
* ``folded``: the same tokens with every diacritic removed (đ -> d), so a
  query typed without diacritics matches.

The matrices are built at ingest time (:class:`LexicalBuilder`, chunk by chunk) and saved
inside the version folder with ``bm25s.BM25.save``, which writes ``.npy``
arrays with ``allow_pickle=False`` and JSON; :class:`LexicalIndex` loads them.
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
from array import array
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from ingest.text import fold, tokenize

FIELDS = ("syllable", "folded")
MANIFEST = "lexical.json"
LEXICAL_FORMAT = 1
# Lucene BM25 defaults measured on XQuAD-vi; bigrams measured better than plain
# syllables for exact Vietnamese phrases (compounds are two syllables).
K1, B = 1.2, 0.75
BIGRAMS = True

logging.getLogger("bm25s").setLevel(logging.WARNING)


def syllables(text: str) -> list[str]:
    """Normalised, lower-cased syllable tokens; one-letter syllables kept."""
    return tokenize(text)


def analyze(text: str, field: str, bigrams: bool = BIGRAMS) -> list[str]:
    """The terms of ``text`` in ``field``: syllables (folded for "folded") and their bigrams."""
    if field not in FIELDS:
        raise ValueError(f"unknown lexical field {field!r}; expected one of {FIELDS}")
    return _terms(syllables(text), field, bigrams)


@functools.lru_cache(maxsize=65_536)
def _fold_token(token: str) -> str:
    return fold(token)


def _terms(tokens: list[str], field: str, bigrams: bool = BIGRAMS) -> list[str]:
    if field == "folded":
        tokens = [_fold_token(t) for t in tokens]
    if bigrams:
        # A space never occurs inside a token, so it cannot collide with a unigram.
        tokens = tokens + [f"{a} {b}" for a, b in pairwise(tokens)]
    return tokens


def _file(field: str, part: str) -> str:
    return f"lexical.{field}.{part}"


_PARTS = {
    "data_name": "data.npy",
    "indices_name": "indices.npy",
    "indptr_name": "indptr.npy",
    "vocab_name": "vocab.json",
    "params_name": "params.json",
    "nnoc_name": "nonoccurrence.npy",
}


def chunk_syllables(
    embed_texts: Sequence[str], texts: Sequence[str]
) -> tuple[list[list[str]], list[list[str]]]:
    """(syllables of each embedded text, syllables of each body text), tokenised once.

    An embedded text is its chunk's header and a line break before the body: its
    syllables are the header's (the same for every chunk of a section, tokenised
    once) followed by the body's, as no syllable spans a line break.
    """
    headers: dict[str, list[str]] = {}
    embedded: list[list[str]] = []
    bodies: list[list[str]] = []
    for embed_text, text in zip(embed_texts, texts, strict=True):
        body = syllables(text)
        bodies.append(body)
        head = embed_text[: len(embed_text) - len(text)]
        if embed_text.endswith(text) and (not head or head.endswith("\n")):
            if head not in headers:
                headers[head] = syllables(head)
            embedded.append(headers[head] + body)
        else:
            embedded.append(syllables(embed_text))
    return embedded, bodies


def build_lexical_files(
    texts: Sequence[str], tokens: Sequence[list[str]] | None = None
) -> dict[str, bytes]:
    """The files of the lexical index over ``texts`` (row i = chunk id i), by file name.

    ``tokens``: the texts' :func:`syllables`, when already at hand. An ingest adds
    chunks to a :class:`LexicalBuilder` as it reads them instead.
    """
    builder = LexicalBuilder()
    for i, text in enumerate(texts):
        builder.add(tokens[i] if tokens is not None else syllables(text))
    return builder.files()


class LexicalBuilder:
    """The lexical index built chunk by chunk (:meth:`add`), written at the end (:meth:`files`).

    The same BM25 matrices as :func:`build_lexical_files` (bm25s's "lucene" scores,
    saved with ``bm25s.BM25.save``), without bm25s's list of every chunk's tokens and
    then of every chunk's token ids as Python objects (about 100 bytes a token at
    ingest, the largest part of an ingest's memory after the vectors). Each chunk's
    terms become their ids and counts in compact arrays as it is added: 8 bytes per
    distinct term of a chunk, and the vocabulary.
    """

    def __init__(self) -> None:
        self.n = 0
        self.fields = {field: _Postings() for field in FIELDS}

    def add(self, tokens: list[str]) -> None:
        """The next chunk (row ``n``), as its :func:`syllables`."""
        for field, postings in self.fields.items():
            postings.add(_terms(tokens, field))
        self.n += 1

    def files(self) -> dict[str, bytes]:
        """The index's files by name (:meth:`write`, read back)."""
        with tempfile.TemporaryDirectory() as tmp:
            self.write(Path(tmp))
            return {path.name: path.read_bytes() for path in Path(tmp).iterdir()}

    def write(self, folder: Path) -> None:
        """Write the index's files into ``folder`` (an index version being made)."""
        meta: dict[str, Any] = {
            "format": LEXICAL_FORMAT,
            "fields": list(FIELDS),
            "bigrams": BIGRAMS,
            "k1": K1,
            "b": B,
            "n": self.n,
        }
        (folder / MANIFEST).write_text(json.dumps(meta))
        if not self.n:
            return
        for field, postings in self.fields.items():
            bm = postings.model()
            names = {key: _file(field, part) for key, part in _PARTS.items()}
            bm.save(str(folder), show_progress=False, allow_pickle=False, **names)
            del bm


# Postings scored at a time (LexicalBuilder): 1M postings, 8 MB per float64 temporary.
_BLOCK = 1 << 20


class _Postings:
    """One field's vocabulary and (term id, count) pairs, chunk after chunk."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.lengths = array("i")  # terms of each chunk
        self.distinct = array("i")  # distinct terms of each chunk
        self.terms = array("i")
        self.counts = array("i")

    def add(self, terms: list[str]) -> None:
        vocab = self.vocab
        counted = Counter(vocab.setdefault(t, len(vocab)) for t in terms)
        self.lengths.append(len(terms))
        self.distinct.append(len(counted))
        self.terms.extend(counted.keys())
        self.counts.extend(counted.values())

    def model(self) -> bm25s.BM25:
        """A bm25s model holding this field's matrix, as ``BM25.index`` would make it."""
        bm = bm25s.BM25(k1=K1, b=B, method="lucene")
        n_docs, n_vocab = len(self.lengths), len(self.vocab)
        terms = np.frombuffer(self.terms, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.int32)
        docs = np.repeat(np.arange(n_docs, dtype=np.int32), np.frombuffer(self.distinct, np.int32))
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        df = np.bincount(terms, minlength=n_vocab).astype(np.float64)
        # bm25s: idf in float32; tf / (tf + k1 (1 - b + b l_d / l_avg)) in float64. In
        # blocks, so that the float64 temporaries stay small however many postings.
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = float(lengths.mean())
        scores = np.empty(len(terms), dtype=np.float32)
        for lo in range(0, len(terms), _BLOCK):
            hi = lo + _BLOCK
            tf = counts[lo:hi].astype(np.float64)
            norm = K1 * ((1 - B) + B * lengths[docs[lo:hi]].astype(np.float64) / average)
            scores[lo:hi] = idf[terms[lo:hi]].astype(np.float64) * (tf / (norm + tf))
        # Compressed by column (term), rows (chunks) ascending within each.
        order = np.argsort(terms, kind="stable")
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=n_vocab), out=indptr[1:])
        data = scores[order]
        del scores
        indices = docs[order]
        del docs, order
        bm.scores = {
            "data": data,
            "indices": indices,
            "indptr": indptr,
            "num_docs": n_docs,
        }
        # bm25s's empty token, for a query with no known term (added in place: the
        # vocabulary is the largest thing left at this point).
        self.vocab.setdefault("", n_vocab)
        bm.vocab_dict = self.vocab
        bm.nonoccurrence_array = None
        return bm


class LexicalIndex:
    """BM25 scores per field over all chunks of one index version."""

    def __init__(self, models: dict[str, bm25s.BM25], n: int) -> None:
        self.models = models
        self.n = n

    @classmethod
    def load(cls, version_dir: Path) -> LexicalIndex | None:
        """The index saved in ``version_dir``; ``None`` when the version predates it."""
        try:
            meta = json.loads((version_dir / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        if meta.get("format") != LEXICAL_FORMAT or meta.get("bigrams") != BIGRAMS:
            return None
        if meta["n"] == 0:
            return cls({}, 0)
        models = {}
        for field in FIELDS:
            names = {key: _file(field, part) for key, part in _PARTS.items()}
            models[field] = bm25s.BM25.load(
                version_dir,
                mmap=True,
                allow_pickle=False,
                load_corpus=False,
                show_progress=False,
                **names,
            )
        return cls(models, int(meta["n"]))

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """An in-memory index, for versions written before lexical files existed."""
        models = {}
        for field in FIELDS:
            bm = bm25s.BM25(k1=K1, b=B, method="lucene")
            if texts:
                bm.index([analyze(t, field) for t in texts], show_progress=False)
                models[field] = bm
        return cls(models, len(texts))

    def scores(self, field: str, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for ``terms`` in ``field`` (zeros when none match)."""
        model = self.models.get(field)
        if model is None:
            return np.zeros(self.n, dtype=np.float32)
        ids = model.get_tokens_ids(list(terms))
        if not ids:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(model.get_scores_from_ids(ids), dtype=np.float32)
