"""The Energy dashboard's solar forecast comes from the prediction agent."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_AZIMUTH,
    CONF_GENERATOR_KIND,
    CONF_KWP,
    CONF_LOSSES_PCT,
    CONF_TILT,
    DOMAIN,
    GENERATOR_PV_ARRAY,
    SUBENTRY_GENERATOR,
)
from custom_components.energy_collective.energy import async_get_solar_forecast

from .common import GRID, PRICE, PV, home_data, home_options, nordpool_attrs, power_attrs

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 21, 9, 7, tzinfo=TZ)


async def _home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, with_array: bool = True
) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    midnight = NOW.replace(hour=0, minute=0)
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(midnight, [0.3] * 48))
    subentries = [
        ConfigSubentryData(
            data={
                CONF_GENERATOR_KIND: GENERATOR_PV_ARRAY,
                CONF_KWP: 4.0,
                CONF_TILT: 30.0,
                CONF_AZIMUTH: 180.0,
                CONF_LOSSES_PCT: 10.0,
            },
            subentry_type=SUBENTRY_GENERATOR,
            title="Roof",
            unique_id=None,
        )
    ]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=home_data(),
        options=home_options(step_minutes=15),
        unique_id=GRID,
        subentries_data=subentries if with_array else [],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_hourly_watt_hours(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Each hour holds the energy of its four 15-minute steps; night hours hold nothing."""
    entry = await _home(hass, freezer)
    forecast = await async_get_solar_forecast(hass, entry.entry_id)
    assert forecast is not None
    wh_hours = forecast["wh_hours"]
    pv = entry.runtime_data.forecaster.data.pv
    assert pv is not None
    assert len(wh_hours) == 24
    hours = [datetime.fromisoformat(key) for key in wh_hours]
    assert all(hour.minute == 0 and hour.tzinfo is not None for hour in hours)
    assert hours[0] == datetime(2026, 6, 21, 9, tzinfo=TZ)
    first_hour = sum(pv.p50[:4]) * 0.25
    assert wh_hours[hours[0].isoformat()] == pytest.approx(first_hour, abs=0.1)
    by_local = {hour.astimezone(TZ).hour: wh_hours[hour.isoformat()] for hour in hours}
    assert by_local[13] > 1000.0  # a 4 kWp roof near noon at midsummer
    assert by_local[0] == 0.0
    assert sum(wh_hours.values()) < 4.0 * 1000 * 16  # below 16 full-power hours


async def test_no_forecast_without_pv(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A home without PV arrays nor a PV forecast entity, or an unknown entry: nothing."""
    entry = await _home(hass, freezer, with_array=False)
    assert await async_get_solar_forecast(hass, entry.entry_id) is None
    assert await async_get_solar_forecast(hass, "not_an_entry") is None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await async_get_solar_forecast(hass, entry.entry_id) is None
