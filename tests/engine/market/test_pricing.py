"""SDR (Liu et al. 2017) and mid-market rate (Long et al. 2017): worked examples and bounds."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine.market import clear, mmr_prices, sdr_prices
from custom_components.energy_collective.engine.market.pricing import pro_rata

from .conftest import SLOT, order

RETAIL = 200_000  # 0.20 /kWh
FEED_IN = 50_000  # 0.05 /kWh


def test_sdr_worked_example_half_supplied() -> None:
    """TSP = 5 kWh, TBP = 10 kWh: SDR = 0.5.

    P_sell = 0.20 * 0.05 / ((0.20 - 0.05) * 0.5 + 0.05) = 0.01 / 0.125 = 0.08
    P_buy  = 0.08 * 0.5 + 0.20 * (1 - 0.5)             = 0.14
    """
    prices = sdr_prices(5000, 10_000, RETAIL, FEED_IN)
    assert prices.ratio == Fraction(1, 2)
    assert prices.p2p == prices.sell == 80_000
    assert prices.buy == 140_000


def test_sdr_limits() -> None:
    # no supply: everything at retail; supply equals demand: feed-in; surplus: feed-in
    assert sdr_prices(0, 10_000, RETAIL, FEED_IN).sell == RETAIL
    assert sdr_prices(0, 10_000, RETAIL, FEED_IN).buy == RETAIL
    assert sdr_prices(10_000, 10_000, RETAIL, FEED_IN).sell == FEED_IN
    assert sdr_prices(10_000, 10_000, RETAIL, FEED_IN).buy == FEED_IN
    over = sdr_prices(20_000, 10_000, RETAIL, FEED_IN)
    assert (over.sell, over.buy, over.ratio) == (FEED_IN, FEED_IN, 2)
    assert sdr_prices(5000, 0, RETAIL, FEED_IN).ratio is None
    # SDR = 0.25: 0.01 / (0.15 * 0.25 + 0.05) = 0.1142857...; buy = 0.25 P + 0.75 * 0.2
    quarter = sdr_prices(2500, 10_000, RETAIL, FEED_IN)
    assert quarter.sell == 114_286
    assert quarter.buy == round(Fraction(10**10, 87_500) / 4 + Fraction(3 * RETAIL, 4))


def test_sdr_negative_feed_in_stays_bounded() -> None:
    # lambda_sell = -0.05: the denominator 0.25 * SDR - 0.05 is <= 0 for SDR <= 0.2
    low = sdr_prices(1000, 10_000, RETAIL, -50_000)
    assert low.sell == -50_000
    high = sdr_prices(5000, 10_000, RETAIL, -50_000)
    assert -50_000 <= high.sell <= RETAIL


def test_mmr_worked_examples() -> None:
    """P_mm = (0.20 + 0.05) / 2 = 0.125.

    Demand 10 kWh > supply 5 kWh: buyers pay (0.125 * 5 + 0.20 * 5) / 10 = 0.1625.
    Supply 10 kWh > demand 4 kWh: sellers get (0.125 * 4 + 0.05 * 6) / 10 = 0.08.
    """
    short = mmr_prices(5000, 10_000, RETAIL, FEED_IN)
    assert (short.p2p, short.sell, short.buy) == (125_000, 125_000, 162_500)
    long = mmr_prices(10_000, 4000, RETAIL, FEED_IN)
    assert (long.p2p, long.sell, long.buy) == (125_000, 80_000, 125_000)
    even = mmr_prices(3000, 3000, RETAIL, FEED_IN)
    assert (even.sell, even.buy) == (125_000, 125_000)
    assert mmr_prices(3000, 0, RETAIL, FEED_IN).ratio is None


def test_sdr_clearing_allocates_pro_rata() -> None:
    orders = [
        order("sell", 3000, FEED_IN, "s1"),
        order("sell", 2000, FEED_IN, "s2"),
        order("buy", 6000, RETAIL, "b1"),
        order("buy", 4000, RETAIL, "b2"),
    ]
    result = clear(SLOT, orders, "sdr", RETAIL, FEED_IN)
    assert result.price == 80_000  # SDR = 0.5, as in the worked example
    assert result.volume_wh == 5000
    assert result.filled_wh == {
        ("s1", "n"): 3000,
        ("s2", "n"): 2000,
        ("b1", "n"): 3000,
        ("b2", "n"): 2000,
    }
    assert len(result.trades) <= 3
    assert {t.price for t in result.trades} == {80_000}


def test_mmr_clearing_with_surplus() -> None:
    orders = [
        order("sell", 6000, FEED_IN, "s1"),
        order("sell", 4000, FEED_IN, "s2"),
        order("buy", 4000, RETAIL, "b1"),
    ]
    result = clear(SLOT, orders, "mmr", RETAIL, FEED_IN)
    assert result.price == 125_000
    assert result.filled_wh[("s1", "n")] == 2400
    assert result.filled_wh[("s2", "n")] == 1600
    assert result.filled_wh[("b1", "n")] == 4000


def test_limit_prices_drop_orders_until_stable() -> None:
    # the internal price of MMR is 0.125: a seller asking 0.15 and a buyer bidding 0.10 leave
    orders = [
        order("sell", 1000, 150_000, "greedy"),
        order("sell", 1000, FEED_IN, "s"),
        order("buy", 1000, 100_000, "cheap"),
        order("buy", 1000, RETAIL, "b"),
    ]
    result = clear(SLOT, orders, "mmr", RETAIL, FEED_IN)
    assert result.filled_wh == {("s", "n"): 1000, ("b", "n"): 1000}


def test_no_trade_cases() -> None:
    assert clear(SLOT, [order("buy", 1, RETAIL, "b")], "sdr", RETAIL, FEED_IN).price is None
    crossed = [order("sell", 1, 0, "s"), order("buy", 1, RETAIL, "b")]
    assert clear(SLOT, crossed, "mmr", FEED_IN, RETAIL).trades == ()  # retail < feed-in


def test_pro_rata_largest_remainder() -> None:
    orders = [order("buy", 1, 1, "a"), order("buy", 1, 1, "b"), order("buy", 1, 1, "c")]
    assert pro_rata(orders, 2) == [1, 1, 0]  # equal remainders: earlier first
    assert pro_rata(orders, 0) == [0, 0, 0]
    assert pro_rata(orders, 5) == [1, 1, 1]


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(-100_000, 500_000),
    st.integers(0, 500_000),
)
def test_rules_stay_within_grid_prices(supply: int, demand: int, a: int, b: int) -> None:
    retail, feed_in = max(a, b), min(a, b)
    for rule in (sdr_prices, mmr_prices):
        p = rule(supply, demand, retail, feed_in)
        for value in (p.p2p, p.sell, p.buy):
            assert feed_in <= value <= retail


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 9000)), max_size=12))
def test_shared_clearing_conserves_energy(raw: list[tuple[bool, int]]) -> None:
    orders = [
        order("sell" if sell else "buy", q, FEED_IN if sell else RETAIL, f"h{k}")
        for k, (sell, q) in enumerate(raw)
    ]
    for mechanism in ("sdr", "mmr"):
        result = clear(SLOT, orders, mechanism, RETAIL, FEED_IN)  # type: ignore[arg-type]
        supply = sum(o.energy_wh for o in orders if o.side == "sell")
        demand = sum(o.energy_wh for o in orders if o.side == "buy")
        assert result.volume_wh == min(supply, demand)
        assert sum(result.filled_wh.values()) == 2 * result.volume_wh
