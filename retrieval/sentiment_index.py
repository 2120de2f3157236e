"""A daily news-sentiment index from indexed news chunks: what "what's the sentiment on
Apple" and "has the news on Exxon turned negative" need.

Each story's score is the mean of its chunks' scores (each chunk scored at ingest: a
FinBERT-style model when configured, the finance lexicon offline; P(positive) −
P(negative), in [-1, 1]). A day's index is the mean of that day's stories; the rolling
index is the mean of the stories in the last ``window`` calendar days up to each day. The
most positive and most negative stories are returned to be cited.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from retrieval.models import Chunk

ROLLING_DAYS = 7
NEUTRAL_BAND = 0.05
"""An average within ±0.05 is read as neutral."""


class Story(BaseModel):
    doc_id: str
    title: str
    source: str
    published_at: date
    url: str | None = None
    score: float = Field(description="Mean of the story's chunk scores, -1..1.")
    chunks: int
    snippet: str


class SentimentDay(BaseModel):
    date: date
    stories: int
    score: float = Field(description="Mean of the day's story scores.")
    rolling: float = Field(description=f"Mean of the stories of the last {ROLLING_DAYS} days.")


class SentimentIndex(BaseModel):
    ticker: str
    start: date | None
    end: date | None
    stories: int
    average: float | None = Field(description="Mean of every story's score; None without news.")
    label: str = Field(description="positive, negative, neutral, or no news.")
    days: list[SentimentDay]
    most_positive: list[Story]
    most_negative: list[Story]


def label_of(score: float | None) -> str:
    if score is None:
        return "no news"
    if score > NEUTRAL_BAND:
        return "positive"
    if score < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def stories_of(chunks: list[Chunk]) -> list[Story]:
    """One story per document: its chunks' mean score (chunks without a score skipped)."""
    grouped: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        if chunk.sentiment is not None:
            grouped[chunk.doc_id].append(chunk)
    stories = []
    for doc_id, parts in grouped.items():
        parts.sort(key=lambda c: c.position)
        first = parts[0]
        strongest = max(parts, key=lambda c: abs(c.sentiment or 0.0))
        stories.append(
            Story(
                doc_id=doc_id,
                title=first.title,
                source=first.source,
                published_at=first.published_at,
                url=first.url,
                score=sum(c.sentiment or 0.0 for c in parts) / len(parts),
                chunks=len(parts),
                snippet=" ".join(strongest.text.split())[:240],
            )
        )
    return sorted(stories, key=lambda s: (s.published_at, s.doc_id))


def sentiment_index(
    ticker: str, chunks: list[Chunk], start: date | None, end: date | None, top: int = 3
) -> SentimentIndex:
    stories = stories_of(chunks)
    by_day: dict[date, list[Story]] = defaultdict(list)
    for s in stories:
        by_day[s.published_at].append(s)
    days = []
    for day in sorted(by_day):
        recent = [
            s for s in stories if day - timedelta(days=ROLLING_DAYS - 1) <= s.published_at <= day
        ]
        todays = by_day[day]
        days.append(
            SentimentDay(
                date=day,
                stories=len(todays),
                score=sum(s.score for s in todays) / len(todays),
                rolling=sum(s.score for s in recent) / len(recent),
            )
        )
    average = sum(s.score for s in stories) / len(stories) if stories else None
    ranked = sorted(stories, key=lambda s: s.score)
    return SentimentIndex(
        ticker=ticker,
        start=start,
        end=end,
        stories=len(stories),
        average=average,
        label=label_of(average),
        days=days,
        most_positive=[s for s in reversed(ranked) if s.score > 0][:top],
        most_negative=[s for s in ranked if s.score < 0][:top],
    )


def write_sentiment_chart(result: SentimentIndex, chart_dir: Path) -> Path:
    """PNG of each day's score (bars) and the rolling mean (line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = f"{result.ticker}|{result.start}|{result.end}|{result.stories}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    chart_dir.mkdir(parents=True, exist_ok=True)
    path = chart_dir / f"sentiment-{result.ticker}-{digest}.png"
    fig, ax = plt.subplots(figsize=(9, 3.5))
    days = [d.date for d in result.days]
    ax.bar(days, [d.score for d in result.days], color="tab:gray", width=2)
    ax.plot(days, [d.rolling for d in result.days], color="tab:blue", lw=1.4)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1, 1)
    ax.set_title(f"{result.ticker} news sentiment ({result.stories} stories)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
