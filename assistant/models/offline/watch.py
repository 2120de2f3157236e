"""Watchlist talk: "add NVDA to my watchlist", "take KO off my tech watchlist", "put LLY
on the pharma list", "create a watchlist called energy with Exxon and Chevron", "delete
the staples watchlist", "what's on my watchlist". The securities are the ones the
question names; the list is the one it names ("my tech watchlist", "watchlist energy"),
else the default. Asking for advice ("should I add KO to my watchlist?") changes
nothing."""

from __future__ import annotations

import re

from assistant.models.offline.advice import asks_advice
from assistant.models.offline.screening import read_screen

WATCHLIST = r"watch[- ]?lists?"
LIST = rf"(?:{WATCHLIST}|lists?(?!\s+of\b))"
"""A watchlist, or "list" after my/the/our ("my pharma list"; not "the list of gainers")."""
NAMED_LIST = re.compile(
    rf"\b(?:my|the|our)\s+([a-z0-9][\w-]{{0,39}})\s+{LIST}\b|"
    rf"\b(?:{WATCHLIST}|(?:a|an|new)\s+(?:new\s+)?lists?)\s+(?:called|named|titled)\s+"
    rf"['\"]?([a-z0-9][\w-]{{0,39}})|"
    rf"\b(?:to|from|on|in|off|of|for)\s+(?:the\s+)?{WATCHLIST}\s+['\"]?([a-z0-9][\w-]{{0,39}})|"
    rf"\b(?:new|a|create|make)\s+(?:new\s+)?{WATCHLIST}\s*:?\s*['\"]([a-z0-9][\w-]{{0,39}})['\"]",
    re.I,
)
ADD = re.compile(
    rf"\b(?:add|put|include|stick|pop|throw|save|track|watch)\b.*\b(?:to|on|in|onto|into)\s+"
    rf"(?:(?:my|the|our)\s+(?:[\w-]+\s+)?{LIST}|{WATCHLIST}|"
    rf"(?:a|an)\s+(?:new\s+)?(?:{WATCHLIST}|lists?\s+(?:called|named|titled)))\b|"
    rf"\b(?:create|make|start|set\s+up|build|new)\b.{{0,20}}\b{WATCHLIST}\b",
    re.I,
)
REMOVE = re.compile(
    rf"\b(?:remove|delete|drop|take|get rid of|strike|cross)\b.*\b(?:from|off|out of)\s+"
    rf"(?:(?:my|the|our)\s+(?:[\w-]+\s+)?{LIST}|{WATCHLIST})\b",
    re.I,
)
DELETE_LIST = re.compile(
    rf"\b(?:delete|remove|drop|get\s+rid\s+of|scrap|clear\s+out)\s+(?:my|the|our)\s+"
    rf"(?:[\w-]+\s+)?{WATCHLIST}\b|\b(?:delete|remove|drop|scrap)\s+{WATCHLIST}\s+\w+",
    re.I,
)
ABOUT = re.compile(
    rf"\b{WATCHLIST}\b|\b(?:my|the|our)\s+(?:[\w-]+\s+)?lists?\b(?!\s+of\b)|"
    r"\b(?:a|an|new)\s+(?:new\s+)?lists?\s+(?:called|named|titled)\b",
    re.I,
)
NOT_NAMES = {
    "my", "the", "our", "a", "new", "current", "whole", "entire", "and", "with", "too",
    "please", "for", "of", "on", "now", "today", "is", "to", "that", "this", "also",
}  # fmt: skip


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


def screened_list(question: str) -> str | None:
    """The watchlist a screening question is about ("rsi for all my watchlist stocks":
    the default one), or None when it names none."""
    return (list_name(question) or "default") if ABOUT.search(question) else None


def list_name(question: str) -> str | None:
    """The list a message names ("my tech watchlist", "the pharma list", "watchlist
    called energy"), if any."""
    for m in NAMED_LIST.finditer(question):
        name = next((g for g in m.groups() if g), "").lower()
        if name and name not in NOT_NAMES and not name.startswith("watch"):
            return name
    return None


def read_watchlist(question: str, mentions: list) -> tuple[str, dict] | str | None:
    """The watchlist call a message asks for; a sentence when it names no security it
    means to add or remove; None when it is not about watchlists, or asks for advice.
    ``mentions``: the securities it names, with where."""
    if not ABOUT.search(question) or asks_advice(question):
        return None
    symbols = [m.symbol for m in mentions]
    changes = ADD.search(question) or REMOVE.search(question) or DELETE_LIST.search(question)
    if not symbols and not changes and read_screen(question, False):
        return None  # "which stocks on my watchlist are down the most": a screen of it
    args: dict = {}
    if name := list_name(question):
        args["name"] = name
    if not symbols and DELETE_LIST.search(question):
        return ("delete_watchlist", args)
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
