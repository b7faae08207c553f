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

from index.ann import release_pages
from index.store import NpyAppender
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
    """The lexical index built chunk by chunk (:meth:`add`), written at the end (:meth:`write`).

    The same BM25 matrices as :func:`build_lexical_files` (bm25s's "lucene" scores,
    saved as ``bm25s.BM25.save`` saves them), in memory that does not grow with the
    collection beyond its vocabulary and 8 bytes a chunk: each chunk's terms become
    their ids and counts as it is added and go to disk (the version's
    ``lexical.<field>.postings.*.npy``, which a re-ingest copies unchanged chunks'
    postings from), and the matrices are made from those files a bucket of terms at
    a time (:meth:`_Postings.write`).
    """

    def __init__(self, folder: Path | None = None) -> None:
        # Without a folder (build_lexical_files): a temporary one, read back by files().
        self._tmp = tempfile.TemporaryDirectory() if folder is None else None
        self.folder: Path = folder if folder is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.n = 0
        self.fields = {field: _Postings(self.folder, field) for field in FIELDS}

    @classmethod
    def continuing(cls, version_dir: Path, folder: Path) -> LexicalBuilder | None:
        """A builder into ``folder`` that can copy chunks of the version in ``version_dir``
        (:meth:`add_previous`) instead of analysing their text again; None when that
        version has no postings made by this analyser."""
        try:
            meta = json.loads((version_dir / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if meta.get("format") != LEXICAL_FORMAT or meta.get("analyser") != analyser_fingerprint():
            return None
        builder = cls(folder)
        try:
            for field, postings in builder.fields.items():
                postings.previous = _Previous.load(version_dir, field, int(meta["n"]))
                # The previous ids stay: copied postings need no renumbering.
                postings.vocab = json.loads(
                    (version_dir / _file(field, _PARTS["vocab_name"])).read_text()
                )
        except (OSError, ValueError, KeyError):
            builder.abandon()
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

    def abandon(self) -> None:
        for postings in self.fields.values():
            postings.abandon()
        if self._tmp is not None:
            self._tmp.cleanup()

    def files(self) -> dict[str, bytes]:
        """The index's files by name (:meth:`write`, read back)."""
        try:
            self.write(self.folder)
            return {path.name: path.read_bytes() for path in self.folder.iterdir()}
        finally:
            self.abandon()

    def write(self, folder: Path) -> None:
        """Write the index's files into ``folder`` (the folder it was made in)."""
        if folder.resolve() != self.folder.resolve():
            raise ValueError(f"a lexical index made in {self.folder} is written there")
        meta: dict[str, Any] = {
            "format": LEXICAL_FORMAT,
            "fields": list(FIELDS),
            "bigrams": BIGRAMS,
            "k1": K1,
            "b": B,
            "n": self.n,
            "analyser": analyser_fingerprint(),
        }
        for field, postings in self.fields.items():
            postings.write(field, self.n)
        (folder / MANIFEST).write_text(json.dumps(meta))


# Postings buffered before they go to disk, and scored or sorted at a time: 1M postings,
# 8 MB per float64 temporary.
_BLOCK = 1 << 20
# Postings sorted into the by-term matrix at a time (one bucket of terms).
_BUCKET = 4 << 20


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
    """One field's vocabulary and (term id, count) pairs, chunk after chunk, on disk."""

    def __init__(self, folder: Path, field: str) -> None:
        self.folder = folder
        self.field = field
        self.vocab: dict[str, int] = {}
        self.lengths = array("i")  # terms of each chunk
        self.distinct = array("i")  # distinct terms of each chunk
        self._terms = array("i")  # buffered, then appended to the files
        self._counts = array("i")
        self.terms = NpyAppender(folder / _postings_file(field, "terms"), np.int32)
        self.counts = NpyAppender(folder / _postings_file(field, "counts"), np.int32)
        self.previous: _Previous | None = None

    def add(self, terms: list[str]) -> None:
        vocab = self.vocab
        counted = Counter(vocab.setdefault(t, len(vocab)) for t in terms)
        self.lengths.append(len(terms))
        self.distinct.append(len(counted))
        self._terms.extend(counted.keys())
        self._counts.extend(counted.values())
        if len(self._terms) >= _BLOCK:
            self._flush()

    def _flush(self) -> None:
        self.terms.append(np.frombuffer(self._terms, dtype=np.int32))
        self.counts.append(np.frombuffer(self._counts, dtype=np.int32))
        self._terms, self._counts = array("i"), array("i")

    def add_previous(self, rows: np.ndarray) -> None:
        old = self.previous
        assert old is not None
        rows = np.asarray(rows, dtype=np.int64)
        for lo in range(0, len(rows), 4096):
            part = rows[lo : lo + 4096]
            sizes = old.distinct[part].astype(np.int64)
            # Posting j of the copied run: previous posting starts[row] + (j - run start).
            at = np.repeat(old.starts[part] - (np.cumsum(sizes) - sizes), sizes)
            at += np.arange(int(sizes.sum()), dtype=np.int64)
            self.terms.append(np.asarray(old.terms[at], dtype=np.int32))
            self.counts.append(np.asarray(old.counts[at], dtype=np.int32))
            self.distinct.frombytes(sizes.astype(np.int32).tobytes())
            self.lengths.frombytes(old.lengths[part].astype(np.int32).tobytes())
            release_pages(old.terms)
            release_pages(old.counts)

    def abandon(self) -> None:
        self.terms.abandon()
        self.counts.abandon()

    def _blocks(self, terms: np.ndarray) -> Any:
        """(first posting, term ids) of the postings file, a block at a time."""
        for lo in range(0, len(terms), _BLOCK):
            yield lo, np.asarray(terms[lo : lo + _BLOCK])
            release_pages(terms)

    def write(self, field: str, n: int) -> None:
        """The postings files finished (ids renumbered to the terms still held), and the
        bm25s files: the by-term matrix made a bucket of terms at a time."""
        self._flush()
        terms, counts = self.terms.close(), self.counts.close()
        self.previous = None
        rows = np.stack(
            [np.frombuffer(self.distinct, np.int32), np.frombuffer(self.lengths, np.int32)], 1
        ).reshape(-1, 2)
        np.save(self.folder / _postings_file(field, "rows"), rows, allow_pickle=False)
        self.vocab.pop("", None)
        size = max(self.vocab.values(), default=-1) + 1
        df = np.zeros(size, dtype=np.int64)
        for _, block in self._blocks(terms):
            df += np.bincount(block, minlength=size)
        used = df > 0
        if not (used.all() and size == len(self.vocab)):
            # Terms that only chunks gone since the previous version held, and the empty
            # token: the vocabulary a build from scratch would have, up to id order.
            renumber = (np.cumsum(used) - 1).astype(np.int32)
            self.vocab = {t: int(renumber[i]) for t, i in self.vocab.items() if used[i]}
            df = df[used]
            if len(terms):
                path = self.folder / _postings_file(field, "terms")
                del terms
                mapped = np.load(path, mmap_mode="r+", allow_pickle=False)
                for lo in range(0, len(mapped), _BLOCK):
                    mapped[lo : lo + _BLOCK] = renumber[mapped[lo : lo + _BLOCK]]
                    mapped.flush()
                    release_pages(mapped)
                del mapped
                terms = np.load(path, mmap_mode="r", allow_pickle=False)
        self._matrix(field, terms, counts, df, n)

    def _matrix(
        self, field: str, terms: np.ndarray, counts: np.ndarray, df: np.ndarray, n: int
    ) -> None:
        """The bm25s files of this field (bm25s's "lucene" scores, as ``BM25.index`` and
        ``BM25.save`` make them): columns (terms) in order, rows (chunks) ascending."""
        if not n:
            return
        n_vocab = len(self.vocab)
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.distinct, np.int32), out=starts[1:])
        total = int(starts[-1])
        # bm25s: idf in float32; tf / (tf + k1 (1 - b + b l_d / l_avg)) in float64.
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = float(lengths.mean())
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        # Buckets of consecutive terms with about _BUCKET postings each: the postings
        # are read once per bucket, and one bucket is sorted in memory at a time.
        edges = np.searchsorted(indptr, np.arange(0, total, _BUCKET), side="right") - 1
        edges = np.unique(np.concatenate([edges, [n_vocab]]))
        data = NpyAppender(self.folder / _file(field, _PARTS["data_name"]), np.float32)
        indices = NpyAppender(self.folder / _file(field, _PARTS["indices_name"]), np.int32)
        try:
            for t0, t1 in pairwise(edges.tolist()):
                picked_terms, picked_docs, picked_scores = [], [], []
                for lo, block in self._blocks(terms):
                    keep = np.flatnonzero((block >= t0) & (block < t1))
                    if not len(keep):
                        continue
                    at = lo + keep
                    docs = (np.searchsorted(starts, at, side="right") - 1).astype(np.int32)
                    tf = np.asarray(counts[at], dtype=np.float64)
                    norm = K1 * ((1 - B) + B * lengths[docs].astype(np.float64) / average)
                    ids = block[keep]
                    picked_terms.append(ids)
                    picked_docs.append(docs)
                    picked_scores.append(
                        (idf[ids].astype(np.float64) * (tf / (norm + tf))).astype(np.float32)
                    )
                    release_pages(counts)
                if not picked_terms:
                    continue
                order = np.argsort(np.concatenate(picked_terms), kind="stable")
                data.append(np.concatenate(picked_scores)[order])
                indices.append(np.concatenate(picked_docs)[order])
            data.close()
            indices.close()
        except BaseException:
            data.abandon()
            indices.abandon()
            raise
        # The rest as bm25s saves it; its matrix arrays are already written above.
        bm = bm25s.BM25(k1=K1, b=B, method="lucene")
        self.vocab.setdefault("", n_vocab)  # bm25s's empty token, for a query with no known term
        bm.vocab_dict = self.vocab
        bm.nonoccurrence_array = None
        bm.scores = {
            "data": np.zeros(0, np.float32),
            "indices": np.zeros(0, np.int32),
            "indptr": indptr,
            "num_docs": n,
        }
        names = {key: _file(field, part) for key, part in _PARTS.items()}
        names["data_name"] = names["indices_name"] = f".unused.{field}.npy"
        bm.save(str(self.folder), show_progress=False, allow_pickle=False, **names)
        (self.folder / names["data_name"]).unlink()


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
