"""The period a question asks about, read from its words.

Relative phrases ("last year", "the past 6 months", "YTD", "last quarter") are anchored
to the latest date the data reaches (the store's last bar offline, not today's date:
the sample ends in 2022), and every period carries a label that the answer states, so
nobody reads a 33-year return as last year's. Absolute dates come in the common formats
(2021-06-30, June 30 2021, 30 June 2021, 6/30/2021, March 2020, Q1 2020, 2015-2020) and
a few named episodes ("the covid crash") come from a small table.

A date that cannot exist (2021-02-30) raises :class:`DateError` with a sentence to show.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "couple of": 2,
    "few": 3,
}
COUNT = r"(\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
SUPERLATIVE = re.compile(
    r"\b(?:biggest|largest|best|worst|smallest|greatest|sharpest|steepest|highest|lowest)\s+$",
    re.I,
)
UNIT = r"(years?|yrs?|y|months?|mos?|weeks?|wks?|days?|d|quarters?|qtrs?)"


def _unit(text: str) -> str:
    """'yrs' -> 'year', 'mo' -> 'month', 'd' -> 'day'."""
    for unit in ("year", "month", "week", "day", "quarter"):
        if text[0] == unit[0] and (len(text) <= 3 or text.startswith(unit)):
            return unit
    return {"wk": "week", "wks": "week"}.get(text, "year")


EPISODES = {  # (start, end): peak to trough of the S&P 500
    r"(?:2008|great|global)?\s*(?:financial\s+crisis|great\s+recession|gfc|2008\s+crash|2008\s+crisis)": (
        date(2007, 10, 9),
        date(2009, 3, 9),
        "the global financial crisis",
    ),
    r"(?:covid|corona(?:virus)?|pandemic)(?:\s*-?\s*19)?\s+(?:crash|sell-?off|crisis|drop)|(?:the\s+)?2020\s+crash|"
    r"(?:biggest|largest|worst|steepest)\s+(?:drop|fall|decline|drawdown|crash)\b.{0,40}\b(?:during|in)\s+"
    r"(?:the\s+)?(?:covid|corona(?:virus)?|pandemic)(?:\s*-?\s*19)?\b": (
        date(2020, 2, 19),
        date(2020, 3, 23),
        "the covid crash",
    ),
    r"dot[- ]?com\s+(?:bust|crash|bubble)|tech\s+bubble": (
        date(2000, 3, 24),
        date(2002, 10, 9),
        "the dot-com bust",
    ),
    r"2022\s+bear\s+market|(?:the\s+)?2022\s+(?:sell-?off|crash)": (
        date(2022, 1, 3),
        date(2022, 10, 12),
        "the 2022 bear market",
    ),
    r"(?:the\s+)?2018\s+(?:sell-?off|correction)|volmageddon": (
        date(2018, 9, 20),
        date(2018, 12, 24),
        "the 2018 sell-off",
    ),
}


class DateError(ValueError):
    """A date in the question that is not a calendar date."""


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    """For documents: nothing published after this."""
    label: str | None = None
    """How the answer says the period ("the 12 months to 2022-12-28")."""

    @property
    def empty(self) -> bool:
        return self.start is None and self.end is None and self.as_of is None

    @property
    def named(self) -> bool:
        """The question said a period, "now" included."""
        return not self.empty or self.label is not None


NO_PERIOD = Period()


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_back(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _count(text: str) -> int:
    return int(text) if text.isdigit() else NUMBERS[text]


def _day(year: str | int, month: str | int, day: str | int) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise DateError(
            f"I could not read the date {year}-{month}-{day}: it is not a calendar date. "
            "Please write dates as YYYY-MM-DD, e.g. 2021-06-30."
        ) from None


def _short_year(text: str) -> int:
    """'21 and 21 -> 2021 (a two-digit year in a quarter is this century's)."""
    text = text.lstrip("'")
    return _year(2000 + int(text) if len(text) == 2 else int(text))


def _year(text: str | int) -> int:
    year = int(text)
    if not 1900 <= year <= 2100:
        raise DateError(f"I can only look at the years 1900 to 2100, not {year}.")
    return year


DAY_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{4})[/.](\d{1,2})[/.](\d{1,2})\b"), "ymd"),
    (re.compile(rf"\b({MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), "mdy-name"),
    (
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH})\.?,?\s+(\d{{4}})\b"),
        "dmy-name",
    ),
    # 6/30/2021 (US order), or 30/06/2021 when the first number cannot be a month
    (re.compile(r"\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4})\b"), "numeric"),
]
DAY_TEXT = r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|" + (
    rf"(?:{MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTH})\.?,?\s+\d{{4}})"
)
MONTH_YEAR = rf"(?:{MONTH})\.?,?\s+\d{{4}}"
POINT = rf"(?:{DAY_TEXT}|{MONTH_YEAR}|\d{{4}})"
TRAILING_YEAR = re.compile(
    r"\b(?:over|in|during)?\s*the\s+(?:last|past)\s+(?:year|12\s+months|twelve\s+months)\b|"
    r"\b(?:past|trailing)\s+year\b|\b(?:last|past)\s+12\s+months\b|\bone[- ]year\b|"
    r"\b1[- ]?y(?:ea)?r\b"
)
AS_OF = re.compile(
    r"\b(?:as of|as at|on|at|by|end of|the end of|close of|year-end|year end)\s+"
    rf"({DAY_TEXT}|{MONTH_YEAR}|\d{{4}})\b"
)
IN_YEAR = re.compile(
    r"\b(?:in|during|for|over|of|throughout)\s+(\d{4})\b|"
    r"\b(\d{4})(?:'s)?\s+(?:return|performance|results?)\b"
)


def _read_day(text: str) -> date | None:
    for pattern, kind in DAY_PATTERNS:
        m = pattern.fullmatch(text.strip()) or pattern.search(text)
        if not m:
            continue
        if kind == "ymd":
            return _day(_year(m[1]), m[2], m[3])
        if kind == "mdy-name":
            return _day(_year(m[3]), MONTHS[m[1]], m[2])
        if kind == "dmy-name":
            return _day(_year(m[3]), MONTHS[m[2]], m[1])
        first, second, year = int(m[1]), int(m[3]), _year(m[4])
        return _day(year, second, first) if first > 12 >= second else _day(year, first, second)
    return None


def _point(text: str, edge: str) -> date:
    """A day, a month or a year as its first (``edge="start"``) or last day."""
    text = text.strip().lower()
    if day := _read_day(text):
        return day
    if m := re.fullmatch(rf"({MONTH})\.?,?\s+(\d{{4}})", text):
        year, month = _year(m[2]), MONTHS[m[1]]
        return date(year, month, 1) if edge == "start" else _last_day(year, month)
    year = _year(text)
    return date(year, 1, 1) if edge == "start" else date(year, 12, 31)


def _quarter(year: int, quarter: int) -> tuple[date, date]:
    first = 3 * (quarter - 1) + 1
    return date(year, first, 1), _last_day(year, first + 2)


def parse_period(text: str, anchor: date) -> Period:
    """The period ``text`` names, relative phrases counted back from ``anchor``."""
    t = text.lower().replace("’", "'")
    a = anchor

    if m := re.search(rf"\bstart\s*[=:]\s*({DAY_TEXT})", t):  # developer style
        end = re.search(rf"\bend\s*[=:]\s*({DAY_TEXT})", t)
        return (
            _range(_point(m[1], "start"), _point(end[1], "end"))
            if end
            else (Period(start=_point(m[1], "start"), label=f"from {_point(m[1], 'start')}"))
        )
    if m := re.search(rf"\bend\s*[=:]\s*({DAY_TEXT})", t):
        day = _point(m[1], "end")
        return Period(end=day, as_of=day, label=f"as of {day}")
    for pattern, (start, end, label) in EPISODES.items():
        if m := re.search(pattern, t):
            if re.search(r"\b(?:since|after)\s+(?:the\s+)?$", t[: m.start()]) or re.search(
                r"^\s*(?:started|began|hit)", t[m.end() :]
            ):
                # "since the covid crash in march 2020": the month the user names wins
                if said := re.match(
                    rf"\s*(?:in|of|from)\s+({MONTH})\.?,?\s+(\d{{4}})\b", t[m.end() :]
                ):
                    start = date(_year(said[2]), MONTHS[said[1]], 1)
                    return Period(start=start, label=f"since {start:%B %Y}")
                return Period(start=start, label=f"since {label} began ({start})")
            return Period(start, end, end, f"{label} ({start} to {end})")
    if re.search(
        r"\bsince\s+(?:the\s+)?(?:(?:start|beginning|onset)\s+of\s+(?:the\s+)?)?"
        r"(?:covid|corona\w*|pandemic)\b",
        t,
    ):
        start, _, label = EPISODES[next(k for k in EPISODES if "covid" in k)]
        return Period(start=start, label=f"since {label} began ({start})")
    if m := re.search(  # "at the start of 2019 ... at the end of 2022", any words between
        rf"\b(?:start|beginning|open)\s+of\s+({POINT})\b.{{0,80}}?\b(?:end|close)\s+of\s+({POINT})\b",
        t,
    ):
        return _range(_point(m[1], "start"), _point(m[2], "end"))
    if m := re.search(rf"({DAY_TEXT})\s*(?:to|through|until|till|-|–|—|and)\s*({DAY_TEXT})", t):
        return _range(_point(m[1], "start"), _point(m[len(m.groups())], "end"))
    if m := re.search(r"\b(\d{4}-\d{2}-\d{2})\s+(\d{4}-\d{2}-\d{2})\b", t):
        return _range(_point(m[1], "start"), _point(m[2], "end"))
    if m := re.search(
        rf"\b(?:from\s+|between\s+)?({MONTH})\.?\s*(?:to|through|until|till|-|–|and)\s*({MONTH})\.?,?\s+(?:of\s+)?(\d{{4}})\b",
        t,
    ):
        year = _year(m[3])
        return _range(date(year, MONTHS[m[1]], 1), _last_day(year, MONTHS[m[2]]))
    if m := re.search(r"\b(early|mid|late)[- ]?(\d{4})\b", t):
        year, part = _year(m[2]), m[1]
        months = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}[part]
        if re.search(r"\b(?:as of|as at|by|at)\s+(?:the\s+)?$", t[: m.start()]):
            day = {
                "early": date(year, 3, 31),
                "mid": date(year, 6, 30),
                "late": date(year, 12, 31),
            }[part]
            return Period(end=day, as_of=day, label=f"as of {day} ({part} {year})")
        return _range(date(year, months[0], 1), _last_day(year, months[1]))

    # ranges
    if m := re.search(
        rf"\b(?:between|from)\s+({POINT})\s+(?:and|to|until|through|till|-)\s+({POINT})\b", t
    ):
        return _range(_point(m[1], "start"), _point(m[2], "end"))
    if m := re.search(r"\b(\d{4})\s*(?:-|–|—|to|through|and)\s*(\d{4})\b", t):
        return _range(date(_year(m[1]), 1, 1), date(_year(m[2]), 12, 31))
    if m := re.search(
        r"\b(?:q([1-4])\s*(?:of\s+)?(?:fy\s*)?('?\d{2}|\d{4})|(\d{4})\s*q([1-4])|([1-4])q\s*(\d{4}))\b",
        t,
    ):
        quarter, year = next((q, y) for q, y in ((m[1], m[2]), (m[4], m[3]), (m[5], m[6])) if q)
        year = _short_year(year)
        start, end = _quarter(year, int(quarter))
        return Period(start, end, end, f"Q{quarter} {year}")
    if m := re.search(
        r"\b(?:h([12])\s*(?:of\s+)?(\d{4})|(first|second)\s+half\s+(?:of\s+)?(\d{4}))\b", t
    ):
        half = int(m[1]) if m[1] else (1 if m[3] == "first" else 2)
        year = _year(m[2] or m[4])
        start, end = date(year, 6 * half - 5, 1), _last_day(year, 6 * half)
        return Period(start, end, end, f"H{half} {year}")
    if m := re.search(r"\b((?:19|20)\d)0'?s\b|\bthe\s+'?(\d)0'?s\b", t):
        decade = int(m[1]) * 10 if m[1] else (1900 if int(m[2]) >= 3 else 2000) + 10 * int(m[2])
        return _range(date(_year(decade), 1, 1), date(_year(decade + 9), 12, 31))
    ordinal = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4, "final": 4}
    if m := re.search(
        r"\b(first|second|third|fourth|last|final)\s+quarter\s+(?:of\s+)?(?:fy\s*)?(\d{4})\b", t
    ):
        quarter = ordinal[m[1]]
        start, end = _quarter(_year(m[2]), quarter)
        return Period(start, end, end, f"Q{quarter} {m[2]}")

    # relative to the anchor
    if re.search(r"\b(?:ytd|year[- ]to[- ]date|this (?:year|yr)|so far this year)\b", t):
        return Period(date(a.year, 1, 1), a, a, f"{a.year} to date ({a})")
    if re.search(r"\b(?:last|previous|prior)\s+(?:calendar\s+)?(?:year|yr)\b", t) and not re.search(
        r"\b(?:over|in|during)\s+the\s+(?:last|past)\s+year\b|\bthe\s+last\s+year\s+or\b", t
    ):
        year = a.year - 1
        return Period(date(year, 1, 1), date(year, 12, 31), date(year, 12, 31), str(year))
    if re.search(r"\b(?:last|past|previous|recent|trailing)\s+half[- ]?(?:a[- ])?year\b", t):
        return _back(a, 6, "month", said="half year")
    if m := re.search(
        rf"\b(?:last|past|previous|recent|trailing)\s+{COUNT}\s*(?:trading\s+|business\s+|calendar\s+)?{UNIT}\b",
        t,
    ):
        return _back(a, _count(m[1]), _unit(m[2]), said=m[1])
    if re.search(
        r"\b(?:over|in|during|for)\s+the\s+(?:last|past)\s+month\b|\b(?:past|trailing)\s+month\b", t
    ):
        return _back(a, 1, "month")
    if (
        m := re.search(
            rf"\b{COUNT}[- ]?{UNIT}\s+(?:return|performance|change|gain|loss|chart|history|trend|"
            rf"of\s+(?:data|history|prices|returns))",
            t,
        )
    ) and not SUPERLATIVE.search(t[: m.start()]):  # "the biggest one-day gain": no period
        return _back(a, _count(m[1]), _unit(m[2]), said=m[1])
    if m := re.search(rf"\b{COUNT}\s+(year|month|week|day|quarter)s?\s+(?:ago|back)\b", t):
        n, unit = _count(m[1]), m[2]
        day = _back(a, n, unit).start
        return Period(end=day, as_of=day, label=f"{m[0]} ({day})")
    if re.search(r"\b(?:past|last|previous)\s+decade\b", t):
        return _back(a, 10, "year", said="decade")
    if TRAILING_YEAR.search(t):
        return _back(a, 1, "year")
    if re.search(r"\b(?:last|previous|prior)\s+quarter\b", t):
        quarter = (a.month - 1) // 3 + 1
        year, quarter = (a.year, quarter - 1) if quarter > 1 else (a.year - 1, 4)
        start, end = _quarter(year, quarter)
        return Period(start, end, end, f"Q{quarter} {year}")
    if re.search(r"\bthis\s+quarter\b|\bquarter[- ]to[- ]date\b|\bqtd\b", t):
        start = date(a.year, 3 * ((a.month - 1) // 3) + 1, 1)
        return Period(start, a, a, f"the quarter to date ({start} to {a})")
    if re.search(r"\b(?:last|previous|prior)\s+month\b", t):
        end = date(a.year, a.month, 1) - timedelta(days=1)
        start = date(end.year, end.month, 1)
        return Period(start, end, end, f"{calendar.month_name[end.month]} {end.year}")
    if re.search(r"\bthis\s+month\b|\bmonth[- ]to[- ]date\b|\bmtd\b", t):
        start = date(a.year, a.month, 1)
        return Period(start, a, a, f"the month to date ({start} to {a})")
    if re.search(r"\b(?:last|past|this)\s+(?:week|wk)\b", t):
        return _back(a, 1, "week")

    # points and open ranges
    if m := re.search(rf"\b(?:before|prior\s+to|earlier\s+than)\s+({POINT})\b", t):
        day = _point(m[1], "start") - timedelta(days=1)
        return Period(end=day, as_of=day, label=f"up to {day}")
    if m := re.search(
        rf"(?<!from )\b(?:up\s+to|until|till|through)\s+(?:the\s+end\s+of\s+)?({POINT})\b", t
    ):
        day = _point(m[1], "end")
        return Period(end=day, as_of=day, label=f"up to {day}")
    if m := re.search(rf"\bsince\s+({MONTH})\b(?!\.?,?\s+\d)", t):
        month = MONTHS[m[1]]
        year = a.year if month <= a.month else a.year - 1
        start = date(year, month, 1)
        return Period(start=start, label=f"from {start}")
    if m := re.search(
        rf"\b(?:since|after|from|starting(?:\s+in)?)\s+(?:the\s+)?(?:start|beginning)\s+of\s+({POINT})\b",
        t,
    ):
        start = _point(m[1], "start")
        return Period(start=start, label=f"from {start}")
    if m := re.search(rf"\b(?:since|after|from|starting(?:\s+in)?)\s+({POINT})\b", t):
        start = _point(m[1], "start")
        if m[0].startswith("after") and re.fullmatch(r"\d{4}", m[1].strip()):
            start = date(start.year + 1, 1, 1)
        return Period(start=start, label=f"from {start}")
    if m := AS_OF.search(t):
        day = _point(m[1], "end")
        return Period(end=day, as_of=day, label=f"as of {day}")
    if m := re.search(DAY_TEXT, t):
        day = _point(m[0], "end")
        return Period(end=day, as_of=day, label=f"as of {day}")
    if m := re.search(rf"\b({MONTH})\.?,?\s+(\d{{4}})\b", t):
        year, month = _year(m[2]), MONTHS[m[1]]
        end = _last_day(year, month)
        return Period(date(year, month, 1), end, end, f"{calendar.month_name[month]} {year}")
    if m := re.search(r"\bfy\s*'?(\d{4}|\d{2})\b", t):
        year = _short_year(m[1])
        return Period(date(year, 1, 1), date(year, 12, 31), date(year, 12, 31), str(year))
    if m := IN_YEAR.search(t):
        year = _year(m[1] or m[2])
        return Period(date(year, 1, 1), date(year, 12, 31), date(year, 12, 31), str(year))
    if m := re.search(r"(?<![\d.$])\b(19[0-9]{2}|20[0-9]{2})\b(?![\d.%])", t):
        year = _year(m[1])
        return Period(date(year, 1, 1), date(year, 12, 31), date(year, 12, 31), str(year))
    if re.search(r"\blong[- ]?(?:term|run|haul)\b", t):
        return _back(a, 10, "year", said="ten")  # "the better long-term hold"
    if m := re.search(
        rf"\b{COUNT}\s*(years?|yrs?|months?)\b(?!\s*(?:ago|back|moving|average|ma\b|sma|ema|rsi|window|treasury|bond|note|yield|old|from|later))",
        t,
    ):
        return _back(a, _count(m[1]), _unit(m[2]), said=m[1])  # "KO vs PEP 10 years"
    if re.search(
        r"\b(?:move[sd]?|moving|do|did|doing|change[sd]?|up|down|gain\w*|lose|lost|fall|fell|"
        r"drop\w*|rise|rose)\b.{0,30}\b(?:today|yesterday|on the day|last (?:trading )?"
        r"(?:day|session))\b|\blast (?:trading )?(?:day|session)\b",
        t,
    ):  # "how much did AAPL move on the last trading day": that day's move
        return Period(a, a, a, f"the last trading day ({a})")
    if re.search(
        r"\b(?:today|now|right now|currently|current|latest|at the moment|these days|"
        r"yesterday|last close|most recent)\b",
        re.sub(r"^\W*(?:(?:and|ok(?:ay)?|so|then|now)\b\W*)+", "", t),  # "now try it with ..."
    ):
        return Period(end=None, label=f"the latest data ({a})")
    return NO_PERIOD


def _range(start: date, end: date) -> Period:
    return Period(start, end, end, f"{start} to {end}")


def _back(anchor: date, n: int, unit: str, said: str | None = None) -> Period:
    """The ``n`` units to ``anchor``; the label counts as the question did ("the last
    five years", "the past decade"), so the answer adds no number the user did not say."""
    if unit == "year":
        start = _years_back(anchor, n)
    elif unit == "quarter":
        start = _months_back(anchor, 3 * n)
    elif unit == "month":
        start = _months_back(anchor, n)
    else:
        start = anchor - timedelta(weeks=n) if unit == "week" else anchor - timedelta(days=n)
    if said in ("decade", "half year"):
        label = f"the past {said} to {anchor}"
    elif n == 1:
        label = f"the {unit} to {anchor}" if unit == "year" else f"the last {unit} to {anchor}"
    else:
        label = f"the last {said or n} {unit}s to {anchor}"
    return Period(start, anchor, anchor, label)


def with_default(period: Period, anchor: date, years: int = 1) -> Period:
    """A question that names no period looks at the last ``years`` year(s) to the anchor
    (a whole history quoted as "the return" misleads)."""
    if not period.empty:
        return period
    return replace(_back(anchor, years, "year"), as_of=None)


PIN = re.compile(
    rf"^\s*(?:as of|as at|as it stood on|pretend (?:it's|it is|today is))\s+({POINT})(?![\d/.-])|"
    rf"\b(?:as of|as at)\s+({POINT})\s*[?.!]*\s*$"
)


def pinned_date(question: str) -> date | None:
    """The date a question pins itself to ("as of March 1 2020, ..."): its tools then see
    nothing later. A month or a year pins to its last day."""
    m = PIN.search(question.lower().replace("’", "'"))
    if not m:
        return None
    try:
        day = _point(m[1] or m[2], "end")
    except (DateError, ValueError):
        return None
    return day if day <= date.today() else None  # a future date pins nothing
