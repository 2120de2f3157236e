"""Watchlists per user: named lists of symbols (``default`` when no name is given).

Keyed by the same user ids as risk profiles (``key:…``, ``session:…``, ``slack:U…``,
``local``). A symbol is kept when the store has prices for it or the security master
knows it (a listed security whose prices can be fetched later); anything else is refused
with its name, and nothing is changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, select

from assistant.schema import ensure_schema
from assistant.store import NotFoundError, utcnow
from tools.errors import InvalidInputError, UnknownSymbolError
from tools.market_data import normalise_symbol

DEFAULT = "default"
MAX_SYMBOLS = 100
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
ListName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][\w-]*$")]
"""A watchlist's name as tools and routes take it (stored lowercased)."""


class WatchlistRow(SQLModel, table=True):
    __tablename__ = "watchlists"

    user_id: str = Column(primary_key=True)
    name: str = Column(primary_key=True)
    symbols_json: str = "[]"
    updated_at: datetime = Column(default_factory=utcnow)


class Watchlist(BaseModel):
    name: str
    symbols: list[str] = Field(description="In the order they were added.")
    updated_at: datetime

    def summary(self) -> str:
        return f"{self.name}: {', '.join(self.symbols) or 'empty'}"


def check_name(name: str | None) -> str:
    name = (name or DEFAULT).strip().lower()
    if not NAME.fullmatch(name):
        raise InvalidInputError(
            f"watchlist name {name[:60]!r}: use 1 to 40 letters, digits, '-' or '_'"
        )
    return name


class WatchlistStore:
    def __init__(self, engine: Engine, known: Callable[[str], bool]) -> None:
        """``known``: whether a symbol may be watched (stored prices or a listed security)."""
        self.engine, self.known = engine, known
        ensure_schema(engine)

    def _symbols(self, symbols: list[str]) -> list[str]:
        cleaned = []
        unknown = []
        for raw in symbols:
            try:
                symbol = normalise_symbol(raw)
            except InvalidInputError:  # not even a ticker's shape: no such security
                unknown.append(raw.strip())
                continue
            if symbol not in cleaned:
                cleaned.append(symbol)
        unknown += [s for s in cleaned if not self.known(s)]
        if unknown:
            raise UnknownSymbolError(
                f"unknown symbol{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: neither "
                "stored nor a listed US security (try `assistant data symbols NAME`)"
            )
        return cleaned

    def get(self, user_id: str, name: str | None = None) -> Watchlist | None:
        with Session(self.engine) as s:
            row = s.get(WatchlistRow, (user_id, check_name(name)))
            return _watchlist(row) if row is not None else None

    def all(self, user_id: str) -> list[Watchlist]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(WatchlistRow)
                .where(WatchlistRow.user_id == user_id)
                .order_by(WatchlistRow.name)
            ).all()
            return [_watchlist(r) for r in rows]

    def put(self, user_id: str, name: str | None, symbols: list[str]) -> Watchlist:
        """Replace the list (creating it)."""
        return self._write(user_id, check_name(name), lambda _: self._symbols(symbols))

    def add(self, user_id: str, name: str | None, symbols: list[str]) -> Watchlist:
        new = self._symbols(symbols)
        return self._write(
            user_id, check_name(name), lambda old: old + [s for s in new if s not in old]
        )

    def remove(self, user_id: str, name: str | None, symbols: list[str]) -> Watchlist:
        gone = {normalise_symbol(s) for s in symbols}
        name = check_name(name)
        if self.get(user_id, name) is None:
            raise NotFoundError(f"no watchlist {name!r}")
        return self._write(user_id, name, lambda old: [s for s in old if s not in gone])

    def delete(self, user_id: str, name: str | None) -> bool:
        with Session(self.engine) as s:
            row = s.get(WatchlistRow, (user_id, check_name(name)))
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True

    def _write(self, user_id: str, name: str, change) -> Watchlist:
        with Session(self.engine) as s:
            row = s.get(WatchlistRow, (user_id, name)) or WatchlistRow(user_id=user_id, name=name)
            symbols = change(json.loads(row.symbols_json))
            if len(symbols) > MAX_SYMBOLS:
                raise InvalidInputError(
                    f"a watchlist holds at most {MAX_SYMBOLS} symbols; this would be {len(symbols)}"
                )
            row.symbols_json, row.updated_at = json.dumps(symbols), utcnow()
            s.add(row)
            s.commit()
            s.refresh(row)
            return _watchlist(row)


def _watchlist(row: WatchlistRow) -> Watchlist:
    return Watchlist(name=row.name, symbols=json.loads(row.symbols_json), updated_at=row.updated_at)
