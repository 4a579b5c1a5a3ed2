"""Every error of the flows followed to the end: the user corrects the input and finishes.

The helpers and fixtures of the flow tests are reused; the fixtures are given names here that
tell apart those of different modules (`home_sources` and `grid_sources`, `device_home` and
`market_home`); the running homes are unloaded after each test, so that no timer lingers.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_BILLING_PERIOD,
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DR_CALENDAR,
    CONF_DR_KEYWORDS,
    CONF_EXPORT_PRICE_MODE,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_GENERATOR_KIND,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_LIMIT_W,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HOLIDAY_CALENDAR,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_LOAD_POWER,
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_ENABLED,
    CONF_MARKET_HOME_ID,
    CONF_MODE_SELECT,
    CONF_NAME,
    CONF_OCTOPUS_SESSIONS,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    CONF_POWER_NUMBER,
    CONF_PV_FORECAST,
    CONF_PV_POWER,
    CONF_SOC_ENTITY,
    CONF_STEP_MINUTES,
    CONF_SWITCH,
    CONF_THERMAL_ENTITY,
    CONF_WEATHER,
    DOMAIN,
    GENERATOR_PV_ARRAY,
    GENERATOR_WIND_TURBINE,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_PEER,
    SUBENTRY_THERMAL,
)

from . import test_config_flow as home_flow
from . import test_device_flows as device_flows
from . import test_grid_options as grid_options
from . import test_market_flows as market_flows
from . import test_subentry_flow as generator_flows
from .common import (
    GRID,
    PRICE,
    PV,
    home_data,
    home_options,
    make_entry,
    nordpool_attrs,
    power_attrs,
)

# -- fixtures of the other flow tests, under names of their own ------------------------------

home_sources = home_flow.sources
grid_sources = grid_options.sources
no_setup = grid_options.no_setup
running_device_home = device_flows.home
running_market_home = market_flows.home


async def _stopped(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload a running home, so that none of its debounced work outlives the test."""
    await hass.async_block_till_done()
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def device_home(
    hass: HomeAssistant, running_device_home: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The running home of the device tests, unloaded after the test."""
    yield running_device_home
    await _stopped(hass, running_device_home)


@pytest.fixture
async def market_home(
    hass: HomeAssistant, running_market_home: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The running home "Lime Cottage" of the market tests, unloaded after the test."""
    yield running_market_home
    await _stopped(hass, running_market_home)


SIGNED = {CONF_GRID_POWER: GRID, CONF_GRID_SIGN: "import_positive"}
SEPARATE = {
    CONF_GRID_IMPORT_POWER: "sensor.grid_import",
    CONF_GRID_EXPORT_POWER: "sensor.grid_export",
}
PRICES = {CONF_IMPORT_PRICE_ENTITY: PRICE, CONF_EXPORT_PRICE_SCHEDULE: "0.08"}
SOURCES = {CONF_PV_POWER: PV, CONF_BATTERY_SIGN: "discharge_positive"}
LIMITS = {CONF_GRID_LIMIT_W: 11000, CONF_STEP_MINUTES: "15", CONF_HORIZON_HOURS: 24}
PRICE_LIST = [0.2 + h / 100 for h in range(24)]


async def _submit(hass: HomeAssistant, result: Any, step_id: str, values: dict[str, Any]) -> Any:
    """Fill in the form `step_id` the flow shows now."""
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step_id
    return await hass.config_entries.flow.async_configure(result["flow_id"], values)


def _suggested(result: Any) -> dict[str, Any]:
    """The values a form is filled in with."""
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


def _same(shown: Any, typed: Any) -> bool:
    """Whether a form shows what was typed (NaN included)."""
    if isinstance(typed, float) and math.isnan(typed):
        return isinstance(shown, float) and math.isnan(shown)
    return bool(shown == typed)


# -- the home: sources that are down, prices read from a forecast ------------------------------


@pytest.mark.usefixtures("home_sources", "no_setup")
async def test_sources_that_are_down_are_accepted(hass: HomeAssistant) -> None:
    """Sensors that are unknown or unavailable now are accepted; they may come back later."""
    hass.states.async_set(GRID, STATE_UNKNOWN, power_attrs())
    hass.states.async_set(PRICE, STATE_UNAVAILABLE, nordpool_attrs(home_flow.DAY, PRICE_LIST))
    assert hass.states.get("sensor.battery_power").state == STATE_UNAVAILABLE
    result = await home_flow._start(hass)
    result = await _submit(hass, result, "grid", SIGNED)
    result = await _submit(hass, result, "prices", PRICES)
    result = await _submit(
        hass,
        result,
        "sources",
        {CONF_BATTERY_POWER: "sensor.battery_power", CONF_BATTERY_SIGN: "charge_positive"},
    )
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == GRID
    assert result["data"][CONF_GRID_POWER] == GRID
    assert result["data"][CONF_IMPORT_PRICE_ENTITY] == PRICE
    assert result["data"][CONF_BATTERY_POWER] == "sensor.battery_power"
    assert result["data"][CONF_BATTERY_SIGN] == "charge_positive"


@pytest.mark.usefixtures("home_sources", "no_setup")
async def test_price_sensor_without_price_unit_but_with_forecast(hass: HomeAssistant) -> None:
    """A sensor in no price unit is refused, unless its attributes carry the prices."""
    spot = "sensor.spot_price"
    attrs = nordpool_attrs(home_flow.DAY, PRICE_LIST) | {"unit_of_measurement": "EUR"}
    hass.states.async_set(spot, "0.25", attrs)
    result = await home_flow._to_prices(hass)
    result = await _submit(
        hass,
        result,
        "prices",
        {CONF_IMPORT_PRICE_ENTITY: "sensor.temperature", CONF_EXPORT_PRICE_SCHEDULE: "0"},
    )
    assert result["errors"] == {CONF_IMPORT_PRICE_ENTITY: "wrong_price_unit"}
    result = await _submit(
        hass, result, "prices", {CONF_IMPORT_PRICE_ENTITY: spot, CONF_EXPORT_PRICE_SCHEDULE: "0"}
    )
    result = await _submit(hass, result, "sources", SOURCES)
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_IMPORT_PRICE_ENTITY] == spot


# -- the home: each error of each step, then the corrected step and the home created ----------


@pytest.mark.usefixtures("home_sources", "no_setup")
async def test_name_error_then_home_created(hass: HomeAssistant) -> None:
    """A name already taken is refused, what was typed stays, and another name creates the home."""
    make_entry(hass, home_data(**{CONF_GRID_POWER: "sensor.other_grid"}))
    result = await home_flow._start(hass, **{CONF_NAME: "HOME", CONF_GRID_MODE: "separate"})
    assert result["errors"] == {CONF_NAME: "name_exists"}
    assert _suggested(result)[CONF_NAME] == "HOME"
    assert _suggested(result)[CONF_GRID_MODE] == "separate"
    result = await _submit(
        hass,
        result,
        "user",
        {
            CONF_NAME: " Cottage ",
            CONF_GRID_MODE: "signed",
            CONF_IMPORT_PRICE_MODE: "entity",
            CONF_EXPORT_PRICE_MODE: "schedule",
        },
    )
    result = await _submit(hass, result, "grid", SIGNED)
    result = await _submit(hass, result, "prices", PRICES)
    result = await _submit(hass, result, "sources", SOURCES)
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Cottage"
    assert result["data"][CONF_NAME] == "Cottage"


@pytest.mark.usefixtures("home_sources", "no_setup")
@pytest.mark.parametrize(
    ("mode", "bad", "errors", "good"),
    [
        (
            "signed",
            {CONF_GRID_POWER: "sensor.nope", CONF_GRID_SIGN: "import_positive"},
            {CONF_GRID_POWER: "entity_missing"},
            SIGNED,
        ),
        (
            "signed",
            {CONF_GRID_POWER: "sensor.energy_today", CONF_GRID_SIGN: "import_positive"},
            {CONF_GRID_POWER: "wrong_power_unit"},
            SIGNED,
        ),
        (
            "signed",
            {CONF_GRID_POWER: "sensor.text", CONF_GRID_SIGN: "import_positive"},
            {CONF_GRID_POWER: "not_numeric"},
            SIGNED,
        ),
        (
            "separate",
            {
                CONF_GRID_IMPORT_POWER: "sensor.grid_import",
                CONF_GRID_EXPORT_POWER: "sensor.grid_import",
            },
            {CONF_GRID_EXPORT_POWER: "same_entity"},
            SEPARATE,
        ),
        (
            "separate",
            {CONF_GRID_IMPORT_POWER: "sensor.gone", CONF_GRID_EXPORT_POWER: "sensor.text"},
            {CONF_GRID_IMPORT_POWER: "entity_missing", CONF_GRID_EXPORT_POWER: "not_numeric"},
            SEPARATE,
        ),
    ],
)
async def test_grid_error_then_home_created(
    hass: HomeAssistant,
    mode: str,
    bad: dict[str, str],
    errors: dict[str, str],
    good: dict[str, str],
) -> None:
    """A grid sensor that cannot serve is named; with good sensors the home is created."""
    result = await home_flow._start(hass, **{CONF_GRID_MODE: mode})
    result = await _submit(hass, result, "grid", bad)
    assert result["errors"] == errors
    assert {key: _suggested(result)[key] for key in bad} == bad  # nothing typed is lost
    result = await _submit(hass, result, "grid", good)
    result = await _submit(hass, result, "prices", PRICES)
    result = await _submit(hass, result, "sources", SOURCES)
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == next(iter(good.values()))
    assert {key: result["data"][key] for key in good} == good


@pytest.mark.usefixtures("home_sources", "no_setup")
@pytest.mark.parametrize(
    ("entity_id", "error"),
    [
        ("sensor.nope", "entity_missing"),
        ("sensor.temperature", "wrong_price_unit"),
        ("sensor.price_text", "not_numeric"),
    ],
)
async def test_price_error_then_home_created(
    hass: HomeAssistant, entity_id: str, error: str
) -> None:
    """A price sensor that cannot serve is named; with a good one the home is created."""
    hass.states.async_set("sensor.price_text", "cheap", {"unit_of_measurement": "EUR/kWh"})
    result = await home_flow._to_prices(hass)
    result = await _submit(
        hass,
        result,
        "prices",
        {CONF_IMPORT_PRICE_ENTITY: entity_id, CONF_EXPORT_PRICE_SCHEDULE: "0.08"},
    )
    assert result["errors"] == {CONF_IMPORT_PRICE_ENTITY: error}
    assert _suggested(result)[CONF_IMPORT_PRICE_ENTITY] == entity_id
    result = await _submit(hass, result, "prices", PRICES)
    result = await _submit(hass, result, "sources", SOURCES)
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_IMPORT_PRICE_ENTITY] == PRICE
    assert result["data"][CONF_EXPORT_PRICE_SCHEDULE] == "0.08"


@pytest.mark.usefixtures("home_sources", "no_setup")
@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({CONF_PV_POWER: "sensor.energy_today"}, {CONF_PV_POWER: "wrong_power_unit"}),
        ({CONF_LOAD_POWER: "sensor.text"}, {CONF_LOAD_POWER: "not_numeric"}),
        ({CONF_BATTERY_POWER: "sensor.gone"}, {CONF_BATTERY_POWER: "entity_missing"}),
        ({CONF_PV_FORECAST: "sensor.energy_today"}, {CONF_PV_FORECAST: "forecast_unrecognised"}),
        ({CONF_PV_FORECAST: "sensor.gone"}, {CONF_PV_FORECAST: "entity_missing"}),
        ({CONF_WEATHER: "weather.gone"}, {CONF_WEATHER: "entity_missing"}),
    ],
)
async def test_sources_error_then_home_created(
    hass: HomeAssistant, values: dict[str, str], errors: dict[str, str]
) -> None:
    """An optional source that cannot serve is named; corrected, the home is created with it."""
    result = await home_flow._to_sources(hass)
    result = await _submit(hass, result, "sources", {**SOURCES, **values})
    assert result["errors"] == errors
    good = {
        CONF_PV_POWER: PV,
        CONF_PV_FORECAST: "sensor.solcast_today",
        CONF_WEATHER: "weather.home",
        CONF_LOAD_POWER: "sensor.house_load",
        CONF_BATTERY_POWER: "sensor.battery_power",
        CONF_BATTERY_SIGN: "discharge_positive",
    }
    result = await _submit(hass, result, "sources", good)
    result = await _submit(hass, result, "limits", LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {key: result["data"][key] for key in good} == good


# -- reconfiguring a home onto one signed sensor ------------------------------------------------


@pytest.mark.usefixtures("home_sources", "no_setup")
async def test_reconfigure_to_signed_sensor_after_errors(hass: HomeAssistant) -> None:
    """A home on two sensors moves to one signed meter, past a taken name and a taken sensor."""
    make_entry(hass, home_data(**{CONF_NAME: "Other"}))  # on GRID
    hass.states.async_set("sensor.meter", "-300", power_attrs())
    data = home_data(
        **{
            CONF_GRID_MODE: "separate",
            CONF_GRID_POWER: None,
            CONF_GRID_SIGN: None,
            **SEPARATE,
        }
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=data,
        options=home_options(),
        unique_id="sensor.grid_import",
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    user = {
        CONF_NAME: "other",
        CONF_GRID_MODE: "signed",
        CONF_IMPORT_PRICE_MODE: "entity",
        CONF_EXPORT_PRICE_MODE: "schedule",
    }
    result = await _submit(hass, result, "user", user)
    assert result["errors"] == {CONF_NAME: "name_exists"}
    assert _suggested(result)[CONF_NAME] == "other"
    result = await _submit(hass, result, "user", user | {CONF_NAME: "Home"})
    result = await _submit(hass, result, "grid", SIGNED)
    assert result["errors"] == {"base": "grid_in_use"}
    result = await _submit(
        hass, result, "grid", {CONF_GRID_POWER: "sensor.meter", CONF_GRID_SIGN: "export_positive"}
    )
    assert _suggested(result)[CONF_IMPORT_PRICE_ENTITY] == PRICE  # the current price sensor
    result = await _submit(hass, result, "prices", PRICES)
    result = await _submit(hass, result, "sources", SOURCES)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == "sensor.meter"
    assert entry.title == "Home"
    assert entry.data[CONF_GRID_MODE] == "signed"
    assert entry.data[CONF_GRID_POWER] == "sensor.meter"
    assert entry.data[CONF_GRID_SIGN] == "export_positive"
    assert CONF_GRID_IMPORT_POWER not in entry.data
    assert CONF_GRID_EXPORT_POWER not in entry.data
    assert entry.options == home_options()  # untouched


# -- the options: grid group and limits --------------------------------------------------------


@pytest.mark.usefixtures("grid_sources", "no_setup")
@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({CONF_CARBON_ENTITY: "sensor.gone"}, CONF_CARBON_ENTITY, "entity_missing"),
        ({CONF_CARBON_ENTITY: "sensor.text"}, CONF_CARBON_ENTITY, "carbon_not_numeric"),
        ({CONF_DR_KEYWORDS: " , ,"}, CONF_DR_KEYWORDS, "keywords_required"),
        (
            {CONF_HOLIDAY_CALENDAR: grid_options.CALENDAR},
            CONF_HOLIDAY_CALENDAR,
            "same_calendar",
        ),
        ({CONF_DR_CALENDAR: "calendar.gone"}, CONF_DR_CALENDAR, "entity_missing"),
        ({CONF_HOLIDAY_CALENDAR: "calendar.gone"}, CONF_HOLIDAY_CALENDAR, "entity_missing"),
        ({CONF_OCTOPUS_SESSIONS: "event.doorbell"}, CONF_OCTOPUS_SESSIONS, "octopus_not_sessions"),
        ({CONF_OCTOPUS_SESSIONS: "event.gone"}, CONF_OCTOPUS_SESSIONS, "entity_missing"),
        # the selectors refuse negative numbers but let "not a number" through
        ({CONF_DEMAND_CHARGE_PER_KW: math.nan}, CONF_DEMAND_CHARGE_PER_KW, "negative_price"),
        ({CONF_CARBON_PRICE: math.nan}, CONF_CARBON_PRICE, "negative_price"),
    ],
)
async def test_grid_options_error_then_saved(
    hass: HomeAssistant, changes: dict[str, Any], field: str, error: str
) -> None:
    """A bad grid option is named on its field; corrected, every option is saved."""
    hass.states.async_set("event.doorbell", "unknown", {"event_types": ["ring"]})
    hass.states.async_set("sensor.text", "windy")
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    before = dict(entry.options)
    result = await grid_options._grid_form(hass, entry.entry_id)
    typed = {**grid_options.FULL, **changes}
    result = await hass.config_entries.options.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert _same(_suggested(result)[field], typed[field])
    assert entry.options == before
    result = await hass.config_entries.options.async_configure(result["flow_id"], grid_options.FULL)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == before | {
        CONF_DEMAND_CHARGE_PER_KW: 12.5,
        CONF_BILLING_PERIOD: "day",
        CONF_CARBON_ENTITY: grid_options.CARBON,
        CONF_CARBON_PRICE: 0.08,
        CONF_DR_CALENDAR: grid_options.CALENDAR,
        CONF_DR_KEYWORDS: "Peak event, flex",
        CONF_OCTOPUS_SESSIONS: grid_options.OCTOPUS,
        CONF_HOLIDAY_CALENDAR: grid_options.HOLIDAYS,
    }


@pytest.mark.usefixtures("grid_sources", "no_setup")
async def test_carbon_sensor_read_from_its_forecast(hass: HomeAssistant) -> None:
    """A carbon sensor whose state is no number is accepted when its attributes hold a forecast."""
    forecast = [
        {"datetime": "2026-11-21T12:00:00+01:00", "value": 210},
        {"datetime": "2026-11-21T13:00:00+01:00", "value": 190},
    ]
    hass.states.async_set(
        "sensor.co2_forecast",
        STATE_UNKNOWN,
        {"unit_of_measurement": "gCO2eq/kWh", "forecast": forecast},
    )
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    result = await grid_options._grid_form(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CARBON_ENTITY: "sensor.co2_forecast", CONF_CARBON_PRICE: 0.1}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CARBON_ENTITY] == "sensor.co2_forecast"
    assert entry.options[CONF_CARBON_PRICE] == 0.1


@pytest.mark.usefixtures("no_setup")
async def test_limits_of_a_home_without_planning_step(hass: HomeAssistant) -> None:
    """A home whose options lack the planning step shows the default step and saves the chosen."""
    entry = make_entry(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_GRID_LIMIT_W: 17000})
    await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "limits"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "limits"
    suggested = _suggested(result)
    assert suggested[CONF_GRID_LIMIT_W] == 17000
    assert suggested[CONF_STEP_MINUTES] is None
    keys = {str(key): key for key in result["data_schema"].schema}
    assert keys[CONF_STEP_MINUTES].default() == "15"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_GRID_LIMIT_W: 17000, CONF_STEP_MINUTES: "30", CONF_HORIZON_HOURS: 24},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_GRID_LIMIT_W: 17000,
        CONF_STEP_MINUTES: 30,
        CONF_HORIZON_HOURS: 24,
    }


# -- devices and generators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("controls", "errors"),
    [
        ({}, {"base": "no_battery_control"}),
        ({CONF_MODE_SELECT: device_flows.MODE_SELECT}, {"base": "options_required"}),
        (
            {
                CONF_MODE_SELECT: device_flows.MODE_SELECT,
                CONF_OPTION_CHARGE: "charge",
                CONF_OPTION_DISCHARGE: "auto",
                CONF_OPTION_IDLE: "hold",
            },
            {CONF_OPTION_CHARGE: "unknown_option"},
        ),
        (
            {CONF_MODE_SELECT: "select.gone", CONF_OPTION_CHARGE: "x"},
            {CONF_MODE_SELECT: "entity_missing"},
        ),
        (
            {
                CONF_POWER_NUMBER: device_flows.POWER_NUMBER,
                CONF_MODE_SELECT: device_flows.MODE_SELECT,
                CONF_OPTION_IDLE: "standby",
            },
            {CONF_OPTION_IDLE: "unknown_option"},
        ),
    ],
)
async def test_battery_controls_error_then_added(
    hass: HomeAssistant,
    device_home: MockConfigEntry,
    controls: dict[str, str],
    errors: dict[str, str],
) -> None:
    """A battery the plan cannot control is refused; with a select and its options it is added."""
    form = {k: v for k, v in device_flows.BATTERY.items() if k != CONF_POWER_NUMBER}
    result = await device_flows._add(hass, device_home, SUBENTRY_BATTERY, form | controls)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    fixed = {
        CONF_MODE_SELECT: device_flows.MODE_SELECT,
        CONF_OPTION_CHARGE: "force_charge",
        CONF_OPTION_DISCHARGE: "auto",
        CONF_OPTION_IDLE: "hold",
    }
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], form | fixed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Battery"
    assert {key: result["data"][key] for key in fixed} == fixed
    assert CONF_POWER_NUMBER not in result["data"]


async def test_ev_without_control_then_added(
    hass: HomeAssistant, device_home: MockConfigEntry
) -> None:
    """A charger with neither switch nor current setting is refused; with a switch it is added."""
    form = {
        k: v
        for k, v in device_flows.EV.items()
        if k not in (CONF_CHARGE_SWITCH, CONF_CURRENT_NUMBER)
    }
    result = await device_flows._add(hass, device_home, SUBENTRY_EV, form)
    assert result["errors"] == {"base": "no_charger_control"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form | {CONF_CHARGE_SWITCH: device_flows.CHARGING}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CHARGE_SWITCH] == device_flows.CHARGING
    assert CONF_CURRENT_NUMBER not in result["data"]


@pytest.mark.parametrize(
    ("kind", "form", "field", "entity_id"),
    [
        (SUBENTRY_BATTERY, device_flows.BATTERY, CONF_SOC_ENTITY, "number.battery_soc"),
        (SUBENTRY_APPLIANCE, device_flows.APPLIANCE, CONF_SWITCH, "sensor.dishwasher"),
        (SUBENTRY_THERMAL, device_flows.BOILER, CONF_THERMAL_ENTITY, "light.boiler"),
    ],
)
async def test_wrong_domain_then_added(
    hass: HomeAssistant,
    device_home: MockConfigEntry,
    *,
    kind: str,
    form: dict[str, Any],
    field: str,
    entity_id: str,
) -> None:
    """An entity of the wrong domain is refused by the form; the same form then takes a good one."""
    hass.states.async_set(entity_id, "0", {"unit_of_measurement": "%"})
    result = await device_flows._start(hass, device_home, kind)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], form | {field: entity_id}
        )
    assert set(err.value.schema_errors) == {field}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][field] == form[field]


async def test_device_name_taken_then_added(
    hass: HomeAssistant, device_home: MockConfigEntry
) -> None:
    """A device named like another is refused; renamed in the same form, it is added."""
    await device_flows._add(hass, device_home, SUBENTRY_APPLIANCE, device_flows.APPLIANCE)
    await hass.async_block_till_done()
    pump = device_flows.POOL_PUMP
    result = await device_flows._add(
        hass, device_home, SUBENTRY_INTERRUPTIBLE, pump | {CONF_NAME: "DISHWASHER"}
    )
    assert result["errors"] == {CONF_NAME: "name_exists"}
    assert device_flows._suggested(result)[CONF_NAME] == "DISHWASHER"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], pump)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert sorted(sub.title for sub in device_home.subentries.values()) == [
        "Dishwasher",
        "Pool pump",
    ]


async def test_generator_name_taken_then_added(
    hass: HomeAssistant, device_home: MockConfigEntry
) -> None:
    """A generator named like another is refused; renamed in the same form, it is added."""
    await generator_flows._add(hass, device_home, GENERATOR_PV_ARRAY, generator_flows.ROOF)
    await hass.async_block_till_done()
    mast = generator_flows.MAST
    result = await generator_flows._add(
        hass, device_home, GENERATOR_WIND_TURBINE, mast | {CONF_NAME: "south ROOF"}
    )
    assert result["errors"] == {CONF_NAME: "name_exists"}
    assert _suggested(result)[CONF_NAME] == "south ROOF"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], mast)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Mast"
    assert result["data"][CONF_GENERATOR_KIND] == GENERATOR_WIND_TURBINE
    await hass.async_block_till_done()
    assert sorted(sub.title for sub in device_home.subentries.values()) == ["Mast", "South roof"]


# -- trading: the market options and the peers --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_MARKET_COMMUNITY: ""}, {CONF_MARKET_COMMUNITY: "community_invalid"}),
        ({CONF_MARKET_COMMUNITY: "lane 7"}, {CONF_MARKET_COMMUNITY: "community_invalid"}),
        ({CONF_MARKET_HOME_ID: ""}, {CONF_MARKET_HOME_ID: "home_id_invalid"}),
        ({CONF_MARKET_HOME_ID: "anna"}, {CONF_MARKET_HOME_ID: "home_id_is_peer"}),
    ],
)
async def test_market_error_then_trading_on(
    hass: HomeAssistant,
    market_home: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A bad community or home id is named; corrected, trading is switched on and saved."""
    hass.config_entries.async_add_subentry(
        market_home, market_flows._peer_subentry("Anna", "anna", market_flows.ANNA_KEY)
    )
    await hass.async_block_till_done()
    result = await market_flows._market_form(hass, market_home)
    typed = market_flows._market(**changes)
    result = await hass.config_entries.options.async_configure(result["flow_id"], typed)
    assert result["errors"] == errors
    assert _suggested(result) == typed  # nothing typed is lost
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], market_flows._market()
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert market_home.options[CONF_MARKET_ENABLED] is True
    assert market_home.options[CONF_MARKET_COMMUNITY] == "lane-7"
    assert market_home.options[CONF_MARKET_HOME_ID] == "lime_cottage"
    assert market_home.options[CONF_GRID_LIMIT_W] == 11000


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_NAME: "  "}, {CONF_NAME: "name_empty"}),
        ({CONF_PEER_HOME_ID: "an na"}, {CONF_PEER_HOME_ID: "home_id_invalid"}),
        ({CONF_PEER_HOME_ID: "lime_cottage"}, {CONF_PEER_HOME_ID: "home_id_own"}),
        ({CONF_PEER_PUBLIC_KEY: "not a key"}, {CONF_PEER_PUBLIC_KEY: "public_key_invalid"}),
    ],
)
async def test_peer_error_then_added(
    hass: HomeAssistant,
    market_home: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A peer with a bad name, id or key is named; corrected in the same form, it is added."""
    result = await market_flows._add_peer(hass, market_home, market_flows._peer(**changes))
    assert result["errors"] == errors
    assert _suggested(result) == market_flows._peer(**changes)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], market_flows._peer()
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Anna"
    assert result["data"] == {
        CONF_PEER_HOME_ID: "anna",
        CONF_PEER_PUBLIC_KEY: market_flows.ANNA_KEY,
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_PEER_HOME_ID: "anna2"}, {CONF_NAME: "name_exists"}),
        ({CONF_NAME: "Ben"}, {CONF_PEER_HOME_ID: "home_id_exists"}),
    ],
)
async def test_peer_taken_then_added(
    hass: HomeAssistant,
    market_home: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A second peer with Anna's name or id is refused; given its own, it is added."""
    result = await market_flows._add_peer(hass, market_home, market_flows._peer())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    result = await market_flows._add_peer(hass, market_home, market_flows._peer(**changes))
    assert result["errors"] == errors
    ben = market_flows._peer(
        **{
            CONF_NAME: "Ben",
            CONF_PEER_HOME_ID: "ben",
            CONF_PEER_PUBLIC_KEY: market_flows.BEN_KEY,
        }
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], ben)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    peers = {
        sub.title: sub.data[CONF_PEER_HOME_ID]
        for sub in market_home.subentries.values()
        if sub.subentry_type == SUBENTRY_PEER
    }
    assert peers == {"Anna": "anna", "Ben": "ben"}
