"""`policy-search eval --answers`: is the answer card right, and are its citations honest?

Built-in answer sets over ``corpus/``, each question asked in
Vietnamese, without diacritics and in English:

* ``dev`` (``search/data/answers_dev.json``): full questions; the confidence
  model and its threshold are fitted here (``--calibrate``);
* ``heldout`` (``search/data/answers_heldout.json``): other questions in the
  way officials type them (short, no question mark, usually unaccented),
  never used for fitting or tuning.

``--answers-collection shared`` indexes ``corpus/`` together with the real
plans and decisions under ``--eval-dir`` (``plans/docs``, ``admindocs/docs``)
and asks ``evalsets/answers_shared.json`` (or ``--answer-set FILE``): questions
written from those documents, each naming the document it is about
(docs/answer-eval.md). There an answer must also take its facts from that
document, and no line given as an agency's own may come from another one.
``--held-out-by-document`` scores each document's questions with a confidence
model fitted on the other documents' outcomes only.

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
precision/recall of each confidence threshold. A second table per set gives,
per form, what a user sees at the threshold: right (correct abstentions
included), abstained, confident-wrong (a wrong answer shown, i.e. at confidence
>= the threshold), the wrong candidates at any confidence, the AUROC of the
confidence between right and wrong candidates, and the precision of the answers
shown.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from evaluation import SEARCH_DATA
from evaluation.retrieval import (
    CachedEmbedder,
    _plain,
    corpus_index,
    corpus_index_dir,
    passage_cache_path,
    slug,
)
from index.build import build_index
from index.embed import Embedder, make_embedder
from ingest.assignments import agency_of_heading
from ingest.pipeline import make_doc_id
from policy_search.settings import Settings
from search.answer import Answer, Answerer, AskResult, Passage
from search.calibration import CALIBRATION_JSON, Calibration, Features, choose_l2, fit
from search.engine import SearchEngine
from search.glossary import folded_phrase
from search.question import section_agency

DATA = SEARCH_DATA
ANSWER_SETS = {
    "dev": DATA / "answers_dev.json",
    "heldout": DATA / "answers_heldout.json",
    "heldout2": DATA / "answers_heldout2.json",
}
# The development set written on the shared documents (docs/answer-eval.md), and where
# those documents are: corpus/ plus these folders under --eval-dir are indexed together.
SHARED_SET = Path(__file__).resolve().parent.parent / "evalsets" / "answers_shared.json"
EVAL_DIR_DEFAULT = "../shared/eval"
SHARED_FOLDERS = ("plans/docs", "admindocs/docs")
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
    doc: str = ""  # the file the question is about (shared set): the answer must come from it

    @property
    def expects_null(self) -> bool:
        return self.gold_type in NULL_TYPES


@dataclass
class Outcome:
    question: AnswerQuestion
    result: AskResult
    right_if_shown: bool  # the candidate answer (shown at any threshold) is right
    problems: list[str] = field(default_factory=list)
    # The threshold this outcome is judged at when it is not the run's one: a model fitted
    # with its document held out brings its own (--held-out-by-document).
    threshold: float | None = None

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
                    doc=item.get("doc", ""),
                )
            )
    return out


def shared_folders(eval_dir: Path) -> list[Path]:
    """The shared document folders under ``eval_dir``; FileNotFoundError names what is missing."""
    folders = [eval_dir / sub for sub in SHARED_FOLDERS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise FileNotFoundError(
            f"no folder {', '.join(missing)} (pass --eval-dir PATH: the folder holding "
            f"{' and '.join(SHARED_FOLDERS)})"
        )
    return folders


def shared_index(
    corpus: Path, eval_dir: Path, cache: Path, inner: Embedder, window_method: str
) -> Path:
    """corpus/ and the shared documents in one cached index; its folder.

    Passage vectors are cached by text, so a rebuild after a parser change embeds
    only what changed (the collection is ten times the corpus).
    """
    folders = shared_folders(eval_dir)
    embedder = CachedEmbedder(inner, None, passage_cache_path(cache, inner, "answers-shared"))
    index_dir = cache / f"answers-shared-index-{slug(inner.name)}"
    build_index([corpus, *folders], index_dir, embedder, window_method=window_method)
    return index_dir


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
    if q.doc:
        # The question is about one document: a fact read out of another is not its answer.
        want = question_doc_id(q)
        cited = [p for p in cited if p.doc_id == want]
        if not cited:
            problems.append(f"cites no passage of {q.doc}")
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
        if q.doc:
            # Lines of other documents listed apart, under their titles, are not given as
            # this document's; the answer's own list must come from the question's document.
            problems += [
                f"own task [{n}] comes from {by_n[n].doc_id}, not {q.doc}"
                for item in answer.items
                if item.own and not item.other_document
                for n in item.citations
                if n in by_n and by_n[n].doc_id != question_doc_id(q)
            ]
    return not problems, problems


def question_doc_id(q: AnswerQuestion) -> str:
    """The index's id of the file ``q`` is about (ids come from the name under its folder)."""
    return make_doc_id(Path(q.doc), Path())


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


# A numbered line that opens with a label: "6. Sở Tài chính: …", "2.3. Sở Tài chính:",
# "b) Sở Y tế: …", or a short numbered line of its own ("3. Sở Nội vụ").
_LABEL = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[a-zđ]\))\s+(?P<label>[^:\n]{2,120}?)\s*(?::|$)")


def _nearest_label(text: str, task: str) -> str | None:
    """The agency whose in-line label ``task`` sits under in ``text``, if one is printed.

    The lines are read in order; each numbered line that names an agency as its label opens
    that agency's part, and the task belongs to the last one opened at or before its own
    line ("6. Sở Tài chính: A. B." gives A and B to Sở Tài chính; "4. Sở Tư pháp: …" after a
    "3. Sở Nội vụ" heading closes Sở Nội vụ's part). None when the task is not found or no
    label names an agency before it: the section path then decides.
    """
    words = _opening(task, 6)
    current: str | None = None
    for line in text.splitlines():
        if m := _LABEL.match(line):
            current = agency_of_heading(m.group("label")) or current
        if _contains(line, words):
            return current
    return None


def own_task_violations(agency: str, answer: Answer, by_n: dict[int, Passage]) -> list[str]:
    """Lines given as ``agency``'s own that sit under another agency: under the nearest
    in-line label that names an agency in the passage ("6. Sở X: …"), else under the
    section path's agency heading."""
    out = []
    want = folded_phrase(agency)
    for item in answer.items:
        if not item.own or item.other_document:
            # A line of another document is listed apart, under that document's title
            # (docs/answer-eval.md): the question's document is checked in ``judge``.
            continue
        for n in item.citations:
            p = by_n.get(n)
            if p is None:
                continue
            if _contains(p.text, f"{agency} {_opening(item.text)}"):
                # The passage itself puts the agency right before this task ("- Sở X: …").
                continue
            heading = _nearest_label(p.text, item.text) or section_agency(p.section)
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


# --- what a user sees: right, abstained, confident-wrong; does the confidence rank? ---------


def auroc(right: Sequence[float], wrong: Sequence[float]) -> float | None:
    """Probability that a right answer's confidence exceeds a wrong one's (ties count half).

    The Mann-Whitney form of the area under the ROC curve; None when either side is empty.
    """
    if not right or not wrong:
        return None
    wins = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return wins / (len(right) * len(wrong))


def _at(o: Outcome, threshold: float) -> float:
    return o.threshold if o.threshold is not None else threshold


@dataclass(frozen=True)
class Tally:
    asks: int
    right: int  # right at the threshold, correct abstentions included
    abstained: int  # no answer shown
    confident_wrong: int  # a wrong answer shown: confidence >= the threshold
    wrong_any: int  # wrong candidates at any confidence (what the threshold has to catch)
    answerable: int
    answerable_right: int
    no_answer: int
    no_answer_abstained: int
    auroc: float | None  # confidence, right vs wrong candidates
    shown: int
    shown_right: int

    @property
    def precision(self) -> float | None:
        return self.shown_right / self.shown if self.shown else None


def tally(outcomes: Sequence[Outcome], threshold: float) -> Tally:
    right_conf: list[float] = []
    wrong_conf: list[float] = []
    for o in outcomes:
        if o.result.answer is None:
            continue
        if o.right_if_shown and not o.question.expects_null:
            right_conf.append(o.confidence)
        else:
            wrong_conf.append(o.confidence)
    shown = [o for o in outcomes if o.answered_at(_at(o, threshold))]
    answerable = [o for o in outcomes if not o.question.expects_null]
    nulls = [o for o in outcomes if o.question.expects_null]
    return Tally(
        asks=len(outcomes),
        right=sum(o.right_at(_at(o, threshold)) for o in outcomes),
        abstained=len(outcomes) - len(shown),
        confident_wrong=sum(not o.right_at(_at(o, threshold)) for o in shown),
        wrong_any=len(wrong_conf),
        answerable=len(answerable),
        answerable_right=sum(o.right_at(_at(o, threshold)) for o in answerable),
        no_answer=len(nulls),
        no_answer_abstained=sum(not o.answered_at(_at(o, threshold)) for o in nulls),
        auroc=auroc(right_conf, wrong_conf),
        shown=len(shown),
        shown_right=sum(o.right_at(_at(o, threshold)) for o in shown),
    )


def _share(n: int, of: int) -> str:
    return f"{n / of:.2f} ({n}/{of})" if of else "–"


def _opt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


OUTCOME_HEAD = [
    "form",
    "asks",
    "right",
    "abstained",
    "confident-wrong",
    "wrong, any conf.",
    "answerable right",
    "no-answer abstained",
    "AUROC",
    "precision ≥ t",
]


def outcome_rows(outcomes: Sequence[Outcome], threshold: float) -> list[list[str]]:
    rows = []
    groups: list[tuple[str, list[Outcome]]] = [
        (FORM_LABELS[f], [o for o in outcomes if o.question.form == f]) for f in FORMS
    ]
    groups.append(("all", list(outcomes)))
    for label, sel in groups:
        if not sel:
            continue
        t = tally(sel, threshold)
        rows.append(
            [
                label,
                str(t.asks),
                _share(t.right, t.asks),
                _share(t.abstained, t.asks),
                _share(t.confident_wrong, t.asks),
                str(t.wrong_any),
                _share(t.answerable_right, t.answerable),
                _share(t.no_answer_abstained, t.no_answer),
                _opt(t.auroc),
                _opt(t.precision),
            ]
        )
    return rows


def outcome_report(
    name: str, outcomes: Sequence[Outcome], threshold: float, markdown: bool, how: str = ""
) -> str:
    at = how or f"threshold {threshold:.2f}"
    lines = [
        f"{name}: what a user sees, per form ({at})",
        "",
        table(OUTCOME_HEAD, outcome_rows(outcomes, threshold), markdown),
    ]
    return "\n".join(lines)


# --- leave one document out ----------------------------------------------------------------


def _is_right(o: Outcome) -> bool:
    return o.right_if_shown and not o.question.expects_null


def _rescored(outcomes: Sequence[Outcome], model: Calibration, threshold: float) -> list[Outcome]:
    """Copies of ``outcomes`` with the confidence ``model`` gives their features."""
    out = []
    for o in outcomes:
        result = o.result
        if result.features is not None:
            result = replace(result, confidence=model.confidence(result.features))
        out.append(replace(o, result=result, threshold=threshold))
    return out


def document_of(o: Outcome) -> str:
    """The document an outcome is grouped by: the one its question names, else the one its
    answer cites first (the corpus sets name none), else "" (off-topic, no answer)."""
    if o.question.doc:
        return o.question.doc
    answer = o.result.answer
    by_n = {p.n: p for p in o.result.passages}
    for n in answer.citations if answer else ():
        if n in by_n:
            return by_n[n].doc_id
    return ""


def document_groups(outcomes: Sequence[Outcome]) -> list[str]:
    """Each outcome's document (:func:`document_of`), the same for every form of a question
    (the first form's that has one), so no fold splits a question from its translation."""
    by_qid: dict[str, str] = {}
    for o in outcomes:
        if not by_qid.get(o.question.qid):
            by_qid[o.question.qid] = document_of(o)
    return [by_qid[o.question.qid] or f"(no document) {o.question.qid}" for o in outcomes]


def fit_grouped(outcomes: Sequence[Outcome]) -> tuple[Calibration, float]:
    """The confidence model fitted on ``outcomes`` (label: the candidate is right), its L2
    strength cross-validated with each group (a document) kept in one fold, and the
    threshold chosen on the same outcomes; the model and its L2."""
    pairs = [(o, g) for o, g in zip(outcomes, document_groups(outcomes), strict=True)]
    pairs = [(o, g) for o, g in pairs if o.result.features is not None]
    samples: list[tuple[Features, bool]] = [
        (o.result.features, _is_right(o)) for o, _ in pairs if o.result.features is not None
    ]
    l2 = choose_l2(samples, [g for _, g in pairs])
    model = fit(samples, 0.5, l2)
    threshold = choose_threshold(_rescored(outcomes, model, 0.5), THRESHOLDS)
    return Calibration(model.weights, threshold), l2


def held_out_by_document(
    outcomes: Sequence[Outcome],
    log: Callable[[str], None] = lambda _: None,
    extra: Sequence[Outcome] = (),
) -> list[Outcome]:
    """Every outcome scored by a confidence model fitted with its own document left out.

    For each document in turn, the logistic model (:func:`search.calibration.fit`, its L2
    strength cross-validated with a question's forms kept together) is fitted on the
    outcomes of the questions about the other documents, its threshold chosen on those
    same outcomes (:func:`choose_threshold`), and the held-out document's questions
    rescored with both. The features are whatever the answerer put in
    ``result.features``; questions that name no document form one group of their own.
    ``extra`` (the corpus dev set, which the shipped model is fitted on too) is always
    in the training outcomes, so each fold repeats the shipped fit without one document.
    """
    docs = list(dict.fromkeys(o.question.doc for o in outcomes))
    scored: list[Outcome] = []
    for doc in docs:
        train = [o for o in outcomes if o.question.doc != doc]
        test = [o for o in outcomes if o.question.doc == doc]
        model, l2 = fit_grouped([*extra, *train])
        log(
            f"held out {doc or '(no document)'}: {len(test)} asks; fitted on "
            f"{len(extra) + len(train)} (L2 {l2}), threshold {model.threshold:.2f}"
        )
        scored += _rescored(test, model, model.threshold)
    return scored


def document_rows(outcomes: Sequence[Outcome], threshold: float) -> list[list[str]]:
    rows = []
    for doc in dict.fromkeys(o.question.doc for o in outcomes):
        t = tally([o for o in outcomes if o.question.doc == doc], threshold)
        rows.append(
            [
                doc or "(no document)",
                str(t.asks),
                _share(t.right, t.asks),
                _share(t.confident_wrong, t.asks),
                _opt(t.auroc),
            ]
        )
    return rows


THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def run_answer_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`policy-search eval --answers`: prints the tables; exit 1 when a folder is missing."""
    corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
    if not corpus.is_dir():
        print(f"error: no folder {corpus} (pass --corpus PATH)", file=sys.stderr)
        return 1
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "policy-search-eval"
    if getattr(args, "answers_collection", "corpus") == "shared":
        return _run_shared(args, settings, corpus, cache)
    if getattr(args, "held_out_by_document", False):
        print(
            "error: --held-out-by-document needs questions that name their document "
            "(--answers-collection shared)",
            file=sys.stderr,
        )
        return 1
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
        print(outcome_report(name, found, threshold, args.markdown))
        print()
    print("dev: precision and recall of answering, per confidence threshold")
    print()
    head = ["threshold", "precision", "recall", "wrong", f"right − {WRONG_COST:.0f}×wrong"]
    print(table(head, tradeoff(outcomes["dev"], THRESHOLDS), args.markdown))
    if args.verbose:
        _list_wrong(outcomes, threshold)
    return 0


def _run_shared(args: argparse.Namespace, settings: Settings, corpus: Path, cache: Path) -> int:
    """The shared collection: corpus/ plus the documents under --eval-dir, one index.

    With --calibrate the shipped model is fitted on the corpus dev set (asked on the corpus
    index, as `eval --answers --calibrate` does) and this set, pooled, its L2 strength
    cross-validated by document (:func:`fit_grouped`). --held-out-by-document repeats that
    fit without each document of this set in turn."""
    eval_dir = Path(getattr(args, "eval_dir", None) or EVAL_DIR_DEFAULT)
    set_path = Path(getattr(args, "answer_set", None) or SHARED_SET)
    if not set_path.is_file():
        print(f"error: answer set not found: {set_path}", file=sys.stderr)
        return 1
    try:
        questions = load_answer_set(set_path)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"error: {set_path} is not an answer set: {exc!r}", file=sys.stderr)
        return 1
    try:
        shared_folders(eval_dir)  # before the model loads: a wrong path answers at once
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    inner = make_embedder(settings.embedder_spec)
    print(f"shared: indexing {corpus} and {eval_dir} (cached in {cache})", file=sys.stderr)
    index_dir = shared_index(corpus, eval_dir, cache, inner, settings.window_method)
    engine = SearchEngine(settings.model_copy(update={"index_dir": index_dir}), inner)
    answerer = Answerer(engine)
    name = set_path.stem
    print(f"{name}: asking {len(questions)} questions", file=sys.stderr)
    outcomes = run_set(answerer, questions)
    dev: list[Outcome] = []
    if args.calibrate or getattr(args, "held_out_by_document", False):
        corpus_index(corpus, cache, inner, window_method=settings.window_method)
        corpus_engine = SearchEngine(
            settings.model_copy(update={"index_dir": corpus_index_dir(cache, inner)}), inner
        )
        print("corpus dev: asking for the pooled fit", file=sys.stderr)
        dev = run_set(Answerer(corpus_engine), load_answer_set(ANSWER_SETS["dev"]))
    if args.calibrate:
        calibration, l2 = fit_grouped([*dev, *outcomes])
        answerer.calibration = calibration
        CALIBRATION_JSON.write_text(
            json.dumps(calibration.to_json(), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        print(
            f"calibration: fitted on corpus dev ({len(dev)}) + {name} ({len(outcomes)}), "
            f"L2 {l2} (cross-validated by document), threshold {calibration.threshold:.2f}; "
            f"wrote {CALIBRATION_JSON}",
            file=sys.stderr,
        )
        outcomes = _rescored(outcomes, calibration, calibration.threshold)
        dev = _rescored(dev, calibration, calibration.threshold)
        print(outcome_report("corpus dev", dev, calibration.threshold, args.markdown, "refitted"))
        print()
    threshold = answerer.calibration.threshold
    print(report(name, outcomes, threshold, args.markdown))
    print()
    print(outcome_report(name, outcomes, threshold, args.markdown, "the shipped calibration"))
    if getattr(args, "held_out_by_document", False):

        def log(line: str) -> None:
            print(line, file=sys.stderr)

        held = held_out_by_document(outcomes, log, extra=dev)
        how = "confidence fitted with each document held out"
        print()
        print(outcome_report(f"{name}, held out by document", held, threshold, args.markdown, how))
        print()
        print(f"{name}, held out by document: per document")
        print()
        head = ["document", "asks", "right", "confident-wrong", "AUROC"]
        print(table(head, document_rows(held, threshold), args.markdown))
        outcomes = held
    if args.verbose:
        _list_wrong({name: outcomes}, threshold)
    return 0


def _list_wrong(outcomes: dict[str, list[Outcome]], threshold: float) -> None:
    for name, found in outcomes.items():
        for o in found:
            if not o.right_at(_at(o, threshold)):
                text = o.result.answer.text[:160] if o.result.answer else None
                print(
                    f"[{name}] {o.question.qid} {o.question.form} conf={o.confidence:.2f} "
                    f"{o.question.query!r}: {o.problems} -> {text!r}",
                    file=sys.stderr,
                )


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
