"""A time limit for one request, checked between the stages of its work.

A thread cannot be stopped from outside, so the server sets a deadline
(:func:`deadline`) around a search or an ask and the work checks it
(:func:`check`) at its stage boundaries: before retrieval, before and after
every call into the embedder, before building results. Past the deadline
:class:`DeadlineExceeded` is raised, the thread stops at that boundary and
the client is answered ``503 timeout``. Outside a request (CLI, ingest)
there is no deadline and :func:`check` costs one context-variable read.

The deadline travels in a :class:`contextvars.ContextVar`, which the
server's thread pool copies into the worker thread that runs the request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.embed_base import ForwardsSentences, Span


class DeadlineExceeded(Exception):
    """The request ran past its time limit; its work stopped at ``stage``."""

    def __init__(self, limit_s: float, stage: str) -> None:
        super().__init__(
            f"the request took longer than {limit_s:g} s and was stopped "
            f"(POLICY_SEARCH_REQUEST_TIMEOUT_S); try again, or with a narrower question"
        )
        self.limit_s = limit_s
        self.stage = stage


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() value
    limit_s: float

    def remaining(self) -> float:
        return self.at - time.monotonic()


_current: ContextVar[Deadline | None] = ContextVar("policy_search_deadline", default=None)


@contextmanager
def deadline(limit_s: float, started: float | None = None) -> Iterator[Deadline]:
    """Work in this context must end ``limit_s`` after ``started`` (default: now)."""
    start = time.monotonic() if started is None else started
    token = _current.set(Deadline(start + limit_s, limit_s))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    return _current.get()


def check(stage: str) -> None:
    """Raise :class:`DeadlineExceeded` if this request's deadline has passed."""
    d = _current.get()
    if d is not None and time.monotonic() >= d.at:
        raise DeadlineExceeded(d.limit_s, stage)


class DeadlineEmbedder(ForwardsSentences):
    """An embedder whose every call is a checkpoint: the expensive stages of a search or
    an ask are calls into the embedder (the question, the sentences of an answer)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens

    def token_count(self, text: str) -> int:
        return int(self.inner.token_count(text))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        check("embed query")
        out = np.asarray(self.inner.embed_queries(texts))
        check("query embedded")
        return out

    def embed_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        check("embed passages")
        out = np.asarray(self.inner.embed_passages(texts, progress=progress))
        check("passages embedded")
        return out

    def embed_passages_and_sentences(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]], progress: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        check("embed passages")
        out = super().embed_passages_and_sentences(texts, sentences, progress)
        check("passages embedded")
        return out
