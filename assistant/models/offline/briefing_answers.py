"""The offline model's briefing: the facts of ``get_briefing`` in the order an analyst's
morning note gives them: moves, readings, what was published (cited), alerts fired."""

from __future__ import annotations

from assistant.briefing_facts import BriefingFacts
from tools.briefing import Snapshot


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def _line(s: Snapshot) -> str:
    parts = [f"{_pct(s.change_1d)} on the day", f"{_pct(s.change_5d)} over 5 days"]
    text = f"- {s.symbol} closed at {s.close:,.2f} on {s.as_of}: {', '.join(parts)}"
    if s.rsi14 is not None:
        text += f"; RSI(14) {s.rsi14:.1f} ({s.reading})"
    if s.sma50 is not None:
        way = "above" if s.close > s.sma50 else "below"
        text += f"; {way} its 50-day average ({s.sma50:,.2f})"
    return text + "."


def write_briefing(d: BriefingFacts, numbers: dict[int, int]) -> str:
    period = f"on {d.as_of}" if d.days == 1 else f"for the {d.days} days to {d.as_of}"
    out = [f"Briefing on your watchlist '{d.watchlist}' ({', '.join(d.symbols)}) {period}."]
    if d.snapshots:
        out.append("Moves and readings:\n" + "\n".join(_line(s) for s in d.snapshots))
        moved = [s for s in d.snapshots if s.change_1d is not None]
        if len(moved) > 1:
            top = max(moved, key=lambda s: abs(s.change_1d or 0.0))
            out.append(f"Biggest move on the day: {top.symbol} ({_pct(top.change_1d)}).")
        stretched = [s.symbol for s in d.snapshots if s.reading in ("overbought", "oversold")]
        if stretched:
            out.append(
                "Stretched by RSI: "
                + ", ".join(
                    f"{s.symbol} ({s.reading})" for s in d.snapshots if s.symbol in stretched
                )
                + "."
            )
    if d.missing:
        out.append(f"No stored prices for {', '.join(d.missing)}.")
    if d.hits:
        intro = (
            "Nothing was published on these in the period; the latest on file:"
            if d.latest_on_file
            else "Filings and news in the period:"
        )
        lines = [
            f"- {h.title} ({h.published_at}): {h.snippet} [{numbers.get(h.n, h.n)}]" for h in d.hits
        ]
        out.append(intro + "\n" + "\n".join(lines))
    else:
        out.append("No filings or news on file for these.")
    if d.alerts_fired:
        out.append(
            "Alerts fired:\n" + "\n".join(f"- {a.message} ({a.alert_id})" for a in d.alerts_fired)
        )
    else:
        out.append("None of your alerts fired in the period.")
    return "\n\n".join(out)
