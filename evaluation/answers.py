"""`policy-search eval --answers`: is the answer card right, and are its citations honest?

Two built-in answer sets over ``corpus/``, each question asked in
Vietnamese, without diacritics and in English:

* ``dev`` (``search/data/answers_dev.json``): full questions; the confidence
  model and its threshold are fitted here (``--calibrate``);
* ``heldout`` (``search/data/answers_heldout.json``): other questions in the
  way officials type them (short, no question mark, usually unaccented),
  never used for fitting or tuning.

An answer is **right** when it contains every gold fact (compared without
diacritics or case), every fact sits in a passage the answer cites, and every
cited line is stated by the passage it cites (a quoted task or sentence is in
it; a named agency is in it or heads its section). For "what must agency X
do", every line given as X's own must cite a passage under X's own heading (or
one that names X as the doer outside any agency's section): a task of another
agency that names X is never X's own. Off-topic and unanswerable questions
are right when the answer is null.

The printed table gives accuracy per gold type and form, answered precision,
the share of off-topic questions left unanswered and the no-answer precision
(of the null answers, the share that should be null), and for the dev set the
precision/recall of each confidence threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluation import SEARCH_DATA
from evaluation.retrieval import _plain, corpus_index, corpus_index_dir
from index.embed import make_embedder
from search.answer import Answer, Answerer, AskResult, Passage
from search.calibration import CALIBRATION_JSON, Calibration, Features, choose_l2, fit
from search.engine import SearchEngine
from search.glossary import folded_phrase
from search.question import section_agency
from search.settings import Settings

DATA = SEARCH_DATA
ANSWER_SETS = {
    "dev": DATA / "answers_dev.json",
    "heldout": DATA / "answers_heldout.json",
    "heldout2": DATA / "answers_heldout2.json",
}
FORMS = ("vi", "vi_plain", "en")
FORM_LABELS = {"vi": "Vietnamese", "vi_plain": "without diacritics", "en": "English"}
NULL_TYPES = ("offtopic", "unanswerable")
# A wrong answer costs more than no answer: officials act on what the card says.
WRONG_COST = 2.0


@dataclass(frozen=True)
class AnswerQuestion:
    qid: str
    gold_type: str
    form: str
    query: str
    facts: tuple[str, ...] = ()
    agency: str = ""  # for agency_tasks: whose own tasks the answer lists
    exact: str = ""  # what the exact span must contain (figures, dates, names)

    @property
    def expects_null(self) -> bool:
        return self.gold_type in NULL_TYPES


@dataclass
class Outcome:
    question: AnswerQuestion
    result: AskResult
    right_if_shown: bool  # the candidate answer (shown at any threshold) is right
    problems: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return self.result.confidence if self.result.confidence is not None else 0.0

    def right_at(self, threshold: float) -> bool:
        shown = self.result.answer is not None and self.confidence >= threshold
        if self.question.expects_null:
            return not shown
        return shown and self.right_if_shown

    def answered_at(self, threshold: float) -> bool:
        return self.result.answer is not None and self.confidence >= threshold


def load_answer_set(path: Path) -> list[AnswerQuestion]:
    items = json.loads(path.read_text(encoding="utf-8"))
    out: list[AnswerQuestion] = []
    for item in items:
        forms = {f: item[f] for f in FORMS if item.get(f)}
        if "vi" in forms and "vi_plain" not in forms:
            forms["vi_plain"] = _plain(forms["vi"])
        for form, query in forms.items():
            out.append(
                AnswerQuestion(
                    qid=item["id"],
                    gold_type=item["type"],
                    form=form,
                    query=query,
                    facts=tuple(item.get("facts", ())),
                    agency=item.get("agency", ""),
                    exact=item.get("exact", ""),
                )
            )
    return out


def _squash(text: str) -> str:
    return f" {folded_phrase(text)} "


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` in ``haystack`` without diacritics, case or punctuation; a needle may list
    alternatives separated by " | " (either target of an ambiguous question)."""
    return any(_squash(alt) in _squash(haystack) for alt in needle.split(" | "))


def _passage_text(p: Passage) -> str:
    return f"{p.title}\n{p.section}\n{p.text}"


def _opening(text: str, words: int = 12) -> str:
    """The first words of ``text``: enough to find it, safe from a cut inside a word."""
    return " ".join(text.replace(" … ", " ").split()[:words]).rstrip(" …")


def judge(q: AnswerQuestion, result: AskResult) -> tuple[bool, list[str]]:
    """(right, problems) for the answer ``result`` gives (at whatever threshold it used)."""
    answer = result.answer
    if q.expects_null:
        return answer is None, [] if answer is None else ["answered a question it cannot"]
    if answer is None:
        return False, ["no answer"]
    problems: list[str] = []
    by_n = {p.n: p for p in result.passages}
    cited = [by_n[n] for n in answer.citations if n in by_n]
    if len(cited) != len(answer.citations):
        problems.append("a citation points to no passage")
    for fact in q.facts:
        if not _contains(answer.text, fact):
            problems.append(f"fact missing: {fact}")
        elif not any(_contains(_passage_text(p), fact) for p in cited):
            problems.append(f"no cited passage states: {fact}")
    problems += _line_problems(answer, by_n)
    if q.exact and (answer.exact is None or not _contains(answer.exact, q.exact)):
        problems.append(f"exact span {answer.exact!r} is not {q.exact!r}")
    if q.gold_type == "agency_tasks":
        problems += own_task_violations(q.agency, answer, by_n)
    return not problems, problems


def _line_problems(answer: Answer, by_n: dict[int, Passage]) -> list[str]:
    """Each line must be stated by the passage it cites (a quoted task or sentence is in it,
    a named agency is in it or heads its section)."""
    problems = []
    for item in answer.items or []:
        for n in item.citations:
            p = by_n.get(n)
            if p is None:
                problems.append(f"line cites [{n}], which is not listed")
                continue
            claim = item.agency if item.text == item.agency else item.text
            if claim and not _contains(_passage_text(p), _opening(claim)):
                problems.append(f"[{n}] does not state: {claim[:60]}")
    if not answer.items:
        evidence = _opening(answer.evidence or answer.text)
        cited = [by_n[n] for n in answer.citations if n in by_n]
        if not any(_contains(_passage_text(p), evidence) for p in cited):
            problems.append("no cited passage holds the evidence")
    return problems


def own_task_violations(agency: str, answer: Answer, by_n: dict[int, Passage]) -> list[str]:
    """Lines given as ``agency``'s own whose passage sits under another agency's heading."""
    out = []
    want = folded_phrase(agency)
    for item in answer.items:
        if not item.own:
            continue
        for n in item.citations:
            p = by_n.get(n)
            if p is None:
                continue
            heading = section_agency(p.section)
            if heading is None:
                if not _contains(p.text, agency):
                    out.append(f"own task [{n}] is outside any section and does not name {agency}")
            elif folded_phrase(heading) != want:
                out.append(f"own task [{n}] sits under {heading}")
    return out


def run_set(answerer: Answerer, questions: Sequence[AnswerQuestion]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        result = answerer.ask(q.query, k=5, threshold=0.0)
        right, problems = judge(q, result)
        outcomes.append(Outcome(q, result, right, problems))
    return outcomes


# --- tables ------------------------------------------------------------------------------


def accuracy_rows(outcomes: Sequence[Outcome], threshold: float) -> list[list[str]]:
    types = list(dict.fromkeys(o.question.gold_type for o in outcomes))
    rows = []
    for t in [*types, "answerable", "all"]:
        row = [t]
        if t == "answerable":
            sel = [o for o in outcomes if not o.question.expects_null]
        else:
            sel = [o for o in outcomes if t == "all" or o.question.gold_type == t]
        for form in FORMS:
            fs = [o for o in sel if o.question.form == form]
            ok = sum(o.right_at(threshold) for o in fs)
            row.append(f"{ok / len(fs):.2f} ({ok}/{len(fs)})" if fs else "–")
        rows.append(row)
    return rows


def summary(outcomes: Sequence[Outcome], threshold: float) -> dict[str, float]:
    answerable = [o for o in outcomes if not o.question.expects_null]
    off = [o for o in outcomes if o.question.gold_type == "offtopic"]
    answered = [o for o in outcomes if o.answered_at(threshold)]
    nulls = [o for o in outcomes if not o.answered_at(threshold)]
    right = [o for o in answerable if o.right_at(threshold)]
    violations = [
        o
        for o in outcomes
        if o.question.gold_type == "agency_tasks"
        and o.answered_at(threshold)
        and any("own task" in p for p in o.problems)
    ]
    return {
        "accuracy": len(right) / max(len(answerable), 1),
        "answered_precision": sum(o.right_at(threshold) for o in answered) / max(len(answered), 1),
        "offtopic_null": sum(not o.answered_at(threshold) for o in off) / max(len(off), 1),
        "no_answer_precision": sum(o.question.expects_null for o in nulls) / max(len(nulls), 1),
        "own_task_violations": float(len(violations)),
    }


def tradeoff(outcomes: Sequence[Outcome], thresholds: Sequence[float]) -> list[list[str]]:
    """Precision and recall of answering, per threshold."""
    answerable = [o for o in outcomes if not o.question.expects_null]
    rows = []
    for t in thresholds:
        answered = [o for o in outcomes if o.answered_at(t)]
        right = [o for o in answered if o.right_at(t)]
        wrong = len(answered) - len(right)
        rows.append(
            [
                f"{t:.2f}",
                f"{len(right) / max(len(answered), 1):.3f}",
                f"{len(right) / max(len(answerable), 1):.3f}",
                str(wrong),
                f"{len(right) - WRONG_COST * wrong:.0f}",
            ]
        )
    return rows


def choose_threshold(outcomes: Sequence[Outcome], thresholds: Sequence[float]) -> float:
    """The middle of the thresholds with the best right − 2 × wrong on ``outcomes``.

    Several thresholds usually tie on the development set; the middle one keeps
    the widest margin on both sides instead of the first that happens to fit.
    """

    def utility(t: float) -> float:
        answered = [o for o in outcomes if o.answered_at(t)]
        right = sum(o.right_at(t) for o in answered)
        return right - WRONG_COST * (len(answered) - right)

    scores = {t: utility(t) for t in thresholds}
    best = max(scores.values())
    tied = sorted(t for t, u in scores.items() if u == best)
    return tied[len(tied) // 2]


def table(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]
    )


def report(name: str, outcomes: Sequence[Outcome], threshold: float, markdown: bool) -> str:
    head = ["type", *(FORM_LABELS[f] for f in FORMS)]
    s = summary(outcomes, threshold)
    lines = [
        f"{name}: {len({o.question.qid for o in outcomes})} questions × 3 forms, "
        f"threshold {threshold:.2f}",
        "",
        table(head, accuracy_rows(outcomes, threshold), markdown),
        "",
        f"answerable right with valid citations: {s['accuracy']:.3f}; "
        f"answered precision: {s['answered_precision']:.3f}; "
        f"off-topic left null: {s['offtopic_null']:.3f}; "
        f"no-answer precision: {s['no_answer_precision']:.3f}; "
        f"own-task violations: {s['own_task_violations']:.0f}",
    ]
    return "\n".join(lines)


THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def run_answer_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`policy-search eval --answers`: prints the tables; exit 1 when the corpus is missing."""
    corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
    if not corpus.is_dir():
        print(f"error: no folder {corpus} (pass --corpus PATH)", file=sys.stderr)
        return 1
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "policy-search-eval"
    embedder = make_embedder(settings.embedder_spec)
    corpus_index(corpus, cache, embedder, window_method=settings.window_method)
    index_dir = corpus_index_dir(cache, embedder)
    engine = SearchEngine(settings.model_copy(update={"index_dir": index_dir}), embedder)
    answerer = Answerer(engine)
    outcomes = {
        name: run_set(answerer, load_answer_set(path)) for name, path in ANSWER_SETS.items()
    }
    calibration = answerer.calibration
    if args.calibrate:
        calibration = _refit(outcomes["dev"], calibration)
        answerer.calibration = calibration
        print(f"wrote {CALIBRATION_JSON}", file=sys.stderr)
    threshold = calibration.threshold
    for name, found in outcomes.items():
        if args.calibrate:
            for o in found:
                if o.result.features is not None:
                    o.result.confidence = calibration.confidence(o.result.features)
        print(report(name, found, threshold, args.markdown))
        print()
    print("dev: precision and recall of answering, per confidence threshold")
    print()
    head = ["threshold", "precision", "recall", "wrong", f"right − {WRONG_COST:.0f}×wrong"]
    print(table(head, tradeoff(outcomes["dev"], THRESHOLDS), args.markdown))
    if args.verbose:
        for name, found in outcomes.items():
            for o in found:
                if not o.right_at(threshold):
                    text = o.result.answer.text[:160] if o.result.answer else None
                    print(
                        f"[{name}] {o.question.qid} {o.question.form} conf={o.confidence:.2f} "
                        f"{o.question.query!r}: {o.problems} -> {text!r}",
                        file=sys.stderr,
                    )
    return 0


def _refit(dev: Sequence[Outcome], old: Calibration) -> Calibration:
    used = [o for o in dev if o.result.features is not None]
    samples: list[tuple[Features, bool]] = [
        (o.result.features, o.right_if_shown and not o.question.expects_null)
        for o in used
        if o.result.features is not None
    ]
    l2 = choose_l2(samples, [o.question.qid for o in used])
    print(f"calibration: L2 {l2} (cross-validated on dev)", file=sys.stderr)
    fitted = fit(samples, old.threshold, l2)
    for o in dev:
        if o.result.features is not None:
            o.result.confidence = fitted.confidence(o.result.features)
    threshold = choose_threshold(dev, THRESHOLDS)
    calibration = Calibration(fitted.weights, threshold)
    CALIBRATION_JSON.write_text(
        json.dumps(calibration.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return calibration
