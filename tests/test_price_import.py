"""Import validation: every rejected file names the row; nothing is written on failure."""

import json
from pathlib import Path

import pandas as pd
import pytest

from tools.errors import ImportValidationError
from tools.market_data import PriceStore
from tools.price_files import read_price_file

from .conftest import make_ohlcv

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
GOOD_ROWS = [
    "2024-01-02,10,11,9,10.5,10.4,1000",
    "2024-01-03,10.5,12,10,11.5,11.4,2000",
    "2024-01-04,11.5,12,11,11.8,11.7,1500",
]


def write_csv(
    tmp_path: Path, rows: list[str], name: str = "ACME.csv", header: str = HEADER
) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def test_good_csv_maps_yahoo_style_columns(tmp_path):
    [parsed] = read_price_file(write_csv(tmp_path, GOOD_ROWS))
    assert parsed.symbol == "ACME"
    assert list(parsed.frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert parsed.frame.loc["2024-01-03", "close"] == 11.5
    assert parsed.frame.index.name == "date"


@pytest.mark.parametrize(
    ("row_index", "bad_row", "message"),
    [
        (
            1,
            "2024-01-02,10,11,9,10.5,10.4,1000",
            r"ACME.csv row 2 \(line 3\): duplicate date 2024-01-02 \(also at row 1",
        ),
        (
            2,
            "2024-01-01,10,11,9,10.5,10.4,1000",
            r"row 3 \(line 4\): date 2024-01-01 comes before the previous row's 2024-01-03",
        ),
        (
            1,
            "2024-01-03,10,11,9,-1,10.4,1000",
            r"row 2 \(line 3\): close is -1; prices must be positive",
        ),
        (
            1,
            "2024-01-03,0,11,9,10,10.4,1000",
            r"row 2 \(line 3\): open is 0; prices must be positive",
        ),
        (
            1,
            "2024-01-03,10,11,9,10,10.4,-5",
            r"row 2 \(line 3\): volume is -5; volume cannot be negative",
        ),
        (1, "not-a-date,10,11,9,10,10.4,5", r"row 2 \(line 3\): cannot parse date 'not-a-date'"),
        (1, "2024-01-03,10,11,9,abc,10.4,5", r"row 2 \(line 3\): close 'abc' is not a number"),
        (1, "2024-01-03,10,11,9,,10.4,5", r"row 2 \(line 3\): close is missing"),
        (1, "2024-01-03,10,9,11,10,10.4,5", r"row 2 \(line 3\): high 9 is below low 11"),
        (
            1,
            "2024-01-03,10,11,9,13,10.4,5",
            r"row 2 \(line 3\): close 13 is outside the day's low–high range",
        ),
    ],
)
def test_bad_rows_are_named(tmp_path, row_index, bad_row, message):
    rows = list(GOOD_ROWS)
    rows[row_index] = bad_row
    with pytest.raises(ImportValidationError, match=message):
        read_price_file(write_csv(tmp_path, rows))


def test_missing_columns(tmp_path):
    with pytest.raises(ImportValidationError, match="no date column"):
        read_price_file(write_csv(tmp_path, ["1,2"], header="Day,Close\n"))
    with pytest.raises(ImportValidationError, match="needs a close or adj_close column"):
        read_price_file(write_csv(tmp_path, ["2024-01-02,5"], header="Date,Open\n"))


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(ImportValidationError, match="unsupported file type"):
        read_price_file(tmp_path / "x.xlsx")
    with pytest.raises(ImportValidationError, match="no such file"):
        read_price_file(tmp_path / "missing.csv")


def test_symbol_column_splits_symbols_and_parquet_rows_are_named(tmp_path):
    a, b = make_ohlcv(5, seed=1), make_ohlcv(5, seed=2)
    both = pd.concat([a.assign(symbol="AAA"), b.assign(symbol="BBB")]).reset_index()
    both.to_parquet(tmp_path / "two.parquet")
    parsed = {p.symbol: p.frame for p in read_price_file(tmp_path / "two.parquet")}
    assert set(parsed) == {"AAA", "BBB"}
    pd.testing.assert_series_equal(parsed["BBB"]["close"], b["close"], check_freq=False)

    both.loc[7, "close"] = -3.0  # the 8th row of the file, inside BBB's block
    both.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ImportValidationError, match=r"bad.parquet row 8: close is -3"):
        read_price_file(tmp_path / "bad.parquet")


def test_cli_import_then_refuses_overwrite(cli, tmp_path, isolated_env):
    rows = ["2024-01-02,10,11,9,10.5,1000,a", "2024-01-03,10.5,12,10,11.5,2000,b"]
    rows.append("2024-01-04,11.5,12,11,11.8,1500,c")
    path = write_csv(
        tmp_path, rows, name="acme.csv", header="date,open,high,low,close,volume,note\n"
    )
    result = cli("data", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    [info] = json.loads(result.output)
    assert info["symbol"] == "ACME" and info["bars"] == 3
    assert info["columns"] == ["open", "high", "low", "close", "volume"]

    again = cli("data", "import", str(path))
    assert again.exit_code == 2
    assert "ACME already in the store; pass --replace" in again.output

    replaced = cli("data", "import", str(path), "--symbol", "OTHER")
    assert replaced.exit_code == 0
    assert sorted(PriceStore(isolated_env / "prices").symbols()) == ["ACME", "OTHER"]


def test_cli_import_failure_writes_nothing_and_exits_2(cli, tmp_path, isolated_env):
    rows = [*GOOD_ROWS, "2024-01-05,1,1,1,0,1,1"]
    result = cli("data", "import", str(write_csv(tmp_path, rows)))
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ACME.csv row 4 (line 5): close is 0")
    assert "Traceback" not in result.output
    assert PriceStore(isolated_env / "prices").symbols() == []


def test_cli_replace_overwrites(cli, tmp_path, isolated_env):
    path = write_csv(tmp_path, GOOD_ROWS)
    assert cli("data", "import", str(path)).exit_code == 0
    shorter = write_csv(tmp_path, GOOD_ROWS[:2])
    assert cli("data", "import", str(shorter), "--replace").exit_code == 0
    assert PriceStore(isolated_env / "prices").info("ACME").bars == 2


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("0001-01-01,10\n2020-01-02,11\n", "outside the years 1900 to 2100"),
        ("2020-01-02T10:00:00+05:00,10\n2020-01-03T10:00:00-05:00,11\n", "mix time zones"),
    ],
)
def test_dates_pandas_cannot_hold_are_refused_by_row(cli, tmp_path, rows, said):
    path = tmp_path / "odd.csv"
    path.write_text("date,close\n" + rows)
    result = cli("data", "import", str(path), "--symbol", "ODD")
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output
