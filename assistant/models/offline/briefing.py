"""Briefing talk: "brief me on my watchlist", "my weekly digest for the tech watchlist",
"morning briefing please", "how did my pharma list do this week", "give me a rundown of
my staples watchlist", the request a scheduled briefing sends ("Write my daily briefing
on my watchlist 'tech' (days=1)."), and schedules: "send me a daily briefing on my pharma
watchlist every morning", "a weekly digest every friday at 6". A message that names
securities is about those securities ("is KO on my watchlist doing well?"), not this."""

from __future__ import annotations

import re

from assistant.models.offline.advice import asks_advice
from assistant.models.offline.screening import read_screen
from assistant.models.offline.watch import LIST, WATCHLIST, list_name

BRIEF = re.compile(
    r"\bbrief\s+me\b|\bbriefing\b|\bdigest\b|\brecap\b|\bround-?up\b|\brundown\b|"
    r"\bwrap-?up\b|\b(?:morning|daily|weekly|evening|end[- ]of[- ](?:day|week))\s+"
    r"(?:note|report|update|summary|wrap|rundown)\b",
    re.I,
)
ON_LIST = rf"(?:(?:my|the|our)\s+(?:[\w-]+\s+)?{LIST}|{WATCHLIST})"
ON_WATCHLIST = re.compile(
    rf"\b(?:what(?:'s|\s+has|\s+is)?\s+(?:happened|happening|new|moved|going\s+on)|"
    rf"how(?:'s|\s+is|\s+are|\s+did|\s+has|\s+have)?|any(?:thing)?\s+(?:news|new))\b"
    rf".{{0,40}}\b{ON_LIST}\b|"
    rf"\b{ON_LIST}\b.{{0,30}}\b(?:doing|do|done|did|performing|perform|moves?|movers|news|"
    rf"update|going)\b",
    re.I,
)
QUOTED = re.compile(rf"\b{WATCHLIST}\s+'([A-Za-z0-9][\w-]{{0,39}})'")
DAYS = re.compile(r"\(days=(\d{1,2})\)")
LAST_DAYS = re.compile(r"\b(?:last|past)\s+(\d{1,2})\s+days\b", re.I)
WEEK = re.compile(r"\bweek(?:ly)?\b|\b7\s+days\b", re.I)
DAYNAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SCHEDULED = re.compile(
    r"\b(?:every|each)\s+(?:morning|day|weekday|evening|week|" + "|".join(DAYNAMES) + r")s?\b|"
    r"\b(?:on|every)\s+(?:" + "|".join(DAYNAMES) + r")s\b|\bschedule\b|"
    r"\b(?:daily|weekly)\s+at\b|\bat\s+\d{1,2}(?::00)?\s*(?:am|pm|utc)?\s+(?:every|each|daily)\b",
    re.I,
)
DAY = re.compile(r"\b(" + "|".join(DAYNAMES) + r")s?\b", re.I)
HOUR = re.compile(r"\bat\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|utc|h)?\b", re.I)
TIMES_OF_DAY = {"morning": 7, "evening": 18, "night": 20, "noon": 12, "lunch": 12}


def _hour(question: str) -> int | None:
    if m := HOUR.search(question):
        hour = int(m[1])
        suffix = (m[3] or "").lower().replace(".", "")
        if suffix == "pm" and hour < 12:
            hour += 12
        if suffix == "am" and hour == 12:
            hour = 0
        return hour if 0 <= hour <= 23 else None
    for word, hour in TIMES_OF_DAY.items():
        if re.search(rf"\b{word}\b", question, re.I):
            return hour
    return None


def read_briefing(question: str, symbols: list[str]) -> tuple[str, dict] | None:
    """The get_briefing (or schedule_briefing) call a message asks for, or None."""
    quoted = QUOTED.search(question)
    if not quoted and (symbols or asks_advice(question)):
        return None  # "brief me on Apple", "is KO on my watchlist doing well?"
    if not (BRIEF.search(question) or ON_WATCHLIST.search(question)):
        return None
    if not BRIEF.search(question) and read_screen(question, False):
        return None  # "how many on my energy watchlist are above their 200-day": a screen
    args: dict = {}
    if name := (quoted[1].lower() if quoted else list_name(question)):
        args["watchlist"] = name
    if SCHEDULED.search(question) and BRIEF.search(question):
        weekly = WEEK.search(question) or DAY.search(question)
        if weekly:
            args["cadence"] = "weekly"
            if m := DAY.search(question):
                args["weekday"] = m[1].lower()
        if (hour := _hour(question)) is not None:
            args["hour"] = hour
        return ("schedule_briefing", args)
    if m := DAYS.search(question) or LAST_DAYS.search(question):
        args["days"] = max(1, min(31, int(m[1])))
    elif WEEK.search(question):
        args["days"] = 7
    return ("get_briefing", args)
