"""When averages crossed: golden and death crosses, and the price across its average."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.crosses import CrossKind, find_crosses
from tools.errors import InvalidInputError
from tools.market_data import PriceStore


@pytest.fixture
def history(tmp_path):
    """Flat at 10, a rise to 20, a fall back to 5: the 3-close average crosses the 6-close
    one up on the rise and down on the fall; the price crosses its 6-close average too."""
    days = pd.bdate_range("2022-01-03", periods=40)
    closes = np.r_[np.full(12, 10.0), np.linspace(10, 20, 10), np.linspace(20, 5, 18)]
    store = PriceStore(tmp_path / "prices")
    frame = pd.DataFrame({"adj_close": closes}, index=pd.DatetimeIndex(days, name="date"))
    store.save("XYZ", frame, "test")
    return store.load("XYZ")


def test_golden_and_death_crosses_on_the_closes_where_the_lines_cross(history):
    found = find_crosses(history, slow=6, fast=3)
    assert [c.kind for c in found.crosses] == [CrossKind.GOLDEN, CrossKind.DEATH]
    price = history.price
    for c in found.crosses:  # each is the first close with the fast line on its new side
        i = price.index.get_loc(pd.Timestamp(c.day))
        fast, slow = price.rolling(3).mean(), price.rolling(6).mean()
        now, before = fast.iloc[i] - slow.iloc[i], fast.iloc[i - 1] - slow.iloc[i - 1]
        assert (now > 0 >= before) if c.kind is CrossKind.GOLDEN else (now < 0 <= before)
        assert c.fast == pytest.approx(fast.iloc[i]) and c.slow == pytest.approx(slow.iloc[i])
    assert found.above_now is False and found.fast_now < found.slow_now


def test_the_price_across_its_average_and_the_window(history):
    found = find_crosses(history, slow=6, fast=1)
    assert [c.kind for c in found.crosses] == [CrossKind.ABOVE, CrossKind.BELOW]
    later = find_crosses(
        history, slow=6, fast=1, start=found.crosses[-1].day + pd.Timedelta(days=1)
    )
    assert later.crosses == [] and later.before == found.crosses[-1]  # said, not lost
    assert later.start > found.crosses[-1].day


def test_a_fast_average_not_shorter_than_the_slow_is_refused(history):
    with pytest.raises(InvalidInputError, match="must be shorter"):
        find_crosses(history, slow=50, fast=50)


def test_the_sample_jpm_golden_cross_of_december_2022(sample_store):
    found = find_crosses(sample_store.load("JPM"), slow=200, fast=50, start=date(2022, 6, 1))
    assert [(c.day, c.kind) for c in found.crosses] == [(date(2022, 12, 2), CrossKind.GOLDEN)]
