"""Sentiment of news chunks: a transformers text-classification model when one is
configured and loads offline (FinBERT-style labels positive/negative/neutral), else a
small finance lexicon. The score is P(positive) − P(negative), in [-1, 1].
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

POSITIVE = frozenset(
    [
        "gain",
        "gains",
        "gained",
        "beat",
        "beats",
        "record",
        "strong",
        "stronger",
        "growth",
        "grew",
        "grow",
        "rise",
        "rises",
        "rose",
        "surge",
        "surged",
        "jump",
        "jumped",
        "rally",
        "rallied",
        "approve",
        "approved",
        "approval",
        "effective",
        "upgrade",
        "upgraded",
        "profit",
        "profitable",
        "recover",
        "recovered",
        "recovery",
        "boost",
        "boosted",
        "exceed",
        "exceeded",
        "outperform",
        "breakthrough",
        "higher",
        "raise",
        "raised",
        "expand",
        "expanded",
        "win",
        "wins",
        "won",
        "good",
        "solid",
        "robust",
        "upbeat",
        "optimistic",
        "bullish",
    ]
)
NEGATIVE = frozenset(
    [
        "loss",
        "losses",
        "lost",
        "fall",
        "falls",
        "fell",
        "drop",
        "dropped",
        "decline",
        "declined",
        "declines",
        "cut",
        "cuts",
        "shortage",
        "shortages",
        "lawsuit",
        "lawsuits",
        "warn",
        "warns",
        "warned",
        "weak",
        "weaker",
        "tumble",
        "tumbled",
        "bankruptcy",
        "plunge",
        "plunged",
        "slump",
        "slumped",
        "miss",
        "missed",
        "downgrade",
        "downgraded",
        "delay",
        "delayed",
        "disruption",
        "disruptions",
        "lower",
        "lowered",
        "layoffs",
        "closure",
        "closures",
        "collapse",
        "collapsed",
        "risk",
        "shortfall",
        "worst",
        "halt",
        "halted",
        "recall",
        "sue",
        "sued",
        "block",
        "blocked",
        "bad",
        "poor",
        "bearish",
        "pessimistic",
        "fraud",
        "probe",
    ]
)
_WORD = re.compile(r"[a-z]+")


class Sentiment(Protocol):
    name: str

    def score(self, texts: list[str]) -> list[tuple[str, float]]:
        """(label, score in [-1, 1]) for each text."""
        ...


def _label(score: float) -> str:
    return "positive" if score > 0.15 else "negative" if score < -0.15 else "neutral"


NEGATORS = frozenset(["not", "no", "never", "without", "nor", "t", "failed", "fails", "fail"])
"""A polarity word within three words after one of these counts the other way ("not
strong", "failed to beat", "didn't rise": the tokenizer splits "didn't" into "didn", "t")."""
EASED = frozenset(
    ["narrowed", "narrow", "narrows", "shrank", "shrinks", "eased", "eases", "reduced", "cut"]
    + ["fell", "fall", "falls", "declined", "dropped", "lower", "lowered"]
)
"""Movements that, said of a bad thing (losses, debt, costs), are good news."""
BURDENS = frozenset(["loss", "losses", "deficit", "deficits", "debt", "costs", "expenses"])
GOODS = frozenset(
    ["profit", "profits", "revenue", "revenues", "sales", "earnings", "margin", "margins"]
)
MOVED = re.compile(
    r"\b(down|lower|off|up|higher)\s+(?:by\s+)?(?:about\s+|nearly\s+|almost\s+)?\d+(?:\.\d+)?"
    r"\s*(?:%|percent|pct|per cent)"
)
"""A price move with its size ("down 30 percent", "up 12%")."""


class LexiconSentiment:
    """Counts finance words, with the three readings a bare word count gets wrong: a
    negated word ("not strong"), a burden that shrank ("losses narrowed" is good news; a
    good thing falling, "profit fell", is counted once, as bad), and a sized move ("down
    30 percent")."""

    name = "lexicon"

    def score(self, texts: list[str]) -> list[tuple[str, float]]:
        out = []
        for text in texts:
            lowered = text.lower()
            pos, neg = 0, 0
            for m in MOVED.finditer(lowered):
                if m[1] in ("up", "higher"):
                    pos += 1
                else:
                    neg += 1
            words = _WORD.findall(MOVED.sub(" ", lowered))
            skip: set[int] = set()
            for i, w in enumerate(words):
                if i in skip:
                    continue
                after = words[i + 1 : i + 4]
                moved = next((i + 1 + j for j, a in enumerate(after) if a in EASED), None)
                if w in BURDENS and moved is not None:  # "losses narrowed"
                    pos += 1
                    skip.add(moved)
                    continue
                if w in GOODS and moved is not None:  # "profit fell": the fall, once
                    neg += 1
                    skip.add(moved)
                    continue
                sign = 1 if w in POSITIVE else -1 if w in NEGATIVE else 0
                if not sign:
                    continue
                if any(b in NEGATORS for b in words[max(0, i - 3) : i]):
                    sign = -sign
                if sign > 0:
                    pos += 1
                else:
                    neg += 1
            value = (pos - neg) / (pos + neg) if pos + neg else 0.0
            out.append((_label(value), value))
        return out


class TransformersSentiment:
    """A local text-classification model through transformers' pipeline."""

    def __init__(self, model: str | Path) -> None:
        from retrieval.embeddings import quiet_model_loading

        quiet_model_loading()
        from transformers import pipeline

        self.name = str(model)
        self._pipe = pipeline(
            "text-classification",
            model=str(model),
            tokenizer=str(model),
            top_k=None,
            device="cpu",
        )

    def score(self, texts: list[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        results = self._pipe(texts, truncation=True, batch_size=16)
        out = []
        for labels in results:
            probs = {d["label"].lower(): float(d["score"]) for d in labels}
            value = probs.get("positive", 0.0) - probs.get("negative", 0.0)
            best = max(probs, key=probs.get)
            out.append(
                (best if best in ("positive", "negative", "neutral") else _label(value), value)
            )
        return out


def load_sentiment(model: str | None) -> tuple[Sentiment, str | None]:
    """The configured model, or the lexicon with the reason the model was not used."""
    if not model:
        return LexiconSentiment(), None
    try:
        return TransformersSentiment(model), None
    except Exception as exc:  # any load failure (missing files, no network) -> fallback
        return (
            LexiconSentiment(),
            f"sentiment model {model!r} did not load offline ({exc}); using the lexicon",
        )
