"""Every path of the home's config, options and reconfigure flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.energy_collective.const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_EXPORT_PRICE_MODE,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_LIMIT_W,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_KEEP_STATE_ON_UNLOAD,
    CONF_LOAD_POWER,
    CONF_NAME,
    CONF_PV_FORECAST,
    CONF_PV_POWER,
    CONF_STEP_MINUTES,
    CONF_WEATHER,
    DOMAIN,
)

from .common import GRID, PRICE, PV, home_data, make_entry, nordpool_attrs, power_attrs

DAY = datetime(2026, 11, 21, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture(autouse=True)
def no_setup() -> Any:
    """The flows are tested alone: creating an entry does not start the agents."""
    with (
        patch("custom_components.energy_collective.async_setup_entry", return_value=True) as mocked,
        patch("custom_components.energy_collective.async_unload_entry", return_value=True),
    ):
        yield mocked


@pytest.fixture
def sources(hass: HomeAssistant) -> None:
    """The entities a typical home has."""
    hass.states.async_set(GRID, "1200", power_attrs())
    hass.states.async_set("sensor.grid_import", "1.2", power_attrs("kW"))
    hass.states.async_set("sensor.grid_export", "0", power_attrs("kW"))
    hass.states.async_set(PV, "3400", power_attrs())
    hass.states.async_set("sensor.house_load", "800", power_attrs())
    hass.states.async_set("sensor.battery_power", "unavailable", power_attrs())
    hass.states.async_set(PRICE, "0.25", nordpool_attrs(DAY, [0.2 + h / 100 for h in range(24)]))
    hass.states.async_set("sensor.export_price", "7.5", {"unit_of_measurement": "c/kWh"})
    hass.states.async_set("sensor.energy_today", "12.5", {"unit_of_measurement": "kWh"})
    hass.states.async_set("sensor.text", "on", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.temperature", "21", {"unit_of_measurement": "°C"})
    hass.states.async_set(
        "sensor.solcast_today",
        "21.3",
        {
            "unit_of_measurement": "kWh",
            "detailedForecast": [
                {
                    "period_start": "2026-11-21T12:00:00+01:00",
                    "pv_estimate": 2.5,
                    "pv_estimate10": 1.0,
                    "pv_estimate90": 3.0,
                },
                {
                    "period_start": "2026-11-21T12:30:00+01:00",
                    "pv_estimate": 2.0,
                    "pv_estimate10": 1.0,
                    "pv_estimate90": 3.0,
                },
            ],
        },
    )
    hass.states.async_set("weather.home", "sunny", {})


async def _start(hass: HomeAssistant, **user: Any) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    values = {
        CONF_NAME: "Home",
        CONF_GRID_MODE: "signed",
        CONF_IMPORT_PRICE_MODE: "entity",
        CONF_EXPORT_PRICE_MODE: "schedule",
    }
    values.update(user)
    return await hass.config_entries.flow.async_configure(result["flow_id"], values)  # type: ignore[return-value]


async def _configure(hass: HomeAssistant, result: dict[str, Any], values: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(result["flow_id"], values)


@pytest.mark.usefixtures("sources")
async def test_full_flow_signed_grid(hass: HomeAssistant) -> None:
    """A user picks one signed grid sensor, Nord Pool prices and a flat export price."""
    result = await _start(hass)
    assert result["step_id"] == "grid"
    result = await _configure(
        hass, result, {CONF_GRID_POWER: GRID, CONF_GRID_SIGN: "export_positive"}
    )
    assert result["step_id"] == "prices"
    result = await _configure(
        hass, result, {CONF_IMPORT_PRICE_ENTITY: PRICE, CONF_EXPORT_PRICE_SCHEDULE: "0.08"}
    )
    assert result["step_id"] == "sources"
    result = await _configure(
        hass,
        result,
        {
            CONF_PV_POWER: PV,
            CONF_PV_FORECAST: "sensor.solcast_today",
            CONF_WEATHER: "weather.home",
            CONF_BATTERY_SIGN: "discharge_positive",
        },
    )
    assert result["step_id"] == "limits"
    result = await _configure(
        hass,
        result,
        {CONF_GRID_LIMIT_W: 17250.0, CONF_STEP_MINUTES: "30", CONF_HORIZON_HOURS: 36.0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    entry = result["result"]
    assert entry.unique_id == GRID
    assert entry.data[CONF_GRID_SIGN] == "export_positive"
    assert entry.data[CONF_PV_FORECAST] == "sensor.solcast_today"
    assert CONF_LOAD_POWER not in entry.data
    assert entry.options == {
        CONF_GRID_LIMIT_W: 17250,
        CONF_STEP_MINUTES: 30,
        CONF_HORIZON_HOURS: 36,
    }


@pytest.mark.usefixtures("sources")
async def test_full_flow_separate_sensors_and_schedule(hass: HomeAssistant) -> None:
    """Import/export sensors in kW, a time-of-use import schedule and an export price sensor."""
    result = await _start(
        hass,
        **{
            CONF_GRID_MODE: "separate",
            CONF_IMPORT_PRICE_MODE: "schedule",
            CONF_EXPORT_PRICE_MODE: "entity",
        },
    )
    result = await _configure(
        hass,
        result,
        {
            CONF_GRID_IMPORT_POWER: "sensor.grid_import",
            CONF_GRID_EXPORT_POWER: "sensor.grid_export",
        },
    )
    assert result["step_id"] == "prices"
    schedule = "all 00:00 0.21\njun-sep weekday 16:00 0.54, 21:00 0.21"
    result = await _configure(
        hass,
        result,
        {CONF_IMPORT_PRICE_SCHEDULE: schedule, CONF_EXPORT_PRICE_ENTITY: "sensor.export_price"},
    )
    result = await _configure(
        hass, result, {CONF_LOAD_POWER: "sensor.house_load", CONF_BATTERY_SIGN: "charge_positive"}
    )
    result = await _configure(
        hass, result, {CONF_GRID_LIMIT_W: 11000, CONF_STEP_MINUTES: "15", CONF_HORIZON_HOURS: 24}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "sensor.grid_import"
    assert result["data"][CONF_IMPORT_PRICE_SCHEDULE] == schedule
    assert result["data"][CONF_EXPORT_PRICE_ENTITY] == "sensor.export_price"


@pytest.mark.usefixtures("sources")
@pytest.mark.parametrize(
    ("name", "error"),
    [("   ", "name_empty"), ("home", "name_exists")],
)
async def test_user_step_name_errors(hass: HomeAssistant, name: str, error: str) -> None:
    """An empty name or the name of an existing home is refused; the user can fix it."""
    make_entry(hass, home_data(**{CONF_GRID_POWER: "sensor.other_grid"}))
    result = await _start(hass, **{CONF_NAME: name})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: error}
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Cottage",
            CONF_GRID_MODE: "signed",
            CONF_IMPORT_PRICE_MODE: "entity",
            CONF_EXPORT_PRICE_MODE: "schedule",
        },
    )
    assert result["step_id"] == "grid"


@pytest.mark.usefixtures("sources")
@pytest.mark.parametrize(
    ("entity_id", "error"),
    [
        ("sensor.nope", "entity_missing"),
        ("sensor.energy_today", "wrong_power_unit"),
        ("sensor.text", "not_numeric"),
    ],
)
async def test_grid_step_errors(hass: HomeAssistant, entity_id: str, error: str) -> None:
    """A missing entity, a non-power unit or a non-numeric state gets a translated error."""
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_GRID_POWER: entity_id, CONF_GRID_SIGN: "import_positive"}
    )
    assert result["step_id"] == "grid"
    assert result["errors"] == {CONF_GRID_POWER: error}


@pytest.mark.usefixtures("sources")
async def test_separate_sensors_must_differ(hass: HomeAssistant) -> None:
    """Import and export cannot be the same sensor."""
    result = await _start(hass, **{CONF_GRID_MODE: "separate"})
    result = await _configure(
        hass,
        result,
        {
            CONF_GRID_IMPORT_POWER: "sensor.grid_import",
            CONF_GRID_EXPORT_POWER: "sensor.grid_import",
        },
    )
    assert result["errors"] == {CONF_GRID_EXPORT_POWER: "same_entity"}


@pytest.mark.usefixtures("sources")
async def test_same_grid_sensor_aborts(hass: HomeAssistant) -> None:
    """One entry per home: a second home on the same grid sensor is not created."""
    make_entry(hass, home_data(**{CONF_NAME: "Old"}))
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_GRID_POWER: GRID, CONF_GRID_SIGN: "import_positive"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def _to_prices(hass: HomeAssistant, **user: Any) -> Any:
    result = await _start(hass, **user)
    return await _configure(
        hass, result, {CONF_GRID_POWER: GRID, CONF_GRID_SIGN: "import_positive"}
    )


@pytest.mark.usefixtures("sources")
@pytest.mark.parametrize(
    ("entity_id", "error"),
    [
        ("sensor.nope", "entity_missing"),
        ("sensor.temperature", "wrong_price_unit"),
    ],
)
async def test_price_entity_errors(hass: HomeAssistant, entity_id: str, error: str) -> None:
    """A price sensor must exist and be in a price unit (or carry a readable forecast)."""
    result = await _to_prices(hass)
    result = await _configure(
        hass, result, {CONF_IMPORT_PRICE_ENTITY: entity_id, CONF_EXPORT_PRICE_SCHEDULE: "0"}
    )
    assert result["step_id"] == "prices"
    assert result["errors"] == {CONF_IMPORT_PRICE_ENTITY: error}


@pytest.mark.usefixtures("sources")
async def test_price_entity_non_numeric(hass: HomeAssistant) -> None:
    """A price sensor whose state is text is refused."""
    hass.states.async_set("sensor.price_text", "cheap", {"unit_of_measurement": "EUR/kWh"})
    result = await _to_prices(hass)
    result = await _configure(
        hass,
        result,
        {CONF_IMPORT_PRICE_ENTITY: "sensor.price_text", CONF_EXPORT_PRICE_SCHEDULE: "0"},
    )
    assert result["errors"] == {CONF_IMPORT_PRICE_ENTITY: "not_numeric"}


@pytest.mark.usefixtures("sources")
async def test_core_nordpool_entity_without_unit_is_accepted(hass: HomeAssistant) -> None:
    """The core Nord Pool sensors are read through their action, whatever their unit says."""
    er.async_get(hass).async_get_or_create(
        "sensor", "nordpool", "se3_price", suggested_object_id="se3_price"
    )
    hass.states.async_set("sensor.se3_price", "1.23", {"unit_of_measurement": "SEK/kWhh"})
    result = await _to_prices(hass)
    result = await _configure(
        hass,
        result,
        {CONF_IMPORT_PRICE_ENTITY: "sensor.se3_price", CONF_EXPORT_PRICE_SCHEDULE: "0"},
    )
    assert result["step_id"] == "sources"


@pytest.mark.usefixtures("sources")
async def test_schedule_errors_name_the_line(hass: HomeAssistant) -> None:
    """A bad schedule is refused with the line that is wrong, and nothing typed is lost."""
    result = await _to_prices(hass, **{CONF_IMPORT_PRICE_MODE: "schedule"})
    bad = "all 00:00 0.21\nweekday 07:00 abc"
    result = await _configure(
        hass, result, {CONF_IMPORT_PRICE_SCHEDULE: bad, CONF_EXPORT_PRICE_SCHEDULE: "0.05"}
    )
    assert result["step_id"] == "prices"
    assert result["errors"] == {CONF_IMPORT_PRICE_SCHEDULE: "schedule_price"}
    assert result["description_placeholders"]["line"] == "2"
    # what the user typed is offered again
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    suggested = schema_keys[CONF_IMPORT_PRICE_SCHEDULE].description["suggested_value"]
    assert suggested == bad
    result = await _configure(
        hass,
        result,
        {CONF_IMPORT_PRICE_SCHEDULE: "all 00:00 0.21", CONF_EXPORT_PRICE_SCHEDULE: "0.05"},
    )
    assert result["step_id"] == "sources"


async def _to_sources(hass: HomeAssistant) -> Any:
    result = await _to_prices(hass)
    return await _configure(
        hass, result, {CONF_IMPORT_PRICE_ENTITY: PRICE, CONF_EXPORT_PRICE_SCHEDULE: "0"}
    )


@pytest.mark.usefixtures("sources")
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
async def test_sources_errors(
    hass: HomeAssistant, values: dict[str, str], errors: dict[str, str]
) -> None:
    """Optional sources are checked like the grid sensors."""
    result = await _to_sources(hass)
    result = await _configure(hass, result, {CONF_BATTERY_SIGN: "discharge_positive", **values})
    assert result["step_id"] == "sources"
    assert result["errors"] == errors


@pytest.mark.usefixtures("sources")
async def test_forecast_solar_entity_is_accepted(hass: HomeAssistant) -> None:
    """Forecast.Solar publishes its forecast to the energy platform, not in attributes."""
    er.async_get(hass).async_get_or_create(
        "sensor", "forecast_solar", "energy_today", suggested_object_id="fs_energy_today"
    )
    hass.states.async_set("sensor.fs_energy_today", "10.1", {"unit_of_measurement": "kWh"})
    result = await _to_sources(hass)
    result = await _configure(
        hass,
        result,
        {CONF_PV_FORECAST: "sensor.fs_energy_today", CONF_BATTERY_SIGN: "discharge_positive"},
    )
    assert result["step_id"] == "limits"


@pytest.mark.usefixtures("sources")
async def test_options_flow_changes_limits(hass: HomeAssistant, no_setup: Any) -> None:
    """The limits can be changed later; the home reloads with them."""
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "limits" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "limits"}
    )
    assert result["type"] is FlowResultType.FORM
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    assert schema_keys[CONF_STEP_MINUTES].description["suggested_value"] == "15"
    calls_before = no_setup.call_count
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_GRID_LIMIT_W: 9000.0, CONF_STEP_MINUTES: "5", CONF_HORIZON_HOURS: 48.0},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_GRID_LIMIT_W: 9000, CONF_STEP_MINUTES: 5, CONF_HORIZON_HOURS: 48}
    assert no_setup.call_count == calls_before + 1  # reloaded


@pytest.mark.usefixtures("sources")
async def test_reconfigure_changes_sources(hass: HomeAssistant) -> None:
    """Reconfigure walks the same steps with the current values and updates the entry."""
    entry = make_entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "user"
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    assert schema_keys[CONF_NAME].description["suggested_value"] == "Home"
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Home",
            CONF_GRID_MODE: "separate",
            CONF_IMPORT_PRICE_MODE: "entity",
            CONF_EXPORT_PRICE_MODE: "entity",
        },
    )
    result = await _configure(
        hass,
        result,
        {
            CONF_GRID_IMPORT_POWER: "sensor.grid_import",
            CONF_GRID_EXPORT_POWER: "sensor.grid_export",
        },
    )
    result = await _configure(
        hass,
        result,
        {CONF_IMPORT_PRICE_ENTITY: PRICE, CONF_EXPORT_PRICE_ENTITY: "sensor.export_price"},
    )
    result = await _configure(hass, result, {CONF_BATTERY_SIGN: "discharge_positive"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == "sensor.grid_import"
    assert CONF_GRID_POWER not in entry.data
    assert CONF_EXPORT_PRICE_SCHEDULE not in entry.data
    assert CONF_PV_POWER not in entry.data  # cleared by the user
    assert entry.data[CONF_EXPORT_PRICE_ENTITY] == "sensor.export_price"
    assert entry.options[CONF_STEP_MINUTES] == 15  # untouched


@pytest.mark.usefixtures("sources")
async def test_reconfigure_refuses_grid_of_other_home(hass: HomeAssistant) -> None:
    """A home cannot be moved onto the grid sensor of another home."""
    make_entry(hass, home_data(**{CONF_NAME: "Other", CONF_GRID_POWER: "sensor.grid_import"}))
    entry = make_entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await _configure(
        hass,
        result,
        {
            CONF_NAME: "Home",
            CONF_GRID_MODE: "signed",
            CONF_IMPORT_PRICE_MODE: "entity",
            CONF_EXPORT_PRICE_MODE: "schedule",
        },
    )
    result = await _configure(
        hass, result, {CONF_GRID_POWER: "sensor.grid_import", CONF_GRID_SIGN: "import_positive"}
    )
    assert result["errors"] == {"base": "grid_in_use"}


async def test_options_keep_the_devices_as_they_are_on_stop(
    hass: HomeAssistant, no_setup: Any
) -> None:
    """ "Leave devices as they are when the home stops" is saved when ticked, and gone again
    when unticked (so the home hands its devices back again)."""
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    limits = {CONF_GRID_LIMIT_W: 9000.0, CONF_STEP_MINUTES: "15", CONF_HORIZON_HOURS: 24.0}
    for keep in (True, False):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "limits"}
        )
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**limits, CONF_KEEP_STATE_ON_UNLOAD: keep}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options.get(CONF_KEEP_STATE_ON_UNLOAD, False) is keep
    assert CONF_KEEP_STATE_ON_UNLOAD not in entry.options
