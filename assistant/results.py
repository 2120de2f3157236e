"""What the agent's tools return: compact pydantic models, the same ones all the way to
the offline answer writer, the SSE summaries, citations, Slack, MCP and the CLI.

Numbers are rounded for the model (the rounded value is what an answer may quote);
fractions are fractions. Long series are summarised. A chart is an :class:`Artifact`
with a URL, never a path on the server.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from retrieval.models import Citation
from retrieval.sentiment_index import SentimentIndex
from tools.anomaly import Anomalies
from tools.compare import Comparison
from tools.crosses import Cross
from tools.orders import BrokerOrder, Order, format_quantity
from tools.portfolio_risk import PortfolioRisk
from tools.providers.live import Refresh
from tools.risk import RiskReport
from tools.screen import ScreenResult
from tools.securities import Security

ARTIFACTS_URL = "/v1/artifacts"


def r(value: float | None, digits: int = 4) -> float | None:
    """Round for the model; None for missing or non-finite values."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


class Artifact(BaseModel):
    """A file a tool produced (a chart), served at ``url`` to whoever may see the turn."""

    name: str
    url: str
    media_type: str = "image/png"

    @classmethod
    def chart(cls, name: str) -> Artifact:
        return cls(name=name, url=f"{ARTIFACTS_URL}/{name}")


class DataNotes(BaseModel):
    """What every result built on prices carries about the data's freshness."""

    data_notes: list[str] = Field(
        default_factory=list,
        description="Sentences the answer must carry: prices that could not be refreshed, "
        "or that end before the last trading day with nothing to refresh them.",
    )
    fetched: list[Refresh] = Field(
        default_factory=list, description="Prices fetched from the provider for this result."
    )


class PriceSummary(DataNotes):
    symbol: str
    as_of: date
    source: str
    start: date
    end: date
    bars: int
    first_close: float
    last_close: float
    base_date: date = Field(
        description="The close the return is measured from: the last one before `start` "
        "when the store has it (a calendar period runs from the previous close), else `start`."
    )
    base_close: float
    period_return: float = Field(description="Fraction, from the base close to the last.")
    high: float
    low: float
    high_date: date | None = Field(None, description="The close of the period's high.")
    low_date: date | None = Field(None, description="The close of the period's low.")
    annual_volatility: float | None
    max_drawdown: float = Field(description="Largest fall from a high, a fraction <= 0.")
    sharpe_ratio: float | None = Field(description="Annualised, risk-free rate 0.")
    invested: float | None = Field(None, description="Dollars bought at the base close.")
    worth: float | None = Field(
        None, description="What `invested` was worth at the last close: x (1 + period_return)."
    )

    def summary(self) -> str:
        return f"{self.symbol} {self.start} to {self.end}"


class SymbolMatch(Security):
    in_store: bool = Field(description="Whether the price store holds its prices.")


class SymbolSearch(BaseModel):
    query: str
    matches: list[SymbolMatch]
    companies: int = Field(description="How many companies the security master knows.")

    def summary(self) -> str:
        return f"{len(self.matches)} matches for {self.query!r}"


class CompareSummary(Comparison, DataNotes):
    """:class:`tools.compare.Comparison` rounded for the model, with the data's freshness
    and a chart of growth and drawdowns."""

    as_of: date = Field(description="The last close any of the series has.")
    source: str
    benchmark_added: bool = Field(
        default=False, description="One symbol was asked for: the benchmark joined it."
    )
    chart: Artifact | None = None

    def summary(self) -> str:
        return f"{', '.join(self.symbols)} compared to {self.as_of}"


class RiskSummary(PortfolioRisk, DataNotes):
    """:class:`tools.portfolio_risk.PortfolioRisk` rounded for the model, with what it
    was measured on."""

    as_of: date
    source: str
    account: bool = Field(default=False, description="The holdings are the account's.")
    value: float | None = Field(
        default=None, description="The holdings' worth in currency (the account's positions)."
    )

    def summary(self) -> str:
        return f"risk of {', '.join(self.weights)} to {self.as_of}"


class ScreenSummary(ScreenResult, DataNotes):
    """:class:`tools.screen.ScreenResult` rounded for the model."""

    as_of: date = Field(description="The latest close the values are read at.")
    source: str

    def summary(self) -> str:
        conditions = f" where {' and '.join(self.conditions)}" if self.conditions else ""
        return f"{self.matched} of {self.universe} symbols by {self.metric}{conditions}"


class SentimentSummary(SentimentIndex):
    """:class:`retrieval.sentiment_index.SentimentIndex` rounded, with its stories as
    citations (the most positive first, then the most negative) and a chart."""

    hits: list[Citation] = Field(description="Cite each as [n].")
    chart: Artifact | None = None

    def summary(self) -> str:
        return f"news sentiment of {self.ticker}: {self.stories} stories"


class AnomalySummary(Anomalies, DataNotes):
    """:class:`tools.anomaly.Anomalies` rounded for the model."""

    as_of: date
    source: str

    def summary(self) -> str:
        flags = "flag" if len(self.flags) == 1 else "flags"
        return f"{len(self.flags)} {flags} for {self.symbol}, {self.start} to {self.end}"


class IndicatorSummary(DataNotes):
    symbol: str
    as_of: date
    source: str
    price: float
    values: dict[str, float | None]
    unavailable: dict[str, str]
    windows: dict[str, int] = Field(description="Bars behind each reading, e.g. rsi 14.")
    rsi_bounds: dict[str, int] = Field(description="Conventional RSI reading thresholds.")

    def summary(self) -> str:
        return f"{self.symbol} as of {self.as_of}"


class CrossSummary(DataNotes):
    """When averages crossed (tools/crosses.py): the crosses of the window, most recent
    last, at most :data:`MAX_CROSSES`; the one before the window when it has none."""

    symbol: str
    as_of: date
    source: str
    start: date
    end: date
    fast: int = Field(description="The fast SMA's closes; 1: the price itself.")
    slow: int
    count: int = Field(description="Crosses in the window (the list keeps the latest).")
    crosses: list[Cross]
    before: Cross | None
    fast_now: float | None
    slow_now: float | None
    above_now: bool | None

    def summary(self) -> str:
        return f"{self.symbol}: {self.count} crosses {self.start} to {self.end}"


MAX_CROSSES = 20


class PortfolioSummary(DataNotes):
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
    capital: float | None = None
    amounts: dict[str, float] | None = Field(
        None, description="Money per symbol: weight x capital, when capital was given."
    )
    profile: str | None = Field(
        None, description="The asker's risk profile, when it set any of the settings."
    )
    profile_applied: list[str] = Field(
        default_factory=list, description="What the profile set, in words."
    )

    def summary(self) -> str:
        return f"{self.method} on {', '.join(self.weights)} as of {self.as_of}"


class BacktestMetrics(BaseModel):
    total_return: float | None
    cagr: float | None
    annual_volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None = Field(description="Negative fraction, e.g. -0.23.")
    win_rate: float | None
    exposure: float | None
    final_equity: float | None


class BacktestSummary(DataNotes):
    symbol: str
    strategy: str
    params: dict[str, float]
    as_of: date
    source: str
    start: date
    end: date
    cost_bps: float
    metrics: BacktestMetrics
    trades: int
    chart: Artifact | None = None

    def summary(self) -> str:
        return f"{self.strategy} on {self.symbol}, {self.start} to {self.end}"


class SweepRowSummary(BaseModel):
    params: dict[str, float]
    total_return: float | None
    sharpe: float | None
    max_drawdown: float | None


class SweepSummary(DataNotes):
    symbol: str
    strategy: str
    as_of: date
    source: str
    start: date
    end: date
    combinations: int
    rank_by: str
    top: list[SweepRowSummary] = Field(description="Best first.")

    def summary(self) -> str:
        return f"{self.combinations} {self.strategy} settings on {self.symbol}"


class WalkForwardSummary(DataNotes):
    symbol: str
    strategy: str
    as_of: date
    source: str
    start: date
    end: date
    train_days: int
    test_days: int
    windows: int
    combinations: int
    out_of_sample: BacktestMetrics = Field(description="The test windows chained.")
    last_params: dict[str, float] = Field(description="Chosen on the latest training window.")

    def summary(self) -> str:
        return f"walk-forward {self.strategy} on {self.symbol}, {self.windows} windows"


class RebalanceSummary(DataNotes):
    symbols: list[str]
    method: str
    frequency: str
    as_of: date
    source: str
    start: date
    end: date
    lookback_days: int
    rebalances: int
    metrics: BacktestMetrics
    last_weights: dict[str, float]
    chart: Artifact | None = None

    def summary(self) -> str:
        return f"{self.frequency} {self.method} rebalance of {', '.join(self.symbols)}"


class SearchSummary(BaseModel):
    query: str
    as_of: date | None
    start: date | None = Field(default=None, description="Published on or after.")
    hits: list[Citation] = Field(description="Cite each as [n].")

    def summary(self) -> str:
        return f"{len(self.hits)} documents"


class PositionSummary(BaseModel):
    symbol: str
    quantity: float
    avg_price: float | None
    market_value: float | None


class PendingApproval(BaseModel):
    approval_id: str
    order: str
    expires_at: datetime


class AccountSummary(BaseModel):
    broker: str
    cash: float
    equity: float
    positions: list[PositionSummary]
    open_orders: list[str] = Field(
        default_factory=list, description="Orders resting at the broker, in words."
    )
    pending_approvals: list[PendingApproval] = Field(
        default_factory=list, description="Your proposed orders waiting for an approver."
    )

    def summary(self) -> str:
        return f"{self.broker} account, {len(self.positions)} positions"


class ApprovalStatus(StrEnum):
    """The life of a proposed order. ``refused`` ends a proposal before any approval
    exists (wrong role, not the owner's conversation, unreadable account): never stored."""

    REFUSED = "refused"
    PENDING = "pending"
    APPROVED = "approved"  # transient: between the decision and the broker's answer
    EXECUTED = "executed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED_CHECKS = "failed_checks"
    BROKER_ERROR = "broker_error"

    @property
    def final(self) -> bool:
        return self not in (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)


class OrderOutcome(BaseModel):
    """What became of one ``place_order`` call; the resumed run reads it back."""

    status: ApprovalStatus
    order: Order | None = Field(description="None only for an approval stored invalid.")
    approval_id: str | None = None
    broker_order: BrokerOrder | None = None
    risk_checks: RiskReport | None = None
    detail: str | None = None

    def summary(self) -> str:
        return f"{self.order.describe() if self.order else 'order'}: {self.status}"

    def describe(self) -> str:
        """The one sentence people read about an order's outcome (answers, Slack, CLI)."""
        what = self.order.describe() if self.order else "trade (stored invalid)"
        ref = f" (approval {self.approval_id})" if self.approval_id else ""
        placed = self.broker_order
        if self.status is ApprovalStatus.EXECUTED and placed is not None:
            if placed.filled_avg_price is not None and placed.filled_quantity > 0:
                return (
                    f"The approved order to {what}{ref} was filled at "
                    f"{placed.filled_avg_price:,.2f} per share, "
                    f"{format_quantity(placed.filled_quantity)} shares ({placed.broker} order "
                    f"{placed.id})."
                )
            reason = f": {placed.reason}" if placed.reason else ""
            return (
                f"The approved order to {what}{ref} was sent; the {placed.broker} broker reports "
                f"it {placed.status.value.replace('_', ' ')}{reason} (order {placed.id})."
            )
        if self.status is ApprovalStatus.PENDING:
            return (
                f"The order to {what}{ref} is waiting for an approver's decision; the outcome "
                "will be reported in this conversation."
            )
        if self.status is ApprovalStatus.FAILED_CHECKS:
            checks = self.risk_checks
            failures = "; ".join(c.reason for c in checks.failures) if checks else ""
            return (
                f"The order to {what}{ref} failed the pre-trade checks and was not sent: "
                f"{failures or self.detail or 'no reason recorded'}."
            )
        detail = f": {self.detail}" if self.detail else ""
        label = {
            ApprovalStatus.REFUSED: "could not be proposed",
            ApprovalStatus.REJECTED: "was rejected",
            ApprovalStatus.EXPIRED: "expired before anyone decided",
            ApprovalStatus.BROKER_ERROR: "failed at the broker",
            ApprovalStatus.EXECUTED: "was executed",
            ApprovalStatus.APPROVED: "was approved and is being sent to the broker",
        }[self.status]
        return f"The order to {what}{ref} {label}{detail}."
