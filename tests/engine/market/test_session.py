"""MarketSession: homes clear identical results, dropouts, mismatches, plan <-> orders."""

from __future__ import annotations

import math

import pytest

from custom_components.energy_collective.engine.market import (
    Envelope,
    Keypair,
    MarketConfig,
    MarketSession,
    OrderDraft,
    orders_from_plan,
)

SLOT_S = 900
T0 = 1_767_225_600.0  # a slot boundary
HOMES = ("anna", "ben", "cara")


class Clock:
    """A clock the test moves."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Bus:
    """Delivers every published envelope to every session (like an MQTT topic)."""

    def __init__(self, sessions: dict[str, MarketSession]) -> None:
        self.sessions = sessions
        self.log: list[bytes] = []

    def publish(self, envelopes: list[Envelope], exclude: tuple[str, ...] = ()) -> None:
        for env in envelopes:
            data = env.encode()
            self.log.append(data)
            for name, session in self.sessions.items():
                if name not in exclude:
                    session.receive(data)


def _community(mechanism: str = "auction") -> tuple[dict[str, MarketSession], Clock, Bus]:
    clock = Clock(T0)
    keys = {h: Keypair.generate() for h in HOMES}
    peers = {h: k.public_key for h, k in keys.items()}
    config = MarketConfig("lane", mechanism=mechanism, slot_s=SLOT_S)  # type: ignore[arg-type]
    sessions = {h: MarketSession(config, h, keys[h], peers, clock=clock) for h in HOMES}
    bus = Bus(sessions)
    for s in sessions.values():
        bus.publish(s.tick())  # first heartbeats
    return sessions, clock, bus


def _run_to_clearing(sessions: dict[str, MarketSession], clock: Clock, bus: Bus, slot: int) -> None:
    """Move time in heartbeat steps until every home has cleared `slot`."""
    while clock.t * 1000 < sessions["anna"].clearing_ms(slot):
        clock.t = min(clock.t + 30, sessions["anna"].clearing_ms(slot) / 1000)
        for s in sessions.values():
            bus.publish(s.tick())
    for name, s in sessions.items():
        assert s.result(slot) is not None, name


def test_three_homes_clear_identical_results() -> None:
    sessions, clock, bus = _community()
    slot = int(T0) + 2 * SLOT_S
    bus.publish(sessions["anna"].place_orders([OrderDraft(slot, "sell", 3000, 80_000)]))
    bus.publish(sessions["ben"].place_orders([OrderDraft(slot, "buy", 2000, 250_000)]))
    bus.publish(sessions["cara"].place_orders([OrderDraft(slot, "buy", 2000, 200_000)]))
    _run_to_clearing(sessions, clock, bus, slot)
    digests = {s.result(slot).digest for s in sessions.values()}  # type: ignore[union-attr]
    assert len(digests) == 1
    result = sessions["anna"].result(slot)
    assert result is not None
    assert result.volume_wh == 3000
    assert result.price == 200_000  # cara's bid is partially filled: it pins the price
    assert [(t.seller, t.buyer, t.energy_wh) for t in result.trades] == [
        ("anna", "ben", 2000),
        ("anna", "cara", 1000),
    ]
    for s in sessions.values():
        assert s.pop_events() == []
        assert s.peer_digests(slot).keys() == set(HOMES) - {s.home_id}
    pos = sessions["cara"].positions()[slot]
    assert (pos.import_kwh, pos.export_kwh, pos.import_price, pos.export_price) == (
        1.0,
        0.0,
        0.2,
        None,
    )
    assert sessions["anna"].positions()[slot].export_kwh == 3.0

    # delivery and settlement: anna delivers 2.5 of 3 kWh
    clock.t = slot + SLOT_S + 5
    for s in sessions.values():
        s.set_grid_prices(slot, retail=0.30, feed_in=0.07)
    bus.publish([sessions["anna"].report_delivery(slot, 2.5, 0.0)])
    bus.publish([sessions["ben"].report_delivery(slot, 0.0, 2.0)])
    bus.publish([sessions["cara"].report_delivery(slot, 0.0, 1.0)])
    for s in sessions.values():
        assert s.settle(slot)["anna"].shortfall_wh == 500
        assert s.ledger.balance(slot).residual == 0
    assert sessions["ben"].settle(slot) == sessions["cara"].settle(slot)


def test_a_newer_order_replaces_and_a_zero_order_withdraws() -> None:
    sessions, clock, bus = _community()
    slot = int(T0) + 2 * SLOT_S
    bus.publish(sessions["anna"].place_orders([OrderDraft(slot, "sell", 3000, 80_000)]))
    clock.t += 1
    bus.publish(sessions["anna"].place_orders([OrderDraft(slot, "sell", 1000, 90_000)]))
    bus.publish(sessions["ben"].place_orders([OrderDraft(slot, "buy", 2000, 250_000)]))
    for s in sessions.values():
        assert [o.energy_wh for o in s.orders(slot) if o.home_id == "anna"] == [1000]
    clock.t += 1
    withdrawal = sessions["ben"].withdraw(slot)
    assert withdrawal is not None
    bus.publish([withdrawal])
    assert sessions["ben"].withdraw(slot + SLOT_S) is None
    _run_to_clearing(sessions, clock, bus, slot)
    assert all(s.result(slot).trades == () for s in sessions.values())  # type: ignore[union-attr]


def test_dropout_annuls_the_unmatched_orders() -> None:
    sessions, clock, bus = _community()
    first = int(T0) + 2 * SLOT_S
    second = first + SLOT_S
    # cara offers for two slots, then drops out after the first has cleared
    bus.publish(
        sessions["cara"].place_orders(
            [OrderDraft(first, "sell", 1000, 50_000), OrderDraft(second, "sell", 1000, 50_000)]
        )
    )
    bus.publish(sessions["ben"].place_orders([OrderDraft(first, "buy", 500, 300_000)]))
    bus.publish(sessions["ben"].place_orders([OrderDraft(second, "buy", 500, 300_000)]))
    alive = {h: s for h, s in sessions.items() if h != "cara"}
    # heartbeats keep everyone alive until the first clearing
    while clock.t * 1000 < sessions["anna"].clearing_ms(first):
        clock.t += 30
        for s in sessions.values():
            bus.publish(s.tick())
    assert all(s.result(first).volume_wh == 500 for s in sessions.values())  # type: ignore[union-attr]
    # cara is gone: no more heartbeats from her
    bus.sessions = alive
    while clock.t * 1000 < sessions["anna"].clearing_ms(second):
        clock.t += 30
        for s in alive.values():
            bus.publish(s.tick())
    for s in alive.values():
        result = s.result(second)
        assert result is not None
        assert result.trades == ()
        events = s.pop_events()
        assert [(e.kind, e.slot, e.home_id) for e in events] == [("annulled", second, "cara")]
    assert alive["anna"].result(second).digest == alive["ben"].result(second).digest  # type: ignore[union-attr]
    assert not alive["anna"].alive("cara", int(clock.t * 1000))


def test_a_differing_result_raises_a_mismatch() -> None:
    sessions, clock, bus = _community()
    slot = int(T0) + 2 * SLOT_S
    bus.publish(sessions["anna"].place_orders([OrderDraft(slot, "sell", 3000, 80_000)]))
    # ben's buy order reaches anna and cara but not ben's view of ... cara misses it
    env = sessions["ben"].place_orders([OrderDraft(slot, "buy", 2000, 250_000)])
    bus.publish(env, exclude=("cara",))
    _run_to_clearing(sessions, clock, bus, slot)
    anna_events = sessions["anna"].pop_events()
    cara_events = sessions["cara"].pop_events()
    assert [(e.kind, e.home_id) for e in anna_events] == [("mismatch", "cara")]
    assert sorted((e.kind, e.home_id) for e in cara_events) == [
        ("mismatch", "anna"),
        ("mismatch", "ben"),
    ]
    assert sessions["cara"].counters["mismatch"] == 2
    # a repeated result does not report twice
    bus.publish([sessions["cara"].result_message(slot)])
    assert sessions["anna"].pop_events() == []


def test_late_orders_and_out_of_range_are_refused() -> None:
    sessions, clock, bus = _community()
    slot = int(T0) + 2 * SLOT_S
    clock.t = sessions["anna"].gate_ms(slot) / 1000
    assert sessions["anna"].place_orders([OrderDraft(slot, "sell", 1, 1)]) == []
    assert sessions["anna"].counters["own_late"] == 1
    # a peer's order signed after the gate
    late = sessions["ben"]._message("order", {"side": "buy", "energy_wh": 1, "price": 1}, slot)
    bus.publish([late])
    assert sessions["anna"].counters["late_order"] == 1
    assert [e.kind for e in sessions["anna"].pop_events()] == ["late_order"]
    far = sessions["ben"]._message(
        "order", {"side": "buy", "energy_wh": 1, "price": 1}, slot + 10**7
    )
    crooked = sessions["ben"]._message(
        "order", {"side": "buy", "energy_wh": 1, "price": 1}, slot + 1
    )
    bus.publish([far, crooked])
    assert sessions["anna"].counters["order_out_of_range"] == 2
    # own messages echoed back by the broker are ignored
    own = sessions["anna"].heartbeat()
    before = sessions["anna"].counters["own"]
    assert sessions["anna"].receive(own.encode()) is None
    assert sessions["anna"].counters["own"] == before + 1


def test_sdr_community_needs_grid_prices() -> None:
    sessions, clock, bus = _community("sdr")
    slot = int(T0) + 2 * SLOT_S
    bus.publish(sessions["anna"].place_orders([OrderDraft(slot, "sell", 1000, 50_000)]))
    bus.publish(sessions["ben"].place_orders([OrderDraft(slot, "buy", 2000, 300_000)]))
    sessions["anna"].set_grid_prices(slot, 0.20, 0.05)
    sessions["ben"].set_grid_prices(slot, 0.20, 0.05)
    _run_to_clearing(sessions, clock, bus, slot)
    assert sessions["anna"].result(slot).price == 80_000  # type: ignore[union-attr]
    assert sessions["cara"].result(slot).trades == ()  # type: ignore[union-attr]
    assert sessions["cara"].counters["missing_grid_prices"] == 1
    assert [e.kind for e in sessions["anna"].pop_events()] == ["mismatch"]


def test_orders_from_plan() -> None:
    slots = [0, 900, 1800, 2700, 3600]
    drafts = orders_from_plan(
        slots,
        surplus_kwh=[2.0, 0.0, 1.0, 0.005, 1.0],
        deficit_kwh=[0.5, 1.5, 1.0, 0.0, 0.0],
        marginal_prices=[0.02, 0.50, 0.1, 0.1, math.nan],
        retail=[0.30, 0.30, 0.30, 0.30, 0.30],
        feed_in=[0.06, 0.06, 0.06, 0.06, 0.06],
    )
    assert drafts == [
        OrderDraft(0, "sell", 1500, 60_000),  # marginal below feed-in -> feed-in
        OrderDraft(900, "buy", 1500, 300_000),  # marginal above retail -> retail
        OrderDraft(3600, "sell", 1000, 60_000),  # no marginal value -> feed-in
    ]
    assert orders_from_plan([0], [0.0], [1.0], None, [0.3], [0.1]) == [
        OrderDraft(0, "buy", 1000, 300_000)
    ]
    assert orders_from_plan([0], [0.0], [1.0], [0.2], [0.1], [0.3]) == []  # retail < feed-in
    with pytest.raises(ValueError, match="one value per slot"):
        orders_from_plan([0, 1], [0.0], [1.0], None, [0.3], [0.1])


def test_config_validation_and_diagnostics() -> None:
    with pytest.raises(ValueError, match="community"):
        MarketConfig("bad/id")
    with pytest.raises(ValueError, match="mechanism"):
        MarketConfig("c", mechanism="barter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="> 0"):
        MarketConfig("c", slot_s=0)
    with pytest.raises(ValueError, match="gate"):
        MarketConfig("c", gate_closure_s=10)
    with pytest.raises(ValueError, match="window_s"):
        MarketConfig("c", window_s=60)
    with pytest.raises(ValueError, match="heartbeats"):
        MarketConfig("c", dropout_s=30)
    with pytest.raises(ValueError, match="home id"):
        MarketSession(MarketConfig("c"), "a b", Keypair.generate(), {}, clock=lambda: 0.0)
    sessions, _clock, bus = _community()
    anna = sessions["anna"]
    assert anna.open_slots()[0] == int(T0) + SLOT_S
    assert anna.slot_of(T0 + 899) == int(T0)
    slot = int(T0) + 2 * SLOT_S
    bus.publish(anna.place_orders([OrderDraft(slot, "sell", 1000, 50_000)]))
    diag = anna.diagnostics()
    assert diag["peers"] == ["ben", "cara"]
    assert diag["open_order_slots"] == [slot]
    assert "private_key" not in str(diag)
    anna.add_peer("dora", Keypair.generate().public_key)
    anna.add_peer("anna", Keypair.generate().public_key)  # itself: ignored
    anna.remove_peer("dora")
    assert anna.diagnostics()["peers"] == ["ben", "cara"]
    assert anna.clear_slot(slot) is anna.clear_slot(slot)
    anna.prune(slot + 1)
    assert anna.result(slot) is None
    assert anna.diagnostics()["cleared_slots"] == []
