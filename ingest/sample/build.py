"""Render the synthetic sample corpus from profiles.yaml and the bundled sample prices.

Run `python -m ingest.sample.build` to regenerate `filings/` and `news.jsonl` (both are
committed, so ingest never depends on this script). Every document is marked
``source: sample`` and ``synthetic: true``; every price move a document states is
computed here from the real adjusted closes in the sample data.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from tools.market_data import sample_frames

HERE = Path(__file__).resolve().parent
SECTOR_NEWS = {
    "Energy": (
        "2020-04-21",
        "Oil producers reel as US crude futures turn negative",
        "Storage tanks filled up and the May crude contract fell below zero, forcing "
        "producers to shut in wells and cut capital budgets.",
    ),
    "Financials": (
        "2020-06-25",
        "Big banks pass Fed stress test but must cap dividends",
        "The Federal Reserve froze buybacks and limited dividends for large lenders "
        "because of uncertainty about pandemic loan losses.",
    ),
    "Health Care": (
        "2022-08-16",
        "Inflation Reduction Act lets Medicare negotiate drug prices",
        "Drugmakers warned that negotiated prices for top-selling medicines would "
        "reduce funding for research.",
    ),
    "Consumer Staples": (
        "2022-06-01",
        "Consumer goods makers push through the biggest price rises in decades",
        "Packaged food and household product companies raised prices to pass on "
        "costs of grain, oil, packaging and transport.",
    ),
    "Technology": (
        "2022-12-15",
        "Tech stocks head for worst year since 2008 as rates rise",
        "Higher interest rates reduced the value investors place on future "
        "profits of growth companies.",
    ),
}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]


def move(prices: pd.Series, start: str, end: str) -> float:
    window = prices.loc[start:end]
    return float(window.iloc[-1] / window.iloc[0] - 1)


def crash(prices: pd.Series) -> tuple[float, date, date]:
    """Peak-to-trough fall between February and April 2020."""
    window = prices.loc["2020-02-01":"2020-04-30"]
    peak_day = window.loc[:"2020-03-10"].idxmax()
    trough_day = window.loc[peak_day:].idxmin()
    return float(window[trough_day] / window[peak_day] - 1), peak_day.date(), trough_day.date()


def pct(x: float) -> str:
    return f"{abs(x) * 100:.0f} percent"


def filing(ticker: str, p: dict, prices: pd.Series) -> str:
    fall, peak, trough = crash(prices)
    year = move(prices, "2020-01-01", "2020-12-31")
    risks = "\n\n".join(f"### {r['title']}\n\n{r['text']}" for r in p["risks"])
    front = {
        "doc_id": f"sample:{ticker}:10-K:2020",
        "title": f"{p['name']} annual report on Form 10-K for fiscal 2020",
        "source": "sample",
        "doc_type": "filing",
        "form": "10-K",
        "tickers": [ticker],
        "published_at": "2021-02-16",
        "synthetic": True,
    }
    return f"""---
{yaml.safe_dump(front, sort_keys=False).strip()}
---
# {p["name"]} — Form 10-K (fiscal year 2020, synthetic sample)

## Item 1. Business

{p["business"]} The company reports in the {p["sector"]} sector.

## Item 1A. Risk Factors

{risks}

### Pandemic disruption

A resurgence of Covid-19 could again disrupt operations, suppliers and customer demand.

## Item 7. Management's Discussion and Analysis

{p["mdna"]} During the market sell-off in early 2020 the share price fell {pct(fall)} from
{peak:%B} {peak.day} to {trough:%B} {trough.day}, and over calendar 2020 the stock
{"gained" if year >= 0 else "lost"} {pct(year)}.
"""


def quarterly(ticker: str, p: dict, prices: pd.Series) -> str:
    fall, peak, trough = crash(prices)
    quarter = move(prices, "2019-12-31", "2020-03-31")
    front = {
        "doc_id": f"sample:{ticker}:10-Q:2020Q1",
        "title": f"{p['name']} quarterly report on Form 10-Q for the quarter ended March 31, 2020",
        "source": "sample",
        "doc_type": "filing",
        "form": "10-Q",
        "tickers": [ticker],
        "published_at": "2020-05-01",
        "synthetic": True,
    }
    first_risk = p["risks"][0]
    return f"""---
{yaml.safe_dump(front, sort_keys=False).strip()}
---
# {p["name"]} — Form 10-Q (first quarter 2020, synthetic sample)

## Item 2. Management's Discussion and Analysis

The Covid-19 outbreak affected the quarter. {p["business"].split(".")[0]}. Our shares
{"rose" if quarter >= 0 else "declined"} {pct(quarter)} during the quarter, including a
{pct(fall)} fall from {peak:%B} {peak.day} to {trough:%B} {trough.day}. We withdrew or
revised guidance where visibility was limited.

## Item 1A. Risk Factors

### Update on {first_risk["title"].lower()}

The pandemic heightens this risk. {first_risk["text"]}
"""


def news(ticker: str, p: dict, prices: pd.Series) -> list[dict]:
    def item(day: str, title: str, text: str, tickers=None) -> dict:
        return {
            "doc_id": f"sample:{ticker}:news:{day}:{slug(title)}",
            "title": title,
            "source": "sample",
            "published_at": day,
            "tickers": tickers or [ticker],
            "text": text,
            "synthetic": True,
        }

    out = [item(str(n["date"]), n["title"], f"{n['title']}. {n['text']}") for n in p["news"]]
    fall, peak, trough = crash(prices)
    out.append(
        item(
            trough.isoformat(),
            f"{p['name']} shares tumble {pct(fall)} in coronavirus sell-off",
            f"{p['name']} stock dropped {pct(fall)} between {peak:%B} {peak.day} and "
            f"{trough:%B} {trough.day}, 2020 as the pandemic spread and investors fled "
            f"risk. Concern centred on {p['risks'][0]['title'].lower()}.",
        )
    )
    y2020 = move(prices, "2019-12-31", "2020-12-31")
    out.append(
        item(
            "2020-12-31",
            f"{p['name']} closes a volatile 2020 {'up' if y2020 >= 0 else 'down'} {pct(y2020)}",
            f"After the spring crash, {p['name']} finished the pandemic year "
            f"{'with a gain of' if y2020 >= 0 else 'with a loss of'} {pct(y2020)}. "
            f"{p['business'].split('.')[0]}.",
        )
    )
    y2022 = move(prices, "2021-12-31", "2022-12-28")
    out.append(
        item(
            "2022-12-28",
            f"{p['name']} ends 2022 {'up' if y2022 >= 0 else 'down'} {pct(y2022)}",
            f"{p['name']} shares {'rose' if y2022 >= 0 else 'fell'} {pct(y2022)} in 2022, a year "
            f"in which the Federal Reserve raised interest rates to fight inflation. "
            f"{p['mdna'].split('.')[0]}.",
        )
    )
    return out


def build() -> tuple[int, int]:
    profiles = yaml.safe_load((HERE / "profiles.yaml").read_text())
    prices = {sym: frame["adj_close"] for sym, frame in sample_frames()}
    filings_dir = HERE / "filings"
    filings_dir.mkdir(exist_ok=True)
    for old in filings_dir.glob("*.md"):
        old.unlink()
    items: list[dict] = []
    for ticker, p in profiles.items():
        (filings_dir / f"{ticker}-10-K-2020.md").write_text(filing(ticker, p, prices[ticker]))
        (filings_dir / f"{ticker}-10-Q-2020Q1.md").write_text(quarterly(ticker, p, prices[ticker]))
        items.extend(news(ticker, p, prices[ticker]))
    for sector, (day, title, text) in SECTOR_NEWS.items():
        members = [t for t, p in profiles.items() if p["sector"] == sector]
        items.append(
            {
                "doc_id": f"sample:sector:{slug(sector)}:{day}",
                "title": title,
                "source": "sample",
                "published_at": day,
                "tickers": members,
                "text": f"{title}. {text} Companies affected include "
                + ", ".join(profiles[t]["name"] for t in members).rstrip(".")
                + ".",
                "synthetic": True,
            }
        )
    items.sort(key=lambda d: (d["published_at"], d["doc_id"]))
    with (HERE / "news.jsonl").open("w") as fh:
        for d in items:
            fh.write(json.dumps(d) + "\n")
    return 2 * len(profiles), len(items)


if __name__ == "__main__":
    filings, news_items = build()
    print(f"wrote {filings} filings and {news_items} news items to {HERE}")
