"""Ordinary English words that are also tickers or short company names: never taken
for a security unless written as one ("$ON", "Target")."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

COMMON_WORDS = frozenset(
    """
a about above across act add after again against age ago agree ahead aim air al all allow
almost alone along already also always am among amp an analyze and another any anyone
anything app apply are area arm around art as ask at auto away back bad ball bank base be
bear beat because become been before began being below ben best better between big bill
bio bit black block blue board body book boom boot both bottom box boy brand break bring
broad build bull business but buy by call calm came can cap car card care carry case cash
cat cause cent center chart cheap check chef choice city claim class clear close code
cold come common compare con cost could count country cover cake crash cross cut daily
dash data date day deal deep did dig do does dog doing done dot double down drive drop
due during each early earn earnings easy eat ed edge else end energy enough era even event
ever every exit expect eye face fact fair fall far fast fear feel few field fill final
find fine fire firm first fit five fix fizz flat flow fly focus for form forward four free
from front full fun fund gain game gap gen get give global go goal gold golf good got
great green grey group grow growth guess had half hand happen hard has have he head health
hear heart hedge held help her here high him his hit hold home hope hot hour house how
huge hum i ice idea if image in inc income index info into is it item its job join joe
just keep key kind know land large last late later lead learn least leave left less let
level life light like line list little live long look loss lost lot love low main make
man many map mar market mas match max may me mean meta met mid might mind mine miss mo
model money month more most move much must my name near need net never new news next
nice no none nor not note now number of off offer often oil ok old on once one only open
or order other our out over own page paid part past pay peak per pick place plan play
plus point pool post power price pro profit pull push put q quick quite race rain range
rate rather re read ready real red rest return rich ride right rise risk road rock role
room root rose run safe said sale same save saw say see seen sell send set share shift
ship shop short should show shut side sign since site six size sky slow small so some
soon sort spot spring star start state stay step still stock stop store story strong
such sun sure system take talk target team tech tell ten term than that the their them
then there these they thing think this those three through time to today told too top
total track trade trend true try turn two type under unit up upon us use value very view
visa wait walk want was watch water way we week well went were what when where which while
white who whole why will win with within without word work world worth would write yes
yet you your yum zero
""".split()
)


@cache
def _vocabulary() -> frozenset[str]:
    """The whole lower-case words of the packaged MiniLM's WordPiece vocabulary: ~22,000
    ordinary English words (and some names), already on disk, no download."""
    try:
        from retrieval.fast_embedder import packaged_model_dir

        lines = (packaged_model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) > 1)


def is_word(token: str) -> bool:
    """An ordinary word ("until", "trading"), so not a ticker or a misspelt name unless
    written as one."""
    token = token.lower()
    return token in COMMON_WORDS or token in _vocabulary()


KEY_TERMS = (
    "price prices stock stocks shares share return returns performance perform performed "
    "volatility volatile backtest portfolio compare comparison dividend news indicators "
    "average averages moving strategy optimise optimize rebalance rebalancing quarterly "
    "monthly bollinger golden cross momentum technical technicals headlines filings earnings "
    "drawdown sharpe allocation weights invest investment overview analysis correlation "
    "correlated correlate together diversification diversified riskier riskiest sortino calmar"
).split()


def correct(text: str, keep: Callable[[str], bool]) -> str:
    """Misspelt market words put right ("aapl pirce" -> "aapl price", "perfomance"): a
    word of four letters or more that is no word, one edit from exactly one key term.
    ``keep`` spares tokens that mean something as they are (tickers)."""
    from rapidfuzz.distance import DamerauLevenshtein

    def fix(m: re.Match) -> str:
        word = m[0]
        low = word.lower()
        if len(low) < 4 or is_word(low) or keep(word):
            return word
        if low.endswith("s") and (is_word(low[:-1]) or low[:-1] in KEY_TERMS):
            return word  # a plural ("dividends"), not a misspelling
        near = [t for t in KEY_TERMS if DamerauLevenshtein.distance(low, t) == 1]
        return near[0] if len(set(near)) == 1 else word

    return re.sub(r"[A-Za-z]+", fix, text)
