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
from collections.abc import Callable
from itertools import pairwise

from assistant.models.offline.advice import asks_advice

CHANNEL_WORD = r"(?:#[\w.-]+|https?://\S+|slack|widget|e-?mail|[\w.+-]+@[\w-]+\.[\w.]+|phone|app)"
ASKS_ALERT = re.compile(
    r"\b(?:alert|notify|ping)\s+me\b|"
    r"\b(?:tell|let|warn|message|e-?mail|text|slack|dm)\s+me\s+(?:know\s+)?"
    r"(?:(?:at|on|via|in|through)\s+\S+\s+)?(?:when|if|once|as soon as|the "
    r"(?:moment|minute|day)|whenever)\b|"
    r"\b(?:set|create|add|make|put)\s+(?:up\s+)?(?:an?\s+)?(?:\w+\s+)?alerts?\b|"
    r"\balerts?\s+(?:when|if|once|whenever)\b|"
    r"\b(?:heads[- ]up|keep\s+me\s+posted)\b[^.?!]{0,20}\b(?:if|when|once|whenever)\b|"
    rf"\b(?:post|send|push|ping|show|drop)\b[^.?!]{{0,60}}?{CHANNEL_WORD}[^.?!]{{0,30}}?"
    r"\b(?:when|if|once|whenever|as soon as)\b|"
    r"\b(?:when|if|once|whenever)\b[^.?!]{3,120}?[,;]?\s*(?:let\s+me\s+know|tell\s+me|"
    r"alert\s+me|ping\s+me|notify\s+me|give\s+me\s+a\s+heads[- ]up|"
    rf"(?:ping|post|send|message|notify)\b[^.?!]{{0,30}}?{CHANNEL_WORD})",
    re.I,
)
"""Asking to be told of something later; not "tell me about UnitedHealth", not "show me
when AAPL last crossed its 200-day average"."""
LISTS_ALERTS = re.compile(
    r"\b(?:my|which|what|list|show|any)\b.{0,20}\balerts\b|\b(?:my|any)\s+(?:\w+\s+)?alert\b|"
    r"\balerts?\s+(?:do\s+i\s+have|"
    r"are\s+set|have\s+i\s+(?:got|set))\b|\bdo\s+i\s+have\s+(?:any\s+)?alerts?\b",
    re.I,
)
NUM = r"\$?(\d+(?:\.\d+)?)"
BELOW = (
    r"(?:drops?|falls?|goes|gets|dips?|sinks?|slides?|is|closes?|trades?|moves?|breaks?|"
    r"tanks?|plunges?)?\s*(?:below|under|beneath|less\s+than|<)"
)
ABOVE = (
    r"(?:rises?|climbs?|goes|gets|jumps?|is|closes?|trades?|moves?|breaks?|pops?|rips?|"
    r"tops?|clears?)?\s*(?:above|over|past|more\s+than|exceeds?|>)"
)
DIRECTION = re.compile(
    rf"(?:(?P<below>{BELOW})|(?P<above>{ABOVE}))\s*{NUM}(?!\s*(?:%|percent))", re.I
)
TOPS = re.compile(rf"\b(?:tops|exceeds|surpasses|breaks)\s+{NUM}(?!\s*(?:%|percent))", re.I)
REACHES = re.compile(
    rf"\b(?:hits?|reach(?:es)?|touch(?:es)?|gets?\s+(?:back\s+)?to|goes\s+(?:back\s+)?to|"
    rf"trades?\s+at|is\s+at|comes?\s+back\s+to|returns?\s+to)\s+{NUM}(?!\s*(?:%|percent))",
    re.I,
)
RSI_WORD = re.compile(r"\brsi\b|\brelative\s+strength\b", re.I)
SMA = re.compile(
    r"\b(?:cross(?:es|ing)?|breaks?|moves?|goes|gets|climbs?|falls?|drops?|dips?|slips?)\s+"
    r"(?:above\s+|below\s+|over\s+|under\s+|through\s+|back\s+above\s+|back\s+below\s+)?"
    r"(?:(?:its|the)?\s*(\d{1,3})[- ]?(?:day|d|bar)?\s*(?:simple\s+)?"
    r"(?:moving\s+average|average|ma|sma|dma)\b|"
    r"(?:its|the)\s+(\d{1,3})[- ]?day\b(?!\s*(?:%|percent|move|high|low|return)))",
    re.I,
)
MOVE = re.compile(
    r"\b(moves?|jumps?|drops?|falls?|swings?|gains?|loses?|changes?|is\s+up|is\s+down|"
    r"rips?|pops?|tanks?|surges?|soars?|plunges?|plummets?|spikes?|dumps?|craters?|rall(?:y|ies)|"
    r"sinks?|slides?|tumbles?|climbs?|rises?|declines?)\s+(?:by\s+)?(?:more\s+than\s+|over\s+|"
    r"at\s+least\s+)?(\d+(?:\.\d+)?)\s*(?:%|percent)|"
    r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s+(?:daily\s+|one-day\s+|single-day\s+)?(move|drop|jump|"
    r"fall|swing|gain|loss|change|decline|rise|spike|plunge|pop|rip)",
    re.I,
)
DOWN = re.compile(
    r"^(?:drop|fall|lose|loss|is\s+down|tank|plunge|plummet|dump|crater|sink|slide|tumble|"
    r"decline)",
    re.I,
)
UP = re.compile(
    r"^(?:jump|gain|is\s+up|rip|pop|surge|soar|rall|climb|rise)",
    re.I,
)
"""A move's verb says its direction ("drops 5%" is a fall only); "moves", "swings",
"changes" and "spikes" are either way."""
LONGER = re.compile(
    r"\b(?:in|over|within)\s+(?:a|one|the)?\s*(?:week|month|year)\b|\bweekly\b", re.I
)
FILING = re.compile(
    r"\b(?:files?|filed|filing|filings|10-?[kq]s?|8-?ks?|s-1|13[dg]|def\s*14a|proxy)\b", re.I
)
FORM = re.compile(r"\b(10-?K|10-?Q|8-?K|S-1|13D|13G|DEF\s*14A)\b", re.I)
NEWS = re.compile(r"\b(?:news|headlines?|stor(?:y|ies)|articles?|press|sentiment)\b", re.I)
BAD = re.compile(r"\b(?:negative|bad|bearish|terrible|awful|ugly|damaging|scary|worrying)\b", re.I)
GOOD = re.compile(r"\b(?:positive|good|bullish|great|glowing|upbeat)\b", re.I)
STRONG = re.compile(r"\b(?:very|really|strongly|extremely|seriously|big|major)\b", re.I)
UNUSUAL = re.compile(
    r"\b(?:unusual|abnormal|anomal\w*|strange|weird|odd|wild|crazy|freak\w*|outsized|"
    r"out\s+of\s+the\s+ordinary)\b",
    re.I,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
SLACK_CHANNEL = re.compile(r"(?<![\w])#([a-z0-9][a-z0-9_.-]{0,79})\b", re.I)
SLACK = re.compile(r"\bslack\b|\bdm\s+me\b", re.I)
WIDGET = re.compile(r"\b(?:widget|in\s+the\s+app|in-app|notifications?|browser)\b", re.I)
EMAIL_ME = re.compile(r"\be-?mail\s+me\b|\bby\s+e-?mail\b|\bvia\s+e-?mail\b", re.I)
DELETES = re.compile(
    r"\b(?:delete|remove|cancel|drop|clear|turn\s+off|switch\s+off|disable|kill|get\s+rid\s+of|"
    r"unsubscribe\s+me\s+from|unsubscribe\s+from)\s+(?:[\w'$.-]+\s+){0,4}alerts?\b|"
    r"\bstop\s+(?:alerting|notifying|pinging|warning)\s+me\b",
    re.I,
)
KINDS = {  # words that name a family of alerts ("get rid of the rsi alerts")
    "rsi": ["rsi_above", "rsi_below"],
    "price": ["price_above", "price_below"],
    "moving average": ["cross_sma"],
    "sma": ["cross_sma"],
    "dma": ["cross_sma"],
    "filing": ["new_filing"],
    "news": ["news_sentiment"],
    "sentiment": ["news_sentiment"],
    "unusual": ["anomaly"],
    "anomaly": ["anomaly"],
    "move": ["pct_move", "pct_drop", "pct_rise"],
}
KIND_WORDS = re.compile(
    r"\b(rsi|price|moving\s+average|sma|dma|filings?|news|sentiment|unusual|anomaly|moves?)\s+"
    r"alerts?\b",
    re.I,
)
THEN = re.compile(
    r"\s*,?\s*(?:\band\s+then\b|\bthen\b|\band\s+also\b|;|[?!]+(?=\s*\S)|\.\s+(?=[a-z])|"
    r"\band\b(?=\s+(?:please\s+)?(?:alert|notify|ping|tell|let|warn|set|create|add|make|put)"
    r"\b))\s*",
    re.I,
)
"""Where a message passes from one request to the next: "then", "also", a semicolon, the
end of a sentence, or an "and" that goes on to ask for an alert ("how did KO do this year
and let me know if it falls below 55")."""
FOLLOWS = re.compile(r"(?:again|also|when|if|once|whenever)\b", re.I)
"""A part that continues an alert ("...and then again when it drops below 100")."""
IT = re.compile(r"\b(?:(?P<its>its)|(?P<is>it's|it\s+is)|it)\b", re.I)
"""The one stock the other part named ("...alert me when it goes below 30")."""
PRONOUNS = re.compile(
    r"\b(?:either|both|each|any|all)(?:\s+of\s+(?:them|those|these|the\s+two))?\b|"
    r"\b(?:them|they|those|these)\b",
    re.I,
)
CONJUNCTION = re.compile(r"(?:'s)?\s*(?:,|and|or|&|/|,\s*and|,\s*or)?\s*", re.I)
ALERT_ID = re.compile(r"\balrt_[0-9a-f]{16}\b")
EVERY = re.compile(r"\ball\b|\bevery\b|\beach\b", re.I)
MISSING = (
    "What should the alert on {symbol} watch for? A price ('above 70'), a move ('5% in a "
    "day'), the RSI ('RSI below 30'), a moving-average cross ('crosses its 50-day average'), "
    "a new filing ('files an 8-K'), strong news ('very negative news') or an unusual move."
)
ONE_DAY = (
    'I can watch moves within one trading day only (e.g. "alert me when {symbol} moves 5% '
    'in a day"); for a longer window, an alert on a price level does the job.'
)


def _prices(part: str) -> list[dict]:
    """Every price level a part names: "goes past 40 or under 28" is two."""
    out = []
    for m in DIRECTION.finditer(part):
        kind = "price_below" if m["below"] else "price_above"
        out.append({"condition": kind, "value": float(m[3])})
    if not out and (m := TOPS.search(part)):
        out.append({"condition": "price_above", "value": float(m[1])})
    if not out and (m := REACHES.search(part)):  # whichever side the price is on now
        out.append({"condition": "price_reaches", "value": float(m[1])})
    return out


def _conditions(part: str) -> list[dict] | str:
    """The conditions one part of the message states (none: []); a sentence when it asks
    for one that cannot be watched."""
    if RSI_WORD.search(part):
        after = part[RSI_WORD.search(part).end() :]
        levels = [
            {"condition": "rsi_below" if m["below"] else "rsi_above", "value": float(m[3])}
            for m in DIRECTION.finditer(after)
        ]
        if levels:
            return levels
    if m := SMA.search(part):
        return [{"condition": "cross_sma", "value": float(m[1] or m[2])}]
    out: list[dict] = []
    if FILING.search(part):
        forms = [f.upper().replace(" ", "") for f in FORM.findall(part)]
        forms = [
            f if "-" in f or f.startswith(("DEF", "13")) else f[:-1] + "-" + f[-1] for f in forms
        ]
        forms = ["DEF 14A" if f.startswith("DEF") else f for f in forms]
        out.append({"condition": "new_filing", "value": list(dict.fromkeys(forms)) or None})
    if NEWS.search(part) and (BAD.search(part) or GOOD.search(part) or STRONG.search(part)):
        size = 0.6 if STRONG.search(part) else 0.4
        if BAD.search(part) and not GOOD.search(part):
            out.append({"condition": "news_sentiment", "value": -size})
        elif GOOD.search(part) and not BAD.search(part):
            out.append({"condition": "news_sentiment", "value": size})
        else:  # either way: two alerts
            out += [{"condition": "news_sentiment", "value": v} for v in (size, -size)]
    if out:
        return out
    if m := MOVE.search(part):
        if LONGER.search(part[m.end() : m.end() + 30]):
            return ONE_DAY
        verb = m[1] or m[4]
        way = "pct_drop" if DOWN.match(verb) else "pct_rise" if UP.match(verb) else "pct_move"
        return [{"condition": way, "value": float(m[2] or m[3]) / 100}]
    if prices := _prices(part):
        return prices
    if UNUSUAL.search(part):
        return [{"condition": "anomaly"}]
    return []


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


def _deletion(question: str, symbols: list[str]) -> list[tuple[str, dict]] | str:
    """delete_alerts calls: by id, by stock, by kind ("the rsi alerts"), by level ("the
    PEP alert for 190"), or all of them."""
    ids = ALERT_ID.findall(question)
    if ids:
        return [("delete_alerts", {"alert_ids": ids})]
    narrow: dict = {}
    kinds = [k for m in KIND_WORDS.finditer(question) for k in KINDS[_kind_key(m[1])]]
    if kinds:
        narrow["kinds"] = list(dict.fromkeys(kinds))
    levels = [float(n) for n in re.findall(r"(?<![\w.-])\$?(\d+(?:\.\d+)?)(?![\w%.-])", question)]
    if levels and symbols:
        narrow["value"] = levels[0]
    if symbols:
        return [("delete_alerts", {"symbol": s, **narrow}) for s in symbols]
    if narrow or EVERY.search(question):
        return [("delete_alerts", {**narrow} if narrow else {"every": True})]
    return 'Which alerts? Name the stock ("delete my alerts on KO") or the alert\'s id.'


def _kind_key(word: str) -> str:
    word = " ".join(word.lower().split())
    return {"filings": "filing", "moves": "move"}.get(word, word)


def read_alert(question: str, mentions: list) -> list[tuple[str, dict]] | str | None:
    """The alert calls a message asks for; a sentence asking for what is missing; None
    when it is no alert talk (or asks for advice about one: "should I set an alert?").
    ``mentions``: the securities it names, with positions."""
    hidden = [m.span() for m in (*URL.finditer(question), *EMAIL.finditer(question))]
    mentions = [m for m in mentions if not any(a <= m.start < b for a, b in hidden)]
    symbols = [m.symbol for m in mentions]
    if asks_advice(question):
        return None
    if DELETES.search(question):
        return _deletion(question, symbols)
    asks = ASKS_ALERT.search(question)
    if LISTS_ALERTS.search(question) and not asks:
        return [("list_alerts", {})]
    if not asks:
        return None
    if not symbols:
        return 'Which stock should the alert watch? e.g. "alert me when KO closes above 70".'
    channels = _channels(question)
    if isinstance(channels, str):
        return channels
    clean = lambda text: URL.sub(" ", EMAIL.sub(" ", text))  # noqa: E731 (no prices in addresses)
    found: list[tuple[str, list[dict]]] = []
    for symbol, part in _parts(question, mentions):
        read = _conditions(clean(part))
        if isinstance(read, str):
            return read.format(symbol=symbol)
        found.append((symbol, read))
    if not any(conditions for _, conditions in found):
        whole = _conditions(clean(question))
        if isinstance(whole, str):
            return whole.format(symbol=symbols[0])
        found = [(s, whole) for s, _ in found]
    # "when KO or PFE falls 4%": a security joined to the next by a conjunction alone
    # shares its condition; one named for something else ("remove KO from my watchlist
    # and alert me when PFE ...") gets no alert
    joined = [
        CONJUNCTION.fullmatch(question[a.end : b.start]) is not None for a, b in pairwise(mentions)
    ]
    for i in range(len(found) - 2, -1, -1):  # "KO or PFE falls 4%"
        if not found[i][1] and joined[i]:
            found[i] = (found[i][0], found[i + 1][1])
    for i in range(1, len(found)):  # "a 5% move in KO or PFE"
        if not found[i][1] and joined[i - 1]:
            found[i] = (found[i][0], found[i - 1][1])
    if any(conditions for _, conditions in found):
        found = [(s, c) for s, c in found if c]
    calls = []
    for symbol, conditions in found:
        if not conditions:
            return MISSING.format(symbol=symbol)
        for condition in conditions:
            args = {"symbol": symbol, "condition": condition["condition"], **channels}
            if condition.get("value") is not None:
                args["value"] = condition["value"]
            calls.append(("create_alert", args))
    return calls


RSI_WORD = re.compile(r"\b(?:rsi|relative\s+strength)\b", re.I)
MEASURE_WORD = re.compile(
    r"\b(?:rsi|relative\s+strength|sma|dma|moving\s+average|price|close[sd]?|filings?|news|"
    r"\d+-?[kq]|percent)\b|%|\$",
    re.I,
)


def _name_the_stocks(part: str, named: list[str], rest: str) -> str:
    """An alert part that names no stock speaks of the other part's: "either", "them" and
    "it" become its symbols; "it" is the RSI when the other part asked for the RSI and
    this part names no measure ("what's Apple's RSI; alert me when it goes below 30")."""
    names = " or ".join(named)
    part = PRONOUNS.sub(names, part)
    subject = f"{names}'s RSI" if RSI_WORD.search(rest) and not MEASURE_WORD.search(part) else names

    def it(m: re.Match) -> str:
        return f"{names}'s" if m["its"] else f"{subject} is" if m["is"] else subject

    return IT.sub(it, part)


def alert_after(
    question: str,
    plan_rest: Callable[[str], list[tuple[str, dict]]],
    find: Callable[[str], list],
) -> list[tuple[str, dict]] | None:
    """A message that asks for something and, in a part of its own, for an alert ("give
    me my briefing and then set an alert for XOM below 100"): the other part's calls
    (``plan_rest`` plans it as a question), then the alert's. An alert part that names no
    stock takes the other part's ("...then alert me if either drops"). None when the
    message is not of that shape: it is planned whole."""
    parts = [p.strip(" ,.") for p in THEN.split(question) if p.strip(" ,.")]
    alerting = [p for p in parts if ASKS_ALERT.search(p)]
    rest = [p for p in parts if p not in alerting]
    if len(parts) < 2 or not alerting or not rest or any(FOLLOWS.match(p) for p in rest):
        return None
    calls = plan_rest(" ".join(rest))
    if not calls:
        return None
    named = list(dict.fromkeys(m.symbol for m in find(" ".join(rest))))
    calls = list(calls)
    for part in alerting:
        if named and not find(part):
            part = _name_the_stocks(part, named, " ".join(rest))
        read = read_alert(part, find(part))
        if not isinstance(read, list):
            return None  # a question back, or no alert after all: plan the whole
        calls += read
    return calls
