"""Calendar days as requests carry them: ``YYYY-MM-DD`` between 1900 (before any stored
data, and inside what pandas can represent) and 2100, or today for a day that must
already have happened. The JSON schema states the same bounds as a pattern, since JSON
Schema has no minimum or maximum for dates: a client, or a fuzzer, that reads the schema
knows which days the server takes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


def calendar_day(value: object) -> object:
    """pydantic would also read a number as seconds since 1970, which the schema does not
    promise and no person means."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def not_future(day: date | None) -> date | None:
    if day is not None and day > date.today():
        raise ValueError(f"{day} is in the future: nothing is known on it yet")
    return day


def _between(lo: str, hi: str) -> list[str]:
    """Regex alternatives for the strings of ``lo``'s shape (digits, and dashes where
    ``lo`` has them) from ``lo`` to ``hi`` inclusive."""
    if lo == hi:
        return [lo]
    if lo[0] == hi[0]:
        return [lo[0] + rest for rest in _between(lo[1:], hi[1:])]
    tail = lo[1:]
    nines = "".join("-" if c == "-" else "9" for c in tail)
    zeros = "".join("-" if c == "-" else "0" for c in tail)
    any_tail = "".join("-" if c == "-" else r"\d" for c in tail)
    low, high = int(lo[0]), int(hi[0])
    out = [lo[0] + rest for rest in _between(tail, nines)] if tail != zeros else [lo[0] + any_tail]
    if high - low > 1:
        middle = str(low + 1) if high - low == 2 else f"[{low + 1}-{high - 1}]"
        out.append(middle + any_tail)
    out += [hi[0] + any_tail] if hi[1:] == nines else [hi[0] + r for r in _between(zeros, hi[1:])]
    return out


def day_pattern(first: date, last: date) -> str:
    """A regex for ``YYYY-MM-DD`` strings from ``first`` to ``last`` (the month's and
    day's validity is the ``date`` format's)."""
    lo, hi = first.isoformat(), last.isoformat()
    # only valid dates reach the pattern: a year's first day may stand for its whole
    # lower end, its last day for the upper (shorter alternatives, same days)
    lo = lo[:4] + "-00-00" if lo.endswith("-01-01") else lo
    hi = hi[:4] + "-99-99" if hi.endswith("-12-31") else hi
    return "^(" + "|".join(_between(lo, hi)) + ")$"


class DaySchema:
    """Adds the pattern to a day's JSON schema; ``last=None`` is today (when the schema
    is generated: :func:`api.app.create_app` renews the schema each day)."""

    def __init__(self, first: date = FIRST_DAY, last: date | None = LAST_DAY) -> None:
        self.first, self.last = first, last

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema["pattern"] = day_pattern(self.first, self.last or date.today())
        return schema


Day = Annotated[
    date,
    Field(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD"),  # first: errors say 1900-01-01
    BeforeValidator(calendar_day),
    DaySchema(),
]
"""A day a request names: 1900-01-01 to 2100-12-31."""
PastDay = Annotated[
    date,
    Field(ge=FIRST_DAY, description="YYYY-MM-DD, not after today"),
    BeforeValidator(calendar_day),
    AfterValidator(not_future),
    DaySchema(last=None),
]
"""A day that has happened: 1900-01-01 to today (an as-of date)."""
