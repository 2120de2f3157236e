"""How the offline answers write numbers: one way for every writer."""

from __future__ import annotations


def pct(x: float | None, sign: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:+,.2f}%" if sign else f"{x * 100:,.2f}%"


def num(x: float | None) -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.2f}"
    return f"{x:,.4f}".rstrip("0").rstrip(".") if x != int(x) else f"{x:,.0f}"


def money(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.2f}"
