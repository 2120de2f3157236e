"""Orders as people write them, read by the offline model from the user's words only.

An order is proposed only when the words say exactly one thing: a side, a number of
shares, one symbol, and at most a price the reader understands. Anything else gets a
question back instead of a guess, because a wrong guess is a wrong order: "buy 1,000
AAPL" is a thousand shares (not one), "buy $100 of KO" and "sell 10% of my MSFT" are not
share counts, "don't sell 10 MSFT" and "should I buy 10 AAPL?" are not orders, and
"buy 10 KO if it drops to 60" is a stop, not a market order.
"""

from __future__ import annotations

import re
from collections.abc import Callable

VERB = re.compile(r"\b(buy|sell|purchase)\b", re.I)
QUANTITY = re.compile(
    r"""^\s*(?P<dollar>\$\s*)?
    (?P<number>\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?)
    \s*(?P<unit>%|(?:k|thousand|mn|m|million|bn|billion|percent|dollars?|usd|bucks)\b)?""",
    re.I | re.X,
)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
NUMBER = r"(-?\$?\s*\d[\d,]*(?:\.\d+)?)"
STOP = re.compile(
    rf"\b(?:stop(?:[- ]loss)?(?:\s+(?:at|price|of|order\s+at))?|if\s+it\s+(?:drops|falls|"
    rf"rises|climbs|goes|gets)\s+(?:to|below|above|under|over))\s+{NUMBER}",
    re.I,
)
LIMIT = re.compile(
    rf"(?:\b(?:at|limit(?:\s+price)?(?:\s+of)?|for|below|under|above|over|max(?:imum)?|"
    rf"no\s+more\s+than|at\s+most|at\s+least)\s+|@\s*){NUMBER}(?!\s*(?::\d|am\b|pm\b|o'?clock))",
    re.I,
)
TIME = re.compile(r"\b\d{1,2}(?::\d{2})\s*(?:am|pm)?\b|\b\d{1,2}\s*(?:am|pm)\b", re.I)
NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|never|no|not|nor|won'?t|shouldn'?t|cancel)\b[\s\w,]{0,20}?\b(?:buy|sell|purchase)\b",
    re.I,
)
ADVICE = re.compile(
    r"^\s*(?:should|shall)\s+(?:i|we)\b|\b(?:good|bad|wise|smart)\s+(?:idea|time|move|buy)\b|"
    r"\bworth\s+(?:buying|selling)\b|\b(?:what\s+if|what\s+happens\s+if|how\s+about\s+if)\b",
    re.I,
)
"""Asking whether to trade is not asking to trade ("can you buy 10 AAPL?" is a request)."""
HOW = 'Say it plainly, e.g. "buy 10 MSFT" or "sell 5 KO at 62".'


def read_orders(text: str, tickers: Callable[[str], list[str]]) -> list[dict[str, object]] | str:
    """``place_order`` arguments for each order in ``text``, or the one question to ask
    back when the words do not say exactly what to do. ``tickers`` finds the symbols a
    piece of text names (the planner's own entity reader)."""
    if NEGATED.search(text):
        return "I only propose orders from a plain instruction, and this one says not to. " + HOW
    if ADVICE.search(text):
        return (
            "That reads as a question, so I have not proposed an order: I can show prices, "
            "indicators and news to help you decide. To propose one, " + HOW[0].lower() + HOW[1:]
        )
    verbs = list(VERB.finditer(text))
    orders = []
    for i, verb in enumerate(verbs):
        clause = text[verb.end() : verbs[i + 1].start() if i + 1 < len(verbs) else len(text)]
        order = _one_order(verb[1].lower(), clause, tickers)
        if isinstance(order, str):
            return order
        orders.append(order)
    return orders


def _one_order(verb: str, clause: str, tickers: Callable[[str], list[str]]) -> dict | str:
    m = QUANTITY.match(clause)
    if m is None:
        return f"How many shares should I {verb}? {HOW}"
    unit = (m["unit"] or "").lower()
    if (
        m["dollar"]
        or unit in ("dollars", "dollar", "usd", "bucks")
        or re.search(r"\bworth\b", clause, re.I)
    ):
        return f"Orders are placed in shares, not money: how many shares should I {verb}?"
    if unit in ("%", "percent"):
        return f"Orders are placed in shares: how many shares should I {verb}?"
    quantity = _number(m["number"])
    if quantity is None:
        return f"I could not read {m['number']!r} as a number of shares. {HOW}"
    quantity *= SCALE.get(unit, 1.0)
    rest = clause[m.end() :]
    symbols = tickers(rest)
    if not symbols:
        return f"Which stock should I {verb}? I know the symbols in the local data. {HOW}"
    if len(symbols) > 1:
        return f"One symbol per order, please: {' or '.join(symbols)}? {HOW}"
    args: dict[str, object] = {
        "symbol": symbols[0],
        "side": "sell" if verb == "sell" else "buy",
        "quantity": quantity,
        "order_type": "market",
    }
    if TIME.search(rest):
        return f"I cannot schedule an order for a later time; it would be sent when approved. {HOW}"
    priced = rest
    if stop := STOP.search(priced):
        args.update(order_type="stop", stop_price=_number(stop[1]))
        priced = priced.replace(stop[0], " ")
    elif limit := LIMIT.search(priced):
        args.update(order_type="limit", limit_price=_number(limit[1]))
        priced = priced.replace(limit[0], " ")
    price = args.get("limit_price", args.get("stop_price", 1.0))
    if price is None or price <= 0:
        return f"A price must be a positive number of dollars. {HOW}"
    leftover = re.findall(r"\d[\d.,]*", priced.replace(symbols[0], " "))
    if leftover:
        return (
            f"I could not tell what {leftover[0]} means in this order, so I have not proposed "
            f"it. {HOW}"
        )
    return args


def _number(text: str) -> float | None:
    """ "1,000" -> 1000; "2.5" -> 2.5; "1e9" -> 1e9; "$-3" -> -3; "1,5" -> None."""
    cleaned = text.replace("$", "").replace(" ", "")
    if "," in cleaned:
        if not re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None
