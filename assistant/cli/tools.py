"""`assistant tools ...`: call one tool directly, no model involved."""

from __future__ import annotations

from datetime import datetime

import typer

from assistant.cli.options import EndOption, JsonOption, StartOption, as_date
from assistant.cli.output import emit, table
from assistant.resources import price_store
from tools.indicators import INDICATOR_NAMES, Indicators, indicators

app = typer.Typer(help="Run a tool directly: indicators, ...", no_args_is_help=True)


@app.command("indicators")
def indicators_cmd(
    symbol: str = typer.Argument(..., help="Ticker in the store, e.g. AAPL."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    series: bool = typer.Option(False, "--series", help="Include each indicator's series."),
    as_json: bool = JsonOption,
) -> None:
    """Latest technical indicators as of --end (warm-up uses earlier data)."""
    result = indicators(price_store(), symbol, as_date(start), as_date(end), with_series=series)
    emit(result, as_json, lambda: _render(result))


def _render(result: Indicators):
    values = result.model_dump()
    out = table(
        f"{result.symbol} as of {result.as_of} ({result.price_column} {result.price:,.2f}; "
        f"{result.source})",
        ["indicator", "value", "note"],
        [(n, values[n], result.unavailable.get(n, "")) for n in INDICATOR_NAMES],
    )
    return out
