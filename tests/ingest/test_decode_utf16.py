"""UTF-16 without a byte-order mark is read as text (issue 25), binary data still is not."""

from __future__ import annotations

import random

import pytest

from ingest.extract import ExtractionError, TextExtractor, decode_text

TEXT = (
    "Điều 1. Phạm vi điều chỉnh\r\n"
    "Kế hoạch phát triển nghề nuôi cá hồi vân ở thị xã Sa Pa năm 2026; "
    "Sở Nông nghiệp và Môi trường chủ trì (khoản 2, điều 3).\n"
)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_with_or_without_a_mark_decodes(encoding: str) -> None:
    assert decode_text(TEXT.encode(encoding)) == TEXT


def test_text_with_only_marked_letters_decodes() -> None:
    # Few ASCII letters: the zero bytes come from spaces and digits alone.
    text = "Điều 1 Đồng Hới ở Quảng Bình được ấy ệ ổ ữ " * 5
    assert decode_text(text.encode("utf-16-le")) == text


def test_binary_data_with_zero_bytes_is_still_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "nul.txt": TEXT.encode() + b"\x00\x01\x02" * 50,
        # Zero bytes in every other position, as in UTF-16, but small integers (control
        # characters), not text.
        "ints.txt": b"".join(bytes([i % 31 + 1, 0]) for i in range(400)),
        "random.txt": bytes(random.Random(7).getrandbits(8) for _ in range(4000)) + b"\x00\x00",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ExtractionError):
            TextExtractor().extract(path)
