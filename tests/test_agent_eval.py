"""The shipped agent eval: it meets its targets with the offline model, and it runs on a
data dir and database of its own, so the user's approvals are never touched and the
user's orders never change its result."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from assistant.store import Store
from evals.agent.runner import CASES, load_cases, run_agent_eval


def test_every_need_is_asked_in_five_or_more_ways():
    cases = load_cases()
    assert len(cases) >= 300
    families: dict[str, int] = {}
    for case in cases:
        if "/" in case.id:
            family = case.id.rsplit("/", 1)[0]
            families[family] = families.get(family, 0) + 1
    assert len(families) >= 50 and min(families.values()) >= 2
    assert sum(n >= 5 for n in families.values()) >= 50


@pytest.mark.slow
def test_the_offline_model_meets_the_eval_targets(model_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "user"))
    report = run_agent_eval("offline", CASES)
    failing = [f"{r.id}: {'; '.join(r.problems)}" for r in report.results if r.problems]
    assert report.passed, failing[:10]
    assert report.cases >= 300


def test_the_eval_never_touches_the_users_data(model_cache, monkeypatch, tmp_path):
    """Issue: the eval left approvals in the user's queue and failed after any approved
    order. It now runs on private settings whatever the environment points at."""
    user_dir = tmp_path / "user"
    user_dir.mkdir()
    db = f"sqlite:///{user_dir / 'assistant.db'}"
    store = Store(create_engine(db))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(user_dir))
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", db)
    monkeypatch.setenv("ASSISTANT_RESTRICTED_SYMBOLS", '["AAPL"]')  # the user's own limits
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- id: order\n"
        "  ask: buy 10 AAPL\n"
        "  expect: [{name: place_order, args: {symbol: AAPL, quantity: 10}}]\n"
        "  order: pending\n"
        "- id: account\n"
        "  ask: what's in my account?\n"
        "  expect: [{name: get_portfolio, args: {}}]\n"
    )
    report = run_agent_eval("offline", Path(cases))
    assert report.passed, [r.problems for r in report.results]
    assert store.approvals() == []
    assert not (user_dir / "prices").exists()
