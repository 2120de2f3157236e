"""`assistant chat` and `assistant approvals` as a user runs them."""

import json

import pytest


@pytest.fixture
def data_dir(tmp_path, sample_dir, monkeypatch):
    """Sample prices (linked, read-only) in a fresh data dir with its own database."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "prices").symlink_to(sample_dir / "prices")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    return data


def test_buy_then_approve_executes_exactly_once(cli, data_dir):
    asked = cli("chat", "buy 10 AAPL", "--json")
    assert asked.exit_code == 0, asked.output
    turn = json.loads(asked.output)
    [approval] = turn["approvals"]
    assert "waiting for approval" in turn["answer"]
    listed = json.loads(cli("approvals", "list", "--json").output)
    assert [a["approval_id"] for a in listed] == [approval["approval_id"]]

    approved = cli("approvals", "approve", approval["approval_id"], "--json")
    assert approved.exit_code == 0, approved.output
    decision = json.loads(approved.output)
    assert (
        decision["status"] == "executed"
        and decision["broker_order"]["client_order_id"] == approval["approval_id"]
    )
    again = cli("approvals", "approve", approval["approval_id"])
    assert again.exit_code == 2 and "is executed, not pending" in again.output
    portfolio = json.loads(cli("chat", "what's in my portfolio?", "--json").output)
    assert "holds 10 AAPL" in portfolio["answer"]


def test_orders_that_cannot_be_approved_are_never_pending(cli, data_dir):
    """Finding 14: "sell 0 shares" and an order whose checks fail are reported, and no
    approvable approval is left behind."""
    zero = json.loads(cli("chat", "sell 0 AAPL", "--json").output)
    assert zero["approvals"] == [] and "greater than 0" in zero["answer"]
    short = json.loads(cli("chat", "sell 5 AAPL", "--json").output)  # nothing held
    assert short["approvals"] == [] and "only 0 held" in short["answer"]
    listed = json.loads(cli("approvals", "list", "--status", "all", "--json").output)
    assert [a["status"] for a in listed] == ["failed_checks"]
    assert json.loads(cli("approvals", "list", "--json").output) == []


def test_reject_and_unknown_ids(cli, data_dir):
    turn = json.loads(cli("chat", "buy 2 AAPL", "--json").output)
    [approval] = turn["approvals"]
    rejected = cli("approvals", "reject", approval["approval_id"], "--reason", "nonsense")
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    missing = cli("approvals", "approve", "appr_missing")
    assert missing.exit_code == 2 and missing.output.startswith("error: no approval 'appr_missing'")


def test_chat_text_shows_tool_calls_and_answer(cli, data_dir):
    result = cli("chat", "What was the RSI of AAPL at the end of 2020?")
    assert result.exit_code == 0
    assert "get_indicators(symbol=AAPL, end=2020-12-31)" in result.output
    assert "RSI was 62.77" in result.output


def test_tool_call_cap_per_turn_is_an_error_not_a_crash(cli, data_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MAX_TOOL_CALLS", "2")
    result = cli("chat", "How did AAPL, MSFT and AMD perform in 2022?", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "limit_exceeded"


def test_serve_rejects_an_impossible_port(cli):
    result = cli("serve", "--port", "99999")
    assert result.exit_code == 2 and "--port" in result.output


def test_approving_as_someone_is_spelled_one_way(cli, data_dir, monkeypatch):
    """Helper review: "--as 'alex '" passed four-eyes for an order alex requested."""
    monkeypatch.setenv("ASSISTANT_FOUR_EYES", "true")
    turn = json.loads(cli("chat", "buy 2 AAPL", "--json").output)
    [approval] = turn["approvals"]
    spaced = cli("approvals", "approve", approval["approval_id"], "--as", "local ")
    assert spaced.exit_code == 2 and "is not a user id" in spaced.output
    own = cli("approvals", "approve", approval["approval_id"], "--as", "local")
    assert own.exit_code == 2 and "four-eyes" in own.output


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://app:pw9@127.0.0.1:9/db", "cannot use the database at"),
        ("mysql://x@h/db", "driver that is not installed"),
        ("not a url", "cannot use the database"),
    ],
)
def test_a_wrong_database_url_is_one_error_line(cli, monkeypatch, url, said):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    result = cli("approvals", "list")
    assert result.exit_code == 2 and said in result.output and "pw9" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["tools", "indicators", "AAPL", "--end", "2021-02-30"], "Invalid value for '--end'"),
        (["keys", "create", "--role", "god"], "'god' is not one of"),
        (["approvals", "list", "--status", "foo"], "use one of pending"),
        (["serve", "--port", "0"], "Invalid value for '--port'"),
        (["nosuch"], "No such command"),
    ],
)
def test_usage_errors_are_one_error_line(cli, args, said):
    """Usage errors came framed in a box over several lines."""
    result = cli(*args)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and said in line
