"""Questions about when moving averages crossed ("did JPM have a golden cross recently",
"when did KO last close above its 50 day", "the 20-day crossed the 50-day"), as opposed
to whether trading on a cross paid, which is a backtest's question. Reading only: the
planner turns them into ``find_sma_crosses`` calls (tools/crosses.py)."""

from __future__ import annotations

import re

CROSS_EVENT = re.compile(
    r"\b(?P<kind>golden|death)\s+cross(?:es|ed|ing)?\b|"
    r"\bcross(?:ed|es|ing)?\s+(?:back\s+)?(?:above|below|over|under|through)?\s*(?:its|the)\s+"
    r"(?P<window>\d{1,3})[- ]?(?:day|d|dma|sma)\b|"
    r"\bclos(?:e|ed|es|ing)\s+(?:above|below|over|under)\s+(?:its|the)\s+"
    r"(?P<closed>\d{1,3})[- ]?(?:day|d|dma|sma)\b",
    re.I,
)
TWO_AVERAGES = re.compile(
    r"\b(\d{1,3})[- ]?(?:day|d|dma|sma)\b.{0,40}?\bcross(?:ed|es|ing)?\b.{0,25}?"
    r"\b(\d{1,3})[- ]?(?:day|d|dma|sma)\b",
    re.I,
)
ASKS_WHEN = re.compile(
    r"\b(?:when|did|has|have|had|last|latest|recent\w*|ever|how\s+many|times|dates?|any|"
    r"crosses|list|show)\b",
    re.I,
)
TRADES_ON_IT = re.compile(
    r"\b(?:back-?test\w*|test\w*|simulat\w*|strateg\w+|trad(?:e|es|ed|ing)|work(?:s|ed)?|"
    r"returns?|profit\w*|"
    r"paid|pay\s+off|sweep|settings?|signals?\s+(?:work|pay)|done|perform\w*|made|earn\w*|"
    r"beat|outperform\w*)\b",
    re.I,
)
"""A question whether trading the cross paid: a backtest's, not a date's."""


def asks_cross_dates(text: str) -> bool:
    """When averages crossed ("did JPM have a golden cross recently"), not whether trading
    on a cross paid ("does the golden cross work on JPM")."""
    return bool(
        CROSS_EVENT.search(text) and ASKS_WHEN.search(text) and not TRADES_ON_IT.search(text)
    )


RECENTLY = re.compile(r"\b(?:recent\w*|lately|latest|last)\b", re.I)


def cross_lines(text: str) -> dict[str, int] | None:
    """The two lines a cross question names: golden and death crosses are the 50-day and
    the 200-day, "its 50 day" is the close and the 50-day (fast 1), "the 20-day crossed
    the 50-day" the two; None for an average the tool does not compute (over 400)."""
    event = CROSS_EVENT.search(text)
    if event is None:
        return None
    golden = {"slow": 200, "fast": 50}
    lines = (
        golden if event["kind"] else {"slow": int(event["window"] or event["closed"]), "fast": 1}
    )
    if pair := TWO_AVERAGES.search(text):
        fast, slow = sorted((int(pair[1]), int(pair[2])))
        lines = {"slow": slow, "fast": fast} if fast < slow else lines
    return lines if 2 <= lines["slow"] <= 400 else None
