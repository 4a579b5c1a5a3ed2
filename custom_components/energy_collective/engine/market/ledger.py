"""The ledger of trades and their settlement after delivery.

Money is kept in integer nano-currency (Wh x micro-currency/kWh), so every sum is exact.

For each slot the ledger holds the cleared trades and, after delivery, each home's measured
export and import in the slot. Settlement then works per home:

- A seller that sold `S` Wh and exported `E` Wh delivered min(S, E); the shortfall
  max(0, S - E) reached its buyers from the grid, and the seller pays it at the retail price.
  It receives the trades' value minus that charge (which may leave it owing money).
- A buyer that bought `B` Wh and imported `I` Wh used min(B, I); the excess max(0, B - I) went
  to the grid and is credited to the buyer at the feed-in price. It pays the trades' value
  minus that credit.
- The grid receives the sellers' shortfalls at retail and pays the buyers' excesses at
  feed-in.

A home with no measurement for the slot counts as having exported and imported nothing.
Energy beyond a home's trades is its own business with its supplier and is not in the ledger.

Balance: for every slot, what buyers pay equals what sellers receive plus what is settled
with the grid (`SlotBalance.residual == 0`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .orders import Trade, nano_to_money


@dataclass(frozen=True, slots=True)
class Delivery:
    """A home's measured energy in a slot (Wh, both >= 0)."""

    home_id: str
    slot: int
    export_wh: int
    import_wh: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """One home's settlement in one slot (energies in Wh, money in nano-currency).

    `paid` is what it pays as a buyer (after the excess credit), `received` what it gets as a
    seller (after the shortfall charge); `grid` = shortfall charge - excess credit.
    """

    home_id: str
    slot: int
    sold_wh: int
    bought_wh: int
    shortfall_wh: int
    excess_wh: int
    paid: int
    received: int
    grid: int

    @property
    def net(self) -> int:
        """Money in minus money out for the home (nano-currency)."""
        return self.received - self.paid


@dataclass(frozen=True, slots=True)
class SlotBalance:
    """Money flows of one slot (nano-currency): buyers -> sellers + grid."""

    slot: int
    buyers_paid: int
    sellers_received: int
    grid: int

    @property
    def residual(self) -> int:
        """buyers_paid - sellers_received - grid; zero when the books balance."""
        return self.buyers_paid - self.sellers_received - self.grid

    def as_money(self) -> dict[str, float]:
        """The flows in currency units."""
        return {
            "buyers_paid": nano_to_money(self.buyers_paid),
            "sellers_received": nano_to_money(self.sellers_received),
            "grid": nano_to_money(self.grid),
        }


class Ledger:
    """Trades and measured deliveries per slot; settlement at the slot's grid prices."""

    def __init__(self) -> None:
        self._trades: dict[int, dict[str, Trade]] = defaultdict(dict)
        self._deliveries: dict[int, dict[str, Delivery]] = defaultdict(dict)
        self._grid_prices: dict[int, tuple[int, int]] = {}

    # -- recording ----------------------------------------------------------------------------

    def add_trades(self, trades: Iterable[Trade]) -> None:
        """Record trades; a trade id seen before is kept once."""
        for trade in trades:
            self._trades[trade.slot].setdefault(trade.trade_id, trade)

    def record_delivery(self, delivery: Delivery) -> None:
        """Record (or replace) a home's measured energy in a slot."""
        if delivery.export_wh < 0 or delivery.import_wh < 0:
            raise ValueError("measured energies must be >= 0")
        self._deliveries[delivery.slot][delivery.home_id] = delivery

    def set_grid_prices(self, slot: int, retail: int, feed_in: int) -> None:
        """The grid prices (micro-currency/kWh) deviations in `slot` are settled at."""
        self._grid_prices[slot] = (retail, feed_in)

    # -- queries ------------------------------------------------------------------------------

    @property
    def slots(self) -> list[int]:
        """Slots with trades, oldest first."""
        return sorted(s for s, t in self._trades.items() if t)

    def trades(self, slot: int) -> list[Trade]:
        """The slot's trades in id order."""
        return [self._trades[slot][k] for k in sorted(self._trades.get(slot, {}))]

    def deliveries(self, slot: int) -> dict[str, Delivery]:
        """Measured energies of the slot by home."""
        return dict(self._deliveries.get(slot, {}))

    def settle(self, slot: int) -> dict[str, Settlement]:
        """Each trading home's settlement in `slot` (needs the slot's grid prices)."""
        if slot not in self._grid_prices:
            raise KeyError(f"no grid prices for slot {slot}")
        retail, feed_in = self._grid_prices[slot]
        sold: dict[str, int] = defaultdict(int)
        bought: dict[str, int] = defaultdict(int)
        earned: dict[str, int] = defaultdict(int)
        owed: dict[str, int] = defaultdict(int)
        for trade in self.trades(slot):
            sold[trade.seller] += trade.energy_wh
            earned[trade.seller] += trade.amount
            bought[trade.buyer] += trade.energy_wh
            owed[trade.buyer] += trade.amount
        measured = self._deliveries.get(slot, {})
        out: dict[str, Settlement] = {}
        for home in sorted(set(sold) | set(bought)):
            delivery = measured.get(home)
            exported = delivery.export_wh if delivery else 0
            imported = delivery.import_wh if delivery else 0
            shortfall = max(0, sold[home] - exported)
            excess = max(0, bought[home] - imported)
            charge = shortfall * retail
            credit = excess * feed_in
            out[home] = Settlement(
                home_id=home,
                slot=slot,
                sold_wh=sold[home],
                bought_wh=bought[home],
                shortfall_wh=shortfall,
                excess_wh=excess,
                paid=owed[home] - credit,
                received=earned[home] - charge,
                grid=charge - credit,
            )
        return out

    def balance(self, slot: int) -> SlotBalance:
        """Money flows of `slot`; `residual` is zero when the books balance."""
        lines = self.settle(slot).values()
        return SlotBalance(
            slot=slot,
            buyers_paid=sum(s.paid for s in lines),
            sellers_received=sum(s.received for s in lines),
            grid=sum(s.grid for s in lines),
        )

    def prune(self, before_slot: int) -> None:
        """Forget everything about slots before `before_slot`."""
        for table in (self._trades, self._deliveries, self._grid_prices):
            for slot in [s for s in table if s < before_slot]:
                del table[slot]

    # -- persistence (JSON for Store) -------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict of the whole ledger."""
        return {
            "trades": [t.to_json() for s in sorted(self._trades) for t in self.trades(s)],
            "deliveries": [
                {
                    "home_id": d.home_id,
                    "slot": d.slot,
                    "export_wh": d.export_wh,
                    "import_wh": d.import_wh,
                }
                for s in sorted(self._deliveries)
                for d in self._deliveries[s].values()
            ],
            "grid_prices": [[s, r, f] for s, (r, f) in sorted(self._grid_prices.items())],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        """Inverse of `to_json`."""
        ledger = cls()
        ledger.add_trades(Trade.from_json(t) for t in data.get("trades", []))
        for d in data.get("deliveries", []):
            ledger.record_delivery(
                Delivery(
                    str(d["home_id"]), int(d["slot"]), int(d["export_wh"]), int(d["import_wh"])
                )
            )
        for slot, retail, feed_in in data.get("grid_prices", []):
            ledger.set_grid_prices(int(slot), int(retail), int(feed_in))
        return ledger
