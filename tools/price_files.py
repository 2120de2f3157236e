"""Reading and validating user price files (CSV or Parquet) before they reach the store.

Validation is strict because a silently wrong price poisons every indicator, backtest
and order check built on it: each problem is reported with the file and the 1-based
data row (CSV also gives the line, counting the header as line 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tools.errors import ImportValidationError
from tools.market_data import DATA_COLUMNS, PRICE_COLUMNS, normalise_symbol

_ALIASES: dict[str, str] = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "time": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj close": "adj_close",
    "adj_close": "adj_close",
    "adjclose": "adj_close",
    "adjusted close": "adj_close",
    "adjusted_close": "adj_close",
    "volume": "volume",
    "symbol": "symbol",
    "ticker": "symbol",
}


@dataclass(frozen=True)
class ParsedPrices:
    """One symbol's validated rows, ready for the store."""

    symbol: str
    frame: pd.DataFrame
    ignored_columns: list[str]


def read_price_file(path: Path, symbol: str | None = None) -> list[ParsedPrices]:
    """Parse and validate ``path``; one result per symbol in the file.

    The symbol comes from ``symbol``, else a ``symbol``/``ticker`` column, else the
    file name (``AAPL.csv`` -> ``AAPL``).
    """
    path = Path(path)
    if not path.is_file():
        raise ImportValidationError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix in {".parquet", ".pq"}:
            raw = pd.read_parquet(path)
        else:
            raise ImportValidationError(
                f"{path}: unsupported file type {suffix!r}; use .csv or .parquet"
            )
    except ImportValidationError:
        raise
    except Exception as exc:  # any parser failure is a file problem, reported as such
        raise ImportValidationError(f"{path.name}: cannot read file: {exc}") from exc
    label = _RowLabel(path.name, csv=suffix == ".csv")
    frame, ignored = _map_columns(raw, path.name)
    if frame.empty:
        raise ImportValidationError(f"{path.name}: the file has no data rows")

    if "symbol" in frame.columns and symbol is None:
        symbols = frame["symbol"].astype(str).str.strip()
        blank = np.flatnonzero(symbols.eq("").to_numpy())
        if blank.size:
            raise ImportValidationError(f"{label(blank[0])}: missing symbol")
        groups = {s: frame[symbols == s] for s in dict.fromkeys(symbols)}
    else:
        groups = {symbol or path.stem: frame}

    parsed = []
    for name, rows in groups.items():
        try:
            sym = normalise_symbol(str(name))
        except ValueError as exc:
            raise ImportValidationError(f"{path.name}: {exc}") from exc
        parsed.append(
            ParsedPrices(
                symbol=sym,
                frame=_validate_rows(rows.drop(columns="symbol", errors="ignore"), label),
                ignored_columns=ignored,
            )
        )
    return parsed


class _RowLabel:
    """Names a row the way a person finds it in the file."""

    def __init__(self, name: str, *, csv: bool) -> None:
        self.name, self.csv = name, csv

    def __call__(self, position: int) -> str:
        row = int(position) + 1
        return f"{self.name} row {row}" + (f" (line {row + 1})" if self.csv else "")


def _map_columns(raw: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    if raw.index.name is not None and raw.index.name.strip().lower() in _ALIASES:
        raw = raw.reset_index()  # Parquet written from a date-indexed DataFrame
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for column in raw.columns:
        key = _ALIASES.get(str(column).strip().lower())
        if key is None:
            ignored.append(str(column))
        elif key in mapping.values():
            raise ImportValidationError(f"{name}: more than one column maps to {key!r}")
        else:
            mapping[column] = key
    found = set(mapping.values())
    if "date" not in found:
        raise ImportValidationError(
            f"{name}: no date column; expected one of date, datetime, timestamp "
            f"(found: {', '.join(map(str, raw.columns)) or 'none'})"
        )
    if not found & {"close", "adj_close"}:
        raise ImportValidationError(f"{name}: needs a close or adj_close column")
    return raw[list(mapping)].rename(columns=mapping).reset_index(drop=True), ignored


def validate_prices(rows: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Validate rows already in store column names (e.g. from a provider), named ``origin``."""
    return _validate_rows(rows.reset_index(drop=True), _RowLabel(origin, csv=False))


def _validate_rows(rows: pd.DataFrame, label: _RowLabel) -> pd.DataFrame:
    positions = rows.index.to_numpy()  # positions in the original file
    dates = _parse_dates(rows["date"], positions, label)

    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    for column in (c for c in DATA_COLUMNS if c in rows.columns):
        raw = rows[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            shown = raw.iloc[bad[0]]
            problem = (
                "is missing"
                if pd.isna(shown) or str(shown).strip() == ""
                else f"{shown!r} is not a number"
            )
            raise ImportValidationError(f"{label(positions[bad[0]])}: {column} {problem}")
        nonpositive = (
            np.flatnonzero(values <= 0) if column in PRICE_COLUMNS else np.flatnonzero(values < 0)
        )
        if nonpositive.size:
            i = nonpositive[0]
            rule = (
                "prices must be positive"
                if column in PRICE_COLUMNS
                else "volume cannot be negative"
            )
            raise ImportValidationError(f"{label(positions[i])}: {column} is {values[i]:g}; {rule}")
        out[column] = values

    day = out.index.to_numpy()
    duplicated = pd.Index(day).duplicated()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        first = int(np.flatnonzero(day == day[i])[0])
        raise ImportValidationError(
            f"{label(positions[i])}: duplicate date {out.index[i].date()} "
            f"(also at {label(positions[first]).split(' ', 1)[1]})"
        )
    backwards = np.flatnonzero(day[1:] < day[:-1])
    if backwards.size:
        i = int(backwards[0]) + 1
        raise ImportValidationError(
            f"{label(positions[i])}: date {out.index[i].date()} comes before the previous "
            f"row's {out.index[i - 1].date()}; rows must be sorted by date, oldest first"
        )
    if {"high", "low"} <= set(out.columns):
        _check_ranges(out, positions, label)
    return out


def _parse_dates(column: pd.Series, positions: np.ndarray, label: _RowLabel) -> pd.DatetimeIndex:
    try:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    except (ValueError, OverflowError) as exc:  # out of pandas' range, or mixed time zones
        raise ImportValidationError(_date_problem(column, positions, label, exc)) from None
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        shown = column.iloc[bad[0]]
        raise ImportValidationError(f"{label(positions[bad[0]])}: cannot parse date {shown!r}")
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        index = index.tz_convert(None)
    outside = np.flatnonzero((index.year < 1900) | (index.year > 2100))
    if outside.size:
        shown = column.iloc[outside[0]]
        raise ImportValidationError(
            f"{label(positions[outside[0]])}: date {shown!r} is outside the years 1900 to 2100"
        )
    return index.normalize()


def _date_problem(
    column: pd.Series, positions: np.ndarray, label: _RowLabel, exc: Exception
) -> str:
    """Which row pandas could not take, found one value at a time (only on failure)."""
    if "timezone" in str(exc).lower():
        return "dates mix time zones: use one zone for every row, or plain dates (YYYY-MM-DD)"
    for i, value in enumerate(column):
        try:
            day = pd.Timestamp(value)
        except (ValueError, OverflowError):
            return f"{label(positions[i])}: cannot use date {value!r} (years 1900 to 2100)"
        if not 1900 <= day.year <= 2100:
            return f"{label(positions[i])}: date {value!r} is outside the years 1900 to 2100"
    return f"cannot parse the dates: {exc}"


def _check_ranges(out: pd.DataFrame, positions: np.ndarray, label: _RowLabel) -> None:
    high, low = out["high"].to_numpy(), out["low"].to_numpy()
    inverted = np.flatnonzero(high < low)
    if inverted.size:
        i = inverted[0]
        raise ImportValidationError(
            f"{label(positions[i])}: high {high[i]:g} is below low {low[i]:g}"
        )
    slack = 1e-6 * high  # vendors round adjusted prices; a hair outside is not an error
    for column in ("open", "close"):
        if column not in out.columns:
            continue
        values = out[column].to_numpy()
        outside = np.flatnonzero((values > high + slack) | (values < low - slack))
        if outside.size:
            i = outside[0]
            raise ImportValidationError(
                f"{label(positions[i])}: {column} {values[i]:g} is outside the day's "
                f"low–high range {low[i]:g}–{high[i]:g}"
            )
