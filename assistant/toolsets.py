"""The agent's tools: two pydantic-ai ``FunctionToolset``s, the one list of tools.

``READ_ONLY`` (market data, indicators, optimisation, backtests, documents, the
account) is what MCP and ``/v1/tools/<name>`` expose; ``NEEDS_APPROVAL`` holds
``place_order``, which only the agent sees. Parameters are typed (enums, dates,
constrained numbers), so the model, OpenAPI and MCP see the allowed values and a bad
argument goes back to the model as a retry: it is never stored. A tool's domain error
(unknown symbol, no data) is a retry with the error's own sentence.

``place_order`` proposes; it never trades. It validates the order completely, checks
the caller may propose, runs the pre-trade checks, and then pauses the run with
``ApprovalRequired`` (or ends at once as refused / failed checks). When the decision is
made, the run is resumed with the outcome in ``DeferredToolResults.metadata`` and the
tool simply returns it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import typing
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_ai import ApprovalRequired, ModelRetry, RunContext, ToolFailed
from pydantic_ai.messages import ToolReturnPart
from pydantic_ai.toolsets import FunctionToolset

from assistant.alert_tools import ALERTS
from assistant.analytics_tools import TOOLS as ANALYTICS
from assistant.approval_text import describe_order
from assistant.briefing_tools import BRIEFINGS
from assistant.cross_tools import TOOLS as CROSSES
from assistant.deps import AgentDeps, DirectContext, ToolTimer
from assistant.fundamentals import load_fundamentals
from assistant.profile_tools import PROFILE
from assistant.profiles import optimiser_defaults
from assistant.resources import security_master
from assistant.results import (
    AccountSummary,
    ApprovalStatus,
    Artifact,
    BacktestMetrics,
    BacktestSummary,
    IndicatorSummary,
    OrderOutcome,
    PendingApproval,
    PortfolioSummary,
    PositionSummary,
    PriceSummary,
    RebalanceSummary,
    SearchSummary,
    SweepRowSummary,
    SweepSummary,
    SymbolMatch,
    SymbolSearch,
    WalkForwardSummary,
    r,
)
from assistant.tool_support import freshness as _freshness
from assistant.tool_support import heavy as _heavy
from assistant.tool_support import retry as _retry
from assistant.tool_support import window as _window
from assistant.watchlist_tools import WATCHLISTS
from retrieval.days import Day
from retrieval.errors import RetrievalError
from retrieval.models import DocType, SearchFilters, StoredText
from tools.backtest import Strategy, backtest, sweep
from tools.errors import ToolError
from tools.fundamentals import Fundamentals
from tools.indicator_math import moving_average
from tools.indicators import indicators
from tools.orders import Order, OrderType, Price, Quantity, Side, Symbol
from tools.performance import annual_volatility, window_measures
from tools.portfolio import Constraints, Method, PortfolioResult, optimize
from tools.portfolio_inputs import VolatilityTargetError
from tools.rebalance import Frequency, rebalance_backtest
from tools.walkforward import walk_forward

Symbols = Annotated[list[Symbol], Field(min_length=2, max_length=30)]
Weight = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Bps = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False, description="Basis points.")]
ParamName = Literal["fast", "slow", "window", "lower", "upper", "k", "signal"]
ParamValue = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
GridValues = Annotated[list[ParamValue], Field(min_length=1, max_length=500)]
Query = Annotated[StoredText, StringConstraints(min_length=1, max_length=1000)]
Tickers = Annotated[list[Symbol], Field(max_length=20)]
TopK = Annotated[int, Field(ge=1, le=10)]
Money = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False, description="Dollars.")]
TradingDays = Annotated[int, Field(ge=20, le=2520, description="Trading days.")]
SignalStrategy = StrEnum(  # type: ignore[misc]
    "SignalStrategy", {s.name: s.value for s in Strategy if s is not Strategy.REBALANCE}
)
"""The single-symbol strategies (a rebalance needs several symbols: the CLI runs it)."""

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


# -- read-only tools ------------------------------------------------------------------------


def get_prices(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    start: Day | None = None,
    end: Day | None = None,
    invested: Money | None = None,
) -> PriceSummary:
    """Closing prices of one symbol over [start, end] (default: all stored data): first and
    last close, the period's return (from the close before `start`, as a calendar period
    is counted), high, low, annualised volatility, maximum drawdown and Sharpe ratio.
    `invested`: dollars bought at the base close ("$10k in Apple in 2010"): what they
    were worth at the last close is `worth`."""
    view = ctx.deps.prices()
    said: list[str] = []
    with ToolTimer(ctx.deps):
        try:
            frame, start, said = _window(view, symbol, start, end)
            price = frame.price
            earlier = (
                view.load(symbol, None, price.index[0].date()).price.iloc[:-1]
                if start is not None
                else price.iloc[:0]
            )
        except ToolError as exc:
            raise _retry(exc) from None
        if len(earlier):
            base_date, base_close = earlier.index[-1], earlier.iloc[-1]
            closes = np.concatenate([[base_close], price.to_numpy()])
        else:
            base_date, base_close = price.index[0], price.iloc[0]
            closes = price.to_numpy()
        period_return, drawdown, sharpe = window_measures(closes)
        return PriceSummary(
            symbol=frame.symbol,
            as_of=frame.as_of,
            source=frame.source,
            start=price.index[0].date(),
            end=frame.as_of,
            bars=len(price),
            first_close=r(price.iloc[0], 2),
            last_close=r(price.iloc[-1], 2),
            base_date=base_date.date(),
            base_close=r(base_close, 2),
            period_return=r(period_return),
            high=r(price.max(), 2),
            low=r(price.min(), 2),
            high_date=price.idxmax().date(),
            low_date=price.idxmin().date(),
            annual_volatility=r(annual_volatility(closes[1:] / closes[:-1] - 1)),
            max_drawdown=r(drawdown),
            sharpe_ratio=r(sharpe, 2) if sharpe is not None else None,
            invested=invested,
            worth=r(invested * (1 + period_return), 2) if invested else None,
            **_freshness(view, said),
        )


def find_symbol(
    ctx: RunContext[AgentDeps],
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)],
    limit: Annotated[int, Field(ge=1, le=25)] = 10,
) -> SymbolSearch:
    """US-listed companies by ticker or name (misspelt or shortened names too), best first:
    ticker, name, SEC CIK, exchange, sector, and whether prices are stored for it."""
    with ToolTimer(ctx.deps):
        master = security_master(ctx.deps.settings)
        stored = set(ctx.deps.store.symbols())
        try:
            found = master.search(query, limit, stored)
        except ToolError as exc:
            raise _retry(exc) from None
        return SymbolSearch(
            query=query,
            matches=[SymbolMatch(**s.model_dump(), in_store=s.symbol in stored) for s in found],
            companies=len(master),
        )


AverageWindows = Annotated[
    list[Annotated[int, Field(ge=2, le=400)]], Field(max_length=5, description="Bars.")
]


def _averages(
    view, symbol: str, as_of: date, sma: list[int], ema: list[int]
) -> dict[str, float | None]:
    """The moving averages asked for beyond the usual set, on every close up to ``as_of``."""
    if not sma and not ema:
        return {}
    closes = view.load(symbol, None, as_of).price.dropna().to_numpy()
    return {
        f"{kind}_{n}": moving_average(closes, kind, n)
        for kind, windows in (("sma", sma), ("ema", ema))
        for n in dict.fromkeys(windows)
    }


def get_indicators(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    end: Day | None = None,
    sma: AverageWindows = [],  # noqa: B006 - pydantic copies defaults
    ema: AverageWindows = [],  # noqa: B006
) -> IndicatorSummary:
    """Technical indicators of one symbol as of `end` (default: the latest stored day).
    `sma` and `ema`: other moving averages to read too, by length ("the 100-day SMA":
    sma [100]); they come back as values "sma_100", "ema_20"."""
    view = ctx.deps.prices()
    with ToolTimer(ctx.deps):
        try:
            result = indicators(view, symbol, None, end)
            extra = _averages(view, symbol, result.as_of, sma, ema)
        except ToolError as exc:
            raise _retry(exc) from None
    # RSI to 2 places as it is quoted; levels to 4, so that two close averages still
    # compare the right way round
    values = {k: r(getattr(result, k), 2 if k == "rsi_14" else 4) for k in KEY_INDICATORS}
    values |= {k: r(v, 4) for k, v in extra.items()}
    return IndicatorSummary(
        symbol=result.symbol,
        as_of=result.as_of,
        source=result.source,
        price=r(result.price, 2),
        values={k: v for k, v in values.items() if v is not None},
        unavailable={k: v for k, v in result.unavailable.items() if k in KEY_INDICATORS}
        | {k: "not enough history for this average" for k, v in extra.items() if v is None},
        windows={"rsi": 14, "sma_fast": 50, "sma_slow": 200, "volatility": 20},
        rsi_bounds={"oversold": 30, "overbought": 70},
        **_freshness(view),
    )


async def optimize_portfolio(
    ctx: RunContext[AgentDeps],
    symbols: Symbols,
    method: Method | None = None,
    max_weight: Weight | None = None,
    max_volatility: Weight | None = None,
    start: Day | None = None,
    end: Day | None = None,
    capital: Money | None = None,
) -> PortfolioSummary:
    """Long-only portfolio weights (fractions summing to 1) for 2 to 30 symbols; with
    `capital`, the money per symbol too. What you leave out (method, weight cap,
    volatility limit) comes from the asker's risk profile when they have one (else
    max-sharpe, no caps); the result says what the profile set."""
    deps = ctx.deps
    profile = None
    if deps.profiles is not None:
        profile = await asyncio.to_thread(deps.profiles.get, deps.user.id)
    chosen = optimiser_defaults(profile, len(set(symbols)), method, max_weight, max_volatility)
    applied = list(chosen.applied)
    view = deps.prices()

    def solve() -> tuple[PortfolioResult, VolatilityTargetError | None]:
        def run(limit: float | None) -> PortfolioResult:
            constraints = Constraints(max_weight=chosen.max_weight, max_volatility=limit)
            return optimize(view, symbols, chosen.method, constraints, start=start, end=end)

        try:
            return run(chosen.max_volatility), None
        except VolatilityTargetError as exc:
            if max_volatility is not None:  # the asker's own limit: their error to hear
                raise
            return run(None), exc  # the profile's target: a default, not a demand

    result, unreachable = await _heavy(ctx, solve)
    if unreachable is not None:
        applied = [a for a in applied if not a.startswith("volatility")]
        applied.append(
            f"its {unreachable.limit:.0%} volatility target is out of reach for these stocks "
            f"(the calmest mix has {unreachable.lowest:.1%}), so it was not applied"
        )
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
        capital=capital,
        amounts={k: r(v * capital, 2) for k, v in result.weights.items()} if capital else None,
        profile=chosen.profile.value if chosen.profile else None,
        profile_applied=applied,
        **_freshness(view),
    )


async def run_backtest(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    strategy: SignalStrategy = SignalStrategy.SMA_CROSS,
    params: dict[ParamName, ParamValue] | None = None,
    start: Day | None = None,
    end: Day | None = None,
    cost_bps: Bps = 0.0,
    sweep_grid: dict[ParamName, GridValues] | None = None,
) -> BacktestSummary | SweepSummary:
    """Backtest a strategy on one symbol (no look-ahead), or, with `sweep_grid`, rank every
    combination of the listed parameter values (the top 5 are returned)."""
    deps = ctx.deps
    view = deps.prices()
    if sweep_grid:
        # fixed parameters are a one-value axis; repeated values are one value
        sweep_grid = {k: [v] for k, v in (params or {}).items()} | {
            k: sorted(set(values)) for k, values in sweep_grid.items()
        }
        cap = deps.settings.max_sweep_combinations
        _check_sweep(sweep_grid, cap)
        res = await _heavy(
            ctx,
            sweep,
            view,
            symbol,
            Strategy(strategy),
            dict(sweep_grid),
            start=start,
            end=end,
            cost_bps=cost_bps,
            top=5,
            max_combinations=cap,
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
                SweepRowSummary(
                    params=row.params,
                    total_return=r(row.total_return),
                    sharpe=r(row.sharpe, 2),
                    max_drawdown=r(row.max_drawdown),
                )
                for row in res.rows
            ],
            **_freshness(view),
        )
    res = await _heavy(
        ctx,
        backtest,
        view,
        symbol,
        Strategy(strategy),
        dict(params or {}),
        start=start,
        end=end,
        cost_bps=cost_bps,
        chart_dir=deps.settings.data_dir / "charts",
    )
    return BacktestSummary(
        symbol=res.symbol,
        strategy=res.strategy.value,
        params=res.params,
        as_of=res.as_of,
        source=res.source,
        start=res.start,
        end=res.end,
        cost_bps=res.cost_bps,
        metrics=_metrics(res.metrics),
        trades=res.metrics.trades,
        chart=Artifact.chart(Path(res.chart_path).name) if res.chart_path else None,
        **_freshness(view),
    )


async def run_walk_forward(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    sweep_grid: dict[ParamName, GridValues],
    strategy: SignalStrategy = SignalStrategy.SMA_CROSS,
    train_days: TradingDays = 756,
    test_days: TradingDays = 252,
    start: Day | None = None,
    end: Day | None = None,
    cost_bps: Bps = 0.0,
) -> WalkForwardSummary:
    """Walk-forward test: on each training window pick the best parameters of the grid,
    trade them on the next test window; the test windows chained are out of sample."""
    deps = ctx.deps
    grid = {k: sorted(set(values)) for k, values in sweep_grid.items()}
    _check_sweep(grid, deps.settings.max_sweep_combinations)
    view = deps.prices()
    res = await _heavy(
        ctx,
        walk_forward,
        view,
        symbol,
        Strategy(strategy),
        grid,
        train_days=train_days,
        test_days=test_days,
        start=start,
        end=end,
        cost_bps=cost_bps,
    )
    return WalkForwardSummary(
        symbol=res.symbol,
        strategy=res.strategy.value,
        as_of=res.as_of,
        source=res.source,
        start=res.start,
        end=res.end,
        train_days=res.train_days,
        test_days=res.test_days,
        windows=len(res.windows),
        combinations=res.combinations,
        out_of_sample=BacktestMetrics(
            total_return=r(res.oos_total_return),
            cagr=r(res.oos_cagr),
            annual_volatility=None,
            sharpe=r(res.oos_sharpe, 2),
            sortino=None,
            max_drawdown=r(res.oos_max_drawdown),
            win_rate=None,
            exposure=None,
            final_equity=r(1 + res.oos_total_return),
        ),
        last_params=res.windows[-1].params if res.windows else {},
        **_freshness(view),
    )


async def run_rebalance(
    ctx: RunContext[AgentDeps],
    symbols: Symbols,
    method: Method = Method.MAX_SHARPE,
    frequency: Frequency = Frequency.MONTHLY,
    lookback_days: TradingDays = 252,
    max_weight: Weight | None = None,
    start: Day | None = None,
    end: Day | None = None,
    cost_bps: Bps = 0.0,
) -> RebalanceSummary:
    """Backtest a portfolio of 2 to 30 symbols rebalanced monthly or quarterly to the
    optimiser's weights, each estimated on the trailing `lookback_days`."""
    deps = ctx.deps
    view = deps.prices()
    res = await _heavy(
        ctx,
        rebalance_backtest,
        view,
        symbols,
        method,
        Constraints(max_weight=max_weight or 1.0),
        frequency=frequency,
        lookback_days=lookback_days,
        start=start,
        end=end,
        cost_bps=cost_bps,
        chart_dir=deps.settings.data_dir / "charts",
    )
    last = res.rebalances[-1].weights if res.rebalances else {}
    return RebalanceSummary(
        symbols=res.symbols,
        method=res.method.value,
        frequency=res.frequency.value,
        as_of=res.as_of,
        source=res.source,
        start=res.start,
        end=res.end,
        lookback_days=res.lookback_days,
        rebalances=len(res.rebalances),
        metrics=_metrics(res.metrics),
        last_weights={k: r(v) for k, v in last.items()},
        chart=Artifact.chart(Path(res.chart_path).name) if res.chart_path else None,
        **_freshness(view),
    )


def _metrics(m) -> BacktestMetrics:
    return BacktestMetrics(
        total_return=r(m.total_return),
        cagr=r(m.cagr),
        annual_volatility=r(m.annual_volatility),
        sharpe=r(m.sharpe, 2),
        sortino=r(m.sortino, 2),
        max_drawdown=r(m.max_drawdown),
        win_rate=r(m.win_rate),
        exposure=r(m.exposure),
        final_equity=r(m.final_equity),
    )


def _check_sweep(grid: dict, cap: int) -> None:
    combinations = math.prod(len(values) for values in grid.values())
    if combinations > cap:
        raise ModelRetry(
            f"a sweep of {combinations:,} combinations exceeds the limit of {cap:,}: "
            "list fewer values"
        )


def search_documents(
    ctx: RunContext[AgentDeps],
    query: Query,
    tickers: Tickers | None = None,
    doc_type: DocType | None = None,
    as_of: Day | None = None,
    k: TopK = 5,
    start: Day | None = None,
) -> SearchSummary:
    """News and filings relevant to `query`; cite results as [n]. `as_of` excludes later
    documents, `start` earlier ones ("news in 2022": start 2022-01-01, as_of 2022-12-31)."""
    pin = ctx.deps.as_of
    if pin is not None:  # a pinned conversation sees nothing published later
        if start is not None and start > pin:
            raise ModelRetry(f"this conversation is pinned to {pin}: nothing from {start} on")
        as_of = min(as_of, pin) if as_of else pin
    with ToolTimer(ctx.deps):
        try:
            filters = SearchFilters(
                tickers=tickers or None, doc_type=doc_type, start=start, as_of=as_of
            )
            result = ctx.deps.index().search(query, filters, k=k)
        except (RetrievalError, ToolError) as exc:
            raise _retry(exc) from None
    return SearchSummary(
        query=query, as_of=as_of, start=start, hits=[h.citation for h in result.hits]
    )


def get_fundamentals(
    ctx: RunContext[AgentDeps], symbol: Symbol, as_of: Day | None = None
) -> Fundamentals:
    """A company's fundamentals from its SEC filings, only those filed by `as_of` (default
    today): the latest fiscal year's revenue, gross profit, operating and net income,
    diluted EPS, cash flows, balance sheet, shares and dividends per share; the latest
    quarter; trailing twelve months; year-over-year growth; and, with the stored close,
    market cap, P/E, P/S and dividend yield (fractions). Each figure names its period
    end, filing form and filing date."""
    view = ctx.deps.prices()
    with ToolTimer(ctx.deps):
        try:
            result = load_fundamentals(ctx.deps.settings, view, symbol, as_of)
        except ToolError as exc:
            raise _retry(exc) from None
    result.data_notes = view.notes()
    return result


def get_portfolio(ctx: RunContext[AgentDeps]) -> AccountSummary:
    """The trading account: cash, equity, positions, resting orders, and the orders you
    proposed that wait for an approver."""
    deps = ctx.deps
    deps.today_only("the account")
    with ToolTimer(deps):
        try:
            broker = deps.broker()
            account = broker.account()
            positions = broker.positions()
            resting = broker.open_orders()
        except Exception as exc:  # a broker that is down is a fact to report, not a retry
            raise ToolFailed(f"the broker could not be reached: {exc}") from exc
        waiting = deps.orders.waiting_for(deps.owner) if deps.orders else []
    return AccountSummary(
        broker=account.broker,
        cash=r(account.cash, 2),
        equity=r(account.equity, 2),
        positions=[
            PositionSummary(
                symbol=p.symbol,
                quantity=p.quantity,
                avg_price=r(p.avg_price, 2),
                market_value=r(p.market_value, 2),
            )
            for p in positions
        ],
        open_orders=[o.describe() for o in resting],
        pending_approvals=[
            PendingApproval(
                approval_id=row.id,
                order=describe_order(json.loads(row.order_json)),
                expires_at=row.expires_at,
            )
            for row in waiting
        ],
    )


# -- the tool that needs approval -------------------------------------------------------------


def place_order(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    side: Side,
    quantity: Quantity,
    order_type: OrderType = OrderType.MARKET,
    limit_price: Price | None = None,
    stop_price: Price | None = None,
) -> OrderOutcome:
    """Propose an order. A person must approve it before any broker sees it; you cannot
    approve it yourself. A limit order needs limit_price, a stop order stop_price."""
    if ctx.tool_call_approved:  # resumed: the approval flow says what became of it
        try:
            return OrderOutcome.model_validate((ctx.tool_call_metadata or {})["outcome"])
        except (KeyError, TypeError, ValidationError):
            raise ToolFailed("no approval record for this order: it was not executed") from None
    ctx.deps.today_only("an order")
    try:
        order = Order(
            symbol=symbol,
            side=side,
            quantity=quantity,
            type=order_type,
            limit_price=limit_price,
            stop_price=stop_price,
        )
    except ValidationError as exc:
        raise ModelRetry(f"invalid order: {problem_text(exc.errors())}") from None
    desk, deps = ctx.deps.orders, ctx.deps
    if desk is None:
        raise ToolFailed("orders cannot be placed here")
    with deps.proposing:
        try:
            outcome = desk.propose(
                order,
                user=deps.user,
                owner=deps.owner,
                conversation_id=deps.conversation_id,
                tool_call_id=ctx.tool_call_id or "",
                alongside=list(deps.proposed),
            )
        except ToolError as exc:
            raise ModelRetry(f"invalid order: {exc}") from None
        if outcome.status is ApprovalStatus.PENDING:
            deps.proposed.append(order)
    if outcome.status is ApprovalStatus.PENDING:  # checks passed: a person decides
        raise ApprovalRequired(
            metadata={
                "order": order.model_dump(mode="json"),
                "risk_checks": outcome.risk_checks.model_dump(mode="json"),
            }
        )
    return outcome


READ_ONLY = FunctionToolset(
    [
        get_prices,
        find_symbol,
        get_indicators,
        optimize_portfolio,
        run_backtest,
        run_walk_forward,
        run_rebalance,
        search_documents,
        get_fundamentals,
        get_portfolio,
        *ANALYTICS,
        *CROSSES,
    ],
    id="read_only",
)
NEEDS_APPROVAL = FunctionToolset([place_order], id="needs_approval")
AGENT_TOOLSETS = (READ_ONLY, NEEDS_APPROVAL, PROFILE, WATCHLISTS, ALERTS, BRIEFINGS)
"""What the agent sees: the market tools, orders, and the asker's own risk profile,
watchlists, alerts and briefings."""


def parameters(fn: Callable) -> list[inspect.Parameter]:
    """A tool's user-facing parameters (everything after ``ctx``), annotations resolved:
    what the direct-tools API and the MCP server expose."""
    hints = typing.get_type_hints(fn, include_extras=True)
    return [
        p.replace(annotation=hints[p.name])
        for p in list(inspect.signature(fn).parameters.values())[1:]
    ]


async def call_directly(fn: Callable, deps: AgentDeps, arguments: dict[str, Any]) -> BaseModel:
    """Call a read-only tool outside a run (the direct-tools API, MCP): async tools are
    awaited, the others run in a worker thread as they do in a run."""
    ctx = DirectContext(deps)
    if inspect.iscoroutinefunction(fn):
        return await fn(ctx, **arguments)
    return await asyncio.to_thread(fn, ctx, **arguments)


def _result_adapters() -> dict[str, TypeAdapter]:
    return {
        name: TypeAdapter(typing.get_type_hints(tool.function)["return"])
        for toolset in AGENT_TOOLSETS
        for name, tool in toolset.tools.items()
    }


RESULTS = _result_adapters()


def read_result(part: ToolReturnPart) -> BaseModel | None:
    """The tool's result as its model (history read back from JSON holds dicts), or None
    when the call did not succeed."""
    if part.outcome != "success" or isinstance(part.content, str):
        return None
    adapter = RESULTS.get(part.tool_name)
    if adapter is None or isinstance(part.content, BaseModel):
        return part.content if isinstance(part.content, BaseModel) else None
    try:
        return adapter.validate_python(part.content)
    except ValidationError:
        return None


def problem_text(content: Any) -> str:
    """A failed or retried call's content (a sentence, or pydantic's error list) in words."""
    if isinstance(content, list):
        return "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'args') or 'input'}: {e.get('msg', e)}"
            if isinstance(e, dict)
            else str(e)
            for e in content
        )
    return str(content)
