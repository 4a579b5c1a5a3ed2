"""The data collection agent, through the entities a user sees."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, Mock
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import (
    CoreState,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_platform,
)

from custom_components.energy_collective.const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_EXPORT_PRICE_MODE,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_MODE,
    CONF_GRID_SIGN,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_LOAD_POWER,
    CONF_PV_FORECAST,
    CONF_PV_POWER,
    CONF_WEATHER,
    DOMAIN,
)

from ..common import GRID, PRICE, PV, home_data, make_entry, nordpool_attrs, power_attrs

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 10, 7, tzinfo=TZ)
MIDNIGHT = datetime(2026, 11, 21, tzinfo=TZ)
PRICES = [0.30] * 2 + [0.10, 0.12] + [0.30] * 20 + [0.25] * 24  # cheapest hour: 02:00 today

LOAD = "sensor.home_data_collection_house_load"
IMPORT = "sensor.home_data_collection_import_price"
EXPORT = "sensor.home_data_collection_export_price"
CHEAPEST = "sensor.home_data_collection_next_cheapest_hour"
QUALITY = "sensor.home_data_collection_data_quality"


@pytest.fixture
async def home(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MockConfigEntry:
    """A home with a signed grid sensor, PV, and Nord Pool prices, set up at 10:07."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "1500", power_attrs())
    hass.states.async_set(PV, "2.0", power_attrs("kW"))
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(MIDNIGHT, PRICES))
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_entities_show_the_home(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Load is derived from grid + PV (kW converted), prices and the cheapest window appear."""
    assert float(_value(hass, LOAD)) == pytest.approx(3500.0)
    assert float(_value(hass, IMPORT)) == pytest.approx(0.30)
    assert hass.states.get(IMPORT).attributes["unit_of_measurement"] == "EUR/kWh"
    assert float(_value(hass, EXPORT)) == pytest.approx(0.08)
    # the cheapest hour still ahead today is not 02:00 (past) but the first 0.25 tomorrow
    cheapest = dt_util.parse_datetime(_value(hass, CHEAPEST))
    assert cheapest == datetime(2026, 11, 22, 0, 0, tzinfo=TZ)
    assert hass.states.get(CHEAPEST).attributes["average_price"] == pytest.approx(0.25)
    assert float(_value(hass, QUALITY)) == 100.0
    snapshot = home.runtime_data.collector.data
    assert snapshot.import_prices is not None
    assert snapshot.import_prices.step == timedelta(minutes=15)
    assert len(snapshot.import_prices.values) == 96
    assert snapshot.import_prices.values[0] == pytest.approx(0.30)


async def test_state_change_refreshes_debounced(
    hass: HomeAssistant, home: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A change of a source shows within seconds, not at the next minute poll."""
    hass.states.async_set(GRID, "-500", power_attrs())
    hass.states.async_set(GRID, "-1000", power_attrs())
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(3500.0)  # debounced, not yet
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(1000.0)


async def test_bad_source_keeps_last_value_then_goes_unavailable(
    hass: HomeAssistant,
    home: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source that fails keeps its last good value until stale, logging once each way."""
    caplog.set_level(logging.INFO)
    hass.states.async_set(GRID, STATE_UNAVAILABLE, power_attrs())
    for _ in range(3):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(3500.0)
    assert float(_value(hass, QUALITY)) < 100.0
    for _ in range(9):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert _value(hass, LOAD) == STATE_UNAVAILABLE
    assert hass.states.get(QUALITY).attributes["stale_sources"] == [GRID]
    hass.states.async_set(GRID, "100", power_attrs())
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(2100.0)
    went = [
        r for r in caplog.records if GRID in r.getMessage() and "no valid value" in r.getMessage()
    ]
    back = [r for r in caplog.records if GRID in r.getMessage() and "is back" in r.getMessage()]
    assert len(went) == 1
    assert len(back) == 1


async def test_missing_entity_raises_repair_issue(
    hass: HomeAssistant, home: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A configured entity that disappears raises a repair issue, cleared when it returns."""
    hass.states.async_remove(PV)
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue_id = f"missing_entity_{home.entry_id}_{CONF_PV_POWER}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"entity_id": PV, "home": "Home"}
    hass.states.async_set(PV, "1000", power_attrs())
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_non_numeric_and_unknown_unit_are_invalid(
    hass: HomeAssistant, home: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Text states and unknown units do not become numbers."""
    hass.states.async_set(PV, "bright", power_attrs("kW"))
    hass.states.async_set(GRID, "100", power_attrs("horsepower"))
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _value(hass, LOAD) == STATE_UNAVAILABLE
    assert float(_value(hass, QUALITY)) < 100.0


async def test_nan_and_inf_are_no_reading(
    hass: HomeAssistant, home: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A meter that reports "nan" or "inf" has no value: the grid reads as unknown, not NaN."""
    collector = home.runtime_data.collector
    hass.states.async_set(GRID, "nan", power_attrs())
    reading = collector.grid_power_w(dt_util.utcnow())
    assert reading is not None
    assert math.isfinite(reading)  # the last good value is kept, not the NaN
    hass.states.async_set(GRID, "inf", power_attrs("kW"))
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert collector.grid_power_w(dt_util.utcnow()) is None
    assert _value(hass, LOAD) == STATE_UNAVAILABLE


async def test_separate_grid_sensors_battery_and_schedule(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Import minus export, plus PV, minus what the battery charges; a TOU import price."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    hass.states.async_set("sensor.imp", "0.5", power_attrs("kW"))
    hass.states.async_set("sensor.exp", "0", power_attrs("kW"))
    hass.states.async_set(PV, "3000", power_attrs())
    hass.states.async_set("sensor.batt", "1000", power_attrs())  # charging 1 kW
    data = home_data(
        **{
            CONF_GRID_MODE: "separate",
            "grid_power_entity": None,
            "grid_sign": None,
            CONF_GRID_IMPORT_POWER: "sensor.imp",
            CONF_GRID_EXPORT_POWER: "sensor.exp",
            CONF_BATTERY_POWER: "sensor.batt",
            CONF_BATTERY_SIGN: "charge_positive",
            CONF_IMPORT_PRICE_MODE: "schedule",
            CONF_IMPORT_PRICE_ENTITY: None,
            CONF_IMPORT_PRICE_SCHEDULE: "all 00:00 0.12, 08:00 0.35, 20:00 0.12",
        }
    )
    entry = make_entry(hass, data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(2500.0)
    assert float(_value(hass, IMPORT)) == pytest.approx(0.35)
    cheapest = dt_util.parse_datetime(_value(hass, CHEAPEST))
    assert cheapest == datetime(2026, 11, 21, 20, 0, tzinfo=TZ)
    hass.states.async_set("sensor.exp", "2", power_attrs("kW"))
    hass.states.async_set("sensor.imp", "0", power_attrs("kW"))
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(0.0)


async def test_load_sensor_and_export_positive_sign(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A measured load is used as it is; an export-positive grid sensor is turned round."""
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "400", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set("sensor.load", "650", power_attrs())
    hass.states.async_set(PRICE, "25", {"unit_of_measurement": "c/kWh"})
    hass.states.async_set("sensor.feed_in", "75", {"unit_of_measurement": "EUR/MWh"})
    data = home_data(
        **{
            CONF_GRID_SIGN: "export_positive",
            CONF_LOAD_POWER: "sensor.load",
            CONF_EXPORT_PRICE_MODE: "entity",
            "export_price_schedule": None,
            CONF_EXPORT_PRICE_ENTITY: "sensor.feed_in",
        }
    )
    entry = make_entry(hass, data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    snapshot = entry.runtime_data.collector.data
    assert snapshot.grid_power_w == pytest.approx(-400.0)
    assert float(_value(hass, LOAD)) == pytest.approx(650.0)
    # a price without forecast is held flat over the horizon, converted to EUR/kWh
    assert float(_value(hass, IMPORT)) == pytest.approx(0.25)
    assert float(_value(hass, EXPORT)) == pytest.approx(0.075)
    assert snapshot.import_prices is not None
    assert snapshot.import_prices.values == (pytest.approx(0.25),) * 96


async def test_core_nordpool_prices_through_the_action(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The core Nord Pool integration's prices are read with its action (EUR/MWh)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    nordpool_entry = MockConfigEntry(domain="nordpool", title="Nord Pool")
    nordpool_entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor",
        "nordpool",
        "se3_current",
        suggested_object_id="se3_price",
        config_entry=nordpool_entry,
    )
    hass.states.async_set("sensor.se3_price", "0.8", {"unit_of_measurement": "EUR/kWh"})
    calls: list[dict[str, Any]] = []

    async def get_prices(call: ServiceCall) -> ServiceResponse:
        calls.append(dict(call.data))
        day = datetime.fromisoformat(str(call.data["date"])).replace(tzinfo=TZ)
        if day.date() > NOW.date():
            return {}  # tomorrow not published yet
        return {
            "SE3": [
                {
                    "start": (day + timedelta(hours=h)).astimezone(dt_util.UTC).isoformat(),
                    "end": (day + timedelta(hours=h + 1)).astimezone(dt_util.UTC).isoformat(),
                    "price": 100.0 + h,
                }
                for h in range(24)
            ]
        }

    hass.services.async_register(
        "nordpool", "get_prices_for_date", get_prices, supports_response=SupportsResponse.ONLY
    )
    entry = make_entry(hass, home_data(**{CONF_IMPORT_PRICE_ENTITY: "sensor.se3_price"}))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    snapshot = entry.runtime_data.collector.data
    assert calls[0]["config_entry"] == nordpool_entry.entry_id
    assert snapshot.import_prices is not None
    # 10:00-11:00 costs 110 EUR/MWh = 0.110 EUR/kWh
    assert snapshot.import_prices.values[0] == pytest.approx(0.110)
    assert snapshot.import_prices.coverage() < 1.0  # tomorrow is not known yet
    # the action is not called again within half an hour
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calls) == 2


async def test_pv_forecast_from_solcast_attributes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A Solcast forecast entity gives the PV forecast series in W."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "0", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(MIDNIGHT, PRICES))
    start = datetime(2026, 11, 21, 10, 0, tzinfo=TZ)
    hass.states.async_set(
        "sensor.solcast",
        "12",
        {
            "unit_of_measurement": "kWh",
            "detailedForecast": [
                {
                    "period_start": (start + timedelta(minutes=30 * i)).isoformat(),
                    "pv_estimate": 1.0 + i,
                    "pv_estimate10": 0.5,
                    "pv_estimate90": 2.0,
                }
                for i in range(4)
            ],
        },
    )
    hass.states.async_set("weather.home", "cloudy", {})
    entry = make_entry(
        hass, home_data(**{CONF_PV_FORECAST: "sensor.solcast", CONF_WEATHER: "weather.home"})
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    forecast = entry.runtime_data.collector.data.pv_forecast_w
    assert forecast is not None
    assert forecast.values[0] == pytest.approx(1000.0)
    assert forecast.values[2] == pytest.approx(2000.0)
    assert forecast.values[8] is None


async def test_unload(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Unloading a home removes its entities' state updates."""
    assert await hass.config_entries.async_unload(home.entry_id)
    await hass.async_block_till_done()
    assert _value(hass, LOAD) == STATE_UNAVAILABLE


async def test_tibber_prices_through_the_action(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The core Tibber integration's prices are read with its action."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    tibber_entry = MockConfigEntry(domain="tibber", title="Tibber")
    tibber_entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor",
        "tibber",
        "home_price",
        suggested_object_id="tibber_price",
        config_entry=tibber_entry,
    )
    hass.states.async_set("sensor.tibber_price", "0.31", {"unit_of_measurement": "EUR/kWh"})

    async def get_prices(call: ServiceCall) -> ServiceResponse:
        return {
            "prices": {
                "Home": [
                    {
                        "start_time": (MIDNIGHT + timedelta(hours=h)).isoformat(),
                        "price": 0.2 + h / 100,
                    }
                    for h in range(48)
                ]
            }
        }

    hass.services.async_register(
        "tibber", "get_prices", get_prices, supports_response=SupportsResponse.ONLY
    )
    hass.states.async_set(GRID, "100", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    entry = make_entry(hass, home_data(**{CONF_IMPORT_PRICE_ENTITY: "sensor.tibber_price"}))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    collector = entry.runtime_data.collector
    assert collector.data.import_prices is not None
    assert collector.data.import_prices.values[0] == pytest.approx(0.30)  # 10:00
    assert collector.data.import_prices.coverage() == 1.0
    assert collector.price_formats[CONF_IMPORT_PRICE_ENTITY] == "action"


async def test_failing_action_and_no_price_at_all(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A price action that fails leaves the price unknown and the price sensor unavailable."""
    freezer.move_to(NOW)
    np_entry = MockConfigEntry(domain="nordpool", title="Nord Pool")
    np_entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor", "nordpool", "x", suggested_object_id="np", config_entry=np_entry
    )
    hass.states.async_set("sensor.np", "unknown", {"unit_of_measurement": "EUR/kWh"})

    async def broken(call: ServiceCall) -> ServiceResponse:
        raise HomeAssistantError("no data")

    hass.services.async_register(
        "nordpool", "get_prices_for_date", broken, supports_response=SupportsResponse.ONLY
    )
    hass.states.async_set(GRID, "100", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    entry = make_entry(hass, home_data(**{CONF_IMPORT_PRICE_ENTITY: "sensor.np"}))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.collector.data.import_prices is None
    assert _value(hass, IMPORT) == STATE_UNAVAILABLE
    assert _value(hass, CHEAPEST) == STATE_UNAVAILABLE
    assert hass.states.get(CHEAPEST).attributes.get("average_price") is None


async def test_forecast_solar_through_the_energy_platform(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Forecast.Solar's forecast comes from its energy platform (Wh per hour)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    fs_entry = MockConfigEntry(domain="forecast_solar", title="Roof")
    fs_entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor", "forecast_solar", "today", suggested_object_id="fs_today", config_entry=fs_entry
    )
    hass.states.async_set("sensor.fs_today", "9.1", {"unit_of_measurement": "kWh"})
    start = datetime(2026, 11, 21, 10, 0, tzinfo=TZ)
    forecast = AsyncMock(
        return_value={
            "wh_hours": {
                (start + timedelta(hours=h)).isoformat(): 1000.0 * (h + 1) for h in range(3)
            }
        }
    )
    mock_platform(hass, "forecast_solar.energy", Mock(async_get_solar_forecast=forecast))
    hass.states.async_set(GRID, "100", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(MIDNIGHT, PRICES))
    entry = make_entry(hass, home_data(**{CONF_PV_FORECAST: "sensor.fs_today"}))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    series = entry.runtime_data.collector.data.pv_forecast_w
    assert series is not None
    assert series.values[0] == pytest.approx(1000.0)  # 1000 Wh in the hour = 1000 W
    assert series.values[4] == pytest.approx(2000.0)
    forecast.assert_awaited_with(hass, fs_entry.entry_id)
    # a forecast entity that is gone gives no forecast (and a repair issue)
    hass.states.async_remove("sensor.fs_today")
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert entry.runtime_data.collector.data.pv_forecast_w is None


async def test_pv_forecast_entity_without_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A forecast entity with nothing readable and no energy platform gives no forecast."""
    freezer.move_to(NOW)
    hass.states.async_set("sensor.pv_guess", "3", {"unit_of_measurement": "kWh"})
    er.async_get(hass).async_get_or_create(
        "sensor", "energy_collective_test_nowhere", "x", suggested_object_id="pv_reg"
    )
    hass.states.async_set("sensor.pv_reg", "3", {"unit_of_measurement": "kWh"})
    hass.states.async_set(GRID, "100", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    for forecast_entity in ("sensor.pv_guess", "sensor.pv_reg"):
        entry = make_entry(
            hass,
            home_data(
                **{
                    CONF_PV_FORECAST: forecast_entity,
                    "grid_power_entity": forecast_entity + "_grid",
                }
            ),
        )
        hass.states.async_set(forecast_entity + "_grid", "100", power_attrs())
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.runtime_data.collector.data.pv_forecast_w is None


async def test_quiet_while_home_assistant_starts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Sources that load after us are not reported as broken or missing during start-up."""
    freezer.move_to(NOW)
    hass.set_state(CoreState.starting)
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    assert "no valid value" not in caplog.text
    # the sources appear, Home Assistant is up: nothing was ever wrong
    hass.states.async_set(GRID, "100", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(MIDNIGHT, PRICES))
    hass.set_state(CoreState.running)
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(_value(hass, LOAD)) == pytest.approx(100.0)
    assert not ir.async_get(hass).issues
    assert "is back" not in caplog.text
