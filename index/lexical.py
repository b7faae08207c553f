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
import hashlib
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

    @classmethod
    def continuing(cls, version_dir: Path) -> LexicalBuilder | None:
        """A builder that can copy chunks of the version in ``version_dir``
        (:meth:`add_previous`) instead of analysing their text again; None when that
        version has no postings made by this analyser."""
        try:
            meta = json.loads((version_dir / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if meta.get("format") != LEXICAL_FORMAT or meta.get("analyser") != analyser_fingerprint():
            return None
        builder = cls()
        try:
            for field, postings in builder.fields.items():
                postings.previous = _Previous.load(version_dir, field, int(meta["n"]))
                # The previous ids stay: copied postings need no renumbering.
                postings.vocab = json.loads(
                    (version_dir / _file(field, _PARTS["vocab_name"])).read_text()
                )
        except (OSError, ValueError, KeyError):
            return None
        return builder

    def add(self, tokens: list[str]) -> None:
        """The next chunk (row ``n``), as its :func:`syllables`."""
        for field, postings in self.fields.items():
            postings.add(_terms(tokens, field))
        self.n += 1

    def add_previous(self, rows: np.ndarray) -> None:
        """The next chunks: rows ``rows`` of the version this builder continues."""
        for postings in self.fields.values():
            postings.add_previous(rows)
        self.n += len(rows)

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
            "analyser": analyser_fingerprint(),
        }
        (folder / MANIFEST).write_text(json.dumps(meta))
        if not self.n:
            return
        for field, postings in self.fields.items():
            postings.compact()
            postings.save(folder, field)
            bm = postings.model()
            names = {key: _file(field, part) for key, part in _PARTS.items()}
            bm.save(str(folder), show_progress=False, allow_pickle=False, **names)
            del bm


# Postings scored at a time (LexicalBuilder): 1M postings, 8 MB per float64 temporary.
_BLOCK = 1 << 20


# The code a version's postings are made by: a re-ingest copies an unchanged chunk's
# postings only when these files are byte for byte the same.
_ANALYSER_FILES = [Path(__file__), Path(__file__).parent.parent / "ingest" / "text.py"]


@functools.cache
def analyser_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _ANALYSER_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _postings_file(field: str, part: str) -> str:
    return _file(field, f"postings.{part}.npy")


class _Previous:
    """A previous version's postings of one field, memory-mapped, chunk by chunk."""

    def __init__(self, rows: np.ndarray, terms: np.ndarray, counts: np.ndarray) -> None:
        self.distinct, self.lengths = rows[:, 0], rows[:, 1]
        self.starts = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(self.distinct, out=self.starts[1:])
        self.terms, self.counts = terms, counts

    @classmethod
    def load(cls, folder: Path, field: str, n: int) -> _Previous:
        def part(name: str) -> np.ndarray:
            path = folder / _postings_file(field, name)
            return np.load(path, mmap_mode="r", allow_pickle=False)

        rows = np.asarray(part("rows")) if n else np.zeros((0, 2), np.int32)
        terms, counts = (part("terms"), part("counts")) if n else (np.zeros(0, np.int32),) * 2
        if len(rows) != n or len(terms) != len(counts) or int(rows[:, 0].sum()) != len(terms):
            raise ValueError(f"lexical postings of {field} do not match {n} chunks")
        return cls(rows, terms, counts)


class _Postings:
    """One field's vocabulary and (term id, count) pairs, chunk after chunk."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.lengths = array("i")  # terms of each chunk
        self.distinct = array("i")  # distinct terms of each chunk
        self.terms = array("i")
        self.counts = array("i")
        self.previous: _Previous | None = None

    def add_previous(self, rows: np.ndarray) -> None:
        old = self.previous
        assert old is not None
        rows = np.asarray(rows, dtype=np.int64)
        sizes = old.distinct[rows].astype(np.int64)
        # Postings j of the copied run: previous posting starts[row] + (j - run start).
        at = np.repeat(old.starts[rows] - (np.cumsum(sizes) - sizes), sizes)
        at += np.arange(int(sizes.sum()), dtype=np.int64)
        self.terms.frombytes(np.ascontiguousarray(old.terms[at], dtype=np.int32).tobytes())
        self.counts.frombytes(np.ascontiguousarray(old.counts[at], dtype=np.int32).tobytes())
        self.distinct.frombytes(sizes.astype(np.int32).tobytes())
        self.lengths.frombytes(old.lengths[rows].astype(np.int32).tobytes())

    def compact(self) -> None:
        """Drop terms no chunk holds any more (only chunks that went had them) and the
        empty token, numbering the rest in order: the vocabulary a build from scratch
        would have, up to the order of ids."""
        self.previous = None
        terms = np.frombuffer(self.terms, dtype=np.int32)
        self.vocab.pop("", None)
        size = max(self.vocab.values(), default=-1) + 1
        used = np.bincount(terms, minlength=size) > 0
        if used.all() and size == len(self.vocab):
            return
        new_ids = np.cumsum(used) - 1
        self.vocab = {t: int(new_ids[i]) for t, i in self.vocab.items() if used[i]}
        self.terms = array("i", new_ids[terms].astype(np.int32).tobytes())

    def save(self, folder: Path, field: str) -> None:
        """The postings chunk by chunk, for the next version to copy (:meth:`add_previous`)."""
        rows = np.stack(
            [np.frombuffer(self.distinct, np.int32), np.frombuffer(self.lengths, np.int32)], 1
        )
        for name, data in (("rows", rows), ("terms", self.terms), ("counts", self.counts)):
            array_ = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.int32)
            np.save(folder / _postings_file(field, name), array_, allow_pickle=False)

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
