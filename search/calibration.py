"""Confidence of an answer: a logistic model of its evidence, fitted on the development set.

An answer candidate is described by a few :class:`Features`: how it was found
(``family``: an agency's tasks, a plan's focal agency, an assignment, the terms
an agreement states, any other clause, a set of documents),
the dense similarity of the question to its evidence, the share of the
question's content words the evidence contains, whether the question was
English (the embedder's similarities for English questions sit lower), the
margin of the chosen evidence over the next best candidate, the share of
what the question asks about (what is counted, dated, done) found in the
evidence's own clause, and how high retrieval ranked the evidence's passage.
The confidence is ``sigmoid(bias[family] + w · features)``: one model for
every family, with a bias per family, so that a family whose development
answers were all right still gets a confidence that varies with its evidence; a
family with enough right and wrong answers of its own (``MIN_PER_CLASS``) gets
its own slopes.

The weights and the threshold below which ``answer`` is null live in
``search/data/answer_calibration.json``; ``policy-search eval --answers
--calibrate`` refits them on the development questions
(``search/data/answers_dev.json``) and prints the precision/recall trade-off
of each threshold. The held-out questions are never used for fitting.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CALIBRATION_JSON = Path(__file__).parent / "data" / "answer_calibration.json"
FAMILIES = ("tasks", "focal", "agency", "agreement", "clause", "set", "signer")
FEATURE_NAMES = (
    "bias", "sim", "coverage", "english", "english*sim", "margin", "focus", "rank",
    "retrieved", "typed",
)  # fmt: skip
N_WEIGHTS = len(FEATURE_NAMES)
# Right and wrong answers a family needs to be fitted on its own rather than pooled.
MIN_PER_CLASS = 8


@dataclass(frozen=True)
class Features:
    family: str  # tasks | focal | agency | agreement | clause | set | signer
    sim: float  # dense similarity of the question to the evidence
    coverage: float  # share of the question's content words in the evidence
    english: bool
    margin: float = 0.0  # score of the chosen evidence minus the next best candidate's
    focus: float = 1.0  # share of what is asked about in the evidence's own clause
    rank: float = 0.0  # 1 / (1 + rank of the evidence's passage in retrieval); 0: not retrieved
    # 1 when the question's type was read (a figure, date, name …) and the answer carries the
    # span it asks for; 0 for a sentence read for a question of no known type, or a figure
    # question answered without its figure. Families other than "clause" always give 1.
    typed: float = 1.0

    def vector(self) -> np.ndarray:
        en = 1.0 if self.english else 0.0
        # Whether retrieval returned the evidence at all, apart from how high: a clause read
        # from a passage the search never ranked answers a question the search did not match.
        retrieved = 1.0 if self.rank > 0 else 0.0
        return np.array(
            [1.0, self.sim, self.coverage, en, en * self.sim, self.margin, self.focus, self.rank,
             retrieved, self.typed],
            dtype=np.float64,
        )  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    weights: dict[str, tuple[float, ...]]
    threshold: float

    def confidence(self, features: Features) -> float:
        w = np.zeros(N_WEIGHTS)
        given = self.weights.get(features.family, ())
        w[: len(given)] = given[:N_WEIGHTS]  # a file of an older, shorter model reads as such
        z = float(features.vector() @ w)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "features": list(FEATURE_NAMES),
            "weights": {k: [round(x, 4) for x in v] for k, v in self.weights.items()},
        }


def load_calibration(path: Path = CALIBRATION_JSON) -> Calibration:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        weights={k: tuple(float(x) for x in v) for k, v in data["weights"].items()},
        threshold=float(data["threshold"]),
    )


def fit_pooled(
    samples: Sequence[tuple[Features, bool]], l2: float = 0.05, steps: int = 4000
) -> dict[str, tuple[float, ...]]:
    """Logistic regression (L2, full-batch gradient descent) of correctness on the features,
    one model for all families with a bias per family; the weights of each family seen.

    Features are standardised for the fit (similarities differ by hundredths)
    and the weights mapped back to raw features; a feature constant in the
    samples gets weight 0. The family biases are penalised too, toward the
    common bias: a family with few, all-right samples does not get a certainty
    that its evidence cannot back.
    """
    families = sorted({f.family for f, _ in samples})
    x = np.stack([f.vector() for f, _ in samples])[:, 1:]
    y = np.array([1.0 if ok else 0.0 for _, ok in samples])
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    used = sd > 1e-6
    xs = np.zeros_like(x)
    xs[:, used] = (x[:, used] - mu[used]) / sd[used]
    onehot = np.array([[f.family == fam for fam in families] for f, _ in samples], np.float64)
    design = np.hstack([np.ones((len(y), 1)), onehot, xs])
    w = np.zeros(design.shape[1])
    penalty = np.r_[0.0, np.ones(design.shape[1] - 1)] * l2
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        w -= 0.5 * (design.T @ (p - y) / len(y) + penalty * w)
    slopes = np.zeros(N_WEIGHTS - 1)
    slopes[used] = w[1 + len(families) :][used] / sd[used]
    shift = float(np.sum(slopes[used] * mu[used]))
    return {
        fam: (float(w[0] + w[1 + i] - shift), *(float(v) for v in slopes))
        for i, fam in enumerate(families)
    }


def auroc(scores: Sequence[float], right: Sequence[bool]) -> float:
    """Probability that a right answer scores above a wrong one (ties count half); 0.5 when
    one side is empty."""
    pos = [s for s, ok in zip(scores, right, strict=True) if ok]
    neg = [s for s, ok in zip(scores, right, strict=True) if not ok]
    if not pos or not neg:
        return 0.5
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def grouped_cv_confidences(
    samples: Sequence[tuple[Features, bool]],
    groups: Sequence[str],
    l2: float,
    threshold: float = 0.5,
) -> list[float]:
    """Each sample's confidence from a model fitted without its group (a document): what
    the confidence would say on a document nobody fitted it on."""
    out = [0.5] * len(samples)
    for g in dict.fromkeys(groups):
        train = [s for s, h in zip(samples, groups, strict=True) if h != g]
        if not train:
            continue
        model = fit(train, threshold, l2)
        for i, (s, h) in enumerate(zip(samples, groups, strict=True)):
            if h == g:
                out[i] = model.confidence(s[0])
    return out


L2_CHOICES = (0.01, 0.03, 0.1, 0.3, 1.0)


def choose_l2(
    samples: Sequence[tuple[Features, bool]], groups: Sequence[str], folds: int = 5
) -> float:
    """The L2 strength with the lowest cross-validated log loss on ``samples``.

    Folds keep a group together (the three forms of one question), so a form is
    never scored by a model fitted on its own translation.
    """
    fold_of = {g: i % folds for i, g in enumerate(dict.fromkeys(groups))}

    def loss(l2: float) -> float:
        total = 0.0
        for k in range(folds):
            train = [s for s, g in zip(samples, groups, strict=True) if fold_of[g] != k]
            test = [s for s, g in zip(samples, groups, strict=True) if fold_of[g] == k]
            model = fit(train, 0.5, l2)
            for features, right in test:
                p = min(max(model.confidence(features), 1e-6), 1 - 1e-6)
                total -= math.log(p if right else 1 - p)
        return total / max(len(samples), 1)

    return min(L2_CHOICES, key=loss)


def fit(
    samples: Sequence[tuple[Features, bool]], threshold: float, l2: float = 0.05
) -> Calibration:
    weights = fit_pooled(samples, l2) if samples else {}
    # A family with enough right and wrong answers of its own gets its own slopes: an
    # agency's task and a sentence do not share how similarity or coverage speak for them.
    for family in FAMILIES:
        rows = [x for x in samples if x[0].family == family]
        right = sum(ok for _, ok in rows)
        if min(right, len(rows) - right) >= MIN_PER_CLASS:
            weights[family] = fit_pooled(rows, l2)[family]
    return Calibration(weights, threshold)
