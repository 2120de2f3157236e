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
    paths: list[str] = field(default_factory=list)
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
    accession = f"{cik:010d}-23-000042"
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
            fake.paths.append(self.path.split("?")[0])
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


# -- XBRL company facts --------------------------------------------------------------------

M = 1_000_000
APPLE_CIK = 320193
FY = {  # Apple's fiscal years and first quarters (start, end)
    "FY2018": ("2017-10-01", "2018-09-29"),
    "FY2019": ("2018-09-30", "2019-09-28"),
    "FY2020": ("2019-09-29", "2020-09-26"),
    "FY2021": ("2020-09-27", "2021-09-25"),
    "FY2022": ("2021-09-26", "2022-09-24"),
    "Q1FY2020": ("2019-09-29", "2019-12-28"),
    "Q1FY2021": ("2020-09-27", "2020-12-26"),
    "Q1FY2022": ("2021-09-26", "2021-12-25"),
}
APPLE_FLOWS = {  # concept -> period -> value (Apple's filed figures, split-adjusted EPS)
    "RevenueFromContractWithCustomerExcludingAssessedTax": {
        "FY2018": 265_595 * M,
        "FY2019": 260_174 * M,
        "FY2020": 274_515 * M,
        "FY2021": 365_817 * M,
        "FY2022": 394_328 * M,
        "Q1FY2020": 91_819 * M,
        "Q1FY2021": 111_439 * M,
        "Q1FY2022": 123_945 * M,
    },
    "GrossProfit": {
        "FY2019": 98_392 * M,
        "FY2020": 104_956 * M,
        "FY2021": 152_836 * M,
        "FY2022": 170_782 * M,
    },
    "OperatingIncomeLoss": {
        "FY2019": 63_930 * M,
        "FY2020": 66_288 * M,
        "FY2021": 108_949 * M,
        "FY2022": 119_437 * M,
    },
    "NetIncomeLoss": {
        "FY2018": 59_531 * M,
        "FY2019": 55_256 * M,
        "FY2020": 57_411 * M,
        "FY2021": 94_680 * M,
        "FY2022": 99_803 * M,
        "Q1FY2020": 22_236 * M,
        "Q1FY2021": 28_755 * M,
        "Q1FY2022": 34_630 * M,
    },
    "EarningsPerShareDiluted": {
        "FY2018": 2.98,
        "FY2019": 2.97,
        "FY2020": 3.28,
        "FY2021": 5.61,
        "FY2022": 6.11,
        "Q1FY2020": 1.25,
        "Q1FY2021": 1.68,
        "Q1FY2022": 2.10,
    },
    "NetCashProvidedByUsedInOperatingActivities": {
        "FY2019": 69_391 * M,
        "FY2020": 80_674 * M,
        "FY2021": 104_038 * M,
        "FY2022": 122_151 * M,
        "Q1FY2020": 30_516 * M,
        "Q1FY2021": 38_763 * M,
        "Q1FY2022": 46_966 * M,
    },
    "PaymentsToAcquirePropertyPlantAndEquipment": {
        "FY2019": 10_495 * M,
        "FY2020": 7_309 * M,
        "FY2021": 11_085 * M,
        "FY2022": 10_708 * M,
    },
    "CommonStockDividendsPerShareDeclared": {
        "FY2019": 0.75,
        "FY2020": 0.795,
        "FY2021": 0.85,
        "FY2022": 0.90,
        "Q1FY2020": 0.1925,
        "Q1FY2021": 0.205,
        "Q1FY2022": 0.22,
    },
}
APPLE_INSTANTS = {
    "Assets": {
        "2019-09-28": 338_516 * M,
        "2020-09-26": 323_888 * M,
        "2020-12-26": 354_054 * M,
        "2021-09-25": 351_002 * M,
        "2021-12-25": 381_191 * M,
        "2022-09-24": 352_755 * M,
    },
    "Liabilities": {
        "2019-09-28": 248_028 * M,
        "2020-09-26": 258_549 * M,
        "2020-12-26": 287_830 * M,
        "2021-09-25": 287_912 * M,
        "2021-12-25": 309_259 * M,
        "2022-09-24": 302_083 * M,
    },
    "StockholdersEquity": {
        "2019-09-28": 90_488 * M,
        "2020-09-26": 65_339 * M,
        "2020-12-26": 66_224 * M,
        "2021-09-25": 63_090 * M,
        "2021-12-25": 71_932 * M,
        "2022-09-24": 50_672 * M,
    },
}
APPLE_SHARES = {  # dei cover-page count: (as of, filed), split-adjusted for simplicity
    "2019-10-18": (18_595_652_000, "2019-10-31"),
    "2020-10-16": (17_001_802_000, "2020-10-30"),
    "2021-01-15": (16_788_096_000, "2021-01-28"),
    "2021-10-15": (16_406_397_000, "2021-10-29"),
    "2022-01-14": (16_319_441_000, "2022-01-28"),
    "2022-10-14": (15_908_118_000, "2022-10-28"),
}
APPLE_FILINGS = [  # (form, filed, fy, fp, flow periods it carries, balance dates it carries)
    ("10-K", "2019-10-31", 2019, "FY", ["FY2019", "FY2018"], ["2019-09-28"]),
    (
        "10-K",
        "2020-10-30",
        2020,
        "FY",
        ["FY2020", "FY2019", "FY2018"],
        ["2020-09-26", "2019-09-28"],
    ),
    ("10-Q", "2021-01-28", 2021, "Q1", ["Q1FY2021", "Q1FY2020"], ["2020-12-26", "2020-09-26"]),
    (
        "10-K",
        "2021-10-29",
        2021,
        "FY",
        ["FY2021", "FY2020", "FY2019"],
        ["2021-09-25", "2020-09-26"],
    ),
    ("10-Q", "2022-01-28", 2022, "Q1", ["Q1FY2022", "Q1FY2021"], ["2021-12-25", "2021-09-25"]),
    (
        "10-K",
        "2022-10-28",
        2022,
        "FY",
        ["FY2022", "FY2021", "FY2020"],
        ["2022-09-24", "2021-09-25"],
    ),
]


def apple_company_facts() -> dict:
    """Apple's company facts in SEC's layout: every 10-K repeats earlier years, as filed."""
    gaap: dict[str, dict] = {}
    for n, (form, filed, fy, fp, periods, balances) in enumerate(APPLE_FILINGS):
        accn = f"0000320193-{filed[2:4]}-{n:06d}"
        base = {"accn": accn, "fy": fy, "fp": fp, "form": form, "filed": filed}
        for concept, values in APPLE_FLOWS.items():
            unit = "USD/shares" if "PerShare" in concept else "USD"
            rows = gaap.setdefault(concept, {"label": concept, "units": {unit: []}})["units"][unit]
            for period in periods:
                if period in values:
                    start, end = FY[period]
                    rows.append({"start": start, "end": end, "val": values[period], **base})
        for concept, values in APPLE_INSTANTS.items():
            rows = gaap.setdefault(concept, {"label": concept, "units": {"USD": []}})["units"][
                "USD"
            ]
            rows += [{"end": d, "val": values[d], **base} for d in balances if d in values]
    shares = [
        {
            "end": day,
            "val": count,
            "accn": f"0000320193-{filed[2:4]}-x",
            "fy": int(filed[:4]),
            "fp": "FY",
            "form": "10-K",
            "filed": filed,
        }
        for day, (count, filed) in APPLE_SHARES.items()
    ]
    return {
        "cik": APPLE_CIK,
        "entityName": "Apple Inc.",
        "facts": {
            "dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": shares}}},
            "us-gaap": gaap,
        },
    }


def apple_files() -> dict[str, bytes]:
    """What the fake SEC serves for Apple: its ticker and its company facts."""
    return {
        "/files/company_tickers.json": json.dumps(
            {"0": {"cik_str": APPLE_CIK, "ticker": "AAPL", "title": "Apple Inc."}}
        ).encode(),
        "/files/company_tickers_exchange.json": json.dumps(
            {
                "fields": ["cik", "name", "ticker", "exchange"],
                "data": [[APPLE_CIK, "Apple Inc.", "AAPL", "Nasdaq"]],
            }
        ).encode(),
        f"/api/xbrl/companyfacts/CIK{APPLE_CIK:010d}.json": json.dumps(
            apple_company_facts()
        ).encode(),
    }
