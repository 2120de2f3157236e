"""Scheduled ingestion for what people watch: new EDGAR filings of every watchlist's
symbols, and the configured RSS/Atom feeds, as the job ``ingest`` (assistant/jobs.py:
one process runs each round however many serve).

Incremental and idempotent: EDGAR filings already in the index are not downloaded again
(their doc id is the accession number), and a feed item already stored is unchanged (its
id comes from its URL). A feed item is tagged with the watched symbols it names (the
ticker as a word or ``$TICKER``, or the company's name as people say it), so alerts on
news see it. When a round wrote anything, the alert sweep is made due at once: alerts
are evaluated when new data arrives, not only on the clock.

It runs only where it can: EDGAR when ``ASSISTANT_EDGAR_USER_AGENT`` is set (SEC requires
one of automated clients), feeds when ``ASSISTANT_INGEST_FEEDS`` lists any.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.jobs import Handler, Jobs
from assistant.settings import Settings
from assistant.watchlists import WatchlistRow
from retrieval.errors import IngestError
from retrieval.models import Document

JOB = "ingest"


def watched(engine: Engine) -> list[str]:
    """Every symbol on anyone's watchlist, each once, sorted."""
    import json

    with Session(engine) as s:
        rows = s.exec(select(WatchlistRow.symbols_json)).all()
    return sorted({symbol for row in rows for symbol in json.loads(row)})


def tagger(symbols: list[str], names: dict[str, str]) -> Callable[[Document], Document]:
    """Tags a news item with the symbols it names: the ticker as an upper-case word or
    ``$TICKER`` ("KO" but not "ko"), or the name people use (``names``: symbol -> e.g.
    "apple"), in any case."""
    tickers = {s: re.compile(rf"(?<![\w$])\$?{re.escape(s)}(?![\w])") for s in symbols}
    named = {
        s: re.compile(r"\b" + r"[\s-]+".join(map(re.escape, n.split())) + r"\b", re.I)
        for s, n in names.items()
        if n
    }

    def tag(doc: Document) -> Document:
        text = f"{doc.title}\n{doc.text}"
        found = [
            s for s in symbols if tickers[s].search(text) or (s in named and named[s].search(text))
        ]
        merged = list(dict.fromkeys([*doc.tickers, *found]))[:50]
        return doc.model_copy(update={"tickers": merged}) if merged != doc.tickers else doc

    return tag


class WatchIngest:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        index: Callable[[], object],
        jobs: Jobs,
        names: Callable[[str], str | None] = lambda _s: None,
    ) -> None:
        """``index``: the document index to write; ``names``: a symbol's name as people
        say it (the security master's), to find it in feed items."""
        self.settings, self.engine, self.index, self.jobs = settings, engine, index, jobs
        self.names = names

    @property
    def enabled(self) -> bool:
        s = self.settings
        return s.ingest_every_seconds > 0 and bool(s.edgar_user_agent or s.ingest_feeds)

    def _items(self, symbols: list[str], have: set[str]) -> Iterator[Document | IngestError]:
        s = self.settings
        if s.edgar_user_agent:
            from ingest.edgar import EdgarClient

            client = EdgarClient(s.edgar_user_agent, base_url=s.edgar_base_url)
            for symbol in symbols:
                for item in client.iter_filings(symbol, list(s.ingest_forms), s.ingest_limit, have):
                    # a form the company does not file is no failure of the round
                    if isinstance(item, IngestError) and "lists no" in str(item):
                        continue
                    yield item
        if s.ingest_feeds:
            from ingest.news import read_feed

            tag = tagger(symbols, {sym: n for sym in symbols if (n := self.names(sym))})
            for feed in s.ingest_feeds:
                try:
                    for item in read_feed(feed):
                        yield tag(item) if isinstance(item, Document) else item
                except IngestError as exc:
                    yield exc

    def run(self, _name: str = JOB):
        """One round; the ingest report."""
        from assistant.resources import chunk_settings
        from ingest.pipeline import ingest
        from ingest.sentiment import load_sentiment

        symbols = watched(self.engine)
        index = self.index()
        sentiment, _note = load_sentiment(self.settings.sentiment_model)
        have = set(index.doc_hashes())
        report = ingest(
            index,
            self._items(symbols, have),
            settings=chunk_settings(self.settings),
            sentiment=sentiment,
        )
        if report.written:
            self.jobs.poke("alerts")  # new documents: evaluate the alerts now
        if report.failures and not report.documents:
            raise IngestError("; ".join(f.error for f in report.failures[:3]))
        return report

    def handler(self) -> Handler:
        every = self.settings.ingest_every_seconds
        return Handler(run=self.run, next_after=lambda _n, now: now + timedelta(seconds=every))
