"""The peer-to-peer market: orders, clearing, settlement and signed messages between homes.

Pure Python (no Home Assistant). `agents/market.py` moves the messages of a `MarketSession`
over MQTT; see docs/market.md for the protocol and the mechanisms.
"""

from __future__ import annotations

from .auction import clear_auction
from .ledger import Delivery, Ledger, Settlement, SlotBalance
from .orders import (
    ClearingResult,
    Order,
    Trade,
    canonical_json,
    kwh_to_wh,
    micro_to_price,
    nano_to_money,
    price_to_micro,
    trade_id,
)
from .planning import apply_positions, split_by_slot
from .pricing import MECHANISMS, Mechanism, clear, mmr_prices, sdr_prices
from .protocol import (
    Envelope,
    Keypair,
    MessageRejectedError,
    Verifier,
    decode,
    make_message,
    subscription,
    topic,
)
from .session import (
    MarketConfig,
    MarketEvent,
    MarketSession,
    OrderDraft,
    Position,
    orders_from_plan,
    positions_of,
)

__all__ = [
    "MECHANISMS",
    "ClearingResult",
    "Delivery",
    "Envelope",
    "Keypair",
    "Ledger",
    "MarketConfig",
    "MarketEvent",
    "MarketSession",
    "Mechanism",
    "MessageRejectedError",
    "Order",
    "OrderDraft",
    "Position",
    "Settlement",
    "SlotBalance",
    "Trade",
    "Verifier",
    "apply_positions",
    "canonical_json",
    "clear",
    "clear_auction",
    "decode",
    "kwh_to_wh",
    "make_message",
    "micro_to_price",
    "mmr_prices",
    "nano_to_money",
    "orders_from_plan",
    "positions_of",
    "price_to_micro",
    "sdr_prices",
    "split_by_slot",
    "subscription",
    "topic",
    "trade_id",
]
