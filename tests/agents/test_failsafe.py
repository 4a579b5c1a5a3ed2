"""Fail-safe control: the dispatcher and the power budget neither fight the owner nor the device.

The home is the budget tests' `MiniHome` (plain entities, recording action handlers and a meter
that adds the devices up); the simulated home serves where a whole plan is needed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.energy_collective.agents.dispatcher import Action
from custom_components.energy_collective.const import (
    CONF_CHARGE_SWITCH,
    CONF_KEEP_STATE_ON_UNLOAD,
    DOMAIN,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_THERMAL,
)
from tests.sim.home import subentry_id

from ..common import GRID, power_attrs
from .test_budget import CAR, HEATER, LIMIT, MODE_BATTERY, MiniHome, _spike, _start

CAR_ONLY = [(SUBENTRY_EV, "Car", CAR)]


async def _car_home(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> tuple[str, MiniHome]:
    """A home whose only managed device is the car; the pool pump and freezer are off."""
    entry, home = await _start(hass, freezer, CAR_ONLY)
    hass.states.async_set("switch.pool", "off")
    hass.states.async_set("switch.freezer", "off")
    home.publish()
    await hass.async_block_till_done()
    return entry.entry_id, home


async def test_a_charger_settling_below_the_command_is_not_an_override(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Told 15 A, the charger shows 15 A, then the car settles it at 13 A: that is the device,
    not the owner. Nothing is held for two hours, no repair is raised, and a spike is still
    shed from the car."""
    entry_id, home = await _car_home(hass, freezer)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    car = subentry_id(entry, "Car")
    dispatcher = entry.runtime_data.dispatcher
    result = await dispatcher.async_command(car, Action(on=True, power_w=15 * 690), reason="test")
    assert result.ok
    assert home.value("number.car_current") == 15.0
    # the car's own update, in its own context, a moment later
    freezer.tick(timedelta(seconds=5))
    hass.states.async_set("number.car_current", "13.0", {"unit_of_measurement": "A"})
    await hass.async_block_till_done()
    assert not entry.runtime_data.planner.runtime[car].overridden(dt_util.utcnow())
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{car}") is None
    home.commands()
    after = await _spike(hass, home, 2500.0)  # 2500 + 13 x 690 = 11470 W
    assert after <= LIMIT
    assert home.value("number.car_current") < 13.0


async def test_the_budget_reduces_a_car_the_owner_turned_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The owner turns the charger up by hand: the plan leaves it alone, but a spike over the
    fuse is still taken from it (a manual change is no licence to blow the fuse)."""
    entry_id, home = await _car_home(hass, freezer)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    car = subentry_id(entry, "Car")
    await entry.runtime_data.dispatcher.async_command(
        car, Action(on=True, power_w=8 * 690), reason="test"
    )
    freezer.tick(timedelta(minutes=1))
    hass.states.async_set(
        "number.car_current", "16.0", {"unit_of_measurement": "A"}, context=Context(user_id="u")
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.planner.runtime[car].overridden(dt_util.utcnow())
    home.commands()
    after = await _spike(hass, home, 2000.0)  # 2000 + 16 x 690 = 13040 W
    assert after <= LIMIT
    assert home.value("number.car_current") < 16.0


GRID_OK = "binary_sensor.home_planning_grid_meter_ok"


def _meter_issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"grid_meter_untrusted_{entry_id}")


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_a_dead_meter_lets_nothing_raise_consumption(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The home runs at 10.9 kW on an 11 kW fuse when its meter goes unavailable. Eleven
    minutes later a full 16 A car command is refused (not sent), the car keeps its 10 A, the
    "grid meter OK" sensor is off and a repair says why; the meter's return clears both."""
    entry, home = await _start(hass, freezer)
    car = subentry_id(entry, "Car")
    assert home.grid_w() == pytest.approx(10900.0)
    await _tick(hass, freezer, 30)
    assert hass.states.get(GRID_OK).state == "on"  # type: ignore[union-attr]
    hass.states.async_set(GRID, "unavailable", power_attrs())
    await _tick(hass, freezer, 11 * 60)
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        car, Action(on=True, power_w=16 * 690), reason="test"
    )
    assert not result.sent
    assert home.commands() == []
    assert home.value("number.car_current") == 10.0
    assert hass.states.get(GRID_OK).state == "off"  # type: ignore[union-attr]
    issue = _meter_issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.translation_placeholders["reason"] == "it gives no value"
    home.publish()
    await _tick(hass, freezer, 30)
    assert hass.states.get(GRID_OK).state == "on"  # type: ignore[union-attr]
    assert _meter_issue(hass, entry.entry_id) is None


async def test_a_meter_that_stopped_reporting_is_not_trusted(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The meter last reported 3 kW two minutes ago (it froze, the house did not): a car
    command that would need that reading is refused, and the repair gives the reading's age."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")
    hass.states.async_set(GRID, "3000", power_attrs())
    await _tick(hass, freezer, 120)
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        car, Action(on=True, power_w=16 * 690), reason="test"
    )
    assert not result.sent
    assert result.violations
    assert "120 s" in result.violations[0]
    assert home.commands() == []
    issue = _meter_issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.translation_placeholders["reason"] == "its last report is 120 s old"


async def test_an_implausible_reading_sheds_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """One reading of a gigawatt is a broken meter, not a spike: nothing is shed, nothing is
    raised, and the meter is reported as not trusted."""
    entry, home = await _start(hass, freezer)
    home.commands()
    hass.states.async_set(GRID, "1000000000", power_attrs())
    await hass.async_block_till_done()
    assert home.commands() == []
    assert home.on("switch.pool")
    assert home.value("number.car_current") == 10.0
    assert hass.states.get(GRID_OK).state == "off"  # type: ignore[union-attr]
    issue = _meter_issue(hass, entry.entry_id)
    assert issue is not None
    assert "cannot carry" in issue.translation_placeholders["reason"]


async def test_a_meter_that_does_not_answer_a_command_is_suspect(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The car is told to charge 4 kW more; 30 s later the meter, still reporting, shows the
    same value: it is suspect, and nothing more is raised until it moves."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")
    dispatcher = entry.runtime_data.dispatcher
    hass.states.async_set("switch.pool", "off")
    hass.states.async_set("switch.freezer", "off")
    home.publish()  # 500 + 10 A x 690 = 7400 W
    await hass.async_block_till_done()
    result = await dispatcher.async_command(car, Action(on=True, power_w=6 * 690), reason="test")
    assert result.ok  # 2760 W less: the meter is now watched for the change
    for _ in range(3):  # it keeps reporting the old value
        hass.states.async_set(GRID, "7400.0", power_attrs(), force_update=True)
        await _tick(hass, freezer, 15)
    assert hass.states.get(GRID_OK).state == "off"  # type: ignore[union-attr]
    home.commands()
    refused = await dispatcher.async_command(car, Action(on=True, power_w=8 * 690), reason="t")
    assert not refused.sent
    assert home.commands() == []
    home.publish()  # it moves: 500 + 6 A x 690
    await _tick(hass, freezer, 1)
    assert hass.states.get(GRID_OK).state == "on"  # type: ignore[union-attr]
    again = await dispatcher.async_command(car, Action(on=True, power_w=8 * 690), reason="t")
    assert again.ok


async def test_unloading_hands_the_devices_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The budget shed the car, the battery and the pool pump; the owner then disables the
    home. The car charges at its 10 A again and the battery is idle; the pool pump, whose
    15 min minimum off-time has not passed, stays off and the logbook says so."""
    entry, home = await _start(hass, freezer)
    before = home.grid_w()
    await _spike(hass, home, home.base_w + (LIMIT - before) + 8000.0)
    assert not home.on("switch.pool")
    assert home.value("number.battery_power") == -5000.0
    assert home.value("number.car_current") == 6.0
    home.base_w = 0.0  # the oven is off again
    home.publish()
    await hass.async_block_till_done()
    logbook = async_capture_events(hass, "logbook_entry")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert home.value("number.car_current") == 10.0
    assert home.value("number.battery_power") == 0.0
    assert not home.on("switch.pool")
    pool = [e.data["message"] for e in logbook if e.data.get("name") == "Pool pump"]
    assert pool
    assert pool[0].startswith("left as the power budget set it")


async def test_unloading_can_leave_the_devices_as_they_are(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With "leave devices as they are" chosen, unloading sends nothing."""
    entry, home = await _start(hass, freezer, **{CONF_KEEP_STATE_ON_UNLOAD: True})
    before = home.grid_w()
    await _spike(hass, home, home.base_w + (LIMIT - before) + 8000.0)
    home.commands()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert home.commands() == []
    assert not home.on("switch.pool")


async def test_unloading_does_not_wait_for_a_command_retry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A command to a device that does not answer waits 30 s before trying again; the home
    unloads at once all the same, and the retry is not sent."""
    entry, _home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")
    dispatcher = entry.runtime_data.dispatcher
    dispatcher.retry_delays = (30.0,)
    attempts = 0

    @callback
    def broken(call: ServiceCall) -> None:
        nonlocal attempts
        attempts += 1
        raise HomeAssistantError("charger offline")

    hass.services.async_register("number", "set_value", broken)
    task = entry.async_create_task(
        hass, dispatcher.async_command(car, Action(on=True, power_w=8 * 690), reason="t")
    )
    await asyncio.sleep(0)
    assert attempts == 1
    started = hass.loop.time()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass.loop.time() - started < 5.0
    assert task.done()
    assert attempts == 1


async def test_a_command_waits_for_an_entity_that_does_not_exist(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """While the charger's integration has not loaded its current number, nothing is sent to
    it and no repair blames the device; once it exists the command goes out."""
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")
    dispatcher = entry.runtime_data.dispatcher
    hass.states.async_remove("number.car_current")
    home.commands()
    result = await dispatcher.async_command(car, Action(on=True, power_w=6 * 690), reason="t")
    assert not result.sent
    assert home.commands() == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{car}") is None
    hass.states.async_set("number.car_current", "10.0", {"unit_of_measurement": "A"})
    result = await dispatcher.async_command(car, Action(on=True, power_w=6 * 690), reason="t")
    assert result.ok


async def test_setpoints_go_out_in_the_homes_unit_within_the_entitys_range(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A water heater's band is entered in °C (45-60 °C). In a US-customary home the heater
    is set to 140 °F, not 60 °F; and a heater that goes no higher than 130 °F is set to 130."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    entry, home = await _start(hass, freezer, [(SUBENTRY_THERMAL, "Water heater", HEATER)])
    heater = subentry_id(entry, "Water heater")
    dispatcher = entry.runtime_data.dispatcher
    old = hass.states.get("water_heater.boiler")
    assert old is not None
    attrs = {**old.attributes, "temperature": 110.0, "min_temp": 95.0, "max_temp": 150.0}
    hass.states.async_set("water_heater.boiler", "electric", attrs)
    hass.states.async_set("switch.car_charging", "off")
    hass.states.async_set("switch.pool", "off")
    hass.states.async_set("switch.freezer", "off")
    home.publish()
    await hass.async_block_till_done()
    home.commands()
    result = await dispatcher.async_command(heater, Action(on=True, power_w=3000), reason="t")
    assert result.ok
    assert home.commands() == [("water_heater", "set_temperature", "water_heater.boiler", 140.0)]
    hass.states.async_set(
        "water_heater.boiler", "electric", {**attrs, "temperature": 110.0, "max_temp": 130.0}
    )
    result = await dispatcher.async_command(heater, Action(on=True, power_w=3000), reason="t")
    assert result.ok
    assert home.commands() == [("water_heater", "set_temperature", "water_heater.boiler", 130.0)]


async def test_a_charger_with_only_a_current_number_is_stopped_at_zero(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A charger run by its current alone is stopped by setting 0 A (it was left charging)."""
    car = {k: v for k, v in CAR.items() if k != CONF_CHARGE_SWITCH}
    entry, home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", car)])
    home.commands()
    result = await entry.runtime_data.dispatcher.async_command(
        subentry_id(entry, "Car"), Action(on=False), reason="t"
    )
    assert result.ok
    assert home.commands() == [("number", "set_value", "number.car_current", 0.0)]


async def test_a_battery_run_by_its_mode_alone_is_seen_and_shed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A battery with only a mode select, charging at its 5 kW: the budget counts that draw
    (it was taken for 0 W) and stops the charging when the home goes over the fuse."""
    battery = MODE_BATTERY
    modes = {"charge": 5000.0, "discharge": -5000.0, "idle": 0.0}
    hass.states.async_set(
        "select.battery_mode", "charge", {"options": ["charge", "discharge", "idle"]}
    )
    entry, home = await _start(hass, freezer, [(SUBENTRY_BATTERY, "Battery", battery)])

    @callback
    def select(call: ServiceCall) -> None:
        home.calls.append(("select", "select_option", "select.battery_mode", call.data["option"]))
        hass.states.async_set("select.battery_mode", call.data["option"], {"options": list(modes)})

    hass.services.async_register("select", "select_option", select)
    hass.states.async_set("switch.car_charging", "off")
    hass.states.async_set("switch.pool", "off")
    hass.states.async_set("switch.freezer", "off")

    def grid_w() -> float:
        state = hass.states.get("select.battery_mode")
        assert state is not None
        return home.base_w + modes[state.state]

    home.grid_w = grid_w  # type: ignore[method-assign]
    home.publish()
    await hass.async_block_till_done()
    budget = entry.runtime_data.budget
    assert budget is not None
    found = budget.devices(dt_util.utcnow())
    assert found["Battery"][1].control.power_w == 5000.0  # type: ignore[union-attr]
    home.commands()
    after = await _spike(hass, home, 7000.0)  # 7000 + 5000 charging = 12 kW on 11 kW
    assert after <= LIMIT
    assert ("select", "select_option", "select.battery_mode", "charge") not in home.commands()
    assert hass.states.get("select.battery_mode").state != "charge"  # type: ignore[union-attr]


async def test_a_failed_commands_repair_names_the_cause_and_goes_with_the_device(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The charger refuses a current out of its range: the repair carries that reason; when
    the owner removes the car from the home, the repair goes too."""
    entry, _home = await _start(hass, freezer, [(SUBENTRY_EV, "Car", CAR)])
    car = subentry_id(entry, "Car")

    @callback
    def out_of_range(call: ServiceCall) -> None:
        raise HomeAssistantError(
            f"Value {call.data['value']} for number.car_current is outside valid range 6 - 13"
        )

    hass.services.async_register("number", "set_value", out_of_range)
    result = await entry.runtime_data.dispatcher.async_command(
        car, Action(on=True, power_w=16 * 690), reason="t", retry=False
    )
    assert not result.ok
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{car}")
    assert issue is not None
    assert "outside valid range 6 - 13" in issue.translation_placeholders["error"]
    assert hass.config_entries.async_remove_subentry(entry, car)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{car}") is None


async def test_the_planning_limit_never_lifts_the_limit_above_the_fuse(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The planning-limit number goes no higher than the fuse option, and a number saved
    before the fuse option was lowered does not lift the limit the budget keeps to."""
    entry, home = await _start(hass, freezer)
    number = hass.states.get("number.home_planning_grid_import_limit")
    assert number is not None
    assert number.attributes["max"] == LIMIT
    planner = entry.runtime_data.planner
    planner.grid_limit_w = 20000.0  # saved when the fuse option was 25 kW
    limit, source = entry.runtime_data.dispatcher.limit(dt_util.utcnow())
    assert (limit, source) == (LIMIT, "fuse")
    assert planner.import_limit_w == LIMIT
    home.commands()
    after = await _spike(hass, home, home.base_w + 1500.0)  # 12.4 kW: over the 11 kW fuse
    assert after <= LIMIT
    planner.grid_limit_w = 9000.0  # a lower planning limit does hold
    assert entry.runtime_data.dispatcher.limit(dt_util.utcnow())[0] == 9000.0
