"""Dense index factory: exact search for small indexes, an 8-bit ANN index above a threshold.

:func:`build_dense_index` is the one entry point. Below ``AnnConfig.exact_below``
vectors it builds an exact ``IndexFlatIP``. Above it, one of :data:`KINDS`:

``auto`` (the default) takes ``hnsw-sq8`` below ``AnnConfig.compact_above``
vectors and ``ivf-pq`` from there (:meth:`AnnConfig.kind_for`).

* ``hnsw-sq8``: an HNSW graph over 8-bit scalar-quantised vectors.
  A quarter of float32 for the vectors plus ~256 B of links a vector (about
  640 MB at a million 384-d vectors), well under a millisecond a query.
* ``ivf-sq8``: inverted lists of 8-bit residual codes, memory-mapped at load.
  On e5 vectors (a narrow cone, flat neighbourhoods) it must scan many lists
  to reach the recall target: measured ~10x slower than HNSW at a million
  synthetic vectors (``bench/bench_recall.py`` compares them all).
* ``ivf-pq``: inverted lists of 4-bit product codes (``dim / 4`` bytes, 96 B
  for e5-small) scanned with FAISS's SIMD "fast scan", whose candidates are
  re-scored exactly from the stored float32 vectors (memory-mapped
  ``vectors.npy``): the smallest in memory, the one that fits a million chunks
  and their sentence windows in a 2 GiB server. Measured at a million
  synthetic e5-st vectors (``bench/bench_recall.py``): recall@10 0.998 on
  held-out vectors and 0.939 for real questions (the stress case where
  ``hnsw-sq8`` reached 0.59) at 4.5 ms a search.

The search effort (HNSW ``efSearch``, IVF ``nprobe``) is not guessed: the
build measures recall@10 against exact search on a sample of the indexed
vectors and keeps the cheapest effort reaching ``AnnConfig.target_recall``.
The measurement goes into the manifest (``dense_index``), so the recall cost
of every version is on record, and the build report prints it.
"""

from __future__ import annotations

import logging
import math
import mmap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

RECALL_K = 10
IP = faiss.METRIC_INNER_PRODUCT
# k-means sees at most this many points per list: enough for stable centroids
# (FAISS warns below 39), and it bounds training time at a million vectors.
TRAIN_POINTS_PER_LIST = 48
KMEANS_ITERATIONS = 12
# Candidates an ``ivf-pq`` search re-scores exactly, at least (or 4k when larger): at a
# million vectors 1000 lifted real-question recall@10 from 0.67 (100) to 0.95 for ~0.4 ms.
REFINE_POOL = 1000
# Sampled rows read from a mapped file between two page releases. The kernel maps the
# cached pages around each row read (large page-cache folios on ext4: about 0.5 MB a
# scattered row measured), so a few hundred scattered rows map hundreds of MB.
SAMPLE_BLOCK = 128
# Calibration queries searched between two page releases: a refining index reads its
# candidates' rows from the mapped file, and the kernel maps the cached pages around each
# (fault-around), so even 50 queries' candidates mapped the whole file (0.45 GB at 300k rows).
CALIBRATE_BLOCK = 1
# Rows of a mapped file scanned at a time by the exact search of calibration (37 MB).
EXACT_BLOCK = 25_000


@dataclass(frozen=True)
class AnnConfig:
    """How the dense index is chosen; built from :class:`policy_search.settings.Settings`."""

    exact_below: int = 50_000
    target_recall: float = 0.95
    recall_sample: int = 500
    effort_headroom: float = 4.0
    kind: str = "auto"
    compact_above: int = 500_000
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Any) -> AnnConfig:
        return cls(
            exact_below=settings.ann_exact_below,
            target_recall=settings.ann_target_recall,
            recall_sample=settings.ann_recall_sample,
            effort_headroom=settings.ann_effort_headroom,
            kind=settings.ann_index,
            compact_above=settings.ann_compact_above,
        )

    def kind_for(self, n: int) -> str:
        """The index type for ``n`` vectors: ``flat-ip`` below ``exact_below``, else by kind.

        ``auto``: the HNSW graph while it is small (fastest queries), the
        compact ``ivf-pq`` from ``compact_above`` vectors, where the graph's
        ~640 B a vector would no longer fit a 2 GiB server (a million chunks
        plus their 2.7 million sentence windows).
        """
        if n < self.exact_below:
            return "flat-ip"
        if self.kind != "auto":
            return self.kind
        return "ivf-pq" if n >= self.compact_above else "hnsw-sq8"


def choose_nlist(n: int) -> int:
    """About 2·√n lists, a power of two: ~500 vectors a list at 100k, ~500 at 1M."""
    return int(min(65_536, max(16, 2 ** round(math.log2(2 * math.sqrt(max(n, 1)))))))


def _sample_ids(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(n, size), replace=False))


def _sample_rows(vectors: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``vectors[ids]`` as a float32 copy, read :data:`SAMPLE_BLOCK` rows at a time with the
    mapped pages given back after each: scattered rows of a memory-mapped file map nearly
    all of it, which would otherwise be resident at once on top of the sample (the 100k-row
    training sample of 300k sentence windows: 611 MB above the start, 1,063 MB at 600k;
    now about 180 MB at both)."""
    rows = np.empty((len(ids), *vectors.shape[1:]), dtype=np.float32)
    for start in range(0, len(ids), SAMPLE_BLOCK):
        rows[start : start + SAMPLE_BLOCK] = vectors[ids[start : start + SAMPLE_BLOCK]]
        release_pages(vectors)
    return rows


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ids of the exact top-``k`` inner-product neighbours (blocked BLAS, no copy of ``vectors``)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    # Block by block, merged in a heap: memory-mapped rows are read once and given back.
    heap = faiss.ResultHeap(len(queries), k, keep_max=True)
    for start in range(0, len(vectors), EXACT_BLOCK):
        block = np.ascontiguousarray(vectors[start : start + EXACT_BLOCK], dtype=np.float32)
        scores, ids = faiss.knn(queries, block, min(k, len(block)), metric=IP)
        heap.add_result(scores, np.where(ids >= 0, ids + start, -1))
        release_pages(vectors)
    heap.finalize()
    return heap.I


def recall_at_k(exact: np.ndarray, approx: np.ndarray, k: int, skip: np.ndarray | None) -> float:
    """Share of the exact top-``k`` found in the approximate top-``k``.

    ``skip[i]`` is the id of query ``i`` itself when queries are indexed
    vectors: finding yourself is trivially easy and would flatter the index,
    so it is left out of both lists (which therefore hold ``k + 1`` ids).
    """
    found = 0
    for i in range(len(exact)):
        drop = -1 if skip is None else int(skip[i])
        e = [int(x) for x in exact[i] if x != drop and x >= 0][:k]
        top_a = [int(x) for x in approx[i] if x != drop and x >= 0][:k]
        found += len(set(e) & set(top_a))
    return found / max(1, k * len(exact))


class AnnKind(Protocol):
    """One approximate index type: how to build it and its one search-effort knob."""

    name: str
    knob: str  # the FAISS search parameter calibrated at build time
    memory_mappable: bool
    refines: bool  # candidates re-scored from the stored float vectors (RefinedIndex)

    def build(self, vectors: np.ndarray, seed: int) -> tuple[faiss.Index, dict[str, Any]]: ...

    def levels(self, index: faiss.Index) -> list[int]:
        """Increasing search effort to try, cheapest first."""
        ...

    def set_level(self, index: faiss.Index, level: int) -> None: ...


def _geometric(lo: int, hi: int) -> list[int]:
    """lo, ~1.5x, 2x, ... up to hi: fine enough to not overshoot the cost much."""
    out, x = [], lo
    while x < hi:
        out.append(x)
        x = max(x + 1, round(x * 1.5))
    return [*out, hi]


def release_pages(array_: np.ndarray) -> None:
    """Give back the pages of a memory-mapped array read so far: they stay in the page
    cache, but no longer count in the process's resident memory, so that reading a
    version's files through does not grow an ingest with the collection."""
    seen: Any = array_
    while seen is not None:
        mapped = getattr(seen, "_mmap", None)
        if mapped is not None:
            if hasattr(mmap, "MADV_DONTNEED"):
                mapped.madvise(mmap.MADV_DONTNEED)
            return
        seen = getattr(seen, "base", None)


def _add_in_blocks(index: faiss.Index, vectors: np.ndarray) -> None:
    # Adding in blocks keeps the float32 working copy small at a million rows.
    for start in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[start : start + 100_000], dtype=np.float32))
        release_pages(vectors)


class HnswSq8:
    """HNSW graph over 8-bit codes: ~640 bytes a vector at M=32, sub-millisecond queries.

    Robust when neighbourhoods are flat (many near-equal neighbours, as in a
    narrow cone of e5 vectors), where IVF must scan many lists.
    """

    name = "hnsw-sq8"
    knob = "efSearch"
    memory_mappable = False
    refines = False
    M = 32
    ef_construction = 40

    def build(self, vectors: np.ndarray, seed: int) -> tuple[faiss.Index, dict[str, Any]]:
        n, dim = vectors.shape
        qtype: Any = faiss.ScalarQuantizer.QT_8bit  # the stubs mistype this enum
        index = faiss.IndexHNSWSQ(dim, qtype, self.M, IP)
        index.hnsw.efConstruction = self.ef_construction
        index.train(_sample_rows(vectors, _sample_ids(n, 100_000, seed)))
        _add_in_blocks(index, vectors)
        graph_bytes = 2 * self.M * 4  # level-0 links dominate
        return index, {
            "M": self.M,
            "efConstruction": self.ef_construction,
            "bytes_per_vector": dim + graph_bytes,
        }

    def levels(self, index: faiss.Index) -> list[int]:
        return _geometric(RECALL_K + 1, 1024)

    def set_level(self, index: faiss.Index, level: int) -> None:
        hnsw: Any = faiss.downcast_index(index)
        hnsw.hnsw.efSearch = level


class _Ivf:
    """What the inverted-list kinds share: k-means lists trained on a sample, effort = nprobe."""

    knob = "nprobe"

    def _fill(self, index: faiss.Index, vectors: np.ndarray, seed: int) -> int:
        """Train ``index``'s lists (and codes) on a sample of ``vectors``, add them all."""
        n = len(vectors)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter = KMEANS_ITERATIONS
        ivf.cp.seed = seed
        ivf.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST
        # At least 4096 points: product codes train 16 centroids a sub-quantiser on them too.
        index.train(
            _sample_rows(
                vectors, _sample_ids(n, max(ivf.nlist * TRAIN_POINTS_PER_LIST, 4096), seed)
            )
        )
        _add_in_blocks(index, vectors)
        return int(ivf.nlist)

    def levels(self, index: faiss.Index) -> list[int]:
        return _geometric(1, faiss.extract_index_ivf(index).nlist)

    def set_level(self, index: faiss.Index, level: int) -> None:
        faiss.extract_index_ivf(index).nprobe = level


class IvfSq8(_Ivf):
    """Inverted lists of 8-bit residual codes: ``dim`` bytes a vector, memory-mappable."""

    name = "ivf-sq8"
    memory_mappable = True
    refines = False

    def build(self, vectors: np.ndarray, seed: int) -> tuple[faiss.Index, dict[str, Any]]:
        n, dim = vectors.shape
        qtype: Any = faiss.ScalarQuantizer.QT_8bit  # the stubs mistype this enum
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim), dim, choose_nlist(n), qtype, IP
        )
        nlist = self._fill(index, vectors, seed)
        return index, {"nlist": nlist, "bytes_per_vector": dim + 8}


class IvfPq(_Ivf):
    """Inverted lists of 4-bit product codes, scanned in SIMD registers, re-scored exactly.

    ``dim / 2`` sub-quantisers of 16 centroids each (two dimensions a code):
    ``dim / 4`` bytes of codes plus an 8-byte id a vector, held in memory
    (fast-scan lists cannot be memory-mapped). The codes only propose
    candidates; :class:`RefinedIndex` scores them from the float32 vectors the
    version stores anyway.
    """

    name = "ivf-pq"
    memory_mappable = False
    refines = True

    def build(self, vectors: np.ndarray, seed: int) -> tuple[faiss.Index, dict[str, Any]]:
        n, dim = vectors.shape
        if dim % 2:
            raise ValueError(f"ivf-pq needs an even dimension (two per 4-bit code), got {dim}")
        codes = f"PQ{dim // 2}x4fs"
        index = faiss.index_factory(dim, f"IVF{choose_nlist(n)},{codes}", IP)
        nlist = self._fill(index, vectors, seed)
        return index, {
            "nlist": nlist,
            "codes": codes,
            "refine_pool": REFINE_POOL,
            "bytes_per_vector": dim // 4 + 8,
        }


KINDS: dict[str, AnnKind] = {k.name: k for k in (HnswSq8(), IvfSq8(), IvfPq())}


class RefinedIndex:
    """An approximate index whose candidates are re-scored exactly from stored vectors.

    Searches like a FAISS index (``search``, ``ntotal``, ``d``). ``vectors`` is
    usually the version's memory-mapped ``.npy``: a query reads only its
    candidates' rows, in ascending order.
    """

    def __init__(self, index: faiss.Index, vectors: np.ndarray, pool: int = REFINE_POOL) -> None:
        if len(vectors) != index.ntotal:
            raise ValueError(f"{index.ntotal} vectors indexed but {len(vectors)} stored")
        self.index = index
        self.vectors = vectors
        self.pool = pool

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def d(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.d)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if k <= 0 or not len(queries):
            return scores, ids
        _, candidates = self.index.search(queries, min(self.ntotal, max(self.pool, 4 * k)))
        for i, query in enumerate(queries):
            rows = np.unique(candidates[i][candidates[i] >= 0])
            exact = np.asarray(self.vectors[rows], dtype=np.float32) @ query
            top = np.lexsort((rows, -exact))[:k]
            scores[i, : len(top)] = exact[top]
            ids[i, : len(top)] = rows[top]
        return scores, ids


class LabelledIndex:
    """An approximate index carried over from an earlier version: FAISS label -> row.

    A re-ingest that changes a few documents keeps the previous version's graph or
    lists instead of building them again (minutes at a few hundred thousand vectors):
    the rows of documents that went stay in it as labels mapped to -1, skipped here,
    and the new rows are added at the end. Searches like a FAISS index (``search``,
    ``ntotal`` = rows served, ``d``) and answers with rows of the version's vectors.
    """

    def __init__(self, index: Any, rows: np.ndarray) -> None:
        self.index = index
        self.rows = np.asarray(rows, dtype=np.int64)
        if len(self.rows) != index.ntotal:
            raise ValueError(f"{index.ntotal} vectors indexed but {len(self.rows)} labels")
        self.live = int(np.count_nonzero(self.rows >= 0))

    @property
    def ntotal(self) -> int:
        return self.live

    @property
    def d(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.d)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        total = int(self.index.ntotal)
        if k <= 0 or not len(queries) or not total:
            return scores, ids
        # Gone rows cluster where a document changed (its old and new passages sit
        # together), so one fixed margin is not enough: widen until k rows are found.
        fetch = min(total, k + (k * (total - self.live)) // max(self.live, 1) + 16)
        while True:
            found_scores, labels = self.index.search(queries, fetch)
            rows = np.where(labels >= 0, self.rows[np.maximum(labels, 0)], -1)
            short = False
            for i in range(len(queries)):
                keep = rows[i] >= 0
                n = min(k, int(np.count_nonzero(keep)))
                ids[i, :n] = rows[i][keep][:n]
                scores[i, :n] = found_scores[i][keep][:n]
                short = short or n < min(k, self.live)
            if not short or fetch >= total:
                return scores, ids
            fetch = min(total, fetch * 4)


def as_served(
    kind: AnnKind, index: faiss.Index, vectors: np.ndarray, pool: int = REFINE_POOL
) -> Any:
    """``index`` as search uses it: wrapped for exact re-scoring when ``kind`` refines."""
    return RefinedIndex(index, vectors, pool) if kind.refines else index


def inner_index(index: Any) -> faiss.Index:
    """The FAISS index itself (whose effort knob is set), behind any wrapper."""
    while isinstance(index, RefinedIndex | LabelledIndex):
        index = index.index
    return index


def calibrate(
    kind: AnnKind, index: faiss.Index | RefinedIndex, vectors: np.ndarray, config: AnnConfig
) -> dict[str, Any]:
    """Search effort for the recall target, measured on a sample of the indexed vectors.

    Finds the cheapest effort whose recall@10 reaches the target, then serves
    ``effort_headroom`` times that: real queries ("query: " embeddings) sit
    farther from the passages than passages from each other, and lose recall
    at an effort that is just enough for the sample (bench/bench_recall.py
    shows the gap). The extra effort costs well under a millisecond a query
    next to the 10-50 ms of embedding it.
    """
    sample = _sample_ids(len(vectors), config.recall_sample, config.seed + 1)
    queries = _sample_rows(vectors, sample)
    exact = exact_neighbours(vectors, queries, RECALL_K + 1)

    def measure(level: int) -> float:
        kind.set_level(inner_index(index), level)
        approx = []
        # A refining index reads its candidates' rows from the mapped file: their pages
        # given back query by query, so the sample does not map the whole file.
        for start in range(0, len(queries), CALIBRATE_BLOCK):
            approx.append(index.search(queries[start : start + CALIBRATE_BLOCK], RECALL_K + 1)[1])
            release_pages(vectors)
        return recall_at_k(exact, np.concatenate(approx), RECALL_K, sample)

    levels = kind.levels(inner_index(index))
    curve: list[tuple[int, float]] = []
    for level in levels:
        curve.append((level, round(measure(level), 4)))
        if curve[-1][1] >= config.target_recall:
            break
    reached = [c for c in curve if c[1] >= config.target_recall]
    # The target may be out of reach (8-bit codes are not exact): keep the best seen.
    at_target, recall_at_target = reached[0] if reached else max(curve, key=lambda c: c[1])
    served = min(levels[-1], math.ceil(at_target * config.effort_headroom))
    recall = measure(served) if served != at_target else recall_at_target
    kind.set_level(inner_index(index), served)
    return {
        kind.knob: served,
        "recall_at_10": round(recall, 4),
        "effort_at_target": at_target,
        "recall_at_target_effort": recall_at_target,
        "effort_headroom": config.effort_headroom,
        "recall_curve": curve,
    }


def build_dense_index(
    vectors: np.ndarray, dim: int, config: AnnConfig | None = None
) -> tuple[faiss.Index, dict[str, Any]]:
    """The dense index for ``vectors`` and a description of it for the manifest."""
    config = config or AnnConfig()
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    started = time.perf_counter()
    chosen = config.kind_for(n)
    if chosen == "flat-ip":
        flat = faiss.IndexFlatIP(dim)
        _add_in_blocks(flat, vectors)
        return flat, {"type": "flat-ip", "exact": True, "recall_at_10": 1.0}
    kind = KINDS[chosen]
    index, params = kind.build(vectors, config.seed)
    built = time.perf_counter() - started
    # Calibrated as served: with the exact re-scoring for a kind that refines.
    tuned = calibrate(kind, as_served(kind, index, vectors), vectors, config)
    release_pages(vectors)
    recall = tuned["recall_at_10"]
    info: dict[str, Any] = {
        "type": kind.name,
        "exact": False,
        **params,
        "search_param": kind.knob,
        **tuned,
        "recall_target": config.target_recall,
        "recall_sample": int(min(n, config.recall_sample)),
        "recall_method": "sampled indexed vectors as queries, self-match excluded",
        "build_seconds": round(built, 2),
        "calibrate_seconds": round(time.perf_counter() - started - built, 2),
    }
    msg = f"{n} vectors: " + describe(info)
    if recall < config.target_recall:
        log.warning("%s: below the target at every effort tried", msg)
    else:
        log.info(msg)
    return index, info


def describe(info: dict[str, Any] | None) -> str:
    """One line for build reports: the index type and its measured recall cost."""
    if not info or info.get("exact", True):
        return f"dense index: {(info or {}).get('type', 'flat-ip')} (exact)"
    knob = info["search_param"]
    return (
        f"dense index: {info['type']} ({knob} {info[knob]}), recall@10 "
        f"{info['recall_at_10']:.3f} vs exact on {info['recall_sample']} sampled vectors "
        f"(target {info['recall_target']})"
    )


def load_dense_index(
    path: Path, info: dict[str, Any] | None, vectors: np.ndarray | None = None, mmap: bool = True
) -> Any:
    """Read a saved index with its calibrated search effort: a FAISS index or a :class:`RefinedIndex`.

    IVF-SQ8 lists are memory-mapped: the codes stay in the page cache, shared
    by the web replicas on one host and not counted in each process's private
    memory. ``vectors`` (the stored float32 rows) are needed by a kind that
    re-scores its candidates.
    """
    info = info or {}
    if info.get("exact", True):
        return faiss.read_index(str(path))
    kind = KINDS[info["type"]]
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and kind.memory_mappable else 0
    index: Any = faiss.read_index(str(path), flags)
    kind.set_level(index, int(info[info["search_param"]]))
    if info.get("labels"):
        index = LabelledIndex(index, np.load(labels_path(path), allow_pickle=False))
    if not kind.refines:
        return index
    if vectors is None:
        raise ValueError(f"{path}: an {kind.name} index needs the stored vectors to re-score")
    return RefinedIndex(index, vectors, int(info.get("refine_pool", REFINE_POOL)))


# Share of a carried index's labels that may be rows gone before it is built anew: gone
# rows cost every search a wider fetch and keep the graph's memory.
MAX_GONE = 0.2


def labels_path(index_path: Path) -> Path:
    """Where an index's labels are kept: ``dense.faiss`` -> ``dense.labels.npy``."""
    return index_path.with_name(index_path.stem + ".labels.npy")


def carry_dense_index(
    previous: Path,
    info: dict[str, Any] | None,
    moved: np.ndarray,
    vectors: np.ndarray,
    config: AnnConfig | None = None,
) -> tuple[faiss.Index, dict[str, Any], np.ndarray] | None:
    """The previous version's approximate index brought to a new version's rows, instead
    of built again: (index, its description, label -> row); None when it must be built.

    ``moved[r]``: the new row of the previous version's row ``r``, or -1 where it went;
    ``vectors``: the new version's rows (memory-mapped). Rows no previous row moved to
    are added. Built anew when the index is exact (cheap to build), when the new size
    calls for another kind or the recall settings changed, or when more than
    :data:`MAX_GONE` of its labels would be gone rows. The search effort stays the one
    calibrated when the index was built; ``labels`` in the description counts what
    changed since.
    """
    config = config or AnnConfig()
    info = info or {}
    if (
        info.get("exact", True)
        or info.get("type") not in KINDS
        or config.kind_for(len(vectors)) != info["type"]
        or info.get("recall_target") != config.target_recall
        or info.get("effort_headroom") != config.effort_headroom
    ):
        return None
    try:
        index = faiss.read_index(str(previous))
        old_rows = (
            np.load(labels_path(previous), allow_pickle=False)
            if info.get("labels")
            else np.arange(index.ntotal, dtype=np.int64)
        )
    except (OSError, RuntimeError, ValueError):
        return None  # unreadable: build it
    if len(old_rows) != index.ntotal or (len(old_rows) and old_rows.max() >= len(moved)):
        return None
    labels = np.where(old_rows >= 0, moved[np.maximum(old_rows, 0)], -1).astype(np.int64)
    carried = np.zeros(len(vectors), dtype=bool)
    carried[labels[labels >= 0]] = True
    added = np.flatnonzero(~carried)
    total = len(labels) + len(added)
    gone = total - len(vectors)
    if gone > MAX_GONE * total:
        return None
    for start in range(0, len(added), 10_000):
        block = added[start : start + 10_000]
        index.add(np.ascontiguousarray(vectors[block], dtype=np.float32))
    kind = KINDS[info["type"]]
    kind.set_level(index, int(info[info["search_param"]]))
    before = info.get("labels") or {}
    described = {
        **info,
        "labels": {
            "gone": int(gone),
            "added_since_build": int(before.get("added_since_build", 0)) + len(added),
        },
    }
    return index, described, np.concatenate([labels, added])
