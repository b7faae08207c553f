"""Sentence windows: every sentence of a chunk embedded on its own, beside the chunk.

A chunk holds a few hundred tokens and several facts; its one vector is an
average of them all, so a question about one sentence matches that sentence
better than the chunk around it, above all across languages (an English
question against Vietnamese text). Each sentence of a chunk with more than one
sentence is embedded with the chunk's title and section header in front, like
the chunk itself, and mapped to its chunk; search scores a chunk by its own
vector and its best sentence (:mod:`search.windows`). One-sentence windows
measured better on XQuAD and on the corpus questions than two- or
three-sentence ones, and cost the fewest vectors (docs/eval.md).

Files in the version folder, written by :func:`build_window_files` at ingest:

* ``windows.json``: format, window size, count, embedder;
* ``windows.chunks.npy``: int32 chunk id of every window row, ascending;
* ``windows.vectors.npy``: float32 vectors, one row per window;
* ``windows.faiss``: FAISS inner-product index over those rows, chosen by size
  like the chunks' own (:mod:`index.ann`: exact below
  ``POLICY_SEARCH_ANN_EXACT_BELOW`` vectors, an approximate index with a
  calibrated effort above; its description goes into ``windows.json``).

Search reads only the candidates' rows of the memory-mapped vectors, so the
windows cost disk and page cache, not private memory, at a million chunks.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.ann import AnnConfig, build_dense_index, load_dense_index
from index.embed import Embedder, ProgressFn
from index.store import IndexUnavailable, StoredChunk

MANIFEST = "windows.json"
WINDOWS_FORMAT = 1
WINDOW_SENTENCES = 1

# A sentence ends at . ! ? or … (and any closing quote or bracket) before a space and a
# capital letter or digit (checked in code: regex classes do not know Vietnamese capitals).
_END = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?(\w))")
# Abbreviations whose full stop does not end a sentence: "TP. Hồ Chí Minh", "ThS. Lê".
_ABBREVIATIONS = frozenset(
    [
        "tp",
        "tx",
        "tt",
        "gs",
        "pgs",
        "ts",
        "ths",
        "bs",
        "ks",
        "ls",
        "cn",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "vs",
    ]
)
_LAST_WORD = re.compile(r"(\w+)$")


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _ends_sentence(line: str, end: re.Match[str]) -> bool:
    following = end.group(1)
    if not (following.isupper() or following.isdigit()):
        return False
    if end.group().startswith(".") and len(end.group()) == 1:
        word = _LAST_WORD.search(line[: end.start()])
        # An initial ("A. Smith") or a title ("TP.", "ThS."); not "ở." or "điều 5.".
        initial = len(word.group(1)) == 1 and word.group(1).isupper() if word else False
        if word and (initial or word.group(1).lower() in _ABBREVIATIONS):
            return False
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, in order, without surrounding spaces.

    A line break always ends a sentence.
    """
    out: list[tuple[int, int]] = []
    at = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        start = 0
        pieces = []
        for end in _END.finditer(line):
            if _ends_sentence(line, end):
                pieces.append((start, end.end()))
                start = end.end()
        pieces.append((start, len(line)))
        for lo, hi in pieces:
            piece = line[lo:hi]
            stripped = piece.strip()
            if stripped:
                lo += len(piece) - len(piece.lstrip())
                out.append((at + lo, at + lo + len(stripped)))
        at += len(raw)
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, in order; a line break always ends one."""
    return [text[lo:hi] for lo, hi in sentence_spans(text)]


def chunk_header(chunk: StoredChunk) -> str:
    """The title and section lines the chunk's embedded text carries before its body."""
    if chunk.embed_text.endswith(chunk.text):
        return chunk.embed_text[: len(chunk.embed_text) - len(chunk.text)].strip()
    return ""


def chunk_windows(chunk: StoredChunk, size: int = WINDOW_SENTENCES) -> list[str]:
    """The texts to embed for ``chunk``'s windows; none for a one-window chunk.

    A chunk with no more sentences than ``size`` would get a window equal to
    itself, which adds nothing.
    """
    sentences = split_sentences(chunk.text)
    if len(sentences) <= size:
        return []
    header = chunk_header(chunk)
    bodies = [" ".join(sentences[i : i + size]) for i in range(len(sentences) - size + 1)]
    return [f"{header}\n{body}" if header else body for body in bodies]


@dataclass
class WindowIndex:
    """The windows of one index version: rows mapped to chunk ids, with their vectors."""

    chunk_ids: np.ndarray  # int32, ascending
    vectors: np.ndarray
    faiss_index: Any  # a FAISS index, or index.ann.RefinedIndex that searches like one
    size: int = WINDOW_SENTENCES

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def load(cls, version_dir: Path, n_chunks: int | None = None) -> WindowIndex | None:
        """The windows saved in ``version_dir``; ``None`` when the version has none."""
        try:
            meta = json.loads((version_dir / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        if meta.get("format") != WINDOWS_FORMAT:
            return None
        chunk_ids = np.load(version_dir / "windows.chunks.npy", allow_pickle=False)
        vectors = np.load(version_dir / "windows.vectors.npy", mmap_mode="r", allow_pickle=False)
        index = load_dense_index(version_dir / "windows.faiss", meta.get("index"), vectors)
        n = int(meta["n"])
        problems = []
        if not len(chunk_ids) == len(vectors) == index.ntotal == n:
            problems.append(
                f"{n} windows in {MANIFEST}, {len(chunk_ids)} chunk ids, {len(vectors)} "
                f"vectors, {index.ntotal} in windows.faiss"
            )
        if len(chunk_ids) and (
            np.any(np.diff(chunk_ids) < 0)
            or chunk_ids[0] < 0
            or (n_chunks is not None and chunk_ids[-1] >= n_chunks)
        ):
            problems.append("window chunk ids are not ascending ids of this version's chunks")
        if problems:
            raise IndexUnavailable(
                f"index at {version_dir} has inconsistent windows: " + "; ".join(problems)
            )
        return cls(chunk_ids, vectors, index, int(meta.get("size", WINDOW_SENTENCES)))

    def rows_of(self, chunk_id: int) -> slice:
        lo, hi = np.searchsorted(self.chunk_ids, [chunk_id, chunk_id + 1])
        return slice(int(lo), int(hi))

    def best(self, query: np.ndarray, chunk_ids: np.ndarray) -> np.ndarray:
        """Best window score of each of ``chunk_ids`` (ascending); -inf for a chunk without.

        Exact, from the stored vectors: the approximate index only proposes
        candidates. Rows are found by binary search in the sorted owner column,
        so the cost grows with the candidates, not with the index.
        """
        best = np.full(len(chunk_ids), -np.inf, dtype=np.float32)
        # Keys in the column's own dtype: mixed dtypes made numpy cast the whole
        # column on every call (1.3 ms a call at 2.7M windows).
        keys = np.asarray(chunk_ids).astype(self.chunk_ids.dtype, copy=False)
        lo = np.searchsorted(self.chunk_ids, keys, side="left")
        hi = np.searchsorted(self.chunk_ids, keys, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total:
            # Row j of the output belongs to chunk i: stored row lo[i] + (j - where i's run starts).
            owner = np.repeat(np.arange(len(chunk_ids)), counts)
            run_starts = np.cumsum(counts) - counts
            rows = np.repeat(lo - run_starts, counts) + np.arange(total)
            scores = np.asarray(self.vectors[rows], dtype=np.float32) @ query
            np.maximum.at(best, owner, scores)
        return best

    def search(self, query: np.ndarray, depth: int) -> np.ndarray:
        """Chunk ids of the ``depth`` best windows (a chunk may appear more than once)."""
        depth = min(depth, len(self))
        if depth <= 0:
            return np.zeros(0, dtype=np.int64)
        _, rows = self.faiss_index.search(np.asarray(query, np.float32).reshape(1, -1), depth)
        rows = rows[0][rows[0] >= 0]
        return self.chunk_ids[rows].astype(np.int64)


def build_window_files(
    chunks: Sequence[StoredChunk],
    embedder: Embedder,
    previous: WindowIndex | None = None,
    progress: Callable[[str, int], ProgressFn] | None = None,
    ann: AnnConfig | None = None,
) -> tuple[dict[str, bytes], int]:
    """(files by name, windows embedded) for ``chunks``, row i of which becomes chunk id i.

    A chunk with an id of ``previous``'s version (one kept unchanged by an
    incremental build) takes its window vectors from there; the others are
    embedded.
    """
    reuse = previous is not None and previous.size == WINDOW_SENTENCES
    owners: list[int] = []
    vectors: list[np.ndarray | None] = []  # None: to embed
    texts: list[str] = []
    for new_id, chunk in enumerate(chunks):
        if reuse and chunk.id >= 0:
            assert previous is not None
            rows = previous.rows_of(chunk.id)
            old = np.asarray(previous.vectors[rows], dtype=np.float32)
            owners.extend([new_id] * len(old))
            vectors.extend(old)
            continue
        for text in chunk_windows(chunk):
            owners.append(new_id)
            vectors.append(None)
            texts.append(text)
    tick = progress("embedding sentences", len(texts)) if progress and texts else None
    embedded = embedder.embed_passages(texts, progress=tick) if texts else None
    fresh = iter(embedded if embedded is not None else [])
    matrix = (
        np.stack([v if v is not None else next(fresh) for v in vectors]).astype(np.float32)
        if vectors
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    owner_ids = np.asarray(owners, dtype=np.int32)
    return window_files(owner_ids, matrix, embedder.name, embedder.dim, ann), len(texts)


def window_files(
    owners: np.ndarray, vectors: np.ndarray, embedder_name: str, dim: int, ann: AnnConfig | None
) -> dict[str, bytes]:
    """The window files for ``vectors``, row i of which belongs to chunk ``owners[i]`` (ascending)."""
    index, info = build_dense_index(vectors, dim, ann)
    meta = {
        "format": WINDOWS_FORMAT,
        "size": WINDOW_SENTENCES,
        "n": len(owners),
        "embedder": embedder_name,
        "index": info,
    }
    return {
        MANIFEST: json.dumps(meta).encode(),
        "windows.chunks.npy": _npy(np.asarray(owners, dtype=np.int32)),
        "windows.vectors.npy": _npy(np.asarray(vectors, dtype=np.float32)),
        "windows.faiss": faiss.serialize_index(index).tobytes(),
    }
