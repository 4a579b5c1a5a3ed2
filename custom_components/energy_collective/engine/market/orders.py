"""Orders of the peer-to-peer market and their canonical encoding.

Units
-----
Every quantity that takes part in clearing, signing or settlement is an integer, so every home
computes bit-identical results and signatures never depend on how a float prints:

- energy in watt-hours (``energy_wh``, i.e. milli-kWh);
- prices in micro-units of the community currency per kWh (``price``: 250_000 = 0.25 EUR/kWh);
- money in nano-units of the currency (Wh x micro/kWh = 1e-3 kWh x 1e-6 currency/kWh);
- a delivery slot is the Unix time (seconds, UTC) at which it starts;
- a timestamp is Unix time in milliseconds.

`kwh_to_wh` and `price_to_micro` convert from floats with round-half-even on the decimal text
of the float, which is the same on every platform.

Canonical JSON
--------------
`canonical_json` is what gets signed: UTF-8 JSON with sorted keys, no whitespace, ASCII only,
and no floats at all (a float raises `TypeError`). Two homes that hold the same data therefore
produce the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, NamedTuple

Side = Literal["buy", "sell"]
SIDES: tuple[Side, ...] = ("buy", "sell")

WH_PER_KWH = 1000
MICRO = 1_000_000
"""Price scale: micro-units of currency per kWh."""
NANO_PER_UNIT = 1_000_000_000
"""Money scale: an amount of 1e9 is one unit of currency (Wh x micro-currency/kWh)."""

MAX_ENERGY_WH = 10_000_000
"""10 MWh: far above what a home trades in one slot; larger values are malformed."""
MAX_ABS_PRICE = 1_000 * MICRO
"""1000 currency/kWh: a sanity bound on limit prices (negative prices are allowed)."""
MAX_ID_LENGTH = 64
MAX_NONCE_LENGTH = 64


def _round_decimal(value: float, scale: int) -> int:
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    scaled = Decimal(repr(value)) * scale
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def kwh_to_wh(kwh: float) -> int:
    """Energy in kWh (float) to integer Wh, rounded half to even."""
    return _round_decimal(kwh, WH_PER_KWH)


def price_to_micro(price: float) -> int:
    """A price in currency/kWh (float) to integer micro-currency/kWh, rounded half to even."""
    return _round_decimal(price, MICRO)


def micro_to_price(micro: int) -> float:
    """Integer micro-currency/kWh back to currency/kWh."""
    return micro / MICRO


def nano_to_money(nano: int) -> float:
    """An integer amount in nano-currency to currency."""
    return nano / NANO_PER_UNIT


def canonical_json(obj: Any) -> bytes:
    """The canonical bytes of a JSON-able value: sorted keys, no whitespace, no floats."""
    _reject_floats(obj)
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _reject_floats(obj: Any) -> None:
    if isinstance(obj, float):
        raise TypeError("floats are not allowed in canonical JSON; use integer units")
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError("canonical JSON keys must be strings")
            _reject_floats(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _reject_floats(value)


def is_int(value: Any) -> bool:
    """True for a real int (bool excluded)."""
    return isinstance(value, int) and not isinstance(value, bool)


def valid_id(value: Any, max_length: int = MAX_ID_LENGTH) -> bool:
    """A home id, community id or nonce: 1..max_length printable ASCII without '/', '+', '#'."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and value.isascii()
        and value.isprintable()
        and not any(c in value for c in "/+# ")
    )


@dataclass(frozen=True, slots=True)
class Order:
    """One home's offer to buy or sell energy in one delivery slot.

    `energy_wh` > 0 (an order of 0 Wh withdraws an earlier one and never reaches clearing);
    `price` is the limit in micro-currency/kWh: the most a buyer pays, the least a seller
    takes. `nonce` and `timestamp_ms` are those of the signed message that carried the order,
    and break ties between equal prices (see `auction`).
    """

    side: Side
    energy_wh: int
    price: int
    home_id: str
    slot: int
    nonce: str
    timestamp_ms: int

    def __post_init__(self) -> None:
        problem = order_problem(self.to_json())
        if problem:
            raise ValueError(f"invalid order: {problem}")

    @property
    def kwh(self) -> float:
        """Energy in kWh."""
        return self.energy_wh / WH_PER_KWH

    @property
    def price_per_kwh(self) -> float:
        """Limit price in currency/kWh."""
        return micro_to_price(self.price)

    def sort_key(self) -> tuple[int, int, str, str]:
        """Priority within its side: better price first, then earlier, then home id, nonce."""
        price = -self.price if self.side == "buy" else self.price
        return (price, self.timestamp_ms, self.home_id, self.nonce)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (integers and strings only)."""
        return {
            "side": self.side,
            "energy_wh": self.energy_wh,
            "price": self.price,
            "home_id": self.home_id,
            "slot": self.slot,
            "nonce": self.nonce,
            "timestamp_ms": self.timestamp_ms,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Order:
        """Inverse of `to_json`; raises ValueError on anything malformed."""
        problem = order_problem(data)
        if problem:
            raise ValueError(f"invalid order: {problem}")
        return cls(
            side=data["side"],
            energy_wh=data["energy_wh"],
            price=data["price"],
            home_id=data["home_id"],
            slot=data["slot"],
            nonce=data["nonce"],
            timestamp_ms=data["timestamp_ms"],
        )


_ORDER_KEYS = frozenset(("side", "energy_wh", "price", "home_id", "slot", "nonce", "timestamp_ms"))


def order_problem(data: Mapping[str, Any]) -> str | None:
    """What is wrong with an order's JSON form, or None when it is valid."""
    if not isinstance(data, Mapping) or set(data) != _ORDER_KEYS:
        return "wrong fields"
    checks: tuple[tuple[bool, str], ...] = (
        (data["side"] in SIDES, "side must be 'buy' or 'sell'"),
        (
            is_int(data["energy_wh"]) and 0 <= data["energy_wh"] <= MAX_ENERGY_WH,
            "energy_wh out of range",
        ),
        (is_int(data["price"]) and abs(data["price"]) <= MAX_ABS_PRICE, "price out of range"),
        (valid_id(data["home_id"]), "bad home_id"),
        (is_int(data["slot"]) and data["slot"] >= 0, "bad slot"),
        (valid_id(data["nonce"], MAX_NONCE_LENGTH), "bad nonce"),
        (is_int(data["timestamp_ms"]) and data["timestamp_ms"] >= 0, "bad timestamp"),
    )
    for ok, message in checks:
        if not ok:
            return message
    return None


class Trade(NamedTuple):
    """A cleared trade: `seller` delivers `energy_wh` to `buyer` in `slot` at `price`.

    `position` is the trade's position in its clearing result; `trade_id` is
    `trade_id(slot, seller, buyer, position)`, so every home derives the same id for the same
    trade (computed when asked for: clearing itself does not need it).
    """

    slot: int
    seller: str
    buyer: str
    energy_wh: int
    price: int
    position: int

    @property
    def trade_id(self) -> str:
        """The deterministic id of the trade."""
        return trade_id(self.slot, self.seller, self.buyer, self.position)

    @property
    def amount(self) -> int:
        """What the buyer owes the seller, in nano-currency (exact)."""
        return self.energy_wh * self.price

    @property
    def kwh(self) -> float:
        """Energy in kWh."""
        return self.energy_wh / WH_PER_KWH

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (with the trade id)."""
        return {
            "trade_id": self.trade_id,
            "slot": self.slot,
            "seller": self.seller,
            "buyer": self.buyer,
            "energy_wh": self.energy_wh,
            "price": self.price,
            "position": self.position,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trade:
        """Inverse of `to_json`; raises ValueError when the id does not match."""
        trade = cls(
            slot=int(data["slot"]),
            seller=str(data["seller"]),
            buyer=str(data["buyer"]),
            energy_wh=int(data["energy_wh"]),
            price=int(data["price"]),
            position=int(data["position"]),
        )
        if "trade_id" in data and data["trade_id"] != trade.trade_id:
            raise ValueError("trade id does not match the trade")
        return trade


def trade_id(slot: int, seller: str, buyer: str, index: int) -> str:
    """Deterministic trade id: the first 16 bytes of SHA-256 over slot|seller|buyer|index, hex."""
    text = f"{slot}|{seller}|{buyer}|{index}".encode()
    return hashlib.sha256(text).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ClearingResult:
    """What clearing one slot's order set gives.

    `price`: the uniform price of the P2P trades (micro-currency/kWh), None when nothing
    trades. `filled_wh` maps (home_id, nonce) of every order that took part to the energy it
    got. `order_ids` lists (home_id, nonce) of every order in the input, sorted. `digest`
    (hex SHA-256 of the canonical form) is what homes compare to agree on the result.
    """

    slot: int
    mechanism: str
    price: int | None
    trades: tuple[Trade, ...]
    filled_wh: Mapping[tuple[str, str], int]
    order_ids: tuple[tuple[str, str], ...]

    @property
    def volume_wh(self) -> int:
        """Energy traded in the slot (Wh)."""
        return sum(t.energy_wh for t in self.trades)

    def canonical(self) -> dict[str, Any]:
        """The canonical JSON form the digest is computed over."""
        return {
            "slot": self.slot,
            "mechanism": self.mechanism,
            "price": self.price,
            "orders": [list(o) for o in self.order_ids],
            "trades": [t.to_json() for t in self.trades],
        }

    @property
    def digest(self) -> str:
        """Hex SHA-256 of `canonical()`."""
        return hashlib.sha256(canonical_json(self.canonical())).hexdigest()

    def unmatched(self, orders: list[Order] | tuple[Order, ...]) -> list[tuple[Order, int]]:
        """The orders (of those given) with energy left over, and how much (Wh)."""
        out = []
        for order in orders:
            rest = order.energy_wh - self.filled_wh.get((order.home_id, order.nonce), 0)
            if rest > 0:
                out.append((order, rest))
        return out


def make_trades(slot: int, fills: list[tuple[str, str, int]], price: int) -> tuple[Trade, ...]:
    """Trades from (seller, buyer, energy_wh) fills in clearing order, all at `price`."""
    kept = [f for f in fills if f[2] > 0]
    return tuple(Trade(slot, s, b, wh, price, i) for i, (s, b, wh) in enumerate(kept))
