"""`assistant tools ...`: call one tool directly, no model involved."""

from __future__ import annotations

from datetime import datetime

import typer

from assistant.cli.options import EndOption, JsonOption, StartOption, as_date
from assistant.cli.output import emit, table
from assistant.resources import price_store
from tools.errors import InvalidInputError
from tools.indicators import INDICATOR_NAMES, Indicators, indicators
from tools.portfolio import Constraints, Method, PortfolioResult, optimize

app = typer.Typer(help="Run a tool directly: indicators, optimize, backtest.", no_args_is_help=True)


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


def _pairs(values: list[str], option: str, cast=str) -> dict[str, object]:
    """Parse repeated KEY=VALUE options into a dict, naming the option on bad input."""
    out: dict[str, object] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInputError(f"{option} expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = cast(value)
        except ValueError:
            raise InvalidInputError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


@app.command("optimize")
def optimize_cmd(
    symbols: list[str] = typer.Argument(..., help="Two or more symbols."),
    method: Method = typer.Option(Method.MAX_SHARPE, "--method", help="Objective."),
    min_weight: float = typer.Option(
        0.0, "--min-weight", help="Per-asset floor (negative allows shorts)."
    ),
    max_weight: float = typer.Option(1.0, "--max-weight", help="Per-asset cap."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    shrinkage: bool = typer.Option(False, "--shrinkage", help="Ledoit-Wolf covariance."),
    risk_free_rate: float = typer.Option(0.0, "--risk-free-rate", help="Annual, as a fraction."),
    target_return: float | None = typer.Option(
        None, "--target-return", help="mean-variance: annual target."
    ),
    risk_aversion: float = typer.Option(
        1.0, "--risk-aversion", help="mean-variance without a target."
    ),
    sector: list[str] = typer.Option([], "--sector", help="SYMBOL=SECTOR (repeatable)."),
    sector_cap: list[str] = typer.Option([], "--sector-cap", help="SECTOR=MAX (repeatable)."),
    current: list[str] = typer.Option([], "--current", help="SYMBOL=WEIGHT now held (repeatable)."),
    turnover_penalty: float = typer.Option(0.0, "--turnover-penalty", help="λ on Σ|w - current|."),
    frontier: int = typer.Option(0, "--frontier", help="Also compute N efficient-frontier points."),
    as_json: bool = JsonOption,
) -> None:
    """Portfolio weights by max-sharpe, min-variance, risk-parity or mean-variance."""
    constraints = Constraints(
        min_weight=min_weight,
        max_weight=max_weight,
        sectors={k.upper(): v for k, v in _pairs(sector, "--sector").items()},
        sector_caps=_pairs(sector_cap, "--sector-cap", float),
        current_weights={k.upper(): v for k, v in _pairs(current, "--current", float).items()},
        turnover_penalty=turnover_penalty,
    )
    result = optimize(
        price_store(),
        symbols,
        method,
        constraints,
        start=as_date(start),
        end=as_date(end),
        shrinkage=shrinkage,
        risk_free_rate=risk_free_rate,
        target_return=target_return,
        risk_aversion=risk_aversion,
        frontier_points=frontier,
    )
    emit(result, as_json, lambda: _render_portfolio(result))


def _render_portfolio(r: PortfolioResult):
    out = table(
        f"{r.method} on {r.start}..{r.end} ({r.observations} days): return {r.expected_return:.2%}, "
        f"volatility {r.volatility:.2%}, Sharpe {r.sharpe:.2f}",
        ["symbol", "weight", "risk contribution"],
        [(s, f"{r.weights[s]:.2%}", f"{r.risk_contributions[s]:.2%}") for s in r.symbols],
    )
    return out
