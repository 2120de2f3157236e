"""Alert talk: "alert me when AAPL's RSI drops below 30", "notify me if KO goes above
70", "tell me when MSFT moves 5% in a day", "let me know when XOM crosses its 50-day
moving average", "what alerts do I have"."""

from __future__ import annotations

import re

ASKS_ALERT = re.compile(
    r"\b(?:alert|notify|ping)\s+me\b|"
    r"\b(?:tell|let|warn|message|email|text)\s+me\s+(?:know\s+)?(?:when|if|once|as soon as|the "
    r"(?:moment|minute|day)|whenever)\b|"
    r"\b(?:set|create|add)\s+(?:up\s+)?an?\s+alert\b|\balert\s+(?:when|if|once)\b",
    re.I,
)
"""Asking to be told of something later; not "tell me about UnitedHealth"."""
LISTS_ALERTS = re.compile(
    r"\b(?:my|which|what|list|show)\b.{0,20}\balerts\b|\balerts (?:do i have|are set)\b", re.I
)
NUM = r"\$?(\d+(?:\.\d+)?)"
BELOW = r"(?:drops?|falls?|goes|gets|dips?|sinks?|is|closes?|trades?|moves?)?\s*(?:below|under|beneath|less than|<)"
ABOVE = r"(?:rises?|climbs?|goes|gets|jumps?|is|closes?|trades?|moves?)?\s*(?:above|over|past|more than|exceeds?|>)"
RSI = re.compile(
    rf"\brsi\b[^.?!]{{0,30}}?\b(?:(?P<below>{BELOW})|(?P<above>{ABOVE}))\s*{NUM}", re.I
)
SMA = re.compile(
    r"\bcross(?:es|ing)?\s+(?:above\s+|below\s+)?(?:its|the)?\s*(\d{1,3})[- ]?(?:day|d|bar)?\s*"
    r"(?:simple\s+)?(?:moving average|ma|sma|dma)\b",
    re.I,
)
MOVE = re.compile(
    r"\b(?:moves?|jumps?|drops?|falls?|swings?|gains?|loses?|changes?|is up|is down)\s+"
    r"(?:by\s+)?(?:more than\s+|over\s+|at least\s+)?(\d+(?:\.\d+)?)\s*(?:%|percent)",
    re.I,
)
PRICE = re.compile(rf"(?:(?P<below>{BELOW})|(?P<above>{ABOVE}))\s*{NUM}(?!\s*(?:%|percent))", re.I)


def read_alert(question: str, symbols: list[str]) -> tuple[str, dict] | str | None:
    """The alert call a message asks for; a sentence asking for what is missing; None
    when it is no alert talk."""
    if LISTS_ALERTS.search(question) and not ASKS_ALERT.search(question):
        return ("list_alerts", {})
    if not ASKS_ALERT.search(question):
        return None
    if not symbols:
        return 'Which stock should the alert watch? e.g. "alert me when KO closes above 70".'
    args = {"symbol": symbols[0]}
    if m := RSI.search(question):
        args |= {"condition": "rsi_below" if m["below"] else "rsi_above", "value": float(m[3])}
    elif m := SMA.search(question):
        args |= {"condition": "cross_sma", "value": float(m[1])}
    elif m := MOVE.search(question):
        args |= {"condition": "pct_move", "value": float(m[1]) / 100}
    elif m := PRICE.search(question):
        args |= {"condition": "price_below" if m["below"] else "price_above", "value": float(m[3])}
    else:
        return (
            f"What should the alert on {symbols[0]} watch for? A price ('above 70'), a move "
            "('5% in a day'), the RSI ('RSI below 30') or a moving-average cross ('crosses its "
            "50-day average')."
        )
    return ("create_alert", args)
