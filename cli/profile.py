"""`assistant profile ...`: the local user's risk profile (the questionnaire, show, clear).

The CLI acts as the data dir's owner (user ``local``): the profile set here sets the
defaults of optimisations asked in ``assistant chat`` and caps the positions of orders
proposed there."""

from __future__ import annotations

import typer

from cli.options import JsonOption
from cli.output import emit
from tools.risk_profile import Experience, Goal, Horizon, LossTolerance, RiskLevel

app = typer.Typer(
    add_completion=False,
    help="Your risk profile: the questionnaire, show, clear.",
    invoke_without_command=True,
)


def _profiles():
    from assistant.profiles import ProfileStore
    from assistant.resources import engine
    from assistant.settings import get_settings

    return ProfileStore(engine(get_settings()))


def _describe(profile) -> str:
    s = profile.settings
    lines = [
        f"Risk profile: {profile.level} ({'; '.join(profile.reasons)})",
        f"Optimiser defaults: {s.method}, each stock at most {s.max_weight:.0%}"
        + (f", volatility at most {s.max_volatility:.0%}" if s.max_volatility else ""),
        f"Pre-trade check: any one position at most {s.max_position_weight:.0%} of equity",
    ]
    return "\n".join(lines)


def _ask() -> dict[str, str]:
    """Each question with numbered choices; a number or the choice's value answers."""
    from tools.risk_profile import QUESTIONS

    answers = {}
    for i, q in enumerate(QUESTIONS, 1):
        typer.echo(f"{i}. {q.text}")
        for n, c in enumerate(q.choices, 1):
            typer.echo(f"   {n}) {c.label}")
        allowed = [str(n) for n in range(1, len(q.choices) + 1)] + [c.value for c in q.choices]
        picked = None
        try:
            while picked not in allowed:
                if picked is not None:
                    typer.echo(f"   answer 1 to {len(q.choices)}")
                picked = typer.prompt("   your answer").strip().lower()
        except typer.Abort:
            typer.echo(
                "error: no answer given; answer on a terminal, or give the answers as "
                "options: assistant profile set --horizon H --loss-tolerance L --goal G "
                "--experience E (or --level LEVEL)",
                err=True,
            )
            raise typer.Exit(2) from None
        answers[q.key] = q.choices[int(picked) - 1].value if picked.isdigit() else picked
    return answers


@app.callback()
def questionnaire(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """With no command: answer the four questions here and save the profile."""
    if ctx.invoked_subcommand is not None:
        return
    from tools.risk_profile import Answers

    answers = Answers.model_validate(_ask())
    from assistant.auth import LOCAL_USER

    profile = _profiles().save(LOCAL_USER.id, answers)
    emit(profile, as_json, lambda: _describe(profile))


@app.command("set")
def set_cmd(
    horizon: Horizon | None = typer.Option(
        None,
        "--horizon",
        help="When the money is needed: under_1y, 1_to_3y, 3_to_10y, over_10y.",
    ),
    loss_tolerance: LossTolerance | None = typer.Option(
        None,
        "--loss-tolerance",
        help="After a 20% fall: sell_all, sell_some, hold, buy_more.",
    ),
    goal: Goal | None = typer.Option(
        None,
        "--goal",
        help="preserve, income, growth, aggressive_growth.",
    ),
    experience: Experience | None = typer.Option(
        None,
        "--experience",
        help="none, some, experienced, professional.",
    ),
    level: RiskLevel | None = typer.Option(
        None,
        "--level",
        help="State a level instead: conservative, moderate, aggressive.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Set the profile from the four answers, or from a stated --level."""
    from assistant.auth import LOCAL_USER
    from tools.risk_profile import Answers

    given = {
        "horizon": horizon,
        "loss_tolerance": loss_tolerance,
        "goal": goal,
        "experience": experience,
    }
    answered = {k: v for k, v in given.items() if v is not None}
    if level is not None and answered:
        raise typer.BadParameter("give the four answers or --level, not both", param_hint="--level")
    if level is not None:
        profile = _profiles().state(LOCAL_USER.id, level)
    else:
        missing = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is None]
        if missing:
            raise typer.BadParameter(
                f"missing {', '.join(missing)} (or give --level; `assistant profile` asks "
                "the questions one by one)"
            )
        profile = _profiles().save(LOCAL_USER.id, Answers.model_validate(answered))
    emit(profile, as_json, lambda: _describe(profile))


@app.command("show")
def show_cmd(as_json: bool = JsonOption) -> None:
    """Show the profile and what it sets."""
    from assistant.auth import LOCAL_USER
    from assistant.profiles import ProfileView

    view = ProfileView(profile=_profiles().get(LOCAL_USER.id))
    emit(
        view,
        as_json,
        lambda: (
            _describe(view.profile)
            if view.profile
            else "No risk profile yet: run `assistant profile` to answer the four questions."
        ),
    )


@app.command("clear")
def clear_cmd() -> None:
    """Remove the profile (optimisations go back to max-sharpe with no caps)."""
    from assistant.auth import LOCAL_USER

    removed = _profiles().clear(LOCAL_USER.id)
    typer.echo("Risk profile cleared." if removed else "There was no risk profile to clear.")
