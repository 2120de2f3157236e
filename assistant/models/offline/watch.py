"""Watchlist talk: "add NVDA to my watchlist", "take KO off my tech watchlist", "what's
on my watchlist". The securities are the ones the question names; the list is the one
it names ("my tech watchlist"), else the default."""

from __future__ import annotations

import re

WATCHLIST = r"watch[- ]?lists?"
NAMED_LIST = re.compile(rf"\b(?:my|the|our)\s+([a-z0-9][\w-]{{0,39}})\s+{WATCHLIST}\b", re.I)
ADD = re.compile(
    rf"\b(?:add|put|include|stick|pop|throw|save|track|watch)\b.*\b(?:to|on|in|onto|into)\s+"
    rf"(?:my|the|our)\s+(?:[\w-]+\s+)?{WATCHLIST}\b",
    re.I,
)
REMOVE = re.compile(
    rf"\b(?:remove|delete|drop|take|get rid of|strike|cross)\b.*\b(?:from|off|out of)\s+"
    rf"(?:my|the|our)\s+(?:[\w-]+\s+)?{WATCHLIST}\b",
    re.I,
)
ABOUT = re.compile(rf"\b{WATCHLIST}\b", re.I)
NOT_NAMES = {"my", "the", "our", "a", "new", "current", "whole", "entire"}


ADD_VERB = re.compile(r"\b(?:add|put|include|stick|pop|throw|save|track|watch)\b", re.I)
REMOVE_VERB = re.compile(r"\b(?:remove|delete|drop|take|get rid of|strike|cross)\b", re.I)


def _both(question: str, mentions: list) -> dict | None:
    """ "take KO off my watchlist and add PEP": each security goes with the verb before it."""
    add, remove = ADD_VERB.search(question), REMOVE_VERB.search(question)
    if add is None or remove is None:
        return None
    out: dict = {"add": [], "remove": []}
    for m in mentions:
        verbs = [v for v in (add, remove) if v.start() < m.start]
        if not verbs:
            continue
        key = "add" if max(verbs, key=lambda v: v.start()) is add else "remove"
        out[key].append(m.symbol)
    return out if out["add"] and out["remove"] else None


def read_watchlist(question: str, mentions: list) -> tuple[str, dict] | str | None:
    """The watchlist call a message asks for; a sentence when it names no security it
    means to add or remove; None when it is not about watchlists. ``mentions``: the
    securities it names, with where."""
    if not ABOUT.search(question):
        return None
    symbols = [m.symbol for m in mentions]
    args: dict = {}
    if (m := NAMED_LIST.search(question)) and m[1].lower() not in NOT_NAMES:
        args["name"] = m[1].lower()
    if symbols and (both := _both(question, mentions)):
        return ("update_watchlist", {**both, **args})
    if symbols and REMOVE.search(question):
        return ("update_watchlist", {"remove": symbols, **args})
    if symbols and ADD.search(question):
        return ("update_watchlist", {"add": symbols, **args})
    if symbols:
        return None  # "is NVDA on my watchlist doing well": a question about the stock
    if ADD.search(question) or REMOVE.search(question):
        return (
            "Which stocks? I found no security I know in that: name them by ticker or "
            'company, e.g. "add NVDA to my watchlist" (`assistant data symbols NAME` looks '
            "one up)."
        )
    return ("get_watchlists", {})
