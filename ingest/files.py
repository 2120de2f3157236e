"""Files: Markdown, plain text, HTML and PDF, with metadata from YAML front matter or a
sidecar JSON (``report.pdf`` + ``report.pdf.json`` or ``report.json``).

Metadata keys: doc_id, title, source, doc_type (news | filing), form, tickers,
published_at, url. Defaults: doc_id ``file:<name>``, title from the first heading or
the file name, source ``file``, doc_type ``filing`` when a form is given else ``news``,
published_at the file's modification date.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import yaml
from pydantic import ValidationError

from retrieval.errors import IngestError
from retrieval.models import Document

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf"}


class _HtmlText(HTMLParser):
    """Visible text of an HTML page; headings become Markdown headings."""

    BLOCK = frozenset({"p", "div", "br", "li", "tr", "table", "section", "article"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise IngestError(f"{path}: binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestError(f"{path}: not UTF-8 text") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line report as one line: the problem and where it is."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return f"{problem}{where}"


def _front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return {}, text
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"front matter is not valid YAML: {yaml_problem(exc)}") from None
    except ValueError as exc:  # YAML reads 2021-02-30 as a date, which cannot exist
        raise IngestError(f"front matter has an impossible value: {exc}") from None
    if not isinstance(meta, dict):
        raise IngestError("front matter must be a mapping")
    return meta, parts[1].lstrip("\n")


def _sidecar(path: Path) -> dict:
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file() and candidate != path:
            try:
                return json.loads(candidate.read_text())
            except json.JSONDecodeError as exc:
                raise IngestError(f"{candidate}: invalid JSON metadata: {exc}") from None
    return {}


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        raise IngestError(f"{path}: cannot read PDF: {exc}") from None
    if not text.strip():
        raise IngestError(f"{path}: the PDF has no extractable text (scanned image?)")
    return text


def load_file(path: Path) -> Document:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(f"{path}: unsupported file type {suffix or '(none)'}")
    meta = _sidecar(path)
    if suffix == ".pdf":
        body = _pdf_text(path)
    else:
        text = _read_text(path)
        try:
            front, text = _front_matter(text) if suffix in TEXT_SUFFIXES else ({}, text)
        except IngestError as exc:  # name the file: a folder holds many
            raise IngestError(f"{path}: {exc}") from None
        meta = {**meta, **front}
        body = html_to_text(text) if suffix in HTML_SUFFIXES else text
    if not body.strip():
        raise IngestError(f"{path}: empty document")
    return document_from(meta, body, path)


def file_doc_id(path: Path) -> str:
    """``file:<name>:<8 hex of the absolute path>``: readable, and two README.md files in
    different folders are two documents (the name alone made the second replace the
    first). Re-ingesting the same file keeps its id."""
    where = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    return f"file:{path.name}:{where}"


def document_from(meta: dict, body: str, path: Path) -> Document:
    heading = re.search(r"^#\s+(.+)$", body, re.M)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
    fields = {
        "doc_id": file_doc_id(path),
        "title": heading.group(1).strip() if heading else path.stem,
        "source": "file",
        "doc_type": "filing" if meta.get("form") else "news",
        "published_at": mtime,
        **meta,
        "text": body,
    }
    given = fields.get("tickers") or []
    if isinstance(given, str):  # "tickers: KO" or "tickers: AAPL, MSFT", not a YAML list
        given = given.replace(",", " ").split()
    fields["tickers"] = [str(t).upper() for t in given]
    if isinstance(fields["published_at"], datetime):
        fields["published_at"] = fields["published_at"].date()
    try:
        return Document.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise IngestError(f"{path}: bad metadata: {problems}") from None


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and the supported files inside given folders (sidecars excluded)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED)
            if not found:
                kinds = ", ".join(sorted(s.lstrip(".") for s in SUPPORTED))
                raise IngestError(f"{p} holds no documents to ingest ({kinds})")
            out.extend(found)
        else:
            out.append(p)
    return out


def today() -> date:
    return datetime.now(UTC).date()
