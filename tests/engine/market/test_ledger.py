"""Ledger and settlement; the money balance holds for every slot (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine.market import Delivery, Ledger, clear

from .conftest import SLOT, order

RETAIL = 300_000
FEED_IN = 80_000


def _ledger_with() -> Ledger:
    ledger = Ledger()
    ledger.set_grid_prices(SLOT, RETAIL, FEED_IN)
    return ledger


def test_settlement_of_a_short_seller_and_an_excess_buyer() -> None:
    result = clear(SLOT, [order("sell", 2000, 100_000, "s"), order("buy", 2000, 200_000, "b")])
    assert result.price == 150_000
    ledger = _ledger_with()
    ledger.add_trades(result.trades)
    ledger.add_trades(result.trades)  # idempotent
    ledger.record_delivery(Delivery("s", SLOT, export_wh=1500, import_wh=0))
    ledger.record_delivery(Delivery("b", SLOT, export_wh=0, import_wh=1800))
    lines = ledger.settle(SLOT)
    seller, buyer = lines["s"], lines["b"]
    assert seller.shortfall_wh == 500
    assert seller.received == 2000 * 150_000 - 500 * RETAIL
    assert buyer.excess_wh == 200
    assert buyer.paid == 2000 * 150_000 - 200 * FEED_IN
    assert buyer.net == -buyer.paid
    balance = ledger.balance(SLOT)
    assert balance.residual == 0
    assert balance.grid == 500 * RETAIL - 200 * FEED_IN
    assert balance.as_money()["buyers_paid"] == pytest.approx(0.284)


def test_missing_measurement_counts_as_nothing_delivered() -> None:
    ledger = _ledger_with()
    ledger.add_trades(clear(SLOT, [order("sell", 1000, 0, "s"), order("buy", 1000, 0, "b")]).trades)
    lines = ledger.settle(SLOT)
    assert lines["s"].shortfall_wh == 1000
    assert lines["b"].excess_wh == 1000
    assert ledger.balance(SLOT).residual == 0


def test_settle_needs_grid_prices_and_rejects_negative_measurements() -> None:
    ledger = Ledger()
    with pytest.raises(KeyError):
        ledger.settle(SLOT)
    with pytest.raises(ValueError, match=">= 0"):
        ledger.record_delivery(Delivery("a", SLOT, -1, 0))


def test_json_round_trip_and_prune() -> None:
    ledger = _ledger_with()
    ledger.add_trades(clear(SLOT, [order("sell", 1000, 0, "s"), order("buy", 1000, 9, "b")]).trades)
    ledger.record_delivery(Delivery("s", SLOT, 1000, 0))
    again = Ledger.from_json(ledger.to_json())
    assert again.to_json() == ledger.to_json()
    assert again.slots == [SLOT]
    assert again.deliveries(SLOT)["s"].export_wh == 1000
    again.prune(SLOT + 1)
    assert again.slots == []
    assert again.trades(SLOT) == []


order_sets = st.lists(
    st.tuples(
        st.booleans(), st.integers(1, 8000), st.integers(FEED_IN, RETAIL), st.integers(0, 9000)
    ),
    min_size=1,
    max_size=16,
)


@settings(max_examples=200, deadline=None)
@given(
    order_sets,
    st.sampled_from(["auction", "sdr", "mmr"]),
    st.integers(-100_000, 400_000),
    st.integers(-100_000, 400_000),
    st.integers(0, 3),
)
def test_money_balances_for_every_slot(
    raw: list[tuple[bool, int, int, int]], mechanism: str, retail: int, feed_in: int, slots: int
) -> None:
    """Buyers' payments = sellers' receipts + grid settlement, whatever is delivered."""
    ledger = Ledger()
    for k in range(slots + 1):
        slot = SLOT + 900 * k
        orders = [
            order("sell" if sell else "buy", q, p, f"h{i}", slot=slot)
            for i, (sell, q, p, _) in enumerate(raw)
        ]
        result = clear(slot, orders, mechanism, retail, feed_in)  # type: ignore[arg-type]
        ledger.add_trades(result.trades)
        ledger.set_grid_prices(slot, retail, feed_in)
        for i, (_, _, _, measured) in enumerate(raw):
            if (i + k) % 3:  # some homes report nothing
                ledger.record_delivery(Delivery(f"h{i}", slot, measured, (measured * 7) % 9001))
        balance = ledger.balance(slot)
        assert balance.buyers_paid == balance.sellers_received + balance.grid
        assert balance.residual == 0
        traded = sum(t.amount for t in ledger.trades(slot))
        assert balance.buyers_paid <= traded or feed_in < 0


def test_trade_json_checks_its_id() -> None:
    trade = clear(SLOT, [order("sell", 1500, 0, "s"), order("buy", 1500, 9, "b")]).trades[0]
    assert trade.kwh == 1.5
    data = trade.to_json()
    assert type(trade).from_json(data) == trade
    with pytest.raises(ValueError, match="trade id"):
        type(trade).from_json({**data, "position": 3})
