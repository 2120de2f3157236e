"""Answers about the asker's own settings: risk profiles (and the line an optimisation
adds when the profile chose its settings) and watchlists."""

from __future__ import annotations

from assistant.alert_tools import AlertList
from assistant.briefings import BriefingSchedule
from assistant.channels import describe
from assistant.profile_tools import ProfileCleared, ProfileUpdate
from assistant.profiles import ProfileView, RiskProfile
from assistant.results import PortfolioSummary
from assistant.watchlist_tools import Watchlists
from tools.risk_profile import Question

EXAMPLE = '"over 10 years, I\'d hold, growth, some experience"'


def _sets(profile: RiskProfile) -> str:
    s = profile.settings
    calm = f", volatility at most {s.max_volatility:.0%}" if s.max_volatility else ""
    return (
        f"Portfolio optimisations default to {s.method}, each stock at most "
        f"{s.max_weight:.0%}{calm} (say a method or a cap to override them), and the pre-trade "
        f"checks cap any one position you order at {s.max_position_weight:.0%} of equity."
    )


def _how_set(profile: RiskProfile) -> str:
    if profile.answers is None:
        return "as you stated it"
    return f"from your answers: {'; '.join(profile.reasons)}"


def _questions(questions: list[Question]) -> str:
    return "\n".join(f"- {q.text} ({' / '.join(c.label for c in q.choices)})" for q in questions)


def write_view(view: ProfileView) -> str:
    p = view.profile
    if p is None:
        return (
            "You have no risk profile yet. Four questions set one:\n"
            f"{_questions(view.questions)}\n"
            f"Answer in one message, e.g. {EXAMPLE}, or state a level: "
            '"I\'m a conservative investor" (conservative, moderate or aggressive).'
        )
    return f"Your risk profile is {p.level} ({_how_set(p)}). {_sets(p)}"


def write_update(update: ProfileUpdate) -> str:
    if update.saved and update.profile is not None:
        p = update.profile
        return f"Saved: your risk profile is now {p.level} ({_how_set(p)}). {_sets(p)}"
    start = "To set your risk profile, answer these:"
    if update.answered:
        noted = ", ".join(k.replace("_", " ") for k in update.answered)
        start = f"Noted your answers on {noted}. Still needed:"
    return (
        f"{start}\n{_questions(update.missing)}\nAnswer in one message, e.g. {EXAMPLE}; "
        'or state a level instead ("I\'m a moderate investor").'
    )


def profile_line(d: PortfolioSummary) -> str | None:
    """What the asker's profile set in an optimisation, said before the weights."""
    if not d.profile:
        return None
    return f"Your {d.profile} risk profile set: {', '.join(d.profile_applied)}."


def write_cleared(done: ProfileCleared) -> str:
    if not done.cleared:
        return "You have no risk profile to clear."
    return (
        "Your risk profile is cleared: optimisations go back to max-sharpe with no weight "
        "cap, and your orders are checked against the account's limits alone (an order "
        "already proposed keeps the cap it was proposed under)."
    )


def write_watchlists(d: Watchlists) -> str:
    def shown(symbols: list[str]) -> str:
        return ", ".join(symbols) if symbols else "(empty)"

    if d.deleted is not None:
        left = "; ".join(f"{w.name}: {shown(w.symbols)}" for w in d.lists) or "none"
        return (
            f"Deleted your {d.deleted.name} watchlist ({shown(d.deleted.symbols)}). Left: {left}."
        )
    if d.changed is not None:
        done = []
        if d.added:
            done.append(f"added {', '.join(d.added)} to")
        if d.removed:
            done.append(f"removed {', '.join(d.removed)} from")
        said = " and ".join(done)
        return f"{said[:1].upper()}{said[1:]} your {d.changed.name} watchlist: {shown(d.changed.symbols)}."
    if not d.lists:
        return 'You have no watchlists yet: say "add NVDA to my watchlist" to start one.'
    return "Your watchlists: " + "; ".join(f"{w.name}: {shown(w.symbols)}" for w in d.lists) + "."


def write_alerts(d: AlertList) -> str:
    if d.created is not None:
        a = d.created
        channels = ", ".join(describe(c) for c in a.channels) or "its history only (no channel)"
        how = (
            "It fires once for each new document of that kind, starting from now"
            if a.condition.on_documents
            else "It is checked at each close and fires once when that becomes true, then "
            "again only after it has been false"
        )
        return (
            f"Alert set ({a.id}): when {a.description}. {how}; firings go to {channels} and "
            f"to `assistant alerts events {a.id}`."
        )
    if d.removed:
        gone = "; ".join(f"{a.description} ({a.id})" for a in d.removed)
        left = f" You have {len(d.alerts)} left." if d.alerts else " You have no alerts left."
        return f"Deleted: {gone}.{left}"
    if not d.alerts:
        return 'You have no alerts. Say e.g. "alert me when KO closes above 70".'
    return (
        "Your alerts: "
        + "; ".join(
            f"{a.description} ({'armed' if a.armed else 'fired'}, {a.id})" for a in d.alerts
        )
        + "."
    )


def write_schedule(d: BriefingSchedule) -> str:
    when = f"every {d.weekday}" if d.weekday else "every day"
    channels = ", ".join(describe(c) for c in d.channels)
    nxt = f" The first is due {d.next_run_at:%Y-%m-%d %H:%M} UTC." if d.next_run_at else ""
    return (
        f"Scheduled ({d.id}): a {d.cadence} briefing on your {d.watchlist} watchlist, "
        f"{when} at {d.hour:02d}:00 UTC, delivered to {channels}.{nxt} Stop it with "
        f"`assistant briefing remove {d.id}` or DELETE /v1/briefings/schedules/{d.id}."
    )
