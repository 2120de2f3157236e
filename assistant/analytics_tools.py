"""Read-only analytics tools for the agent: measures across symbols (compare), and what
a set of holdings risks. Pure computation is in ``tools/``; here the prices are loaded
through the caller's view (pinned date, live refresh) and the result is rounded."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field
from pydantic_ai import RunContext

from assistant.deps import AgentDeps, ToolTimer
from assistant.results import Artifact, CompareSummary
from assistant.tool_support import freshness, retry, window
from retrieval.days import Day
from tools.compare import compare, write_chart
from tools.errors import ToolError
from tools.orders import Symbol
from tools.providers.live import PriceView

DEFAULT_BENCHMARK = "SPX"
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


TOOLS = [compare_symbols]
