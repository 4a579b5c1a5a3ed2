"""The simulated_home integration, set up in a test Home Assistant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_fire_time_changed

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 17, 19, 0, tzinfo=TZ)  # a Wednesday evening: car home, prices out

UNITS = {
    "sensor.sim_grid_power": "W",
    "sensor.sim_pv_power": "W",
    "sensor.sim_house_load": "W",
    "sensor.sim_battery_power": "W",
    "sensor.sim_ev_charger_power": "W",
    "sensor.sim_dishwasher_power": "W",
    "sensor.sim_washing_machine_power": "W",
    "sensor.sim_pool_pump_power": "W",
    "sensor.sim_water_heater_power": "W",
    "sensor.sim_battery_soc": "%",
    "sensor.sim_ev_soc": "%",
    "sensor.sim_water_temperature": "°C",
    "sensor.sim_grid_import_energy": "kWh",
    "sensor.sim_grid_export_energy": "kWh",
    "sensor.sim_pv_energy": "kWh",
    "sensor.sim_nordpool_price": "EUR/kWh",
    "sensor.sim_export_price": "EUR/kWh",
    "number.sim_battery_power": "W",
    "number.sim_ev_current": "A",
}
UNITLESS = (
    "select.sim_battery_mode",
    "binary_sensor.sim_ev_plugged",
    "switch.sim_ev_charging",
    "switch.sim_dishwasher",
    "switch.sim_washing_machine",
    "switch.sim_pool_pump",
    "switch.sim_water_heater",
    "weather.sim_weather",
)


async def _setup(hass: HomeAssistant, conf: dict[str, Any] | None = None) -> None:
    assert await async_setup_component(hass, "simulated_home", {"simulated_home": conf})
    await hass.async_block_till_done()


@pytest.fixture
async def sim(
    hass: HomeAssistant, enable_custom_integrations: None, freezer: FrozenDateTimeFactory
) -> HomeAssistant:
    """Home Assistant in Berlin with the simulated home set up."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    freezer.move_to(START)
    await _setup(hass)
    return hass


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_entities_exist_with_units(sim: HomeAssistant) -> None:
    for entity_id, unit in UNITS.items():
        state = sim.states.get(entity_id)
        assert state is not None, entity_id
        assert state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == unit, entity_id
    for entity_id in UNITLESS:
        assert sim.states.get(entity_id) is not None, entity_id
    grid = sim.states.get("sensor.sim_grid_power")
    assert grid is not None
    assert grid.attributes["device_class"] == "power"
    assert grid.attributes["state_class"] == "measurement"
    assert sim.states.get("binary_sensor.sim_ev_plugged").state == "on"  # type: ignore[union-attr]
    registry = er.async_get(sim)
    entry = registry.async_get("sensor.sim_grid_power")
    assert entry is not None
    assert entry.unique_id == "simulated_home_grid_power"


async def test_grid_power_balances(sim: HomeAssistant) -> None:
    parts = (
        _value(sim, "sensor.sim_house_load")
        + _value(sim, "sensor.sim_ev_charger_power")
        + _value(sim, "sensor.sim_battery_power")
        - _value(sim, "sensor.sim_pv_power")
        + sum(
            _value(sim, f"sensor.sim_{name}_power")
            for name in ("dishwasher", "washing_machine", "pool_pump", "water_heater")
        )
    )
    assert _value(sim, "sensor.sim_grid_power") == pytest.approx(parts, abs=0.5)


async def test_dishwasher_raises_grid_power_by_its_draw(sim: HomeAssistant) -> None:
    before = _value(sim, "sensor.sim_grid_power")
    await sim.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.sim_dishwasher"}, blocking=True
    )
    assert sim.states.get("switch.sim_dishwasher").state == "on"  # type: ignore[union-attr]
    draw = _value(sim, "sensor.sim_dishwasher_power")
    assert draw > 1000
    assert _value(sim, "sensor.sim_grid_power") - before == pytest.approx(draw, abs=0.2)


async def test_battery_setpoint_changes_soc_over_time(
    sim: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    soc = _value(sim, "sensor.sim_battery_soc")
    await sim.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.sim_battery_power", "value": 3000},
        blocking=True,
    )
    assert _value(sim, "sensor.sim_battery_power") == 3000
    assert sim.states.get("select.sim_battery_mode").state == "manual"  # type: ignore[union-attr]
    await _tick(sim, freezer, timedelta(minutes=30))
    gained = 3000 * 0.95 * 0.5 / 10000 * 100
    assert _value(sim, "sensor.sim_battery_soc") == pytest.approx(soc + gained, abs=0.05)
    assert _value(sim, "sensor.sim_battery_charge_energy") == pytest.approx(1.5, abs=0.01)


async def test_ev_charges_when_allowed(sim: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    soc = _value(sim, "sensor.sim_ev_soc")
    await sim.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: "number.sim_ev_current", "value": 8}, blocking=True
    )
    await sim.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.sim_ev_charging"}, blocking=True
    )
    assert _value(sim, "sensor.sim_ev_charger_power") == 3 * 230 * 8
    await _tick(sim, freezer, timedelta(hours=1))
    assert _value(sim, "sensor.sim_ev_soc") == pytest.approx(
        soc + 3 * 230 * 8 * 0.92 / 60000 * 100, abs=0.05
    )


async def test_ticks_follow_real_time(sim: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await sim.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.sim_pool_pump"}, blocking=True
    )
    for _ in range(6):
        await _tick(sim, freezer, timedelta(seconds=10))
    assert _value(sim, "sensor.sim_pool_pump_energy") == pytest.approx(0.75 / 60, abs=1e-4)


async def test_price_sensor_has_nordpool_attributes(sim: HomeAssistant) -> None:
    state = sim.states.get("sensor.sim_nordpool_price")
    assert state is not None
    attrs = state.attributes
    assert len(attrs["raw_today"]) == 24
    assert attrs["tomorrow_valid"] is True  # 19:00 is after publication
    assert len(attrs["raw_tomorrow"]) == 24
    assert attrs["current_price"] == float(state.state)
    assert attrs["currency"] == "EUR"
    assert attrs["unit"] == "kWh"
    assert attrs["raw_today"][19]["start"] == START
    export = sim.states.get("sensor.sim_export_price")
    assert export is not None
    assert float(export.state) < float(state.state)


async def test_weather_get_forecasts(sim: HomeAssistant) -> None:
    response = await sim.services.async_call(
        "weather",
        "get_forecasts",
        {ATTR_ENTITY_ID: "weather.sim_weather", "type": "hourly"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    forecast = cast(dict[str, Any], response)["weather.sim_weather"]["forecast"]
    assert len(forecast) == 48
    assert {"datetime", "cloud_coverage", "temperature", "wind_speed", "condition"} <= set(
        forecast[0]
    )
    daily = await sim.services.async_call(
        "weather",
        "get_forecasts",
        {ATTR_ENTITY_ID: "weather.sim_weather", "type": "daily"},
        blocking=True,
        return_response=True,
    )
    assert daily is not None


async def test_state_is_restored(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    hass_storage["simulated_home.state"] = {
        "version": 1,
        "minor_version": 1,
        "key": "simulated_home.state",
        "data": {
            "time": (START - timedelta(days=3)).isoformat(),  # long ago: the gap is skipped
            "battery_soc": 77.0,
            "ev_soc": 33.0,
            "energy_wh": {"grid_import": 12345.0},
        },
    }
    await _setup(hass, {"seed": 3, "pv_peak_w": 5000})
    assert _value(hass, "sensor.sim_battery_soc") == 77.0
    assert _value(hass, "sensor.sim_ev_soc") == 33.0
    assert _value(hass, "sensor.sim_grid_import_energy") == pytest.approx(12.345, abs=1e-3)


async def test_bad_configuration_is_rejected(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    assert not await async_setup_component(
        hass, "simulated_home", {"simulated_home": {"pv_peak_w": "lots"}}
    )
