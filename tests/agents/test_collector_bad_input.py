"""A bad price or PV forecast never breaks a home: the source is dropped, the home runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.energy_collective.engine.timeseries import parse_time

from ..common import GRID, PRICE, PV, make_entry, power_attrs

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 10, 7, tzinfo=TZ)


@pytest.mark.parametrize(
    "start",
    [1e20, 1781712000000000.0, "9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+05:00"],
)
async def test_a_price_forecast_with_impossible_times_does_not_stop_the_home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start: Any
) -> None:
    """A price forecast whose times are out of any calendar (a timestamp in microseconds or
    of 1e20, the year 9999, year 1 with an offset) is no price forecast: the home starts and
    runs without it instead of retrying its setup for ever."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    raw = [{"start": start, "end": start, "value": 0.3}, {"start": start, "value": 0.2}]
    hass.states.async_set(
        PRICE, "0.3", {"unit_of_measurement": "EUR/kWh", "raw_today": raw, "raw_tomorrow": raw}
    )
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.collector.data.import_price == pytest.approx(0.3)


@pytest.mark.parametrize(
    "value",
    [1e20, -1e20, 1781712000000000.0, 253402300800.0, "9999-12-31T23:30:00+00:00", float("inf")],
)
def test_times_out_of_range_are_no_times(value: Any) -> None:
    """parse_time gives None, never an exception, for times no forecast can hold."""
    assert parse_time(value) is None


async def test_a_source_whose_data_cannot_be_read_is_left_out(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a price parser meet data nobody foresaw and raise, the home still starts, runs
    without that forecast, and counts the source as stale in its data quality."""
    from custom_components.energy_collective.agents import collector

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("a shape of data nobody foresaw")

    monkeypatch.setattr(collector, "parse_price_attributes", broken)
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.3", {"unit_of_measurement": "EUR/kWh", "raw_today": []})
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    snapshot = entry.runtime_data.collector.data
    assert snapshot.import_prices is None
    assert PRICE in snapshot.stale_sources
