"""The agent: one pydantic-ai ``Agent`` whose tools wrap ``tools/`` and ``retrieval/``.

Tools return compact, rounded, model-friendly pydantic models (long series summarised,
artifact paths kept). A tool error goes back to the model as a retry prompt carrying
the error message, never as a crash. ``place_order`` requires approval: a run that
reaches it pauses with ``DeferredToolRequests`` and is resumed by the approval flow.
"""

from __future__ import annotations

import inspect
import math
import typing
from datetime import date

from pydantic import BaseModel, Field
from pydantic_ai import Agent, DeferredToolRequests, ModelRetry, RunContext
from pydantic_ai.models import Model

from assistant.deps import AgentDeps, ToolTimer
from prompts import instructions
from retrieval.errors import RetrievalError
from retrieval.models import DocType, SearchFilters
from tools.backtest import Strategy, backtest, sweep
from tools.errors import ToolError
from tools.indicators import indicators
from tools.orders import Order, OrderType, Side
from tools.portfolio import Constraints, Method, optimize

TOOL_NAMES = (
    "get_prices",
    "get_indicators",
    "optimize_portfolio",
    "run_backtest",
    "search_documents",
    "get_portfolio",
    "place_order",
)
READ_ONLY_TOOLS = TOOL_NAMES[:-1]


def r(value: float | None, digits: int = 4) -> float | None:
    """Round for the model; the rounded value is what answers may quote."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


class PriceSummary(BaseModel):
    symbol: str
    as_of: date
    source: str
    start: date
    end: date
    bars: int
    first_close: float
    last_close: float
    period_return: float = Field(description="Fraction over the window.")
    high: float
    low: float
    annual_volatility: float | None


class IndicatorSummary(BaseModel):
    symbol: str
    as_of: date
    source: str
    price: float
    values: dict[str, float | None]
    unavailable: dict[str, str]
    windows: dict[str, int] = Field(description="Bars behind each reading, e.g. rsi 14.")
    rsi_bounds: dict[str, int] = Field(description="Conventional RSI reading thresholds.")


class PortfolioSummary(BaseModel):
    method: str
    as_of: date
    source: str
    start: date
    end: date
    weights: dict[str, float]
    expected_return: float
    volatility: float
    sharpe: float
    risk_contributions: dict[str, float]


class BacktestSummary(BaseModel):
    symbol: str
    strategy: str
    params: dict[str, float]
    as_of: date
    source: str
    start: date
    end: date
    cost_bps: float
    metrics: dict[str, float | int | None]
    trades: int
    chart_path: str | None


class SweepSummary(BaseModel):
    symbol: str
    strategy: str
    as_of: date
    source: str
    start: date
    end: date
    combinations: int
    rank_by: str
    top: list[dict]


class DocumentHit(BaseModel):
    n: int
    doc_id: str
    title: str
    source: str
    published_at: date
    section: str | None
    snippet: str
    url: str | None


class SearchSummary(BaseModel):
    query: str
    as_of: date | None
    hits: list[DocumentHit]


class AccountSummary(BaseModel):
    broker: str
    cash: float
    equity: float
    positions: list[dict]


class OrderOutcome(BaseModel):
    status: str
    order: Order
    filled_quantity: float | None = None
    filled_avg_price: float | None = None
    broker_order_id: str | None = None
    detail: str | None = None


def _retry(exc: Exception) -> ModelRetry:
    return ModelRetry(str(exc))


def _dates(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    try:
        return (
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
        )
    except ValueError as exc:
        raise ModelRetry(f"dates must be YYYY-MM-DD: {exc}") from None


def get_prices(
    ctx: RunContext[AgentDeps], symbol: str, start: str | None = None, end: str | None = None
) -> PriceSummary:
    """Closing prices of one symbol over [start, end] (YYYY-MM-DD; default: all data)."""
    s, e = _dates(start, end)
    with ToolTimer(ctx.deps):
        try:
            frame = ctx.deps.store.load(symbol, s, e)
        except ToolError as exc:
            raise _retry(exc) from None
        price = frame.price
        daily = price.pct_change().dropna()
        vol = daily.std(ddof=1) * math.sqrt(252) if len(daily) > 1 else None
        return PriceSummary(
            symbol=frame.symbol,
            as_of=frame.as_of,
            source=frame.source,
            start=price.index[0].date(),
            end=frame.as_of,
            bars=len(price),
            first_close=r(price.iloc[0], 2),
            last_close=r(price.iloc[-1], 2),
            period_return=r(price.iloc[-1] / price.iloc[0] - 1),
            high=r(price.max(), 2),
            low=r(price.min(), 2),
            annual_volatility=r(vol),
        )


KEY_INDICATORS = (
    "rsi_14",
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_lower",
    "bb_pctb",
    "volatility_20d",
    "return_1m",
    "return_3m",
    "return_1y",
    "atr_14",
)


def get_indicators(
    ctx: RunContext[AgentDeps], symbol: str, end: str | None = None
) -> IndicatorSummary:
    """Technical indicators of one symbol as of `end` (YYYY-MM-DD; default: latest)."""
    _, e = _dates(None, end)
    with ToolTimer(ctx.deps):
        try:
            result = indicators(ctx.deps.store, symbol, None, e)
        except ToolError as exc:
            raise _retry(exc) from None
    data = result.model_dump()
    fractions = {"bb_pctb", "volatility_20d", "return_1m", "return_3m", "return_1y"}
    values = {k: r(data[k], 4 if k in fractions else 2) for k in KEY_INDICATORS}
    return IndicatorSummary(
        symbol=result.symbol,
        as_of=result.as_of,
        source=result.source,
        price=r(result.price, 2),
        values={k: v for k, v in values.items() if v is not None},
        unavailable={k: v for k, v in result.unavailable.items() if k in KEY_INDICATORS},
        windows={"rsi": 14, "sma_fast": 50, "sma_slow": 200, "volatility": 20},
        rsi_bounds={"oversold": 30, "overbought": 70},
    )


def optimize_portfolio(
    ctx: RunContext[AgentDeps],
    symbols: list[str],
    method: str = "max-sharpe",
    max_weight: float | None = None,
    start: str | None = None,
    end: str | None = None,
) -> PortfolioSummary:
    """Portfolio weights (fractions) for 2+ symbols: max-sharpe, min-variance, risk-parity, mean-variance."""
    s, e = _dates(start, end)
    with ToolTimer(ctx.deps):
        try:
            result = optimize(
                ctx.deps.store,
                symbols,
                Method(method),
                Constraints(max_weight=max_weight or 1.0),
                start=s,
                end=e,
            )
        except (ToolError, ValueError) as exc:
            raise _retry(exc) from None
    return PortfolioSummary(
        method=result.method.value,
        as_of=result.as_of,
        source=result.source,
        start=result.start,
        end=result.end,
        weights={k: r(v) for k, v in result.weights.items()},
        expected_return=r(result.expected_return),
        volatility=r(result.volatility),
        sharpe=r(result.sharpe, 2),
        risk_contributions={k: r(v) for k, v in result.risk_contributions.items()},
    )


def run_backtest(
    ctx: RunContext[AgentDeps],
    symbol: str,
    strategy: str = "sma-cross",
    params: dict[str, float] | None = None,
    start: str | None = None,
    end: str | None = None,
    cost_bps: float = 0.0,
    sweep_grid: dict[str, list[float]] | None = None,
) -> BacktestSummary | SweepSummary:
    """Backtest a strategy on one symbol (no look-ahead), or rank a parameter grid with `sweep_grid`."""
    s, e = _dates(start, end)
    with ToolTimer(ctx.deps):
        try:
            if sweep_grid:
                res = sweep(
                    ctx.deps.store,
                    symbol,
                    Strategy(strategy),
                    sweep_grid,
                    start=s,
                    end=e,
                    cost_bps=cost_bps,
                    top=5,
                )
                return SweepSummary(
                    symbol=res.symbol,
                    strategy=res.strategy.value,
                    as_of=res.as_of,
                    source=res.source,
                    start=res.start,
                    end=res.end,
                    combinations=res.combinations,
                    rank_by=res.rank_by,
                    top=[
                        {
                            "params": row.params,
                            "total_return": r(row.total_return),
                            "sharpe": r(row.sharpe, 2),
                            "max_drawdown": r(row.max_drawdown),
                        }
                        for row in res.rows
                    ],
                )
            res = backtest(
                ctx.deps.store,
                symbol,
                Strategy(strategy),
                params,
                start=s,
                end=e,
                cost_bps=cost_bps,
                chart_dir=ctx.deps.settings.data_dir / "charts",
            )
        except (ToolError, ValueError) as exc:
            raise _retry(exc) from None
    m = res.metrics
    metrics = {
        "total_return": r(m.total_return),
        "cagr": r(m.cagr),
        "annual_volatility": r(m.annual_volatility),
        "sharpe": r(m.sharpe, 2),
        "sortino": r(m.sortino, 2),
        "max_drawdown": r(m.max_drawdown),
        "win_rate": r(m.win_rate),
        "exposure": r(m.exposure),
        "final_equity": r(m.final_equity),
    }
    return BacktestSummary(
        symbol=res.symbol,
        strategy=res.strategy.value,
        params=res.params,
        as_of=res.as_of,
        source=res.source,
        start=res.start,
        end=res.end,
        cost_bps=res.cost_bps,
        metrics=metrics,
        trades=m.trades,
        chart_path=res.chart_path,
    )


def search_documents(
    ctx: RunContext[AgentDeps],
    query: str,
    tickers: list[str] | None = None,
    doc_type: str | None = None,
    as_of: str | None = None,
    k: int = 5,
) -> SearchSummary:
    """News and filings relevant to `query`; cite results as [n]. `as_of` excludes later documents."""
    _, cutoff = _dates(None, as_of)
    with ToolTimer(ctx.deps):
        try:
            filters = SearchFilters(
                tickers=[t.upper() for t in tickers] if tickers else None,
                doc_type=DocType(doc_type) if doc_type else None,
                as_of=cutoff,
            )
            result = ctx.deps.index().search(query, filters, k=max(1, min(k, 10)))
        except (RetrievalError, ValueError) as exc:
            raise _retry(exc) from None
    hits = [
        DocumentHit(
            n=h.citation.n,
            doc_id=h.citation.doc_id,
            title=h.citation.title,
            source=h.citation.source,
            published_at=h.citation.published_at,
            section=h.citation.section,
            snippet=h.citation.snippet,
            url=h.citation.url,
        )
        for h in result.hits
    ]
    return SearchSummary(query=query, as_of=cutoff, hits=hits)


def get_portfolio(ctx: RunContext[AgentDeps]) -> AccountSummary:
    """The paper account: cash, equity and positions."""
    with ToolTimer(ctx.deps):
        broker = ctx.deps.broker()
        account = broker.account()
        positions = [
            {
                "symbol": p.symbol,
                "quantity": p.quantity,
                "avg_price": r(p.avg_price, 2),
                "market_value": r(p.market_value, 2),
            }
            for p in broker.positions()
        ]
    return AccountSummary(
        broker=account.broker,
        cash=r(account.cash, 2),
        equity=r(account.equity, 2),
        positions=positions,
    )


def place_order(
    ctx: RunContext[AgentDeps],
    symbol: str,
    side: str,
    quantity: float,
    order_type: str = "market",
    limit_price: float | None = None,
) -> OrderOutcome:
    """Propose an order. It always waits for approval by a person; you cannot approve it."""
    try:
        order = order_from_tool_args(symbol, side, quantity, order_type, limit_price)
    except ValueError as exc:
        raise ModelRetry(f"invalid order: {exc}") from None
    outcome = ctx.deps.executed_orders.get(ctx.tool_call_id or "")
    if outcome is None:  # approved, yet the approval flow recorded nothing: never trade blind
        return OrderOutcome(
            status="not_executed", order=order, detail="no approval record for this call"
        )
    if isinstance(outcome, str):
        return OrderOutcome(status="failed", order=order, detail=outcome)
    return OrderOutcome(
        status=outcome.status.value,
        order=order,
        filled_quantity=outcome.filled_quantity,
        filled_avg_price=r(outcome.filled_avg_price, 2),
        broker_order_id=outcome.id,
        detail=outcome.reason,
    )


def order_from_tool_args(
    symbol: str,
    side: str,
    quantity: float,
    order_type: str = "market",
    limit_price: float | None = None,
) -> Order:
    """The order a ``place_order`` call asks for (also read back by the approval flow)."""
    return Order(
        symbol=symbol,
        side=Side(side),
        quantity=quantity,
        type=OrderType(order_type),
        limit_price=limit_price,
    )


def tool_parameters(fn) -> list[inspect.Parameter]:
    """A tool's user-facing parameters (everything after ``ctx``) with annotations resolved:
    what the direct-tools API and the MCP server expose."""
    hints = typing.get_type_hints(fn)
    return [
        p.replace(annotation=hints[p.name])
        for p in list(inspect.signature(fn).parameters.values())[1:]
    ]


def build_agent(model: Model) -> Agent[AgentDeps, str | DeferredToolRequests]:
    agent: Agent[AgentDeps, str | DeferredToolRequests] = Agent(
        model,
        deps_type=AgentDeps,
        output_type=[str, DeferredToolRequests],
        instructions=instructions(),
        retries=2,
    )
    for fn in (
        get_prices,
        get_indicators,
        optimize_portfolio,
        run_backtest,
        search_documents,
        get_portfolio,
    ):
        agent.tool(fn)
    agent.tool(place_order, requires_approval=True)
    return agent
