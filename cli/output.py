"""Printing results: JSON for programs, tables for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
if not console.is_terminal:  # a pipe or a file: lines are not folded to a made-up 80 columns
    console = Console(width=max(console.width, 200))


def emit(
    result: BaseModel | list[BaseModel] | dict[str, Any], as_json: bool, human: Callable[[], Any]
) -> None:
    """Print ``result`` as JSON when asked, else whatever ``human()`` renders."""
    if as_json:
        typer.echo(to_json(result))
    else:
        rendered = human()
        if isinstance(rendered, str):
            typer.echo(rendered)  # plain text: no wrapping, no markup interpretation
        elif rendered is not None:
            console.print(rendered)


def to_json(result: BaseModel | list[BaseModel] | dict[str, Any]) -> str:
    if isinstance(result, BaseModel):
        return result.model_dump_json(indent=2)
    if isinstance(result, list):
        return json.dumps(
            [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result],
            indent=2,
            default=str,
        )
    return json.dumps(result, indent=2, default=str)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """Columns of single words (ids, symbols, dates, numbers, paths) are kept whole, so they
    can be copied, while they fit the console; columns of prose wrap at spaces."""
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    words = [all(" " not in r[i] for r in cells) for i in range(len(columns))]
    whole = sum(w + 3 for w, word in zip(widths, words, strict=True) if word) < console.width
    out = Table(title=escape(title), title_justify="left")
    for column, width, word in zip(columns, widths, words, strict=True):
        keep = word and whole
        out.add_column(column, overflow="fold", no_wrap=keep, min_width=width if keep else None)
    for row in cells:
        out.add_row(*row)
    return out


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.2f}"
    return escape(str(value))  # "[Item 1A]" is text, not rich markup
