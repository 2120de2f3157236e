"""The local market-data store: one Parquet table per symbol under ``<data dir>/prices``.

Tables hold the columns ``date, open, high, low, close, adj_close, volume`` that the
source actually had; missing columns stay missing rather than being invented, so a
close-only symbol can never masquerade as OHLCV. Writes are atomic (temp file +
rename), so an interrupted import never leaves a half-written table.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from tools.errors import (
    DataExistsError,
    InvalidInputError,
    NoDataError,
    UnknownSymbolError,
)

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close")
DATA_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
SAMPLE_SOURCE = "skfolio S&P 500 sample (adjusted close)"
SAMPLE_INDEX_SYMBOL = "SPX"
_META_KEY = b"market_assistant"

if TYPE_CHECKING:  # imported where used: listing the store needs neither pandas nor tables
    import pandas as pd

_SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,19}$")


class SymbolInfo(BaseModel):
    """What the store holds for one symbol."""

    symbol: str
    start: date
    end: date
    bars: int
    columns: list[str] = Field(description="Data columns present besides date.")
    source: str


@dataclass(frozen=True)
class PriceFrame:
    """Prices of one symbol: a DataFrame indexed by date with the columns it really has."""

    symbol: str
    source: str
    frame: pd.DataFrame

    @property
    def price_column(self) -> str:
        """``close`` when OHLCV was imported, otherwise the adjusted close."""
        return "close" if "close" in self.frame.columns else "adj_close"

    @property
    def price(self) -> pd.Series:
        return self.frame[self.price_column]

    def missing(self, *columns: str) -> list[str]:
        return [c for c in columns if c not in self.frame.columns]

    @property
    def as_of(self) -> date:
        return self.frame.index[-1].date()


def normalise_symbol(symbol: str) -> str:
    """Upper-case and validate a ticker so it is also a safe file name."""
    cleaned = symbol.strip().upper()
    if not _SYMBOL_RE.match(cleaned):
        raise InvalidInputError(
            f"invalid symbol {symbol!r}: use letters, digits and . - = ^ (at most 20 characters)"
        )
    return cleaned


EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)
"""Dates a question may name (pandas cannot represent much beyond them either)."""


def check_range(start: date | None, end: date | None) -> None:
    for name, day in (("start", start), ("end", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInputError(f"{name} {day} is outside {EARLIEST} to {LATEST}")
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"start {start} is after end {end}")


class PriceStore:
    """Parquet-backed price tables under one directory.

    Decoded tables are kept in memory, keyed by the file's identity (inode, size,
    mtime), because every tool call reads one and decoding Parquet costs more than the
    indicators computed from it. A table replaced by any process (writes are atomic
    renames) has a new identity, so a stale copy is never served. Frames are shared:
    pandas copy-on-write keeps callers from changing each other's data.
    """

    CACHE_TABLES = 64

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tables: OrderedDict[Path, tuple[tuple[int, int, int], SymbolInfo, pd.DataFrame]]
        self._tables = OrderedDict()
        self._lock = threading.Lock()

    def path(self, symbol: str) -> Path:
        return self.root / f"{normalise_symbol(symbol)}.parquet"

    def symbols(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.parquet"))

    def exists(self, symbol: str) -> bool:
        return self.path(symbol).is_file()

    def info(self, symbol: str) -> SymbolInfo:
        import pyarrow.parquet as pq

        path = self._existing_path(symbol)
        meta = pq.read_schema(path).metadata or {}
        return SymbolInfo.model_validate_json(meta[_META_KEY])

    def list(self) -> list[SymbolInfo]:
        return [self.info(s) for s in self.symbols()]

    def load(self, symbol: str, start: date | None = None, end: date | None = None) -> PriceFrame:
        """Prices of ``symbol`` within ``[start, end]`` (either bound optional).

        Raises a clear error for an unknown symbol, an inverted range or a range the
        stored data does not reach.
        """
        import pandas as pd

        check_range(start, end)
        info, frame = self._table(symbol)
        window = frame.loc[
            pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None
        ]
        if window.empty:
            raise NoDataError(
                f"no {info.symbol} prices between {start or 'the beginning'} and "
                f"{end or 'the end'}: the store covers {info.start} to {info.end}"
            )
        return PriceFrame(symbol=info.symbol, source=info.source, frame=window)

    def save(
        self, symbol: str, frame: pd.DataFrame, source: str, *, replace: bool = False
    ) -> SymbolInfo:
        """Write a validated frame (date index, data columns) as the symbol's table."""
        symbol = normalise_symbol(symbol)
        if self.exists(symbol) and not replace:
            old = self.info(symbol)
            raise DataExistsError(
                f"{symbol} already has data ({old.start} to {old.end}, {old.source}); "
                "pass --replace to overwrite it"
            )
        return self._write(symbol, frame, source)

    def merge(self, symbol: str, frame: pd.DataFrame, source: str) -> SymbolInfo:
        """Add rows from the same source; new rows win on overlapping dates."""
        import pandas as pd

        symbol = normalise_symbol(symbol)
        if self.exists(symbol):
            old = self.info(symbol)
            if old.source != source:
                raise DataExistsError(
                    f"{symbol} holds data from {old.source!r}, not {source!r}; "
                    "pass --replace to overwrite it"
                )
            existing = pd.read_parquet(self.path(symbol)).set_index("date")
            frame = pd.concat([existing[~existing.index.isin(frame.index)], frame]).sort_index()
        return self._write(symbol, frame, source)

    def delete(self, symbol: str) -> None:
        self._existing_path(symbol).unlink()

    def _table(self, symbol: str) -> tuple[SymbolInfo, pd.DataFrame]:
        import pyarrow.parquet as pq

        path = self._existing_path(symbol)
        st = path.stat()
        identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            hit = self._tables.get(path)
            if hit is not None and hit[0] == identity:
                self._tables.move_to_end(path)
                return hit[1], hit[2]
        table = pq.read_table(path)
        info = SymbolInfo.model_validate_json((table.schema.metadata or {})[_META_KEY])
        frame = table.to_pandas().set_index("date")
        with self._lock:
            self._tables[path] = (identity, info, frame)
            while len(self._tables) > self.CACHE_TABLES:
                self._tables.popitem(last=False)
        return info, frame

    def _existing_path(self, symbol: str) -> Path:
        path = self.path(symbol)
        if not path.is_file():
            known = self.symbols()
            hint = (
                f"known symbols: {', '.join(known[:30])}{' ...' if len(known) > 30 else ''}"
                if known
                else "the store is empty: run `assistant data load-sample` or `data import`"
            )
            raise UnknownSymbolError(f"unknown symbol {normalise_symbol(symbol)!r}; {hint}")
        return path

    def _write(self, symbol: str, frame: pd.DataFrame, source: str) -> SymbolInfo:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = [c for c in DATA_COLUMNS if c in frame.columns]
        if frame.empty:
            raise NoDataError(f"no rows to store for {symbol}")
        data = frame[columns].copy()
        data.index = pd.DatetimeIndex(data.index, name="date").as_unit("ns")
        info = SymbolInfo(
            symbol=symbol,
            start=data.index[0].date(),
            end=data.index[-1].date(),
            bars=len(data),
            columns=columns,
            source=source,
        )
        table = pa.Table.from_pandas(data.reset_index(), preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: info.model_dump_json().encode()}
        )
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".parquet.tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, self.path(symbol))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return info


class SampleLoadReport(BaseModel):
    """What `load_sample` wrote and what it left alone."""

    loaded: list[SymbolInfo]
    skipped: dict[str, str] = Field(default_factory=dict, description="symbol -> why")


def sample_frames() -> Iterable[tuple[str, pd.DataFrame]]:
    """The bundled real data: 20 S&P 500 stocks and the index, adjusted close, 1990–2022."""
    import pandas as pd
    from skfolio.datasets import load_sp500_dataset, load_sp500_index

    stocks = load_sp500_dataset()
    index = load_sp500_index()
    series = [(str(c), stocks[c]) for c in stocks.columns]
    series.append((SAMPLE_INDEX_SYMBOL, index.iloc[:, 0]))
    for symbol, values in series:
        clean = values.dropna().astype("float64")
        frame = pd.DataFrame({"adj_close": clean.to_numpy()}, index=pd.DatetimeIndex(clean.index))
        yield symbol, frame


def load_sample(
    store: PriceStore,
    *,
    replace: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> SampleLoadReport:
    """Write the sample into the store; re-running refreshes only sample-sourced tables.

    A symbol the user imported from elsewhere is kept unless ``replace`` is set.
    """
    frames = list(sample_frames())
    report = SampleLoadReport(loaded=[])
    for i, (symbol, frame) in enumerate(frames, start=1):
        if store.exists(symbol) and not replace and store.info(symbol).source != SAMPLE_SOURCE:
            report.skipped[symbol] = (
                f"kept existing data from {store.info(symbol).source!r} (use --replace)"
            )
        else:
            report.loaded.append(store.save(symbol, frame, SAMPLE_SOURCE, replace=True))
        if progress:
            progress(symbol, i, len(frames))
    return report
