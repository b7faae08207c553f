"""Structure-aware chunking: each chunk keeps its section path and page.

Body blocks are grouped by (section path, page), then packed into chunks of
at most ``chunk_tokens`` model tokens by langchain's recursive splitter, which
breaks at paragraph, line, sentence and clause boundaries in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.models import Chunk, ParsedDocument
from ingest.structure import strip_markup

SECTION_SEP = " › "
_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]


class Chunker(Protocol):
    def chunk(self, doc: ParsedDocument) -> list[Chunk]: ...

    def settings(self) -> dict[str, int | str]: ...


def embed_header(title: str, section: str) -> str:
    return "\n".join(p for p in (title, section) if p)


@dataclass
class StructureChunker:
    token_count: Callable[[str], int]
    chunk_tokens: int = 256
    overlap_tokens: int = 32
    max_tokens: int = 510

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_tokens < self.chunk_tokens <= self.max_tokens:
            raise ValueError("need 0 <= overlap_tokens < chunk_tokens <= max_tokens")

    def settings(self) -> dict[str, int | str]:
        return {
            "chunker": "structure",
            "chunk_tokens": self.chunk_tokens,
            "overlap_tokens": self.overlap_tokens,
            "max_tokens": self.max_tokens,
        }

    def _splitter(self, budget: int) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            chunk_size=budget,
            chunk_overlap=min(self.overlap_tokens, budget // 4),
            length_function=self.token_count,
            separators=_SEPARATORS,
            keep_separator="end",
        )

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        segments: list[tuple[str, int | None, list[str]]] = []
        stack: list[tuple[int, str]] = []
        for block in doc.blocks:
            if block.heading_level is not None:
                if block.heading_level == 0:
                    continue  # part of the title, carried by every chunk anyway
                while stack and stack[-1][0] >= block.heading_level:
                    stack.pop()
                stack.append((block.heading_level, block.text))
                continue
            section = SECTION_SEP.join(text for _, text in stack)
            text = strip_markup(block.text)
            if not text:
                continue
            if segments and segments[-1][0] == section and segments[-1][1] == block.page:
                segments[-1][2].append(text)
            else:
                segments.append((section, block.page, [text]))

        title = doc.meta.title
        chunks: list[Chunk] = []
        for section, page, texts in segments:
            header = embed_header(title, section)
            # The header counts against the model's limit, so the body budget shrinks.
            header_tokens = self.token_count(header + "\n")
            if header_tokens > self.max_tokens // 2:
                header = header[: len(header) // 2]
                header_tokens = self.token_count(header + "\n")
            budget = max(32, min(self.chunk_tokens, self.max_tokens - header_tokens))
            for piece in self._splitter(budget).split_text("\n\n".join(texts)):
                piece = piece.strip()
                if not piece:
                    continue
                chunks.append(
                    Chunk(
                        doc_id=doc.meta.doc_id,
                        ordinal=len(chunks),
                        section=section,
                        page=page,
                        text=piece,
                        embed_text=f"{header}\n{piece}" if header else piece,
                    )
                )
        return chunks
