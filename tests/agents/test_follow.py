"""The battery follows the measured home between plans (the dispatcher with engine/follow.py).

A home of plain entities (`MiniHome` of the budget tests): a grid meter that a test publishes
when it likes, so a meter that stops reporting can be played, and a battery setpoint.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.energy_collective.agents import dispatcher as dispatcher_module
from custom_components.energy_collective.const import (
    CONF_MIN_OFF_MIN,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DOMAIN,
    SUBENTRY_BATTERY,
    SUBENTRY_INTERRUPTIBLE,
)

from ..common import GRID, PRICE, home_data, home_options, nordpool_attrs
from .test_budget import BATTERY, NOW, POOL, MiniHome

SETPOINT = "number.battery_power"


async def _planned(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    devices: list[tuple[str, str, dict[str, Any]]] | None = None,
    *,
    dispatch: bool = True,
) -> tuple[MockConfigEntry, MiniHome, Any, int]:
    """The home with flat prices and a plan (the battery, and `devices`); with `dispatch` the
    plan is sent once the actions are served."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(NOW)
    home = MiniHome(hass)
    for switch in ("switch.car_charging", "switch.pool", "switch.freezer"):
        hass.states.async_set(switch, "off")  # devices of the budget tests, not of this home
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(NOW.replace(hour=0), [0.3] * 48))
    home.publish()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=home_data(),
        options=home_options(),
        unique_id=GRID,
        subentries_data=[
            ConfigSubentryData(data=data, subentry_type=kind, title=title, unique_id=None)
            for kind, title, data in [(SUBENTRY_BATTERY, "Battery", BATTERY), *(devices or [])]
        ],
    )
    entry.add_to_hass(hass)
    with patch.object(dispatcher_module, "RETRY_DELAYS_S", ()):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    home.serve()  # after the setup: the number platform registers its own set_value
    if dispatch:
        await entry.runtime_data.dispatcher.async_dispatch()
        await hass.async_block_till_done()
    plan = entry.runtime_data.planner.data.plan
    assert plan is not None
    index = int((dt_util.utcnow() - plan.start) / plan.step)
    return entry, home, plan, index


async def _minute(hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: Any) -> None:
    freezer.tick(timedelta(minutes=1))
    await entry.runtime_data.dispatcher.async_dispatch()
    await hass.async_block_till_done()


async def test_a_meter_that_stops_reporting_does_not_run_the_battery_down(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """1.5 kW more load than planned: the battery covers it once. The meter then reports
    nothing new: the battery keeps its setpoint rather than correct the same reading again
    every minute. Once the meter reports the load gone, the battery goes back to the plan."""
    entry, home, plan, index = await _planned(hass, freezer)
    planned = plan.device("Battery").power_w[index]
    planned_grid = plan.import_w[index] - plan.export_w[index]
    # with the battery as planned, the meter would read 1.5 kW more import than the plan's
    # (or 1.5 kW of import where the plan exported)
    home.base_w = max(planned_grid, 0.0) - planned + 1500.0
    await _minute(hass, freezer, entry)  # whatever the plan sent settles first
    home.publish()
    await _minute(hass, freezer, entry)
    covered = home.value(SETPOINT)
    assert covered == pytest.approx(planned - 1500.0, abs=5)
    for _ in range(5):  # the same reading, minute after minute
        await _minute(hass, freezer, entry)
        assert home.value(SETPOINT) == covered
    freezer.tick(timedelta(seconds=30))
    home.publish()  # the meter shows the battery's help: the grid is back at the plan
    await _minute(hass, freezer, entry)
    assert home.value(SETPOINT) == covered
    home.base_w -= 1500.0
    freezer.tick(timedelta(seconds=30))
    home.publish()
    await _minute(hass, freezer, entry)
    assert home.value(SETPOINT) == pytest.approx(planned, abs=5)


async def test_a_surplus_is_stored_and_the_change_of_direction_logged(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The sun comes out where the plan expected none: the battery, planned to discharge,
    charges what would have been exported instead, and the logbook says so; a later change of
    power alone is quiet."""
    entry, home, plan, index = await _planned(hass, freezer)
    planned = plan.device("Battery").power_w[index]
    planned_grid = plan.import_w[index] - plan.export_w[index]
    assert -1100 < planned < -100  # discharging a little, as the plan has it
    await _minute(hass, freezer, entry)
    logbook = async_capture_events(hass, "logbook_entry")
    # 1.2 kW more export than planned with the battery as planned
    home.base_w = min(planned_grid, 0.0) - planned - 1200.0
    home.publish()
    await _minute(hass, freezer, entry)
    assert home.value(SETPOINT) == pytest.approx(planned + 1200.0, abs=5)
    home.base_w -= 800.0
    freezer.tick(timedelta(seconds=30))
    home.publish()
    await _minute(hass, freezer, entry)
    assert home.value(SETPOINT) == pytest.approx(planned + 2000.0, abs=5)
    texts = [e.data["message"] for e in logbook if e.data.get("name") == "Battery"]
    assert len(texts) == 1, texts
    assert texts[0] == f"on, {planned + 1200:.0f} W (plan)"


async def test_a_load_switched_in_the_same_round_is_counted(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The plan starts the pool pump (1 kW) now, and the battery covers the home's load. The
    meter, read before the pump starts, shows 1 kW less than the plan: the battery must not
    take that for a surplus and charge from the grid once the pump runs."""
    pool = {
        **POOL,
        CONF_WINDOW_START: "18:00:00",
        CONF_WINDOW_END: "22:00:00",
        CONF_MIN_OFF_MIN: 0.0,  # switched off by the test's start, free to start at once
    }
    entry, home, plan, index = await _planned(
        hass, freezer, [(SUBENTRY_INTERRUPTIBLE, "Pool pump", pool)], dispatch=False
    )
    assert plan.device("Pool pump").power_w[index] == pytest.approx(1000.0)
    planned = plan.device("Battery").power_w[index]
    planned_grid = plan.import_w[index] - plan.export_w[index]
    assert planned_grid < 900  # the battery covers most of the load: a 1 kW "surplus" would
    # push the grid below zero and make it charge
    assert not home.on("switch.pool")
    # the meter reads the load the plan expects with the battery as planned, but no pump yet
    home.base_w = planned_grid - planned - 1000.0
    freezer.tick(timedelta(seconds=30))
    home.publish()
    await entry.runtime_data.dispatcher.async_dispatch()
    await hass.async_block_till_done()
    assert home.on("switch.pool")
    assert home.value(SETPOINT) == pytest.approx(planned, abs=5)
    assert home.grid_w() == pytest.approx(planned_grid, abs=5)
