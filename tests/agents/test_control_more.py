"""More of the power budget and the dispatcher, in the budget tests' `MiniHome`.

Every test checks what a user would notice: the service calls the devices receive, entity states
and attributes, repair issues and logbook entries; three of them found bugs, since fixed (a car
raised without a fuse check, a heat pump's setpoint and a battery's kW number taken in the
wrong unit).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.energy_collective.agents.dispatcher import Action, Dispatcher
from custom_components.energy_collective.const import (
    ATTR_DEVICE_ID,
    ATTR_DURATION,
    BUDGET_STORE_VERSION,
    CONF_CHARGE_SWITCH,
    CONF_MODE_SELECT,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_W,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TEMPERATURE_ENTITY,
    CONF_THERMAL_ENTITY,
    DOMAIN,
    SERVICE_REQUEST_RUN,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
    store_key,
)
from tests.sim.home import subentry_id

from ..common import GRID, our_device, power_attrs
from .test_budget import (
    BATTERY,
    CAR,
    DEVICES,
    DISHWASHER,
    FREEZER,
    HEADROOM,
    HEATER,
    LIMIT,
    MODE_BATTERY,
    POOL,
    MiniHome,
    _budget,
    _spike,
    _start,
)
from .test_failsafe import GRID_OK, _tick

FREEZER_ONLY = (SUBENTRY_INTERRUPTIBLE, "Freezer", FREEZER)
PUMP = {
    CONF_THERMAL_ENTITY: "climate.heat_pump",
    CONF_TEMPERATURE_ENTITY: "sensor.room_temperature",
    CONF_T_MIN: 19.0,
    CONF_T_MAX: 22.0,
    CONF_POWER_W: 3000.0,
}
MODES = ["charge", "discharge", "idle"]
MODE_W = {"charge": 5000.0, "discharge": -5000.0, "idle": 0.0}


async def _serve_heat_pump(hass: HomeAssistant, home: MiniHome) -> None:
    """A heat pump that takes its setpoint and draws 3 kW; the meter shows it."""

    @callback
    def climate(call: ServiceCall) -> None:
        home.calls.append(
            ("climate", "set_temperature", "climate.heat_pump", call.data["temperature"])
        )
        state = hass.states.get("climate.heat_pump")
        assert state is not None
        attrs = {**state.attributes, "temperature": float(call.data["temperature"])}
        hass.states.async_set("climate.heat_pump", state.state, attrs)

    hass.services.async_register("climate", "set_temperature", climate)
    home.heater_w = lambda: 3000.0  # type: ignore[method-assign]
    home.publish()
    await hass.async_block_till_done()
    home.commands()


def _issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def _texts(events: list[Any], name: str) -> list[str]:
    return [e.data["message"] for e in events if e.data.get("name") == name]


def _quiet(hass: HomeAssistant, *switches: str) -> None:
    """Switch some of the MiniHome's loads off, as if they had been off all along."""
    for entity_id in switches:
        hass.states.async_set(entity_id, "off")


def _serve_modes(hass: HomeAssistant, home: MiniHome, select: str = "select.battery_mode") -> None:
    """A mode select that takes the option it is given, recorded like the other calls."""

    @callback
    def _select(call: ServiceCall) -> None:
        home.calls.append(("select", "select_option", select, call.data["option"]))
        hass.states.async_set(select, call.data["option"], {"options": MODES})

    hass.services.async_register("select", "select_option", _select)


def _stand_in_plan(
    monkeypatch: pytest.MonkeyPatch, dispatcher: Dispatcher, wants: dict[str, Action]
) -> None:
    """This home has no price, so no plan: stand in for one that wants `wants` now."""
    planner = dispatcher.planner
    monkeypatch.setattr(planner, "data", replace(planner.data, plan=object()))
    monkeypatch.setattr(dispatcher, "wanted", lambda sid, _now: wants.get(sid))


# -- the budget ---------------------------------------------------------------------------------


async def test_a_broken_saved_shedding_state_is_forgotten(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unreadable saved shedding state is dropped with a warning; spikes are still shed."""
    entry, home = await _start(hass, freezer)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    key = store_key(entry.entry_id, "budget")
    hass_storage[key] = {
        "version": BUDGET_STORE_VERSION,
        "minor_version": 1,
        "key": key,
        "data": {"shed": [{"device": "Car", "action": "explode", "at": "2026-11-21T17:00:00"}]},
    }
    with caplog.at_level(logging.WARNING):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert "saved shedding state is not read back" in caplog.text
    assert _budget(entry).shed_devices == []
    home.commands()
    after = await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert after <= LIMIT
    state = hass.states.get(HEADROOM)
    assert state is not None
    assert state.attributes["shed"] == ["Car"]


@pytest.mark.parametrize(
    "translations",
    [
        pytest.param(None, id="translations-fail"),
        pytest.param(
            {f"component.{DOMAIN}.exceptions.budget_reduce.message": "auf {Einstellung}"},
            id="wrong-placeholder",
        ),
    ],
)
async def test_logbook_texts_fall_back_to_english(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    translations: dict[str, str] | None,
) -> None:
    """Missing or broken translations leave the budget's logbook entry in English."""

    async def _translations(*_args: Any) -> dict[str, str]:
        if translations is None:
            raise HomeAssistantError("no translations")
        return translations

    monkeypatch.setattr(
        "custom_components.energy_collective.agents.budget.async_get_translations", _translations
    )
    _entry, home = await _start(hass, freezer)
    logbook = async_capture_events(hass, "logbook_entry")
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert _texts(logbook, "Car") == [
        "reduced to 8 A, about 1380 W less: the grid import of 12000 W is 1000 W over the "
        "main fuse (11000 W)"
    ]


async def test_a_reading_that_arrives_while_the_budget_acts_is_read_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A reading that arrives while the budget sends is reacted to right after it."""
    entry, home = await _start(hass, freezer)
    budget = _budget(entry)

    async def number_and_meter(call: ServiceCall) -> None:
        entity_id = call.data["entity_id"]
        home.calls.append(("number", "set_value", entity_id, call.data["value"]))
        old = hass.states.get(entity_id)
        assert old is not None
        hass.states.async_set(entity_id, str(float(call.data["value"])), old.attributes)
        home.publish()  # a fast meter: it shows the change before the charger answers
        for _ in range(3):  # the charger's integration answers a moment later
            await asyncio.sleep(0)

    hass.services.async_register("number", "set_value", number_and_meter)
    reactions = budget.reactions
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert home.commands()[0] == ("number", "set_value", "number.car_current", 8.0)
    assert budget.reactions == reactions + 2
    state = hass.states.get(HEADROOM)
    assert state is not None
    assert float(state.state) == pytest.approx(380.0)  # 12000 W less 1380 W, under 11000 W
    assert state.attributes["shed"] == ["Car"]


async def test_devices_whose_entities_cannot_tell_are_left_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Devices whose entities cannot tell their state are neither shed nor overridden."""
    hass.states.async_set("climate.heat_pump", "heat", {"hvac_action": "heating"})  # no target
    hass.states.async_set("sensor.room_temperature", "20")
    hass.states.async_set("select.battery_mode", "backup", {"options": [*MODES, "backup"]})
    devices = [
        *DEVICES,
        (SUBENTRY_THERMAL, "Heat pump", PUMP),
        (SUBENTRY_BATTERY, "Mode battery", MODE_BATTERY),
        (SUBENTRY_BATTERY, "Gone battery", {**MODE_BATTERY, CONF_MODE_SELECT: "select.gone"}),
    ]
    entry, home = await _start(hass, freezer, devices)
    logbook = async_capture_events(hass, "logbook_entry")
    for entity_id in (
        "binary_sensor.car_plugged",
        "number.battery_power",
        "switch.pool",
        "water_heater.boiler",
        "switch.dishwasher",
    ):
        hass.states.async_set(entity_id, "unavailable")
    await hass.async_block_till_done()
    home.commands()
    hass.states.async_set(GRID, "14000", power_attrs())
    await hass.async_block_till_done()
    assert home.commands() == []
    assert _budget(entry).shed_devices == []
    assert _issue(hass, f"over_limit_{entry.entry_id}") is not None
    runtime = entry.runtime_data.planner.runtime
    assert not any(rt.overridden(dt_util.utcnow()) for rt in runtime.values())
    assert not [e for e in logbook if "manual change" in e.data["message"]]
    # back: on, off, on again as before (no manual change either)
    hass.states.async_set("binary_sensor.car_plugged", "on")
    hass.states.async_set("number.battery_power", "0.0", {"unit_of_measurement": "W"})
    hass.states.async_set("switch.pool", "on")
    hass.states.async_set("switch.dishwasher", "off")
    hass.states.async_set(
        "water_heater.boiler", "electric", {"temperature": 60.0, "heating": False}
    )
    await _tick(hass, freezer, 1)
    assert not any(rt.overridden(dt_util.utcnow()) for rt in runtime.values())
    after = await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert after <= LIMIT
    assert ("number", "set_value", "number.car_current", 8.0) in home.commands()
    assert _issue(hass, f"over_limit_{entry.entry_id}") is None


async def test_a_device_saved_as_not_managed_is_never_touched(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A car saved as not managed is never shed and its manual change is no override."""
    entry, home = await _start(hass, freezer)
    car = subentry_id(entry, "Car")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    saved = hass_storage[store_key(entry.entry_id, "planner")]["data"]
    saved["devices"][car] = {"managed": False}
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.car_managed").state == "off"  # type: ignore[union-attr]
    logbook = async_capture_events(hass, "logbook_entry")
    hass.states.async_set("number.car_current", "12.0", {"unit_of_measurement": "A"})
    await hass.async_block_till_done()
    assert not entry.runtime_data.planner.runtime[car].overridden(dt_util.utcnow())
    assert not _texts(logbook, "Car")
    home.commands()
    after = await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 6000.0)
    assert after <= LIMIT
    assert home.value("number.car_current") == 12.0
    assert [c for c in home.commands() if "car" in c[2]] == []
    assert _budget(entry).shed_devices == ["Battery", "Pool pump"]


async def test_a_restore_the_plan_no_longer_wants_is_left_to_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shed pool pump the plan now wants off stays off; the others are restored."""
    entry, home = await _start(hass, freezer)
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 8000.0)
    assert _budget(entry).shed_devices == ["Car", "Battery", "Pool pump"]
    await _spike(hass, home, 0.0)
    for _ in range(29):  # 14.5 min: the pool pump, last shed, may not come back yet
        await _tick(hass, freezer, 30)
        home.publish()
    assert _budget(entry).shed_devices == ["Car", "Battery", "Pool pump"]
    home.commands()
    # a minute later the plan wants the pool pump off
    freezer.tick(timedelta(minutes=1))
    _stand_in_plan(
        monkeypatch,
        entry.runtime_data.dispatcher,
        {subentry_id(entry, "Pool pump"): Action(on=False)},
    )
    await _spike(hass, home, 10.0)
    monkeypatch.undo()
    calls = home.commands()
    assert ("switch", "turn_on", "switch.pool", None) not in calls
    assert ("number", "set_value", "number.battery_power", 0.0) in calls
    assert ("number", "set_value", "number.car_current", 10.0) in calls
    assert not home.on("switch.pool")
    assert _budget(entry).shed_devices == []


async def test_a_switch_off_that_fails_is_not_restored_later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A switch-off that fails raises a repair, and the device is never restored."""
    entry, home = await _start(hass, freezer)
    pool = subentry_id(entry, "Pool pump")

    @callback
    def jammed(call: ServiceCall) -> None:
        raise HomeAssistantError("relay stuck")

    hass.services.async_register("switch", "turn_off", jammed)
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 8000.0)
    issue = _issue(hass, f"command_failed_{pool}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["device"] == "Pool pump"
    assert "relay stuck" in issue.translation_placeholders["error"]
    state = hass.states.get(HEADROOM)
    assert state is not None
    assert state.attributes["shed"] == ["Car", "Battery"]
    home.commands()
    await _spike(hass, home, 0.0)
    for _ in range(40):
        await _tick(hass, freezer, 30)
        home.publish()
    calls = home.commands()
    assert ("number", "set_value", "number.car_current", 10.0) in calls
    assert not [c for c in calls if c[2] == "switch.pool"]


async def test_start_rules_without_a_meter_or_a_device_state(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Starts are judged on the last trusted import while the meter is gone."""
    devices = [(SUBENTRY_APPLIANCE, "Dishwasher", DISHWASHER), FREEZER_ONLY]
    entry, home = await _start(hass, freezer, devices)
    budget = _budget(entry)
    dishwasher = subentry_id(entry, "Dishwasher")
    await _spike(hass, home, LIMIT - 3500.0 - 6900.0 - 300.0)
    hass.states.async_set(GRID, "unavailable", power_attrs())
    await _tick(hass, freezer, 11 * 60)
    assert hass.states.get(GRID_OK).state == "off"  # type: ignore[union-attr]
    start = Action(on=True, power_w=2000.0)
    assert budget.may_start(dishwasher, start, dt_util.utcnow()).reason == "no_headroom"
    # a dishwasher whose switch cannot tell is not held by these rules (the command path
    # still checks it against the fuse)
    hass.states.async_set("switch.dishwasher", "unavailable")
    assert budget.may_start(dishwasher, start, dt_util.utcnow())


# -- what the devices' entities tell -----------------------------------------------------------


async def test_a_heat_pump_that_reports_no_power_is_judged_by_its_room(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A heat pump reporting no power is turned down by what its room temperature says."""
    pump = {k: v for k, v in PUMP.items() if k != CONF_TEMPERATURE_ENTITY}
    hass.states.async_set(
        "climate.heat_pump", "heat", {"temperature": 22.0, "current_temperature": 20.0}
    )
    entry, home = await _start(hass, freezer, [(SUBENTRY_THERMAL, "Heat pump", pump)])
    _quiet(hass, "switch.car_charging", "switch.pool", "switch.freezer")
    await _serve_heat_pump(hass, home)
    # 3000 W over 2 K: 1500 W a kelvin; 1000 W over takes 1 K
    await _spike(hass, home, home.base_w + LIMIT - home.grid_w() + 1000.0)
    assert home.commands() == [("climate", "set_temperature", "climate.heat_pump", 21.0)]
    assert _budget(entry).shed_devices == ["Heat pump"]


@pytest.mark.parametrize(
    ("status", "shed", "command"),
    [
        ("charging", ["Car"], ("number", "set_value", "number.car_current", 8.0)),
        ("disconnected", ["Pool pump"], ("switch", "turn_off", "switch.pool", None)),
    ],
)
async def test_a_charger_whose_plug_is_a_status_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    status: str,
    shed: list[str],
    command: tuple[str, str, str, Any],
) -> None:
    """A charger's status text tells whether the car is plugged in and can be turned down."""
    hass.states.async_set("sensor.car_status", status)
    car = {**CAR, CONF_PLUGGED_ENTITY: "sensor.car_status"}
    devices = [(SUBENTRY_EV, "Car", car), (SUBENTRY_INTERRUPTIBLE, "Pool pump", POOL), FREEZER_ONLY]
    entry, home = await _start(hass, freezer, devices)
    home.commands()
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert home.commands()[0] == command
    assert _budget(entry).shed_devices == shed


async def test_a_battery_run_by_its_mode_discharges_to_cover_a_spike(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A mode-select battery discharges to cover a spike; when it cannot, the pool pump goes."""
    hass.states.async_set("select.battery_mode", "idle", {"options": MODES})
    devices = [
        (SUBENTRY_BATTERY, "Battery", MODE_BATTERY),
        (SUBENTRY_INTERRUPTIBLE, "Pool pump", POOL),
        FREEZER_ONLY,
    ]
    entry, home = await _start(hass, freezer, devices)
    _serve_modes(hass, home)
    _quiet(hass, "switch.car_charging")

    def grid_w() -> float:
        state = hass.states.get("select.battery_mode")
        assert state is not None
        pool = 1000.0 if home.on("switch.pool") else 0.0
        return home.base_w + pool + 2500.0 + MODE_W[state.state]

    home.grid_w = grid_w  # type: ignore[method-assign]
    home.publish()
    await hass.async_block_till_done()
    home.commands()
    await _spike(hass, home, LIMIT - 3500.0 + 1000.0)
    assert home.commands() == [("select", "select_option", "select.battery_mode", "discharge")]
    assert home.on("switch.pool")
    assert _budget(entry).shed_devices == ["Battery"]
    # discharging already: 500 W over again, the pool pump goes
    await _spike(hass, home, LIMIT - 3500.0 + 5000.0 + 500.0)
    assert home.commands() == [("switch", "turn_off", "switch.pool", None)]
    assert _budget(entry).shed_devices == ["Battery", "Pool pump"]


# -- the command path -------------------------------------------------------------------------


async def test_a_requested_run_with_a_duration_needs_room_for_its_power(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A requested 30 min dishwasher run starts only with room for its 2000 W."""
    devices = [(SUBENTRY_APPLIANCE, "Dishwasher", DISHWASHER), FREEZER_ONLY]
    entry, home = await _start(hass, freezer, devices)
    dishwasher = subentry_id(entry, "Dishwasher")
    device = our_device(hass, entry.entry_id, dishwasher)
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        SERVICE_REQUEST_RUN,
        {ATTR_DEVICE_ID: device.id, ATTR_DURATION: {"minutes": 30}},
        blocking=True,
    )
    await _spike(hass, home, LIMIT - 1500.0 - 10400.0)  # 1500 W under the limit
    home.commands()
    dispatcher = entry.runtime_data.dispatcher
    refused = await dispatcher.async_command(dishwasher, Action(on=True), reason="plan")
    assert not refused.sent
    assert refused.violations == (
        "Dishwasher: the command would exceed the import limit (2000 vs 1500)",
    )
    assert home.commands() == []
    assert not home.on("switch.dishwasher")
    await _spike(hass, home, LIMIT - 2500.0 - 10400.0)
    started = await dispatcher.async_command(dishwasher, Action(on=True), reason="plan")
    assert started.ok
    assert home.commands() == [("switch", "turn_on", "switch.dishwasher", None)]


async def test_a_water_heater_without_its_temperature_still_gets_the_fuse_check(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A water heater with no temperature reading still gets the fuse check."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_THERMAL, "Water heater", HEATER)])
    heater = subentry_id(entry, "Water heater")
    hass.states.async_set("sensor.boiler_temperature", "unavailable")
    home.heater_w = lambda: 0.0  # type: ignore[method-assign]
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) - 1000.0)
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        heater, Action(on=True, power_w=3000.0), reason="plan"
    )
    assert not result.sent
    assert result.violations == (
        "Water heater: 3000 W would take the import over the limit (1000 W of headroom)",
    )
    assert home.commands() == []


async def test_a_car_whose_plug_is_unknown_may_still_be_turned_down(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A car with an unknown plug state may be turned down while the meter is gone."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    hass.states.async_set("binary_sensor.car_plugged", "unavailable")
    hass.states.async_set(GRID, "unavailable", power_attrs())
    await _tick(hass, freezer, 120)
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        subentry_id(entry, "Car"), Action(on=True, power_w=6 * 690), reason="t"
    )
    assert result.ok
    assert home.commands()[0] == ("number", "set_value", "number.car_current", 6.0)


async def test_a_car_whose_plug_is_unknown_is_not_raised_without_a_fuse_check(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A car with an unknown plug state is not raised to 16 A over the fuse without a meter."""
    entry, home = await _start(hass, freezer)
    hass.states.async_set("binary_sensor.car_plugged", "unavailable")
    hass.states.async_set(GRID, "unavailable", power_attrs())
    await _tick(hass, freezer, 120)
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        subentry_id(entry, "Car"), Action(on=True, power_w=16 * 690), reason="t"
    )
    assert home.commands() == []
    assert not result.sent
    assert home.grid_w() <= LIMIT


async def test_a_heat_pump_in_a_us_home_is_turned_down_not_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """In a US home the budget lowers a heat pump from 71.6 to 69.8 °F, not up to its maximum."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    hass.states.async_set("sensor.room_temperature", "68", {"unit_of_measurement": "°F"})
    hass.states.async_set(
        "climate.heat_pump",
        "heat",
        {
            "temperature": 71.6,
            "hvac_action": "heating",
            "power": 3000,
            "min_temp": 45.0,
            "max_temp": 95.0,
        },
    )
    _entry, home = await _start(hass, freezer, [(SUBENTRY_THERMAL, "Heat pump", PUMP)])
    _quiet(hass, "switch.car_charging", "switch.pool", "switch.freezer")
    await _serve_heat_pump(hass, home)
    await _spike(hass, home, home.base_w + LIMIT - home.grid_w() + 1000.0)
    assert home.commands() == [("climate", "set_temperature", "climate.heat_pump", 69.8)]


async def test_a_battery_power_number_in_kw_gets_kilowatts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A battery power number in kW is told -2 kW to cover a 2000 W spike, not -2000."""
    devices = [(SUBENTRY_BATTERY, "Battery", BATTERY), FREEZER_ONLY]
    _entry, home = await _start(hass, freezer, devices)
    hass.states.async_set(
        "number.battery_power", "0.0", {"unit_of_measurement": "kW", "min": -5.0, "max": 5.0}
    )
    _quiet(hass, "switch.car_charging")
    home.publish()
    await hass.async_block_till_done()
    home.commands()
    await _spike(hass, home, home.base_w + LIMIT - home.grid_w() + 2000.0)
    assert home.commands() == [("number", "set_value", "number.battery_power", -2.0)]


async def test_a_battery_s_mode_following_its_power_is_no_override(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A battery's mode select following its power number is no override."""
    battery = {
        **BATTERY,
        CONF_MODE_SELECT: "select.battery_mode",
        CONF_OPTION_CHARGE: "charge",
        CONF_OPTION_DISCHARGE: "discharge",
    }
    hass.states.async_set("select.battery_mode", "idle", {"options": MODES})
    entry, home = await _start(
        hass, freezer, [(SUBENTRY_BATTERY, "Battery", battery), FREEZER_ONLY]
    )
    _serve_modes(hass, home)
    _quiet(hass, "switch.car_charging", "switch.pool")

    @callback
    def inverter(call: ServiceCall) -> None:
        value = float(call.data["value"])
        home.calls.append(("number", "set_value", "number.battery_power", value))
        hass.states.async_set("number.battery_power", str(value), {"unit_of_measurement": "W"})
        mode = "discharge" if value < 0 else "charge" if value > 0 else "idle"
        hass.states.async_set("select.battery_mode", mode, {"options": MODES})

    hass.services.async_register("number", "set_value", inverter)
    home.publish()
    await hass.async_block_till_done()
    logbook = async_capture_events(hass, "logbook_entry")
    home.commands()
    await _spike(hass, home, home.base_w + LIMIT - home.grid_w() + 2000.0)
    assert home.commands() == [
        ("number", "set_value", "number.battery_power", -2000.0),
        ("select", "select_option", "select.battery_mode", "discharge"),
    ]
    await hass.async_block_till_done()
    battery_id = subentry_id(entry, "Battery")
    assert not entry.runtime_data.planner.runtime[battery_id].overridden(dt_util.utcnow())
    assert not [t for t in _texts(logbook, "Battery") if "manual change" in t]
    await _spike(hass, home, 0.0)
    for _ in range(3):
        await _tick(hass, freezer, 30)
        home.publish()
    assert home.commands() == [("number", "set_value", "number.battery_power", 0.0)]
    assert _budget(entry).shed_devices == []


async def test_a_charger_without_a_switch_is_turned_down_by_its_current(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A charger with a current number only is turned down by its current alone."""
    car = {k: v for k, v in CAR.items() if k != CONF_CHARGE_SWITCH}
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", car), FREEZER_ONLY])
    home.commands()
    after = await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 1000.0)
    assert home.commands() == [("number", "set_value", "number.car_current", 8.0)]
    assert after <= LIMIT
    assert _budget(entry).shed_devices == ["Car"]


async def test_a_charger_that_answers_with_no_number_raises_a_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A charger whose current reads 'unknown' after a command raises a repair saying so."""
    entry, _home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")

    @callback
    def lost(call: ServiceCall) -> None:
        hass.states.async_set("number.car_current", "unknown", {"unit_of_measurement": "A"})

    hass.services.async_register("number", "set_value", lost)
    result = await entry.runtime_data.dispatcher.async_command(
        car, Action(on=True, power_w=8 * 690), reason="plan"
    )
    assert not result.ok
    issue = _issue(hass, f"command_failed_{car}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["error"] == "number.car_current reads unknown"


async def test_the_plan_waits_for_a_water_heater_that_does_not_exist_yet(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's command waits for a water heater entity that does not exist yet."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_THERMAL, "Water heater", HEATER)])
    heater = subentry_id(entry, "Water heater")
    dispatcher = entry.runtime_data.dispatcher
    _quiet(hass, "switch.car_charging", "switch.pool", "switch.freezer")
    old = hass.states.get("water_heater.boiler")
    assert old is not None
    hass.states.async_remove("water_heater.boiler")
    home.heater_w = lambda: 0.0  # type: ignore[method-assign]
    home.publish()
    await hass.async_block_till_done()
    home.commands()
    _stand_in_plan(monkeypatch, dispatcher, {heater: Action(on=True, power_w=3000.0)})
    await dispatcher.async_dispatch()
    assert home.commands() == []
    assert dispatcher.last_results[heater].violations == (
        "water_heater.boiler does not exist (yet)",
    )
    assert _issue(hass, f"command_failed_{heater}") is None
    hass.states.async_set(
        "water_heater.boiler", "electric", {**old.attributes, "temperature": 45.0}
    )
    await dispatcher.async_dispatch()
    assert home.commands() == [("water_heater", "set_temperature", "water_heater.boiler", 60.0)]
    monkeypatch.undo()


async def test_a_battery_run_by_its_mode_goes_as_planned(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A battery with only a mode select gets the plan's discharge; the other stays idle."""
    hass.states.async_set("select.battery_mode", "idle", {"options": MODES})
    devices = [
        (SUBENTRY_BATTERY, "Garage battery", MODE_BATTERY),
        (SUBENTRY_BATTERY, "Battery", BATTERY),
        FREEZER_ONLY,
    ]
    entry, home = await _start(hass, freezer, devices)
    _serve_modes(hass, home)
    dispatcher = entry.runtime_data.dispatcher
    garage = subentry_id(entry, "Garage battery")
    logbook = async_capture_events(hass, "logbook_entry")
    home.commands()
    _stand_in_plan(monkeypatch, dispatcher, {garage: Action(on=True, power_w=-5000.0)})
    await dispatcher.async_dispatch()
    monkeypatch.undo()
    assert home.commands() == [("select", "select_option", "select.battery_mode", "discharge")]
    assert home.value("number.battery_power") == 0.0
    assert _texts(logbook, "Garage battery") == ["on, -5000 W (plan)"]


async def test_unloading_skips_what_was_shed_from_a_removed_device(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Unloading sends nothing to a shed device the owner removed from the home."""
    entry, home = await _start(hass, freezer)
    await _spike(hass, home, home.base_w + (LIMIT - home.grid_w()) + 8000.0)
    assert _budget(entry).shed_devices == ["Car", "Battery", "Pool pump"]
    home.base_w = 0.0
    home.publish()
    await hass.async_block_till_done()
    home.commands()
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "Pool pump"))
    await hass.async_block_till_done()
    assert home.value("number.car_current") == 10.0
    assert home.value("number.battery_power") == 0.0
    assert not home.on("switch.pool")  # its minimum off-time had not passed
    home.commands()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert home.commands() == []
    assert not home.on("switch.pool")
