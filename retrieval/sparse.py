"""A BM25-style sparse vector computed locally: no model download, deterministic.

Documents get saturated, length-normalised term frequencies; the IDF part is applied
at query time (by Qdrant's IDF modifier on a server, by the in-process searcher
locally), so adding documents never requires re-encoding the old ones. Terms are
hashed to 32-bit ids so the vocabulary needs no shared state between processes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

K1 = 1.2
B = 0.75
AVG_DOC_TOKENS = 120.0  # typical chunk length; fixed so documents encode independently

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "s",
        "t",
    ]
)


def stem(token: str) -> str:
    """Crude suffix stripping so 'disruptions', 'disrupted' and 'disruption' meet."""
    for suffix in ("ations", "ation", "ings", "ing", "ities", "ity", "ies", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("y" if suffix in ("ies", "ities") else "")
    return token


def tokenize(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")


def encode_document(text: str) -> tuple[list[int], list[float]]:
    """Sparse (indices, values) of a chunk: BM25 term-frequency saturation."""
    counts = Counter(tokenize(text))
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVG_DOC_TOKENS)
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf * (K1 + 1) / (tf + norm)
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def encode_query(text: str) -> tuple[list[int], list[float]]:
    """Each distinct query term once; IDF weighting happens in the searcher."""
    ids = sorted({term_id(t) for t in tokenize(text)})
    return ids, [1.0] * len(ids)
