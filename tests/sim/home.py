"""The simulated home with Energy Collective running it: shared set-up of the end-to-end tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_collective.const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_DEPARTURE,
    CONF_DURATION_MIN,
    CONF_EV_SOC_ENTITY,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_EXPORT_PRICE_MODE,
    CONF_FINISH_BY,
    CONF_GRID_LIMIT_W,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HEAT_DEMAND_W,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_LOAD_POWER,
    CONF_MAX_CHARGE_W,
    CONF_MAX_CURRENT_A,
    CONF_MAX_DISCHARGE_W,
    CONF_MIN_CURRENT_A,
    CONF_MIN_OFF_MIN,
    CONF_MIN_ON_MIN,
    CONF_MODE_SELECT,
    CONF_NAME,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_PHASES,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_ENTITY,
    CONF_POWER_NUMBER,
    CONF_POWER_W,
    CONF_PV_POWER,
    CONF_RESERVE_PCT,
    CONF_RUN_HOURS,
    CONF_SOC_ENTITY,
    CONF_STEP_MINUTES,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TARGET_SOC,
    CONF_TEMPERATURE_ENTITY,
    CONF_THERMAL_ENTITY,
    CONF_VOLTAGE_V,
    CONF_VOLUME_L,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DOMAIN,
    GRID_MODE_SIGNED,
    GRID_SIGN_IMPORT_POSITIVE,
    PRICE_MODE_ENTITY,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 17, 18, 58, tzinfo=TZ)  # a Wednesday evening: car home, prices out

HOME = {
    CONF_NAME: "Sim",
    CONF_GRID_MODE: GRID_MODE_SIGNED,
    CONF_GRID_POWER: "sensor.sim_grid_power",
    CONF_GRID_SIGN: GRID_SIGN_IMPORT_POSITIVE,
    CONF_IMPORT_PRICE_MODE: PRICE_MODE_ENTITY,
    CONF_IMPORT_PRICE_ENTITY: "sensor.sim_nordpool_price",
    CONF_EXPORT_PRICE_MODE: PRICE_MODE_ENTITY,
    CONF_EXPORT_PRICE_ENTITY: "sensor.sim_export_price",
    CONF_PV_POWER: "sensor.sim_pv_power",
    CONF_LOAD_POWER: "sensor.sim_house_load",
}
OPTIONS = {CONF_GRID_LIMIT_W: 11000, CONF_STEP_MINUTES: 15, CONF_HORIZON_HOURS: 24}

BATTERY = {
    CONF_SOC_ENTITY: "sensor.sim_battery_soc",
    CONF_CAPACITY_KWH: 10.0,
    CONF_MAX_CHARGE_W: 5000.0,
    CONF_MAX_DISCHARGE_W: 5000.0,
    CONF_RESERVE_PCT: 10.0,
    CONF_POWER_NUMBER: "number.sim_battery_power",
    CONF_MODE_SELECT: "select.sim_battery_mode",
    CONF_OPTION_CHARGE: "manual",
    CONF_OPTION_DISCHARGE: "manual",
    CONF_OPTION_IDLE: "idle",
}
EV = {
    CONF_PLUGGED_ENTITY: "binary_sensor.sim_ev_plugged",
    CONF_EV_SOC_ENTITY: "sensor.sim_ev_soc",
    CONF_CAPACITY_KWH: 60.0,
    CONF_CHARGE_SWITCH: "switch.sim_ev_charging",
    CONF_CURRENT_NUMBER: "number.sim_ev_current",
    CONF_MIN_CURRENT_A: 6.0,
    CONF_MAX_CURRENT_A: 16.0,
    CONF_PHASES: 3.0,
    CONF_VOLTAGE_V: 230.0,
    CONF_DEPARTURE: "07:00:00",
    CONF_TARGET_SOC: 80.0,
}
DISHWASHER = {
    CONF_SWITCH: "switch.sim_dishwasher",
    CONF_POWER_ENTITY: "sensor.sim_dishwasher_power",
    CONF_POWER_W: 2000.0,
    CONF_DURATION_MIN: 110.0,
    CONF_FINISH_BY: "07:00:00",
}
POOL = {
    CONF_SWITCH: "switch.sim_pool_pump",
    CONF_POWER_W: 750.0,
    CONF_RUN_HOURS: 4.0,
    CONF_WINDOW_START: "08:00:00",
    CONF_WINDOW_END: "20:00:00",
    CONF_MIN_ON_MIN: 30.0,
    CONF_MIN_OFF_MIN: 15.0,
}
WATER = {
    CONF_THERMAL_ENTITY: "switch.sim_water_heater",
    CONF_TEMPERATURE_ENTITY: "sensor.sim_water_temperature",
    CONF_T_MIN: 45.0,
    CONF_T_MAX: 60.0,
    CONF_POWER_W: 3000.0,
    CONF_VOLUME_L: 200.0,
    CONF_HEAT_DEMAND_W: 150.0,
}
DEVICES: list[tuple[str, str, dict[str, Any]]] = [
    (SUBENTRY_BATTERY, "Battery", BATTERY),
    (SUBENTRY_EV, "Car", EV),
    (SUBENTRY_APPLIANCE, "Dishwasher", DISHWASHER),
    (SUBENTRY_INTERRUPTIBLE, "Pool pump", POOL),
    (SUBENTRY_THERMAL, "Water heater", WATER),
]


def home_entry(
    hass: HomeAssistant, devices: list[tuple[str, str, dict[str, Any]]] | None = None
) -> MockConfigEntry:
    """The simulated home's entry with its device subentries."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sim",
        data=HOME,
        options=OPTIONS,
        unique_id="sensor.sim_grid_power",
        subentries_data=[
            ConfigSubentryData(data=data, subentry_type=kind, title=title, unique_id=None)
            for kind, title, data in (DEVICES if devices is None else devices)
        ],
    )
    entry.add_to_hass(hass)
    return entry


async def start_home(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    devices: list[tuple[str, str, dict[str, Any]]] | None = None,
    when: datetime = START,
) -> MockConfigEntry:
    """Berlin, the simulated home, and Energy Collective running it."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    hass.config.currency = "EUR"
    freezer.move_to(when)
    assert await async_setup_component(hass, "simulated_home", {"simulated_home": {}})
    await hass.async_block_till_done()
    entry = home_entry(hass, devices)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    delta: timedelta,
    tick: timedelta = timedelta(minutes=1),
) -> None:
    """Move the clock on tick by tick, letting every timer and executor job run.

    Ticks end on whole multiples of `tick` (local wall time), so a coarse tick still lands on
    every step boundary of the plan.
    """
    end = dt_util.utcnow() + delta
    while (now := dt_util.utcnow()) < end:
        local = dt_util.as_local(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        into = (local - midnight) % tick
        freezer.tick(min(end - now, tick - into))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def value(hass: HomeAssistant, entity_id: str) -> float:
    """The numeric state of an entity."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


def subentry_id(entry: MockConfigEntry, title: str) -> str:
    """The id of the subentry called `title`."""
    return next(k for k, sub in entry.subentries.items() if sub.title == title)
