"""Hostile and broken files, generated for the tests (importable as ``hostile`` from tests).

Each :class:`Case` is one file a stranger could upload and what must happen
to it: ``rejected`` with a reason containing ``reason``, or ``ingested``
(optionally with a warning). The limits they are meant for are
:data:`TEST_LIMITS`; the generators are cheap (the 1 GiB bombs are built
from one repeated compressed block, in about a second).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymupdf

from ingest.sandbox import ExtractionLimits

# Small enough that the bombs and the hanging PDF hit them quickly.
TEST_LIMITS = ExtractionLimits(timeout_s=4.0, memory_mb=256, max_pdf_pages=1000, max_chars=50_000)

VI_TEXT = (
    "Kế hoạch phát triển du lịch cộng đồng tỉnh Hà Giang giai đoạn 2025-2030. "
    "Sở Văn hóa, Thể thao và Du lịch chủ trì, phối hợp với Ủy ban nhân dân các huyện "
    "xây dựng sản phẩm du lịch gắn với bản sắc dân tộc."
)


@dataclass
class Case:
    name: str  # file name, with the suffix the uploader claims
    make: Callable[[Path], None]
    outcome: str  # "rejected" | "ingested"
    reason: str | tuple[str, ...] = ""  # substring(s) of the rejection reason or of a warning
    what: str = ""  # one line for the report

    def matches(self, text: str) -> bool:
        options = (self.reason,) if isinstance(self.reason, str) else self.reason
        return any(o in text for o in options)


def _pdf_with_text(text: str) -> pymupdf.Document:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(50, 50, 545, 800), text, fontname="helv", fontsize=11)
    return doc


def _ascii(text: str) -> str:
    # helv has no Vietnamese glyphs; these PDFs are about structure, not script.
    return "Ke hoach phat trien du lich cong dong tinh Ha Giang giai doan 2025-2030. " * 3


def make_encrypted(path: Path) -> None:
    doc = _pdf_with_text(_ascii(VI_TEXT))
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")


def make_owner_only_encrypted(path: Path) -> None:
    # Encrypted against editing but readable without a password: fine to ingest.
    doc = _pdf_with_text(_ascii(VI_TEXT))
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="", owner_pw="owner")


def make_broken_xref(path: Path) -> None:
    data = _pdf_with_text(_ascii(VI_TEXT)).tobytes()
    at = data.rfind(b"startxref")
    data = data[:at] + b"startxref\n999999\n%%EOF\n"
    xref = data.find(b"\nxref")
    data = data[:xref] + data[xref:].replace(b"0000000", b"9999999")
    path.write_bytes(data)


def _repeated_deflate(size_mib: int, raw: bool) -> tuple[bytes, int, int]:
    """(compressed stream of size_mib MiB of spaces, crc32, adler32) without compressing it all."""
    block = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    body = first + again * (size_mib - 1) + comp.flush()
    crc, adler = 0, 1
    for _ in range(size_mib):
        crc = zlib.crc32(block, crc)
        adler = zlib.adler32(block, adler)
    if raw:
        return body, crc, adler
    return b"\x78\xda" + body + struct.pack(">I", adler), crc, adler


def make_pdf_bomb(path: Path) -> None:
    """A 1 MB PDF whose page content stream inflates to 1 GiB."""
    doc = _pdf_with_text("Bomb")
    xref = doc[0].get_contents()[0]
    stream, _, _ = _repeated_deflate(1024, raw=False)
    doc.update_stream(xref, stream, compress=False)
    doc.xref_set_key(xref, "Filter", "/FlateDecode")
    doc.save(path)


def make_docx_bomb(path: Path) -> None:
    """A 0.5 MB DOCX whose word/document.xml inflates to 512 MiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
        # The big member: written raw, with the sizes and CRC the repeated block implies.
        body, crc, _ = _repeated_deflate(512, raw=True)
        size = 512 << 20
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.CRC, info.compress_size, info.file_size = crc, len(body), size
        info.header_offset = z.fp.tell()  # type: ignore[union-attr]
        z.fp.write(info.FileHeader(zip64=False))  # type: ignore[union-attr]
        z.fp.write(body)  # type: ignore[union-attr]
        z.filelist.append(info)
        z.NameToInfo[info.filename] = info
        z.start_dir = z.fp.tell()  # type: ignore[union-attr]


def make_hanging_pdf(path: Path) -> None:
    """A 2 KB PDF whose page draws a form that draws a form... 10^7 times."""
    doc = _pdf_with_text("Hang")
    page = doc[0]
    kind, val = doc.xref_get_key(page.xref, "Resources")
    res_xref = int(val.split()[0]) if kind == "xref" else page.xref
    helv = doc.xref_get_key(res_xref, "Font/helv")[1]
    prev = None
    for _ in range(8):
        x = doc.get_new_xref()
        sub = f"/XObject << /F {prev} 0 R >>" if prev else ""
        doc.update_object(
            x,
            "<< /Type /XObject /Subtype /Form /BBox [0 0 600 800] "
            f"/Resources << /Font << /helv {helv} >> {sub} >> >>",
        )
        doc.update_stream(
            x, b"BT /helv 1 Tf 10 10 Td (a) Tj ET" if prev is None else b"/F Do " * 10
        )
        prev = x
    doc.xref_set_key(res_xref, "XObject", f"<< /Top {prev} 0 R >>")
    contents = page.get_contents()[0]
    doc.update_stream(contents, doc.xref_stream(contents) + b"\n/Top Do")
    doc.save(path)


def make_many_pages(path: Path) -> None:
    doc = pymupdf.open()
    for i in range(3000):
        doc.new_page().insert_text((50, 50), f"Page {i}", fontname="helv")
    doc.save(path)


def make_zero_pages(path: Path) -> None:
    objs = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[]/Count 0>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj" % i + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))


def make_image_only(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pix.clear_with(200)
    page.insert_image(pymupdf.Rect(50, 50, 450, 250), pixmap=pix)
    doc.save(path)


def make_zip_as_pdf(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", VI_TEXT)


def make_exe_as_pdf(path: Path) -> None:
    path.write_bytes(b"MZ\x90\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode.")


def make_text_as_docx(path: Path) -> None:
    path.write_text(VI_TEXT, encoding="utf-8")


def make_cp1258(path: Path) -> None:
    # Windows-1258 has â, ơ, ư... precomposed but writes tone marks as combining characters.
    import unicodedata

    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in VI_TEXT:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    path.write_bytes("".join(out).encode("cp1258"))


def make_utf16(path: Path) -> None:
    path.write_bytes(VI_TEXT.encode("utf-16"))


def make_undecodable(path: Path) -> None:
    # Bytes that are neither UTF-8 nor Windows-1258 (0x81, 0x8D-0x90 are unassigned there).
    path.write_bytes(b"Ke hoach \x81\x8d\x8e\x8f\x90 nam 2025 " * 20)


def make_nul_text(path: Path) -> None:
    path.write_bytes(VI_TEXT.encode() + b"\x00\x01\x02" * 50)


def make_empty(path: Path) -> None:
    path.write_bytes(b"")


def make_huge_line(path: Path) -> None:
    """2 million characters on one line: past the character limit."""
    words = VI_TEXT.replace(".", "").split()
    line = " ".join(words[i % len(words)] for i in range(450_000))
    path.write_text(line[:2_000_000], encoding="utf-8")


def make_long_line(path: Path) -> None:
    """8 000 characters on one line, no full stop: under the limit, must be split."""
    words = VI_TEXT.replace(".", "").replace(",", "").split()
    line = " ".join(words[i % len(words)] for i in range(1_500))
    path.write_text(line[:8_000], encoding="utf-8")


SCRIPT_MARK = "pwned-by-script"


def make_script_html(path: Path) -> None:
    scripts = "".join(
        f"<script>document.body.innerHTML='{SCRIPT_MARK}{i}';fetch('/steal?c='+document.cookie)"
        "</script>"
        for i in range(500)
    )
    path.write_text(
        "<!doctype html><html><head><title>Kế hoạch du lịch Hà Giang</title>"
        '<link rel="canonical" href="javascript:alert(1)">'
        f"<script src='https://evil.example/x.js'></script>{scripts}"
        f"<style>body{{background:url('javascript:{SCRIPT_MARK}')}}</style></head>"
        f"<body onload=\"alert('{SCRIPT_MARK}')\">"
        f"<h1>Kế hoạch du lịch Hà Giang</h1><p>{VI_TEXT}</p>"
        f"<img src=x onerror=\"alert('{SCRIPT_MARK}')\">"
        f"<a href=\"javascript:alert('{SCRIPT_MARK}')\">Xem thêm chi tiết</a>"
        f"<noscript>{SCRIPT_MARK}</noscript>"
        f"<iframe srcdoc=\"<script>alert('{SCRIPT_MARK}')</script>\"></iframe>"
        f"<svg><script>alert('{SCRIPT_MARK}')</script></svg>"
        "<p>&lt;script&gt;alert('literal text')&lt;/script&gt; là một đoạn văn bản.</p>"
        f"{scripts}</body></html>",
        encoding="utf-8",
    )


CASES = [
    Case("encrypted.pdf", make_encrypted, "rejected", "encrypted PDF", "AES-256, user password"),
    Case(
        "owner-password-only.pdf",
        make_owner_only_encrypted,
        "ingested",
        "",
        "AES-256 with an owner password only (opens without one)",
    ),
    Case(
        "broken-xref.pdf",
        make_broken_xref,
        "ingested",
        "cross-reference table was broken",
        "startxref and every xref offset wrong",
    ),
    # PyMuPDF inflates content streams as it reads them, so this bomb costs time, not
    # memory: stopped at the time limit, or read to its end (1 GiB of spaces) within it.
    Case(
        "bomb.pdf",
        make_pdf_bomb,
        "rejected",
        ("EXTRACTION_TIMEOUT_S", "no extractable text", "EXTRACTION_MEMORY_MB"),
        "1 MB -> 1 GiB content stream",
    ),
    Case("bomb.docx", make_docx_bomb, "rejected", "EXTRACTION_MEMORY_MB", "0.5 MB -> 512 MiB XML"),
    Case(
        "hangs.pdf",
        make_hanging_pdf,
        "rejected",
        "EXTRACTION_TIMEOUT_S",
        "2 KB, forms nested 8 deep x10: 10^7 draws",
    ),
    Case("3000-pages.pdf", make_many_pages, "rejected", "MAX_PDF_PAGES", "3000 pages"),
    Case("zero-pages.pdf", make_zero_pages, "rejected", "no pages", "valid PDF, /Count 0"),
    Case("image-only.pdf", make_image_only, "rejected", "no extractable text", "one image"),
    Case("really-a-zip.pdf", make_zip_as_pdf, "rejected", "ZIP archive", ".pdf that is a ZIP"),
    Case("program.pdf", make_exe_as_pdf, "rejected", "Windows program", ".pdf that is an .exe"),
    Case("not-a-zip.docx", make_text_as_docx, "rejected", "not a DOCX", "text named .docx"),
    Case("legacy-cp1258.txt", make_cp1258, "ingested", "", "Windows-1258, decomposed tones"),
    Case("utf16.txt", make_utf16, "ingested", "", "UTF-16 with BOM"),
    Case(
        "undecodable.txt",
        make_undecodable,
        "rejected",
        "not UTF-8 or Windows-1258",
        "bytes unassigned in both",
    ),
    Case("binary.txt", make_nul_text, "rejected", "binary data", "NUL bytes in text"),
    Case("empty.txt", make_empty, "rejected", "empty file", "0 bytes"),
    Case(
        "huge-line.txt", make_huge_line, "rejected", "MAX_DOCUMENT_CHARS", "2 M chars on one line"
    ),
    Case("long-line.txt", make_long_line, "ingested", "", "8 000 chars on one line"),
    Case("scripts.html", make_script_html, "ingested", "", "1000 scripts, handlers, js: URLs"),
]


def write_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in CASES:
        path = folder / case.name
        case.make(path)
        paths[case.name] = path
    return paths
