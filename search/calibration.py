"""Confidence of an answer: a logistic model of its evidence, fitted on the development set.

An answer candidate is described by a few :class:`Features`: how it was found
(``family``: an agency's tasks, a plan's focal agency, an assignment, the terms
an agreement states, any other clause, a set of documents),
the dense similarity of the question to its evidence, the share of the
question's content words the evidence contains, and whether the question was
English (the embedder's similarities for English questions sit lower). The
confidence is ``sigmoid(bias + w_sim*sim + w_cov*coverage + w_en*english +
w_en_sim*english*sim)`` with weights per family, i.e. an estimate of the
probability that the answer is right.

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
FAMILIES = ("tasks", "focal", "agency", "agreement", "clause", "set")
# bias, sim, coverage, english, english * sim
N_WEIGHTS = 5


@dataclass(frozen=True)
class Features:
    family: str  # tasks | focal | agency | agreement | clause | set
    sim: float  # dense similarity of the question to the evidence
    coverage: float  # share of the question's content words in the evidence
    english: bool

    def vector(self) -> np.ndarray:
        en = 1.0 if self.english else 0.0
        return np.array([1.0, self.sim, self.coverage, en, en * self.sim], dtype=np.float64)


@dataclass(frozen=True)
class Calibration:
    weights: dict[str, tuple[float, ...]]
    threshold: float

    def confidence(self, features: Features) -> float:
        w = np.asarray(self.weights.get(features.family, (0.0,) * N_WEIGHTS), dtype=np.float64)
        z = float(features.vector() @ w)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "features": ["bias", "sim", "coverage", "english", "english*sim"],
            "weights": {k: [round(x, 4) for x in v] for k, v in self.weights.items()},
        }


def load_calibration(path: Path = CALIBRATION_JSON) -> Calibration:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        weights={k: tuple(float(x) for x in v) for k, v in data["weights"].items()},
        threshold=float(data["threshold"]),
    )


def fit_family(
    samples: Sequence[tuple[Features, bool]], l2: float = 0.05, steps: int = 4000
) -> tuple[float, ...]:
    """Logistic regression (L2, full-batch gradient descent) of correctness on the features.

    Features are standardised for the fit (similarities differ by hundredths)
    and the weights mapped back to raw features; a feature constant in the
    samples gets weight 0.
    """
    x = np.stack([f.vector() for f, _ in samples])
    y = np.array([1.0 if ok else 0.0 for _, ok in samples])
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    used = sd > 1e-6
    used[0] = False
    xs = np.ones_like(x)
    xs[:, used] = (x[:, used] - mu[used]) / sd[used]
    xs[:, ~used] = 0.0
    xs[:, 0] = 1.0
    w = np.zeros(N_WEIGHTS)
    penalty = np.r_[0.0, np.ones(N_WEIGHTS - 1)] * l2
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xs @ w)))
        w -= 0.5 * (xs.T @ (p - y) / len(y) + penalty * w)
    raw = np.zeros(N_WEIGHTS)
    raw[used] = w[used] / sd[used]
    raw[0] = w[0] - float(np.sum(w[used] * mu[used] / sd[used]))
    return tuple(float(v) for v in raw)


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
    weights: dict[str, tuple[float, ...]] = {}
    for family in FAMILIES:
        rows = [s for s in samples if s[0].family == family]
        if rows:
            weights[family] = fit_family(rows, l2)
    return Calibration(weights, threshold)
