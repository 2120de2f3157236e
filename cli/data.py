"""`assistant data ...`: fill and inspect the local price store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from assistant.resources import (
    price_provider,
    price_store,
    refresh_securities,
    security_master,
)
from assistant.settings import get_settings
from cli.options import EndOption, JsonOption, StartOption, as_date
from cli.output import emit, table
from tools.errors import DataExistsError
from tools.market_data import SymbolInfo, load_sample
from tools.providers import fetch_into_store

FETCH_TIMEOUT_SECONDS = 30.0
"""An explicit download may take longer than a question's on-demand fetch."""

app = typer.Typer(
    add_completion=False, help="Load, import, fetch and list market data.", no_args_is_help=True
)


def _info_table(title: str, infos: list[SymbolInfo]):
    return table(
        title,
        ["symbol", "start", "end", "bars", "columns", "source"],
        [(i.symbol, i.start, i.end, i.bars, ", ".join(i.columns), i.source) for i in infos],
    )


@app.command("load-sample")
def load_sample_cmd(
    replace: bool = typer.Option(False, "--replace", help="Also overwrite symbols you imported."),
    as_json: bool = JsonOption,
) -> None:
    """Load the bundled real prices (20 S&P 500 stocks and SPX, 1990-2022) into the store."""
    from rich.progress import Progress

    store = price_store()
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("loading sample prices", total=None)
        report = load_sample(
            store,
            replace=replace,
            progress=lambda sym, i, n: progress.update(
                task, completed=i, total=n, description=f"loaded {sym}"
            ),
        )
    emit(report, as_json, lambda: _sample_summary(report, store.root))


def _sample_summary(report, root: Path) -> str:
    lines = [f"Loaded {len(report.loaded)} symbols into {root}"]
    lines += [f"skipped {s}: {why}" for s, why in report.skipped.items()]
    return "\n".join(lines)


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV or Parquet with date and close/adj_close columns."),
    symbol: str | None = typer.Option(
        None, "--symbol", help="Symbol (default: column or file name)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite existing data for the symbol."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Import user OHLCV; every row is validated before anything is written."""
    from tools.price_files import read_price_file

    store = price_store()
    parsed = read_price_file(file, symbol)
    clashes = [p.symbol for p in parsed if store.exists(p.symbol)]
    if clashes and not replace:
        raise DataExistsError(
            f"{', '.join(clashes)} already in the store; pass --replace to overwrite"
        )
    source = f"import:{file.name}"
    infos = [store.save(p.symbol, p.frame, source, replace=replace) for p in parsed]
    ignored = sorted({c for p in parsed for c in p.ignored_columns})

    def human():
        out = _info_table("Imported", infos)
        if ignored:
            out.caption = f"ignored columns: {', '.join(ignored)}"
        return out

    emit(infos, as_json, human)


@app.command("list")
def list_cmd(as_json: bool = JsonOption) -> None:
    """Show stored symbols, their date ranges and columns."""
    infos = price_store().list()
    emit(
        infos,
        as_json,
        lambda: _info_table("Stored prices", infos) if infos else "The store is empty.",
    )


@app.command("fetch")
def fetch_cmd(
    symbol: str = typer.Argument(..., help="Ticker to download, e.g. AAPL."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    provider: str | None = typer.Option(
        None, "--provider", help="Default: the price_provider setting."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Download daily prices from a live provider (extra `live`) and cache them in the store."""
    settings = get_settings()
    source = price_provider(settings, provider, timeout=FETCH_TIMEOUT_SECONDS)
    info = fetch_into_store(price_store(settings), source, symbol, as_date(start), as_date(end))
    from assistant.jobs import Jobs  # new prices: a running server evaluates the alerts now
    from assistant.resources import engine

    Jobs(engine(settings)).poke("alerts")
    emit(info, as_json, lambda: _info_table("Fetched", [info]))


@app.command("symbols")
def symbols_cmd(
    query: str | None = typer.Argument(
        None, help="Ticker or company name (misspellings too); none: the stored symbols."
    ),
    limit: int = typer.Option(10, "--limit", min=1, max=100, help="At most this many matches."),
    refresh: bool = typer.Option(
        False,
        "--refresh",
        help="First fetch SEC's company list (CIKs, exchanges, every listed company; "
        "needs ASSISTANT_EDGAR_USER_AGENT).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Look up companies in the security master: ticker, name, CIK, exchange, sector."""
    from assistant.results import SymbolMatch

    settings = get_settings()
    if refresh:
        count = refresh_securities(settings)
        if not as_json:
            typer.echo(f"SEC's company list refreshed: {count:,} companies.")
    master = security_master(settings)
    stored = {info.symbol for info in price_store(settings).list()}
    if query is None:
        found = [s for s in (master.get(symbol) for symbol in sorted(stored)) if s]
        title = f"Stored symbols the security master knows ({len(master):,} companies)"
    else:
        found = master.search(query, limit, stored)
        title = f"Matches for {query!r} ({len(master):,} companies)"
    matches = [SymbolMatch(**s.model_dump(), in_store=s.symbol in stored) for s in found]
    rows = [
        [
            m.symbol,
            m.name,
            m.cik or "",
            m.exchange or "",
            m.sector or "",
            "yes" if m.in_store else "",
        ]
        for m in matches
    ]
    emit(
        matches,
        as_json,
        lambda: (
            table(title, ["symbol", "name", "CIK", "exchange", "sector", "stored"], rows)
            if rows
            else f"No company matches {query!r}."
        ),
    )
