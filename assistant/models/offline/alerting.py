"""Alert talk: "alert me when AAPL's RSI drops below 30", "notify me if KO goes above
70", "tell me when MSFT moves 5% in a day", "let me know when XOM crosses its 50-day
moving average", "ping me when Apple files an 8-K", "alert me on very negative news about
Pfizer", "tell me if TSLA does something unusual", "what alerts do I have", "delete my
alerts on KO". Several stocks in one message are several alerts, each read from its own
part of the message ("alert me when AAPL drops below 150 and when MSFT tops 400"); where
the firings go (an e-mail address, a webhook URL, Slack, the widget) is read from the
whole message."""

from __future__ import annotations

import re
from itertools import pairwise

ASKS_ALERT = re.compile(
    r"\b(?:alert|notify|ping)\s+me\b|"
    r"\b(?:tell|let|warn|message|e-?mail|text|slack|dm)\s+me\s+(?:know\s+)?"
    r"(?:(?:at|on|via|in|through)\s+\S+\s+)?(?:when|if|once|as soon as|the "
    r"(?:moment|minute|day)|whenever)\b|"
    r"\b(?:set|create|add)\s+(?:up\s+)?(?:an?\s+)?(?:\w+\s+)?alerts?\b|"
    r"\balerts?\s+(?:when|if|once|on|for)\b",
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
    r"(?:by\s+)?(?:more than\s+|over\s+|at least\s+)?(\d+(?:\.\d+)?)\s*(?:%|percent)|"
    r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s+(?:daily\s+|one-day\s+)?(?:move|drop|jump|fall|"
    r"swing|gain|loss|change|decline|rise|spike|plunge)",
    re.I,
)
PRICE = re.compile(rf"(?:(?P<below>{BELOW})|(?P<above>{ABOVE}))\s*{NUM}(?!\s*(?:%|percent))", re.I)


FILING = re.compile(
    r"\b(?:files?|filed|filing|filings|10-?[kq]s?|8-?ks?|s-1|13[dg]|def\s*14a|proxy)\b", re.I
)
FORM = re.compile(r"\b(10-?K|10-?Q|8-?K|S-1|13D|13G|DEF\s*14A)\b", re.I)
NEWS = re.compile(r"\b(?:news|headlines?|stor(?:y|ies)|articles?|press|sentiment)\b", re.I)
BAD = re.compile(r"\b(?:negative|bad|bearish|terrible|awful|ugly|damaging|scary|worrying)\b", re.I)
GOOD = re.compile(r"\b(?:positive|good|bullish|great|glowing|upbeat)\b", re.I)
STRONG = re.compile(r"\b(?:very|really|strongly|extremely|seriously|big|major)\b", re.I)
UNUSUAL = re.compile(
    r"\b(?:unusual|abnormal|anomal\w*|strange|weird|odd|wild|crazy|freak\w*|outsized)\b", re.I
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
SLACK_CHANNEL = re.compile(r"(?<![\w])#([a-z0-9][a-z0-9_.-]{0,79})\b", re.I)
SLACK = re.compile(r"\bslack\b|\bdm me\b", re.I)
WIDGET = re.compile(r"\b(?:widget|in the app|in-app|notifications?|browser)\b", re.I)
EMAIL_ME = re.compile(r"\be-?mail\s+me\b|\bby\s+e-?mail\b|\bvia\s+e-?mail\b", re.I)
DELETES = re.compile(
    r"\b(?:delete|remove|cancel|drop|clear|turn\s+off|switch\s+off|disable|kill|get\s+rid\s+of)"
    r"\s+(?:[\w'-]+\s+){0,3}alerts?\b|\bstop\s+(?:alerting|notifying|pinging|warning)\s+me\b",
    re.I,
)
CONJUNCTION = re.compile(r"(?:'s)?\s*(?:,|and|or|&|/|,\s*and|,\s*or)?\s*", re.I)
ALERT_ID = re.compile(r"\balrt_[0-9a-f]{16}\b")
EVERY = re.compile(r"\ball\b|\bevery\b|\beach\b", re.I)


def _condition(part: str) -> dict | None:
    """The condition one part of the message states, if any."""
    if m := RSI.search(part):
        return {"condition": "rsi_below" if m["below"] else "rsi_above", "value": float(m[3])}
    if m := SMA.search(part):
        return {"condition": "cross_sma", "value": float(m[1])}
    if FILING.search(part) and not NEWS.search(part):
        forms = [f.upper().replace(" ", "") for f in FORM.findall(part)]
        forms = [
            f if "-" in f or f.startswith(("DEF", "13")) else f[:-1] + "-" + f[-1] for f in forms
        ]
        forms = ["DEF 14A" if f.startswith("DEF") else f for f in forms]
        return {"condition": "new_filing", "value": list(dict.fromkeys(forms)) or None}
    if NEWS.search(part) and (BAD.search(part) or GOOD.search(part) or STRONG.search(part)):
        size = 0.6 if STRONG.search(part) else 0.4
        if BAD.search(part) and not GOOD.search(part):
            return {"condition": "news_sentiment", "value": -size}
        if GOOD.search(part) and not BAD.search(part):
            return {"condition": "news_sentiment", "value": size}
        return {"condition": "news_sentiment", "value": [size, -size]}  # either way: two alerts
    if m := MOVE.search(part):
        return {"condition": "pct_move", "value": float(m[1] or m[2]) / 100}
    if m := PRICE.search(part):
        return {"condition": "price_below" if m["below"] else "price_above", "value": float(m[3])}
    if UNUSUAL.search(part):
        return {"condition": "anomaly"}
    return None


def _channels(question: str) -> dict | str:
    """Where the firings go, as create_alert's arguments; a question when "email me"
    gives no address."""
    out: dict = {}
    if m := URL.search(question):
        out["webhook_url"] = m[0]
    rest = URL.sub(" ", question)
    if m := EMAIL.search(rest):
        out["email"] = m[0]
    elif EMAIL_ME.search(rest):
        return (
            'Which address should the e-mails go to? e.g. "email me at ann@example.com when '
            'KO closes above 70".'
        )
    rest = EMAIL.sub(" ", rest)
    if m := SLACK_CHANNEL.search(rest):
        out["slack_channel"] = "#" + m[1]
    elif SLACK.search(rest):
        out["slack_dm"] = True
    if WIDGET.search(rest):
        out["widget"] = True
    return out


def _parts(question: str, mentions: list) -> list[tuple[str, str]]:
    """(symbol, its part of the message): from where it is named to where the next one
    is; the first part keeps what comes before it ("alert me when")."""
    out = []
    for i, m in enumerate(mentions):
        end = mentions[i + 1].start if i + 1 < len(mentions) else len(question)
        out.append((m.symbol, question[(0 if i == 0 else m.start) : end]))
    return out


def read_alert(question: str, mentions: list) -> list[tuple[str, dict]] | str | None:
    """The alert calls a message asks for; a sentence asking for what is missing; None
    when it is no alert talk. ``mentions``: the securities it names, with positions."""
    hidden = [m.span() for m in (*URL.finditer(question), *EMAIL.finditer(question))]
    mentions = [m for m in mentions if not any(a <= m.start < b for a, b in hidden)]
    symbols = [m.symbol for m in mentions]
    if DELETES.search(question):
        ids = ALERT_ID.findall(question)
        if ids:
            return [("delete_alerts", {"alert_ids": ids})]
        if symbols:
            return [("delete_alerts", {"symbol": s}) for s in symbols]
        if EVERY.search(question):
            return [("delete_alerts", {"every": True})]
        return 'Which alerts? Name the stock ("delete my alerts on KO") or the alert\'s id.'
    if LISTS_ALERTS.search(question) and not ASKS_ALERT.search(question):
        return [("list_alerts", {})]
    if not ASKS_ALERT.search(question):
        return None
    if not symbols:
        return 'Which stock should the alert watch? e.g. "alert me when KO closes above 70".'
    channels = _channels(question)
    if isinstance(channels, str):
        return channels
    text = URL.sub(" ", EMAIL.sub(" ", question))  # an address's digits are no price
    found = [
        (s, _condition(URL.sub(" ", EMAIL.sub(" ", part))))
        for s, part in _parts(question, mentions)
    ]
    if all(c is None for _, c in found):
        whole = _condition(text)
        found = [(s, whole) for s, _ in found]
    # "when KO or PFE falls 4%": a security joined to the next by a conjunction alone
    # takes its condition; one named for something else ("remove KO from my watchlist
    # and alert me when PFE ...") gets no alert
    joined = [
        CONJUNCTION.fullmatch(question[a.end : b.start]) is not None for a, b in pairwise(mentions)
    ]
    for i in range(len(found) - 2, -1, -1):  # "KO or PFE falls 4%"
        if found[i][1] is None and joined[i]:
            found[i] = (found[i][0], found[i + 1][1])
    for i in range(1, len(found)):  # "a 5% move in KO or PFE"
        if found[i][1] is None and joined[i - 1]:
            found[i] = (found[i][0], found[i - 1][1])
    if any(c is not None for _, c in found):
        found = [(s, c) for s, c in found if c is not None]
    calls = []
    for symbol, condition in found:
        if condition is None:
            return (
                f"What should the alert on {symbol} watch for? A price ('above 70'), a move "
                "('5% in a day'), the RSI ('RSI below 30'), a moving-average cross ('crosses "
                "its 50-day average'), a new filing ('files an 8-K'), strong news ('very "
                "negative news') or an unusual move."
            )
        values = condition.get("value")
        for value in (
            values
            if isinstance(values, list) and condition["condition"] == "news_sentiment"
            else [values]
        ):
            args = {"symbol": symbol, "condition": condition["condition"], **channels}
            if value is not None:
                args["value"] = value
            calls.append(("create_alert", args))
    return calls
