"""The uniform-price double auction: reference cases, pricing rule and tie-breaking."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine.market import clear, clear_auction
from custom_components.energy_collective.engine.market.orders import (
    ClearingResult,
    Order,
    canonical_json,
    kwh_to_wh,
    price_to_micro,
    trade_id,
)

from .conftest import SLOT, order


def _book(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> list[Order]:
    out = [order("buy", q, p, f"b{k}") for k, (q, p) in enumerate(bids)]
    out += [order("sell", q, p, f"s{k}") for k, (q, p) in enumerate(asks)]
    return out


def test_pymarket_reference_case() -> None:
    """Bids 1@3, 2@4, 5@1, asks 4@2, 1@1, 5@6 (pymarket's example): 3 units at 2."""
    result = clear_auction(SLOT, _book([(1, 3), (2, 4), (5, 1)], [(4, 2), (1, 1), (5, 6)]))
    assert result.volume_wh == 3
    assert result.price == 2
    assert [(t.seller, t.buyer, t.energy_wh) for t in result.trades] == [
        ("s1", "b1", 1),  # cheapest ask 1@1 to the best bid 2@4
        ("s0", "b1", 1),  # then 4@2 fills the rest of 2@4 ...
        ("s0", "b0", 1),  # ... and 1@3; 2 of its 4 units stay unsold
    ]
    assert result.filled_wh[("s0", "n")] == 2
    assert [(o.home_id, rest) for o, rest in result.unmatched(_book([], [(4, 2)]))] == [("s0", 2)]


def test_partial_bid_pins_the_price() -> None:
    """Bids 3@6, 2@5, 4@3 against asks 4@1, 3@2, 5@4: the bid 4@3 is partially filled."""
    result = clear_auction(SLOT, _book([(3, 6), (2, 5), (4, 3)], [(4, 1), (3, 2), (5, 4)]))
    # demand 3@6, 2@5, 4@3 -> 9 units at >= 3; supply 4@1, 3@2 -> 7 units at <= 2:
    # all 7 supplied units up to price 2 trade, the bid 4@3 gets 2 of 4 -> pinned at 3,
    # the next ask is 5@4 -> high = min(3, 4) = 3, low = max(2, 3) = 3
    assert result.volume_wh == 7
    assert result.price == 3


def test_midpoint_when_nothing_is_partial() -> None:
    result = clear_auction(SLOT, _book([(5, 300)], [(5, 100)]))
    assert result.price == 200
    assert result.volume_wh == 5


def test_interval_bounded_by_rejected_orders() -> None:
    # bid 5@300 and ask 5@100 trade; the rejected bid 5@180 raises the floor, the rejected
    # ask 5@250 lowers the ceiling: interval [180, 250] -> 215
    result = clear_auction(SLOT, _book([(5, 300), (5, 180)], [(5, 100), (5, 250)]))
    assert result.volume_wh == 5
    assert result.price == 215


def test_no_trade_when_books_do_not_cross() -> None:
    result = clear_auction(SLOT, _book([(5, 100)], [(5, 200)]))
    assert result.price is None
    assert result.trades == ()
    assert clear_auction(SLOT, []).trades == ()
    assert clear_auction(SLOT, _book([(5, 100)], [])).price is None


def test_ties_broken_by_timestamp_then_home_then_nonce() -> None:
    ask = order("sell", 3, 100, "seller")
    late = order("buy", 3, 200, "a-late", ts=20)
    early = order("buy", 3, 200, "z-early", ts=10)
    result = clear_auction(SLOT, [ask, late, early])
    assert [t.buyer for t in result.trades] == ["z-early"]
    same_time = [ask, order("buy", 3, 200, "b", ts=5), order("buy", 3, 200, "a", ts=5)]
    assert [t.buyer for t in clear_auction(SLOT, same_time).trades] == ["a"]
    same_home = [ask, order("buy", 3, 200, "a", nonce="y"), order("buy", 3, 200, "a", nonce="x")]
    result = clear_auction(SLOT, same_home)
    assert result.filled_wh == {("a", "x"): 3, ("seller", "n"): 3}


def test_rejects_foreign_slot_and_duplicates() -> None:
    with pytest.raises(ValueError, match="slot"):
        clear_auction(SLOT, [order("buy", 1, 1, "a", slot=SLOT + 900)])
    with pytest.raises(ValueError, match="twice"):
        clear_auction(SLOT, [order("buy", 1, 1, "a"), order("sell", 1, 1, "a")])


def test_zero_energy_orders_do_not_trade() -> None:
    result = clear_auction(SLOT, [order("buy", 0, 500, "a"), order("sell", 3, 100, "b")])
    assert result.trades == ()
    assert result.order_ids == (("a", "n"), ("b", "n"))


def test_order_validation_and_units() -> None:
    with pytest.raises(ValueError, match="side"):
        order("hold", 1, 1, "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="home_id"):
        order("buy", 1, 1, "a/b")
    with pytest.raises(ValueError, match="energy"):
        order("buy", -1, 1, "a")
    with pytest.raises(ValueError, match="wrong fields"):
        Order.from_json({"side": "buy"})
    o = order("sell", 1500, 250_000, "a")
    assert Order.from_json(o.to_json()) == o
    assert o.kwh == 1.5
    assert o.price_per_kwh == 0.25
    assert kwh_to_wh(0.0005) == 0  # half to even
    assert kwh_to_wh(0.0015) == 2
    assert price_to_micro(0.1234565) == 123456
    with pytest.raises(ValueError, match="finite"):
        kwh_to_wh(float("nan"))
    assert canonical_json({"b": [1, "x"], "a": None}) == b'{"a":null,"b":[1,"x"]}'
    with pytest.raises(TypeError, match="float"):
        canonical_json({"a": 0.5})
    with pytest.raises(TypeError, match="keys"):
        canonical_json({1: 2})


def test_trade_ids_are_deterministic() -> None:
    assert trade_id(SLOT, "s", "b", 0) == trade_id(SLOT, "s", "b", 0)
    assert trade_id(SLOT, "s", "b", 0) != trade_id(SLOT, "s", "b", 1)
    assert len(trade_id(SLOT, "s", "b", 0)) == 32


def test_clear_dispatch_errors() -> None:
    with pytest.raises(ValueError, match="unknown mechanism"):
        clear(SLOT, [], "lottery")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs the retail"):
        clear(SLOT, [], "sdr")


orders_strategy = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 5000),
        st.integers(-50_000, 400_000),
        st.integers(0, 5),
    ),
    max_size=30,
)


def _orders(raw: list[tuple[str, int, int, int]]) -> list[Order]:
    return [
        order(side, q, p, f"h{k:02d}", ts=ts)  # type: ignore[arg-type]
        for k, (side, q, p, ts) in enumerate(raw)
    ]


def _check_invariants(result: ClearingResult, orders: list[Order]) -> None:
    by_key = {(o.home_id, o.nonce): o for o in orders}
    for key, filled in result.filled_wh.items():
        assert 0 < filled <= by_key[key].energy_wh
    sold = sum(q for k, q in result.filled_wh.items() if by_key[k].side == "sell")
    bought = sum(q for k, q in result.filled_wh.items() if by_key[k].side == "buy")
    assert sold == bought == result.volume_wh
    if result.price is None:
        assert result.trades == ()
        return
    for key in result.filled_wh:
        o = by_key[key]
        # individual rationality: nobody trades against its limit
        assert o.price >= result.price if o.side == "buy" else o.price <= result.price


@settings(max_examples=150, deadline=None)
@given(orders_strategy, st.randoms(use_true_random=False))
def test_auction_properties(raw: list[tuple[str, int, int, int]], rnd: random.Random) -> None:
    orders = _orders(raw)
    result = clear_auction(SLOT, orders)
    _check_invariants(result, orders)
    shuffled = orders[:]
    rnd.shuffle(shuffled)
    again = clear_auction(SLOT, shuffled)
    assert again.digest == result.digest  # the order of the input does not matter
    # efficiency: no unmatched bid can trade with an unmatched ask
    rest = result.unmatched(orders)
    best_bid = max((o.price for o, _ in rest if o.side == "buy"), default=None)
    best_ask = min((o.price for o, _ in rest if o.side == "sell"), default=None)
    if best_bid is not None and best_ask is not None:
        assert best_bid < best_ask
