"""Who-does-what extraction against hand labels: precision and recall of (task, lead) pairs.

``policy-search eval --assignments [PATH ...]`` reads each labelled document
the way ingest does (:func:`ingest.pipeline.parse_file`, then
:func:`ingest.assignments.extract_assignments`; no model, no index) and
compares what comes out with ``evalsets/assignments.jsonl``
(docs/assignment-labels.md says how the labels were made).

**A predicted pair** is an assignment whose role puts the agency in charge of
the task: ``lead``, ``responsible``, ``focal`` or ``advise``. A cooperating
agency is a partner, not a lead. Pairs are counted once per (clause, agency).

**Task match.** The label holds the first words of the task as printed. A
prediction's clause matches a label when at least 60% of the label's word
bigrams (diacritics folded, punctuation dropped) occur in the clause, and no
other label of the document scores higher on that clause. Bigrams,
not single words, so that two tasks sharing "tổ chức thực hiện" do not match.

**Lead match.** Agency names are folded, "UBND" read as "Ủy ban nhân dân",
a leading title or request word (Giám đốc, Chủ tịch, Thủ trưởng, Đề nghị,
Giao) dropped. They match when equal, or when one holds the other as whole
words (a label lead "Bộ Khoa học và Công nghệ, Bộ Thông tin và Truyền thông"
is met by either ministry); the shorter name needs two words at least.

**Counts.** Recall: labels met by at least one prediction (task and lead).
Precision: predictions that meet some label. A document labelled only in part
(``"partial": true``: the 03/NQ-CP appendix rows, parts of a corpus plan)
counts in precision only the predictions whose task meets a label's task, so
tasks left unlabelled there are not counted wrong; the table says so.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ingest.assignments import (
    ADVISE,
    EXECUTE,
    FOCAL,
    LEAD,
    RESPONSIBLE,
    Assignment,
    extract_assignments,
)
from ingest.models import IngestProblem
from ingest.pipeline import parse_file
from ingest.text import fold

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = REPO / "evalsets" / "assignments.jsonl"
DEFAULT_PATHS = (
    "../shared/eval/plans",
    "../shared/eval/admindocs",
    "../shared/eval/alqac",
    "corpus",
)
IN_CHARGE = frozenset([LEAD, RESPONSIBLE, FOCAL, ADVISE])
# A label with "role": "execute" names a body an execution article lists ("… chịu trách
# nhiệm thi hành Quyết định này"); those are scored apart, against execute records.
EXECUTING = frozenset([EXECUTE])
TASK_MATCH = 0.6  # share of the label's word bigrams found in the clause
_WORD = re.compile(r"[a-z0-9đ]+")
_TITLE = re.compile(r"^(?:giao |de nghi |giam doc |chu tich |thu truong |bo truong |truong )+")


@dataclass
class Label:
    set: str
    file: str
    task: str
    lead: str
    partners: list[str] = field(default_factory=list)
    deadline: str | None = None
    where: str = ""
    partial: bool = False
    role: str = LEAD  # "execute" for an execution article's body; else the task's lead

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Label:
        return cls(
            set=str(data["set"]),
            file=str(data["file"]),
            task=str(data["task"]),
            lead=str(data["lead"]),
            partners=[str(p) for p in data.get("partners") or []],
            deadline=data.get("deadline"),
            where=str(data.get("where", "")),
            partial=bool(data.get("partial", False)),
            role=EXECUTE if data.get("role") == EXECUTE else LEAD,
        )


@dataclass
class DocResult:
    set: str
    file: str
    labels: int
    predicted: int  # pairs counted in precision
    correct: int  # of those, pairs meeting a label
    found: int  # labels met
    partial: bool
    problem: str = ""  # why the document could not be read
    misses: list[Label] = field(default_factory=list)
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (agency, clause)
    # Of the labels met: how many state a deadline / partners, and how many of those the
    # records carry (a deadline equal or contained, folded; each partner as a lead matches).
    deadlines: int = 0
    deadlines_found: int = 0
    partners: int = 0
    partners_found: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.labels if self.labels else 0.0


def load_labels(path: Path) -> list[Label]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(Label.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a label ({exc})") from exc
    return out


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text).lower())


def _bigrams(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words))


def task_score(label_task: str, clause: str) -> float:
    wanted = _bigrams(_words(label_task))
    if not wanted:
        return 0.0
    return len(wanted & _bigrams(_words(clause))) / len(wanted)


def task_matches(label_task: str, clause: str) -> bool:
    return task_score(label_task, clause) >= TASK_MATCH


def agency_key(name: str) -> str:
    """'Giám đốc Sở Y tế' -> 'so y te'; 'UBND tỉnh' -> 'uy ban nhan dan tinh'."""
    words = " ".join(_words(name)).replace("ubnd", "uy ban nhan dan")
    return _TITLE.sub("", words).strip()


def lead_matches(label_lead: str, agency: str) -> bool:
    a, b = agency_key(label_lead), agency_key(agency)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short.split()) >= 2 and f" {short} " in f" {long} "


def predicted_pairs(
    items: Sequence[Assignment], roles: frozenset[str] = IN_CHARGE
) -> list[tuple[str, str]]:
    """(agency, clause) for every assignment of ``roles`` (in charge), once each."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for a in items:
        if a.role in roles:
            seen.setdefault((agency_key(a.agency), fold(a.text)), (a.agency, a.text))
    return list(seen.values())


def _same_deadline(label: str, found: str) -> bool:
    a, b = " ".join(_words(label)), " ".join(_words(found))
    return bool(a and b) and (a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} ")


def score_document(
    labels: Sequence[Label], items: Sequence[Assignment], roles: frozenset[str] = IN_CHARGE
) -> DocResult:
    first = labels[0]
    partial = any(lb.partial for lb in labels)
    pairs = predicted_pairs(items, roles)
    met = [False] * len(labels)
    predicted = correct = 0
    wrong: list[tuple[str, str]] = []
    for agency, clause in pairs:
        scores = [task_score(lb.task, clause) for lb in labels]
        best = max(scores, default=0.0)
        # A clause is about the label(s) it quotes best; a plan repeats its key phrases.
        tasks = [i for i, sc in enumerate(scores) if sc >= TASK_MATCH and sc == best]
        if partial and not tasks:
            continue
        predicted += 1
        hits = [i for i in tasks if lead_matches(labels[i].lead, agency)]
        for i in hits:
            met[i] = True
        if hits:
            correct += 1
        else:
            wrong.append((agency, clause))
    result = DocResult(
        set=first.set,
        file=first.file,
        labels=len(labels),
        predicted=predicted,
        correct=correct,
        found=sum(met),
        partial=partial,
        misses=[lb for lb, m in zip(labels, met, strict=True) if not m],
        wrong=wrong,
    )
    for lb in (lb for lb, m in zip(labels, met, strict=True) if m):
        records = [
            a
            for a in items
            if a.role in roles and task_matches(lb.task, a.text) and lead_matches(lb.lead, a.agency)
        ]
        if lb.deadline:
            result.deadlines += 1
            result.deadlines_found += any(_same_deadline(lb.deadline, a.deadline) for a in records)
        result.partners += len(lb.partners)
        result.partners_found += sum(
            any(lead_matches(p, x) for a in records for x in a.partners) for p in lb.partners
        )
    return result


def _document_path(root: Path, name: str) -> Path | None:
    for candidate in (root / "docs" / name, root / name):
        if candidate.is_file():
            return candidate
    return None


def extract_file(path: Path) -> list[Assignment] | str:
    """The assignments ingest finds in one file, or why it could not read it."""
    doc = parse_file(path)
    if isinstance(doc, IngestProblem):
        return doc.reason
    blocks = [b.stored() for b in doc.blocks]
    return extract_assignments(doc.meta.doc_id, blocks)


def evaluate(
    paths: Sequence[Path],
    labels: Sequence[Label],
    out: TextIO,
    roles: frozenset[str] = IN_CHARGE,
) -> list[DocResult]:
    """Score every labelled document found under ``paths`` (a set's folder is named as
    the labels' ``set``: plans, admindocs, corpus); absent folders are said, not fatal.
    Only labels of ``roles``' kind are scored: in charge, or execute."""
    kind = EXECUTE if roles == EXECUTING else LEAD
    labels = [lb for lb in labels if lb.role == kind]
    by_doc: dict[tuple[str, str], list[Label]] = defaultdict(list)
    for lb in labels:
        by_doc[(lb.set, lb.file)].append(lb)
    roots: dict[str, Path] = {}
    for path in paths:
        if not path.is_dir():
            print(f"absent: {path} (no such folder; its labelled documents are skipped)", file=out)
            continue
        roots[path.resolve().name] = path
    results = []
    for (set_name, file), group in by_doc.items():
        root = roots.get(set_name)
        if root is None:
            continue
        doc_path = _document_path(root, file)
        if doc_path is None:
            print(f"absent: {root / file} (labelled, not found)", file=out)
            continue
        found = extract_file(doc_path)
        if isinstance(found, str):
            result = score_document(group, [], roles)
            result.problem = found
        else:
            result = score_document(group, found, roles)
        results.append(result)
    return results


def totals(results: Sequence[DocResult]) -> DocResult:
    return DocResult(
        set="all",
        file="overall",
        labels=sum(r.labels for r in results),
        predicted=sum(r.predicted for r in results),
        correct=sum(r.correct for r in results),
        found=sum(r.found for r in results),
        partial=any(r.partial for r in results),
        deadlines=sum(r.deadlines for r in results),
        deadlines_found=sum(r.deadlines_found for r in results),
        partners=sum(r.partners for r in results),
        partners_found=sum(r.partners_found for r in results),
    )


def report(results: Sequence[DocResult], markdown: bool, verbose: bool, out: TextIO) -> None:
    rows = [*results, totals(results)]
    if markdown:
        print("| set | document | labels | predicted | precision | recall |", file=out)
        print("|---|---|---:|---:|---:|---:|", file=out)
        for r in rows:
            name = f"{r.file} (part labelled)" if r.partial and r.set != "all" else r.file
            print(
                f"| {r.set} | {name} | {r.labels} | {r.predicted} | "
                f"{r.precision:.2f} | {r.recall:.2f} |",
                file=out,
            )
        return
    print(f"{'set':<10} {'document':<58} {'lab':>4} {'pred':>5} {'P':>5} {'R':>5}", file=out)
    for r in rows:
        mark = "*" if r.partial and r.set != "all" else " "
        print(
            f"{r.set:<10} {r.file[:57]:<57}{mark} {r.labels:>4} {r.predicted:>5} "
            f"{r.precision:>5.2f} {r.recall:>5.2f}" + (f"  ({r.problem})" if r.problem else ""),
            file=out,
        )
    print("* labelled in part: precision counts only predictions on labelled tasks", file=out)
    if verbose:
        for r in results:
            for lb in r.misses:
                print(f"MISS {r.file} [{lb.where}] {lb.lead} :: {lb.task}", file=out)
            for agency, clause in r.wrong:
                print(f"WRONG {r.file} {agency} :: {clause[:110]}", file=out)


def run_assignment_eval(
    paths: Sequence[str],
    labels_path: str | None,
    markdown: bool,
    verbose: bool,
    out: TextIO,
) -> int:
    """The ``eval --assignments`` command; 0 when something was scored, 1 otherwise."""
    labels_file = Path(labels_path) if labels_path else DEFAULT_LABELS
    try:
        labels = load_labels(labels_file)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read labels: {exc}", file=out)
        return 1
    roots = [Path(p) for p in (paths or DEFAULT_PATHS)]
    results = evaluate(roots, labels, out)
    executing = evaluate(roots, labels, io.StringIO(), EXECUTING)
    if not results and not executing:
        print("error: no labelled document was found under the given paths", file=out)
        return 1
    if results:
        report(results, markdown, verbose, out)
        whole = totals(results)
        print(
            f"record fields, on the labels met: deadline {whole.deadlines_found} of "
            f"{whole.deadlines}, partners {whole.partners_found} of {whole.partners}",
            file=out,
        )
    if executing:
        print("\nexecution articles (role execute: who carries the document out)", file=out)
        report(executing, markdown, verbose, out)
    return 0
