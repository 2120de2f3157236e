"""Options shared by several commands, so every command spells them the same way."""

from __future__ import annotations

from datetime import date, datetime

import typer

DATE_FORMATS = ["%Y-%m-%d"]

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
StartOption = typer.Option(None, "--start", formats=DATE_FORMATS, help="First day, YYYY-MM-DD.")
EndOption = typer.Option(None, "--end", formats=DATE_FORMATS, help="Last day, YYYY-MM-DD.")
AsOfOption = typer.Option(
    None,
    "--as-of",
    formats=DATE_FORMATS,
    help="Only what was known on this day, YYYY-MM-DD (nothing later is read or fetched).",
)


def as_date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def as_of_date(value: datetime | None) -> date | None:
    """A --as-of day: not before 1900 (no data) and not in the future (nothing is known)."""
    day = as_date(value)
    if day is not None and not date(1900, 1, 1) <= day <= date.today():
        raise typer.BadParameter(
            f"{day} is {'in the future' if day > date.today() else 'before 1900'}: "
            "give a day from 1900-01-01 to today",
            param_hint="--as-of",
        )
    return day
