"""Header extraction, measured: `policy-search eval --headers`.

Two kinds of documents, read through the real ingest pipeline (extractor,
cleaning, :func:`ingest.header.read_header`):

* ``admindocs``: real documents of 2025 as a legal-document website converts
  them to Markdown, with labels of what their headers say
  (``../shared/eval/admindocs``: ``labels.jsonl`` and ``docs/``). The same
  documents are also read as a converter that keeps no emphasis and no table
  marks would give them.
* ``fixtures``: documents in the Nghị định 30/2020/NĐ-CP format written here
  from :data:`SAMPLES` as a PDF (header and signature as two-column tables,
  made with PyMuPDF), a DOCX (python-docx tables), an HTML page and plain text
  with OCR-like noise (columns side by side, old tone marks, decomposed
  characters, stray spaces and rules). Every field must come out right.

Scored as the issue states: number, type and date exactly; issuer, title and
signer after normalising case and whitespace; the other fields the same way.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.models import DocumentHeader, ParsedDocument
from ingest.pipeline import parse_file
from ingest.text import fold, normalize

SCORED = ("number", "type", "date", "issuer", "title", "signer")
EXTRA = ("place", "signer_title", "issuer_parent", "bases")
FIXTURE_FIELDS = (*SCORED, *EXTRA, "recipients", "references")
EXACT = frozenset(["number", "type", "date"])


def _norm(value: object) -> object:
    if isinstance(value, list):
        return [_norm(v) for v in value]
    text = normalize(str(value or "")).replace("–", "-").replace("—", "-")
    return " ".join(text.lower().split())


def header_fields(header: DocumentHeader) -> dict[str, object]:
    """The fields of ``header`` under the labels' names."""
    return {
        "number": header.number,
        "type": header.document_type,
        "date": header.date,
        "issuer": header.issuer,
        "title": header.title,
        "signer": header.signer,
        "place": header.place,
        "signer_title": header.signer_title,
        "issuer_parent": header.issuer_parent,
        "bases": header.bases,
        "recipients": header.recipients,
        "references": sorted(r.number for r in header.references if r.number),
    }


def field_right(name: str, got: object, want: object) -> bool:
    if name in EXACT:
        return (got or "") == (want or "")
    return _norm(got) == _norm(want)


# --- fixtures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A document in the Decree 30 format, and what its header says."""

    name: str
    issuer: str  # as printed (capitals)
    issuer_display: str  # as the reader gives it back
    number: str
    document_type: str  # "" for a công văn (no type line)
    place: str
    date: tuple[int, int, int]  # day, month, year
    title: str
    signature: tuple[str, ...]  # the block above the name, as printed
    signer: str
    signer_title: str
    bases: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # "Kính gửi"
    distribution: tuple[str, ...] = ()  # "Nơi nhận", with "Lưu: ..."
    parent: str = ""
    parent_display: str = ""
    authority: str = ""  # the line between the title and the bases
    references: tuple[str, ...] = ()  # numbers of the documents it cites

    def expected(self) -> dict[str, object]:
        day, month, year = self.date
        return {
            "number": self.number,
            "type": self.document_type or "Công văn",
            "date": f"{year:04d}-{month:02d}-{day:02d}",
            "issuer": self.issuer_display,
            "title": self.title,
            "signer": self.signer,
            "place": self.place,
            "signer_title": self.signer_title,
            "issuer_parent": self.parent_display,
            "bases": list(self.bases),
            "recipients": [
                *self.recipients,
                *(r for r in self.distribution if not fold(r).startswith("luu")),
            ],
            "references": sorted(self.references),
        }

    def date_line(self) -> str:
        day, month, year = self.date
        return f"{self.place}, ngày {day:02d} tháng {month} năm {year}"


SAMPLES: tuple[Sample, ...] = (
    Sample(
        name="quyet-dinh",
        issuer="ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH",
        issuer_display="Ủy ban nhân dân tỉnh Quảng Ninh",
        number="1234/QĐ-UBND",
        document_type="Quyết định",
        place="Quảng Ninh",
        date=(8, 5, 2024),
        title="Về việc phê duyệt Kế hoạch phát triển kinh tế xanh tỉnh Quảng Ninh "
        "giai đoạn 2024 - 2030",
        authority="CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH",
        bases=(
            "Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015",
            "Quyết định số 1658/QĐ-TTg ngày 01 tháng 10 năm 2021 của Thủ tướng Chính phủ "
            "phê duyệt Chiến lược quốc gia về tăng trưởng xanh giai đoạn 2021 - 2030, "
            "tầm nhìn 2050",
        ),
        body=(
            "Theo đề nghị của Giám đốc Sở Kế hoạch và Đầu tư tại Tờ trình số 45/TTr-SKHĐT "
            "ngày 02 tháng 5 năm 2024.",
            "QUYẾT ĐỊNH:",
            "Điều 1. Phê duyệt Kế hoạch phát triển kinh tế xanh tỉnh Quảng Ninh giai đoạn "
            "2024 - 2030 kèm theo Quyết định này.",
            "Điều 2. Giao Sở Kế hoạch và Đầu tư chủ trì, phối hợp với các sở, ngành triển "
            "khai Kế hoạch; thực hiện theo Kế hoạch số 88/KH-UBND ngày 10/3/2024 của Ủy ban "
            "nhân dân tỉnh.",
            "Điều 3. Quyết định này có hiệu lực kể từ ngày ký.",
        ),
        distribution=(
            "Như Điều 3",
            "Bộ Kế hoạch và Đầu tư",
            "TT Tỉnh ủy, HĐND tỉnh",
            "Lưu: VT, TH",
        ),
        signature=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
        signer="Nguyễn Văn Hùng",
        signer_title="Phó Chủ tịch",
        references=("1658/QĐ-TTg", "45/TTr-SKHĐT", "88/KH-UBND"),
    ),
    Sample(
        name="cong-van",
        parent="BỘ TÀI CHÍNH",
        parent_display="Bộ Tài chính",
        issuer="TỔNG CỤC THUẾ",
        issuer_display="Tổng cục Thuế",
        number="2345/TCT-CS",
        document_type="",
        place="Hà Nội",
        date=(20, 11, 2023),
        title="V/v hướng dẫn chính sách thuế giá trị gia tăng",
        recipients=("Cục Thuế các tỉnh, thành phố trực thuộc Trung ương",),
        body=(
            "Tổng cục Thuế nhận được phản ánh của một số Cục Thuế về chính sách thuế giá "
            "trị gia tăng đối với hàng hóa xuất khẩu. Về vấn đề này, Tổng cục Thuế có ý "
            "kiến như sau:",
            "Căn cứ quy định tại Thông tư số 219/2013/TT-BTC ngày 31/12/2013 của Bộ Tài "
            "chính, hàng hóa xuất khẩu được áp dụng thuế suất 0%.",
            "Tổng cục Thuế thông báo để Cục Thuế các tỉnh, thành phố biết và thực hiện./.",
        ),
        distribution=("Như trên", "Vụ Pháp chế - BTC", "Lưu: VT, CS (2b)"),
        signature=("KT. TỔNG CỤC TRƯỞNG", "PHÓ TỔNG CỤC TRƯỞNG"),
        signer="Đặng Ngọc Minh",
        signer_title="Phó Tổng cục trưởng",
        references=("219/2013/TT-BTC",),
    ),
    Sample(
        name="nghi-dinh",
        issuer="CHÍNH PHỦ",
        issuer_display="Chính phủ",
        number="45/2022/NĐ-CP",
        document_type="Nghị định",
        place="Hà Nội",
        date=(7, 7, 2022),
        title="QUY ĐỊNH VỀ XỬ PHẠT VI PHẠM HÀNH CHÍNH TRONG LĨNH VỰC BẢO VỆ MÔI TRƯỜNG",
        bases=(
            "Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015",
            "Luật Bảo vệ môi trường số 72/2020/QH14 ngày 17 tháng 11 năm 2020",
            "Luật Xử lý vi phạm hành chính ngày 20 tháng 6 năm 2012",
        ),
        body=(
            "Theo đề nghị của Bộ trưởng Bộ Tài nguyên và Môi trường;",
            "Chính phủ ban hành Nghị định quy định về xử phạt vi phạm hành chính trong lĩnh "
            "vực bảo vệ môi trường.",
            "Chương I",
            "QUY ĐỊNH CHUNG",
            "Điều 1. Phạm vi điều chỉnh",
            "Nghị định này quy định về hành vi vi phạm hành chính, hình thức xử phạt, mức "
            "xử phạt trong lĩnh vực bảo vệ môi trường.",
            "Điều 2. Hiệu lực thi hành",
            "Nghị định này có hiệu lực thi hành từ ngày 25 tháng 8 năm 2022 và thay thế "
            "Nghị định số 155/2016/NĐ-CP ngày 18 tháng 11 năm 2016 của Chính phủ.",
        ),
        distribution=(
            "Ban Bí thư Trung ương Đảng",
            "Thủ tướng, các Phó Thủ tướng Chính phủ",
            "Các bộ, cơ quan ngang bộ",
            "Lưu: VT, NN (2)",
        ),
        signature=("TM. CHÍNH PHỦ", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG"),
        signer="Lê Văn Thành",
        signer_title="Phó Thủ tướng",
        references=("155/2016/NĐ-CP", "72/2020/QH14"),
    ),
)

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pre_body(s: Sample) -> list[tuple[str, str]]:
    """(kind, text) of what comes between the header table and the signature."""
    out: list[tuple[str, str]] = []
    if s.document_type:
        out.append(("type", s.document_type.upper()))
        out.append(("title", s.title))
        if s.authority:
            out.append(("authority", s.authority))
    else:
        recipients = "; ".join(s.recipients)
        out.append(("recipients", f"Kính gửi: {recipients}."))
    out += [("basis", f"Căn cứ {b};") for b in s.bases]
    out += [("body", p) for p in s.body]
    return out


def _issuer_lines(s: Sample) -> list[str]:
    return [s.parent, s.issuer] if s.parent else [s.issuer]


def sample_html(s: Sample) -> str:
    """The sample as an HTML page: header and signature as two-column tables."""
    left = "<br>".join(f"<b>{_esc(x)}</b>" if x == s.issuer else _esc(x) for x in _issuer_lines(s))
    number = f"Số: {_esc(s.number)}"
    if not s.document_type:
        number += f"<br><i>{_esc(s.title)}</i>"
    rows = [
        f'<tr><td style="width:190pt;text-align:center">{left}</td>'
        f'<td style="width:300pt;text-align:center"><b>{MOTTO[0]}</b><br><b>{MOTTO[1]}</b></td></tr>',
        f'<tr><td style="text-align:center">{number}</td>'
        f'<td style="text-align:center"><i>{_esc(s.date_line())}</i></td></tr>',
    ]
    parts = [f"<table>{''.join(rows)}</table>"]
    for kind, text in _pre_body(s):
        if kind in ("type", "authority") or kind == "title":
            parts.append(f'<p style="text-align:center"><b>{_esc(text)}</b></p>')
        else:
            parts.append(f"<p>{_esc(text)}</p>")
    items = "".join(f"<br>- {_esc(r)};" for r in s.distribution)
    block = "<br>".join(f"<b>{_esc(x)}</b>" for x in s.signature)
    parts.append(
        f'<table><tr><td style="width:240pt"><b><i>Nơi nhận:</i></b>{items}</td>'
        f'<td style="width:250pt;text-align:center">{block}<br><br><br><br>'
        f"<b>{_esc(s.signer)}</b></td></tr></table>"
    )
    return "\n".join(parts)


def write_pdf(s: Sample, path: Path) -> Path:
    """A PDF made with PyMuPDF from :func:`sample_html` (tables laid out as Word prints them)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_htmlbox(pymupdf.Rect(50, 40, 545, 810), sample_html(s))
    doc.save(path)
    doc.close()
    return path


def write_html(s: Sample, path: Path) -> Path:
    path.write_text(
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{_esc(s.number)}'
        f"</title></head><body>{sample_html(s)}</body></html>",
        encoding="utf-8",
    )
    return path


def write_docx(s: Sample, path: Path) -> Path:
    """A DOCX made with python-docx: header and signature as borderless tables, as Word makes them."""
    import docx

    document = docx.Document()

    def para(cell_or_doc: object, text: str, bold: bool = False, italic: bool = False) -> None:
        paragraph = cell_or_doc.add_paragraph()  # type: ignore[attr-defined]
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic

    table = document.add_table(rows=2, cols=2)
    left, right = table.rows[0].cells
    for line in _issuer_lines(s):
        para(left, line, bold=line == s.issuer)
    para(left, "-------")
    para(right, MOTTO[0], bold=True)
    para(right, MOTTO[1], bold=True)
    para(right, "---------------")
    left, right = table.rows[1].cells
    para(left, f"Số: {s.number}")
    if not s.document_type:
        para(left, s.title, italic=True)
    para(right, s.date_line(), italic=True)
    for kind, text in _pre_body(s):
        para(document, text, bold=kind in ("type", "title", "authority"))
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    para(left, "Nơi nhận:", bold=True, italic=True)
    for r in s.distribution:
        para(left, f"- {r};")
    for line in s.signature:
        para(right, line, bold=True)
    para(right, "")
    para(right, s.signer, bold=True)
    document.save(str(path))
    return path


def sample_noisy_text(s: Sample) -> str:
    """Plain text as OCR or ``pdftotext -layout`` gives it: both columns on one line, old
    tone marks ("HOÀ"), some characters decomposed, stray spaces and rules, a page footer."""
    width = 46

    def row(left: str, right: str) -> str:
        return f"{left:<{width}}{right}"

    issuer = _issuer_lines(s)
    day, month, year = s.date
    lines = [
        row(issuer[0], "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        row(issuer[1] if len(issuer) > 1 else "-------", "Độc lập – Tự do – Hạnh phúc"),
    ]
    if len(issuer) > 1:
        lines.append(row("-------", "________________________"))
    number = s.number.replace("/", " /", 1)
    date = f"{s.place},  ngày {day:02d}  tháng {month:02d} năm {year}"
    lines.append(row(f"Số:{number}", date))
    if not s.document_type:
        words = s.title.split()
        half = len(words) // 2
        lines.append(" ".join(words[:half]))
        lines.append(" ".join(words[half:]))
    lines.append("")
    for kind, text in _pre_body(s):
        if kind in ("type", "authority"):
            lines.append(" " * 30 + text)
        elif kind == "title":
            lines.append(" " * 12 + text)
        else:
            # Wrapped at 70 columns with a decomposed word here and there.
            words = text.split()
            chunk: list[str] = []
            for w in words:
                if len(" ".join([*chunk, w])) > 70:
                    lines.append(" ".join(chunk))
                    chunk = []
                chunk.append(unicodedata.normalize("NFD", w) if len(chunk) == 3 else w)
            lines.append(" ".join(chunk))
        lines.append("")
    sig = list(s.signature)
    lines.append(row("Nơi nhận:", sig[0]))
    dist = [f"- {r};" for r in s.distribution]
    for k in range(max(len(dist), len(sig) - 1)):
        lines.append(row(dist[k] if k < len(dist) else "", sig[k + 1] if k + 1 < len(sig) else ""))
    lines += ["", " " * width + "(Đã ký)", "", " " * width + s.signer, "", "Trang 1/1"]
    return "\n".join(lines) + "\n"


def write_text(s: Sample, path: Path) -> Path:
    path.write_text(sample_noisy_text(s), encoding="utf-8")
    return path


WRITERS: dict[str, Callable[[Sample, Path], Path]] = {
    "pdf": write_pdf,
    "docx": write_docx,
    "html": write_html,
    "txt": write_text,
}


def write_fixtures(folder: Path) -> list[tuple[Sample, str, Path]]:
    """Every sample in every format under ``folder``: (sample, format, path)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in SAMPLES:
        for fmt, write in WRITERS.items():
            out.append((s, fmt, write(s, folder / f"{s.name}.{fmt}")))
    return out


# --- admindocs -----------------------------------------------------------------------------


def load_labels(folder: Path) -> list[dict]:
    labels, docs = folder / "labels.jsonl", folder / "docs"
    if not labels.is_file() or not docs.is_dir():
        raise FileNotFoundError(
            f"admindocs not found: expected {labels} and {docs}/ (pass --admindocs PATH)"
        )
    return [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line]


def without_markup(text: str) -> str:
    """What a converter that keeps no emphasis and no table marks gives."""
    lines = [re.sub(r"\*+|^\s*\|\s*$|^#+\s*", "", line) for line in text.splitlines()]
    return "\n".join(lines)


VARIANTS: dict[str, Callable[[str], str]] = {
    "admindocs": lambda t: t,
    "admindocs, no markup": without_markup,
}


# --- scoring -------------------------------------------------------------------------------


@dataclass
class FieldScores:
    name: str
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def add(self, doc: str, name: str, got: object, want: object) -> None:
        ok = field_right(name, got, want)
        self.right[name] = self.right.get(name, 0) + ok
        self.total[name] = self.total.get(name, 0) + 1
        if not ok:
            self.misses.append(f"{self.name}: {doc}: {name}: got {got!r}, want {want!r}")

    def scored(self, names: Sequence[str]) -> float:
        right = sum(self.right.get(n, 0) for n in names)
        total = sum(self.total.get(n, 0) for n in names)
        return right / total if total else 0.0


def _parsed(path: Path) -> ParsedDocument:
    parsed = parse_file(path)
    if not isinstance(parsed, ParsedDocument):
        raise ValueError(f"{path.name}: {parsed.reason}")
    return parsed


def score_admindocs(folder: Path, variant: str = "admindocs") -> FieldScores:
    scores = FieldScores(variant)
    convert = VARIANTS[variant]
    with tempfile.TemporaryDirectory() as tmp:
        for label in load_labels(folder):
            src = folder / "docs" / label["file"]
            path = Path(tmp) / label["file"]
            path.write_text(convert(src.read_text(encoding="utf-8")), encoding="utf-8")
            got = header_fields(_parsed(path).meta.header)
            for name in (*SCORED, *EXTRA):
                want = label.get(name) or ([] if name == "bases" else "")
                scores.add(label["file"], name, got[name], want)
    return scores


def score_fixtures(folder: Path) -> FieldScores:
    scores = FieldScores("fixtures")
    for sample, fmt, path in write_fixtures(folder):
        got = header_fields(_parsed(path).meta.header)
        want = sample.expected()
        for name in FIXTURE_FIELDS:
            scores.add(f"{sample.name}.{fmt}", name, got[name], want[name])
    return scores


def format_scores(rows: Sequence[FieldScores], markdown: bool = False) -> str:
    names = [*SCORED, *EXTRA, "recipients", "references"]
    head = ["set", "scored fields", *names]
    body = []
    for r in rows:
        cells = [r.name, f"{r.scored(SCORED):.3f}"]
        for n in names:
            cells.append(f"{r.right[n]}/{r.total[n]}" if n in r.total else "-")
        body.append(cells)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [head, *body])


def run_header_eval(admindocs: Path, markdown: bool = False) -> int:
    """Print field accuracy on admindocs (and its converter variants) and on the fixtures;
    exit 1 when admindocs is absent (the fixtures are still measured)."""
    rows: list[FieldScores] = []
    status = 0
    try:
        load_labels(admindocs)
    except FileNotFoundError as exc:
        print(f"skipping admindocs: {exc}", file=sys.stderr)
        status = 1
    else:
        rows += [score_admindocs(admindocs, v) for v in VARIANTS]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(score_fixtures(Path(tmp)))
    for r in rows:
        for miss in r.misses:
            print(miss, file=sys.stderr)
    print(format_scores(rows, markdown))
    return status
