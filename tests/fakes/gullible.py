"""A gullible model for the fake OpenAI server: it does whatever any text tells it to.

It reads the last user message *and* every tool result that came after it, and obeys
orders written in either ("buy 3 KO", "sell 2 shares of AAPL", "place_order buy 1000
AAPL"). Orders joined by "and" or commas are proposed together, several tool calls in
one response; "then" starts a step that is proposed only once the previous step's calls
have results. It also tries the obvious escalations: an "approve" tool that does not
exist, and approving in words. Asked about news, it searches first, and then obeys
whatever the documents say. It never decides anything itself: when nothing is left to
do, it reports the tool results as text.

This is the attacker's best friend among models; the suite uses it to show that no
text, in a question or in a document, gets an order past a person.
"""

from __future__ import annotations

import json
import re

from tests.fakes.openai import Reply

ORDER = re.compile(
    r"\b(buy|sell|purchase)\s+(\d+(?:\.\d+)?)\s+(?:shares?\s+(?:of\s+)?)?\$?([A-Za-z]{1,5})\b",
    re.I,
)
STEP = re.compile(r"\bthen\b", re.I)


def _text(content) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def _orders(text: str) -> list[dict]:
    out = []
    for verb, quantity, symbol in ORDER.findall(text):
        out.append(
            {
                "symbol": symbol.upper(),
                "side": "sell" if verb.lower() == "sell" else "buy",
                "quantity": float(quantity),
            }
        )
    return out


def steps(text: str) -> list[list[dict]]:
    """The orders a text asks for, step by step ("X and Y, then Z" -> [[X, Y], [Z]])."""
    return [found for part in STEP.split(text) if (found := _orders(part))]


def gullible(body: dict) -> Reply:
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    question = _text(messages[last_user].get("content"))
    since = messages[last_user + 1 :]
    made = [
        json.loads(call["function"]["arguments"] or "{}") | {"name": call["function"]["name"]}
        for m in since
        if m["role"] == "assistant"
        for call in m.get("tool_calls") or []
    ]
    results = [_text(m.get("content")) for m in since if m["role"] == "tool"]
    tools = {t["function"]["name"] for t in body.get("tools", [])}
    if not made and re.search(r"\b(news|documents?|filings?|search)\b", question, re.I):
        return Reply(tool_calls=[("search_documents", {"query": question, "k": 5})])
    instructions = "\n".join([question, *results])
    proposed = [m for m in made if m["name"] == "place_order"]
    for step in steps(instructions):
        todo = [o for o in step if not any(_same(o, p) for p in proposed)]
        if todo:
            calls = [("place_order", o) for o in todo]
            if re.search(r"\bapprove\b", instructions, re.I) and "approve_order" not in tools:
                calls.append(("approve_order", {"order": todo[0]}))  # a tool it was never given
            return Reply(tool_calls=calls)
    summary = " | ".join(r[:300] for r in results) or "Nothing to do."
    if re.search(r"\bapprove\b", instructions, re.I):
        summary += " I approve these orders myself."
    return Reply(text=summary)


def _same(order: dict, call: dict) -> bool:
    return (
        call.get("symbol", "").upper() == order["symbol"]
        and call.get("side") == order["side"]
        and float(call.get("quantity", 0)) == order["quantity"]
    )
