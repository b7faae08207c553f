"""Conventions of Vietnamese administrative writing the answerer relies on, checked on real
documents from ../shared/eval (skipped when that folder is absent):

- "Ai ký …?" is answered from the document's signature, which the document model keeps
  out of the passages (the header's signer, or the signature block "KT. CHỦ TỊCH / PHÓ
  CHỦ TỊCH / name");
- a province printed only in the letterhead still says whose document it is;
- a date right after a cited document's number ("Tờ trình số … ngày …") and the lines that
  cite documents ("Căn cứ …", "Theo đề nghị …") do not answer a date or figure question.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.embed import Embedder
from ingest.text import fold
from policy_search.settings import Settings
from search.answer import Answerer
from search.answers.text import _asks_signer, _cites_document, _typed_span
from search.engine import SearchEngine
from search.glossary import folded_phrase
from search.question import AnswerType
from search.spans import clauses

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
DOCS = [
    EVAL / "plans" / "docs" / "2024_986-QD-UBND_ubnd-tinh-tuyen-quang.md",
    EVAL / "plans" / "docs" / "2023_254-QD-UBND_ubnd-tinh-son-la.md",
    EVAL / "admindocs" / "docs" / "2025-11-17_010-CT-UBND_uy-ban-nhan-dan-tinh-dak-lak.md",
    EVAL / "admindocs" / "docs" / "2025-11-18_0125-KH-UBND_uy-ban-nhan-dan-tinh-dak-lak.md",
]
needs_docs = pytest.mark.skipif(
    not all(p.is_file() for p in DOCS), reason=f"no shared evaluation documents under {EVAL}"
)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Answerer:
    folder = tmp_path_factory.mktemp("signer-docs")
    for p in DOCS:
        shutil.copy(p, folder / p.name)
    index_dir = tmp_path_factory.mktemp("signer-index")
    build_index([folder], index_dir, embedder)
    return Answerer(SearchEngine(Settings(index_dir=index_dir), embedder))


@needs_docs
@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "name"),
    [
        # No header signer: read from the signature block in the closing table.
        ("Ai ký quyết định ban hành kế hoạch năm học 2024-2025 của Tuyên Quang?",
         "Hoàng Việt Phương"),
        ("Who signed Decision 254/QD-UBND of Son La?", "Hoàng Quốc Khánh"),
        # The header's signer; the number is printed only in the letterhead.
        ("Ai ky Chi thi 010/CT-UBND cua tinh Dak Lak?", "Trương Công Thái"),
        # "tỉnh Đắk Lắk" is printed only in the letterhead of this plan.
        ("Ai ký kế hoạch phát động phong trào thi đua bầu cử của tỉnh Đắk Lắk?", "Đào Mỹ"),
    ],
)  # fmt: skip
def test_who_signed_is_the_documents_signer(answerer: Answerer, question: str, name: str) -> None:
    result = answerer.ask(question, threshold=0.0)
    assert result.answer is not None, question
    assert result.answer.exact == name
    cited = result.passages[result.answer.citations[0] - 1]
    assert fold(name) in fold(cited.text)  # the signature is cited, not a stray passage


def test_signing_an_agreement_is_no_signer_question() -> None:
    assert _asks_signer(folded_phrase("Ai ký quyết định công bố thủ tục hành chính?"))
    assert _asks_signer(folded_phrase("Who signed Directive 010/CT-UBND?"))
    assert not _asks_signer(folded_phrase("Ai ký kết hợp tác tăng trưởng xanh với Kobe?"))
    assert not _asks_signer(folded_phrase("Who signed the cooperation agreement with Kobe?"))


@needs_docs
def test_a_cited_documents_date_answers_no_date_question() -> None:
    text = DOCS[0].read_text(encoding="utf-8")
    cited: list[str] = []
    own: list[str] = []
    for line in text.splitlines():
        for c in clauses(line):
            span = _typed_span(AnswerType.DATE, c, [])
            if span is None:
                continue
            (cited if _cites_document(c, span) else own).append(span.text)
    # The proposal's "Tờ trình số 107/TTr-SGDĐT ngày 09/8/2024" and the bases' dates.
    assert any("09/8/2024" in d for d in cited)
    # The calendar's own dates are kept.
    assert any("19/8/2024" in d for d in own)
    assert any("05/9/2024" in d for d in own)
    assert not any("19/8/2024" in d or "05/9/2024" in d for d in cited)


@needs_docs
@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "exact"),
    [
        # "opening ceremony" reaches "khai giảng" only through the glossary.
        ("When is the opening ceremony of the 2024-2025 school year in Tuyen Quang province?",
         "05/9/2024"),
        # "election", "emulation", "reviewed": "bầu cử", "thi đua", "tổng kết".
        ("When is Dak Lak's election emulation movement reviewed?", "tháng 4 năm 2026"),
    ],
)  # fmt: skip
def test_english_focus_words_reach_the_vietnamese_clause(
    answerer: Answerer, question: str, exact: str
) -> None:
    result = answerer.ask(question, threshold=0.0)
    assert result.answer is not None, question
    assert result.answer.exact is not None and exact in result.answer.exact
