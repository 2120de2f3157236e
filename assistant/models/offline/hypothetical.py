"""A purchase in the past, and what it became: "if I had bought AAPL in 2015", "what
would $10k in Apple in 2010 be worth now", "i put 500 bucks into walmart 3 years ago".
Reading only: the planner asks get_prices from that day on, with the dollars put in."""

from __future__ import annotations

import re

HYPOTHETICAL = re.compile(
    r"\b(?:if|had|suppose|what if|say)\s+i\s+(?:had\s+)?(?:bought|invested|purchased|put)|"
    r"\bwould i have (?:made|lost|earned|gained)|\b(?:bought|invested)\b.{0,40}\bwould\b|"
    r"\b(?:how much|what)\s+would\b.{0,80}\bbe\s+(?:worth|now|today)\b|\bworth\s+(?:now|today)\b|"
    r"\bi\s+(?:invested|put|bought|purchased|spent)\b.{0,80}\b(?:now|today|worth|since|ago)\b|"
    r"\bhow much (?:is|are) (?:it|they|that) (?:worth\s+)?(?:now|today)\b",
    re.I,
)
"""A purchase in the past ("if I had bought AAPL in 2015", "what would $10k in Apple in 2010
be worth now"): its return, and what the money became, from then to now."""
INVESTED = re.compile(
    r"(?:\$\s*(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|grand|million)?\b|"
    r"\b(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|grand|million)?\s*(?:dollars|bucks|usd)\b|"
    r"\b(?:invested|put|spent|bought)\s+(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|grand|million)?\b"
    r"(?!\s*(?:shares?|%|percent))|"
    r"\b(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|grand|million)?\s+(?:in|into)\b)",
    re.I,
)
SCALE = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "million": 1e6}


def invested(question: str) -> float | None:
    """The dollars a hypothetical purchase put in ("$10k", "1000 bucks", "invested 5000")."""
    if (m := INVESTED.search(question)) is None:
        return None
    number, unit = next((m[i], m[i + 1]) for i in (1, 3, 5, 7) if m[i])
    try:
        amount = float(number.replace(",", "")) * SCALE.get((unit or "").lower(), 1.0)
    except ValueError:
        return None
    return amount if 0 < amount <= 1e12 else None
