"""The security master: name, ticker, CIK, exchange and sector of US-listed companies,
and a search over them by ticker or (misspelt, shortened) name.

Two sources, merged by ticker. Bundled and offline: the constituents of the major US
indices (S&P 500, S&P 100, S&P 600, NASDAQ 100, Dow Jones) as ``pytickersymbols``
ships them, with their industries; their GICS sector is the first industry that names
one. From SEC, when refreshed: ``company_tickers_exchange.json`` (every company with a
ticker, its CIK and exchange), which the caller fetches and passes in parsed; it adds
CIKs and exchanges and the companies outside the indices. Pure: no network, no files
other than the package's own data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from tools.errors import InvalidInputError

INDEXES = ("S&P 500", "S&P 100", "S&P 600", "NASDAQ 100", "DOW JONES")
SECTORS = {  # GICS sectors, and the other spellings the bundled data uses
    "communication services": "Communication Services",
    "consumer discretionary": "Consumer Discretionary",
    "consumer staples": "Consumer Staples",
    "energy": "Energy",
    "financials": "Financials",
    "health care": "Health Care",
    "healthcare": "Health Care",
    "industrials": "Industrials",
    "information technology": "Information Technology",
    "technology": "Information Technology",
    "materials": "Materials",
    "real estate": "Real Estate",
    "utilities": "Utilities",
}
SUFFIXES = re.compile(
    r"\b(the|inc|incorporated|corp|corporation|co|company|companies|plc|ltd|limited|"
    r"holdings?|group|class [a-c]|sa|nv|ag|se|n\.?v|s\.?a|lp|llc|trust)\b\.?"
)
SEC_FIELDS = ("cik", "name", "ticker", "exchange")
ALIASES = {  # the names people use, as normalise() writes them
    "apple": "AAPL",
    "microsoft": "MSFT",
    "advanced micro devices": "AMD",
    "bank of america": "BAC",
    "bofa": "BAC",
    "best buy": "BBY",
    "chevron": "CVX",
    "general electric": "GE",
    "home depot": "HD",
    "johnson and johnson": "JNJ",
    "j and j": "JNJ",
    "jnj": "JNJ",
    "jpmorgan": "JPM",
    "jp morgan": "JPM",
    "jpmorgan chase": "JPM",
    "chase": "JPM",
    "coca cola": "KO",
    "cocacola": "KO",
    "coke": "KO",
    "eli lilly": "LLY",
    "lilly": "LLY",
    "merck": "MRK",
    "pepsico": "PEP",
    "pepsi": "PEP",
    "pfizer": "PFE",
    "procter and gamble": "PG",
    "procter gamble": "PG",
    "p and g": "PG",
    "range resources": "RRC",
    "unitedhealth": "UNH",
    "united health": "UNH",
    "unitedhealth group": "UNH",
    "walmart": "WMT",
    "wal mart": "WMT",
    "exxon": "XOM",
    "exxonmobil": "XOM",
    "exxon mobil": "XOM",
    "google": "GOOGL",
    "alphabet": "GOOGL",
    "facebook": "META",
    "amazon": "AMZN",
    "tesla": "TSLA",
    "nvidia": "NVDA",
    "netflix": "NFLX",
    "berkshire": "BRK.B",
    "berkshire hathaway": "BRK.B",
    "s and p 500": "SPX",
    "s and p": "SPX",
    "sandp 500": "SPX",
    "sp500": "SPX",
    "sp 500": "SPX",
    "spx": "SPX",
    "the market": "SPX",
    "the index": "SPX",
    # names people use for listings the master knows under longer ones
    "meta": "META",
    "costco": "COST",
    "starbucks": "SBUX",
    "nike": "NKE",
    "disney": "DIS",
    "intel": "INTC",
    "cisco": "CSCO",
    "oracle": "ORCL",
    "salesforce": "CRM",
    "adobe": "ADBE",
    "paypal": "PYPL",
    "mastercard": "MA",
    "boeing": "BA",
    "caterpillar": "CAT",
    "lowes": "LOW",
    "mcdonalds": "MCD",
    "moderna": "MRNA",
    "verizon": "VZ",
    "at and t": "T",
    "comcast": "CMCSA",
    "qualcomm": "QCOM",
    "broadcom": "AVGO",
    "amgen": "AMGN",
    "gilead": "GILD",
    "abbvie": "ABBV",
    "walgreens": "WBA",
    "general motors": "GM",
    "goldman sachs": "GS",
    "morgan stanley": "MS",
    "wells fargo": "WFC",
    "citigroup": "C",
    "ibm": "IBM",
    "uber": "UBER",
    "airbnb": "ABNB",
    "palantir": "PLTR",
    "gamestop": "GME",
    "american express": "AXP",
}


GROUPS: dict[str, tuple[str, ...]] = {  # words people use for a group -> sector/industry words
    r"pharma\w*|drug ?makers?|drugs?": ("Pharma",),
    r"banks?|banking|lenders": ("Bank",),
    r"oil|oil and gas|energy|oil majors|gas": ("Energy", "Oil", "Petroleum", "Natural Gas"),
    r"tech|technology": ("Information Technology", "Software", "Semiconductor"),
    r"chips?|chip ?makers?|semis|semiconductors?": ("Semiconductor",),
    r"health ?care|healthcare|medical": ("Health Care", "Healthcare", "Pharma"),
    r"retail\w*|shops|stores": ("Retail", "Department Stores", "Home Improvement"),
    r"financials?|finance": ("Financials", "Bank"),
    r"consumer staples|staples|food and beverage|beverages?|drinks": ("Consumer Staples",),
    r"industrials?": ("Industrials",),
    r"utilit(?:y|ies)": ("Utilities",),
    r"insurers?|insurance": ("Insurance",),
}
GROUP_WORDS = re.compile(
    r"\b(" + "|".join(GROUPS) + r")\s+(?:stocks?|names?|compan(?:y|ies)|shares|sector|plays?|"
    r"firms?|holdings|ones?)\b|\bthe\s+(" + "|".join(GROUPS) + r")\s+sector\b",
    re.I,
)


INDICES = frozenset({"SPX", "NDX", "DJI", "RUT", "VIX", "SPY500"})
"""Symbols that name a market index, not a security: no order, no filing, no place in a
ranking of stocks."""


class Security(BaseModel):
    symbol: str
    name: str
    cik: int | None = Field(default=None, description="SEC Central Index Key, when known")
    exchange: str | None = None
    sector: str | None = Field(default=None, description="GICS sector, when known")
    industries: list[str] = Field(default_factory=list)
    indices: list[str] = Field(default_factory=list, description="major US indices it is in")


def normalise(text: str) -> str:
    """Lower case, & as "and", possessives and punctuation gone, one space between words."""
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^a-z0-9. ]+", " ", text)
    text = re.sub(r"(?<![a-z])\.|\.(?![a-z])", " ", text)  # keep the dot in brk.b
    return " ".join(text.split())


def name_key(name: str) -> str:
    """A company name as people say it: "Apple Inc." -> "apple"."""
    return " ".join(SUFFIXES.sub(" ", normalise(name)).split())


def _sector(industries: list[str]) -> str | None:
    return next((SECTORS[i.lower()] for i in industries if i.lower() in SECTORS), None)


@cache
def bundled() -> tuple[Security, ...]:
    """The index constituents shipped with ``pytickersymbols`` (~1,100 companies)."""
    from pytickersymbols import PyTickerSymbols

    source = PyTickerSymbols()  # reads its whole data file: once
    found: dict[str, Security] = {}
    for index in INDEXES:
        for stock in source.get_stocks_by_index(index):
            symbol = stock["symbol"].upper()
            if symbol in found:
                found[symbol].indices.append(index)
                continue
            listed = [
                s["google"].split(":")[0]
                for s in stock.get("symbols", [])
                if s.get("currency") == "USD" and ":" in s.get("google", "")
            ]  # index constituents trade on an exchange: an over-the-counter line is not it
            exchange = next((x for x in listed if x != "OTCMKTS"), None)
            industries = list(stock.get("industries") or [])
            found[symbol] = Security(
                symbol=symbol,
                name=stock["name"],
                exchange=exchange,
                sector=_sector(industries),
                industries=industries,
                indices=[index],
            )
    return tuple(found.values())


def from_sec(table: dict) -> list[Security]:
    """SEC's ``company_tickers_exchange.json``: ``{"fields": [...], "data": [[...], ...]}``.
    Raises InvalidInputError when it is not that shape."""
    try:
        columns = [table["fields"].index(f) for f in SEC_FIELDS]
        out = []
        for row in table["data"]:
            cik, name, ticker, exchange = (row[i] for i in columns)
            if ticker and name:
                out.append(
                    Security(symbol=str(ticker).upper(), name=name, cik=int(cik), exchange=exchange)
                )
        return out
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InvalidInputError(
            f"SEC's company list is not in the expected shape ({type(exc).__name__}: {exc})"
        ) from None


class SecurityMaster:
    """Lookup by symbol and search by ticker or name; ``stored`` symbols (the price
    store's) rank first among equals and are known even when no list has them."""

    def __init__(self, securities: Iterable[Security], sec: Iterable[Security] = ()) -> None:
        self.by_symbol: dict[str, Security] = {s.symbol: s.model_copy() for s in securities}
        for s in sec:  # SEC adds its CIK and exchange; the bundled name and sector stay
            known = self.by_symbol.get(s.symbol)
            if known is None:
                self.by_symbol[s.symbol] = s
            else:
                known.cik = s.cik
                known.exchange = s.exchange or known.exchange
        self._keys = {symbol: name_key(s.name) for symbol, s in self.by_symbol.items()}

    def __len__(self) -> int:
        return len(self.by_symbol)

    def get(self, symbol: str) -> Security | None:
        return self.by_symbol.get(symbol.strip().upper().lstrip("$"))

    def in_group(self, words: str, symbols: Iterable[str]) -> list[str]:
        """Those of ``symbols`` that belong to the group ``words`` names ("pharma", "banks",
        "oil"), by sector or industry; empty when ``words`` names no group."""
        wanted = next(
            (marks for pattern, marks in GROUPS.items() if re.fullmatch(pattern, words, re.I)), ()
        )
        out = []
        for symbol in symbols:
            s = self.by_symbol.get(symbol)
            tags = [s.sector or "", *s.industries] if s else []
            if any(mark.lower() in tag.lower() for mark in wanted for tag in tags):
                out.append(symbol)
        return sorted(out)

    def search(self, query: str, limit: int = 10, stored: set[str] = frozenset()) -> list[Security]:
        """Best first: the ticker itself, then names that are the query, start with it or
        contain it as words, then names like it (misspellings)."""
        query = query.strip()
        if not query:
            raise InvalidInputError("give a ticker or a company name to look for")
        if len(query) > 100:
            raise InvalidInputError("a ticker or company name is at most 100 characters")
        wanted = name_key(query)
        scores: dict[str, float] = {}
        if (hit := self.get(query)) is not None:
            scores[hit.symbol] = 300.0
        if wanted:
            compact = wanted.replace(" ", "")
            for symbol, key in self._keys.items():
                if key == wanted:
                    scores[symbol] = max(scores.get(symbol, 0), 250.0)
                elif key.startswith(wanted + " ") or f" {wanted} " in f" {key} ":
                    scores[symbol] = max(scores.get(symbol, 0), 200.0 - len(key) / 100)
                elif len(compact) >= 4 and key.replace(" ", "").startswith(compact):
                    scores[symbol] = max(scores.get(symbol, 0), 180.0 - len(key) / 100)
            if (alias := ALIASES.get(wanted)) in self.by_symbol:
                scores[alias] = max(scores.get(alias, 0), 260.0)
            if len(wanted) >= 4 and max(scores.values(), default=0) < 180:
                for _key, score, symbol in process.extract(
                    wanted, self._keys, scorer=fuzz.WRatio, limit=limit * 2, score_cutoff=80
                ):
                    scores[symbol] = max(scores.get(symbol, 0), float(score))
        ranked = sorted(scores, key=lambda s: (-scores[s], s not in stored, s))
        return [self.by_symbol[s] for s in ranked[:limit]]


@cache
def bundled_master() -> SecurityMaster:
    """The bundled list alone (what needs no settings: the offline model's groups)."""
    return SecurityMaster(bundled())
