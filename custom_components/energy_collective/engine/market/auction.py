"""Periodic uniform-price double auction (the default mechanism).

All orders of one delivery slot are cleared at once, at one price.

Priority
    Bids (buy orders) are ranked by limit price from highest to lowest, asks (sell orders) from
    lowest to highest. Equal prices are ranked by the earlier signed timestamp, then by home id,
    then by nonce (plain string order). Nonces are unique per home, so the ranking is total and
    the same on every home.

Matching
    Walk down both ranked lists at once: while the current bid's limit is at least the current
    ask's limit, the pair trades the smaller of their remaining energies; the one that is used
    up is replaced by the next on its side. The walk ends when the lists cross or one runs out.
    Energy is in whole Wh, so at most one order per side ends partially filled (the marginal
    one). Each step of the walk is one trade (seller, buyer, Wh), in walk order.

Price
    With divisible orders the uniform prices that support the matched quantity form an interval
    [low, high]:

    - low  = max(limit of the last ask that trades, limit of the first bid left with energy),
    - high = min(limit of the last bid that trades, limit of the first ask left with energy).

    A partially filled order is both "the last that trades" and "the first left with energy",
    so it pins its side of the interval to its own limit: it is indifferent at that price.
    The clearing price is the midpoint of the interval, (low + high) // 2 in integer
    micro-currency/kWh (floor). When neither marginal order is partial and nothing else
    constrains, this is the midpoint of the marginal bid and ask. Every buyer pays at most its
    limit and every seller gets at least its limit (individual rationality).

Example (the bid set published with pymarket): bids 1@3, 2@4, 5@1 and asks 4@2, 1@1, 5@6 trade
3 units; the ask 4@2 is filled by 2 of 4 units, so low = high = 2 and the price is 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from .orders import ClearingResult, Order, make_trades

MECHANISM = "auction"


_TIE_KEY = attrgetter("timestamp_ms", "home_id", "nonce")
_PRICE = attrgetter("price")
_ID_KEY = attrgetter("home_id", "nonce")


def rank(orders: Iterable[Order]) -> tuple[list[Order], list[Order]]:
    """Bids best (highest) first and asks best (lowest) first, ties broken as documented."""
    # two stable sorts (C-level keys): ties first, then price; reverse=True keeps stability
    ordered = sorted((o for o in orders if o.energy_wh > 0), key=_TIE_KEY)
    bids = [o for o in ordered if o.side == "buy"]
    asks = [o for o in ordered if o.side == "sell"]
    bids.sort(key=_PRICE, reverse=True)
    asks.sort(key=_PRICE)
    return bids, asks


def check_unique(orders: Iterable[Order], slot: int) -> list[Order]:
    """The orders as a list; raises ValueError on a foreign slot or a repeated (home, nonce)."""
    out = list(orders)
    if {o.slot for o in out} - {slot}:
        bad = next(o for o in out if o.slot != slot)
        raise ValueError(f"order {bad.home_id}/{bad.nonce} is for slot {bad.slot}, not {slot}")
    if len(set(map(_ID_KEY, out))) != len(out):
        seen: set[tuple[str, str]] = set()
        for o in out:  # pragma: no branch - a repeat exists
            if (o.home_id, o.nonce) in seen:
                raise ValueError(f"order {o.home_id}/{o.nonce} appears twice")
            seen.add((o.home_id, o.nonce))
    return out


def order_ids(orders: list[Order]) -> tuple[tuple[str, str], ...]:
    """(home_id, nonce) of every order, sorted."""
    return tuple(sorted(map(_ID_KEY, orders)))


def clear_auction(slot: int, orders: Iterable[Order]) -> ClearingResult:
    """Clear one slot's orders by the uniform-price double auction described above."""
    all_orders = check_unique(orders, slot)
    bids, asks = rank(all_orders)
    ids = order_ids(all_orders)
    bid_price = [o.price for o in bids]
    ask_price = [o.price for o in asks]
    bid_left = [o.energy_wh for o in bids]
    ask_left = [o.energy_wh for o in asks]
    n_bids, n_asks = len(bids), len(asks)
    fills: list[tuple[str, str, int]] = []
    i = j = 0
    while i < n_bids and j < n_asks and bid_price[i] >= ask_price[j]:
        q = min(bid_left[i], ask_left[j])
        fills.append((asks[j].home_id, bids[i].home_id, q))
        bid_left[i] -= q
        ask_left[j] -= q
        if bid_left[i] == 0:
            i += 1
        if ask_left[j] == 0:
            j += 1
    if not fills:
        return ClearingResult(slot, MECHANISM, None, (), {}, ids)
    # the last orders that traded: the current ones if partially used, else the previous
    last_bid = i if i < n_bids and bid_left[i] < bids[i].energy_wh else i - 1
    last_ask = j if j < n_asks and ask_left[j] < asks[j].energy_wh else j - 1
    low = ask_price[last_ask]
    high = bid_price[last_bid]
    if i < n_bids:
        low = max(low, bid_price[i])
    if j < n_asks:
        high = min(high, ask_price[j])
    price = (low + high) // 2
    filled = {
        (o.home_id, o.nonce): o.energy_wh - left
        for side, lefts in ((bids[: i + 1], bid_left), (asks[: j + 1], ask_left))
        for o, left in zip(side, lefts, strict=False)
        if left < o.energy_wh
    }
    return ClearingResult(slot, MECHANISM, price, make_trades(slot, fills, price), filled, ids)
