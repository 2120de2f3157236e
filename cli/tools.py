"""`assistant tools ...`: call one tool directly, no model involved."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

from assistant.fundamentals import load_fundamentals
from assistant.models.offline.valuation import write_fundamentals
from assistant.resources import price_view
from assistant.results import AnomalySummary, CompareSummary, RiskSummary, ScreenSummary
from assistant.settings import get_settings
from cli.options import (
    AsOfOption,
    EndOption,
    JsonOption,
    StartOption,
    as_date,
    as_of_date,
)
from cli.output import emit, table
from tools.backtest import (
    RunResult,
    Strategy,
    SweepResult,
    backtest,
    format_params,
    parse_range,
    sweep,
)
from tools.errors import InvalidInputError
from tools.indicators import INDICATOR_NAMES, Indicators, indicators
from tools.portfolio import Constraints, Method, PortfolioResult, optimize
from tools.rebalance import Frequency, rebalance_backtest
from tools.walkforward import WalkForwardResult, walk_forward

app = typer.Typer(
    add_completion=False,
    help="Run a tool directly: analytics (compare, risk, screen, sentiment, anomalies), indicators, "
    "optimize, backtest, fundamentals.",
    no_args_is_help=True,
)


@app.command("fundamentals")
def fundamentals_cmd(
    symbol: str = typer.Argument(..., help="Ticker of a US-listed company, e.g. AAPL."),
    as_of: datetime | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Fundamentals from SEC filings (only those filed by --as-of) and, with the stored
    close, market cap, P/E, P/S and dividend yield. Needs ASSISTANT_EDGAR_USER_AGENT."""
    settings = get_settings()
    day = as_of_date(as_of)
    result = load_fundamentals(settings, price_view(settings, as_of=day), symbol, day)
    emit(result, as_json, lambda: write_fundamentals(result))


@app.command("compare")
def compare_cmd(
    symbols: list[str] = typer.Argument(..., help="One or more tickers in the store, e.g. KO PEP."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    benchmark: str | None = typer.Option(
        None, "--benchmark", help="Beta against this symbol (default SPX, when stored)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Side by side: return, volatility, Sharpe, Sortino, Calmar, max drawdown, beta, best
    and worst day and month, and the correlation of daily returns (conventions: README)."""
    from assistant.analytics_tools import load_comparison

    if len(symbols) > 20:
        raise typer.BadParameter(f"at most 20 symbols, got {len(symbols)}", param_hint="SYMBOLS")
    settings = get_settings()
    result = load_comparison(
        price_view(settings),
        symbols,
        as_date(start),
        as_date(end),
        benchmark,
        settings.data_dir / "charts",
    )
    emit(result, as_json, lambda: _render_comparison(result, settings.data_dir / "charts"))


def _render_comparison(c: CompareSummary, chart_dir: Path):
    """Measures down, symbols across (a few symbols, many measures), then correlations."""
    from rich.console import Group

    from assistant.models.offline.formats import pct

    def ratio(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    def dated(d, month: bool = False) -> str:
        when = f"{d.date:%Y-%m}" if d is not None and month else getattr(d, "date", "")
        return "n/a" if d is None else f"{when} {pct(d.value, True)}"

    measures = [
        ("window", lambda s: f"{s.start} to {s.end}"),
        ("total return", lambda s: pct(s.total_return, True)),
        ("annual return", lambda s: pct(s.annual_return, True)),
        ("volatility", lambda s: pct(s.volatility)),
        ("sharpe", lambda s: ratio(s.sharpe)),
        ("sortino", lambda s: ratio(s.sortino)),
        ("calmar", lambda s: ratio(s.calmar)),
        ("max drawdown", lambda s: pct(s.max_drawdown)),
        ("drawdown from / to", lambda s: f"{s.drawdown_peak} / {s.drawdown_trough}"),
        (f"beta to {c.benchmark or '-'}", lambda s: ratio(s.beta)),
        ("best day", lambda s: dated(s.best_day)),
        ("worst day", lambda s: dated(s.worst_day)),
        ("best month", lambda s: dated(s.best_month, month=True)),
        ("worst month", lambda s: dated(s.worst_month, month=True)),
    ]
    names = [s.symbol for s in c.stats]
    side_by_side = table(
        f"Compared to {c.as_of} ({c.source})",
        ["measure", *names],
        [(label, *(value(s) for s in c.stats)) for label, value in measures],
    )
    matrix = table(
        "Correlation of daily returns",
        ["", *c.correlation],
        [(a, *(ratio(v) for v in row.values())) for a, row in c.correlation.items()],
    )
    notes = [*c.data_notes, *([f"Chart: {chart_dir / c.chart.name}"] if c.chart else [])]
    return Group(side_by_side, matrix, *notes)


@app.command("risk")
def risk_cmd(
    holdings: list[str] = typer.Argument(
        None, help="SYMBOL=WEIGHT pairs summing to 1, e.g. AAPL=0.6 KO=0.4."
    ),
    account: bool = typer.Option(False, "--account", help="The account's positions instead."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    as_json: bool = JsonOption,
) -> None:
    """Portfolio risk: one-day VaR and CVaR (historical, parametric, Cornish-Fisher),
    each holding's share of the risk, and stress tests (past crises, a 20% market fall)."""
    from assistant.analytics_tools import account_holdings, load_risk
    from assistant.resources import broker

    if bool(holdings) == account:
        raise typer.BadParameter("give SYMBOL=WEIGHT pairs or --account (one of the two)")
    settings = get_settings()
    value = None
    if account:
        weights, value = account_holdings(broker(settings))
    else:
        weights = _pairs(holdings, "HOLDINGS", float)
    result = load_risk(price_view(settings), weights, as_date(start), as_date(end), value, account)
    emit(result, as_json, lambda: _render_risk(result))


def _render_risk(r: RiskSummary):
    from rich.console import Group

    from assistant.models.offline.formats import money, pct

    var = table(
        f"One-day risk, {r.start} to {r.end} ({r.days} days; volatility "
        f"{pct(r.annual_volatility)} a year)",
        ["level", "historical VaR", "CVaR", "parametric VaR", "Cornish-Fisher VaR"],
        [
            (
                f"{v.level:.0%}",
                pct(v.historical),
                pct(v.cvar),
                pct(v.parametric),
                pct(v.cornish_fisher),
            )
            for v in r.var
        ],
    )
    shares = table(
        "Holdings",
        ["symbol", "weight", "share of risk", "beta to SPX"],
        [
            (
                c.symbol,
                pct(c.weight),
                pct(c.risk_share),
                "n/a" if c.beta is None else f"{c.beta:.2f}",
            )
            for c in r.contributions
        ],
    )
    stress = table(
        "Stress tests",
        ["scenario", "window", "return", *(["loss"] if r.value else []), "note"],
        [
            (
                s.scenario,
                f"{s.start} to {s.end}" if s.start else "",
                pct(s.portfolio_return, True) if s.portfolio_return is not None else "skipped",
                *([money(s.loss) if s.loss is not None else ""] if r.value else []),
                s.skipped or "",
            )
            for s in r.stress
        ],
    )
    return Group(var, shares, stress, *r.data_notes)


@app.command("screen")
def screen_cmd(
    metric: str = typer.Option(
        ...,
        "--metric",
        help="Rank by: return, volatility, sharpe, max_drawdown, price, or an "
        "indicator (rsi_14, sma_200, macd, bb_pctb, volatility_20d, return_1y, ...).",
    ),
    where: list[str] = typer.Option(
        None, "--where", help='A condition, e.g. "rsi_14<30" or "price>sma_200"; repeat for more.'
    ),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    top: int = typer.Option(10, "--top", min=1, max=500, help="How many to list."),
    ascending: bool | None = typer.Option(
        None, "--ascending/--descending", help="Order (default: best first; lowest volatility)."
    ),
    among: str | None = typer.Option(
        None, "--among", help="Only these stored symbols, comma-separated (e.g. a sector's)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Rank every stored symbol (or those --among) by a metric, keeping those that meet
    each --where."""
    from assistant.analytics_tools import load_screen

    chosen = [s.strip() for s in among.split(",") if s.strip()] if among is not None else None
    if chosen is not None and not chosen:
        raise typer.BadParameter("name at least one symbol", param_hint="--among")
    result = load_screen(
        price_view(get_settings()),
        metric,
        where or [],
        as_date(start),
        as_date(end),
        top,
        ascending,
        chosen,
    )
    emit(result, as_json, lambda: _render_screen(result))


def _render_screen(r: ScreenSummary):
    from rich.console import Group

    columns = list(r.results[0].values) if r.results else [r.metric]
    conditions = f" where {' and '.join(r.conditions)}" if r.conditions else ""
    ranked = table(
        f"{r.matched} of {r.universe} symbols{conditions}, by {r.metric} "
        f"({'lowest' if r.ascending else 'highest'} first)",
        ["symbol", "as of", *columns],
        [(x.symbol, str(x.as_of), *(_cell(x.values.get(c)) for c in columns)) for x in r.results],
    )
    skipped = [f"{s}: {why}" for s, why in r.excluded.items()]
    return Group(ranked, *skipped, *r.data_notes)


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.4g}"


@app.command("sentiment")
def sentiment_cmd(
    ticker: str = typer.Argument(..., help="Ticker the indexed news mentions, e.g. AAPL."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    as_json: bool = JsonOption,
) -> None:
    """News sentiment over time: the daily index, its 7-day mean, the most positive and
    negative stories (scored at ingest: the configured model, else a finance lexicon)."""
    from assistant.analytics_tools import load_sentiment
    from assistant.models.offline.measures import write_sentiment
    from assistant.resources import document_index

    settings = get_settings()
    index = document_index(settings)
    index.check_tickers([ticker.strip().upper()])
    result = load_sentiment(
        index, ticker, as_date(start), as_date(end), None, settings.data_dir / "charts"
    )
    chart = settings.data_dir / "charts" / result.chart.name if result.chart else None

    def human() -> str:
        text = write_sentiment(result, {})
        lines = [text.replace(f"Chart: {result.chart.url}", "") if result.chart else text]
        lines += [f"[{h.n}] {h.title} ({h.source}, {h.published_at})" for h in result.hits]
        return "\n".join([*lines, *([f"Chart: {chart}"] if chart else [])]).replace("\n\n", "\n")

    emit(result, as_json, human)


@app.command("anomalies")
def anomalies_cmd(
    symbol: str = typer.Argument(..., help="Ticker in the store, e.g. AMD."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    threshold: float = typer.Option(
        5.0, "--threshold", help="Robust z-score that counts as abnormal, 2 to 10."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Unusual trading: abnormal returns (and volume), spike-and-reversal patterns, news
    bursts with no filing; each flag with its evidence and a plain explanation."""
    from assistant.analytics_tools import load_anomalies
    from assistant.resources import document_index

    if not 2 <= threshold <= 10:  # NaN and infinities are refused before (cli.finite_floats)
        raise typer.BadParameter(f"{threshold:g} is outside 2 to 10", param_hint="--threshold")
    settings = get_settings()
    result = load_anomalies(
        price_view(settings),
        document_index(settings),
        symbol,
        as_date(start),
        as_date(end),
        threshold,
    )
    emit(result, as_json, lambda: _render_anomalies(result))


def _render_anomalies(r: AnomalySummary):
    from rich.console import Group

    flags = table(
        f"{r.symbol}, {r.start} to {r.end}: {len(r.flags)} flags (|z| >= {r.threshold:g} "
        f"against the {r.baseline} days before)",
        ["date", "kind", "evidence", "why it matters"],
        [(str(f.date), f.kind.value, f.evidence, f.explanation) for f in r.flags],
    )
    skipped = [f"{kind}: {why}" for kind, why in r.unavailable.items()]
    return Group(flags, *skipped, *r.data_notes)


@app.command("indicators")
def indicators_cmd(
    symbol: str = typer.Argument(..., help="Ticker in the store, e.g. AAPL."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    series: bool = typer.Option(False, "--series", help="Include each indicator's series."),
    as_json: bool = JsonOption,
) -> None:
    """Latest technical indicators as of --end (warm-up uses earlier data)."""
    result = indicators(price_view(), symbol, as_date(start), as_date(end), with_series=series)
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


def choices(kind: type[StrEnum]) -> str:
    """An option's choices for its help text, where they wrap between words (typer's
    metavar for an enum wraps inside them)."""
    return ", ".join(k.value for k in kind)


def _pairs(values: list[str], option: str, cast=str) -> dict[str, object]:
    """Parse repeated KEY=VALUE options into a dict, naming the option on bad input."""
    out: dict[str, object] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInputError(f"{option} expects KEY=VALUE, got {item!r}")
        if key.strip().upper() in {k.upper() for k in out}:
            raise InvalidInputError(f"{option} names {key.strip()} twice: give each once")
        try:
            out[key.strip()] = cast(value)
        except ValueError:
            raise InvalidInputError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


@app.command("optimize")
def optimize_cmd(
    symbols: list[str] = typer.Argument(..., help="Two or more symbols."),
    method: Method = typer.Option(
        Method.MAX_SHARPE, "--method", metavar="METHOD", help=f"Objective: {choices(Method)}."
    ),
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
    risk_aversion: float | None = typer.Option(
        None, "--risk-aversion", help="mean-variance without a target (default 1)."
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
        price_view(),
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
    return table(
        f"{r.method} on {r.start}..{r.end} ({r.observations} days): "
        f"return {r.expected_return:.2%}, volatility {r.volatility:.2%}, Sharpe {r.sharpe:.2f}",
        ["symbol", "weight", "risk contribution"],
        [(s, f"{r.weights[s]:.2%}", f"{r.risk_contributions[s]:.2%}") for s in r.symbols],
    )


@app.command("backtest")
def backtest_cmd(
    symbol: str = typer.Argument(
        ..., help="Ticker in the store (rebalance: the first of several)."
    ),
    ranges: list[str] | None = typer.Argument(
        None, help="With --sweep: NAME=START:STOP:STEP ...; with rebalance: more symbols."
    ),
    strategy: Strategy = typer.Option(
        Strategy.SMA_CROSS, "--strategy", metavar="STRATEGY", help=f"One of {choices(Strategy)}."
    ),
    fast: int | None = typer.Option(None, "--fast", help="sma-cross/macd fast window."),
    slow: int | None = typer.Option(None, "--slow", help="sma-cross/macd slow window."),
    window: int | None = typer.Option(None, "--window", help="rsi-reversion/bollinger window."),
    lower: float | None = typer.Option(None, "--lower", help="rsi-reversion: enter below."),
    upper: float | None = typer.Option(None, "--upper", help="rsi-reversion: exit above."),
    k: float | None = typer.Option(None, "--k", help="bollinger: band width in std devs."),
    signal: int | None = typer.Option(None, "--signal", help="macd signal window."),
    cost_bps: float = typer.Option(0.0, "--cost-bps", help="Cost per traded notional, bps."),
    slippage_bps: float = typer.Option(0.0, "--slippage-bps", help="Slippage, bps."),
    capital: float = typer.Option(1.0, "--capital", help="Starting equity."),
    allow_short: bool = typer.Option(False, "--allow-short", help="Short instead of flat."),
    start: datetime | None = StartOption,
    end: datetime | None = EndOption,
    method: Method = typer.Option(
        Method.MAX_SHARPE,
        "--method",
        metavar="METHOD",
        help=f"rebalance: optimiser, {choices(Method)}.",
    ),
    frequency: Frequency = typer.Option(Frequency.MONTHLY, "--frequency", help="rebalance."),
    lookback: int = typer.Option(252, "--lookback", help="rebalance: estimation window, days."),
    max_weight: float = typer.Option(1.0, "--max-weight", help="rebalance: per-asset cap."),
    do_sweep: bool = typer.Option(False, "--sweep", help="Sweep the given ranges instead."),
    walk: bool = typer.Option(False, "--walk-forward", help="With --sweep: walk-forward."),
    train_days: int = typer.Option(756, "--train-days", help="Walk-forward training window."),
    test_days: int = typer.Option(252, "--test-days", help="Walk-forward test window."),
    rank_by: str = typer.Option("sharpe", "--rank-by", help="Sweep ranking metric."),
    top: int = typer.Option(20, "--top", min=1, max=10_000, help="Sweep rows to show."),
    as_json: bool = JsonOption,
) -> None:
    """Backtest a strategy (no look-ahead; costs on traded notional), or sweep its parameters."""
    given = dict(fast=fast, slow=slow, window=window, lower=lower, upper=upper, k=k, signal=signal)
    params = {name: float(v) for name, v in given.items() if v is not None}
    store = price_view()
    chart_dir = get_settings().data_dir / "charts"
    # what every kind of run shares: the period and the trading costs
    common = dict(
        start=as_date(start), end=as_date(end), cost_bps=cost_bps, slippage_bps=slippage_bps
    )
    if strategy is Strategy.REBALANCE:
        result = rebalance_backtest(
            store,
            [symbol, *(ranges or [])],
            method,
            Constraints(max_weight=max_weight),
            frequency=frequency,
            lookback_days=lookback,
            capital=capital,
            chart_dir=chart_dir,
            **common,
        )
        emit(result, as_json, lambda: _render_backtest(result))
        return
    if walk and not do_sweep:
        raise InvalidInputError("--walk-forward needs --sweep and ranges to choose from")
    if do_sweep:
        parsed = [parse_range(spec) for spec in ranges or []]
        names = [name for name, _ in parsed]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InvalidInputError(f"the sweep names {', '.join(twice)} twice: give each once")
        grid = dict(parsed)
        grid = {**{n: [v] for n, v in params.items()}, **grid}
        if walk:
            result = walk_forward(
                store,
                symbol,
                strategy,
                grid,
                train_days=train_days,
                test_days=test_days,
                allow_short=allow_short,
                rank_by=rank_by,
                **common,
            )
            emit(result, as_json, lambda: _render_walk_forward(result))
            return
        result = sweep(
            store,
            symbol,
            strategy,
            grid,
            allow_short=allow_short,
            rank_by=rank_by,
            top=top,
            **common,
        )
        emit(result, as_json, lambda: _render_sweep(result))
        return
    if ranges:
        raise InvalidInputError(f"unexpected arguments {' '.join(ranges)} (ranges need --sweep)")
    result = backtest(
        store,
        symbol,
        strategy,
        params,
        capital=capital,
        allow_short=allow_short,
        chart_dir=chart_dir,
        **common,
    )
    emit(result, as_json, lambda: _render_backtest(result))


def _render_backtest(r: RunResult):
    m = r.metrics.model_dump()
    out = table(
        f"{r.label()} on {r.start}..{r.end} ({r.bars} bars)",
        ["metric", "value"],
        [(name, value) for name, value in m.items()],
    )
    out.caption = f"chart: {r.chart_path}"
    return out


def _render_sweep(r: SweepResult):
    return table(
        f"{r.symbol} {r.strategy}: {r.combinations} combinations on {r.start}..{r.end}, "
        f"best {r.rank_by} first",
        ["params", "total_return", "cagr", "sharpe", "max_drawdown", "trades", "exposure"],
        [
            (
                format_params(row.params),
                row.total_return,
                row.cagr,
                row.sharpe,
                row.max_drawdown,
                row.trades,
                row.exposure,
            )
            for row in r.rows
        ],
    )


def _render_walk_forward(r: WalkForwardResult):
    out = table(
        f"{r.symbol} {r.strategy} walk-forward ({r.train_days} train / {r.test_days} test days, "
        f"best {r.rank_by}): out-of-sample {r.oos_total_return:.2%}, Sharpe {r.oos_sharpe:.2f}, "
        f"max drawdown {r.oos_max_drawdown:.2%}",
        ["test window", "params", "train score", "test return", "test sharpe"],
        [
            (
                f"{w.test_start}..{w.test_end}",
                format_params(w.params),
                w.train_score,
                w.test_total_return,
                w.test_sharpe,
            )
            for w in r.windows
        ],
    )
    return out
