"""From a question (and the ones before it) to tool calls, or to one question back.

:meth:`Planner.read` turns a question into an :class:`Ask`: its intents (router), the
securities it names (security master), its period (anchored to the data's last date)
and its settings. A follow-up ("and Merck?", "compare the two", "same for 2019", "now
with fast 10 and slow 30", "make it risk parity") is read as the previous question with
what the follow-up changes. :meth:`Planner.plan` then chooses the calls: the same tool for
every security of a comparison, prices + indicators + recent documents for an overview,
and so on. The planner reads only the user's words, never tool output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from assistant.models.offline.alerting import ASKS_ALERT, alert_after, read_alert
from assistant.models.offline.briefing import read_briefing
from assistant.models.offline.crossings import (
    CROSS_EVENT,
    RECENTLY,
    asks_cross_dates,
    cross_lines,
)
from assistant.models.offline.dates import NO_PERIOD, PIN, DateError, Period, parse_period
from assistant.models.offline.entities import SecurityMaster
from assistant.models.offline.glossary import define
from assistant.models.offline.holdings import (
    asks_account,
    asks_risk,
    holdings_mentions,
    market_move,
    read_weights,
    scenarios_asked,
    written_weights,
)
from assistant.models.offline.hypothetical import HYPOTHETICAL, invested
from assistant.models.offline.intents import KEYWORDS, Router
from assistant.models.offline.orders import QUESTION_NOT_ORDER, looks_like_order, read_orders
from assistant.models.offline.params import PAIRS, Params, read_params
from assistant.models.offline.profile import read_profile
from assistant.models.offline.readings import asked_windows
from assistant.models.offline.screening import read_screen
from assistant.models.offline.watch import read_watchlist, screened_list
from assistant.models.offline.words import correct
from tools.securities import GROUP_WORDS, INDICES, bundled_master

HELP = (
    "I can look up prices and returns, technical indicators (RSI, MACD, moving averages), "
    "compare stocks, optimise a portfolio, backtest a strategy, search news and filings "
    "with citations, show your paper account, keep your risk profile (\"I'm a cautious "
    'investor", "take the risk questionnaire"), and propose orders (a person must approve '
    'them). Try: "How has Microsoft done over the last year?" or "Backtest a golden cross '
    'on KO".'
)
PROFILE_FIT = re.compile(
    r"\b(?:suits?|fits?|matche?s?|right for|for|given|based on|according to|in line with)\s+"
    r"(?:my|the)\s+(?:risk\s+)?(?:profile|tolerance|appetite|risk level)\b",
    re.I,
)
"""A portfolio asked for the asker's profile ("which mix of X, Y, Z would suit my risk
profile"): the optimiser, whose defaults the profile sets."""
NEEDS_SYMBOLS = {
    "prices",
    "fundamentals",
    "compare",
    "technicals",
    "overview",
    "opinion",
    "portfolio",
    "backtest",
    "walkforward",
    "rebalance",
}
BRIEF = {
    "greeting": "Hello! " + HELP,
    "help": HELP,
    "thanks": "You're welcome. Ask me anything else about the markets.",
    "out_of_scope": "That is outside what I do: I answer questions about stocks and "
    "portfolios from market data and documents. " + HELP,
}
APPROVE_ATTEMPT = re.compile(
    r"\b(approve|authori[sz]e|execute|confirm)\b.{0,40}\b(order|trade|appr_)", re.I
)
PROMPT_PROBE = re.compile(
    r"\b(system prompt|your (prompt|instructions|rules)|reveal|ignore (all |your |previous )?"
    r"(instructions|rules))\b",
    re.I,
)
FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|same|now|then|ok(?:ay)?,?|instead|but|compare the two|"
    r"compare them|try|with|make it|do the same|what if|for|add|drop|remove|include|exclude|"
    r"without|swap|replace|cap|limit|use|switch|take out|split|put|invest)\b|\b(too|instead|as well|the two|"
    r"both|them|those|it|that one|same)\b",
    re.I,
)
CONFIDENT = 0.6
DOMINATES = {  # when both are asked in one clause, the first is the question
    "walkforward": {"backtest", "technicals", "prices"},
    "rebalance": {"portfolio", "backtest", "compare", "prices"},
    "backtest": {"technicals", "prices", "compare", "portfolio", "opinion"},
    "opinion": {"overview", "prices", "technicals", "documents", "compare"},
    "compare": {"prices", "technicals"},
    "overview": {"prices", "technicals", "documents"},
    "portfolio": {"prices", "compare", "technicals", "opinion"},  # "how should I split 50k"
    "documents": {"prices", "fundamentals"},  # "the news about Chevron's record profit"
    "account": {"overview", "prices", "technicals", "opinion"},  # "my position in Apple"
    "fundamentals": {"prices", "technicals", "compare"},  # "which yields more, KO or PEP"
}
EXPLICIT_OVERVIEW = re.compile(r"\b(tell me about|overview|analy[sz]|rundown|summar)", re.I)
PART_SCORE = 0.3
OFF_TOPIC = 0.45
"""Below this, a question with no market words and no security is not about markets."""
"""An intent whose own words are in a clause of its own joins the question at this score."""
OPTIMISE = re.compile(r"\b(optimi[sz]\w*|allocat\w*|diversif\w*|re-?weight\w*)\b", re.I)
CLAUSE_BREAK = re.compile(r"[,;]|\b(?:and|then|also|plus)\b", re.I)
STRONG_BREAK = re.compile(r"[;.?!]\s|\b(?:and\s+then|then|also|plus|after\s+that)\b", re.I)
"""Between two requests, not inside a list ("AAPL, MSFT and KO") or a name ("buy and hold"):
only here may a part its neighbour's calls cover be asked for on its own."""
COVERS = {  # an intent whose calls already answer these (its own words name them)
    "overview": {"prices", "technicals", "documents", "compare"},
    "opinion": {"prices", "technicals", "documents", "overview", "compare", "fundamentals"},
    "backtest": {"technicals", "prices", "walkforward", "portfolio"},
    "walkforward": {"technicals", "backtest", "prices"},
    "rebalance": {"portfolio", "backtest", "technicals", "prices", "compare"},
    "compare": {"technicals", "prices"},
    "portfolio": {"compare", "prices", "account"},
}
MAX_SYMBOLS = 5
DIVERSIFIED = re.compile(
    r"\b(?:how diversified|diversification (?:benefit|between|across|from)|(?:give|add|get)\w* (?:me |you |us )?"
    r"(?:any |much |some |real )?diversification|"
    r"(?:basically|really|just|essentially) the same (?:trade|bet|stock|thing)|same trade)\b",
    re.I,
)
"""Whether named holdings diversify each other: their correlations, not new weights."""
RISKIER = re.compile(r"\b(riski(?:er|est)|most risky|more risky|how (?:risky|safe))\b", re.I)
WHICH_RISKIER = re.compile(
    r"\b(riski(?:er|est)|more risky|less risky|safer|safest|more volatile|less volatile|"
    r"more dangerous|lower risk|higher risk|which (?:portfolio|mix|one)\b)",
    re.I,
)
PORTFOLIO_SPLIT = re.compile(
    r"\s(?:or|vs\.?|versus|than|compared (?:to|with)|against)\s+(?:(?:a|the)\s+)?"
    r"(?:(?:portfolio|mix|one)\s+(?:of\s+)?)?",
    re.I,
)
"""Where the second of two portfolios set against each other starts ("which is riskier,
50% AAPL 50% MSFT or 50% KO 50% PEP")."""
CRYPTO = re.compile(
    r"\b(?:bitcoin|btc|ethereum|ether|eth|crypto\w*|dogecoin|doge|solana|xrp|litecoin|"
    r"cardano|stablecoins?|usdt|tether)\b",
    re.I,
)
SPY = re.compile(r"\bspy\b", re.I)
INDEX_NAMES = {
    "dow": "Dow Jones Industrial Average",
    "nasdaq": "Nasdaq Composite",
    "russell": "Russell 2000",
    "vix": "VIX volatility index",
}
OTHER_INDEX = re.compile(
    r"\b(?:the\s+)?(dow)(?:\s+jones)?(?:\s+industrials?(?:\s+average)?)?\b(?!\s+(?:chemical|inc))|"
    r"\bthe\s+(nasdaq)\b(?!,?\s+inc)|\b(nasdaq)\s+(?:composite|100|index)\b|"
    r"\b(russell)\s+(?:2000|1000|3000)\b|\b(vix)\b",
    re.I,
)
"""Indices people ask about that the sample data does not hold (it has the S&P 500)."""
REFERS = re.compile(r"\b(?:its|their|them|both|for\s+it|of\s+it|on\s+it|these|those)\b", re.I)
"""Words that point back at the stocks of the conversation so far: "what's its RSI?" is a
reading of the last stock, not a definition."""
EARLIEST = date(1900, 1, 1)
"""The earliest day a tool accepts: from it, a tool reads a symbol's whole history."""
EVER = re.compile(
    r"\b(ever|all[- ]time|of all time|in history|on record|record (?:highs?|lows?)|"
    r"since (?:listing|ipo))\b",
    re.I,
)
RELATION = re.compile(
    r"\b(correlat\w*|beta|move[sd]? (?:together|in tandem|with (?:the|each other))|co-?mov\w*|"
    r"sortino|calmar|(?:best|worst|biggest|largest) (?:single[- ])?(?:trading )?(?:day|month)s?|"
    r"(?:one|single)[- ]day (?:gain|loss|drop|jump|move|fall|rise)|in an? (?:single|one)[- ]?"
    r"(?:day|month)|riski(?:er|est)|most risky|more risky|how (?:risky|safe)|riskiness|"
    r"(?:crash|fell|dropp?|sank|tank)\w* "
    r"(?:the )?(?:harder|more|most) when|(?:crash|fell|fall|dropp?)\w* harder|"
    r"draw ?downs?\b.{0,40}\b(?:when|dates?|from|start\w*|bottom\w*)|peak[- ]to[- ]trough|"
    r"when did .{0,30}\b(?:bottom|peak)\w*)\b|" + DIVERSIFIED.pattern,
    re.I,
)
"""Measures only a comparison has (correlation, beta, best and worst day or month): asked
with prices or a comparison, ``compare_symbols`` answers instead of the price summaries."""
MEASURED = {"prices", "compare"}
ANOMALY = re.compile(
    r"\b(anomal\w*|unusual|abnormal\w*|pump[- ](?:and|&|n)[- ]dump\w*|manipulat\w*|suspicious|"
    r"(?:weird|strange|odd|crazy) (?:moves?|trading|price action|activity|spikes?)|"
    r"(?:price|volume) spikes?|spiked? and (?:crashed|collapsed|reversed|dumped)|"
    r"pumped (?:and|&|n) dumped|spikes? in)\b",
    re.I,
)
"""Unusual trading in a named stock: flags with their evidence."""
SENTIMENT = re.compile(
    r"\b(sentiment|mood|vibes?|tone of (?:the )?(?:news|coverage|headlines)|"
    r"(?:press|media|news|coverage|headlines)\b.{0,25}\b(?:bullish|bearish|feel\w*|optimistic|"
    r"pessimistic)|"
    r"(?:bullish|bearish)\b.{0,25}\b(?:news|headlines|coverage|press)|"
    r"(?:news|coverage|headlines|press)\b.{0,30}\b(?:positive|negative|good|bad|upbeat|gloomy)|"
    r"(?:positive|negative|good|bad) (?:news|press|coverage|headlines)|"
    r"how (?:is|are|was|were) .{1,30} (?:perceived|viewed|seen|covered) in the (?:news|press|media))\b",
    re.I,
)
"""The news's tone about a company: a sentiment index over its indexed stories."""
OPTIMISE_ASK = re.compile(
    r"\b(optimi[sz]\w*|allocat\w*|how (?:should|would|do) i (?:weight|split|divide)|"
    r"weights? (?:for|of)|build|construct|min(?:imum|imi[sz]e)?[- ]variance|"
    r"max(?:imum|imi[sz]e)?[- ]sharpe|risk[- ]parity)\b",
    re.I,
)
OWN_MEASURES = {"backtest", "walkforward", "rebalance", "portfolio", "account"}
"""Questions whose own tools report these measures (a backtest's Sortino, say)."""
MAX_COMPARED = 20
RISK_OWNERS = {"walkforward", "rebalance", "documents"}
"""Questions whose own tools answer "risk" (a backtest's drawdown, a filing's risk factors)."""
VALUATION = re.compile(
    r"\b(over|under)valued\b|\b(cheap|expensive|valuation|p\s*/\s*e|pe ratio)\b", re.I
)
WHAT_DATA = re.compile(
    r"\b(?:what|which)\s+(?:stocks|symbols|tickers|companies|securities|data)\b.{0,30}"
    r"\b(?:have|cover|know|support|got|available)|\blist\s+(?:the\s+|your\s+|all\s+)?"
    r"(?:stocks|symbols|tickers)\b",
    re.I,
)
EVERY_STOCK = re.compile(
    r"\b(?:all|every|each)\b.{0,20}\b(?:stocks?|symbols?|companies|names|tickers|you have)\b|"
    r"\b(?:your|these|the available)\s+(?:stocks|symbols|tickers|companies)\b|"
    r"\bout of (?:what|the ones|those) you have\b|\btop\s+\d+\s+(?:performers|stocks)\b|"
    r"\b(?:best|worst)[- ](?:performing\s+)?(?:stocks?|performers?)\b",
    re.I,
)
"""A question about the whole stored universe ("which of your stocks did best in 2022")."""
EVERY_STOCK_CAP = 25
"""At most this many in one ranking (one call each, under the turn's tool-call limit)."""
CANCEL = re.compile(
    r"\b(?:cancel|withdraw|revoke|undo|call\s+off|kill|scrap|delete)\b.{0,30}"
    r"\b(?:orders?|trades?|buy|sell|purchase|approvals?)\b",
    re.I,
)
CANCEL_HOW = (
    "I can't cancel orders. An order still waiting for approval is withdrawn by rejecting it: "
    "an approver runs `assistant approvals reject ID` (or presses Reject in the chat or Slack), "
    "and it expires by itself if nobody decides. An order already sent to the broker is "
    'cancelled at the broker. Ask "what\'s in my account?" to see what is waiting.'
)
SYMBOL_LOOKUP = re.compile(
    r"\b(?:ticker|symbol)s?\s+(?:symbol\s+)?(?:for|of)\s+(?P<a>[^?!;]{2,60}?)\s*(?:[?!;]|$)|"
    r"\b(?:look\s*up|find|search\s+for)\s+(?:the\s+)?(?:ticker|symbol|company)\s+"
    r"(?:for\s+|of\s+|called\s+)?(?P<b>[^?!;]{2,60}?)\s*(?:[?!;]|$)|"
    r"\bwhat\s+(?:company|stock|business)\s+is\s+\$?(?P<c>[A-Za-z.]{1,6})\b(?!\s+\w+ing\b)|"
    r"\bwhat(?:'s|s|\s+is)\s+(?P<d>[a-z][\w .&-]{1,40}?)['’]s?\s+(?:stock\s+)?(?:ticker|symbol)\b",
    re.I,
)
"""A question about a company's ticker or a ticker's company, answered from the master."""
AMEND = re.compile(
    r"^\W*(?:actually|instead|no,?|wait,?|sorry,?)?\s*(?:make\s+it|change\s+(?:it|that)\s+to|"
    r"(?:do|let'?s\s+do)\s+)\s*\d",
    re.I,
)
"""Changing an order already proposed ("actually make it 20")."""


@dataclass
class Ask:
    """What one question asks for."""

    text: str
    intents: list[str]
    symbols: list[str]
    missing: list[str] = field(default_factory=list)
    period: Period = NO_PERIOD
    params: Params = field(default_factory=Params)
    follow_up: bool = False
    mentioned: list[str] = field(default_factory=list)
    """Every stored symbol the conversation named so far, most recent last."""
    whole: str = ""
    """For a part of a question, the whole of it (a search reads all the words)."""
    before: str = ""
    """For a follow-up, the question it follows ("same for CVX" after a cross question)."""
    everything: bool = False
    group: str | None = None
    """A group of stocks asked about ("utility stocks") of which too few are stored."""
    """Every stored stock ("which of your stocks did best"): no cap on how many."""
    parts: list[Ask] = field(default_factory=list)
    """A question with several parts ("compare X and Y at the end of 2020 and backtest Z
    since 2010"): each part with its own securities, period and settings."""


@dataclass
class Planned:
    calls: list[tuple[str, dict]] = field(default_factory=list)
    message: str | None = None
    ask: Ask | None = None


class Planner:
    def __init__(
        self,
        master: SecurityMaster,
        router: Router,
        stored: Callable[[], set[str]],
        anchor: Callable[[], date],
        fetchable: bool = False,
        refresh: Callable[[list[str], date | None], None] | None = None,
        pin: date | None = None,
    ) -> None:
        self.master, self.router = master, router
        self.stored, self.anchor = stored, anchor
        self.fetchable, self.refresh, self.pin = fetchable, refresh, pin
        """A price provider fetches what the store lacks: any listed security may be asked
        about, not only the stored ones (orders still need stored prices)."""

    def pinned(self, day: date) -> Planner:
        """This planner in a conversation pinned to ``day``: relative periods ("last
        year") count back from it, and nothing later is fetched."""
        anchor = self.anchor
        return Planner(
            self.master,
            self.router,
            self.stored,
            lambda: min(anchor(), day),
            self.fetchable,
            self.refresh,
            day,
        )

    def _available(self, symbol: str, stored: set[str]) -> bool:
        return symbol in stored or (self.fetchable and symbol != "SPX")

    # -- reading ----------------------------------------------------------------------

    def read(self, question: str, earlier: list[str] = ()) -> Ask:
        """The question as an :class:`Ask`; ``earlier`` are the previous questions, most
        recent last, for follow-ups. Raises DateError for an impossible date."""
        question = self._corrected(question)
        whole = self._read(question, [self._corrected(q) for q in earlier])
        if whole.follow_up or len(whole.intents) < 2:
            return whole
        starts = sorted(
            (m.start(), intent)
            for intent in whole.intents
            if (m := KEYWORDS[intent].search(question)) is not None
        )
        if len(starts) < 2 or len(starts) != len(whole.intents):
            return whole
        for i, (start, intent) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(question)
            whole.parts.append(self._part(question[0 if i == 0 else start : end], intent, whole))
        return whole

    def _part(self, text: str, intent: str, whole: Ask) -> Ask:
        stored = self.stored()
        symbols = [
            m.symbol for m in self.master.find(text, stored) if self._available(m.symbol, stored)
        ]
        period = parse_period(text, self.anchor())
        params = read_params(text)
        return Ask(
            text=text,
            whole=whole.text,
            intents=[intent],
            symbols=symbols or whole.symbols,
            period=period if period.named else whole.period,
            params=params if params != Params() else whole.params,
        )

    def _period(self, question: str) -> Period:
        """The period asked about. A question that opens with the day it is pinned to ("as
        of Jan 5 2009, how did the S&P do in 2008") asks about the period after it."""
        opening = PIN.match(question.lower().replace("’", "'"))
        if opening and opening[1]:
            rest = parse_period(question[opening.end() :], self.anchor())
            if rest.named:
                return rest
        return parse_period(question, self.anchor())

    def _read(self, question: str, earlier: list[str]) -> Ask:
        stored = self.stored()
        mentions = self.master.find(question, stored)
        symbols = [m.symbol for m in mentions]
        if self.refresh is not None and symbols:  # before "last year" is read from the data
            self.refresh(symbols, self.pin)
        masked = question
        for i, m in sorted(enumerate(mentions), key=lambda p: -p[1].start):
            masked = masked[: m.start] + ("ACME", "GLOBEX", "INITECH")[min(i, 2)] + masked[m.end :]
        scored = self.router.score(masked, question)
        period = self._period(question)
        params = read_params(question)
        scored = _dominant_first(scored, question)
        if OPTIMISE.search(question) and not KEYWORDS["backtest"].search(question):
            # "optimise my portfolio" is not a look at the account
            scored = sorted(scored, key=lambda s: s.intent != "portfolio")
        if scored[0].intent in ("greeting", "thanks") and not scored[0].keyword:
            scored = scored[1:]  # "translate hello into French" is no greeting
        if scored[0].intent == "fundamentals" and not scored[0].keyword:
            scored = scored[1:]  # filings' figures are asked for by name ("P/E", "revenue")
        top = scored[0]
        intents = [top.intent]
        covered = COVERS.get(top.intent, set())
        for s in scored[1:]:  # the other parts of a question with several
            if s.intent == "compare" and top.intent == "backtest" and params.versus:
                continue  # "which is better" between strategies: the backtests compare them
            if (
                s.intent == "technicals"
                and top.intent in ("portfolio", "rebalance")
                and all(
                    re.fullmatch(r"volatil\w*", m[0], re.I)
                    for m in KEYWORDS["technicals"].finditer(question)
                )
            ):
                continue  # "minimise volatility across ...": the portfolio's objective
            own = (
                s.keyword and s.score >= PART_SCORE and _own_clause(s, top, question, STRONG_BREAK)
            )
            if (
                s.keyword
                and s.intent not in set(intents)
                and (s.intent not in covered or own)
                and (
                    s.score >= CONFIDENT - 0.05
                    or (s.score >= PART_SCORE and _own_clause(s, top, question))
                )
            ):
                intents.append(s.intent)
        ask = Ask(
            text=question,
            intents=intents,
            symbols=[s for s in symbols if self._available(s, stored)],
            missing=[s for s in symbols if not self._available(s, stored)],
            period=period,
            params=params,
        )
        ask.mentioned = list(ask.symbols)
        confident = top.score >= CONFIDENT or top.keyword
        if earlier and (FOLLOW_UP.search(question) or not confident or not symbols):
            previous = self.read(earlier[-1], earlier[-6:-1])
            if previous.intents[0] not in BRIEF:
                return self._follow(previous, ask, top)
        if not symbols and (group := GROUP_WORDS.search(question)):
            # "the pharma names you have", "oil stocks": the stored members of the group
            members = bundled_master().in_group(group[1] or group[2], stored - {"SPX"})
            if ask.intents[0] in ("portfolio", "rebalance") and not KEYWORDS[ask.intents[0]].search(
                question
            ):
                ask.intents = ["compare"]  # "which energy stock had the best 2022": a ranking
            if len(members) >= (2 if ask.intents[0] in ("portfolio", "rebalance") else 1):
                ask.symbols = members[:EVERY_STOCK_CAP]
                ask.everything = True
                if ask.intents[0] not in ("portfolio", "rebalance", "technicals", "backtest"):
                    ask.intents = ["compare"] if len(members) > 1 else ask.intents
                return ask
            ask.group = group[1] or group[2]
            return ask
        if not symbols and EVERY_STOCK.search(question):
            ask.symbols = sorted(stored - {"SPX"})[:EVERY_STOCK_CAP]
            ask.everything = True
            if ask.intents[0] not in ("portfolio", "rebalance", "technicals"):
                ask.intents = ["compare"]
            return ask
        if asks_cross_dates(question):
            ask.intents = ["technicals"]  # when averages crossed: no backtest's question
        if (
            ask.intents[0] == "technicals"
            and period.start is not None
            and (word := KEYWORDS["technicals"].search(question))  # the router may say so alone
            and re.fullmatch(r"volatil\w*", word[0], re.I)
        ):
            ask.intents = ["prices"]  # "how volatile was AMD in 2022": that year's volatility
        if symbols and HYPOTHETICAL.search(question):
            # what it is worth now: from the purchase ("in 2010", "5 years ago") to the
            # latest data
            start = period.start or period.end
            ask.intents = ["prices"]
            ask.period = Period(start=start, label=f"from {start}") if start else period
        elif symbols and not period.empty and not any(x.keyword for x in scored):
            ask.intents = ["prices"]  # "Chevron since the covid crash": its move over that time
        elif symbols and not period.empty and ask.intents[0] in ("overview", "opinion"):
            if ask.intents[0] == "overview" and not EXPLICIT_OVERVIEW.search(question):
                ask.intents = ["prices", *ask.intents[1:]]  # "how is KO doing this year"
        elif not confident and symbols and top.intent in BRIEF.keys() | {"account", "documents"}:
            # a company and no clear question: over a period its move, else its overview
            ask.intents = ["prices" if not period.empty else "overview"]
        elif not confident and not symbols and not ask.missing and top.score < OFF_TOPIC:
            ask.intents = ["out_of_scope"]  # "who won the world cup in 2018?"
        return ask

    def _follow(self, previous: Ask, new: Ask, top) -> Ask:
        """The earlier question with what the follow-up changes: its securities, period,
        settings, and its intent only when the follow-up's own words settle one."""
        text = new.text.lower()
        mentioned = list(dict.fromkeys([*previous.mentioned, *new.symbols][::-1]))[::-1]
        symbols = new.symbols or previous.symbols
        if new.symbols and re.search(r"\b(too|as well|also|add|plus|and both|include)\b", text):
            symbols = list(dict.fromkeys(previous.symbols + new.symbols))
        if new.symbols and re.search(
            r"\b(drop|remove|without|exclude|minus|except|take out)\b", text
        ):
            symbols = [s for s in previous.symbols if s not in new.symbols]
        period = new.period if new.period.named else previous.period
        if (shift := _year_shift(text)) and previous.period.start and previous.period.end:
            period = _shifted(previous.period, shift)
        intents = previous.intents
        if top.keyword and top.intent not in BRIEF and top.intent != previous.intents[0]:
            intents = new.intents
        if re.search(
            r"\b(compare|the two|both|versus|vs|which (?:one|of them|was|is|did|had)|better|worse)\b",
            text,
        ):
            if not new.symbols and len(mentioned) >= 2:
                symbols = mentioned[-2:] if re.search(r"\b(two|both)\b", text) else mentioned
            if len(symbols) >= 2 and previous.intents[0] in (
                "prices",
                "technicals",
                "compare",
                "overview",
            ):
                intents = ["compare"]
            # else: the same backtest, walk-forward or opinion for each of them
        if re.search(
            r"^\W*(?:add|drop|remove|include|exclude|without|swap|replace|take out)\b", text
        ):
            intents = previous.intents  # "drop PG" changes the holdings, not the question
        changed_settings = new.params != Params()
        if previous.intents[0] not in ("backtest", "walkforward"):
            # "what's its RSI?" names an indicator, not the RSI strategy of a backtest
            changed_settings = replace(new.params, strategy=None) != Params()
        if changed_settings and not new.symbols and intents == new.intents:
            intents = previous.intents  # "with 10 bps costs" changes the backtest, not the intent
        return Ask(
            text=new.text,
            intents=intents,
            symbols=symbols,
            missing=new.missing,
            period=period,
            params=previous.params.merged(new.params),
            follow_up=True,
            mentioned=mentioned,
            # what the follow-up continues, when it asks the same thing of other stocks
            # ("same for CVX"), not when it asks its own ("and its RSI?")
            before=(previous.before or previous.text)
            if intents == previous.intents
            and not any(k.search(new.text) for k in KEYWORDS.values())
            else "",
        )

    # -- planning ---------------------------------------------------------------------

    def _corrected(self, text: str) -> str:
        stored = self.stored()
        return correct(text, lambda w: w.upper() in stored or self.master.known(w.upper()))

    def _and_alert(self, question: str, earlier: list[str]) -> Planned | None:
        """The other request of a message that also asks for an alert, planned as a
        question, with the alert's calls after its calls (see ``alert_after``)."""
        stored = self.stored()
        planned: list[Planned] = []

        def rest(text: str) -> list[tuple[str, dict]]:
            planned.append(self.plan(text, earlier))
            return planned[-1].calls

        calls = alert_after(question, rest, lambda text: self.master.find(text, stored))
        if calls is None:
            return None
        return Planned(calls=calls, message=planned[0].message, ask=planned[0].ask)

    def plan(self, question: str, earlier: list[str] = ()) -> Planned:
        question = self._corrected(question)
        earlier = [self._corrected(q) for q in earlier]
        if APPROVE_ATTEMPT.search(question):
            return Planned(
                message="I can't approve or execute orders: a person with the approver role "
                "must decide each pending approval (for example with `assistant approvals "
                "approve ID`). I can only propose orders."
            )
        if CANCEL.search(question):
            return Planned(message=CANCEL_HOW)
        if ASKS_ALERT.search(question) and (both := self._and_alert(question, earlier)):
            return both  # "compare KO and PEP, then alert me if either drops below 150"
        named = self.master.find(question, self.stored())  # read once: every branch uses it
        found = list(dict.fromkeys(m.symbol for m in named))
        if (briefing := read_briefing(question, found)) is not None:  # "brief me on my watchlist"
            return Planned(calls=[briefing])
        if (alert := read_alert(question, named)) is not None:  # "alert me when ..."
            return Planned(message=alert) if isinstance(alert, str) else Planned(calls=alert)
        if watch := read_watchlist(question, named):
            if isinstance(watch, str):
                return Planned(message=watch)
            return Planned(calls=[watch])  # "add NVDA to my watchlist"
        is_order = looks_like_order(question, self._security_at)
        if not is_order and (other := self._not_covered(question, found)):
            return Planned(message=other)  # "how's the dow", "price of bitcoin"
        if PROMPT_PROBE.search(question) and not is_order:
            return Planned(message="I can't share or change my instructions. " + HELP)
        profile = read_profile(question, earlier, bool(named))
        if profile and (not is_order or not named):  # "I'd buy more" answers the questionnaire
            return Planned(calls=[profile])  # "I'm a cautious investor", the questionnaire
        if not is_order and (lookup := SYMBOL_LOOKUP.search(question)):
            query = next(g for g in lookup.groups() if g).strip(" .,'\"")
            query = re.sub(r"[\s,]+(?:please|pls|thanks|thank you)$", "", query, flags=re.I)
            return Planned(calls=[("find_symbol", {"query": query})])
        if not named and not is_order and (screened := read_screen(question, False)):
            try:  # "which stocks are oversold": the stored universe, screened
                ask = self.read(question, list(earlier))
            except DateError as exc:
                return Planned(message=str(exc))
            if ask.group and not ask.symbols:
                return Planned(message=self._which("compare", ask), ask=ask)
            return Planned(calls=[self._screen(ask, screened)], ask=ask)
        if not named and not is_order:
            if WHAT_DATA.search(question):
                return Planned(message=self.known_symbols())
            if (definition := define(question)) and not (earlier and REFERS.search(question)):
                return Planned(message=definition)  # not "what's its RSI?" (a reading)
            if (
                earlier
                and AMEND.search(question)
                and looks_like_order(earlier[-1], self._security_at)
            ):
                return Planned(
                    message="A proposed order is not changed: reject it (it also expires by "
                    'itself) and say the new order in full, e.g. "buy 20 shares of '
                    f'{self._last_symbol(earlier) or "MSFT"}".'
                )
        if is_order:
            orders = read_orders(question, lambda text: self._order_symbols(text))
            missing = [m.symbol for m in named if m.symbol not in self.stored()]
            if isinstance(orders, str) and missing:
                return Planned(message=self.missing_note(missing))
            if isinstance(orders, str) and orders.startswith(QUESTION_NOT_ORDER):
                # "should I sell 10 XOM?": the facts, both sides; no order
                try:
                    return self.calls(self.read(question, list(earlier)))
                except DateError as exc:
                    return Planned(message=str(exc))
            if isinstance(orders, str):
                if orders.startswith("Which stock") and (last := self._last_symbol(earlier)):
                    orders += f' Did you mean {last}? Then say e.g. "buy 10 {last}".'
                return Planned(message=orders)
            missing = [o["symbol"] for o in orders if o["symbol"] not in self.stored()]
            if missing:
                return Planned(message=self.missing_note(missing))
            return Planned(calls=[("place_order", o) for o in orders])
        try:
            ask = self.read(question, list(earlier))
        except DateError as exc:
            return Planned(message=str(exc))
        return self.calls(ask)

    def _last_symbol(self, earlier: list[str]) -> str | None:
        """The stock the conversation named last: suggested, never assumed, for an order."""
        for question in reversed(list(earlier)):
            found = [m.symbol for m in self.master.find(question, self.stored())]
            stored = [x for x in found if x in self.stored()]
            if stored:
                return stored[-1]
        return None

    def _security_at(self, text: str, at: int) -> bool:
        return any(m.start == at for m in self.master.find(text, self.stored()))

    def _order_symbols(self, text: str) -> list[str]:
        mentions = self.master.find(text, self.stored())
        return [m.symbol for m in mentions]

    def calls(self, ask: Ask) -> Planned:
        if ask.parts:
            out: list[tuple[str, dict]] = []
            for part in ask.parts:
                for call in self.calls(part).calls:
                    if call not in out:
                        out.append(call)
            return Planned(calls=out, ask=ask)
        intent = ask.intents[0]
        if ask.group and not ask.symbols:
            return Planned(
                message=f"The local data has too few {ask.group.lower()} stocks for that (I group "
                f"stocks by their sector and industry). {self.known_symbols()}",
                ask=ask,
            )
        if intent in BRIEF:
            return Planned(message=BRIEF[intent], ask=ask)
        if (intent in NEEDS_SYMBOLS or ask.missing) and not ask.symbols:
            return Planned(message=self._which(intent, ask), ask=ask)
        out: list[tuple[str, dict]] = []
        if PROFILE_FIT.search(ask.text) and len(ask.symbols) >= 2:
            return Planned(calls=self._portfolio(ask), ask=ask)
        if WHICH_RISKIER.search(ask.text) and (pair := self._two_portfolios(ask)):
            return Planned(calls=pair, ask=ask)
        if intent not in RISK_OWNERS and asks_risk(ask.text, ask.symbols):
            return Planned(calls=[self._risk(ask)], ask=ask)
        if (
            SENTIMENT.search(ask.text)
            and ask.symbols
            and not KEYWORDS["technicals"].search(ask.text)  # "macd on msft, bullish or bearish?"
        ):
            return Planned(calls=self._sentiment(ask), ask=ask)
        if ANOMALY.search(ask.text) and ask.symbols:
            return Planned(calls=self._anomalies(ask), ask=ask)
        if ask.symbols and (crosses := self._crosses(ask)):
            return Planned(calls=crosses, ask=ask)
        measures = bool(RELATION.search(ask.text)) and (
            intent not in OWN_MEASURES
            or (
                intent == "portfolio"
                and (DIVERSIFIED.search(ask.text) or RISKIER.search(ask.text))
                and not OPTIMISE_ASK.search(ask.text)
            )
        )
        if measures and (call := self._measures(ask)):
            out.append(call)
        elif measures and ask.missing:
            return Planned(message=self.missing_note(ask.missing), ask=ask)
        for name in ask.intents:
            if name in BRIEF or (name in NEEDS_SYMBOLS and not ask.symbols):
                continue
            if measures and (
                name in MEASURED
                or (name == "overview" and not EXPLICIT_OVERVIEW.search(ask.text))
                or (name == "technicals" and not KEYWORDS["technicals"].search(ask.text))
                or (name == "portfolio" and not OPTIMISE_ASK.search(ask.text))
                or (name == "documents" and not KEYWORDS["documents"].search(ask.text))
                or (name == "opinion" and not KEYWORDS["opinion"].search(ask.text))
            ):
                continue
            for call in getattr(self, f"_{name}")(ask):
                if call not in out:
                    out.append(call)
        return Planned(calls=out, ask=ask)

    def _not_covered(self, question: str, found: list[str]) -> str | None:
        """What the data cannot answer, said as such: a cryptocurrency, or an index other
        than the stored ones (not "Which stock?", nor Nasdaq, Inc. for "the Nasdaq")."""
        stored = self.stored()
        if CRYPTO.search(question) and not [s for s in found if s in stored]:
            return (
                "Cryptocurrencies are not covered: I answer about US-listed stocks and the "
                "S&P 500 from the local data. " + self.known_symbols()
            )
        if SPY.search(question) and "SPY" not in stored and "SPX" in stored:
            return (
                "SPY (the SPDR S&P 500 ETF) is not in the local data; the S&P 500 index it "
                'tracks (SPX) is: ask about SPX, e.g. "how has SPX done this year?"'
            )
        if (index := OTHER_INDEX.search(question)) and not [s for s in found if s in stored]:
            name = next(n for n in index.groups() if n).lower()
            said = "Nasdaq-100" if name == "nasdaq" and "100" in index[0] else INDEX_NAMES[name]
            have = " The S&P 500 (SPX) is: ask about it by name." if "SPX" in stored else ""
            return f"The {said} is not in the local data.{have}"
        return None

    def _which(self, intent: str, ask: Ask) -> str:
        if ask.missing:
            return self.missing_note(ask.missing)
        if intent in ("portfolio", "rebalance"):
            return (
                "Which stocks should the portfolio hold? Name two or more, e.g. "
                '"a low-risk portfolio of KO, PG and JNJ".'
            )
        if intent == "compare":
            return 'Which stocks should I compare? e.g. "compare Apple and Microsoft over the last year".'
        return (
            "Which stock do you mean? Name it or its ticker, e.g. "
            '"How has Microsoft done this year?". ' + self.known_symbols()
        )

    def known_symbols(self) -> str:
        stored = sorted(self.stored())
        shown = ", ".join(stored[:25]) + (", ..." if len(stored) > 25 else "")
        return f"The local data has: {shown}."

    def missing_note(self, missing: list[str]) -> str:
        names = ", ".join(f"{s} ({self.master.name(s)})" for s in missing)
        verb = "is" if len(missing) == 1 else "are"
        first = missing[0]
        return (
            f"{names} {verb} not in the local data. Load prices with `assistant data fetch "
            f"{first}` (downloads from Yahoo Finance; needs internet) or import a file with "
            f"`assistant data import FILE.csv --symbol {first}`. {self.known_symbols()}"
        )

    # -- one intent each ----------------------------------------------------------------

    def _window(self, ask: Ask) -> Period:
        """The period to look at: the question's, all the stored history for "ever" or
        "all-time", or the last 12 months to the latest data; a bare "as of" date looks at
        the year before it."""
        p, anchor = ask.period, self.anchor()
        if p.start is None and p.end is None and EVER.search(ask.text):
            return Period(EARLIEST, anchor, None, f"all the stored history to {anchor}")
        if p.start is None and p.end is None:
            start = anchor - timedelta(days=365)
            return Period(start, anchor, None, f"the year to {anchor}")
        if p.start is None:
            return replace(p, start=p.end - timedelta(days=365))
        return p

    def _prices(self, ask: Ask) -> list[tuple[str, dict]]:
        w = self._window(ask)
        money = invested(ask.text) if HYPOTHETICAL.search(ask.text) else None
        return [
            (
                "get_prices",
                {"symbol": s, "start": _iso(w.start), "end": _iso(w.end)}
                | ({"invested": money} if money else {}),
            )
            for s in (ask.symbols if ask.everything else ask.symbols[:MAX_SYMBOLS])
        ]

    def _technicals(self, ask: Ask) -> list[tuple[str, dict]]:
        windows = asked_windows(ask.text)  # "the 100 day moving average": read it too
        return [
            ("get_indicators", {"symbol": s, "end": _iso(ask.period.end), **windows})
            for s in (ask.symbols if ask.everything else ask.symbols[:MAX_SYMBOLS])
        ]

    def _compare(self, ask: Ask) -> list[tuple[str, dict]]:
        symbols = ask.symbols
        if (
            len(symbols) == 1
            and not ask.missing
            and not re.search(r"\b(its|their)\b", ask.text, re.I)
        ):
            symbols = [*symbols, "SPX"]  # one stock "compared": against the market
        if len(symbols) == 1:  # the other is not stored, or "vs its 200-day average"
            return (
                self._technicals(ask)
                if re.search(r"\b(its|their)\b", ask.text, re.I)
                else self._prices(ask)
            )
        stored = self.stored()
        compared = replace(ask, symbols=[s for s in symbols if self._available(s, stored)])
        if re.search(
            r"\b(rsi|macd|overbought|oversold|indicators?|technicals?|momentum)\b", ask.text, re.I
        ):
            return self._technicals(compared)
        return self._prices(compared)

    def _two_portfolios(self, ask: Ask) -> list[tuple[str, dict]] | None:
        """Two portfolios set against each other, each of two or more stored holdings: one
        ``portfolio_risk`` each, over the same window; None when the question is not that."""
        stored = self.stored()
        for cut in PORTFOLIO_SPLIT.finditer(ask.text):
            first, second = ask.text[: cut.start()], ask.text[cut.end() :]
            sides = [
                [m.symbol for m in self.master.find(part, stored) if m.symbol in stored]
                for part in (first, second)
            ]
            if all(len(set(side)) >= 2 for side in sides) and not set(sides[0]) & set(sides[1]):
                calls = [self._risk(replace(ask, text=part)) for part in (first, second)]
                if all("weights" in args for _, args in calls):
                    return calls
        return None

    def _risk(self, ask: Ask) -> tuple[str, dict]:
        """What holdings risk: the account's ("my portfolio") unless holdings are named;
        the question's period, else the tool's default window (three years); the market
        move the question supposes."""
        stored = self.stored()
        found = self.master.find(ask.text, stored)
        mentions = [
            m for m in holdings_mentions(ask.text, found) if self._available(m.symbol, stored)
        ]
        args: dict = {}
        if (written := written_weights(ask.text, mentions)) is not None:
            args["weights"] = written
        elif asks_account(ask.text) or not (mentions or ask.symbols):
            args["account"] = True
        elif mentions:
            args["weights"] = read_weights(ask.text, mentions)  # equal weights
        else:
            args["weights"] = {s: round(1 / len(ask.symbols), 6) for s in ask.symbols}
        p = ask.period
        if (p.start is not None or p.end is not None) and not scenarios_asked(ask.text):
            args |= {"start": _iso(p.start), "end": _iso(p.end)}  # "2008" names a scenario
        if (move := market_move(ask.text)) is not None and move != -0.2:
            args["market_move"] = move
        return ("portfolio_risk", args)

    def _screen(self, ask: Ask, screened: dict) -> tuple[str, dict]:
        """The stored universe ranked: window measures over the question's period (the
        last year when none is named), indicators at its end (the latest close)."""
        args = dict(screened)
        if ask.everything and ask.symbols and GROUP_WORDS.search(ask.text):
            args["symbols"] = ask.symbols  # "oversold pharma stocks": the sector's members
        if watched := screened_list(ask.text):
            args["watchlist"] = watched  # "which on my energy watchlist are above their 200-day"
        p = ask.period
        if args["metric"] in ("return", "volatility", "sharpe", "max_drawdown"):
            w = self._window(ask)
            args |= {"start": _iso(w.start), "end": _iso(w.end)}
        elif p.end is not None:
            args["end"] = _iso(p.end)
        return ("screen_symbols", args)

    def _anomalies(self, ask: Ask) -> list[tuple[str, dict]]:
        """Unusual trading in each named symbol (three at most): the question's period,
        all stored data for "ever", else the last year."""
        if EVER.search(ask.text) and ask.period.start is None and ask.period.end is None:
            window: dict = {}
        else:
            w = self._window(ask)
            window = {"start": _iso(w.start), "end": _iso(w.end)}
        return [("detect_anomalies", {"symbol": s, **window}) for s in ask.symbols[:3]]

    def _crosses(self, ask: Ask) -> list[tuple[str, dict]]:
        """When averages crossed ("did JPM have a golden cross recently", "when did KO last
        cross above its 50-day"), not whether trading on it paid (a backtest): each named
        symbol (three at most) over the question's period, the last year for "recently",
        all the data otherwise."""
        text = ask.text
        own_words = any(k.search(text) for k in KEYWORDS.values())  # "and its RSI?"
        if ask.follow_up and not CROSS_EVENT.search(text) and not own_words:
            text = ask.before  # "same for CVX" after "did JPM have a golden cross recently"
        if not asks_cross_dates(text) or (lines := cross_lines(text)) is None:
            return []
        p = ask.period
        if p.start is None and p.end is None and RECENTLY.search(text):
            span = {"start": _iso(self.anchor() - timedelta(days=365))}
        else:
            span = {"start": _iso(p.start), "end": _iso(p.end)}
        return [("find_sma_crosses", {"symbol": s, **lines, **span}) for s in ask.symbols[:3]]

    def _sentiment(self, ask: Ask) -> list[tuple[str, dict]]:
        """The news sentiment of each named company (three at most), over the question's
        period or all indexed news."""
        p = ask.period
        window = {"start": _iso(p.start), "end": _iso(p.end)} if p.start or p.end else {}
        return [("news_sentiment", {"ticker": s, **window}) for s in ask.symbols[:3]]

    def _measures(self, ask: Ask) -> tuple[str, dict] | None:
        """One comparison of every named symbol (one alone: against the market)."""
        stored = self.stored()
        symbols = [s for s in ask.symbols if self._available(s, stored)][:MAX_COMPARED]
        if len(symbols) > 1 and "SPX" in symbols and re.search(r"\bbeta\b", ask.text, re.I):
            symbols.remove("SPX")  # "beta to the market": the benchmark, not one compared
        pairwise = re.search(r"correlat|together|tandem|diversif|same trade", ask.text, re.I)
        if not symbols or (ask.missing and pairwise and len(symbols) < 2):
            return None  # "are WMT and TGT correlated" without TGT: say so, not WMT vs SPX
        if EVER.search(ask.text) and ask.period.start is None and ask.period.end is None:
            return ("compare_symbols", {"symbols": symbols})  # "worst day ever": all of it
        w = self._window(ask)
        return (
            "compare_symbols",
            {"symbols": symbols, "start": _iso(w.start), "end": _iso(w.end)},
        )

    def _overview(self, ask: Ask) -> list[tuple[str, dict]]:
        out = []
        for symbol in ask.symbols[:3]:
            one = replace(ask, symbols=[symbol])
            out += self._prices(one) + self._technicals(one)
            out.append(
                (
                    "search_documents",
                    {
                        "query": f"{self.master.name(symbol)} outlook, results and risks",
                        "tickers": None if symbol in INDICES else [symbol],
                        "as_of": _iso(ask.period.as_of),
                        "k": 3,
                    },
                )
            )
        return out

    def _opinion(self, ask: Ask) -> list[tuple[str, dict]]:
        """The overview's facts, framed as both sides (answer.py); a question of value
        ("is it overvalued") also gets the valuation."""
        out = self._overview(ask)
        if VALUATION.search(ask.text):
            out += self._fundamentals(ask)
        return out

    def _fundamentals(self, ask: Ask) -> list[tuple[str, dict]]:
        day = ask.period.as_of or ask.period.end
        return [
            ("get_fundamentals", {"symbol": symbol, "as_of": _iso(day)})
            for symbol in ask.symbols[:MAX_SYMBOLS]
            if symbol != "SPX"
        ]

    def _portfolio(self, ask: Ask) -> list[tuple[str, dict]]:
        if len(ask.symbols) < 2:
            return []
        p = ask.params
        window = ask.period
        if window.empty:  # estimates from the last five years, not from 1990
            window = Period(start=_years_before(self.anchor(), 5))
        args = {  # a setting not asked for is the asker's risk profile's (or the default)
            "symbols": ask.symbols,
            "start": _iso(window.start),
            "end": _iso(window.end),
        }
        if p.method:
            args["method"] = p.method
        if p.max_weight is not None:
            args["max_weight"] = p.max_weight
        if p.max_volatility is not None:
            args["max_volatility"] = p.max_volatility
        if p.capital is not None:
            args["capital"] = p.capital
        return [("optimize_portfolio", args)]

    def _backtest(self, ask: Ask) -> list[tuple[str, dict]]:
        p = ask.params
        strategy = p.strategy or "sma-cross"
        values = dict(p.values)
        if p.pair and not values and strategy in PAIRS:  # "backtest 20/100 on BAC"
            values = dict(zip(PAIRS[strategy], p.pair, strict=True))
        if p.versus and not p.sweep:  # "buy and hold vs a golden cross": one run each
            return [
                (
                    "run_backtest",
                    {
                        "symbol": symbol,
                        "strategy": name,
                        "params": own or None,
                        "start": _iso(ask.period.start),
                        "end": _iso(ask.period.end),
                        **({"cost_bps": p.cost_bps} if p.cost_bps is not None else {}),
                    },
                )
                for symbol in ask.symbols[:2]
                for name, own in p.versus[:3]
            ]
        out = []
        for symbol in ask.symbols[:3]:
            args = {
                "symbol": symbol,
                "strategy": strategy,
                "params": values or None,
                "start": _iso(ask.period.start),
                "end": _iso(ask.period.end),
            }
            if p.cost_bps is not None:
                args["cost_bps"] = p.cost_bps
            if p.sweep and strategy != "buy-hold":
                args["params"] = None
                args["sweep_grid"] = p.grid or default_grid(strategy)
            out.append(("run_backtest", args))
        return out

    def _walkforward(self, ask: Ask) -> list[tuple[str, dict]]:
        p = ask.params
        strategy = p.strategy if p.strategy not in (None, "buy-hold") else "sma-cross"
        args = {
            "symbol": ask.symbols[0],
            "strategy": strategy,
            "sweep_grid": default_grid(strategy),
            "start": _iso(ask.period.start),
            "end": _iso(ask.period.end),
        }
        if p.cost_bps is not None:
            args["cost_bps"] = p.cost_bps
        return [("run_walk_forward", args)]

    def _rebalance(self, ask: Ask) -> list[tuple[str, dict]]:
        if len(ask.symbols) < 2:
            return []
        p = ask.params
        start = ask.period.start
        if start is None:  # the first rebalance needs a year of history before it
            start = _years_before(ask.period.end or self.anchor(), 5)
        args = {
            "symbols": ask.symbols,
            "method": p.method or "max-sharpe",
            "frequency": p.frequency or "monthly",
            "start": _iso(start),
            "end": _iso(ask.period.end),
        }
        if p.max_weight is not None:
            args["max_weight"] = p.max_weight
        if p.cost_bps is not None:
            args["cost_bps"] = p.cost_bps
        return [("run_rebalance", args)]

    def _documents(self, ask: Ask) -> list[tuple[str, dict]]:
        # an index ("the market", "the S&P") tags no document: its news is everyone's
        companies = [s for s in ask.symbols if s not in INDICES]
        calls = [
            (
                "search_documents",
                {
                    "query": ask.whole or ask.text,
                    "tickers": companies or None,
                    "doc_type": ask.params.doc_type,
                    "as_of": _iso(ask.period.as_of),
                    "k": 5,
                    "start": _iso(ask.period.start),
                },
            )
        ]
        if (
            ask.symbols
            and ask.period.start
            and re.search(
                r"\b(why|what happened|caus|fell|fall|drop|jump|rose|rise|crash|surge|plung|"
                r"declin|down|slump|sell-?off|tumbl|sank|sink|slid|rall|soar)",
                ask.text,
                re.I,
            )
        ):
            calls += self._prices(ask)  # "why did JPM fall in March 2020": the move too
        return calls

    def _account(self, ask: Ask) -> list[tuple[str, dict]]:
        return [("get_portfolio", {})]


def _dominant_first(scored: list, question: str) -> list:
    """An intent whose own words are in the question goes ahead of the intents it
    subsumes when their words share a clause ("an RSI strategy" is a backtest, not an
    RSI reading); the subsumed ones are then left out."""
    where = {
        s.intent: m.start()
        for s in scored
        if s.keyword and (m := KEYWORDS[s.intent].search(question)) is not None
    }
    for leader in DOMINATES:
        if leader not in where or all(s.intent != leader for s in scored):
            continue
        for follower in DOMINATES[leader] & set(where):
            a, b = sorted((where[leader], where[follower]))
            if not CLAUSE_BREAK.search(question[a:b]):
                scored = [s for s in scored if s.intent != follower]
        first = next(s for s in scored if s.intent == leader)
        if scored[0].intent in DOMINATES[leader] or scored[0].intent == leader:
            scored = [first, *[s for s in scored if s is not first]]
    return scored


def _year_shift(text: str) -> int:
    """ "the year after" +1, "the year before" -1 (a follow-up's period)."""
    if re.search(
        r"\b(?:the\s+)?(?:year|one)\s+(?:after|later)\b|\bnext\s+year\b|\bfollowing\s+year\b", text
    ):
        return 1
    if re.search(
        r"\b(?:the\s+)?(?:year|one)\s+(?:before|earlier)\b|\bprevious\s+year\b|\bprior\s+year\b",
        text,
    ):
        return -1
    return 0


def _shifted(period: Period, years: int) -> Period:
    start = _years_before(period.start, -years)
    end = _years_before(period.end, -years)
    label = (
        str(start.year)
        if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year
        else f"{start} to {end}"
    )
    return Period(start, end, end, label)


def _own_clause(s, top, question: str, breaks: re.Pattern = CLAUSE_BREAK) -> bool:
    """Whether intent ``s``'s words sit in another clause than ``top``'s ("KO's price, and
    what's in my account?"): then it is a part of its own, not a reading of the same words."""
    mine, theirs = KEYWORDS[s.intent].search(question), KEYWORDS.get(top.intent)
    other = theirs.search(question) if theirs is not None else None
    if mine is None or other is None:
        return False
    a, b = sorted((mine.start(), other.start()))
    return bool(breaks.search(question[a:b]))


def default_grid(strategy: str) -> dict[str, list[float]]:
    """A modest grid per strategy (the sweep cap is 2,000 combinations)."""
    return {
        "sma-cross": {"fast": [5.0, 10.0, 20.0, 50.0], "slow": [100.0, 150.0, 200.0]},
        "macd": {"fast": [8.0, 12.0, 16.0], "slow": [21.0, 26.0, 35.0], "signal": [9.0]},
        "rsi-reversion": {"lower": [20.0, 25.0, 30.0], "upper": [70.0, 75.0, 80.0]},
        "bollinger": {"window": [10.0, 20.0, 30.0], "k": [1.5, 2.0, 2.5]},
    }.get(strategy, {"fast": [5.0, 10.0, 20.0, 50.0], "slow": [100.0, 150.0, 200.0]})


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
