"""Diacritic restoration learned from the indexed text itself.

People type "ke hoach tang truong xanh" for "kế hoạch tăng trưởng xanh". The
dense model reads the two very differently, so an unaccented query is restored
before it is embedded. The model is a syllable bigram model over the chunks of
the index: every syllable typed without marks gets the accented forms that
fold to it in the corpus as candidates, and a Viterbi pass picks the most
likely sequence. Words the corpus never saw are left as typed.

Built at ingest time into the version folder as JSON and ``.npy`` files.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

import ingest
from ingest.text import fold, has_diacritics, normalize, tokenize

MANIFEST = "accents.json"
ACCENTS_FORMAT = 1
MAX_CANDIDATES = 12
# Dirichlet smoothing of the bigram towards the unigram: small, as corpora are small.
ALPHA = 2.0
# Question phrasing the collection itself lacks (see the file's header), and how many
# times each phrase counts: enough to outweigh a rare document bigram, not a common one.
QUESTION_PHRASES = Path(ingest.__file__).parent / "data" / "question_phrases.txt"
SEED_WEIGHT = 3
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def build_accent_files(texts: Iterable[str]) -> dict[str, bytes]:
    """Syllable unigram and bigram counts of ``texts``, as files by name."""
    return accent_files(tokenize(text) for text in texts)


def question_phrases() -> list[list[str]]:
    """The tokenised lines of ``QUESTION_PHRASES`` (comments and blank lines skipped)."""
    lines = QUESTION_PHRASES.read_text(encoding="utf-8").splitlines()
    return [tokenize(line) for line in lines if line.strip() and not line.startswith("#")]


def accent_files(token_lists: Iterable[list[str]]) -> dict[str, bytes]:
    """:func:`build_accent_files` from texts already tokenised (:func:`ingest.text.tokenize`),
    with the question phrases added ``SEED_WEIGHT`` times."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for tokens in token_lists:
        unigrams.update(tokens)
        bigrams.update(pairwise(tokens))
    for tokens in question_phrases():
        for _ in range(SEED_WEIGHT):
            unigrams.update(tokens)
            bigrams.update(pairwise(tokens))
    vocab = sorted(unigrams)
    ids = {w: i for i, w in enumerate(vocab)}
    size = max(len(vocab), 1)
    keys = np.array([ids[a] * size + ids[b] for a, b in bigrams], dtype=np.int64)
    counts = np.array(list(bigrams.values()), dtype=np.int32)
    order = np.argsort(keys)
    meta = {"format": ACCENTS_FORMAT, "vocab": vocab, "counted_by": counter_fingerprint()}
    return {
        MANIFEST: json.dumps(meta, ensure_ascii=False).encode(),
        "accents.unigrams.npy": _npy(np.array([unigrams[w] for w in vocab], dtype=np.int32)),
        "accents.bigram_keys.npy": _npy(keys[order]),
        "accents.bigram_counts.npy": _npy(counts[order]),
    }


# The code and data the counts are made by: a re-ingest updates the previous version's
# counts only when these files are byte for byte the same.
_COUNTER_FILES = [Path(__file__), QUESTION_PHRASES, Path(ingest.__file__).parent / "text.py"]


@functools.cache
def counter_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _COUNTER_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def carried_accent_files(
    previous_dir: Path, gone: Iterable[list[str]], added: Iterable[list[str]]
) -> dict[str, bytes] | None:
    """The previous version's counts, less the token lists of the texts that went and
    plus those of the new ones: what :func:`accent_files` would count over the new
    version's texts, without reading the unchanged ones. None when the previous
    counts were made by other code."""
    try:
        meta = json.loads((previous_dir / MANIFEST).read_text())
        if meta.get("format") != ACCENTS_FORMAT or meta.get("counted_by") != counter_fingerprint():
            return None
        old_vocab: list[str] = meta["vocab"]
        old_unigrams, old_keys, old_counts = (
            np.load(previous_dir / f"accents.{n}.npy", allow_pickle=False)
            for n in ("unigrams", "bigram_keys", "bigram_counts")
        )
    except (OSError, ValueError, KeyError):
        return None
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for sign, lists in ((-1, gone), (1, added)):
        for tokens in lists:
            for t in tokens:
                unigrams[t] += sign
            for pair in pairwise(tokens):
                bigrams[pair] += sign
    vocab = sorted(set(old_vocab) | set(unigrams))
    ids = {w: i for i, w in enumerate(vocab)}
    moved = np.array([ids[w] for w in old_vocab], dtype=np.int64)
    counts = np.zeros(len(vocab), dtype=np.int64)
    counts[moved] += old_unigrams
    for w, c in unigrams.items():
        counts[ids[w]] += c
    old_size, size = max(len(old_vocab), 1), max(len(vocab), 1)
    keys = np.concatenate(
        [
            moved[old_keys // old_size] * size + moved[old_keys % old_size],
            np.array([ids[a] * size + ids[b] for a, b in bigrams], dtype=np.int64),
        ]
    )
    deltas = np.concatenate([old_counts.astype(np.int64), np.fromiter(bigrams.values(), np.int64)])
    keys, at = np.unique(keys, return_inverse=True)
    summed = np.bincount(at, weights=deltas, minlength=len(keys)).round().astype(np.int64)
    # Words and pairs no text holds any more go, as a count from scratch never sees them.
    kept = counts > 0
    renumber = np.cumsum(kept) - 1
    a, b = keys // size, keys % size
    live = summed > 0
    new_size = max(int(kept.sum()), 1)
    keys = renumber[a[live]] * new_size + renumber[b[live]]
    order = np.argsort(keys)
    out = {
        "format": ACCENTS_FORMAT,
        "vocab": [w for w, k in zip(vocab, kept, strict=True) if k],
        "counted_by": counter_fingerprint(),
    }
    return {
        MANIFEST: json.dumps(out, ensure_ascii=False).encode(),
        "accents.unigrams.npy": _npy(counts[kept].astype(np.int32)),
        "accents.bigram_keys.npy": _npy(keys[order].astype(np.int64)),
        "accents.bigram_counts.npy": _npy(summed[live][order].astype(np.int32)),
    }


class AccentModel:
    """Restores diacritics of unaccented Vietnamese with a corpus bigram model."""

    def __init__(
        self, vocab: Sequence[str], unigrams: np.ndarray, keys: np.ndarray, counts: np.ndarray
    ) -> None:
        self.vocab = list(vocab)
        self.unigrams = np.asarray(unigrams, dtype=np.float64)
        self.keys = np.asarray(keys, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.float64)
        self.size = max(len(self.vocab), 1)
        self.total = float(self.unigrams.sum()) or 1.0
        by_fold: dict[str, list[int]] = {}
        for i, w in enumerate(self.vocab):
            by_fold.setdefault(fold(w), []).append(i)
        self.candidates = {
            f: sorted(ids, key=lambda i: -self.unigrams[i])[:MAX_CANDIDATES]
            for f, ids in by_fold.items()
        }
        self.ids = {w: i for i, w in enumerate(self.vocab)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> AccentModel:
        return cls.from_files(build_accent_files(texts))

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> AccentModel:
        meta = json.loads(files[MANIFEST])

        def arr(name: str) -> np.ndarray:
            return np.load(io.BytesIO(files[name]), allow_pickle=False)

        return cls(
            meta["vocab"],
            arr("accents.unigrams.npy"),
            arr("accents.bigram_keys.npy"),
            arr("accents.bigram_counts.npy"),
        )

    @classmethod
    def load(cls, version_dir: Path) -> AccentModel | None:
        """The model saved in ``version_dir``; ``None`` when the version predates it."""
        path = version_dir / MANIFEST
        if not path.exists():
            return None
        meta = json.loads(path.read_text())
        if meta.get("format") != ACCENTS_FORMAT:
            return None
        return cls(
            meta["vocab"],
            *(
                np.load(version_dir / n, allow_pickle=False)
                for n in (
                    "accents.unigrams.npy",
                    "accents.bigram_keys.npy",
                    "accents.bigram_counts.npy",
                )
            ),
        )

    def _bigram(self, prev: list[int], cur: list[int]) -> np.ndarray:
        """count(a, b) for every a in ``prev`` and b in ``cur``, shape (len(prev), len(cur))."""
        want = np.asarray(prev, np.int64)[:, None] * self.size + np.asarray(cur, np.int64)[None, :]
        if not len(self.keys):
            return np.zeros(want.shape)
        pos = np.searchsorted(self.keys, want).clip(max=len(self.keys) - 1)
        return np.where(self.keys[pos] == want, self.counts[pos], 0.0)

    def restore_tokens(self, tokens: Sequence[str]) -> list[str]:
        """Most likely accented form of each lower-case token; unknown or accented ones kept."""
        if not tokens:
            return []
        # -1 stands for "keep the token as typed"; it has no bigram statistics.
        lattice: list[list[int]] = []
        for t in tokens:
            if has_diacritics(t) and t in self.ids:
                lattice.append([self.ids[t]])
            elif has_diacritics(t):
                lattice.append([-1])
            else:
                lattice.append(self.candidates.get(t, [-1]))

        def unigram_logp(ids: list[int]) -> np.ndarray:
            return np.array(
                [math.log((self.unigrams[i] + 0.5) / self.total) if i >= 0 else 0.0 for i in ids]
            )

        score = unigram_logp(lattice[0])
        back: list[np.ndarray] = []
        for prev, cur in pairwise(lattice):
            p_uni = np.array(
                [(self.unigrams[i] + 0.5) / self.total if i >= 0 else 1.0 for i in cur]
            )
            if prev[0] < 0 or cur[0] < 0:
                trans = np.log(np.broadcast_to(p_uni, (len(prev), len(cur))))
            else:
                c_prev = np.array([self.unigrams[i] for i in prev])[:, None]
                trans = np.log(
                    (self._bigram(prev, cur) + ALPHA * p_uni[None, :]) / (c_prev + ALPHA)
                )
            total = score[:, None] + trans
            back.append(total.argmax(axis=0))
            score = total.max(axis=0)
        best = [int(score.argmax())]
        for pointers in reversed(back):
            best.append(int(pointers[best[-1]]))
        best.reverse()
        return [
            self.vocab[lattice[i][j]] if lattice[i][j] >= 0 else tokens[i]
            for i, j in enumerate(best)
        ]

    def restore(self, text: str) -> str:
        """``text`` with the diacritics of its unaccented Vietnamese words restored.

        Punctuation, spacing and capitals are kept; only the words change.
        """
        text = normalize(text)
        words = list(_WORD.finditer(text))
        restored = self.restore_tokens([m.group(0).lower() for m in words])
        out, last = [], 0
        for m, new in zip(words, restored, strict=True):
            word = m.group(0)
            if word.isupper() and len(word) > 1:
                new = new.upper()
            elif word[:1].isupper():
                new = new[:1].upper() + new[1:]
            out.append(text[last : m.start()])
            out.append(new)
            last = m.end()
        out.append(text[last:])
        return "".join(out)
