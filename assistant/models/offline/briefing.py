"""Briefing talk: "brief me on my watchlist", "my weekly digest for the tech watchlist",
"morning briefing please", "what happened on my watchlist this week", and the request
a scheduled briefing sends ("Write my daily briefing on my watchlist 'tech' (days=1).").
A message that names securities and no watchlist is about those securities, not this."""

from __future__ import annotations

import re

from assistant.models.offline.watch import NAMED_LIST, NOT_NAMES, WATCHLIST

BRIEF = re.compile(
    r"\bbrief\s+me\b|\bbriefing\b|\bdigest\b|\brecap\b|\bround-?up\b|"
    r"\b(?:morning|daily|weekly|evening|end[- ]of[- ](?:day|week))\s+"
    r"(?:note|report|update|summary|wrap|rundown)\b",
    re.I,
)
ON_WATCHLIST = re.compile(
    rf"\b(?:what(?:'s| has| is)?\s+(?:happened|happening|new|moved|going on)|how(?:'s| is| are|"
    rf" did| have)?\s+(?:my\s+)?(?:\w+\s+)?(?:{WATCHLIST}|stocks|names)\s+(?:doing|done|"
    rf"getting on|performing|looking)|any(?:thing)?\s+(?:news|new))\b.{{0,40}}\b{WATCHLIST}\b|"
    rf"\b{WATCHLIST}\b.{{0,30}}\b(?:doing|performing|moves?|movers|news|update)\b",
    re.I,
)
QUOTED = re.compile(rf"\b{WATCHLIST}\s+'([A-Za-z0-9][\w-]{{0,39}})'")
DAYS = re.compile(r"\(days=(\d{1,2})\)")
LAST_DAYS = re.compile(r"\b(?:last|past)\s+(\d{1,2})\s+days\b", re.I)
WEEK = re.compile(r"\bweek(?:ly)?\b|\b7\s+days\b", re.I)


def read_briefing(question: str, symbols: list[str]) -> tuple[str, dict] | None:
    """The get_briefing call a message asks for, or None."""
    watchlist_named = re.search(rf"\b{WATCHLIST}\b", question, re.I) is not None
    if not (BRIEF.search(question) or ON_WATCHLIST.search(question)):
        return None
    if symbols and not watchlist_named:  # "brief me on Apple": about the stock
        return None
    args: dict = {}
    if (m := QUOTED.search(question)) or (
        (m := NAMED_LIST.search(question)) and m[1].lower() not in NOT_NAMES
    ):
        args["watchlist"] = m[1].lower()
    if m := DAYS.search(question) or LAST_DAYS.search(question):
        args["days"] = max(1, min(31, int(m[1])))
    elif WEEK.search(question):
        args["days"] = 7
    return ("get_briefing", args)
