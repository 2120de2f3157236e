"""Orders as people write them, read by the offline model from the user's words only.

An order is proposed only when the words say exactly one thing: a side, a number of
shares, one tradable symbol, and at most a price the reader understands. Anything else
gets a question back instead of a guess, because a wrong guess is a wrong order:

- "buy 1,000 AAPL" is a thousand shares, "buy 5 hundred KO" five hundred; "buy 1.000 KO"
  could be either, so it is asked about;
- "buy $100 of KO" and "sell 10% of my MSFT" are not share counts;
- "buy 10 KO if it drops to 60" or "below 60" is a limit buy (it waits for the dip); "sell
  10 KO if it drops to 55" is a stop (it protects); rises and "above" the other way round;
- "don't sell 10 MSFT", "should I buy 10 AAPL?", "my friend said buy 10 KO", "what does
  'buy 10 KO at 60' mean" are not instructions;
- "tomorrow", "at the open", "on a dip", "only if earnings miss" are conditions this
  service cannot hold an order for; "the market" names no stock; an index is not traded.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tools.securities import INDICES

VERB = re.compile(r"\b(buy|sell|purchase)\b", re.I)
AMOUNT_AHEAD = r"(?=\s+(?:\$?\d|some\b|a\s+few\b|a\s+couple\b|more\b|shares?\b|all\b|half\b|my\b))"
POLITE_BUY = re.compile(
    r"\b(?:get me|get|pick(?: me)? up|grab(?: me)?|snag|scoop up|load up on|i'?d like|"
    r"i would like|i want|i'?ll take|order)" + AMOUNT_AHEAD,
    re.I,
)
"""Ways to say "buy" before an amount ("get me 3 shares of Apple")."""
POLITE_SELL = re.compile(
    r"\b(?:dump|unload|offload|get rid of|liquidate|trim|short)" + AMOUNT_AHEAD, re.I
)
PLACE_ORDER = re.compile(
    r"\b(?:place|put in|submit|enter|make|send|create)\s+(?:a|an|the)\s+(?:(buy|sell|purchase)\s+)?"
    r"(?:(limit|stop|market)\s+)?(?:(buy|sell)\s+)?order\s+(?:for|to\s+(buy|sell|purchase))\b",
    re.I,
)
STOP_LOSS = re.compile(
    r"\b(?:set|put\s+in|place|add|put)\s+(?:a|an|my)?\s*stop(?:[- ]?loss)?(?:\s+order)?\s+"
    r"(?:on|for)\s+",
    re.I,
)
""""set a stop loss on my AAPL at 120": a protective sell."""
REQUEST = re.compile(
    r"^\s*(?:hey|hi|ok(?:ay)?)?,?\s*(?:please\s+)?(?:(?:can|could|will)\s+you|"
    r"would\s+you\s+(?:be\s+so\s+kind\s+as\s+to|kindly|mind|please)|"
    r"i'?d\s+appreciate\s+(?:it\s+)?if\s+you\s+(?:could|would)|kindly|"
    r"(?:can|could|may)\s+i)\s+(?:please\s+)?(?=(?:buy|sell|purchase|get|have|order|grab|pick up|"
    r"place|put in|submit|short|dump)\w*\b[^?]*?\d)",
    re.I,
)
NO_SIDE = "an-order-of-no-side"
QUESTION_NOT_ORDER = "That reads as a question or a quote"
THANKS = re.compile(r"\s*\?\s*(?:thanks|thank you|thx|ty|cheers|please|pls)?[\s.!]*$", re.I)
"""A request worded as a question ("could you buy 3 WMT for me?", "can I get 3 shares of
Walmart?"): an instruction when it carries a number of shares."""
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "twenty-five": 25, "thirty": 30, "forty": 40, "fifty": 50, "a hundred": 100,
    "one hundred": 100, "a dozen": 12, "a thousand": 1000,
}  # fmt: skip
SPELLED = re.compile(
    r"\b(buy|sell|purchase|and)\s+("
    + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
    + r")\b",
    re.I,
)
SEPARATOR = re.compile(r"(?:,\s+|;\s*|\s+and\s+|\s+plus\s+|\s*&\s*)(?=\$?\d)", re.I)
"""Between the orders of one verb: "buy 10 AAPL and 5 MSFT", "sell 3 KO, 2 PEP" (not the
comma of 1,000)."""
GATE = re.compile(
    r"\b(buy|sell|purchase)(?:\s*:)?\s+(\$?\s*\d|(all|some|half|my|a\s+few|a\s+couple|the\s+rest|"
    r"more)\b|(?:-|\u2212|minus\s+|negative\s+)\s*\$?\d)",
    re.I,
)
NEGATIVE = re.compile(
    r"\b(?:buy|sell|purchase)(?:\s*:)?\s+(?:-|\u2212|minus\s+|negative\s+)\s*\$?\d", re.I
)
"""A quantity below zero ("buy -5 KO"): the side says which way, the number how many."""
IMPERATIVE = re.compile(
    r"^\s*(?:please\s+)?(?:buy|sell|purchase)\s+(?:me\s+)?(?:some\s+)?(?:shares\s+(?:of|in)\s+)?"
    r"|^\s*i(?:'d|\s+would)?\s+(?:like|want)\s+(?:to\s+(?:buy|sell|purchase|own)\s+)?"
    r"(?:some\s+|a\s+few\s+|more\s+)?(?:shares\s+(?:of|in)\s+)?",
    re.I,
)
"""An instruction with no amount, when a security follows at once ("buy Apple", "I want
some Walmart stock"): asked how many shares, never guessed."""


def normalise(text: str) -> str:
    """One spelling for the ways an order is worded: straight quotes, "buy" and "sell" for
    their polite and slang forms, digits for number words, no request framing."""
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = SPELLED.sub(lambda m: f"{m[1]} {NUMBER_WORDS[m[2].lower()]}", text)
    if m := REQUEST.match(text):
        text = THANKS.sub("", text[m.end() :])
        text = re.sub(r"^(?:get|have|order)\b", "buy", text, flags=re.I)
        text = re.sub(r"^buying\b", "buy", text, flags=re.I)  # "would you mind buying 2 KO"
    if (m := PLACE_ORDER.search(text)) and (m[2] or "").lower() == "stop":
        text = re.sub(r"\bat\s+(?=\$?\d)", "stop ", text[m.end() :])  # the price is a stop
        text = (m[1] or m[3] or m[4] or NO_SIDE) + " " + text
    # "an order for 3 shares" buys; "a limit order for 20 KO at 58" could be either side
    text = PLACE_ORDER.sub(lambda m: m[1] or m[3] or m[4] or (NO_SIDE if m[2] else "buy"), text)
    text = STOP_LOSS.sub("sell ", text)
    text = re.sub(r"\b(?:sell\s+short|short[- ]sell|go\s+short)\b", "sell", text, flags=re.I)
    text = POLITE_BUY.sub("buy", text)
    text = POLITE_SELL.sub("sell", text)
    return SPELLED.sub(lambda m: f"{m[1]} {NUMBER_WORDS[m[2].lower()]}", text)


def looks_like_order(text: str, names_security_at: Callable[[str, int], bool]) -> bool:
    """Whether ``text`` is worded as an order (to be read strictly, or asked about).
    ``names_security_at(text, i)`` says whether a security is named at position ``i``."""
    text = normalise(text)
    if GATE.search(text) or NO_SIDE in text:
        return True
    m = IMPERATIVE.match(text)
    return bool(m and m.end() > 0 and names_security_at(text, m.end()))


QUANTITY = re.compile(
    r"""^\s*(?P<dollar>\$\s*)?
    (?P<number>\d[\d,.]*(?:e[+-]?\d+)?)
    \s*(?P<unit>%|(?:k|hundred|thousand|mn|m|million|bn|billion|percent|dollars?|usd|bucks|
    cents?)\b)?""",
    re.I | re.X,
)
SCALE = {
    "k": 1e3,
    "hundred": 1e2,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}
NUMBER = r"(-?\$?\s*\d[\d,]*(?:\.\d+)?)"
DOWN = r"(?:drops?|falls?|dips?|sinks?|goes\s+down|goes\s+below|gets\s+below|comes\s+down)"
UP = r"(?:rises?|climbs?|jumps?|goes\s+up|goes\s+above|gets\s+above|breaks\s+above)"
# (pattern, direction): "down" waits for a lower price, "up" for a higher one
PRICES: list[tuple[re.Pattern, str]] = [
    (
        re.compile(rf"\bif\s+(?:it|the\s+price)\s+{DOWN}\s+(?:to|below|under)\s+{NUMBER}", re.I),
        "down",
    ),
    (re.compile(rf"\bif\s+(?:it|the\s+price)\s+{UP}\s+(?:to|above|over)\s+{NUMBER}", re.I), "up"),
    (
        re.compile(rf"\bstop(?:[- ]loss)?(?:\s+(?:at|price|of|order\s+at))?\s+{NUMBER}", re.I),
        "stop",
    ),
    (re.compile(rf"\b(?:below|under)\s+{NUMBER}", re.I), "down"),
    (re.compile(rf"\b(?:above|over)\s+{NUMBER}", re.I), "up"),
    (
        re.compile(
            rf"(?:\b(?:at|limit(?:\s+price)?(?:\s+of)?|for|max(?:imum)?|no\s+more\s+than|"
            rf"at\s+most|at\s+least)\s+|@\s*){NUMBER}",
            re.I,
        ),
        "limit",
    ),
]
KIND = {
    ("down", "buy"): "limit",  # buy the dip: wait for a lower price
    ("down", "sell"): "stop",  # protect: sell once it falls there
    ("up", "buy"): "stop",  # buy the breakout
    ("up", "sell"): "limit",  # take profit: wait for a higher price
}
MARKET = re.compile(
    r"\b(?:at|into|on)\s+(?:the\s+)?market(?:\s+price)?\b|\bmarket\s+(?:order|price)\b|"
    r"\bat\s+market\b",
    re.I,
)
NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|never|not|nor|won'?t|wouldn'?t|shouldn'?t|cancel|no)\b[\s\w,]{0,20}?"
    r"\b(?:buy|sell|purchase)\b",
    re.I,
)
NOT_AN_INSTRUCTION = re.compile(
    r"\?|[\"“”]|'[^']*\b(?:buy|sell|purchase)\b[^']*'|"
    r"\b(?:should|would\s+you|do\s+you\s+think|what\s+does|what\s+do|what\s+if|what\s+happens|"
    r"how\s+about|explain|mean|means|why|whether|not\s+sure|unsure|maybe|might|perhaps|"
    r"wait|thinking|considering|wonder|told\s+me|said|says|say|suggest\w*|recommend\w*|"
    r"advice|advise|good\s+(?:idea|time|buy)|worth\s+(?:buying|selling))\b",
    re.I,
)
WHEN = re.compile(
    r"\b(?:tomorrow|today|tonight|later|soon|next\s+\w+|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|morning|afternoon|evening|open(?:ing)?|close|closing|eod|"
    r"end\s+of\s+(?:the\s+)?day|if|when|whenever|once|unless|until|after|before|as\s+soon\s+as|"
    r"dip|earnings|oversold|overbought|\d{1,2}:\d{2}|\d{1,2}\s*(?:am|pm))\b",
    re.I,
)
HOW = (
    "Say it as an instruction: buy or sell, a number of shares, the stock, and a price only "
    'for a limit or stop order (e.g. "buy ten shares of MSFT").'
)


def read_orders(text: str, tickers: Callable[[str], list[str]]) -> list[dict[str, object]] | str:
    """``place_order`` arguments for each order in ``text``, or the one question to ask
    back when the words do not say exactly what to do. ``tickers`` finds the symbols a
    piece of text names (the planner's own entity reader)."""
    text = normalise(text)
    if NEGATED.search(text):
        return "I only propose orders from a plain instruction, and this one says not to. " + HOW
    if NOT_AN_INSTRUCTION.search(text):
        return (
            QUESTION_NOT_ORDER + " rather than an instruction, so I have not "
            "proposed an order: I can show prices, indicators and news to help you decide. "
            "To propose one, " + HOW[0].lower() + HOW[1:]
        )
    if NO_SIDE in text and not VERB.search(text):
        return f"Should I buy or sell? {HOW}"
    if NEGATIVE.search(text):
        return (
            "A quantity must be more than zero: the side says which way (to sell five "
            f'shares, "sell 5 KO"), so I have not proposed an order. {HOW}'
        )
    verbs = list(VERB.finditer(text))
    orders = []
    for i, verb in enumerate(verbs):
        clause = text[verb.end() : verbs[i + 1].start() if i + 1 < len(verbs) else len(text)]
        clause = re.sub(r"^[\s:,-]+", " ", clause)  # "please buy: 10 AAPL, 5 MSFT"
        for part in SEPARATOR.split(clause):
            order = _one_order(verb[1].lower(), " " + part.strip(), tickers)
            if isinstance(order, str):
                return order
            orders.append(order)
    return orders


def _one_order(verb: str, clause: str, tickers: Callable[[str], list[str]]) -> dict | str:
    side = "sell" if verb == "sell" else "buy"
    m = QUANTITY.match(clause)
    if m is None:
        return f"How many shares should I {verb}? {HOW}"
    unit = (m["unit"] or "").lower()
    if (
        m["dollar"]
        or unit in ("dollars", "dollar", "usd", "bucks", "cent", "cents")
        or re.search(r"\bworth\b", clause, re.I)
    ):
        return f"Orders are placed in shares, not money: how many shares should I {verb}?"
    if unit in ("%", "percent"):
        return f"Orders are placed in shares: how many shares should I {verb}?"
    quantity = _number(m["number"])
    if quantity is None:
        return f"I could not read {m['number']!r} as a number of shares. {HOW}"
    quantity *= SCALE.get(unit, 1.0)
    rest = MARKET.sub(" ", clause[m.end() :])  # "at the market" is the default, not a stock
    args: dict[str, object] = {"side": side, "quantity": quantity, "order_type": "market"}
    for pattern, direction in PRICES:
        found = pattern.search(rest)
        if found is None:
            continue
        if direction == "stop" and side == "buy" and re.search(r"loss", found[0], re.I):
            return (
                "A stop-loss is a separate sell order: propose the buy, then the protective "
                f'sell (e.g. "sell 10 KO stop 55"). {HOW}'
            )
        price = _number(found[1])
        if price is None or price <= 0:
            return f"A price must be a positive number of dollars. {HOW}"
        kind = KIND.get((direction, side), direction)
        args.update(order_type=kind, **{f"{kind}_price": price})
        rest = rest.replace(found[0], " ")
        break
    if "%" in rest or re.search(r"\bcents?\b", rest, re.I):
        return f"I need a price in dollars, not a percentage or cents. {HOW}"
    if WHEN.search(rest):
        return (
            "I cannot hold an order for a time or a condition; approved, it is sent at once. " + HOW
        )
    symbols = tickers(rest)
    if not symbols:
        return f"Which stock should I {verb}? I know the symbols in the local data. {HOW}"
    if len(symbols) > 1:
        return f"One symbol per order, please: {' or '.join(symbols)}? {HOW}"
    if symbols[0] in INDICES:
        return f"{symbols[0]} is an index: it cannot be bought or sold. {HOW}"
    leftover = re.findall(r"\d[\d.,]*", rest.replace(symbols[0], " "))
    if leftover:
        return (
            f"I could not tell what {leftover[0]} means in this order, so I have not proposed "
            f"it. {HOW}"
        )
    return {"symbol": symbols[0], **args}


def _number(text: str) -> float | None:
    """ "1,000" -> 1000; "2.5" -> 2.5; "1e9" -> 1e9; "$-3" -> -3; "1,5" and "1.000" (a
    European thousand, or one?) -> None."""
    cleaned = text.replace("$", "").replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", cleaned):
        return None
    if "," in cleaned:
        if not re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None
