"""Bad input to any command is one `error:` line and exit code 2: never a traceback, a
hang, a warning leaking through, or silent nonsense. The walk below covers every float
option of every command (a new command is walked without being listed); the cases after
it are the inputs users actually typed."""

from __future__ import annotations

import pytest
from typer import _click as click
from typer.core import TyperOption

from cli import COMMANDS, load_command


def _float_options() -> list[tuple[list[str], str]]:
    """(command path, option) for each option that takes a float, however nested."""
    found = []

    def walk(command: click.Command, path: list[str]) -> None:
        for param in command.params:
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if isinstance(param, TyperOption) and not param.is_flag and annotation is float:
                found.append((path, param.opts[0]))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    for name in COMMANDS:
        walk(load_command(name), [name])
    return found


FLOAT_OPTIONS = _float_options()


def test_the_walk_finds_the_numeric_options_users_mistype():
    walked = {(" ".join(path), option) for path, option in FLOAT_OPTIONS}
    assert {
        ("tools optimize", "--risk-free-rate"),
        ("tools optimize", "--risk-aversion"),
        ("tools backtest", "--capital"),
        ("tools backtest", "--cost-bps"),
    } <= walked


def one_error_line(result, *fragments: str) -> str:
    """The command failed as a usage error: exit 2, one `error:` line naming the problem."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
@pytest.mark.parametrize(
    ("path", "option"), FLOAT_OPTIONS, ids=[f"{' '.join(p)} {o}" for p, o in FLOAT_OPTIONS]
)
def test_every_float_option_refuses_non_finite_numbers(cli, use_sample, path, option, value):
    one_error_line(cli(*path, f"{option}={value}"), option, "not a finite number")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["tools", "optimize", "AAPL", "MSFT", "--method", "mean-variance"]
            + ["--risk-aversion", "-1"],
            ["risk aversion -1.0 must be above 0"],
        ),
        (
            ["tools", "optimize", "AAPL", "MSFT", "--risk-aversion", "2"],
            ["a risk aversion applies to mean-variance, not max-sharpe"],
        ),
        (
            ["tools", "optimize", "AAPL", "MSFT", "--current", "AAPL=0.5"],
            ["only matter with a turnover penalty"],
        ),
        (
            [
                "tools",
                "optimize",
                "AAPL",
                "MSFT",
                "--method",
                "min-variance",
                "--current",
                "ZZZ=0.5",
            ]
            + ["--turnover-penalty", "0.1"],
            ["current weights for symbols not optimised: ZZZ"],
        ),
        (
            [
                "tools",
                "optimize",
                "AAPL",
                "MSFT",
                "--sector",
                "AAPL=tech",
                "--sector-cap",
                "tech=-0.2",
            ],
            ["a sector cap is a fraction between 0 and 1"],
        ),
        (["tools", "optimize", "AAPL", "MSFT", "--risk-free-rate", "4"], ["between -1 and 1"]),
        (["tools", "optimize", "AAPL", "MSFT", "--frontier", "1000000"], ["between 0 and 200"]),
        (["tools", "optimize", "AAPL", "MSFT", "--frontier", "-3"], ["between 0 and 200"]),
        (["tools", "backtest", "AAPL", "--capital", "1e308"], ["at most 1,000,000,000,000"]),
        (["tools", "backtest", "AAPL", "--capital", "0"], ["capital must be a number above 0"]),
        (["tools", "backtest", "AAPL", "--fast", "100000", "--slow", "200000"], ["up to 100,000"]),
        (["tools", "indicators", "AAPL", "--start", "2022-13-01"], ["'--start'", "2022-13-01"]),
        (["tools", "optimize", "AAPL", "MSFT", "--start", "2022-12-27"], ["wider date range"]),
        (["approvals", "list", "--status", "foo"], ["--status", "pending"]),
        (["search", "x", "--type", "blog"], ["'--type'", "news"]),
        (["search", "x", "-k", "0"], ["'-k'"]),
        (["keys", "create", "--role", "god"], ["'--role'", "viewer"]),
        (["eval", "--suite", "foo"], ["unknown suite 'foo'"]),
        (["chat", ""], ["the question is empty"]),
        (["tools", "frobnicate"], ["No such command"]),
        (["chat", "hi", "--model", "bogus/model"], ["unknown model 'bogus/model'"]),
        (
            ["tools", "optimize", "AAPL", "MSFT", "--target-return", "0.1"],
            ["applies to mean-variance", "ignored"],
        ),
        (["search", "x", "--ticker", ""], ["--ticker is empty"]),
        (["search", "x", "--as-of", "1800-01-01"], ["before 1900-01-01"]),
        (["eval", "--suite", "agent", "--model", "bogus"], ["unknown model 'bogus'"]),
        (
            ["tools", "backtest", "AAPL", "--strategy", "rebalance", "AAPL", "MSFT"],
            ["duplicate symbols"],
        ),
        (["tools", "backtest", "AAPL", "--slow", "100000"], ["longer than AAPL's history"]),
        (["chat", "x" * 4001], ["4001 characters", "the limit is 4000"]),  # as the API
        (
            ["tools", "optimize", "AAPL", "MSFT", "--sector", "AAPL=a", "--sector", "aapl=b"],
            ["twice"],
        ),
        (
            ["tools", "backtest", "AAPL", "--sweep", "fast=5:10:5", "fast=6:8:2", "slow=50:60:10"],
            ["the sweep names fast twice"],
        ),
        (
            ["tools", "backtest", "AAPL", "--sweep", "fast=5:10:5", "--top", "-1"],
            ["--top", "greater than or equal to 1"],
        ),
        (["tools", "backtest", "AAPL", "--strategy", "bollinger", "--window", "1"], ["at least 2"]),
        (
            ["tools", "backtest", "AAPL", "MSFT", "KO", "--strategy", "rebalance"]
            + ["--lookback", "100000"],
            ["shorter --lookback"],
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, use_sample, args, fragments):
    one_error_line(cli(*args), *fragments)


def test_a_sweep_keeps_the_valid_pairs_of_its_grid(cli, use_sample):
    """(10, 10) is no strategy, but (10, 20) is: the sweep runs what is valid."""
    result = cli("tools", "backtest", "AAPL", "--sweep", "fast=10:20:10", "slow=10:20:10", "--json")
    assert result.exit_code == 0, result.output
    assert '"combinations": 1' in result.output


def test_rebalance_without_a_start_begins_once_a_lookback_is_shared(cli, use_sample):
    """The README's example: with no --start the first year is the estimation window."""
    result = cli("tools", "backtest", "KO", "PEP", "WMT", "--strategy", "rebalance", "--json")
    assert result.exit_code == 0, result.output
    assert '"start": "1990-12-31"' in result.output


def test_root_help_lists_each_command_with_its_own_summary():
    """The root's help is written from COMMANDS without importing the commands; each
    line must still say what the command's own docstring says."""
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert (command.help or "").split("\n")[0].strip().startswith(entry.summary.rstrip(".")), (
            name
        )


def test_serve_on_a_port_in_use_is_one_line_and_prints_no_login_link(cli, use_sample):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--host", "127.0.0.1", "--port", str(port))
    line = one_error_line(result, f"port {port}", "--port")
    assert "login" not in result.output and "another server?" in line


@pytest.mark.parametrize("group", ["data", "tools", "approvals", "keys", "db"])
def test_a_group_without_a_command_shows_its_help_once_and_one_error_line(cli, group):
    result = cli(group)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and f" {group} needs a command: " in line
    assert result.stdout.count("Usage:") == 1


@pytest.mark.parametrize(("auth", "link"), [("on", True), ("off", False)])
def test_serve_prints_a_login_link_only_when_keys_are_needed(
    cli, use_sample, monkeypatch, auth, link
):
    import uvicorn

    from tests.serving import free_port

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # start, do not serve
    monkeypatch.setenv("ASSISTANT_AUTH", auth)
    result = cli("serve", "--host", "127.0.0.1", "--port", str(free_port()))
    assert result.exit_code == 0, result.output
    assert ("/login?token=" in result.output) is link
    assert ("Auth is off" in result.output) is not link


def test_tables_keep_single_word_cells_whole_and_wrap_prose():
    """Ids, symbols and paths were folded mid-word in a narrow terminal: not copyable."""
    from rich.console import Console

    from cli.output import table

    key = "appr_0123456789abcdef0123"
    rendered = table(
        "Approvals",
        ["id", "note"],
        [(key, "a long note that may wrap over several lines in a narrow terminal")],
    )
    narrow = Console(width=60, record=True, force_terminal=False)
    narrow.print(rendered)
    text = narrow.export_text()
    assert key in text  # on one line
    assert max(len(line) for line in text.splitlines()) <= 60


def test_help_lists_choices_between_words(cli):
    """typer's metavar for an enum wrapped inside its words (min-varianc / e)."""
    result = cli("tools", "optimize", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    assert "Objective: max-sharpe, min-variance, risk-parity, mean-variance." in text
