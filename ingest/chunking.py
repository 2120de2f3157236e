"""Structure-aware chunking: filings by heading (Item, then sub-heading), then paragraphs;
news by paragraphs. Each chunk's text starts with its heading path, so a chunk from
"Item 1A. Risk Factors › Supply chain concentration" is found by those words too.

Paragraphs are packed up to ``chunk_words``; a paragraph longer than that is split by
llama-index's ``SentenceSplitter`` (word-counted, so no tokenizer is downloaded).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from retrieval.models import Chunk, DocType, Document

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")


@dataclass(frozen=True)
class ChunkSettings:
    chunk_words: int = 180
    overlap_words: int = 30

    def key(self) -> str:
        return f"{self.chunk_words}/{self.overlap_words}"


def sections_of(doc: Document) -> list[tuple[list[str], str]]:
    """(heading path, body) pairs; markdown headings or the loader's own sections."""
    if doc.sections:
        return [([heading], body) for heading, body in doc.sections]
    out: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        if text:
            out.append(([h for _, h in path], text))
        body.clear()

    for line in doc.text.splitlines():
        m = _HEADING.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path[:] = [(lvl, h) for lvl, h in path if lvl < level]
            if level > 1:  # the H1 is the document title, already in every chunk
                path.append((level, m.group(2)))
        else:
            body.append(line)
    flush()
    return out


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _split_long(paragraph: str, settings: ChunkSettings) -> list[str]:
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(
        chunk_size=settings.chunk_words,
        chunk_overlap=settings.overlap_words,
        tokenizer=str.split,
    )
    return splitter.split_text(paragraph)


def _pack(paragraphs: list[str], settings: ChunkSettings) -> list[str]:
    pieces: list[str] = []
    for p in paragraphs:
        pieces.extend(_split_long(p, settings) if len(p.split()) > settings.chunk_words else [p])
    chunks, current, words = [], [], 0
    for piece in pieces:
        n = len(piece.split())
        if current and words + n > settings.chunk_words:
            chunks.append("\n\n".join(current))
            tail = current[-1].split()[-settings.overlap_words :] if settings.overlap_words else []
            current, words = ([" ".join(tail)] if tail else []), len(tail)
        current.append(piece)
        words += n
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def document_hash(doc: Document, settings: ChunkSettings, extra: str = "") -> str:
    """Changes when the document, the chunking or the enrichment (``extra``) changes."""
    payload = doc.model_dump_json(exclude={"sections"}) + settings.key() + extra
    payload += repr(doc.sections)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def chunk_document(doc: Document, settings: ChunkSettings, doc_hash: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    sections = sections_of(doc) or [([], doc.text)]
    for path, body in sections:
        for text in _pack(_paragraphs(body), settings):
            heading = " › ".join([doc.title, *path])
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    position=len(chunks),
                    text=f"[{heading}]\n{text}",
                    title=doc.title,
                    source=doc.source,
                    doc_type=doc.doc_type,
                    form=doc.form,
                    section=_section(path) if doc.doc_type is DocType.FILING else None,
                    tickers=doc.tickers,
                    published_at=doc.published_at,
                    url=doc.url,
                    doc_hash=doc_hash,
                    synthetic=doc.synthetic,
                )
            )
    return chunks


def _section(path: list[str]) -> str | None:
    """The Item a filing chunk belongs to (its top heading)."""
    return path[0] if path else None
