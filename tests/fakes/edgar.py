"""A local stand-in for SEC EDGAR: company_tickers.json, submissions JSON and archived
filing documents. It refuses requests without a User-Agent carrying an email (as EDGAR
does) and records request times so tests can check the rate limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes import running


@dataclass
class FakeEdgar:
    files: dict[str, bytes]
    times: list[float] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    url: str = ""


def ten_k_html(company: str) -> str:
    """A filing with a table of contents (short Item lines) before the real Items."""
    return f"""<html><head><title>{company} 10-K</title><style>p {{color: red}}</style></head>
<body><h1>{company} Annual Report</h1>
<table><tr><td>Item 1. Business</td><td>3</td></tr><tr><td>Item 1A. Risk Factors</td><td>9</td></tr>
<tr><td>Item 7. Management's Discussion and Analysis</td><td>20</td></tr></table>
<p>Item 1. Business</p>
<p>{company} makes widgets for industrial customers in forty countries.</p>
<p>Item 1A. Risk Factors</p>
<p>Our widget factories depend on rare earth magnets from a single supplier; a supply
chain disruption would halt production.</p>
<p>Item 7. Management's Discussion and Analysis</p>
<p>Revenue grew 12 percent on strong demand for industrial widgets.</p>
<script>var x = "Item 9. not a section";</script>
</body></html>"""


def make_filings(cik: int, ticker: str, company: str) -> dict[str, bytes]:
    accession = "0000000001-23-000042"
    recent = {
        "accessionNumber": [accession, "0000000001-23-000007"],
        "filingDate": ["2023-02-15", "2023-01-10"],
        "reportDate": ["2022-12-31", "2023-01-09"],
        "form": ["10-K", "8-K"],
        "primaryDocument": ["widg-20221231.htm", "widg-8k.htm"],
    }
    return {
        "/files/company_tickers.json": json.dumps(
            {"0": {"cik_str": cik, "ticker": ticker, "title": company}}
        ).encode(),
        f"/submissions/CIK{cik:010d}.json": json.dumps(
            {"cik": str(cik), "name": company, "filings": {"recent": recent}}
        ).encode(),
        f"/Archives/edgar/data/{cik}/{accession.replace('-', '')}/widg-20221231.htm": ten_k_html(
            company
        ).encode(),
    }


@contextmanager
def serve_fake_edgar(files: dict[str, bytes]) -> Iterator[FakeEdgar]:
    fake = FakeEdgar(files)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            fake.times.append(time.monotonic())
            agent = self.headers.get("User-Agent", "")
            fake.agents.append(agent)
            if "@" not in agent:
                return self._send(403, b"Undeclared Automated Tool")
            body = fake.files.get(self.path.split("?")[0])
            if body is None:
                return self._send(404, b"Not Found")
            self._send(200, body)

        def _send(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with running(Handler) as url:
        fake.url = url
        yield fake
