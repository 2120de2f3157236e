"""How an approval is said: the order in words, the event a stream carries, and the
sentence a turn ends with while its orders wait for a person."""

from __future__ import annotations

import json

from pydantic import ValidationError

from assistant.events import ApprovalRequired
from assistant.store import ApprovalRow
from tools.orders import Order


def describe_order(order: dict) -> str:
    """An approval's order in words; a row stored before orders were validated says so."""
    try:
        return Order.model_validate(order).describe()
    except ValidationError:
        return f"invalid order {json.dumps(order)[:200]}"


def approval_event(row: ApprovalRow) -> ApprovalRequired:
    return ApprovalRequired(
        approval_id=row.id,
        order=json.loads(row.order_json),
        risk_checks=json.loads(row.risk_json),
        expires_at=row.expires_at,
    )


def pending_line(a: ApprovalRequired) -> str:
    """The sentence for an order that waits for a person."""
    checks = (
        "all pre-trade checks passed" if a.risk_checks.get("passed") else "pre-trade checks failed"
    )
    return (
        f"Order proposed: {describe_order(a.order)}. It is waiting for approval {a.approval_id} by "
        f"an approver (expires {a.expires_at:%Y-%m-%d %H:%M} UTC); {checks}."
    )


def pending_note(lines: list[tuple[int, str]]) -> str:
    """What a turn that ends waiting for approvals says of its orders: each one waiting and
    each other order of the same response settled at once (refused by the checks, say), in
    the order the orders were asked for, so none of several goes unmentioned."""
    return "\n".join(text for _, text in sorted(lines, key=lambda line: line[0]))
