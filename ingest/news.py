"""News from JSON lines and RSS/Atom feeds, deduplicated by URL or content hash.

The doc_id of an item without one is derived from its URL (or, without a URL, from
its title, date and text), so the same story fetched twice is one document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from time import mktime

from pydantic import ValidationError

from ingest.files import html_to_text
from retrieval.errors import IngestError
from retrieval.models import DocType, Document


def news_id(url: str | None, title: str, published: str, text: str) -> str:
    basis = url or f"{title}|{published}|{text}"
    return "news:" + hashlib.sha1(basis.encode()).hexdigest()[:20]


def _document(item: dict, where: str) -> Document:
    text = item.get("text") or item.get("body") or item.get("content")
    if not isinstance(text, str) or not text.strip():
        raise IngestError(f"{where}: no text")
    if not item.get("title"):
        raise IngestError(f"{where}: no title")
    if not item.get("published_at"):
        raise IngestError(f"{where}: no published_at date")
    fields = {
        "doc_id": item.get("doc_id")
        or news_id(item.get("url"), item["title"], str(item["published_at"]), text),
        "title": item["title"],
        "source": item.get("source") or "news",
        "doc_type": DocType.NEWS,
        "tickers": [str(t).upper() for t in item.get("tickers") or []],
        "published_at": str(item["published_at"])[:10],
        "url": item.get("url"),
        "text": text,
        "synthetic": bool(item.get("synthetic", False)),
    }
    try:
        return Document.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise IngestError(f"{where}: {problems}") from None


def read_jsonl(path: Path) -> Iterator[Document | IngestError]:
    """Each line a JSON object; a bad line yields an error and the rest still load."""
    with Path(path).open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{Path(path).name} line {number}"
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise IngestError(f"{where}: expected a JSON object")
                yield _document(item, where)
            except json.JSONDecodeError as exc:
                yield IngestError(f"{where}: malformed JSON ({exc.msg})")
            except IngestError as exc:
                yield exc


def read_feed(source: str, tickers: list[str] | None = None) -> Iterator[Document | IngestError]:
    """An RSS/Atom feed from a URL or a file; items become news documents."""
    import feedparser

    if "://" not in source and not Path(source).is_file():
        raise IngestError(f"feed {source}: no such file (give a file or an http(s) URL)")
    parsed = feedparser.parse(source)
    if parsed.bozo and not parsed.entries:
        raise IngestError(f"feed {source} failed to parse: {parsed.get('bozo_exception')}")
    publisher = parsed.feed.get("title") or "feed"
    for i, entry in enumerate(parsed.entries, start=1):
        where = f"feed {source} item {i}"
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp is None:
            yield IngestError(f"{where}: no publication date")
            continue
        day: date = datetime.fromtimestamp(mktime(stamp)).date()
        content = entry.get("content", [{}])[0].get("value") or entry.get("summary") or ""
        try:
            yield _document(
                {
                    "title": entry.get("title"),
                    "url": entry.get("link"),
                    "published_at": day.isoformat(),
                    "source": publisher,
                    "tickers": tickers or [],
                    "text": html_to_text(content) if "<" in content else content,
                },
                where,
            )
        except IngestError as exc:
            yield exc


class Deduper:
    """Recognises the same story seen again within one batch: same id, URL or text."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def is_repeat(self, doc: Document) -> bool:
        keys = {f"id:{doc.doc_id}", f"text:{hashlib.sha1(doc.text.encode()).hexdigest()}"}
        if doc.url:
            keys.add(f"url:{doc.url}")
        if keys & self.seen:
            return True
        self.seen |= keys
        return False


def dedupe(docs: list[Document]) -> list[Document]:
    """Drop repeats of the same story within one batch (same id, URL or content)."""
    deduper = Deduper()
    return [d for d in docs if not deduper.is_repeat(d)]
