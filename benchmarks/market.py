"""Market speed and message volume.

    python benchmarks/market.py [--homes 1000] [--slots 96] [--repeats 5] [--volume-homes 100]
                                [--json]

Clearing: `--homes` homes each place one random order (seeded: buy or sell, 0.1-5 kWh, limit
between feed-in and retail) in each of `--slots` slots; the line reports the median over
`--repeats` runs of clearing all slots with the uniform-price double auction (target < 1 s),
and the same for SDR and MMR.

Message volume: `--volume-homes` homes each send, per 15-minute slot, one order, one result,
one delivery report and a heartbeat every 30 s, all signed; the line reports how many messages
and bytes they publish per slot and how many the broker delivers (every home subscribes to the
community's topics, so each message reaches every home). Prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from custom_components.energy_collective.engine.market import (  # noqa: E402
    Keypair,
    MarketConfig,
    MarketSession,
    OrderDraft,
    clear,
)
from custom_components.energy_collective.engine.market.orders import Order  # noqa: E402

T0 = 1_767_225_600
SLOT_S = 900
RETAIL, FEED_IN = 300_000, 60_000
TARGET_S = 1.0


def random_book(homes: int, slots: int, seed: int) -> dict[int, list[Order]]:
    """One random order per home and slot."""
    rnd = random.Random(seed)
    book: dict[int, list[Order]] = {}
    for k in range(slots):
        slot = T0 + SLOT_S * k
        book[slot] = [
            Order(
                side=rnd.choice(("buy", "sell")),
                energy_wh=rnd.randint(100, 5000),
                price=rnd.randint(FEED_IN, RETAIL),
                home_id=f"home-{h:04d}",
                slot=slot,
                nonce=f"{rnd.getrandbits(128):032x}",
                timestamp_ms=(slot - 600) * 1000 + rnd.randint(0, 60_000),
            )
            for h in range(homes)
        ]
    return book


def time_clearing(book: dict[int, list[Order]], mechanism: str, repeats: int) -> tuple[float, int]:
    runs: list[float] = []
    trades = 0
    for _ in range(repeats):
        start = time.perf_counter()
        results = [clear(s, o, mechanism, RETAIL, FEED_IN) for s, o in book.items()]  # type: ignore[arg-type]
        runs.append(time.perf_counter() - start)
        trades = sum(len(r.trades) for r in results)
    return statistics.median(runs), trades


def message_volume(homes: int) -> dict[str, float]:
    """Messages and bytes one slot of a community of `homes` publishes and the broker delivers."""
    clock_t = [float(T0)]
    config = MarketConfig("bench", slot_s=SLOT_S)
    keys = {f"home-{h:04d}": Keypair.generate() for h in range(homes)}
    peers = {n: k.public_key for n, k in keys.items()}
    sessions = [
        MarketSession(config, n, k, peers, clock=lambda: clock_t[0]) for n, k in keys.items()
    ]
    rnd = random.Random(7)
    slot = T0 + 2 * SLOT_S
    sent: list[bytes] = []
    for s in sessions:
        side = rnd.choice(("buy", "sell"))
        drafts = [OrderDraft(slot, side, rnd.randint(100, 5000), rnd.randint(FEED_IN, RETAIL))]  # type: ignore[arg-type]
        sent += [e.encode() for e in s.place_orders(drafts)]
    for data in sent:  # every home verifies every order
        for s in sessions:
            s.receive(data)
    # one round of heartbeats just before clearing keeps every peer alive; a slot holds
    # slot_s / heartbeat_s such rounds
    clock_t[0] = sessions[0].clearing_ms(slot) / 1000 - 5
    beat = [s.heartbeat().encode() for s in sessions]
    for data in beat:
        for s in sessions:
            s.receive(data)
    heartbeats = beat * (SLOT_S // config.heartbeat_s)
    clock_t[0] += 5
    results = [s.result_message(slot).encode() for s in sessions if s.clear_slot(slot)]
    deliveries = [s.report_delivery(slot, 1.0, 0.0).encode() for s in sessions]
    messages = sent + results + deliveries + heartbeats
    digests = {s.result(slot).digest for s in sessions}  # type: ignore[union-attr]
    published = len(messages)
    published_bytes = sum(len(m) for m in messages)
    return {
        "homes": homes,
        "published": published,
        "published_kb": published_bytes / 1024,
        "delivered": published * homes,
        "delivered_mb": published_bytes * homes / 1024**2,
        "max_message_bytes": max(len(m) for m in messages),
        "agree": len(digests) == 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--volume-homes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    book = random_book(args.homes, args.slots, args.seed)
    timings = {m: time_clearing(book, m, args.repeats) for m in ("auction", "sdr", "mmr")}
    volume = message_volume(args.volume_homes)
    load = os.getloadavg()[0]
    auction_s, auction_trades = timings["auction"]
    ok = "OK" if auction_s < TARGET_S else "SLOW"
    print(
        f"market: clear {args.homes} homes x {args.slots} slots: auction {auction_s:.3f} s "
        f"({auction_trades} trades, target < {TARGET_S:.0f} s {ok}), "
        f"sdr {timings['sdr'][0]:.3f} s, mmr {timings['mmr'][0]:.3f} s (median of {args.repeats}); "
        f"{volume['homes']} homes per 15-min slot: {volume['published']} signed messages "
        f"published ({volume['published_kb']:.0f} KiB), {volume['delivered']} delivered "
        f"({volume['delivered_mb']:.1f} MiB), results agree: {volume['agree']}; load {load:.2f}"
    )
    if args.json:
        details = {"timings_s": {m: t for m, (t, _) in timings.items()}, "volume": volume}
        print(json.dumps(details, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
