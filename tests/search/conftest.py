"""Shared by the search tests: a tiny real index (three Vietnamese documents) and a
factory of document records for the metadata-filter rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.build import build_index
from index.embed import Embedder
from index.store import StoredDocument

DOCS = {
    "ke-hoach-lao-cai.md": """# KẾ HOẠCH HÀNH ĐỘNG TĂNG TRƯỞNG XANH TỈNH LÀO CAI

Lào Cai, ngày 15 tháng 3 năm 2023

## I. MỤC TIÊU

Giảm cường độ phát thải khí nhà kính trên GDP ít nhất 15% so với năm 2014. Tỷ lệ che phủ \
rừng ổn định ở mức 60%.

## II. TỔ CHỨC THỰC HIỆN

### 1. Sở Tài nguyên và Môi trường

Chủ trì quản lý chất thải rắn sinh hoạt và giám sát ô nhiễm môi trường ở các khu công nghiệp.

### 2. Sở Giao thông vận tải

Mở thêm các tuyến xe buýt điện mới trên địa bàn tỉnh và phát triển giao thông công cộng.
""",
    "dong-nai-kobe.txt": """Đồng Nai ký kết thỏa thuận hợp tác tăng trưởng xanh với thành phố Kobe

Ngày 10/9/2024, UBND tỉnh Đồng Nai ký kết thỏa thuận hợp tác với thành phố Kobe, Nhật Bản \
về khu công nghiệp xanh và năng lượng tái tạo.

Đồng Nai có 39 khu công nghiệp được quy hoạch với tổng diện tích trên 18,5 ngàn ha.
""",
    "tra-vinh-tin.txt": """Trà Vinh phát triển du lịch sinh thái ven biển

Ngày 30/10/2022, tỉnh Trà Vinh tổ chức hội thảo về du lịch sinh thái, bảo tồn rừng ngập mặn \
và đời sống người dân ở vùng ven biển.

Người dân được hướng dẫn trồng cây xanh, thu gom rác thải nhựa và giữ gìn cảnh quan.
""",
}


@pytest.fixture(scope="session")
def tiny_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-docs")
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_index(
    tmp_path_factory: pytest.TempPathFactory, tiny_docs: Path, embedder: Embedder
) -> Path:
    index_dir = tmp_path_factory.mktemp("tiny-index")
    build_index([tiny_docs], index_dir, embedder)
    return index_dir


DocMaker = Callable[..., StoredDocument]


@pytest.fixture(scope="session")
def make_doc() -> DocMaker:
    """A stored document record: agreement "d" of 2024-09-10 in Đồng Nai and Thừa Thiên Huế,
    with any field overridden (``make_doc(date="")``)."""

    def make(**fields: Any) -> StoredDocument:
        base = StoredDocument(
            doc_id="d",
            title="t",
            source="s",
            path="p",
            root="r",
            date="2024-09-10",
            doc_type="agreement",
            provinces=["Đồng Nai", "Thừa Thiên Huế"],
            content_hash="h",
            blocks=[],
            n_chunks=1,
        )
        return replace(base, **fields)

    return make
