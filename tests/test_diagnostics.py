"""Diagnostics show the normalised snapshot and the parsed series, with the home's name hidden."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.energy_collective.diagnostics import async_get_config_entry_diagnostics

from .common import GRID, PRICE, PV, make_entry, nordpool_attrs, power_attrs

TZ = ZoneInfo("Europe/Berlin")


async def test_diagnostics(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The snapshot, the parsed price series and the sources are there; the name is redacted."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(datetime(2026, 11, 21, 10, 7, tzinfo=TZ))
    hass.states.async_set(GRID, "1500", power_attrs())
    hass.states.async_set(PV, "200", power_attrs())
    day = datetime(2026, 11, 21, tzinfo=TZ)
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(day, [0.3] * 24))
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)

    json.dumps(diagnostics)  # serialisable as Home Assistant will download it
    assert diagnostics["entry"]["title"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["name"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["grid_power_entity"] == GRID
    assert diagnostics["snapshot"]["grid_power_w"] == 1500.0
    assert diagnostics["snapshot"]["load_power_w"] == 1700.0
    series = diagnostics["series"]["import_prices"]
    assert series["step_minutes"] == 15
    assert series["values"][0] == 0.3
    assert 0.5 < series["coverage"] < 1.0  # today only: tomorrow is not published
    assert diagnostics["series"]["pv_forecast_w"] is None
    assert diagnostics["price_formats"]["import_price_entity"] == "nordpool"
    assert diagnostics["sources"]["grid_power_entity"]["last_value"] == 1500.0
