"""Asking for advice is not asking for an action: "should I remove PFE from my
watchlist?", "would it make sense to delete my KO alert?", "is it worth setting an alert
at 45?" are questions about the stock, answered with data; only a request ("remove PFE
from my watchlist") changes a watchlist or an alert."""

from __future__ import annotations

import re

ADVICE = re.compile(
    r"\b(?:should|shall|ought)\s+(?:i|we)\b|"
    r"\bwould\s+it\s+(?:make\s+sense|be\s+(?:wise|smart|better|a\s+good\s+idea))\b|"
    r"\bis\s+it\s+(?:wise|smart|worth|a\s+good\s+idea|better)\b|"
    r"\bdo\s+you\s+(?:think|recommend|suggest)\b|\bwhat\s+do\s+you\s+think\b|"
    r"\bwhat(?:'s|\s+is|\s+would\s+be)\s+a\s+good\s+(?:price|level|value|threshold)\b|"
    r"\bworth\s+(?:adding|removing|keeping|setting|watching)\b|\bany\s+point\s+(?:in|to)\b",
    re.I,
)


def asks_advice(question: str) -> bool:
    return ADVICE.search(question) is not None
