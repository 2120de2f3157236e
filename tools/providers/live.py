"""Prices on demand: the store, refreshed from a live provider when a tool needs more.

:class:`LivePrices` is one per process and store: the provider, its circuit breaker,
and a lock per symbol so that two questions about NVDA fetch it once. :class:`PriceView`
is what one tool call reads through. It has the store's reading methods, and before a
symbol is read it

* clips every read to the view's ``as_of`` (a conversation pinned to a date sees no
  bar after it, and no fetch asks for one);
* fetches the symbol when the store lacks it, or when its last bar is older than the
  last completed NYSE session (by then the provider has a newer close), and merges it
  in;
* keeps, in plain sentences, what the answer must say: where a refresh failed, or that
  the data is older than the last trading day and nothing could refresh it.

A failing provider costs one call at most one timeout: after the first failure the view
stops asking for the rest of the call, and the breaker stops everyone after a few.
Only data the store may replace is refreshed: the bundled sample and provider data.
A user's imported file is never overwritten; its age is said instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from time import monotonic

import pandas as pd
from pydantic import BaseModel

from tools.errors import (
    NoDataError,
    ProviderError,
    RateLimitedError,
    ToolError,
    UnknownSymbolError,
)
from tools.market_data import (
    SAMPLE_SOURCE,
    PriceFrame,
    PriceStore,
    SymbolInfo,
    check_range,
    normalise_symbol,
)
from tools.price_files import validate_prices
from tools.providers import PriceProvider
from tools.providers.breaker import BreakerStatus, CircuitBreaker
from tools.providers.calendar import is_stale

LIVE_SOURCES = frozenset({"yfinance", "alpaca"})
RETRY_SECONDS = 60.0
QUIET_SECONDS = 20.0
"""After a failure the provider is not asked about any symbol for this long."""


def splice(store: PriceStore, info: SymbolInfo | None, fresh: pd.DataFrame) -> pd.DataFrame:
    """The provider's bars, preceded by the stored history they do not reach (a provider
    may keep fewer years than the bundled sample: Alpaca starts in 2016). The older part is
    scaled so that its close meets the provider's on their first common day, as adjusted
    prices are spliced; without a common day it is joined as it is."""
    if info is None or info.start >= fresh.index[0].date():
        return fresh
    old = store.load(info.symbol).frame
    price = old["close"] if "close" in old.columns else old["adj_close"]
    common = fresh.index.intersection(price.index)
    ratio = float(fresh.loc[common[0], "close"] / price.loc[common[0]]) if len(common) else 1.0
    earlier = price[price.index < fresh.index[0]] * ratio
    history = pd.DataFrame({"close": earlier})
    for column in ("open", "high", "low"):
        if column in old.columns:
            history[column] = old.loc[earlier.index, column] * ratio
    if "volume" in old.columns:
        history["volume"] = old.loc[earlier.index, "volume"]
    return pd.concat([history, fresh]).sort_index()


class RefreshStatus(StrEnum):
    FRESH = "fresh"
    """The store already holds the last completed session (or the pinned date)."""
    FETCHED = "fetched"
    NOTHING_NEW = "nothing_new"
    """The provider was asked and had no newer bar."""
    FAILED = "failed"
    KEPT = "kept"
    """The data came from the user's own file: it is not replaced."""
    OFFLINE = "offline"
    """No provider is configured."""


class Refresh(BaseModel):
    """What became of one symbol's refresh: shown as a step of the turn."""

    symbol: str
    provider: str
    status: RefreshStatus
    bars: int = 0
    end: date | None = None
    message: str = ""


class LivePrices:
    """A provider behind a breaker, writing into one store."""

    def __init__(
        self,
        store: PriceStore,
        provider: Callable[[], PriceProvider],
        name: str,
        breaker: CircuitBreaker,
        *,
        clock: Callable[[], datetime] | None = None,
        quiet_seconds: float = QUIET_SECONDS,
        deadline_seconds: float = 10.0,
    ) -> None:
        self.store, self.name, self.breaker = store, name, breaker
        self.quiet_seconds, self.deadline_seconds = quiet_seconds, deadline_seconds
        self._calls = ThreadPoolExecutor(4, thread_name_prefix=f"{name}-fetch")
        """A fetch runs here and is waited for at most ``deadline_seconds``, whatever the
        client library does with its timeouts (yfinance retries and fetches cookies)."""
        self._make_provider, self._provider = provider, None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._nothing_new: dict[str, date] = {}
        """symbol -> the day the provider had nothing newer for it (not asked again that day)."""
        self._fetched: dict[str, tuple[float, Refresh]] = {}
        """symbol -> a fetch not yet shown to anyone (made while a question was planned)."""
        self._failed_at: dict[str, tuple[float, str]] = {}
        self._last_failure: tuple[float, str] | None = None
        """symbol -> (when, why) its last fetch failed: not asked again for a while, so a
        question's planning and its tools do not each wait on a provider that is down."""

    def status(self) -> BreakerStatus:
        return self.breaker.status()

    def needs(self, info: SymbolInfo | None, as_of: date | None) -> bool:
        """Whether the store lacks bars the provider could have."""
        if info is None:
            return True
        if as_of is not None:
            return info.end < as_of and is_stale(info.end, datetime.combine(as_of, time(23, 59)))
        return is_stale(info.end, self._clock())

    def refresh(self, symbol: str, as_of: date | None = None) -> Refresh:
        """Bring ``symbol`` up to the last session (or ``as_of``); never raises a provider
        failure: it is the outcome's message."""
        with self._guard:
            lock = self._locks.setdefault(symbol, threading.Lock())
        with lock:  # a second caller waits, then finds the store fresh
            info = self.store.info(symbol) if self.store.exists(symbol) else None
            if not self.needs(info, as_of):
                return Refresh(symbol=symbol, provider=self.name, status=RefreshStatus.FRESH)
            if info is not None and info.source not in LIVE_SOURCES | {SAMPLE_SOURCE}:
                return Refresh(
                    symbol=symbol, provider=self.name, status=RefreshStatus.KEPT, end=info.end
                )
            day = as_of or self._clock().date()
            if info is not None and self._nothing_new.get(symbol) == day:
                return Refresh(
                    symbol=symbol,
                    provider=self.name,
                    status=RefreshStatus.NOTHING_NEW,
                    end=info.end,
                )
            failed = self._failed_at.get(symbol)
            if failed is not None and monotonic() - failed[0] < RETRY_SECONDS:
                return self._failed(symbol, info, failed[1], remember=False)
            last = self._last_failure
            if last is not None and monotonic() - last[0] < self.quiet_seconds:
                # the provider failed a moment ago (for another symbol): a question about
                # several stocks waits on one timeout, not one per stock
                return self._failed(symbol, info, last[1], remember=False)
            if not self.breaker.allow():
                wait = self.breaker.status().retry_in_seconds
                return self._failed(
                    symbol, info, f"{self.name} is paused after failing; next try in {wait:.0f} s"
                )
            return self._fetch(symbol, info, as_of)

    def _fetch(self, symbol: str, info: SymbolInfo | None, as_of: date | None) -> Refresh:
        same = info is not None and info.source == self.name
        start = info.end + timedelta(days=1) if same else None
        try:
            if self._provider is None:
                self._provider = self._make_provider()
            call = self._calls.submit(self._provider.fetch, symbol, start, as_of)
            try:
                raw = call.result(timeout=self.deadline_seconds)
            except FutureTimeout:
                raise ProviderError(
                    f"{self.name} did not answer within {self.deadline_seconds:g} s"
                ) from None
        except RateLimitedError as exc:
            self.breaker.failure(str(exc), retry_after=exc.retry_after, rate_limited=True)
            return self._failed(symbol, info, str(exc))
        except ProviderError as exc:
            self.breaker.failure(str(exc))
            return self._failed(symbol, info, str(exc))
        self.breaker.success()
        if as_of is not None and not raw.empty:
            raw = raw[raw["date"] <= datetime.combine(as_of, time())]
        if raw.empty:
            self._nothing_new[symbol] = as_of or self._clock().date()
            if info is None:
                raise UnknownSymbolError(f"{self.name} has no prices for {symbol}")
            return Refresh(
                symbol=symbol, provider=self.name, status=RefreshStatus.NOTHING_NEW, end=info.end
            )
        try:
            frame = validate_prices(raw, f"{self.name} {symbol}")
        except ToolError as exc:
            self.breaker.failure(str(exc))
            return self._failed(symbol, info, f"{self.name} sent unusable prices: {exc}")
        if same:
            stored = self.store.merge(symbol, frame, self.name)
        else:
            stored = self.store.save(
                symbol, splice(self.store, info, frame), self.name, replace=True
            )
        self._nothing_new.pop(symbol, None)
        self._failed_at.pop(symbol, None)
        self._last_failure = None
        outcome = Refresh(
            symbol=symbol,
            provider=self.name,
            status=RefreshStatus.FETCHED,
            bars=len(frame),
            end=stored.end,
        )
        self._fetched[symbol] = (monotonic(), outcome)
        return outcome

    def unshown_fetch(self, symbol: str, within: float = 60.0) -> Refresh | None:
        """A fetch of ``symbol`` made moments ago that no tool call has reported yet (the
        offline planner fetches what a question names before reading its dates): the
        first call that reads the symbol shows it as its step."""
        with self._guard:
            found = self._fetched.pop(symbol, None)
        if found is not None and monotonic() - found[0] <= within:
            return found[1]
        return None

    def _failed(
        self, symbol: str, info: SymbolInfo | None, why: str, *, remember: bool = True
    ) -> Refresh:
        if remember:
            self._failed_at[symbol] = self._last_failure = (monotonic(), why)
        if info is None:
            raise UnknownSymbolError(
                f"no stored prices for {symbol}, and they could not be fetched: {why}"
            )
        return Refresh(
            symbol=symbol,
            provider=self.name,
            status=RefreshStatus.FAILED,
            end=info.end,
            message=why,
        )


class PriceView:
    """The store as one tool call sees it: clipped to ``as_of``, refreshed by ``live``.

    It has the reading methods of :class:`PriceStore`, so every tool function takes it
    where it took the store.
    """

    def __init__(
        self,
        store: PriceStore,
        live: LivePrices | None = None,
        *,
        as_of: date | None = None,
        on_refresh: Callable[[Refresh], None] | None = None,
        today: Callable[[], datetime] | None = None,
    ) -> None:
        self.store, self.live, self.as_of = store, live, as_of
        self.on_refresh = on_refresh
        self._today = today or (lambda: datetime.now(UTC))
        self.refreshes: dict[str, Refresh] = {}
        self._failure: str | None = None
        """The first failure of this view: later symbols are not tried (one timeout at most)."""

    # -- the store's reading methods, as of the view's date --------------------------------

    @property
    def root(self):
        return self.store.root

    def symbols(self) -> list[str]:
        if self.as_of is None:
            return self.store.symbols()
        return [s for s in self.store.symbols() if self.store.info(s).start <= self.as_of]

    def list(self) -> list[SymbolInfo]:
        return [self.info(s) for s in self.symbols()]

    def exists(self, symbol: str) -> bool:
        if not self.store.exists(symbol):
            return False
        return self.as_of is None or self.store.info(symbol).start <= self.as_of

    def info(self, symbol: str) -> SymbolInfo:
        self._ensure(symbol, None)
        info = self.store.info(symbol)
        if self.as_of is None or info.end <= self.as_of:
            return info
        frame = self.load(symbol)
        return info.model_copy(update={"end": frame.as_of, "bars": len(frame.frame)})

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> PriceFrame:
        check_range(start, end)
        if self.as_of is not None:
            if start is not None and start > self.as_of:
                raise NoDataError(
                    f"no {normalise_symbol(symbol)} prices after {self.as_of}: this "
                    f"conversation is pinned to {self.as_of}, and {start} is later"
                )
            end = min(end, self.as_of) if end is not None else self.as_of
        self._ensure(symbol, end)
        return self.store.load(symbol, start, end)

    # -- refreshing --------------------------------------------------------------------------

    def _ensure(self, symbol: str, end: date | None) -> None:
        """Refresh ``symbol`` when the read needs bars the store may lack: the latest ones
        (no ``end``, or the pinned date), or any after the store's last day."""
        symbol = normalise_symbol(symbol)
        if symbol in self.refreshes:
            return
        if (
            end is not None
            and end != self.as_of
            and self.store.exists(symbol)
            and end < self.store.info(symbol).end
        ):
            return  # a past window inside the stored data: nothing newer is needed
        if self.live is None or self._failure is not None:
            info = self.store.info(symbol) if self.store.exists(symbol) else None
            offline = self.live is None
            if info is not None and self._stale(info):
                status = RefreshStatus.OFFLINE if offline else RefreshStatus.FAILED
                self.refreshes[symbol] = Refresh(
                    symbol=symbol,
                    provider=self.live.name if self.live else "none",
                    status=status,
                    end=info.end,
                    message=self._failure or "",
                )
            return
        outcome = self.live.refresh(symbol, self.as_of)
        shown = self.live.unshown_fetch(symbol)  # this call reports it now, nobody else
        if outcome.status in (RefreshStatus.FRESH, RefreshStatus.NOTHING_NEW):
            outcome = shown or outcome
        self.refreshes[symbol] = outcome
        if outcome.status is RefreshStatus.FAILED:
            self._failure = outcome.message
        if outcome.status is not RefreshStatus.FRESH and self.on_refresh is not None:
            self.on_refresh(outcome)

    def _stale(self, info: SymbolInfo) -> bool:
        if self.as_of is not None:
            return info.end < self.as_of and is_stale(
                info.end, datetime.combine(self.as_of, time(23, 59))
            )
        return is_stale(info.end, self._today())

    def notes(self) -> list[str]:
        """Sentences the answer must carry about the data's freshness, one per kind."""
        groups: dict[tuple[RefreshStatus, str], list[Refresh]] = {}
        for outcome in self.refreshes.values():
            if outcome.status in (
                RefreshStatus.FAILED,
                RefreshStatus.OFFLINE,
                RefreshStatus.KEPT,
                RefreshStatus.NOTHING_NEW,
            ):
                groups.setdefault((outcome.status, outcome.message), []).append(outcome)
        notes = []
        for (status, message), outcomes in groups.items():
            symbols = [o.symbol for o in outcomes]
            # a screen of the whole store: a count reads better than 21 tickers
            names = _names(symbols) if len(symbols) <= MAX_NAMED else f"{len(symbols)} symbols"
            ends = _names(sorted({str(o.end) for o in outcomes}))
            later = "the pinned date" if self.as_of else "the last trading day"
            if status is RefreshStatus.OFFLINE:
                notes.append(
                    f"The stored prices of {names} end {ends}, before {later}, and no price "
                    "provider is configured to refresh them."
                )
            elif status is RefreshStatus.NOTHING_NEW:
                notes.append(
                    f"The prices of {names} end {ends}; {outcomes[0].provider} had nothing newer."
                )
            elif status is RefreshStatus.KEPT:
                notes.append(
                    f"The prices of {names} come from an imported file and end {ends}; "
                    "imported data is not refreshed from a provider."
                )
            else:
                notes.append(
                    f"The prices of {names} could not be refreshed ({message}); the stored "
                    f"data, which ends {ends}, is used."
                )
        return notes


MAX_NAMED = 6
"""Beyond this many symbols, a freshness note counts them instead of naming each."""


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
