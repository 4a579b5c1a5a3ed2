"""Helpers shared by the market engine tests."""

from __future__ import annotations

from custom_components.energy_collective.engine.market.orders import Order, Side

SLOT = 1_767_225_600  # 2026-01-01T00:00:00Z


def order(  # noqa: PLR0917  (short positional calls keep the order books readable)
    side: Side,
    energy_wh: int,
    price: int,
    home: str,
    ts: int = 0,
    nonce: str = "n",
    slot: int = SLOT,
) -> Order:
    """An order with defaults for the fields a test does not care about."""
    return Order(side, energy_wh, price, home, slot, nonce, ts)
