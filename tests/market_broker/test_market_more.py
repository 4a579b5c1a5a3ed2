"""More of the trading agent: what a home sends over MQTT as its plan and its switch change,
how it copes when MQTT refuses it, and what it makes of a damaged store.

MQTT here is Home Assistant's integration with its test client (`mqtt_mock`): whatever a home
publishes comes back to every subscriber at once, as from a broker, so the test's peer "ben"
(a `MarketSession` holding ben's key) trades with the home deterministically, on the frozen
clock. The homes are those of `test_market_agent` (`_home_entry`: community "lane-7", 5-minute
slots, gate one minute before the slot).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient, MqttMockPahoClient

from custom_components.energy_collective.agents.market import MarketAgent
from custom_components.energy_collective.const import (
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_ENABLED,
    CONF_NAME,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    CONF_PV_POWER,
    DOMAIN,
    SUBENTRY_PEER,
    store_key,
)
from custom_components.energy_collective.diagnostics import async_get_config_entry_diagnostics
from custom_components.energy_collective.engine.market import (
    Envelope,
    MarketConfig,
    MarketSession,
    make_message,
    subscription,
)
from custom_components.energy_collective.engine.model import Problem
from tests.common import home_data, home_options, power_attrs

from .test_market_agent import COMMUNITY, KEYS, SLOT_S, START, Profile, _entity, _home_entry

SURPLUS = Profile(load_w=500, pv_w=3000)  # 2.5 kW to spare
IDLE = Profile(load_w=0, pv_w=0)  # nothing to trade
SELL_WH = round(2500 * SLOT_S / 3600)


class Peer:
    """Ben: a market session outside Home Assistant, on the same MQTT integration."""

    def __init__(self, hass: HomeAssistant, name: str = "ben") -> None:
        self.hass = hass
        peers = {n: k.public_key for n, k in KEYS.items() if n != name}
        config = MarketConfig(COMMUNITY, slot_s=SLOT_S, gate_closure_s=60, horizon_slots=12)
        self.session = MarketSession(
            config, name, KEYS[name], peers, clock=lambda: dt_util.utcnow().timestamp()
        )

    async def listen(self) -> Callable[[], None]:
        """Subscribe to the community's topics."""
        return await mqtt.async_subscribe(
            self.hass, subscription(COMMUNITY), self._received, qos=1, encoding=None
        )

    @callback
    def _received(self, msg: ReceiveMessage) -> None:
        payload = msg.payload
        self.session.receive(payload if isinstance(payload, bytes) else str(payload))

    def send(self, envelopes: list[Envelope]) -> None:
        """Publish ben's signed messages to the community."""
        for env in envelopes:
            async_fire_mqtt_message(self.hass, env.topic, env.encode(), qos=1)

    def book(self, slot: int, home: str = "anna") -> list[tuple[str, int]]:
        """The side and energy of `home`'s live order for `slot`, as ben holds it."""
        return [(o.side, o.energy_wh) for o in self.session.orders(slot) if o.home_id == home]


@pytest.fixture(name="mqtt_mock")
async def mqtt_mock_fixture(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mqtt_client_mock: MqttMockPahoClient
) -> AsyncGenerator[MqttMockHAClient]:
    """Home Assistant's MQTT integration with its test client; at the end the homes unload,
    then MQTT, and the connection closes (its periodic timer must not outlive the test)."""
    yield mqtt_mock
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    for entry in hass.config_entries.async_entries(mqtt.DOMAIN):
        assert await hass.config_entries.async_unload(entry.entry_id)
    mqtt_client_mock.on_socket_close(mqtt_client_mock, None, Mock(fileno=Mock(return_value=-1)))
    await hass.async_block_till_done()


def adjuster(profile: dict[str, Profile]) -> Callable[[Problem, datetime], Problem]:
    """The home's load and PV from `profile["now"]`, which a test may change."""

    def adjust(problem: Problem, now: datetime) -> Problem:
        n, current = problem.n_steps, profile["now"]
        return replace(problem, base_load_w=(current.load_w,) * n, pv_w=(current.pv_w,) * n)

    return adjust


async def settle(hass: HomeAssistant) -> None:
    """Let every task, the background connection too, finish."""
    await hass.async_block_till_done(wait_background_tasks=True)


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int = 10) -> None:
    """Move the frozen clock on and run what is due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


async def anna(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    profile: dict[str, Profile],
) -> MockConfigEntry:
    """Anna's home, trading, with the load and PV of `profile` (from a second after it
    started: its first orders, from its forecast, are replaced by newer ones)."""
    hass.config.currency = "EUR"
    hass.states.async_set("sensor.grid_anna", "-2500", power_attrs())
    entry = _home_entry(hass, "anna", hass_storage)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    planner = entry.runtime_data.planner
    planner.adjusters.insert(0, adjuster(profile))
    freezer.tick(timedelta(seconds=1))
    await planner.async_refresh()
    await settle(hass)
    return entry


def market(entry: MockConfigEntry) -> MarketAgent:
    """The home's market agent."""
    agent = entry.runtime_data.market
    assert isinstance(agent, MarketAgent)
    return agent


def sent(mqtt_mock: MqttMockHAClient, kind: str) -> list[tuple[str, int]]:
    """Topic and QoS of every `kind` message the home published."""
    return [
        (call.args[0], call.args[2])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0].startswith(f"energy_collective/{COMMUNITY}/{kind}/")
    ]


# ---------------------------------------------------------------------------------------------
# orders over MQTT
# ---------------------------------------------------------------------------------------------


async def test_orders_follow_the_plan_and_the_switch(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Peers get the plan's surplus as an offer, withdrawn when it or the switch goes off."""
    freezer.move_to(START)
    ben = Peer(hass)
    unsubscribe = await ben.listen()
    profile = {"now": SURPLUS}
    entry = await anna(hass, freezer, hass_storage, profile)
    agent = market(entry)
    assert agent.connected
    assert ir.async_get(hass).async_get_issue(DOMAIN, agent.issue_mqtt) is None
    slot = agent.session.open_slots()[0]
    assert ben.book(slot) == [("sell", SELL_WH)]
    assert sent(mqtt_mock, "heartbeat") == [("energy_collective/lane-7/heartbeat/anna", 0)]
    assert {qos for _, qos in sent(mqtt_mock, "order")} == {1}

    # the surplus is gone from the plan: the offer is withdrawn everywhere (a newer message
    # replaces an older one: the clock moves between them)
    freezer.tick(timedelta(seconds=1))
    profile["now"] = IDLE
    await entry.runtime_data.planner.async_refresh()
    await settle(hass)
    assert ben.book(slot) == []
    assert market(entry).diagnostics()["open_orders"] == {}

    # it comes back; trading off withdraws it, on sends it again
    freezer.tick(timedelta(seconds=1))
    profile["now"] = SURPLUS
    await entry.runtime_data.planner.async_refresh()
    await settle(hass)
    assert ben.book(slot) == [("sell", SELL_WH)]
    switch = _entity(hass, entry, "switch", "market_participation")
    freezer.tick(timedelta(seconds=1))
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await settle(hass)
    assert ben.book(slot) == []
    freezer.tick(timedelta(seconds=1))
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    await settle(hass)
    assert hass.states.get(switch).state == "on"  # type: ignore[union-attr]
    assert ben.book(slot) == [("sell", SELL_WH)]
    unsubscribe()


async def test_a_late_order_from_a_peer_is_not_booked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
) -> None:
    """A peer's order signed after the gate is counted late and not booked; one in time is."""
    freezer.move_to(START)
    ben = Peer(hass)
    unsubscribe = await ben.listen()
    entry = await anna(hass, freezer, hass_storage, {"now": SURPLUS})
    agent = market(entry)
    slot = agent.session.open_slots()[0]
    order = {"side": "buy", "energy_wh": 150, "price": 200_000}

    ben.send([ben.session.heartbeat()])
    await settle(hass)
    peers = hass.states.get(_entity(hass, entry, "sensor", "market_peers_online"))
    assert peers is not None
    assert peers.attributes["peers"] == ["Ben"]

    late_ms = agent.session.gate_ms(slot) + 1000
    freezer.move_to(dt_util.utc_from_timestamp(late_ms / 1000))
    late = make_message(KEYS["ben"], "order", COMMUNITY, "ben", late_ms, payload=order, slot=slot)
    ben.send([late])
    await settle(hass)
    assert [o.home_id for o in agent.session.orders(slot)] == ["anna"]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["market"]["session"]["session"]["late_order"] == 1

    following = slot + SLOT_S
    in_time = make_message(
        KEYS["ben"], "order", COMMUNITY, "ben", late_ms, payload=order, slot=following
    )
    ben.send([in_time])
    await settle(hass)
    assert sorted(o.home_id for o in agent.session.orders(following)) == ["anna", "ben"]
    unsubscribe()


# ---------------------------------------------------------------------------------------------
# MQTT that refuses
# ---------------------------------------------------------------------------------------------


async def test_refused_subscription_is_retried_at_the_next_tick(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When MQTT refuses the subscription the home says so and connects at the next tick."""
    freezer.move_to(START)
    caplog.set_level(logging.WARNING)
    with patch.object(mqtt, "async_subscribe", side_effect=HomeAssistantError("not connected")):
        entry = await anna(hass, freezer, hass_storage, {"now": SURPLUS})
        agent = market(entry)
        assert not agent.connected
        assert "anna cannot reach the market yet: not connected" in caplog.text
        assert sent(mqtt_mock, "order") == []

    await tick(hass, freezer)
    assert agent.connected
    assert sent(mqtt_mock, "heartbeat")
    assert sent(mqtt_mock, "order")


async def test_failed_publications_are_counted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Messages MQTT fails to publish are counted as failed in diagnostics, the rest as sent."""
    freezer.move_to(START)
    entry = await anna(hass, freezer, hass_storage, {"now": SURPLUS})
    before = dict(market(entry).published)
    assert before["heartbeat"] == 1

    with patch.object(mqtt, "async_publish", side_effect=HomeAssistantError("broker gone")):
        await tick(hass, freezer, 30)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["market"]["published"]["failed"] >= 1
    assert diagnostics["market"]["published"]["heartbeat"] == 1

    await tick(hass, freezer, 30)
    assert market(entry).published["heartbeat"] == 2


# ---------------------------------------------------------------------------------------------
# the store and the configuration
# ---------------------------------------------------------------------------------------------


async def test_damaged_store_and_bad_peer_key(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unreadable key, ledger and meter records are replaced and logged; a bad peer key is not."""
    freezer.move_to(START)
    caplog.set_level(logging.WARNING)
    hass.states.async_set("sensor.grid_power", "400", power_attrs())
    options = home_options(step_minutes=5, horizon_hours=1) | {
        CONF_MARKET_ENABLED: True,
        CONF_MARKET_COMMUNITY: COMMUNITY,
    }
    data = home_data(**{CONF_NAME: "Home A", CONF_PV_POWER: None})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home A",
        data=data,
        options=options,
        subentries_data=[
            ConfigSubentryData(
                data={CONF_PEER_HOME_ID: "ben", CONF_PEER_PUBLIC_KEY: "not a key"},
                subentry_type=SUBENTRY_PEER,
                title="Ben",
                unique_id=None,
            ),
            ConfigSubentryData(
                data={CONF_PEER_HOME_ID: "cara", CONF_PEER_PUBLIC_KEY: KEYS["cara"].public_key},
                subentry_type=SUBENTRY_PEER,
                title="Cara",
                unique_id=None,
            ),
        ],
    )
    entry.add_to_hass(hass)
    key = store_key(entry.entry_id, "market")
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "keypair": {"public_key": "abc"},
            "totals": {"sold_kwh": 1.5},
            "metered": {"not a slot": [1, 2, 3]},
            "ledger": {"trades": [{"slot": "x"}]},
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    agent = market(entry)
    assert "The market key of home_a is unreadable" in caplog.text
    assert "The market ledger of home_a is unreadable" in caplog.text
    assert "Peer ben of home_a is not trusted" in caplog.text
    public = hass.states.get(_entity(hass, entry, "sensor", "market_public_key"))
    assert public is not None
    assert public.state == agent.session.keypair.public_key
    assert public.attributes["home_id"] == "home_a"
    assert hass_storage[key]["data"]["keypair"]["public_key"] == public.state  # a new key, kept
    sold = hass.states.get(_entity(hass, entry, "sensor", "market_energy_sold"))
    assert sold is not None
    assert float(sold.state) == 1.5  # what could be read is kept
    peers = hass.states.get(_entity(hass, entry, "sensor", "market_peers_online"))
    assert peers is not None
    assert peers.attributes["known"] == ["Ben", "Cara"]
    assert agent.diagnostics()["session"]["peers"] == ["cara"]
    assert agent.diagnostics()["positions"] == {}


async def test_trade_without_grid_prices_is_not_settled(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stored trade without grid prices leaves the totals as they were and is logged once."""
    freezer.move_to(START)
    caplog.set_level(logging.WARNING)
    hass.states.async_set("sensor.grid_anna", "-2500", power_attrs())
    entry = _home_entry(hass, "anna", hass_storage)
    previous = int(START.timestamp()) // SLOT_S * SLOT_S - SLOT_S
    trade = {
        "slot": previous,
        "seller": "anna",
        "buyer": "ben",
        "energy_wh": 100,
        "price": 150_000,
        "position": 0,
    }
    stored = hass_storage[store_key(entry.entry_id, "market")]["data"]
    stored["ledger"] = {"trades": [trade], "deliveries": [], "grid_prices": []}
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    agent = market(entry)
    assert set(agent.positions()) == {previous}
    assert ir.async_get(hass).async_get_issue(DOMAIN, agent.issue_mqtt) is not None

    await tick(hass, freezer)
    assert f"No grid prices for slot {previous}: it is not settled" in caplog.text
    sold = hass.states.get(_entity(hass, entry, "sensor", "market_energy_sold"))
    assert sold is not None
    assert float(sold.state) == 0.0
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["market"]["published"]["not_sent"] >= 1
    assert diagnostics["market"]["connected"] is False
    await tick(hass, freezer)
    assert caplog.text.count("No grid prices for slot") == 1  # settled once, not again


async def test_market_agent_that_never_loaded_shows_nothing(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A market agent that never loaded shows no peers or rejections and leaves the plan alone."""
    entry = _home_entry(hass, "anna", hass_storage)
    hass_storage.clear()
    planner = SimpleNamespace(step_minutes=5, horizon_hours=1, adjusters=[])
    agent = MarketAgent(hass, entry, SimpleNamespace(), planner)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not loaded"):
        _ = agent.session
    assert agent.peers_online() == []
    assert set(agent.rejected().values()) == {0}
    problem = SimpleNamespace(n_steps=1)
    assert agent.adjust(problem, dt_util.utcnow()) is problem  # type: ignore[arg-type]
    await agent.async_shutdown()
    assert hass_storage == {}
