"""An embedder in its own process, so that its work never waits for the server's GIL.

A small transformer run eagerly by torch spends much of a forward pass in
Python (module calls, op dispatch). In the web server that Python shares one
GIL with every request thread (BM25, FAISS result handling, JSON), so under
concurrent load the embedder thread was starved: at 100k chunks and 16
clients a pass of 8 queries took about twice as long as on an idle process.
In a child process it has a GIL, and so a core, of its own, and the request
thread can score BM25 while its query is embedded.

:class:`ProcessEmbedder` implements the :class:`index.embed.Embedder`
protocol by forwarding each call over a pair of pipes to a child
(``python -m index.embed_process SPEC``) that holds the real embedder
(``make_embedder(spec)``). Requests are JSON, vectors come back as ``.npy``
bytes: nothing is unpickled. Calls are serialised by a lock, as the
embedder itself would serialise them. A child that dies is replaced on the
next call; the call that saw it die fails with a clear error.

The child is started through :func:`ingest.children.spawn` and dies with the
server (parent-death signal, reaped by a watcher): see :mod:`ingest.children`.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from index.embed import ProgressFn, make_embedder
from index.embed_base import Span, gives_sentences, sentences_of
from ingest.children import ServerStopping, die_with_parent, spawn

# Passages are sent in slices of this many texts, so progress is reported as it goes.
PASSAGE_SLICE = 256
_ARRAY, _JSON, _ERROR = b"A", b"J", b"E"


class EmbedderProcessError(RuntimeError):
    """The embedder process failed or died."""


class ProcessEmbedder:
    """``make_embedder(spec)`` in a child process, behind the same protocol."""

    def __init__(self, spec: str, nice: int = 0) -> None:
        self.spec = spec
        # The child's CPU priority: the web server's writes embed at the lowest, so that
        # queries go first (web/tasks.py).
        self.nice = nice
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self.name, self.dim, self.max_tokens, self.gives_sentences = self._call("info")

    # --- the Embedder protocol ---------------------------------------------

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        out: np.ndarray = self._call("queries", list(texts))
        return out

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), PASSAGE_SLICE):
            part = list(texts[start : start + PASSAGE_SLICE])
            parts.append(self._call("passages", part))
            if progress:
                progress(len(part))
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(parts)

    def token_count(self, text: str) -> int:
        return int(self._call("tokens", text))

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        passages, parts = [], []
        for start in range(0, len(texts), PASSAGE_SLICE):
            end = min(start + PASSAGE_SLICE, len(texts))
            arg = {"texts": list(texts[start:end]), "sentences": list(sentences[start:end])}
            # One array back: the passages' rows, then the sentences'.
            rows = self._call("sentences", arg)
            passages.append(rows[: end - start])
            parts.append(rows[end - start :])
            if progress:
                progress(end - start)
        if not passages:
            empty = np.zeros((0, self.dim), dtype=np.float32)
            return empty, empty
        return np.concatenate(passages), np.concatenate(parts)

    # --- the child -----------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _start(self) -> None:
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        # Started under `nice`, so that every thread has the priority (an os.nice() in the
        # child came after its imports had started threads, which kept nice 0).
        niced = ["nice", "-n", str(self.nice)] if self.nice and shutil.which("nice") else []
        try:
            self._proc = spawn(
                [
                    *niced,
                    sys.executable,
                    "-m",
                    "index.embed_process",
                    self.spec,
                    str(down_r),
                    str(up_w),
                ],
                pass_fds=(down_r, up_w),
                stdin=subprocess.DEVNULL,
            )
        except ServerStopping as exc:
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            raise EmbedderProcessError(str(exc)) from exc
        os.close(down_r)
        os.close(up_w)
        self._to_child = Connection(down_w, readable=False)
        self._from_child = Connection(up_r, writable=False)

    def _stop(self) -> None:
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                conn.close()
        self._to_child = self._from_child = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def _call(self, op: str, arg: Any = None) -> Any:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._stop()
                self._start()
            assert self._to_child is not None and self._from_child is not None
            try:
                self._to_child.send_bytes(json.dumps({"op": op, "arg": arg}).encode())
                reply = self._from_child.recv_bytes()
            except (EOFError, OSError) as exc:
                code = self._proc.poll() if self._proc is not None else None
                self._stop()  # the next call starts a fresh child
                raise EmbedderProcessError(
                    f"the embedder process ({self.spec}) died (exit code {code}): {exc!r}"
                ) from exc
        kind, payload = reply[:1], reply[1:]
        if kind == _ARRAY:
            return np.load(io.BytesIO(payload), allow_pickle=False)
        if kind == _JSON:
            return json.loads(payload)
        raise EmbedderProcessError(f"embedder {self.spec}: {payload.decode(errors='replace')}")


def _answer(embedder: Any, op: str, arg: Any) -> bytes:
    value: Any
    if op == "info":
        value = [embedder.name, embedder.dim, embedder.max_tokens, gives_sentences(embedder)]
    elif op == "tokens":
        value = embedder.token_count(arg)
    elif op in ("queries", "passages", "sentences"):
        if op == "sentences":
            sentences = [[(int(a), int(b)) for a, b in spans] for spans in arg["sentences"]]
            vectors = np.concatenate(sentences_of(embedder, arg["texts"], sentences))
        else:
            vectors = (embedder.embed_queries if op == "queries" else embedder.embed_passages)(arg)
        buf = io.BytesIO()
        np.save(buf, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
        return _ARRAY + buf.getvalue()
    else:
        raise ValueError(f"unknown request {op!r}")
    return _JSON + json.dumps(value).encode()


def serve(spec: str, requests: Connection, replies: Connection) -> None:
    """The child's loop: one request at a time, until the parent closes the pipe."""
    die_with_parent()
    try:
        embedder = make_embedder(spec)
    except Exception as exc:  # reported to the parent's first call
        replies.send_bytes(_ERROR + f"cannot load: {type(exc).__name__}: {exc}".encode())
        return
    while True:
        try:
            request = json.loads(requests.recv_bytes())
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            reply = _answer(embedder, request["op"], request.get("arg"))
        except Exception as exc:
            reply = _ERROR + f"{type(exc).__name__}: {exc}".encode()
        replies.send_bytes(reply)


if __name__ == "__main__":
    serve(
        sys.argv[1],
        Connection(int(sys.argv[2]), writable=False),
        Connection(int(sys.argv[3]), readable=False),
    )
