"""SEC EDGAR filings by ticker and form, through the submissions and archives endpoints.

EDGAR asks automated clients to send a User-Agent naming the requester with a contact
email, and to stay under 10 requests per second; both are enforced here. 10-K and
10-Q documents are split into their Items (the longest occurrence of each heading wins,
so the table of contents does not become a section).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Container, Iterator
from datetime import date

import requests

from ingest.files import html_to_text
from retrieval.errors import IngestError
from retrieval.models import DocType, Document

DATA_URL = "https://data.sec.gov"
WWW_URL = "https://www.sec.gov"
MAX_REQUESTS_PER_SECOND = 10
_ITEM = re.compile(r"^\s*(?:#+\s*)?item\s+(\d{1,2}[a-c]?)\s*[.:\-–—]?\s*(.*)$", re.I | re.M)


class RateLimiter:
    """At most ``rate`` calls per second across threads (a minimum spacing)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                time.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class EdgarClient:
    def __init__(
        self,
        user_agent: str | None,
        *,
        base_url: str | None = None,
        rate: float = MAX_REQUESTS_PER_SECOND,
        timeout: float = 30.0,
    ) -> None:
        if not user_agent or "@" not in user_agent:
            raise IngestError(
                "EDGAR requires a User-Agent with a contact email, e.g. "
                "'Market Assistant admin@example.com': set ASSISTANT_EDGAR_USER_AGENT"
            )
        self.data_url = (base_url or DATA_URL).rstrip("/")
        self.www_url = (base_url or WWW_URL).rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"})
        self.limiter = RateLimiter(min(rate, MAX_REQUESTS_PER_SECOND))
        self.timeout = timeout
        self._tickers: dict[str, tuple[int, str]] | None = None

    def _get(self, url: str) -> requests.Response:
        self.limiter.wait()
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IngestError(f"EDGAR request failed for {url}: {exc}") from None
        if response.status_code == 404:
            raise IngestError(f"EDGAR has nothing at {url}")
        if response.status_code >= 400:
            raise IngestError(f"EDGAR answered {response.status_code} for {url}")
        return response

    def company_list(self) -> dict:
        """``company_tickers_exchange.json``: every company with a ticker, its CIK and
        exchange (``{"fields": [...], "data": [[...], ...]}``)."""
        response = self._get(f"{self.www_url}/files/company_tickers_exchange.json")
        try:  # (not around _get: its IngestError is a ValueError and says what failed)
            return response.json()
        except ValueError:
            raise IngestError("EDGAR's company list is not JSON") from None

    def cik(self, ticker: str) -> tuple[int, str]:
        if self._tickers is None:  # one download for any number of tickers
            table = self._get(f"{self.www_url}/files/company_tickers.json").json()
            self._tickers = {
                str(row["ticker"]).upper(): (int(row["cik_str"]), str(row["title"]))
                for row in table.values()
            }
        found = self._tickers.get(ticker.upper())
        if found is None:
            raise IngestError(f"unknown ticker {ticker!r}: not in EDGAR's company list")
        return found

    def filings(self, ticker: str, form: str = "10-K", limit: int = 1) -> list[Document]:
        """The ``limit`` latest filings of ``form``; raises IngestError if there are none
        or one cannot be read."""
        out = []
        for item in self.iter_filings(ticker, [form], limit):
            if isinstance(item, IngestError):
                raise item
            out.append(item)
        return out

    def iter_filings(
        self,
        ticker: str,
        forms: list[str],
        limit: int = 1,
        have: Container[str] = (),
        seen: Callable[[str], None] | None = None,
    ) -> Iterator[Document | IngestError]:
        """The ``limit`` latest filings of each form, one at a time, downloaded only when
        the index does not ``have`` their doc id already (so an interrupted run resumes
        where it stopped); ``seen`` is told of each filing as it is reached. A filing that
        cannot be read is an IngestError among the results, not the end of the run."""
        try:
            cik, company = self.cik(ticker)
            submissions = self._get(f"{self.data_url}/submissions/CIK{cik:010d}.json").json()
            recent = submissions["filings"]["recent"]
        except (IngestError, KeyError, ValueError) as exc:
            yield exc if isinstance(exc, IngestError) else IngestError(f"{ticker}: {exc}")
            return
        for form in forms:
            found = 0
            for i, kind in enumerate(recent["form"]):
                if kind != form or found >= limit:
                    continue
                found += 1
                accession = recent["accessionNumber"][i]
                doc_id = f"edgar:{accession}"
                if seen is not None:
                    seen(f"{ticker.upper()} {form} {recent['filingDate'][i]}")
                if doc_id in have:
                    continue
                primary = recent["primaryDocument"][i]
                folder = accession.replace("-", "")
                url = f"{self.www_url}/Archives/edgar/data/{cik}/{folder}/{primary}"
                try:
                    text = html_to_text(self._get(url).text)
                except IngestError as exc:
                    yield exc
                    continue
                yield Document(
                    doc_id=doc_id,
                    title=f"{company} {form} filed {recent['filingDate'][i]}",
                    source="SEC EDGAR",
                    doc_type=DocType.FILING,
                    form=form,
                    tickers=[ticker.upper()],
                    published_at=date.fromisoformat(recent["filingDate"][i]),
                    url=url,
                    text=text,
                    sections=split_items(text) or None,
                )
            if not found:
                yield IngestError(f"{ticker.upper()}: EDGAR lists no {form} filings")


def split_items(text: str) -> list[tuple[str, str]]:
    """(``Item 1A. Risk Factors``, body) pairs in document order."""
    matches = list(_ITEM.finditer(text))
    best: dict[str, tuple[int, str, str]] = {}
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        body = text[m.end() : nxt.start() if nxt else len(text)].strip()
        key = m.group(1).upper()
        heading = f"Item {key}. {m.group(2).strip().rstrip('.')}".strip()
        if key not in best or len(body) > len(best[key][2]):
            best[key] = (m.start(), heading, body)
    return [(heading, body) for _, heading, body in sorted(best.values()) if body]
