"""What a question asks for: its intents, from labelled examples and keyword evidence.

The router embeds the question (securities replaced by the placeholders the examples
use, so "how has Microsoft done" and "how has ACME done" look alike) with the packaged
MiniLM, scores each intent by its nearest examples (cosine), and adds evidence from
words that settle an intent on their own ("rsi", "backtest", "10-K"). The examples are
a data file (``intents.yaml``), embedded once and cached on disk next to the model.

Without the model (it could not be prepared) the router still works on keywords alone,
and says so in the log.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from retrieval.fast_embedder import FastEmbedder

log = logging.getLogger(__name__)
EXAMPLES = Path(__file__).with_name("intents.yaml")
PLACEHOLDERS = {"a": "ACME", "b": "GLOBEX", "c": "INITECH", "p": "last year"}
KEYWORDS: dict[str, re.Pattern] = {
    "prices": re.compile(
        r"\b(price|prices|priced|quote|return(?:ed|s)?|perform\w*|clos(?:e|ed|ing)|gain\w*|"
        r"lose|lost|fell|fall|rose|rise|drop\w*|worth|trading at|year to date|ytd|"
        r"how (?:did|has|have|was) .{1,40}? (?:do|done|fare|fared|go|gone)|"
        r"(?:if|had|suppose|what if)\s+i\s+(?:had\s+)?(?:bought|invested|purchased|put)|"
        r"would i have (?:made|lost|earned|gained)|(?:all[- ]time|record|(?:52|fifty[- ]two)[- ]week)"
        r"\s+(?:highs?|lows?)|(?:highest|lowest)\s+(?:price|close|level)s?)\b",
        re.I,
    ),
    "compare": re.compile(
        r"\b(compare\w*|vs\.?|versus|against|relative to|stack up|side by side|which (?:one|of|did|"
        r"is|was|had)|better|outperform\w*|beat)\b",
        re.I,
    ),
    "technicals": re.compile(
        r"\b(rsi|relative strength|macd|bollinger|moving averages?|sma|ema|indicators?|technicals?|"
        r"atr|average true range|stochastic\w*|williams\s*%?\s*r|adx|obv|vwap|ichimoku|"
        r"charts?|technical "
        r"analysis|overbought|oversold|momentum|volatil\w*|trend|support|resistance)\b",
        re.I,
    ),
    "fundamentals": re.compile(
        r"\b(p\s*/\s*e|pe|pe ratio|p/s|price[- ]to[- ](?:earnings|sales|book)|earnings|eps|revenues?|"
        r"cheap\w*|expensive|market value|valuations?|"
        r"sales|net income|profits?|profitab\w*|margins?|dividends?|(?:dividend )?yield|"
        r"market cap\w*|valuation|valued|fundamentals?|financials|financial statements?|"
        r"free cash flow|cash flow|"
        r"balance sheet|debt|liabilities|assets|equity|book value|shares outstanding|"
        r"how much (?:did|does|do) \S+ (?:earn|make))\b",
        re.I,
    ),
    "overview": re.compile(
        r"\b(tell me about|how is \S+ doing|how's \S+ (?:doing|looking)|overview|analy[sz]e|"
        r"analysis of|rundown|summar\w+ \S+ for me|what's going on with|what is going on with|"
        r"update on)\b",
        re.I,
    ),
    "opinion": re.compile(
        r"\b(should i|good (?:buy|investment|time)|worth (?:buying|it)|would you (?:buy|sell)|"
        r"overvalued|undervalued|recommend\w*|a buy or a sell|buy or sell|too late to buy|"
        r"going to go up|will \S+ (?:rise|go up|fall))\b",
        re.I,
    ),
    "portfolio": re.compile(
        r"\b(portfolio|optimi[sz]\w*|allocat\w*|weights?|weighting|diversif\w*|max(?:imum)?[- ]"
        r"sharpe|min(?:imum)?[- ]variance|risk[- ]parity|equal risk|efficient frontier|mix of|"
        r"split .{0,30} (?:between|across|among|over))\b",
        re.I,
    ),
    "backtest": re.compile(
        r"\b(back-?test\w*|strateg\w+|golden cross|death cross|crossover|sma cross|"
        r"buy[\s&-]*(?:and|n)?[\s&-]*hold|buying .{1,30} holding|bought and held|sweep|"
        r"(?:best|optimal|ideal|optimum)\b.{0,40}\b(?:settings?|parameters?|params|windows?|"
        r"thresholds?|lengths?|lookbacks?|combination|combo|averages)|cross\w*|"
        r"optimi[sz]e (?:the |my |its )?.{0,30}(?:parameters|settings|windows|thresholds|lengths)|"
        r"\b(?:does|do|did|would|will)\b.{1,40}\bwork\b|"
        r"\bbuy(?:ing)?\s+(?:when|if|whenever|below|under|at)\b.{0,60}\bsell|"
        r"\btest\s+(?:buying|selling|a|an|the|my)\b|"
        r"works? best|worked best|(?:mean[- ])?reversion|mean[- ]revert\w*|"
        r"trading (?:its |the )?\S+ (?:signals?|bands?|"
        r"cross\w*)|would .{0,60} have (?:worked|done|performed|returned|made))\b",
        re.I,
    ),
    "walkforward": re.compile(
        r"\b(walk[- ]?forward|out[- ]of[- ]sample|rolling optimi[sz]ation)\b", re.I
    ),
    "rebalance": re.compile(r"\b(rebalanc\w*)\b", re.I),
    "documents": re.compile(
        r"\b(news|headlines?|10-?k(?!\s+(?:in|into|of|invested|dollars)\b)|10-?q|8-?k|filings?|"
        r"annual report|quarterly report|risk "
        r"factors?|management|ceo|cfo|guidance|earnings call|articles?|lawsuits?|why|"
        r"what happened|what caused|explain\w*|reasons? (?:for|behind)|according to|"
        r"mention\w*|coverage|(?<!charts )(?<!chart )(?:said|say|says)|"
        r"report(?:ed|s)? (?:about|on|by|in)|as reported)\b",
        re.I,
    ),
    "account": re.compile(
        r"\b(my (?:paper )?(?:portfolio|positions?|holdings?|account|balance|cash|equity|orders|"
        r"trades)|what do i (?:own|hold)|pending orders|open orders|orders (?:are )?waiting|cash "
        r"balance|am i holding|how much (?:cash|money) (?:do i have|have i got|is left)|"
        r"buying power|(?:my|total|unrealised|unrealized|realised|realized)\s+(?:p\s*&\s*l|p\s*n\s*l|pnl|"
        r"profits?(?: and loss(?:es)?)?|gains?(?: and loss(?:es)?)?|losses)|am i (?:up|down)(?: or (?:up|down))?|"
        r"how (?:much )?(?:am i|have i) (?:made|lost|up|down)|what(?:'s| is) my (?:return|performance))\b",
        re.I,
    ),
    "greeting": re.compile(r"^\s*(hi|hello|hey|good (?:morning|afternoon|evening))\b", re.I),
    "help": re.compile(
        r"\b(what can you do|help|how does this work|how do i use|what (?:kind of |sort of )?"
        r"questions|commands?|who are you|what are you)\b",
        re.I,
    ),
    "thanks": re.compile(r"^\s*(thanks|thank you|cheers|great|perfect|ok|okay|cool)\b", re.I),
}
KEYWORD_WEIGHT = 0.12


@dataclass(frozen=True)
class Scored:
    intent: str
    score: float
    keyword: bool


@cache
def load_examples(path: Path = EXAMPLES) -> tuple[tuple[str, str], ...]:
    """(intent, example text) pairs with the placeholders filled in; read once."""
    raw = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = []
    for intent, examples in raw.items():
        for example in examples:
            text = example
            for key, value in PLACEHOLDERS.items():
                text = text.replace("{" + key + "}", value)
            out.append((intent, text))
    return tuple(out)


class Router:
    def __init__(self, embedder: FastEmbedder | None, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.examples = load_examples()
        self.labels = np.array([intent for intent, _ in self.examples])
        self.intents = list(dict.fromkeys(self.labels.tolist()))
        self._vectors: np.ndarray | None = None
        self._broken = embedder is None
        self._recent: dict[tuple[str, str], list[Scored]] = {}

    def _example_vectors(self) -> np.ndarray | None:
        if self._vectors is not None or self._broken:
            return self._vectors
        try:
            texts = [text for _, text in self.examples]
            digest = hashlib.sha1(
                ("\n".join(texts) + str(self.embedder.model_path)).encode()
            ).hexdigest()[:16]
            cached = self.cache_dir / f"intents-{digest}.npy" if self.cache_dir else None
            if cached is not None and cached.exists():
                self._vectors = np.load(cached)
            else:
                self._vectors = self.embedder.encode(texts)
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    tmp = cached.with_suffix(".tmp.npy")
                    np.save(tmp, self._vectors)
                    tmp.replace(cached)
        except Exception as exc:  # the router still has its keywords
            log.warning("intent model unavailable, routing on keywords only: %s", exc)
            self._broken = True
        return self._vectors

    def prepare(self) -> bool:
        """Embed the examples now (and, the first time per model cache, prepare the
        model: seconds), so the first question does not wait. False: keywords only."""
        return self._example_vectors() is not None

    def score(self, masked: str, original: str | None = None) -> list[Scored]:
        """Intents, best first: nearest-example similarity plus keyword evidence. A turn
        reads its question twice (to plan, then to write the answer) and a follow-up reads
        the questions before it, so the last few scorings are kept."""
        original = original if original is not None else masked
        key = (masked, original)
        if (hit := self._recent.get(key)) is not None:
            return hit
        scored = self._score(masked, original)
        self._recent[key] = scored
        if len(self._recent) > 256:
            self._recent.pop(next(iter(self._recent)))
        return scored

    def _score(self, masked: str, original: str) -> list[Scored]:
        keyword = {i: bool(p.search(original)) for i, p in KEYWORDS.items()}
        similarity = dict.fromkeys(self.intents, 0.0)
        vectors = self._example_vectors()
        if vectors is not None:
            query = self.embedder.encode([masked])[0]
            sims = vectors @ query
            for intent in self.intents:
                top = np.sort(sims[self.labels == intent])[-3:]
                similarity[intent] = float(top.mean())
        scored = [
            Scored(
                i,
                similarity.get(i, 0.0) + (KEYWORD_WEIGHT if keyword.get(i) else 0.0),
                keyword.get(i, False),
            )
            for i in self.intents
        ]
        return sorted(scored, key=lambda s: -s.score)
