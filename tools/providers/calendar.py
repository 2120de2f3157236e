"""The exchange's calendar: which day's close is the latest a store can hold.

Prices are "stale" when the store's last bar is older than the last completed NYSE
session (a Saturday question about Friday's close is fresh; a Tuesday question after a
Monday holiday wants Friday's). ``exchange-calendars`` knows the holidays; importing it
costs about a second, so it is imported only when a gap is short enough for a holiday
to matter (no NYSE closure has lasted more than four weekdays since 2001).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from functools import cache

CERTAINLY_STALE_DAYS = 7
"""A gap this long (in calendar days) contains a completed session whatever the holidays."""

_lock = threading.Lock()


@cache
def _calendar():
    import exchange_calendars

    today = date.today()
    return exchange_calendars.get_calendar(
        "XNYS",
        start=(today - timedelta(days=400)).isoformat(),
        end=(today + timedelta(days=400)).isoformat(),
    )


def last_session(now: datetime | None = None) -> date:
    """The date of the last NYSE session that had closed at ``now`` (default: now)."""
    import pandas as pd

    moment = pd.Timestamp(now or datetime.now(UTC))
    if moment.tzinfo is None:
        moment = moment.tz_localize(UTC)
    with _lock:
        calendar = _calendar()
    try:
        close = calendar.previous_close(moment)
    except ValueError:  # outside the calendar's years: weekdays are sessions
        day = moment.date()
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day
    return close.tz_convert("America/New_York").date()


def is_stale(last_bar: date, now: datetime | None = None) -> bool:
    """Whether a session closed after ``last_bar``: the store could hold a newer close."""
    today = (now or datetime.now(UTC)).date()
    if (today - last_bar).days > CERTAINLY_STALE_DAYS:
        return True
    return last_bar < last_session(now)
