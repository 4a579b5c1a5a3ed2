"""Three Home Assistant homes trade through Home Assistant's MQTT integration and a real broker.

One Home Assistant instance runs three Energy Collective homes (each with its own keys, grid
sensor and community peers) and the MQTT integration, configured against a Mosquitto broker on
loopback. A fourth community member, "dave", lives outside Home Assistant: a raw paho client
that holds dave's key. The clock is frozen and driven in 10 s ticks; between ticks the broker
is given the (real) time to deliver what was published.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_collective.agents.market import MarketAgent
from custom_components.energy_collective.const import (
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_GRID_POWER,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_ENABLED,
    CONF_MARKET_GATE_MINUTES,
    CONF_MARKET_HOME_ID,
    CONF_MARKET_MECHANISM,
    CONF_NAME,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    CONF_PV_POWER,
    DOMAIN,
    PRICE_MODE_SCHEDULE,
    SUBENTRY_PEER,
)
from custom_components.energy_collective.diagnostics import async_get_config_entry_diagnostics
from custom_components.energy_collective.engine.market import Keypair, make_message
from custom_components.energy_collective.engine.model import Problem
from tests.common import home_data, home_options, power_attrs

from .conftest import Broker, new_client, requires_mosquitto

pytestmark = [
    requires_mosquitto,
    pytest.mark.enable_socket,
    pytest.mark.usefixtures(
        "socket_enabled", "mock_hass_config", "entity_registry_enabled_by_default"
    ),
    pytest.mark.timeout(240),
]

COMMUNITY = "lane-7"
START = datetime(2026, 6, 17, 10, 0, 10, tzinfo=UTC)  # 10 s into a 5-minute slot
SLOT_S = 300
RETAIL, FEED_IN = 0.30, 0.06


@dataclass(frozen=True)
class Profile:
    """What a home's plan sees: its base load and its PV (W), and its measured grid power."""

    load_w: float
    pv_w: float

    @property
    def grid_w(self) -> float:
        """Import positive."""
        return self.load_w - self.pv_w


PROFILES = {
    "anna": Profile(load_w=500, pv_w=3000),  # 2.5 kW to spare
    "ben": Profile(load_w=2000, pv_w=0),  # needs 2 kW
    "cara": Profile(load_w=1500, pv_w=0),  # needs 1.5 kW
}
KEYS = {name: Keypair.generate() for name in (*PROFILES, "dave")}


def _real() -> float:
    """Real monotonic time (the frozen clock does not move while the broker works)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


async def _connected(hass: HomeAssistant) -> None:
    """Wait (in real time) until the MQTT integration's client is connected to the broker."""
    deadline = _real() + 10
    while not mqtt.is_connected(hass):
        assert _real() < deadline, "the MQTT client did not connect"
        await asyncio.sleep(0)
    await hass.async_block_till_done()


def _home_entry(hass: HomeAssistant, name: str, hass_storage: dict[str, Any]) -> MockConfigEntry:
    data = home_data(
        **{
            CONF_NAME: name.capitalize(),
            CONF_GRID_POWER: f"sensor.grid_{name}",
            CONF_IMPORT_PRICE_MODE: PRICE_MODE_SCHEDULE,
            CONF_IMPORT_PRICE_ENTITY: None,
            CONF_IMPORT_PRICE_SCHEDULE: str(RETAIL),
            CONF_EXPORT_PRICE_SCHEDULE: str(FEED_IN),
            CONF_PV_POWER: None,
        }
    )
    options = home_options(step_minutes=5, horizon_hours=1) | {
        CONF_MARKET_ENABLED: True,
        CONF_MARKET_COMMUNITY: COMMUNITY,
        CONF_MARKET_HOME_ID: name,
        CONF_MARKET_MECHANISM: "auction",
        CONF_MARKET_GATE_MINUTES: 1,
    }
    peers = [
        ConfigSubentryData(
            data={CONF_PEER_HOME_ID: peer, CONF_PEER_PUBLIC_KEY: key.public_key},
            subentry_type=SUBENTRY_PEER,
            title=peer.capitalize(),
            unique_id=None,
        )
        for peer, key in KEYS.items()
        if peer != name
    ]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=data[CONF_NAME],
        data=data,
        options=options,
        unique_id=data[CONF_GRID_POWER],
        entry_id=f"home_{name}",
        subentries_data=peers,
    )
    # the key pair this home made when trading was first enabled (its peers know the public key)
    key = f"{DOMAIN}.{entry.entry_id}.market"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {"keypair": KEYS[name].to_json()},
    }
    entry.add_to_hass(hass)
    return entry


def _profile_adjuster(profile: Profile) -> Any:
    def adjust(problem: Problem, now: datetime) -> Problem:
        n = problem.n_steps
        return replace(problem, base_load_w=(profile.load_w,) * n, pv_w=(profile.pv_w,) * n)

    return adjust


class Community:
    """The homes of the test, the MQTT entry and the raw client of dave."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        self.hass = hass
        self.freezer = freezer
        self.entries: dict[str, MockConfigEntry] = {}
        self.dave: Any = None
        self.dave_inbox: list[tuple[str, bytes]] = []

    def agent(self, name: str) -> MarketAgent:
        market = self.entries[name].runtime_data.market
        assert isinstance(market, MarketAgent)
        return market

    def online(self) -> list[str]:
        return [n for n, e in self.entries.items() if e.state is ConfigEntryState.LOADED]

    def _received(self) -> int:
        return sum(
            sum(self.agent(n).session.verifier.counters.values()) for n in self.online()
        ) + len(self.dave_inbox)

    def _sending(self) -> bool:
        return any(self.agent(n).sending for n in self.online())

    async def settle(self, idle_s: float = 0.03, timeout_s: float = 10.0) -> None:
        """Let the broker deliver everything in flight (no message for `idle_s` real seconds).

        Publications wait for the broker's acknowledgement with a timer of the frozen clock, so
        they are waited for here in real time (not with `async_block_till_done`).
        """
        start = last_change = _real()
        seen = self._received()
        while self._sending() or _real() - last_change < idle_s:
            if self.dave is not None:
                self.dave.loop(timeout=0.001)
            await asyncio.sleep(0)
            if (now := self._received()) != seen:
                seen, last_change = now, _real()
            assert _real() - start < timeout_s, "the broker did not go quiet"
        await self.hass.async_block_till_done()
        await asyncio.sleep(0)

    async def tick(self, seconds: int = 10) -> None:
        """Move the clock on; every timer due runs; the messages are delivered."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.settle()
        if self._sending():  # a re-plan after the first settle published new orders
            await self.settle()

    async def run(self, seconds: int) -> None:
        for _ in range(seconds // 10):
            await self.tick()

    def now_s(self) -> int:
        return int(self.agent(self.online()[0]).session.now_ms() // 1000)

    def connect_dave(self, broker: Broker) -> None:
        """Dave's raw client, subscribed to the community (it sees what everyone publishes)."""
        inbox: list[tuple[str, bytes]] = self.dave_inbox
        self.dave = new_client(broker, "dave")
        self.dave.on_message = lambda _c, _u, msg: inbox.append((msg.topic, bytes(msg.payload)))
        self.dave.subscribe(f"energy_collective/{COMMUNITY}/#", qos=1)
        deadline = _real() + 5
        while not self.dave.is_connected() and _real() < deadline:
            self.dave.loop(timeout=0.01)
        for _ in range(20):
            self.dave.loop(timeout=0.01)

    def dave_publish(self, topic: str, data: bytes) -> None:
        self.dave.publish(topic, data, qos=1)
        for _ in range(5):
            self.dave.loop(timeout=0.005)


@pytest.fixture(name="community")
async def community_fixture(
    hass: HomeAssistant,
    broker: Broker,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> AsyncGenerator[Community]:
    """The MQTT integration against the broker, and three homes trading through it."""
    hass.config.currency = "EUR"
    freezer.move_to(START)
    mqtt_entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": broker.host, "port": broker.port},
        options={"birth_message": {}, "will_message": {}, "discovery": False},
    )
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await _connected(hass)
    community = Community(hass, freezer)
    for name, profile in PROFILES.items():
        hass.states.async_set(f"sensor.grid_{name}", str(profile.grid_w), power_attrs())
        entry = _home_entry(hass, name, hass_storage)
        assert await hass.config_entries.async_setup(entry.entry_id)
        community.entries[name] = entry
    for name, entry in community.entries.items():
        planner = entry.runtime_data.planner
        planner.adjusters.insert(0, _profile_adjuster(PROFILES[name]))
        await planner.async_refresh()
    # the MQTT integration sends its subscriptions after a short cooldown; the homes hear each
    # other at their next heartbeat and send their open orders again for those who missed them
    await community.run(50)
    yield community
    if community.dave is not None:
        community.dave.disconnect()
        community.dave.loop(timeout=0.01)
    for entry in community.entries.values():
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
    await hass.async_block_till_done()


def _entity(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_market_{key}"
    )
    assert entity_id is not None, key
    return entity_id


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


def _cleared(community: Community, name: str) -> dict[int, Any]:
    session = community.agent(name).session
    return {
        slot: result
        for slot in session.diagnostics()["cleared_slots"]
        if (result := session.result(slot)) is not None
    }


async def test_three_homes_trade_over_home_assistant_mqtt(
    hass: HomeAssistant, community: Community, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """Orders from the plans clear identically everywhere, go back into the plans, are
    delivered, settled and shown; bad messages change nothing; a peer that leaves is annulled;
    a differing result raises a repair issue."""
    anna, ben, cara = (community.entries[n] for n in ("anna", "ben", "cara"))

    # orders from the plans: anna offers her surplus, ben and cara bid their deficits
    slot = (community.now_s() // SLOT_S + 1) * SLOT_S
    book = community.agent("ben").session.orders(slot + SLOT_S)
    assert {(o.home_id, o.side) for o in book} == {
        ("anna", "sell"),
        ("ben", "buy"),
        ("cara", "buy"),
    }
    sell = next(o for o in book if o.home_id == "anna")
    assert sell.energy_wh == round(2500 * SLOT_S / 3600)  # 2.5 kW for 5 minutes
    assert FEED_IN <= sell.price_per_kwh <= RETAIL

    # heartbeats: each home sees the two others (dave, outside Home Assistant, is silent)
    peers = _entity(hass, anna, "sensor", "market_peers_online")
    assert _value(hass, peers) == 2
    assert hass.states.get(peers).attributes["peers"] == ["Ben", "Cara"]  # type: ignore[union-attr]

    # four slots of trading
    await community.run(4 * SLOT_S)
    results = {name: _cleared(community, name) for name in PROFILES}
    traded = [s for s, r in results["anna"].items() if r.trades]
    assert len(traded) >= 3
    for s in results["anna"]:
        assert results["anna"][s].digest == results["ben"][s].digest == results["cara"][s].digest
    assert not [
        i for i in ir.async_get(hass).issues.values() if i.translation_key == "market_mismatch"
    ]
    # what anna sold, ben and cara bought (at one price per slot)
    last = results["anna"][traded[-1]]
    assert {t.seller for t in last.trades} == {"anna"}
    assert {t.buyer for t in last.trades} <= {"ben", "cara"}
    assert sum(t.energy_wh for t in last.trades) == sell.energy_wh

    # the trades are in the plans: anna keeps her sold energy for her neighbours
    plan = anna.runtime_data.planner.data
    assert plan.plan is not None
    assert plan.problem is not None
    step = next(
        k
        for k, t in enumerate(plan.plan.times())
        if int(t.timestamp()) in anna.runtime_data.market.positions()  # type: ignore[union-attr]
    )
    assert plan.problem.base_load_w[step] > PROFILES["anna"].load_w
    assert plan.plan.export_w[step] < 2500 - 1000

    # delivered, settled and shown: energy and money balance between the three homes
    sold = _value(hass, _entity(hass, anna, "sensor", "market_energy_sold"))
    bought = sum(
        _value(hass, _entity(hass, e, "sensor", "market_energy_bought")) for e in (ben, cara)
    )
    assert sold > 0.4
    assert bought == pytest.approx(sold, abs=0.002)
    revenue = _value(hass, _entity(hass, anna, "sensor", "market_revenue"))
    cost = sum(_value(hass, _entity(hass, e, "sensor", "market_cost")) for e in (ben, cara))
    assert revenue > 0
    assert cost == pytest.approx(revenue, abs=0.01)
    state = hass.states.get(_entity(hass, anna, "sensor", "market_revenue"))
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "EUR"
    assert state.attributes["state_class"] == "total"
    energy = hass.states.get(_entity(hass, ben, "sensor", "market_energy_bought"))
    assert energy is not None
    assert energy.attributes["device_class"] == "energy"
    assert energy.attributes["state_class"] == "total_increasing"
    price = _value(hass, _entity(hass, cara, "sensor", "market_clearing_price"))
    assert FEED_IN <= price <= RETAIL
    key = hass.states.get(_entity(hass, anna, "sensor", "market_public_key"))
    assert key is not None
    assert key.state == KEYS["anna"].public_key

    # bad messages from a raw client: rejected, counted, and nothing changes
    community.connect_dave(broker)
    while not any(t.endswith("/heartbeat/ben") for t, _ in community.dave_inbox):
        await community.tick()
    heartbeat = next(d for t, d in community.dave_inbox if t.endswith("/heartbeat/ben"))
    open_slot = (community.now_s() // SLOT_S + 2) * SLOT_S
    books = {n: community.agent(n).session.orders(open_slot) for n in PROFILES}
    before = {n: dict(community.agent(n).rejected()) for n in PROFILES}
    now_ms = community.now_s() * 1000
    order = {"side": "sell", "energy_wh": 9000, "price": 10_000}
    forged = make_message(
        Keypair.generate(), "order", COMMUNITY, "ben", now_ms, payload=order, slot=open_slot
    )
    unsigned = replace(
        make_message(KEYS["ben"], "order", COMMUNITY, "ben", now_ms, payload=order, slot=open_slot),
        signature="",
    )
    topic = f"energy_collective/{COMMUNITY}/order/ben"
    community.dave_publish(forged.topic, forged.encode())  # bad signature
    community.dave_publish(topic.replace("order", "heartbeat"), heartbeat)  # replayed
    community.dave_publish(topic, b"not json")  # malformed
    community.dave_publish(topic, json.dumps({"v": 1, "type": "order"}).encode())  # malformed
    community.dave_publish(unsigned.topic, unsigned.encode())  # unsigned

    def rejected_since(name: str) -> int:
        counts = community.agent(name).rejected()
        return sum(counts[r] - before[name][r] for r in counts)

    # a loaded machine can leave the broker quiet for longer than settle's idle window while
    # dave's messages are still on their way: wait (in real time) until five have reached
    # every home, then check what each of them was counted as
    deadline = _real() + 10.0
    while any(rejected_since(n) < 5 for n in PROFILES) and _real() < deadline:
        await community.settle()
    for name in PROFILES:
        counts = community.agent(name).rejected()
        grew = {r: counts[r] - before[name][r] for r in counts}
        assert grew == {
            "malformed": 2,
            "unsigned": 1,
            "unknown_sender": 0,
            "bad_signature": 1,
            "stale": 0,
            "replayed": 1,
        }, name
        assert community.agent(name).session.orders(open_slot) == books[name]
    rejected = hass.states.get(_entity(hass, cara, "sensor", "market_rejected_messages"))
    assert rejected is not None
    assert rejected.attributes["replayed"] >= 1
    assert rejected.attributes["bad_signature"] == 1

    # a result that differs: dave (a known peer) disagrees about a slot already cleared
    cleared = max(_cleared(community, "anna"))
    wrong = make_message(
        KEYS["dave"],
        "result",
        COMMUNITY,
        "dave",
        community.now_s() * 1000,
        payload={
            "mechanism": "auction",
            "digest": "0" * 64,
            "trades": 0,
            "volume_wh": 0,
            "price": None,
        },
        slot=cleared,
    )
    community.dave_publish(wrong.topic, wrong.encode())
    await community.settle()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"market_mismatch_{anna.entry_id}_dave")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["peer"] == "Dave"
    assert issue.translation_placeholders["home"] == "Anna"

    # cara's home goes away in the middle of a slot: her orders for the next slots are annulled
    await community.tick()
    await community.tick()
    placed = list(community.agent("anna").session.open_slots()[:4])
    assert all(
        any(o.home_id == "cara" for o in community.agent("anna").session.orders(s))
        for s in placed[:2]
    )
    caplog.set_level(logging.WARNING)
    assert await hass.config_entries.async_unload(cara.entry_id)
    await community.run(3 * SLOT_S)
    session = community.agent("anna").session
    assert session.counters["annulled"] >= 1
    assert "was annulled" in caplog.text
    after = {s: r for s, r in _cleared(community, "anna").items() if s >= placed[1]}
    assert after
    for s, result in after.items():
        assert all("cara" not in (t.buyer, t.seller) for t in result.trades), s
        assert result.digest == _cleared(community, "ben")[s].digest
    assert _value(hass, _entity(hass, anna, "sensor", "market_peers_online")) == 1

    # diagnostics show the public key and the counters, never the private key
    diagnostics = await async_get_config_entry_diagnostics(hass, anna)
    text = json.dumps(diagnostics)
    assert KEYS["anna"].public_key in text
    assert KEYS["anna"].to_json()["private_key"] not in text
    assert diagnostics["market"]["session"]["messages"]["bad_signature"] == 1

    # the totals survive a restart of the home (total_increasing sensors must not drop)
    bought_id = _entity(hass, ben, "sensor", "market_energy_bought")
    before_restart = _value(hass, bought_id)
    metered = community.agent("ben")._metered
    latest = max(metered)  # the slot under way: what was metered of it is kept too
    seconds_before = metered[latest][2]
    assert await hass.config_entries.async_reload(ben.entry_id)
    assert community.agent("ben")._metered[latest][2] >= seconds_before > 0
    await community.run(20)
    assert _value(hass, bought_id) == pytest.approx(before_restart)
    assert community.agent("ben").session.keypair.public_key == KEYS["ben"].public_key

    # anna stops taking part: her open orders are withdrawn everywhere
    switch = _entity(hass, anna, "switch", "market_participation")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await community.settle()
    assert hass.states.get(switch).state == "off"  # type: ignore[union-attr]
    for s in community.agent("ben").session.open_slots()[:3]:
        assert all(o.home_id != "anna" for o in community.agent("ben").session.orders(s))
    # new plans place nothing, and the choice survives a restart of the home
    await community.run(SLOT_S)
    assert anna.runtime_data.planner.data.plan is not None
    for s in community.agent("ben").session.open_slots():
        assert all(o.home_id != "anna" for o in community.agent("ben").session.orders(s))
    assert await hass.config_entries.async_reload(anna.entry_id)
    await community.settle()
    assert hass.states.get(switch).state == "off"  # type: ignore[union-attr]
    assert community.agent("anna").participating is False


async def test_trading_waits_for_mqtt(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    broker: Broker,
) -> None:
    """Trading on but no MQTT: a repair issue says so and the rest of the home works; when MQTT
    is set up the home connects by itself, and when MQTT goes away the issue comes back."""
    freezer.move_to(START)
    hass.states.async_set("sensor.grid_anna", "-2500", power_attrs())
    entry = _home_entry(hass, "anna", hass_storage)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    issues = ir.async_get(hass)
    issue_id = f"market_mqtt_{entry.entry_id}"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "market_mqtt_missing"
    assert entry.runtime_data.planner.data.plan is not None
    assert hass.states.get(_entity(hass, entry, "switch", "market_participation")) is not None

    community = Community(hass, freezer)
    community.entries["anna"] = entry
    mqtt_entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": broker.host, "port": broker.port},
        options={"birth_message": {}, "will_message": {}, "discovery": False},
    )
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await _connected(hass)
    await community.tick()
    assert community.agent("anna").connected
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await community.run(40)
    assert community.agent("anna").published["heartbeat"] >= 1

    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
    await community.tick()
    assert not community.agent("anna").connected
    await community.run(60)  # the MQTT integration's own wait for its client runs out
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
