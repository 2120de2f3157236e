"""Documents, chunks, filters and citations: the index's vocabulary."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints, WithJsonSchema

from retrieval.days import Day


def storable(text: str) -> str:
    """Text that every store can hold and every page can show: no NUL (PostgreSQL text
    refuses it) and no lone surrogate (it cannot be encoded as UTF-8)."""
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains an invalid character (a lone surrogate)") from None
    return text


WEB_URL = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s\x00\[\]]+([/?#][^\x00]*)?$")
"""http(s)://, a host (no IPv6 literal), then anything but NUL."""


def web_url(url: str) -> str:
    if not WEB_URL.match(url):
        raise ValueError("must be an http:// or https:// address")
    return url


class SchemaPattern:
    """Says in the JSON schema what a validator checks, so a client (or a fuzzer) that
    reads the schema knows what is refused (the validator keeps its own message)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema.setdefault("pattern", self.pattern)
        return schema


StoredText = Annotated[str, AfterValidator(storable), SchemaPattern("^[^\\x00]*$")]
Ticker = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=1,
        max_length=20,
        pattern=r"^\s*[A-Za-z0-9.^=-]+\s*$",
    ),
    # the schema counts the length without the spaces that are stripped, as the server does
    WithJsonSchema({"type": "string", "pattern": r"^\s*[A-Za-z0-9.^=-]{1,20}\s*$"}),
]
"""A symbol as exchanges and data vendors spell it (BRK.B, ^GSPC, EURUSD=X)."""
PublishedDay = Day
DocId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(storable),
]


class DocType(StrEnum):
    NEWS = "news"
    FILING = "filing"


class Document(BaseModel):
    """One source document as a loader produces it."""

    doc_id: DocId = Field(description="Stable id: re-ingesting the same id replaces the document.")
    title: StoredText
    source: StoredText = Field(
        description='Publisher, "SEC EDGAR", or "sample" for the synthetic corpus.'
    )
    doc_type: DocType
    form: Annotated[StoredText, StringConstraints(strip_whitespace=True, to_upper=True)] | None = (
        Field(None, description="10-K, 10-Q, 8-K for filings (stored upper-case).")
    )
    tickers: list[Ticker] = Field(default_factory=list, max_length=50)
    published_at: PublishedDay
    url: Annotated[str, AfterValidator(web_url), SchemaPattern(WEB_URL.pattern)] | None = None
    text: StoredText
    sections: list[tuple[StoredText, StoredText]] | None = Field(
        None, description="(heading, body) pairs when the loader knows the structure."
    )
    synthetic: StrictBool = False


class Chunk(BaseModel):
    """A piece of a document as stored in the index (its text keeps the heading path)."""

    chunk_id: str
    doc_id: str
    position: int
    text: str
    title: str
    source: str
    doc_type: DocType
    form: str | None = None
    section: str | None = None
    tickers: list[str]
    published_at: date
    url: str | None = None
    sentiment: float | None = Field(None, description="-1 (negative) .. 1 (positive), news only.")
    sentiment_label: str | None = None
    doc_hash: str = Field(description="Hash of the whole document; a change replaces its chunks.")
    synthetic: StrictBool = False


class SearchFilters(BaseModel):
    tickers: list[str] | None = None
    doc_type: DocType | None = None
    form: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)] | None = Field(
        None, description="10-K, 10-Q, 8-K...; any case (forms are stored upper-case)."
    )
    start: date | None = Field(None, description="Published on or after.")
    end: date | None = Field(None, description="Published on or before.")
    as_of: date | None = Field(None, description="Nothing published after this date.")

    @property
    def latest(self) -> date | None:
        bounds = [d for d in (self.end, self.as_of) if d is not None]
        return min(bounds) if bounds else None


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    source: str
    published_at: date
    section: str | None = None
    snippet: str
    url: str | None = None


class SearchHit(BaseModel):
    score: float
    chunk: Chunk
    citation: Citation


class SearchResult(BaseModel):
    query: str
    mode: str
    filters: SearchFilters
    as_of: date | None
    source: str = "document index"
    hits: list[SearchHit]
