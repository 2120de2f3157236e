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


class LexiconSentiment:
    name = "lexicon"

    def score(self, texts: list[str]) -> list[tuple[str, float]]:
        out = []
        for text in texts:
            words = _WORD.findall(text.lower())
            pos = sum(w in POSITIVE for w in words)
            neg = sum(w in NEGATIVE for w in words)
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
