"""`assistant ingest` and `assistant search`: fill and query the document index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path

import typer
from rich.progress import Progress

from assistant.resources import chunk_settings, document_index
from assistant.settings import get_settings
from cli.options import DATE_FORMATS, EndOption, JsonOption, StartOption, as_date
from cli.output import console, emit, table
from cli.startup import settled
from ingest.files import expand_paths, load_file, today
from ingest.pipeline import IngestReport, ingest, sample_documents
from ingest.sentiment import load_sentiment
from retrieval.errors import IngestError, RetrievalError
from retrieval.models import DocType, Document, SearchFilters, SearchResult
from tools.market_data import EARLIEST


def _split(values: list[str]) -> list[str]:
    """``--edgar AAPL,MSFT --edgar KO`` as [AAPL, MSFT, KO], each once, in order."""
    out: list[str] = []
    for value in values:
        for part in value.replace(" ", ",").split(","):
            if part.strip() and part.strip().upper() not in out:
                out.append(part.strip().upper())
    return out


def _edgar(
    tickers: list[str], forms: list[str], limit: int, have: set[str], seen
) -> Iterator[Document | IngestError]:
    """Filings one at a time (written as they arrive); those already indexed are not
    downloaded again, so a run that was stopped picks up where it was."""
    from ingest.edgar import EdgarClient

    settings = get_settings()
    client = EdgarClient(settings.edgar_user_agent, base_url=settings.edgar_base_url)
    for ticker in tickers:
        yield from client.iter_filings(ticker, forms, limit, have, seen)


def _gather(
    paths: list[Path],
    sample: bool,
    rss: str | None,
    tickers: list[str],
) -> list[Document | IngestError]:
    items: list[Document | IngestError] = []
    if sample:
        items.extend(sample_documents())
    for path in expand_paths(paths):
        if path.suffix.lower() == ".jsonl":
            from ingest.news import read_jsonl

            items.extend(
                read_jsonl(path) if path.is_file() else [IngestError(f"{path}: no such file")]
            )
            continue
        try:
            if not path.exists():
                raise IngestError(f"{path}: no such file")
            items.append(load_file(path))
        except IngestError as exc:
            items.append(exc)
    if rss:
        from ingest.news import read_feed

        try:
            items.extend(read_feed(rss, [t.upper() for t in tickers]))
        except IngestError as exc:
            items.append(exc)
    return items


def ingest_cmd(
    paths: list[Path] | None = typer.Argument(
        None, help="Files or folders (md, txt, html, pdf, jsonl)."
    ),
    sample: bool = typer.Option(False, "--sample", help="The bundled synthetic corpus."),
    edgar: list[str] = typer.Option(
        [],
        "--edgar",
        help="Tickers to fetch from SEC EDGAR: repeat it or separate with commas "
        "(--edgar AAPL,MSFT --edgar KO).",
    ),
    form: list[str] = typer.Option(
        ["10-K"], "--form", help="EDGAR form types, repeated or comma-separated (10-K,10-Q)."
    ),
    limit: int = typer.Option(
        1, "--limit", min=1, max=100, help="EDGAR: how many recent filings of each form."
    ),
    rss: str | None = typer.Option(None, "--rss", help="RSS/Atom feed URL or file."),
    ticker: list[str] = typer.Option([], "--ticker", help="Tickers to tag feed items with."),
    as_json: bool = JsonOption,
) -> None:
    """Load documents into the index; one bad item never stops the rest."""
    settled()  # many documents: their garbage must be collected
    if not (paths or sample or edgar or rss):
        raise RetrievalError("nothing to ingest: give PATHS, --sample, --edgar TICKER or --rss URL")
    settings = get_settings()
    items: list | Iterator = _gather(paths or [], sample, rss, ticker)
    tickers, forms = _split(edgar), _split(form)
    if edgar and not tickers:
        raise RetrievalError(f"--edgar names no ticker: {', '.join(edgar)!r}")
    if tickers and not forms:
        raise RetrievalError("--form names no form type (e.g. 10-K)")
    sentiment, note = load_sentiment(settings.sentiment_model)
    index = document_index(settings)
    try:
        with Progress(transient=True, disable=as_json) as bar:
            task = bar.add_task("ingesting", total=None if tickers else len(items))
            reached: list[str] = []

            def seen(filing: str) -> None:
                reached.append(filing)
                bar.update(task, description=f"EDGAR: {filing} ({len(reached)} filings)")

            if tickers:
                have = set(index.doc_hashes())
                items = chain(items, _edgar(tickers, forms, limit, have, seen))

            def show(r: IngestReport) -> None:
                done = r.documents + len(r.failures)
                bar.update(
                    task,
                    completed=done,
                    description=(
                        f"{r.written} written, {r.unchanged} unchanged, {r.chunks} chunks, "
                        f"{r.chunks_per_second:.0f} chunks/s"
                    ),
                )

            report = ingest(
                index, items, settings=chunk_settings(settings), sentiment=sentiment, progress=show
            )
    finally:
        index.close()
    if note:
        report.notes.append(note)
    if report.written:  # new documents: a running server evaluates the alerts now
        from assistant.jobs import Jobs
        from assistant.resources import engine

        Jobs(engine(settings)).poke("alerts")
    emit(report, as_json, lambda: _summary(report))
    if report.failures:
        done = "nothing was ingested" if not report.documents else "the rest was ingested"
        typer.echo(f"error: {len(report.failures)} item(s) failed ({done}); see above", err=True)
        raise typer.Exit(2)


def _summary(r: IngestReport) -> str:
    lines = [
        f"Ingested {r.documents} documents: {r.written} written, {r.unchanged} unchanged, "
        f"{r.chunks} chunks in {r.seconds:.1f}s ({r.chunks_per_second:.0f} chunks/s)"
    ]
    lines += [f"note: {n}" for n in r.notes]
    if r.failures:
        lines.append(f"{len(r.failures)} item(s) failed:")
        lines += [f"  - {f.error}" for f in r.failures]
    return "\n".join(lines)


def search_cmd(
    query: str = typer.Argument(..., help="What to look for."),
    ticker: list[str] = typer.Option([], "--ticker", help="Only documents about these tickers."),
    doc_type: DocType | None = typer.Option(None, "--type", help="news or filing."),
    form: str | None = typer.Option(None, "--form", help="Filing form, e.g. 10-K."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=DATE_FORMATS, help="Nothing published after this date."
    ),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many results."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or sparse."),
    as_json: bool = JsonOption,
) -> None:
    """Hybrid search over news and filings, with citations."""
    tickers = [t.strip().upper() for given in ticker for t in given.split(",")]
    if any(not t for t in tickers):
        raise RetrievalError("--ticker is empty: give a ticker such as AAPL (or AAPL,MSFT)")
    for name, day in (("--start", start), ("--end", end), ("--as-of", as_of)):
        if day is not None and day.date() < EARLIEST:
            raise RetrievalError(
                f"{name} {day.date()} is before {EARLIEST}: nothing is indexed then"
            )
    filters = SearchFilters(
        tickers=tickers or None,
        doc_type=doc_type,
        form=form,
        start=as_date(start),
        end=as_date(end),
        as_of=as_date(as_of),
    )
    if filters.as_of and filters.as_of > today():
        raise RetrievalError(f"as-of date {filters.as_of} is in the future")
    if filters.start and filters.latest and filters.start > filters.latest:
        raise RetrievalError(f"start {filters.start} is after {filters.latest}")
    index = document_index()
    try:
        index.check_tickers(filters.tickers or [])
        result = index.search(query, filters, k=k, mode=mode)
    finally:
        index.close()
    emit(result, as_json, lambda: _render(result))


def _render(r: SearchResult):
    if not r.hits:
        return "No matching documents."
    out = table(
        f"{len(r.hits)} results for {r.query!r}" + (f" as of {r.as_of}" if r.as_of else ""),
        ["n", "date", "title", "section", "snippet"],
        [
            (
                h.citation.n,
                h.citation.published_at,
                h.citation.title,
                h.citation.section or "",
                h.citation.snippet[:160],
            )
            for h in r.hits
        ],
    )
    console.print(out)
    return None
