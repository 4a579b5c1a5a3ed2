"""One home's part in the community market, independent of the transport.

A `MarketSession` takes the bytes of incoming messages (`receive`), and gives back signed
envelopes to publish (`place_orders`, `tick`, `report_delivery`); the caller moves them over
whatever transport it has (MQTT in Home Assistant, see docs/market.md). Time comes from the
injected `clock` (Unix seconds), never from the system, so tests drive it.

Timeline of a slot starting at S (Unix seconds, a multiple of `slot_s`)
    - orders for S are accepted while their signed timestamp is before the gate
      G = S - gate_closure_s; a home's newer order for S replaces its older one (an order of
      0 Wh withdraws it);
    - at G + clearing_delay_s (time for the last messages to arrive) every home clears the same
      order set itself, records the trades in its ledger and publishes a signed "result" with
      the digest of what it computed; a peer whose digest differs raises a "mismatch" event;
    - a peer is alive for S when its last message (any type, heartbeats every `heartbeat_s`)
      is at most `dropout_s` older than G. Orders of peers that are not alive are annulled
      before clearing ("annulled" event), so a home that dropped out never trades in a slot
      it cannot serve; trades already cleared stand and are settled after delivery;
    - after S ends each home publishes its measured export and import ("delivery"), and
      `settle` prices every deviation at the grid prices (see ledger).

The order of the inputs does not matter: clearing sorts by price, timestamp, home id and nonce.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .ledger import Delivery, Ledger, Settlement
from .orders import (
    ClearingResult,
    Order,
    Side,
    Trade,
    kwh_to_wh,
    micro_to_price,
    price_to_micro,
    valid_id,
)
from .pricing import MECHANISMS, Mechanism, clear
from .protocol import Envelope, Keypair, MessageRejectedError, Verifier, make_message

EventKind = Literal["mismatch", "annulled", "late_order"]


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """Rules of one community (every home must use the same).

    `slot_s`: delivery slot length (the planner's step). `gate_closure_s`: orders close this
    long before the slot starts. `clearing_delay_s`: homes clear this long after the gate (at
    least `window_s`, so a message signed just before the gate has arrived everywhere).
    `heartbeat_s`/`dropout_s`: how often a home says it is alive and after how long without a
    message a peer counts as gone. `window_s`: accepted clock difference of a message.
    `horizon_slots`: how far ahead orders are accepted.
    """

    community: str
    mechanism: Mechanism = "auction"
    slot_s: int = 900
    gate_closure_s: int = 300
    clearing_delay_s: int = 30
    heartbeat_s: int = 30
    dropout_s: int = 90
    window_s: int = 30
    horizon_slots: int = 192

    def __post_init__(self) -> None:
        if not valid_id(self.community):
            raise ValueError(f"invalid community id {self.community!r}")
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"mechanism must be one of {MECHANISMS}")
        if self.slot_s <= 0 or self.heartbeat_s <= 0 or self.window_s <= 0:
            raise ValueError("slot_s, heartbeat_s and window_s must be > 0")
        if self.gate_closure_s < self.clearing_delay_s:
            raise ValueError("the gate must close at least clearing_delay_s before delivery")
        if self.clearing_delay_s < self.window_s:
            raise ValueError("clearing_delay_s must be at least window_s")
        if self.dropout_s < 2 * self.heartbeat_s:
            raise ValueError("dropout_s must be at least two heartbeats")


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """An order this home wants to place (before it is signed): integer units."""

    slot: int
    side: Side
    energy_wh: int
    price: int


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """Something the agent should surface: a result mismatch (repair issue), annulled orders
    of a peer that dropped out, or an order that arrived after the gate."""

    kind: EventKind
    slot: int
    home_id: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    """This home's cleared trades in one slot, for the planner.

    `import_kwh` bought from peers, `export_kwh` sold to peers, each at its volume-weighted
    price (currency/kWh; None when nothing traded on that side).
    """

    slot: int
    import_kwh: float
    export_kwh: float
    import_price: float | None
    export_price: float | None


def orders_from_plan(  # noqa: PLR0917  (one series per argument, as the planner has them)
    slots: Sequence[int],
    surplus_kwh: Sequence[float],
    deficit_kwh: Sequence[float],
    marginal_prices: Sequence[float | None] | None,
    retail: Sequence[float],
    feed_in: Sequence[float],
    min_kwh: float = 0.01,
) -> list[OrderDraft]:
    """Orders from a plan: per slot, sell the surplus or buy the deficit (net of each other).

    The limit price is the plan's marginal value of energy in the slot (currency/kWh), clamped
    to [feed-in, retail]: a seller never takes less than the grid pays it and a buyer never
    offers more than the grid charges. Without a marginal value (None, NaN) a seller asks the
    feed-in price and a buyer bids retail. Slots where retail < feed-in, or with less than
    `min_kwh` to trade, get no order.
    """
    n = len(slots)
    series = (surplus_kwh, deficit_kwh, retail, feed_in)
    if any(len(s) != n for s in series) or (
        marginal_prices is not None and len(marginal_prices) != n
    ):
        raise ValueError("all series must have one value per slot")
    drafts: list[OrderDraft] = []
    for k, slot in enumerate(slots):
        net = surplus_kwh[k] - deficit_kwh[k]
        low, high = feed_in[k], retail[k]
        if abs(net) < min_kwh or high < low:
            continue
        side: Side = "sell" if net > 0 else "buy"
        marginal = marginal_prices[k] if marginal_prices is not None else None
        if marginal is None or not math.isfinite(marginal):
            limit = low if side == "sell" else high
        else:
            limit = min(high, max(low, marginal))
        drafts.append(OrderDraft(slot, side, kwh_to_wh(abs(net)), price_to_micro(limit)))
    return drafts


def positions_of(trades: Iterable[Trade], home_id: str) -> dict[int, Position]:
    """Per slot, what `home_id` bought and sold in `trades` and at what average price."""
    acc: dict[int, list[int]] = {}
    for t in trades:
        row = acc.setdefault(t.slot, [0, 0, 0, 0])  # bought wh, paid, sold wh, earned
        if t.buyer == home_id:
            row[0] += t.energy_wh
            row[1] += t.amount
        if t.seller == home_id:
            row[2] += t.energy_wh
            row[3] += t.amount
    out: dict[int, Position] = {}
    for slot, (b_wh, paid, s_wh, earned) in sorted(acc.items()):
        if b_wh == 0 and s_wh == 0:
            continue
        out[slot] = Position(
            slot=slot,
            import_kwh=b_wh / 1000,
            export_kwh=s_wh / 1000,
            import_price=micro_to_price(paid // b_wh) if b_wh else None,
            export_price=micro_to_price(earned // s_wh) if s_wh else None,
        )
    return out


class MarketSession:
    """The market as one home sees it (see module docstring)."""

    def __init__(
        self,
        config: MarketConfig,
        home_id: str,
        keypair: Keypair,
        peers: Mapping[str, str],
        *,
        clock: Callable[[], float],
        ledger: Ledger | None = None,
    ) -> None:
        if not valid_id(home_id):
            raise ValueError(f"invalid home id {home_id!r}")
        self.config = config
        self.home_id = home_id
        self.keypair = keypair
        self._clock = clock
        self.verifier = Verifier(config.community, window_s=config.window_s)
        for peer, key in peers.items():
            if peer != home_id:
                self.verifier.add_peer(peer, key)
        # its own key too: the broker echoes this home's messages back, and a message forged
        # in its name must be caught (and counted) like any other
        self.verifier.add_peer(home_id, keypair.public_key)
        self.ledger = ledger or Ledger()
        self.counters: Counter[str] = Counter()
        self._orders: dict[int, dict[str, Order]] = {}
        self._last_seen: dict[str, int] = {}
        self._results: dict[int, ClearingResult] = {}
        self._peer_digests: dict[int, dict[str, str]] = {}
        self._reported: set[tuple[int, str]] = set()
        self._grid_prices: dict[int, tuple[int, int]] = {}
        self._events: list[MarketEvent] = []
        self._last_heartbeat_ms: int | None = None

    # -- time ---------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The injected clock in Unix milliseconds."""
        return int(self._clock() * 1000)

    def gate_ms(self, slot: int) -> int:
        """When orders for `slot` close (Unix ms)."""
        return (slot - self.config.gate_closure_s) * 1000

    def clearing_ms(self, slot: int) -> int:
        """When homes clear `slot` (Unix ms)."""
        return self.gate_ms(slot) + self.config.clearing_delay_s * 1000

    def slot_of(self, unix_s: float) -> int:
        """The start of the slot containing `unix_s`."""
        return int(unix_s // self.config.slot_s) * self.config.slot_s

    def open_slots(self) -> list[int]:
        """The slots whose gate is still open now, within the horizon."""
        now_s = self.now_ms() / 1000
        first = self.slot_of(now_s + self.config.gate_closure_s) + self.config.slot_s
        return [first + k * self.config.slot_s for k in range(self.config.horizon_slots)]

    # -- peers --------------------------------------------------------------------------------

    def add_peer(self, home_id: str, public_key: str) -> None:
        """Trust a peer's public key (base64)."""
        if home_id != self.home_id:
            self.verifier.add_peer(home_id, public_key)

    def remove_peer(self, home_id: str) -> None:
        """Forget a peer; its orders no longer count."""
        if home_id == self.home_id:
            return
        self.verifier.remove_peer(home_id)
        self._last_seen.pop(home_id, None)

    def alive(self, home_id: str, at_ms: int) -> bool:
        """Whether `home_id` sent anything within `dropout_s` before `at_ms`."""
        if home_id == self.home_id:
            return True
        seen = self._last_seen.get(home_id)
        return seen is not None and seen >= at_ms - self.config.dropout_s * 1000

    # -- outgoing -----------------------------------------------------------------------------

    def _message(self, kind: Any, payload: Mapping[str, Any], slot: int | None = None) -> Envelope:
        return make_message(
            self.keypair,
            kind,
            self.config.community,
            self.home_id,
            self.now_ms(),
            payload=payload,
            slot=slot,
        )

    def place_orders(self, drafts: Iterable[OrderDraft]) -> list[Envelope]:
        """Sign this home's orders (slots whose gate is closed are skipped) and keep them."""
        out: list[Envelope] = []
        now = self.now_ms()
        for d in drafts:
            if d.slot % self.config.slot_s or now >= self.gate_ms(d.slot):
                self.counters["own_late"] += 1
                continue
            payload = {"side": d.side, "energy_wh": d.energy_wh, "price": d.price}
            env = self._message("order", payload, d.slot)
            self._store_order(env)
            out.append(env)
        return out

    def withdraw(self, slot: int) -> Envelope | None:
        """Withdraw this home's order for `slot` (a 0 Wh order), while the gate is open."""
        order = self._orders.get(slot, {}).get(self.home_id)
        if order is None:
            return None
        drafts = [OrderDraft(slot, order.side, 0, order.price)]
        sent = self.place_orders(drafts)
        return sent[0] if sent else None

    def heartbeat(self) -> Envelope:
        """A signed heartbeat."""
        self._last_heartbeat_ms = self.now_ms()
        return self._message("heartbeat", {})

    def report_delivery(self, slot: int, export_kwh: float, import_kwh: float) -> Envelope:
        """Record this home's measured export and import in `slot` and sign them for peers."""
        export_wh, import_wh = kwh_to_wh(max(0.0, export_kwh)), kwh_to_wh(max(0.0, import_kwh))
        self.ledger.record_delivery(Delivery(self.home_id, slot, export_wh, import_wh))
        return self._message("delivery", {"export_wh": export_wh, "import_wh": import_wh}, slot)

    def tick(self) -> list[Envelope]:
        """Do what is due now: a heartbeat, and clearing of every slot past its clearing time.

        Returns the envelopes to publish (heartbeat, results).
        """
        now = self.now_ms()
        out: list[Envelope] = []
        last = self._last_heartbeat_ms
        if last is None or now - last >= self.config.heartbeat_s * 1000:
            out.append(self.heartbeat())
        for slot in sorted(self._orders):
            if slot not in self._results and now >= self.clearing_ms(slot):
                out.append(self._result_message(self.clear_slot(slot)))
        return out

    # -- incoming -----------------------------------------------------------------------------

    def receive(self, data: bytes | str) -> Envelope | None:
        """Handle one incoming message; the verified envelope, or None when it was rejected
        (counted in `verifier.counters`), ignored or this home's own message."""
        try:
            env = self.verifier.verify(data, self.now_ms())
        except MessageRejectedError:
            return None
        if env.sender == self.home_id:
            self.counters["own"] += 1
            return None
        self._last_seen[env.sender] = max(self._last_seen.get(env.sender, 0), env.timestamp_ms)
        if env.type == "order":
            self._receive_order(env)
        elif env.type == "result":
            self._receive_result(env)
        elif env.type == "delivery" and env.slot is not None:
            self.ledger.record_delivery(
                Delivery(env.sender, env.slot, env.payload["export_wh"], env.payload["import_wh"])
            )
        return env

    def _receive_order(self, env: Envelope) -> None:
        slot = env.slot
        assert slot is not None  # decode guarantees it
        now = self.now_ms()
        if slot % self.config.slot_s or slot * 1000 > now + self._horizon_ms():
            self.counters["order_out_of_range"] += 1
            return
        if env.timestamp_ms >= self.gate_ms(slot) or slot in self._results:
            self.counters["late_order"] += 1
            self._event("late_order", slot, env.sender, "order after gate closure")
            return
        self._store_order(env)

    def _horizon_ms(self) -> int:
        return (self.config.horizon_slots + 1) * self.config.slot_s * 1000

    def _store_order(self, env: Envelope) -> None:
        assert env.slot is not None
        order = Order(
            side=env.payload["side"],
            energy_wh=env.payload["energy_wh"],
            price=env.payload["price"],
            home_id=env.sender,
            slot=env.slot,
            nonce=env.nonce,
            timestamp_ms=env.timestamp_ms,
        )
        book = self._orders.setdefault(env.slot, {})
        old = book.get(env.sender)
        if old is None or (order.timestamp_ms, order.nonce) > (old.timestamp_ms, old.nonce):
            book[env.sender] = order

    def _receive_result(self, env: Envelope) -> None:
        assert env.slot is not None
        self._peer_digests.setdefault(env.slot, {})[env.sender] = env.payload["digest"]
        self._compare(env.slot)

    # -- clearing -----------------------------------------------------------------------------

    def set_grid_prices(self, slot: int, retail: float, feed_in: float) -> None:
        """The community's reference grid prices for `slot` (currency/kWh): SDR and MMR need
        them to clear, and settlement prices deviations at them."""
        retail_m, feed_in_m = price_to_micro(retail), price_to_micro(feed_in)
        self._grid_prices[slot] = (retail_m, feed_in_m)
        self.ledger.set_grid_prices(slot, retail_m, feed_in_m)

    def orders(self, slot: int) -> list[Order]:
        """The live orders held for `slot` (latest per home, withdrawals excluded)."""
        return [o for o in self._orders.get(slot, {}).values() if o.energy_wh > 0]

    def clear_slot(self, slot: int) -> ClearingResult:
        """Clear `slot` now (normally `tick` does this at the clearing time) and record trades.

        Orders of peers that are not alive at the gate are annulled first.
        """
        if slot in self._results:
            return self._results[slot]
        gate = self.gate_ms(slot)
        live: list[Order] = []
        for order in self.orders(slot):
            if self.alive(order.home_id, gate):
                live.append(order)
            else:
                self.counters["annulled"] += 1
                self._event("annulled", slot, order.home_id, f"{order.energy_wh} Wh {order.side}")
        retail, feed_in = self._grid_prices.get(slot, (None, None))
        if self.config.mechanism != "auction" and (retail is None or feed_in is None):
            # cannot price the slot: nothing trades, and the digest says so
            self.counters["missing_grid_prices"] += 1
            ids = tuple(sorted((o.home_id, o.nonce) for o in live))
            result = ClearingResult(slot, self.config.mechanism, None, (), {}, ids)
        else:
            result = clear(slot, live, self.config.mechanism, retail, feed_in)
        self._results[slot] = result
        self.ledger.add_trades(result.trades)
        self.counters["cleared"] += 1
        self._compare(slot)
        return result

    def _result_message(self, result: ClearingResult) -> Envelope:
        payload = {
            "mechanism": result.mechanism,
            "digest": result.digest,
            "trades": len(result.trades),
            "volume_wh": result.volume_wh,
            "price": result.price,
        }
        return self._message("result", payload, result.slot)

    def result_message(self, slot: int) -> Envelope:
        """The signed result of an already cleared slot (to publish it again)."""
        return self._result_message(self._results[slot])

    def _compare(self, slot: int) -> None:
        own = self._results.get(slot)
        if own is None:
            return
        digest = own.digest
        for peer, theirs in sorted(self._peer_digests.get(slot, {}).items()):
            if theirs != digest and (slot, peer) not in self._reported:
                self._reported.add((slot, peer))
                self.counters["mismatch"] += 1
                self._event("mismatch", slot, peer, f"{theirs[:12]} != {digest[:12]}")

    def _event(self, kind: EventKind, slot: int, home_id: str, detail: str) -> None:
        self._events.append(MarketEvent(kind, slot, home_id, detail))

    # -- results for the agent ----------------------------------------------------------------

    def result(self, slot: int) -> ClearingResult | None:
        """This home's clearing result for `slot`, if cleared."""
        return self._results.get(slot)

    def peer_digests(self, slot: int) -> dict[str, str]:
        """The digests peers published for `slot`."""
        return dict(self._peer_digests.get(slot, {}))

    def pop_events(self) -> list[MarketEvent]:
        """Events since the last call (mismatches, annulments, late orders)."""
        events, self._events = self._events, []
        return events

    def positions(self) -> dict[int, Position]:
        """This home's cleared trades per slot, for the planner."""
        trades = [t for r in self._results.values() for t in r.trades]
        return positions_of(trades, self.home_id)

    def settle(self, slot: int) -> dict[str, Settlement]:
        """Settlement of `slot` for every trading home (see ledger)."""
        return self.ledger.settle(slot)

    def prune(self, before_slot: int) -> None:
        """Forget orders, results and ledger entries of slots before `before_slot`."""
        for table in (self._orders, self._results, self._peer_digests, self._grid_prices):
            for slot in [s for s in table if s < before_slot]:
                del table[slot]
        self._reported = {r for r in self._reported if r[0] >= before_slot}
        self.ledger.prune(before_slot)

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state for diagnostics (no keys)."""
        return {
            "home_id": self.home_id,
            "public_key": self.keypair.public_key,
            "peers": sorted(p for p in self.verifier.peers if p != self.home_id),
            "messages": dict(self.verifier.counters),
            "session": dict(self.counters),
            "open_order_slots": sorted(s for s in self._orders if s not in self._results),
            "cleared_slots": sorted(self._results),
            "last_seen_ms": dict(self._last_seen),
        }
