"""Read-only analytics tools for the agent: measures across symbols (compare), and what
a set of holdings risks (VaR, risk shares, stress tests). Pure computation is in ``tools/``; here the prices are loaded
through the caller's view (pinned date, live refresh) and the result is rounded."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints
from pydantic_ai import ModelRetry, RunContext, ToolFailed

from assistant.deps import AgentDeps, ToolTimer
from assistant.results import (
    AnomalySummary,
    Artifact,
    CompareSummary,
    RiskSummary,
    ScreenSummary,
    SentimentSummary,
)
from assistant.tool_support import freshness, retry, window
from assistant.watchlist_tools import watched_symbols
from assistant.watchlists import ListName
from retrieval.days import Day
from retrieval.errors import RetrievalError
from retrieval.models import Citation, DocType, SearchFilters
from retrieval.sentiment_index import sentiment_index, write_sentiment_chart
from tools.anomaly import THRESHOLD, detect
from tools.broker import Broker
from tools.compare import compare, write_chart
from tools.errors import InvalidInputError, NoDataError, ToolError
from tools.orders import Symbol
from tools.portfolio_risk import HISTORICAL_SCENARIOS, MARKET_SHOCK
from tools.portfolio_risk import portfolio_risk as measure_risk
from tools.providers.live import PriceView
from tools.screen import METRICS, check_metric, parse_condition, screen
from tools.securities import INDICES

if TYPE_CHECKING:  # Qdrant's client and scipy: only when a tool opens the index
    from retrieval.index import DocumentIndex

DEFAULT_BENCHMARK = "SPX"
Weight = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
CompareSymbols = Annotated[list[Symbol], Field(min_length=1, max_length=20)]


def rounded(value: Any, digits: int = 4) -> Any:
    """Every float in a dumped result rounded for the model (non-finite ones become None)."""
    if isinstance(value, float):
        return round(value, digits) if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


def load_comparison(
    view: PriceView,
    symbols: list[str],
    start: date | None,
    end: date | None,
    benchmark: str | None,
    chart_dir: Path,
) -> CompareSummary:
    """The comparison the tool and ``assistant tools compare`` give: each symbol's window
    (a window up to now that the data does not reach is the same span to the last close,
    said so), the benchmark over the same window (the default only when stored), rounded."""
    symbols = list(dict.fromkeys(s.strip().upper() for s in symbols))
    notes: list[str] = []
    frames = {}
    for symbol in symbols:
        frame, _, said = window(view, symbol, start, end)
        frames[frame.symbol] = frame
        notes += said
    bench = None
    name = (benchmark or DEFAULT_BENCHMARK).strip().upper()
    if benchmark is not None or view.store.exists(name):
        bench_frame, _, said = window(view, name, start, end)
        bench = (bench_frame.symbol, bench_frame.price)
        notes += said
    else:
        notes.append(f"No {name} prices are stored: no beta.")
    closes = {s: f.price for s, f in frames.items()}
    added = len(closes) == 1 and bench is not None and bench[0] not in closes
    if added:
        closes[bench[0]] = bench[1]  # one symbol: compared with the market
    result = compare(closes, bench)
    chart = write_chart(closes, chart_dir)
    fresh = freshness(view)
    return CompareSummary.model_validate(
        {
            **rounded(result.model_dump()),
            "as_of": max(f.as_of for f in frames.values()),
            "source": next(iter(frames.values())).source,
            "benchmark_added": added,
            "chart": Artifact.chart(Path(chart).name),
            "data_notes": [*fresh["data_notes"], *notes],
            "fetched": fresh["fetched"],
        }
    )


def compare_symbols(
    ctx: RunContext[AgentDeps],
    symbols: CompareSymbols,
    start: Day | None = None,
    end: Day | None = None,
    benchmark: Symbol | None = None,
) -> CompareSummary:
    """Compare symbols side by side over [start, end] (default: all stored data): total
    and annual return, volatility, Sharpe, Sortino, Calmar, max drawdown with its peak and
    trough dates, beta to the benchmark (default SPX, the S&P 500, when stored), best and
    worst day and month, and the correlation matrix of daily returns. One symbol is
    measured against the benchmark. Answers "how correlated are", "which was riskier",
    "what was the max drawdown", "what is the beta"."""
    deps = ctx.deps
    with ToolTimer(deps):
        try:
            return load_comparison(
                deps.prices(), symbols, start, end, benchmark, deps.settings.data_dir / "charts"
            )
        except ToolError as exc:
            raise retry(exc) from None


RISK_YEARS = 3
"""The default risk window: the last three years of prices (a recent regime, ~750 days)."""
Holdings = Annotated[
    dict[Symbol, Weight],
    Field(min_length=1, max_length=30, json_schema_extra={"additionalProperties": False}),
]
"""Keys must be symbols: the schema says so (patternProperties alone admits any key)."""


def load_risk(
    view: PriceView,
    weights: dict[str, float],
    start: date | None,
    end: date | None,
    value: float | None = None,
    account: bool = False,
    market_move: float = MARKET_SHOCK,
) -> RiskSummary:
    """Risk of constant-weight holdings over [start, end] (default: the three years to the
    last close), their betas to SPX when stored, and the stress scenarios over each
    holding's stored history (nothing after a pinned day)."""
    named = [s.strip().upper() for s in weights]
    if len(set(named)) < len(named):
        twice = next(s for s in named if named.count(s) > 1)
        raise InvalidInputError(f"{twice} is named twice: give each holding once")
    weights = {s.strip().upper(): w for s, w in weights.items()}
    notes: list[str] = []
    frames = {}
    for symbol in weights:
        first = view.load(symbol, None, end)  # the last close on or before end
        window_start = start or first.as_of - timedelta(days=365 * RISK_YEARS)
        frame, _, said = window(view, symbol, window_start, end)
        frames[frame.symbol] = frame
        notes += said
    weights = {f.symbol: weights[s] for s, f in zip(weights, frames.values(), strict=True)}
    closes = {s: f.price for s, f in frames.items()}
    first_day = min(c.index[0] for c in closes.values()).date()
    last_day = max(c.index[-1] for c in closes.values()).date()
    market = None
    if view.store.exists(DEFAULT_BENCHMARK):
        market = view.load(DEFAULT_BENCHMARK, first_day, last_day).price
    else:
        notes.append(f"No {DEFAULT_BENCHMARK} prices are stored: no betas, no market shock.")
    history = {s: view.load(s, None, end).price for s in weights}
    result = measure_risk(closes, weights, market, history, value, view.as_of, market_move)
    if view.as_of is not None and len(result.stress) < len(HISTORICAL_SCENARIOS) + 1:
        notes.append("Stress scenarios that had not happened by the pinned day are left out.")
    fresh = freshness(view)
    return RiskSummary.model_validate(
        {
            **rounded(result.model_dump()),
            "as_of": max(f.as_of for f in frames.values()),
            "source": next(iter(frames.values())).source,
            "account": account,
            "value": value,
            "data_notes": [*fresh["data_notes"], *notes],
            "fetched": fresh["fetched"],
        }
    )


def account_holdings(broker: Broker) -> tuple[dict[str, float], float]:
    """The account's long positions as weights of what they are worth, and that worth."""
    worth = {p.symbol: p.market_value for p in broker.positions() if p.quantity > 0}
    worth = {s: v for s, v in worth.items() if v}
    total = sum(worth.values())
    if not worth or total <= 0:
        raise NoDataError("the account holds no positions: name the holdings and weights")
    return {s: v / total for s, v in worth.items()}, total


def portfolio_risk(
    ctx: RunContext[AgentDeps],
    weights: Holdings | None = None,
    account: bool = False,
    start: Day | None = None,
    end: Day | None = None,
    market_move: Annotated[float, Field(ge=-0.9, le=0.9, allow_inf_nan=False)] = MARKET_SHOCK,
) -> RiskSummary:
    """Risk of holdings with constant weights (fractions summing to 1, e.g. {"AAPL": 0.6,
    "KO": 0.4}) or of the account's positions (`account`: true): one-day VaR and CVaR at
    95% and 99% (historical, parametric, Cornish-Fisher), annual volatility, each
    holding's share of the risk and beta, and stress tests: the 1987 crash, the dot-com
    bust, the 2008 crisis, the 2020 covid fall, the 2022 rate rises, and a 20% market
    fall through each holding's beta (`market_move`, a fraction: -0.3 for a 30% fall;
    with the loss in dollars for the account). Window: [start, end], default the three
    years to the latest close."""
    deps = ctx.deps
    if (weights is None) == (not account):
        raise ModelRetry("give either weights (symbol: fraction) or account: true")
    with ToolTimer(deps):
        value = None
        if account:
            if deps.as_of is not None:
                raise ToolFailed(
                    f"the account is today's, and this conversation is pinned to {deps.as_of}:"
                    " name the holdings and weights instead"
                )
            try:
                weights, value = account_holdings(deps.broker())
            except NoDataError as exc:
                raise retry(exc) from None  # a fact about the account (HTTP: 404 no_data)
            except Exception as exc:  # a broker that is down is a fact, not a retry
                raise ToolFailed(f"the broker could not be reached: {exc}") from exc
        try:
            return load_risk(deps.prices(), weights, start, end, value, account, market_move)
        except ToolError as exc:
            raise retry(exc) from None


ScreenMetric = StrEnum("ScreenMetric", {m.upper(): m for m in METRICS})  # type: ignore[misc]
ConditionText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=60, pattern=r"^[\w.<>=+ -]+$"
    ),
]


def load_screen(
    view: PriceView,
    metric: str,
    where: list[str],
    start: date | None,
    end: date | None,
    top: int,
    ascending: bool | None,
    symbols: list[str] | None = None,
) -> ScreenSummary:
    """Every stored stock (an index such as SPX only when ``symbols`` names it), or those
    of ``symbols`` (a sector's members) that are stored (the store as the view sees it:
    nothing after a pinned day)."""
    conditions = [parse_condition(c) for c in where]
    metric = check_metric(metric)
    histories = {}
    sources = set()
    universe = view.store.symbols()
    if symbols:
        wanted = {s.upper() for s in symbols}
        universe = [s for s in universe if s in wanted]
        if not universe:
            raise InvalidInputError(
                f"none of {', '.join(sorted(wanted))} has stored prices to screen"
            )
    else:
        universe = [s for s in universe if s not in INDICES]  # stocks, not the market
    for symbol in universe:
        try:
            frame = view.load(symbol, None, end)
        except ToolError:
            continue  # nothing on or before the end: said in `excluded` below
        histories[frame.symbol] = frame.price
        sources.add(frame.source)
    result = screen(histories, metric, conditions, start, end, top, ascending)
    for symbol in set(universe) - set(histories):
        result.excluded[symbol] = "no prices on or before the window's end"
    latest = max((h.index[-1].date() for h in histories.values() if len(h)), default=None)
    as_of = max((r.as_of for r in result.results), default=latest or end or date.today())
    return ScreenSummary.model_validate(
        {
            **rounded(result.model_dump()),
            "as_of": as_of,
            "source": ", ".join(sorted(sources)),
            **freshness(view),
        }
    )


def screen_symbols(
    ctx: RunContext[AgentDeps],
    metric: ScreenMetric,
    where: Annotated[list[ConditionText], Field(max_length=5)] = [],  # noqa: B006
    start: Day | None = None,
    end: Day | None = None,
    top: Annotated[int, Field(ge=1, le=50)] = 10,
    ascending: bool | None = None,
    symbols: Annotated[list[Symbol], Field(max_length=500)] | None = None,
    watchlist: ListName | None = None,
) -> ScreenSummary:
    """Rank every stored symbol by one metric, best first (highest; lowest for
    volatility), keeping those that meet every condition in `where` (e.g. "rsi_14<30",
    "price>sma_200", "return>0.1"; a metric or a number on the right). Window metrics
    (return, volatility, sharpe, max_drawdown) cover [start, end], default all stored
    data; indicators are read at `end` (default the latest close). Answers "which stocks
    are oversold", "best Sharpe ratio over five years", "which are above their 200-day
    average". `symbols` limits the universe (e.g. a sector's stocks: "oversold pharma
    stocks"), and so does `watchlist`, one of the asker's watchlists ("default" is the
    unnamed one): "which stocks on my watchlist are down the most this year"."""
    deps = ctx.deps
    if watchlist is not None:  # both given: the watched ones among `symbols`
        watched = watched_symbols(deps, watchlist)
        symbols = [s for s in watched if s in set(symbols)] if symbols else watched
        if not symbols:
            raise retry(NoDataError(f"none of those symbols is on your watchlist '{watchlist}'"))
    with ToolTimer(deps):
        try:
            return load_screen(
                deps.prices(), str(metric), list(where), start, end, top, ascending, symbols
            )
        except ToolError as exc:
            raise retry(exc) from None


def load_sentiment(
    index: DocumentIndex,
    ticker: str,
    start: date | None,
    end: date | None,
    pin: date | None,
    chart_dir: Path | None,
) -> SentimentSummary:
    """The news about ``ticker`` published in [start, end] and on or before ``pin``."""
    ticker = ticker.strip().upper()
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"start {start} is after end {end}")
    if pin is not None and start is not None and start > pin:
        raise InvalidInputError(f"this conversation is pinned to {pin}: nothing from {start} on")
    as_of = min(end, pin) if end and pin else (end or pin)
    filters = SearchFilters(tickers=[ticker], doc_type=DocType.NEWS, start=start, as_of=as_of)
    result = sentiment_index(ticker, index.chunks(filters), start, as_of)
    stories = [*result.most_positive, *result.most_negative]
    hits = [
        Citation(
            n=n,
            doc_id=s.doc_id,
            title=s.title,
            source=s.source,
            published_at=s.published_at,
            snippet=s.snippet,
            url=s.url,
        )
        for n, s in enumerate(stories, start=1)
    ]
    chart = write_sentiment_chart(result, chart_dir) if chart_dir and result.days else None
    return SentimentSummary.model_validate(
        {
            **rounded(result.model_dump()),
            "hits": hits,
            "chart": Artifact.chart(chart.name) if chart else None,
        }
    )


def news_sentiment(
    ctx: RunContext[AgentDeps],
    ticker: Symbol,
    start: Day | None = None,
    end: Day | None = None,
) -> SentimentSummary:
    """News sentiment about one company over [start, end] (default: all indexed news):
    the average score (-1 negative .. 1 positive) and its reading, a daily index with a
    7-day rolling mean, and the most positive and most negative stories, cited as [n].
    Scores come from the sentiment model when one is configured, else a finance lexicon."""
    deps = ctx.deps
    with ToolTimer(deps):
        try:
            return load_sentiment(
                deps.index(), ticker, start, end, deps.as_of, deps.settings.data_dir / "charts"
            )
        except (RetrievalError, ToolError) as exc:
            raise retry(exc) from None


def load_anomalies(
    view: PriceView,
    index: DocumentIndex | None,
    symbol: str,
    start: date | None,
    end: date | None,
    threshold: float,
) -> AnomalySummary:
    """Flags for ``symbol`` over [start, end]; the whole stored history before ``start``
    is the baseline's warm-up; news and filing dates from the index when it has any."""
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"start {start} is after end {end}")
    frame = view.load(symbol, None, end)
    window_start = start or frame.frame.index[0].date()
    story_days = filing_days = None
    if index is not None:
        last = frame.as_of
        chunks = index.chunks(SearchFilters(tickers=[frame.symbol], start=window_start, as_of=last))
        if chunks:
            docs = {c.doc_id: c for c in chunks}.values()
            story_days = [c.published_at for c in docs if c.doc_type is DocType.NEWS]
            filing_days = [c.published_at for c in docs if c.doc_type is DocType.FILING]
    volume = frame.frame["volume"] if "volume" in frame.frame.columns else None
    result = detect(
        frame.symbol, frame.price, volume, window_start, story_days, filing_days, threshold
    )
    fresh = freshness(view)
    return AnomalySummary.model_validate(
        {**rounded(result.model_dump()), "as_of": frame.as_of, "source": frame.source, **fresh}
    )


def detect_anomalies(
    ctx: RunContext[AgentDeps],
    symbol: Symbol,
    start: Day | None = None,
    end: Day | None = None,
    threshold: Annotated[float, Field(ge=2, le=10, allow_inf_nan=False)] = THRESHOLD,
) -> AnomalySummary:
    """Unusual trading in one symbol over [start, end] (default: all stored data): days
    whose return (or volume, when stored) is `threshold` robust standard deviations from
    the 60 days before, spike-and-reversal patterns (a 20% rise within 5 days giving back
    half within 10: what a pump-and-dump leaves), and bursts of news with no filing. Each
    flag has its evidence and a plain explanation. Flags are not accusations."""
    deps = ctx.deps
    with ToolTimer(deps):
        try:
            try:
                index = deps.index()
            except RetrievalError:
                index = None  # prices alone still answer
            return load_anomalies(deps.prices(), index, symbol, start, end, threshold)
        except (RetrievalError, ToolError) as exc:
            raise retry(exc) from None


TOOLS = [compare_symbols, portfolio_risk, screen_symbols, news_sentiment, detect_anomalies]
