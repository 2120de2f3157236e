"""Watchlists per user: the store's rules (known symbols only, names, at most 100), the
API, the CLI and chat with the offline model."""

import asyncio
import json
from datetime import date

import pytest
from pydantic_ai import ModelRetry
from sqlalchemy import create_engine

from assistant.auth import Role, User
from assistant.watchlists import WatchlistStore
from tests.agent_env import make_services
from tools.errors import InvalidInputError, UnknownSymbolError

KNOWN = {"AAPL", "MSFT", "KO", "NVDA"}


@pytest.fixture
def store(db_url):
    return WatchlistStore(create_engine(db_url), lambda s: s in KNOWN)


def test_lists_keep_order_refuse_unknown_symbols_and_belong_to_their_user(store):
    assert store.add("ann", None, ["msft", "AAPL", "MSFT"]).symbols == ["MSFT", "AAPL"]
    assert store.add("ann", "default", ["KO"]).symbols == ["MSFT", "AAPL", "KO"]
    with pytest.raises(UnknownSymbolError, match="ZZZZ"):
        store.add("ann", None, ["NVDA", "ZZZZ"])
    assert store.get("ann").symbols == ["MSFT", "AAPL", "KO"]  # nothing of a refused add
    assert store.remove("ann", None, ["aapl"]).symbols == ["MSFT", "KO"]
    assert store.get("bob") is None and store.all("bob") == []
    store.put("ann", "Tech", ["NVDA"])
    assert [w.name for w in store.all("ann")] == ["default", "tech"]
    with pytest.raises(InvalidInputError, match="watchlist name"):
        store.add("ann", "two words", ["KO"])
    assert store.delete("ann", "tech") and not store.delete("ann", "tech")


def test_a_list_holds_at_most_100_symbols(db_url):
    store = WatchlistStore(create_engine(db_url), lambda s: True)
    store.put("ann", None, [f"S{i}" for i in range(100)])
    with pytest.raises(InvalidInputError, match="at most 100"):
        store.add("ann", None, ["EXTRA"])
    assert len(store.get("ann").symbols) == 100


def test_cli_watchlist(cli, use_sample):
    assert "No watchlists yet" in cli("watchlist", "show").output
    added = cli("watchlist", "add", "aapl", "KO")
    assert added.exit_code == 0 and "default: AAPL KO" in added.output
    assert cli("watchlist", "add", "MSFT", "--name", "tech").exit_code == 0
    shown = json.loads(cli("watchlist", "show", "--json").output)
    assert [(w["name"], w["symbols"]) for w in shown] == [
        ("default", ["AAPL", "KO"]),
        ("tech", ["MSFT"]),
    ]
    assert cli("watchlist", "remove", "KO").output.strip() == "default: AAPL"
    for bad in (
        ["watchlist", "add", "NOTREAL1"],
        ["watchlist", "add", "KO", "--name", "bad name"],
        ["watchlist", "show", "nope"],
        ["watchlist", "remove", "KO", "--name", "nope"],
        ["watchlist", "delete", "nope"],
    ):
        result = cli(*bad)
        assert result.exit_code == 2 and result.output.count("error:") == 1, (bad, result.output)


@pytest.mark.parametrize(
    ("question", "call"),
    [
        ("add Nvidia and Coca-Cola to my watchlist", ("update_watchlist", {"add": ["NVDA", "KO"]})),
        ("put AMD on my tech watchlist", ("update_watchlist", {"add": ["AMD"], "name": "tech"})),
        ("take coke off my watchlist", ("update_watchlist", {"remove": ["KO"]})),
        ("what's on my watchlist?", ("get_watchlists", {})),
        ("show me my watch list", ("get_watchlists", {})),
        (
            "put ko pep and pg on a watchlist called staples",
            ("update_watchlist", {"add": ["KO", "PEP", "PG"], "name": "staples"}),
        ),
        (
            "stick pfe and mrk in a list called pharma",
            ("update_watchlist", {"add": ["PFE", "MRK"], "name": "pharma"}),
        ),
        (
            "add XOM to a new watchlist named energy",
            ("update_watchlist", {"add": ["XOM"], "name": "energy"}),
        ),
    ],
)
def test_watchlist_talk(model_cache, question, call):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL AMD KO MSFT PEP PG PFE MRK XOM".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert plan.calls == [call]


def test_chat_keeps_each_users_watchlist(tmp_path, db_url, sample_store, sample_index_dir):
    services = make_services(tmp_path / "data", db_url, sample_store, sample_index_dir)
    ann, bob = User(id="ann", role=Role.VIEWER), User(id="bob", role=Role.VIEWER)
    turn = asyncio.run(services.chat.ask("add apple and microsoft to my watchlist", ann))
    assert "Added AAPL, MSFT to your default watchlist" in turn.answer
    assert services.watchlists.get("ann").symbols == ["AAPL", "MSFT"]
    shown = asyncio.run(services.chat.ask("what's on my watchlist", bob))
    assert "no watchlists yet" in shown.answer


def test_adding_something_unknown_says_so(model_cache):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO MSFT".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(
        "add ZZZZ to my watchlist"
    )
    assert plan.calls == [] and "found no security I know" in plan.message


@pytest.mark.parametrize(
    ("question", "screen"),
    [
        ("rsi for all my watchlist stocks", {"metric": "rsi_14", "watchlist": "default"}),
        (
            "which stocks in my watchlist are down the most this year",
            {"metric": "return", "ascending": True, "watchlist": "default"},
        ),
        (
            "how many stocks in my energy watchlist are above their 200 day",
            {"where": ["price>sma_200"], "watchlist": "energy"},
        ),
    ],
)
def test_a_question_about_a_watchlists_stocks_screens_that_list(model_cache, question, screen):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL AMD KO MSFT XOM CVX".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    [(name, args)] = plan.calls
    assert name == "screen_symbols" and {k: args[k] for k in screen} == screen


def test_the_screen_reads_the_askers_own_watchlist(
    tmp_path, db_url, sample_store, sample_index_dir
):
    import asyncio

    from assistant.auth import Role, User
    from assistant.toolsets import READ_ONLY, call_directly
    from tests.agent_env import make_services

    services = make_services(tmp_path / "data", db_url, sample_store, sample_index_dir)
    ann = User(id="key:ann", role=Role.VIEWER)
    services.watchlists.add(ann.id, "energy", ["XOM", "CVX"])
    deps = services.chat.deps(ann)
    fn = READ_ONLY.tools["screen_symbols"].function
    result = asyncio.run(call_directly(fn, deps, {"metric": "return", "watchlist": "energy"}))
    assert {row.symbol for row in result.results} == {"XOM", "CVX"} and result.universe == 2
    other = services.chat.deps(User(id="key:ben", role=Role.VIEWER))  # Ben has no such list
    with pytest.raises(ModelRetry, match="no watchlist 'energy'"):
        asyncio.run(call_directly(fn, other, {"metric": "return", "watchlist": "energy"}))
