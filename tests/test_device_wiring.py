"""Careless wiring is refused in the device forms, with a translated error, keeping the input."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_MAX_CHARGE_W,
    CONF_MAX_CURRENT_A,
    CONF_NAME,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_NUMBER,
    CONF_RUN_HOURS,
    CONF_SOC_ENTITY,
    CONF_SWITCH,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
)

from .test_device_flows import (
    BATTERY,
    CURRENT,
    EV,
    EV_SOC,
    POOL_PUMP,
    POWER_NUMBER,
    STRINGS,
    _add,
    home,  # noqa: F401  (the fixture)
)


def _translated(kind: str, key: str) -> None:
    assert key in STRINGS[kind]["error"], f"{kind}: {key} untranslated"


async def test_a_pool_pump_switch_can_belong_to_one_device_only(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """A second device on the pool pump's switch would fight the first (8 switchings in 4
    minutes): the form refuses it, then accepts another switch."""
    first = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, POOL_PUMP)
    assert first["type"] is FlowResultType.CREATE_ENTRY
    hass.states.async_set("switch.spa_pump", "off")
    second = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, {**POOL_PUMP, CONF_NAME: "Spa pump"})
    assert second["type"] is FlowResultType.FORM
    assert second["errors"] == {CONF_SWITCH: "entity_in_use"}
    _translated(SUBENTRY_INTERRUPTIBLE, "entity_in_use")
    fixed = await _add(
        hass,
        home,
        SUBENTRY_INTERRUPTIBLE,
        {**POOL_PUMP, CONF_NAME: "Spa pump", CONF_SWITCH: "switch.spa_pump"},
    )
    assert fixed["type"] is FlowResultType.CREATE_ENTRY


async def test_a_battery_cannot_use_the_cars_soc_or_its_current_number(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """The car's state of charge is the car's; the car's current number (A) is no watt
    setpoint for a battery."""
    assert (await _add(hass, home, SUBENTRY_EV, EV))["type"] is FlowResultType.CREATE_ENTRY
    result = await _add(
        hass,
        home,
        SUBENTRY_BATTERY,
        {**BATTERY, CONF_SOC_ENTITY: EV_SOC, CONF_POWER_NUMBER: CURRENT},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"][CONF_SOC_ENTITY] == "entity_in_use"
    assert result["errors"][CONF_POWER_NUMBER] in ("entity_in_use", "wrong_unit")
    _translated(SUBENTRY_BATTERY, "entity_in_use")
    hass.states.async_set("number.spare_current", "6", {"unit_of_measurement": "A"})
    result = await _add(
        hass, home, SUBENTRY_BATTERY, {**BATTERY, CONF_POWER_NUMBER: "number.spare_current"}
    )
    assert result["errors"] == {CONF_POWER_NUMBER: "wrong_unit"}


async def test_a_charger_that_could_never_stop_is_refused(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """No charging switch and a current number whose minimum is 6 A: charging could never be
    stopped. With a number that goes to 0 A the charger is accepted."""
    hass.states.async_set(CURRENT, "6", {"unit_of_measurement": "A", "min": 6, "max": 16})
    car = {k: v for k, v in EV.items() if k != CONF_CHARGE_SWITCH}
    result = await _add(hass, home, SUBENTRY_EV, car)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "charger_cannot_stop"}
    _translated(SUBENTRY_EV, "charger_cannot_stop")
    hass.states.async_set(CURRENT, "6", {"unit_of_measurement": "A", "min": 0, "max": 16})
    result = await _add(hass, home, SUBENTRY_EV, car)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_CURRENT_NUMBER in result["data"]


async def test_a_run_longer_than_its_window_is_refused(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """10 hours of running in a 2-hour window could never be met: the form says so."""
    pump = {
        **POOL_PUMP,
        CONF_RUN_HOURS: 10,
        CONF_WINDOW_START: "08:00:00",
        CONF_WINDOW_END: "10:00:00",
    }
    result = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, pump)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_RUN_HOURS: "run_longer_than_window"}
    _translated(SUBENTRY_INTERRUPTIBLE, "run_longer_than_window")
    result = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, {**pump, CONF_RUN_HOURS: 2})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_limits_beyond_the_setpoint_range_are_refused(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """A battery of 100 kW on a power number that goes to 5 kW, a car of 32 A on a current
    number that goes to 16 A: planned for what can never be asked, so refused."""
    hass.states.async_set(
        POWER_NUMBER, "0", {"unit_of_measurement": "W", "min": -5000, "max": 5000}
    )
    result = await _add(hass, home, SUBENTRY_BATTERY, {**BATTERY, CONF_MAX_CHARGE_W: 100_000})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MAX_CHARGE_W: "above_setpoint_range"}
    _translated(SUBENTRY_BATTERY, "above_setpoint_range")
    result = await _add(hass, home, SUBENTRY_BATTERY, {**BATTERY, CONF_MAX_CHARGE_W: 5000})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    hass.states.async_set(CURRENT, "6", {"unit_of_measurement": "A", "min": 0, "max": 16})
    result = await _add(hass, home, SUBENTRY_EV, {**EV, CONF_MAX_CURRENT_A: 32})
    assert result["errors"] == {CONF_MAX_CURRENT_A: "above_setpoint_range"}


async def test_a_temperature_is_no_plug(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """The car's "plugged" entity must say whether it is plugged in, not measure a
    temperature."""
    hass.states.async_set(
        "sensor.garage_temperature",
        "12",
        {"unit_of_measurement": "°C", "device_class": "temperature"},
    )
    result = await _add(
        hass, home, SUBENTRY_EV, {**EV, CONF_PLUGGED_ENTITY: "sensor.garage_temperature"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PLUGGED_ENTITY: "not_a_plug"}
    _translated(SUBENTRY_EV, "not_a_plug")
    result = await _add(hass, home, SUBENTRY_EV, EV)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_an_untouched_required_number_is_not_taken_for_a_value(
    hass: HomeAssistant,
    home: MockConfigEntry,  # noqa: F811
) -> None:
    """The frontend fills a required number with its minimum: a battery whose capacity was
    left at that 0 is refused (it was taken for a 0.1 kWh battery), then added with 10 kWh."""
    result = await _add(hass, home, SUBENTRY_BATTERY, {**BATTERY, CONF_CAPACITY_KWH: 0})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CAPACITY_KWH: "value_required"}
    _translated(SUBENTRY_BATTERY, "value_required")
    result = await _add(hass, home, SUBENTRY_BATTERY, BATTERY)
    assert result["type"] is FlowResultType.CREATE_ENTRY
