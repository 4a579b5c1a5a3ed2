"""Devices of a home: batteries, EV chargers, appliances, interruptible and thermal loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_EFFICIENCY,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_DEPARTURE,
    CONF_DISCHARGE_EFFICIENCY,
    CONF_DURATION_MIN,
    CONF_EV_SOC_ENTITY,
    CONF_FINISH_BY,
    CONF_MAX_CHARGE_W,
    CONF_MAX_CURRENT_A,
    CONF_MAX_DISCHARGE_W,
    CONF_MIN_CURRENT_A,
    CONF_MODE_SELECT,
    CONF_NAME,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_ENTITY,
    CONF_POWER_NUMBER,
    CONF_POWER_W,
    CONF_RESERVE_PCT,
    CONF_RUN_HOURS,
    CONF_SOC_ENTITY,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TEMPERATURE_ENTITY,
    CONF_THERMAL_ENTITY,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_GENERATOR,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)
from custom_components.energy_collective.engine.model import EVCharger

from .common import GRID, PRICE, PV, make_entry, power_attrs

STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components" / "energy_collective" / "strings.json"
    ).read_text(encoding="utf-8")
)["config_subentries"]

SOC = "sensor.battery_soc"
POWER_NUMBER = "number.battery_power"
MODE_SELECT = "select.battery_mode"
PLUGGED = "binary_sensor.car_plugged"
EV_SOC = "sensor.car_soc"
CHARGING = "switch.car_charging"
CURRENT = "number.car_current"
DISHWASHER = "switch.dishwasher"
DISHWASHER_POWER = "sensor.dishwasher_power"
POOL = "switch.pool_pump"
HEATER = "water_heater.boiler"
WATER_TEMP = "sensor.boiler_temperature"

BATTERY = {
    CONF_NAME: "Battery",
    CONF_SOC_ENTITY: SOC,
    CONF_CAPACITY_KWH: 10,
    CONF_MAX_CHARGE_W: 5000,
    CONF_MAX_DISCHARGE_W: 4000,
    CONF_CHARGE_EFFICIENCY: 95,
    CONF_DISCHARGE_EFFICIENCY: 95,
    CONF_RESERVE_PCT: 20,
    CONF_POWER_NUMBER: POWER_NUMBER,
}
EV = {
    CONF_NAME: "Car",
    CONF_PLUGGED_ENTITY: PLUGGED,
    CONF_EV_SOC_ENTITY: EV_SOC,
    CONF_CAPACITY_KWH: 60,
    CONF_CHARGE_SWITCH: CHARGING,
    CONF_CURRENT_NUMBER: CURRENT,
    CONF_MIN_CURRENT_A: 6,
    CONF_MAX_CURRENT_A: 16,
}
APPLIANCE = {
    CONF_NAME: "Dishwasher",
    CONF_SWITCH: DISHWASHER,
    CONF_POWER_ENTITY: DISHWASHER_POWER,
    CONF_POWER_W: 1800,
    CONF_DURATION_MIN: 110,
    CONF_FINISH_BY: "06:30:00",
}
POOL_PUMP = {
    CONF_NAME: "Pool pump",
    CONF_SWITCH: POOL,
    CONF_POWER_W: 750,
    CONF_RUN_HOURS: 4,
    CONF_WINDOW_START: "08:00:00",
    CONF_WINDOW_END: "20:00:00",
}
BOILER = {
    CONF_NAME: "Boiler",
    CONF_THERMAL_ENTITY: HEATER,
    CONF_TEMPERATURE_ENTITY: WATER_TEMP,
    CONF_T_MIN: 45,
    CONF_T_MAX: 60,
}


@pytest.fixture
async def home(hass: HomeAssistant) -> MockConfigEntry:
    """A home that is set up, with the entities its devices are made of."""
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.3", {"unit_of_measurement": "EUR/kWh"})
    hass.states.async_set(SOC, "55", {"unit_of_measurement": "%", "device_class": "battery"})
    hass.states.async_set(POWER_NUMBER, "0", {"unit_of_measurement": "W", "min": -5000})
    hass.states.async_set(MODE_SELECT, "auto", {"options": ["auto", "force_charge", "hold"]})
    hass.states.async_set(PLUGGED, "on")
    hass.states.async_set(EV_SOC, "40", {"unit_of_measurement": "%"})
    hass.states.async_set(CHARGING, "off")
    hass.states.async_set(CURRENT, "6", {"unit_of_measurement": "A"})
    hass.states.async_set(DISHWASHER, "off")
    hass.states.async_set(DISHWASHER_POWER, "0", power_attrs())
    hass.states.async_set(POOL, "off")
    hass.states.async_set(HEATER, "eco")
    hass.states.async_set(WATER_TEMP, "52", {"unit_of_measurement": "°C"})
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _start(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


async def _add(hass: HomeAssistant, entry: MockConfigEntry, kind: str, data: dict[str, Any]) -> Any:
    result = await _start(hass, entry, kind)
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


async def _reconfigure(hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str) -> Any:
    kind = entry.subentries[subentry_id].subentry_type
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )


def _suggested(result: Any) -> dict[str, Any]:
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def _assert_translated(kind: str, errors: dict[str, str]) -> None:
    assert errors
    for error in errors.values():
        assert error in STRINGS[kind]["error"], (kind, error)


@pytest.mark.parametrize(
    ("kind", "form", "stored"),
    [
        (
            SUBENTRY_BATTERY,
            BATTERY,
            {
                CONF_SOC_ENTITY: SOC,
                CONF_CAPACITY_KWH: 10.0,
                CONF_MAX_CHARGE_W: 5000.0,
                CONF_MAX_DISCHARGE_W: 4000.0,
                CONF_CHARGE_EFFICIENCY: 95.0,
                CONF_DISCHARGE_EFFICIENCY: 95.0,
                CONF_RESERVE_PCT: 20.0,
                CONF_POWER_NUMBER: POWER_NUMBER,
            },
        ),
        (
            SUBENTRY_APPLIANCE,
            APPLIANCE,
            {
                CONF_SWITCH: DISHWASHER,
                CONF_POWER_ENTITY: DISHWASHER_POWER,
                CONF_POWER_W: 1800.0,
                CONF_DURATION_MIN: 110.0,
                CONF_FINISH_BY: "06:30:00",
            },
        ),
        (
            SUBENTRY_INTERRUPTIBLE,
            POOL_PUMP,
            {
                CONF_SWITCH: POOL,
                CONF_POWER_W: 750.0,
                CONF_RUN_HOURS: 4.0,
                CONF_WINDOW_START: "08:00:00",
                CONF_WINDOW_END: "20:00:00",
                "min_on_minutes": 30.0,
                "min_off_minutes": 15.0,
            },
        ),
    ],
)
async def test_add_device_reloads_the_home(
    hass: HomeAssistant,
    home: MockConfigEntry,
    kind: str,
    form: dict[str, Any],
    stored: dict[str, Any],
) -> None:
    """A valid form is stored (numbers as floats, defaults filled in) and planned after reload."""
    assert home.runtime_data.planner.configs == {}
    result = await _add(hass, home, kind, form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == form[CONF_NAME]
    await hass.async_block_till_done()
    (subentry_id, subentry) = next(iter(home.subentries.items()))
    assert subentry.subentry_type == kind
    assert dict(subentry.data) == stored
    (cfg,) = home.runtime_data.planner.configs.values()
    assert (cfg.subentry_id, cfg.kind, cfg.name) == (subentry_id, kind, form[CONF_NAME])


async def test_add_thermal_load_with_defaults(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """A water heater gets the model's defaults for the fields left out."""
    result = await _add(hass, home, SUBENTRY_THERMAL, BOILER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert (data[CONF_T_MIN], data[CONF_T_MAX], data[CONF_POWER_W], data["volume_l"]) == (
        45.0,
        60.0,
        3000.0,
        200.0,
    )
    assert data[CONF_THERMAL_ENTITY] == HEATER


@pytest.mark.parametrize(
    ("kind", "form", "changes", "errors"),
    [
        (SUBENTRY_BATTERY, BATTERY, {CONF_NAME: "  "}, {CONF_NAME: "name_empty"}),
        (
            SUBENTRY_BATTERY,
            BATTERY,
            {CONF_SOC_ENTITY: "sensor.nowhere"},
            {CONF_SOC_ENTITY: "entity_missing"},
        ),
        (
            SUBENTRY_BATTERY,
            BATTERY,
            {CONF_SOC_ENTITY: DISHWASHER_POWER},
            {CONF_SOC_ENTITY: "wrong_unit"},
        ),
        (SUBENTRY_EV, EV, {CONF_EV_SOC_ENTITY: WATER_TEMP}, {CONF_EV_SOC_ENTITY: "wrong_unit"}),
        (
            SUBENTRY_EV,
            EV,
            {CONF_MIN_CURRENT_A: 20, CONF_MAX_CURRENT_A: 16},
            {CONF_MIN_CURRENT_A: "min_above_max"},
        ),
        (
            SUBENTRY_EV,
            EV,
            {CONF_PLUGGED_ENTITY: "binary_sensor.gone"},
            {CONF_PLUGGED_ENTITY: "entity_missing"},
        ),
        (
            SUBENTRY_APPLIANCE,
            APPLIANCE,
            {CONF_POWER_ENTITY: SOC},
            {CONF_POWER_ENTITY: "wrong_unit"},
        ),
        (
            SUBENTRY_APPLIANCE,
            APPLIANCE,
            {CONF_SWITCH: "switch.gone"},
            {CONF_SWITCH: "entity_missing"},
        ),
        (SUBENTRY_INTERRUPTIBLE, POOL_PUMP, {CONF_NAME: ""}, {CONF_NAME: "name_empty"}),
        (SUBENTRY_THERMAL, BOILER, {CONF_T_MIN: 65}, {CONF_T_MIN: "min_above_max"}),
        (
            SUBENTRY_THERMAL,
            BOILER,
            {CONF_TEMPERATURE_ENTITY: SOC},
            {CONF_TEMPERATURE_ENTITY: "wrong_unit"},
        ),
    ],
)
async def test_device_form_errors(
    hass: HomeAssistant,
    home: MockConfigEntry,
    *,
    kind: str,
    form: dict[str, Any],
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each problem keeps the form open with a translated error; the fixed form is accepted."""
    result = await _add(hass, home, kind, form | changes)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    _assert_translated(kind, result["errors"])
    # what was typed is offered again
    assert _suggested(result)[CONF_NAME] == (form | changes)[CONF_NAME]
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("kind", "form", "field", "entity_id"),
    [
        (SUBENTRY_BATTERY, BATTERY, CONF_POWER_NUMBER, "switch.battery_power"),
        (SUBENTRY_BATTERY, BATTERY, CONF_SOC_ENTITY, "number.battery_soc"),
        (SUBENTRY_EV, EV, CONF_CHARGE_SWITCH, "light.car_charging"),
        (SUBENTRY_APPLIANCE, APPLIANCE, CONF_SWITCH, "sensor.dishwasher"),
        (SUBENTRY_THERMAL, BOILER, CONF_THERMAL_ENTITY, "light.boiler"),
    ],
)
async def test_wrong_domain_is_refused(
    hass: HomeAssistant,
    home: MockConfigEntry,
    *,
    kind: str,
    form: dict[str, Any],
    field: str,
    entity_id: str,
) -> None:
    """An entity of a domain the device cannot use is refused by the form itself."""
    hass.states.async_set(entity_id, "0", {"unit_of_measurement": "%"})
    result = await _start(hass, home, kind)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], form | {field: entity_id}
        )
    assert set(err.value.schema_errors) == {field}
    assert home.subentries == {}


async def test_device_names_are_unique_per_home(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Two devices cannot share a name whatever their kind or case; a generator may."""
    await _add(hass, home, SUBENTRY_APPLIANCE, APPLIANCE)
    await hass.async_block_till_done()
    result = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, POOL_PUMP | {CONF_NAME: "DISHWASHER"})
    assert result["errors"] == {CONF_NAME: "name_exists"}
    _assert_translated(SUBENTRY_INTERRUPTIBLE, result["errors"])
    # a generator of the same name is no device: the name is still free for one
    result = await hass.config_entries.subentries.async_init(
        (home.entry_id, SUBENTRY_GENERATOR), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "pv_array"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Pool pump", "kwp": 4}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    result = await _add(hass, home, SUBENTRY_INTERRUPTIBLE, POOL_PUMP)
    assert result["type"] is FlowResultType.CREATE_ENTRY


# -- the battery's controls ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("controls", "errors", "stored"),
    [
        ({}, {"base": "no_battery_control"}, None),
        (
            {CONF_MODE_SELECT: MODE_SELECT},
            {"base": "options_required"},
            None,
        ),
        (
            {
                CONF_MODE_SELECT: MODE_SELECT,
                CONF_OPTION_CHARGE: "force_charge",
                CONF_OPTION_DISCHARGE: "auto",
            },
            {"base": "options_required"},
            None,
        ),
        (
            {
                CONF_MODE_SELECT: MODE_SELECT,
                CONF_OPTION_CHARGE: "charge",
                CONF_OPTION_DISCHARGE: "auto",
                CONF_OPTION_IDLE: "hold",
            },
            {CONF_OPTION_CHARGE: "unknown_option"},
            None,
        ),
        (
            {CONF_MODE_SELECT: "select.gone", CONF_OPTION_CHARGE: "x"},
            {CONF_MODE_SELECT: "entity_missing"},
            None,
        ),
        (
            {
                CONF_MODE_SELECT: MODE_SELECT,
                CONF_OPTION_CHARGE: " force_charge ",
                CONF_OPTION_DISCHARGE: "auto",
                CONF_OPTION_IDLE: "hold",
            },
            None,
            {
                CONF_MODE_SELECT: MODE_SELECT,
                CONF_OPTION_CHARGE: "force_charge",
                CONF_OPTION_DISCHARGE: "auto",
                CONF_OPTION_IDLE: "hold",
            },
        ),
        (
            # with a setpoint the select needs no options, but those given must exist
            {CONF_POWER_NUMBER: POWER_NUMBER, CONF_MODE_SELECT: MODE_SELECT},
            None,
            {CONF_POWER_NUMBER: POWER_NUMBER, CONF_MODE_SELECT: MODE_SELECT},
        ),
        (
            {
                CONF_POWER_NUMBER: POWER_NUMBER,
                CONF_MODE_SELECT: MODE_SELECT,
                CONF_OPTION_IDLE: "standby",
            },
            {CONF_OPTION_IDLE: "unknown_option"},
            None,
        ),
    ],
)
async def test_battery_controls(
    hass: HomeAssistant,
    home: MockConfigEntry,
    controls: dict[str, str],
    errors: dict[str, str] | None,
    stored: dict[str, str] | None,
) -> None:
    """A setpoint, or a select whose options for charge, discharge and idle all exist."""
    form = {k: v for k, v in BATTERY.items() if k != CONF_POWER_NUMBER} | controls
    result = await _add(hass, home, SUBENTRY_BATTERY, form)
    if errors is not None:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        _assert_translated(SUBENTRY_BATTERY, errors)
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert stored is not None
    control_keys = (
        CONF_POWER_NUMBER,
        CONF_MODE_SELECT,
        CONF_OPTION_CHARGE,
        CONF_OPTION_DISCHARGE,
        CONF_OPTION_IDLE,
    )
    assert {k: v for k, v in result["data"].items() if k in control_keys} == stored


# -- the EV charger's controls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("controls", "stored"),
    [
        ({CONF_CHARGE_SWITCH: CHARGING}, {CONF_CHARGE_SWITCH: CHARGING}),
        ({CONF_CURRENT_NUMBER: CURRENT}, {CONF_CURRENT_NUMBER: CURRENT}),
        ({}, None),
    ],
)
async def test_ev_controls(
    hass: HomeAssistant,
    home: MockConfigEntry,
    controls: dict[str, str],
    stored: dict[str, str] | None,
) -> None:
    """A charger is switched, set by its current, or both; with neither it cannot be planned."""
    form = {k: v for k, v in EV.items() if k not in (CONF_CHARGE_SWITCH, CONF_CURRENT_NUMBER)}
    result = await _add(hass, home, SUBENTRY_EV, form | controls)
    if stored is None:
        assert result["errors"] == {"base": "no_charger_control"}
        _assert_translated(SUBENTRY_EV, result["errors"])
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {
        k: v for k, v in result["data"].items() if k in (CONF_CHARGE_SWITCH, CONF_CURRENT_NUMBER)
    } == stored
    assert result["data"][CONF_DEPARTURE] == "07:00:00"
    await hass.async_block_till_done()
    (cfg,) = home.runtime_data.planner.configs.values()
    assert cfg.kind == SUBENTRY_EV
    # a current setting lets the plan modulate from 6 A; a switch alone charges at full power
    problem, names = home.runtime_data.planner.build_problem(dt_util.utcnow())
    assert names == {cfg.subentry_id: "Car"}
    (charger,) = problem.devices
    assert isinstance(charger, EVCharger)
    assert charger.max_power_w == 16 * 3 * 230
    if CONF_CURRENT_NUMBER in controls:
        assert (charger.min_power_w, charger.power_step_w) == (6 * 3 * 230, 3 * 230)
    else:
        assert (charger.min_power_w, charger.power_step_w) == (charger.max_power_w, None)


# -- reconfiguring -----------------------------------------------------------------------------


async def test_reconfigure_battery(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """The form opens with the current values; changes are stored and the home reloads."""
    await _add(hass, home, SUBENTRY_BATTERY, BATTERY)
    await hass.async_block_till_done()
    (subentry_id,) = home.subentries
    result = await _reconfigure(hass, home, subentry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    suggested = _suggested(result)
    assert suggested[CONF_NAME] == "Battery"
    assert suggested[CONF_SOC_ENTITY] == SOC
    assert suggested[CONF_CAPACITY_KWH] == 10.0
    assert suggested[CONF_POWER_NUMBER] == POWER_NUMBER

    # an error is shown on the reconfigure step too
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], BATTERY | {CONF_SOC_ENTITY: "sensor.gone"}
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_SOC_ENTITY: "entity_missing"}

    # keeping its own name is fine; the setpoint is swapped for the select
    planner = home.runtime_data.planner
    changed = {k: v for k, v in BATTERY.items() if k != CONF_POWER_NUMBER} | {
        CONF_CAPACITY_KWH: 13.5,
        CONF_MODE_SELECT: MODE_SELECT,
        CONF_OPTION_CHARGE: "force_charge",
        CONF_OPTION_DISCHARGE: "auto",
        CONF_OPTION_IDLE: "hold",
    }
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], changed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert result["reason"] in STRINGS[SUBENTRY_BATTERY]["abort"]
    await hass.async_block_till_done()
    data = home.subentries[subentry_id].data
    assert data[CONF_CAPACITY_KWH] == 13.5
    assert CONF_POWER_NUMBER not in data
    assert data[CONF_OPTION_IDLE] == "hold"
    assert home.runtime_data.planner is not planner
    assert home.runtime_data.planner.configs[subentry_id].num(CONF_CAPACITY_KWH) == 13.5


async def test_reconfigure_renames_but_not_onto_another(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    """A device may be renamed, but not to the name of another device."""
    await _add(hass, home, SUBENTRY_THERMAL, BOILER)
    await hass.async_block_till_done()
    await _add(hass, home, SUBENTRY_APPLIANCE, APPLIANCE)
    await hass.async_block_till_done()
    boiler = next(k for k, sub in home.subentries.items() if sub.title == "Boiler")
    result = await _reconfigure(hass, home, boiler)
    assert _suggested(result)[CONF_T_MAX] == 60.0
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], BOILER | {CONF_NAME: "dishwasher"}
    )
    assert result["errors"] == {CONF_NAME: "name_exists"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], BOILER | {CONF_NAME: "Hot water", CONF_T_MAX: 70}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert home.subentries[boiler].title == "Hot water"
    assert home.subentries[boiler].data[CONF_T_MAX] == 70.0
    assert home.runtime_data.planner.configs[boiler].name == "Hot water"


@pytest.mark.parametrize(
    ("kind", "form"),
    [
        (SUBENTRY_BATTERY, BATTERY),
        (SUBENTRY_EV, EV),
        (SUBENTRY_APPLIANCE, APPLIANCE),
        (SUBENTRY_INTERRUPTIBLE, POOL_PUMP),
        (SUBENTRY_THERMAL, BOILER),
    ],
)
async def test_reconfigure_suggests_every_stored_value(
    hass: HomeAssistant, home: MockConfigEntry, kind: str, form: dict[str, Any]
) -> None:
    """Every stored value, and the name, is filled in; submitting it unchanged changes nothing."""
    result = await _add(hass, home, kind, form)
    stored = dict(result["data"])
    await hass.async_block_till_done()
    (subentry_id,) = home.subentries
    result = await _reconfigure(hass, home, subentry_id)
    assert result["step_id"] == "reconfigure"
    assert _suggested(result) == {CONF_NAME: form[CONF_NAME], **stored}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: form[CONF_NAME], **stored}
    )
    assert result["reason"] == "reconfigure_successful"
    assert dict(home.subentries[subentry_id].data) == stored
