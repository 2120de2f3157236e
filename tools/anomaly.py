"""Unusual trading: abnormal returns and volume, spike-and-reversal patterns (what a
pump-and-dump leaves in prices), and bursts of news with no filing behind them.

Conventions (README, "Analytics"): simple daily close-to-close returns. A day's robust
z-score compares it with the ``baseline`` trading days before it (not including it):
z = (x − median) / (1.4826 × MAD), MAD the median absolute deviation, 1.4826 making it
a standard deviation for normal data; volume is compared in logs. A day is abnormal when
|z| ≥ ``threshold`` (default 5). A spike-and-reversal is a rise of at least ``spike``
(default 20%) within ``spike_days`` (5) that gives back at least half of it within the
next ``reversal_days`` (10). A news burst is a day with at least 3 stories and a robust
z ≥ threshold against the baseline's daily counts, with no filing within 3 days.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import NoDataError

MAD_SCALE = 1.4826
BASELINE = 60
THRESHOLD = 5.0
SPIKE = 0.20
SPIKE_DAYS = 5
REVERSAL_DAYS = 10
MIN_STORIES = 3
FILING_DAYS = 3


class FlagKind(StrEnum):
    RETURN = "abnormal_return"
    VOLUME = "abnormal_volume"
    SPIKE_REVERSAL = "spike_and_reversal"
    NEWS_BURST = "news_burst_without_filing"


class Flag(BaseModel):
    kind: FlagKind
    date: date
    value: float = Field(description="The return, volume, rise or story count flagged.")
    z: float | None = Field(description="Robust z-score against the baseline, when one applies.")
    evidence: str
    explanation: str


class Anomalies(BaseModel):
    symbol: str
    start: date
    end: date
    days: int
    baseline: int
    threshold: float
    flags: list[Flag]
    counts: dict[str, int] = Field(description="Flags per kind.")
    unavailable: dict[str, str] = Field(default_factory=dict, description="Check -> why not run.")


def _prior_median_mad(values: np.ndarray, baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of the ``baseline`` values before each position (NaN before that
    many, and over windows with a gap)."""
    median = np.full(len(values), np.nan)
    mad = np.full(len(values), np.nan)
    if len(values) > baseline:
        windows = np.lib.stride_tricks.sliding_window_view(values[:-1], baseline)
        m = np.median(windows, axis=1)
        median[baseline:] = m
        mad[baseline:] = np.median(np.abs(windows - m[:, None]), axis=1)
    return median, mad


def robust_z(values: pd.Series, baseline: int = BASELINE, floor: float = 0.0) -> pd.Series:
    """Each value against the ``baseline`` values before it (not itself): (x − median) /
    (1.4826 × MAD); NaN until there are that many, or where the MAD (floored at
    ``floor``) is 0."""
    median, mad = _prior_median_mad(values.to_numpy(dtype="float64"), baseline)
    scale = np.maximum(MAD_SCALE * mad, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values.to_numpy(dtype="float64") - median) / np.where(scale > 0, scale, np.nan)
    return pd.Series(z, index=values.index)


def spikes_and_reversals(
    closes: pd.Series,
    spike: float = SPIKE,
    spike_days: int = SPIKE_DAYS,
    reversal_days: int = REVERSAL_DAYS,
) -> list[Flag]:
    """Rises of at least ``spike`` within ``spike_days`` that give back half within
    ``reversal_days``; one flag per episode (at the top), episodes do not overlap."""
    values = closes.to_numpy(dtype="float64")
    dates = closes.index
    flags: list[Flag] = []
    t = spike_days
    while t < len(values):
        low_at = t - spike_days + int(np.argmin(values[t - spike_days : t]))
        rise = values[t] / values[low_at] - 1
        top = t
        if rise >= spike:
            while (
                top + 1 < len(values)
                and values[top + 1] > values[top]
                and top + 1 - t < spike_days  # the run up to its peak
            ):
                top += 1
            rise = values[top] / values[low_at] - 1
            half = values[low_at] + 0.5 * (values[top] - values[low_at])
            after = values[top + 1 : top + 1 + reversal_days]
            back = np.flatnonzero(after <= half)
            if len(back):
                bottom = top + 1 + int(back[0])
                flags.append(
                    Flag(
                        kind=FlagKind.SPIKE_REVERSAL,
                        date=dates[top].date(),
                        value=float(rise),
                        z=None,
                        evidence=(
                            f"{values[low_at]:,.2f} on {dates[low_at].date()} to "
                            f"{values[top]:,.2f} on {dates[top].date()} ({rise:+.1%}), back to "
                            f"{values[bottom]:,.2f} on {dates[bottom].date()}"
                        ),
                        explanation=(
                            f"rose {rise:.0%} in {top - low_at} trading days and gave back at "
                            f"least half of it within {bottom - top}: the shape a pump-and-dump "
                            "leaves (also an overreaction to news and its correction)"
                        ),
                    )
                )
                t = bottom + spike_days
                continue
        t += 1
    return flags


def _abnormal(
    series: pd.Series, z: pd.Series, kind: FlagKind, threshold: float, what: str
) -> list[Flag]:
    out = []
    for day in z.index[(z.abs() >= threshold).to_numpy()]:
        value, score = float(series.loc[day]), float(z.loc[day])
        size = f"{value:+.2%}" if kind is FlagKind.RETURN else f"{value:,.0f}"
        out.append(
            Flag(
                kind=kind,
                date=day.date(),
                value=value,
                z=score,
                evidence=f"{what} {size}, robust z {score:+.1f}",
                explanation=(
                    f"{what} {abs(score):.1f} robust standard deviations "
                    f"{'above' if score > 0 else 'below'} the median of the {BASELINE} "
                    "trading days before"
                ),
            )
        )
    return out


def news_bursts(
    story_days: list[date],
    filing_days: list[date],
    days: pd.DatetimeIndex,
    threshold: float = THRESHOLD,
    baseline: int = BASELINE,
) -> list[Flag]:
    """Days with an unusual number of stories and no filing within ``FILING_DAYS``."""
    counts = pd.Series(0.0, index=days)
    for day in story_days:
        stamp = pd.Timestamp(day)
        if stamp in counts.index:
            counts.loc[stamp] += 1
    z = robust_z(counts, baseline, floor=0.5)  # quiet names: most days have no news at all
    flags = []
    for day in counts.index[((counts >= MIN_STORIES) & (z >= threshold)).to_numpy()]:
        near = [f for f in filing_days if abs((f - day.date()).days) <= FILING_DAYS]
        if near:
            continue
        n = int(counts.loc[day])
        flags.append(
            Flag(
                kind=FlagKind.NEWS_BURST,
                date=day.date(),
                value=float(n),
                z=float(z.loc[day]),
                evidence=f"{n} stories, robust z {float(z.loc[day]):+.1f}; no filing within "
                f"{FILING_DAYS} days",
                explanation="a burst of coverage no company filing explains: promotion, or "
                "news the filings have not caught up with",
            )
        )
    return flags


def detect(
    symbol: str,
    closes: pd.Series,
    volume: pd.Series | None = None,
    start: date | None = None,
    story_days: list[date] | None = None,
    filing_days: list[date] | None = None,
    threshold: float = THRESHOLD,
) -> Anomalies:
    """Flags within [start, last close] of ``closes`` (earlier closes are the baseline's
    warm-up); ``volume`` when the store has it; news and filing dates when indexed."""
    closes = closes.dropna()
    returns = closes.pct_change()
    z = robust_z(returns)
    window = closes.index >= pd.Timestamp(start) if start else np.ones(len(closes), dtype=bool)
    if window.sum() < 2:
        raise NoDataError(f"{symbol} has fewer than 2 closes in the window")
    unavailable = {}
    flags = _abnormal(returns[window], z[window], FlagKind.RETURN, threshold, "daily return")
    if volume is not None and volume.notna().sum() > BASELINE:
        logs = np.log(volume.where(volume > 0))
        vz = robust_z(logs)
        flags += _abnormal(volume[window], vz[window], FlagKind.VOLUME, threshold, "volume")
    else:
        unavailable[FlagKind.VOLUME.value] = f"needs volume: {symbol} has closes only"
    first = closes.index[window][0]
    from_top = closes[closes.index >= first - pd.Timedelta(days=14)]
    flags += [f for f in spikes_and_reversals(from_top) if f.date >= first.date()]
    if story_days is not None:
        flags += news_bursts(story_days, filing_days or [], closes.index[window], threshold)
    else:
        unavailable[FlagKind.NEWS_BURST.value] = "no indexed news to count"
    flags.sort(key=lambda f: (f.date, f.kind))
    dates = closes.index[window]
    return Anomalies(
        symbol=symbol,
        start=dates[0].date(),
        end=dates[-1].date(),
        days=int(window.sum()),
        baseline=BASELINE,
        threshold=threshold,
        flags=flags,
        counts={k.value: sum(f.kind is k for f in flags) for k in FlagKind},
        unavailable=unavailable,
    )
