"""Bill-sharing price rules for the community, and the dispatcher over all mechanisms.

Both rules set one internal price from the community's total supply and demand in a slot and
the grid's prices: `retail` (what a home pays to import, called lambda_buy below) and `feed_in`
(what it gets for export, lambda_sell). Both prices stay within [feed_in, retail], so nobody
does worse than trading with the grid alone. All prices are integers in micro-currency/kWh and
energies integers in Wh; the formulas are evaluated with exact fractions and rounded half to
even, so every home gets the same number.

Supply-demand ratio (SDR), Liu et al. 2017
    N. Liu, X. Yu, C. Wang, C. Li, L. Ma, J. Lei, "Energy-sharing model with price-based demand
    response for microgrids of peer-to-peer prosumers", IEEE Trans. Power Systems 32(5), 2017.
    With TSP the total sell power and TBP the total buy power, SDR = TSP / TBP and

        P_sell = (lambda_buy * lambda_sell) / ((lambda_buy - lambda_sell) * SDR + lambda_sell)
                                                          for 0 <= SDR <= 1, else lambda_sell
        P_buy  = P_sell * SDR + lambda_buy * (1 - SDR)    for 0 <= SDR <= 1, else lambda_sell

    P_sell is the internal price: sellers are paid it for all they offer while SDR <= 1; P_buy
    is what a buyer pays on average when a fraction SDR of its demand comes from the community
    at P_sell and the rest from the grid at retail. P_sell falls from retail (SDR = 0) to
    feed-in (SDR = 1). With a negative feed-in the denominator can reach zero; the price is
    then feed-in (the formula's limit) and any result is clamped to [feed_in, retail].

Mid-market rate (MMR), Long et al. 2017
    C. Long, J. Wu, C. Zhang, L. Thomas, M. Cheng, N. Jenkins, "Peer-to-peer energy trading in
    a community microgrid", IEEE PES General Meeting 2017. The internal price is

        P_mm = (lambda_buy + lambda_sell) / 2

    When supply equals demand everyone trades at P_mm. With more supply than demand, buyers pay
    P_mm and sellers get P_mm for the share the community takes and feed-in for the rest:
    P_sell = (P_mm * TBP + lambda_sell * (TSP - TBP)) / TSP. With more demand than supply,
    sellers get P_mm and buyers pay P_buy = (P_mm * TSP + lambda_buy * (TBP - TSP)) / TBP.

Trades
    Under both rules the community trades Q = min(TSP, TBP) at the internal price; the short
    side is filled completely and the long side pro rata to its orders' energies (integer Wh by
    largest remainder; ties by the auction's priority). Sellers and buyers are then paired by
    walking both lists in priority order, which gives at most (sellers + buyers - 1) trades.
    What is left over goes to the grid at grid prices and is not part of the market.

Limit prices
    The papers have no limit prices. Here an order whose limit the internal price violates (a
    bid below it, an ask above it) is dropped and the price recomputed, until no order is
    dropped; orders are never re-admitted, so this ends after at most one round per order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .auction import check_unique, clear_auction, order_ids, rank
from .orders import ClearingResult, Order, make_trades

Mechanism = Literal["auction", "sdr", "mmr"]
MECHANISMS: tuple[Mechanism, ...] = ("auction", "sdr", "mmr")


@dataclass(frozen=True, slots=True)
class SharedPrices:
    """Internal prices of a bill-sharing rule (micro-currency/kWh).

    `p2p`: the price of community trades. `sell`/`buy`: what a seller gets and a buyer pays on
    average for all its energy, the community share at `p2p` and the rest with the grid.
    `ratio`: supply / demand (None when there is no demand).
    """

    p2p: int
    sell: int
    buy: int
    ratio: Fraction | None


def _clamp(value: Fraction | int, low: int, high: int) -> int:
    return max(low, min(high, round(Fraction(value))))


def sdr_prices(supply_wh: int, demand_wh: int, retail: int, feed_in: int) -> SharedPrices:
    """Liu et al. (2017): the SDR prices for total supply and demand (see module docstring)."""
    if demand_wh <= 0:
        return SharedPrices(feed_in, feed_in, feed_in, None)
    sdr = Fraction(supply_wh, demand_wh)
    if sdr > 1:
        return SharedPrices(feed_in, feed_in, feed_in, sdr)
    denominator = (retail - feed_in) * sdr + feed_in
    if denominator <= 0:
        p_sell: Fraction | int = feed_in
    else:
        p_sell = Fraction(retail * feed_in) / denominator
    p_buy = Fraction(p_sell) * sdr + retail * (1 - sdr)
    sell = _clamp(p_sell, feed_in, retail)
    return SharedPrices(sell, sell, _clamp(p_buy, feed_in, retail), sdr)


def mmr_prices(supply_wh: int, demand_wh: int, retail: int, feed_in: int) -> SharedPrices:
    """Long et al. (2017): the mid-market rate and the effective seller and buyer prices."""
    mid = Fraction(retail + feed_in, 2)
    ratio = Fraction(supply_wh, demand_wh) if demand_wh > 0 else None
    sell = buy = mid
    if supply_wh > demand_wh:
        sell = (mid * demand_wh + feed_in * (supply_wh - demand_wh)) / supply_wh
    elif demand_wh > supply_wh:
        buy = (mid * supply_wh + retail * (demand_wh - supply_wh)) / demand_wh
    return SharedPrices(
        _clamp(mid, feed_in, retail),
        _clamp(sell, feed_in, retail),
        _clamp(buy, feed_in, retail),
        ratio,
    )


def pro_rata(orders: list[Order], total_wh: int) -> list[int]:
    """Split `total_wh` over `orders` in proportion to their energy, in whole Wh.

    Largest remainder; equal remainders go to the order earlier in the list. Nobody gets more
    than its energy. `total_wh` must not exceed the orders' sum.
    """
    energy = sum(o.energy_wh for o in orders)
    if energy == 0 or total_wh <= 0:
        return [0] * len(orders)
    if total_wh >= energy:
        return [o.energy_wh for o in orders]
    shares = [total_wh * o.energy_wh // energy for o in orders]
    remainders = [total_wh * o.energy_wh % energy for o in orders]
    left = total_wh - sum(shares)
    by_remainder = sorted(range(len(orders)), key=lambda k: (-remainders[k], k))
    for k in by_remainder[:left]:
        shares[k] += 1
    return shares


def _pair(
    sellers: list[Order], sold: list[int], buyers: list[Order], bought: list[int]
) -> list[tuple[str, str, int]]:
    fills: list[tuple[str, str, int]] = []
    i = j = 0
    s_left = sold[0] if sold else 0
    b_left = bought[0] if bought else 0
    while i < len(sellers) and j < len(buyers):
        if s_left == 0:
            i += 1
            s_left = sold[i] if i < len(sellers) else 0
            continue
        if b_left == 0:
            j += 1
            b_left = bought[j] if j < len(buyers) else 0
            continue
        q = min(s_left, b_left)
        fills.append((sellers[i].home_id, buyers[j].home_id, q))
        s_left -= q
        b_left -= q
    return fills


def clear_shared(
    slot: int, orders: Iterable[Order], mechanism: Literal["sdr", "mmr"], retail: int, feed_in: int
) -> ClearingResult:
    """Clear one slot by the SDR or the mid-market rule (see module docstring)."""
    all_orders = check_unique(orders, slot)
    ids = order_ids(all_orders)
    empty = ClearingResult(slot, mechanism, None, (), {}, ids)
    if retail < feed_in:
        return empty
    rule = sdr_prices if mechanism == "sdr" else mmr_prices
    bids, asks = rank(all_orders)
    while True:
        supply = sum(o.energy_wh for o in asks)
        demand = sum(o.energy_wh for o in bids)
        if supply == 0 or demand == 0:
            return empty
        price = rule(supply, demand, retail, feed_in).p2p
        kept_bids = [o for o in bids if o.price >= price]
        kept_asks = [o for o in asks if o.price <= price]
        if len(kept_bids) == len(bids) and len(kept_asks) == len(asks):
            break
        bids, asks = kept_bids, kept_asks
    quantity = min(supply, demand)
    sold = pro_rata(asks, quantity)
    bought = pro_rata(bids, quantity)
    filled = {(o.home_id, o.nonce): q for o, q in zip(asks, sold, strict=True) if q > 0}
    filled.update({(o.home_id, o.nonce): q for o, q in zip(bids, bought, strict=True) if q > 0})
    trades = make_trades(slot, _pair(asks, sold, bids, bought), price)
    return ClearingResult(slot, mechanism, price, trades, filled, ids)


def clear(
    slot: int,
    orders: Iterable[Order],
    mechanism: Mechanism = "auction",
    retail: int | None = None,
    feed_in: int | None = None,
) -> ClearingResult:
    """Clear one slot's orders by `mechanism`; SDR and MMR need the grid prices (micro/kWh)."""
    if mechanism == "auction":
        return clear_auction(slot, orders)
    if mechanism not in ("sdr", "mmr"):
        raise ValueError(f"unknown mechanism {mechanism!r}")
    if retail is None or feed_in is None:
        raise ValueError(f"{mechanism} needs the retail and feed-in prices")
    return clear_shared(slot, orders, mechanism, retail, feed_in)
