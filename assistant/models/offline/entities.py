"""Which securities a question names: tickers in any case, company names, short names,
possessives and misspellings, resolved through a security master.

The master holds the symbols the store has and the constituents of the major US
indices (S&P 500, S&P 100, S&P 600, NASDAQ 100, Dow Jones; shipped offline by
``pytickersymbols``), plus an alias table for the names people use ("Coke", "J&J",
"Google", "the S&P"). A real symbol the store lacks is still recognised, so the answer
can say so instead of asking "which ticker?".

Guards keep ordinary words from becoming tickers: a lower-case word counts as a ticker
only if it is not an English word ("ko", "msft", "nvda", not "all" or "low"; for a
symbol the store lacks, not any word of the model's vocabulary either); an upper-case
ticker that is also a word ("IT", "ON", "ALL") counts
only with a ``$`` in front. A single-word company name that is also a word ("Target",
"Ball") counts only capitalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from assistant.models.offline.words import COMMON_WORDS, is_word
from tools.securities import ALIASES, bundled, normalise
from tools.securities import name_key as _name_key

NAMES = {  # the sample's symbols, by the names the store does not carry
    "AAPL": "Apple",
    "AMD": "Advanced Micro Devices",
    "BAC": "Bank of America",
    "BBY": "Best Buy",
    "CVX": "Chevron",
    "GE": "General Electric",
    "HD": "Home Depot",
    "JNJ": "Johnson & Johnson",
    "JPM": "JPMorgan Chase",
    "KO": "Coca-Cola",
    "LLY": "Eli Lilly",
    "MRK": "Merck",
    "MSFT": "Microsoft",
    "PEP": "PepsiCo",
    "PFE": "Pfizer",
    "PG": "Procter & Gamble",
    "RRC": "Range Resources",
    "UNH": "UnitedHealth",
    "WMT": "Walmart",
    "XOM": "ExxonMobil",
    "SPX": "the S&P 500 index",
}
TICKER = re.compile(r"(?<![\w&])(\$)?([A-Za-z]{1,5}(?:\.[A-Za-z])?)(?:'s|’s)?(?![\w&])")


UNITS = {"mo", "mos", "yr", "yrs", "wk", "wks", "hr", "hrs", "bps", "pct", "min", "mins"}
AFTER_NUMBER = re.compile(r"\d\s*$")
"""A unit's abbreviation right after a number ("6 mos", "10 bps") names no security."""


@dataclass(frozen=True)
class Mention:
    symbol: str
    start: int
    end: int
    text: str


class SecurityMaster:
    """Names, aliases and tickers of the securities the planner can recognise."""

    def __init__(self, listings: dict[str, str]) -> None:
        self.names = {**listings, **NAMES}  # symbol -> display name
        keys: dict[str, set[str]] = {}
        for symbol, name in self.names.items():
            key = _name_key(name)
            if key:
                keys.setdefault(key, set()).add(symbol)
        # full names only: a first word alone ("capital", "american") is too often a word;
        # the short names people use are in ALIASES
        self.by_name = {k: next(iter(v)) for k, v in keys.items() if len(v) == 1}
        self.by_name.update(ALIASES)
        self.longest = max(len(k.split()) for k in self.by_name)
        self.fuzzy_keys = [k for k in self.by_name if len(k) >= 5]
        self.single_keys = [k for k in self.fuzzy_keys if " " not in k]
        for symbol, name in NAMES.items():  # "procter" for PG: a first word that is no word
            first = _name_key(name).split(" ")[0] if _name_key(name) else ""
            if len(first) >= 5 and not is_word(first) and first not in self.by_name:
                self.by_name[first] = symbol

    def name(self, symbol: str) -> str:
        return self.names.get(symbol, symbol)

    def known(self, symbol: str) -> bool:
        return symbol in self.names

    def find(self, text: str, stored: set[str]) -> list[Mention]:
        """Securities ``text`` names, in the order it names them, each once."""
        found = self._tickers(text, stored) + self._names(text, stored)
        found.sort(key=lambda m: m.start)
        seen: set[str] = set()
        out = []
        for m in found:
            if m.symbol not in seen:
                seen.add(m.symbol)
                out.append(m)
        return out

    def _tickers(self, text: str, stored: set[str]) -> list[Mention]:
        shouting = sum(c.isupper() for c in text) > 0.6 * max(1, sum(c.isalpha() for c in text))
        out = []
        for m in TICKER.finditer(text):
            dollar, token = m[1], m[2]
            symbol = token.upper()
            if symbol not in stored and symbol not in self.names:
                symbol = self._mistyped(token, stored)
                if symbol is None:
                    continue
                out.append(Mention(symbol, m.start(), m.end(), m[0]))
                continue
            word = token.lower() in COMMON_WORDS or len(token) == 1
            if not dollar and token.lower() in UNITS and AFTER_NUMBER.search(text[: m.start()]):
                continue  # "past 6 mos" is six months, not Mosaic (MOS)
            if dollar:
                pass
            elif token.isupper():
                if word and (shouting or symbol not in stored):
                    continue
            elif word or len(token) < 2:
                continue  # lower case: no English word ("all", "low")
            elif symbol not in stored and (len(token) < 3 or is_word(token)):
                continue  # a real listing the store lacks: only a token that is no word ("nvda")
            out.append(Mention(symbol, m.start(), m.end(), m[0]))
        return out

    def _mistyped(self, token: str, stored: set[str]) -> str | None:
        """A stored ticker a keystroke off ("appl", "msfy"): one of 4-5 letters that is no
        word, one edit (a swap counts as one) from exactly one stored symbol."""
        if not 4 <= len(token) <= 5 or is_word(token) or not token.isalpha():
            return None
        near = [
            s for s in stored if len(s) >= 3 and DamerauLevenshtein.distance(token.upper(), s) == 1
        ]
        return near[0] if len(near) == 1 else None

    def _names(self, text: str, stored: set[str]) -> list[Mention]:
        words = list(re.finditer(r"[A-Za-z0-9&.'’-]+", text))
        keys = [normalise(w[0]) for w in words]
        out, taken = [], set()
        for size in range(min(self.longest, 5), 0, -1):
            for i in range(len(words) - size + 1):
                if any(j in taken for j in range(i, i + size)):
                    continue
                key = " ".join(k for k in keys[i : i + size] if k)
                symbol = self.by_name.get(key)
                if symbol is None and len(key) > 4 and key.endswith("s"):
                    key = key[:-1]  # "apples dividend": a possessive without its apostrophe
                    symbol = self.by_name.get(key)
                if symbol is None or not key:
                    continue
                original = text[words[i].start() : words[i + size - 1].end()]
                if size == 1 and key in COMMON_WORDS and not original[:1].isupper():
                    continue  # "target return" is not Target
                out.append(Mention(symbol, words[i].start(), words[i + size - 1].end(), original))
                taken.update(range(i, i + size))
        out += self._misspelled(words, keys, taken)
        return out

    def _misspelled(self, words, keys, taken) -> list[Mention]:
        """Names a letter or two off ("Microsfot", "Procter and Gambel"), with a clear
        winner; short words and ordinary words ("until" is not Unitil) are left alone."""
        out = []
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                if any(j in taken for j in range(i, i + size)):
                    continue
                phrase = " ".join(keys[i : i + size])
                words_here = keys[i : i + size]
                if len(phrase) < 5 or (size == 1 and is_word(phrase)):
                    continue
                if all(k in COMMON_WORDS or len(k) < 3 or not k.isalpha() for k in words_here):
                    continue  # "how did the" is no misspelt name; "proctor and gamble" may be
                best = process.extract(
                    phrase, self.fuzzy_keys, scorer=fuzz.ratio, limit=2, score_cutoff=80
                )
                if (not best or best[0][1] < 88) and size == 1:
                    # a swapped or dropped letter in one word ("Appel", "Walmrt")
                    near = [
                        k for k in self.single_keys if DamerauLevenshtein.distance(phrase, k) == 1
                    ]
                    best = [(near[0], 100.0, 0)] if len(near) == 1 else []
                if not best or best[0][1] < 88:
                    continue
                if len(best) > 1 and best[1][1] > best[0][1] - 4:
                    continue  # no clear winner
                symbol = self.by_name[best[0][0]]
                out.append(Mention(symbol, words[i].start(), words[i + size - 1].end(), phrase))
                taken.update(range(i, i + size))
        return out


@cache
def security_master() -> SecurityMaster:
    """Built once per process (~50 ms): the index constituents ship with the package."""
    return SecurityMaster({s.symbol: s.name for s in bundled()})
