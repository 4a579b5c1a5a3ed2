"""The history loader, against a real SQLite recorder."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.energy_collective.agents.history import async_load_history
from custom_components.energy_collective.const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_MODE,
)

from ..common import GRID, PV, home_data, power_attrs

UTC = dt_util.UTC
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


async def test_states_history_derives_load(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Recorded grid and PV states give a time-weighted house load at the planning step."""
    freezer.move_to(START)
    hass.states.async_set(GRID, "1000", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    await hass.async_block_till_done()
    freezer.move_to(START + timedelta(minutes=30))
    hass.states.async_set(GRID, "-500", power_attrs())
    hass.states.async_set(PV, "2", power_attrs("kW"))
    await hass.async_block_till_done()
    freezer.move_to(START + timedelta(minutes=45))
    hass.states.async_set(PV, "2.2", power_attrs("kW"))
    await async_wait_recording_done(hass)

    history = await async_load_history(
        hass, home_data(), START + timedelta(hours=1), 1, timedelta(minutes=15)
    )
    values = history.load_w.values
    assert len(values) == 96
    # nothing was recorded before the first state
    assert all(v is None for v in values[:92])
    assert values[92] == pytest.approx(1000.0)
    assert values[93] == pytest.approx(1000.0)
    assert values[94] == pytest.approx(1500.0)  # -500 + 2000
    # the last state (PV 2.2 kW) lasts to the end of the window; units from the current state
    assert values[95] == pytest.approx(1700.0)
    assert history.sources == {GRID: "states", PV: "states"}
    assert history.pv_w is not None
    assert history.pv_w.values[95] == pytest.approx(2200.0)


async def test_statistics_preferred_and_separate_sensors(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Hourly statistics serve where they exist; separate import/export and a battery add up."""
    freezer.move_to(START + timedelta(hours=3))
    config = home_data(
        **{
            CONF_GRID_MODE: "separate",
            "grid_power_entity": None,
            "grid_sign": None,
            CONF_GRID_IMPORT_POWER: "sensor.imp",
            CONF_GRID_EXPORT_POWER: "sensor.exp",
            CONF_BATTERY_POWER: "sensor.batt",
            CONF_BATTERY_SIGN: "discharge_positive",
        }
    )
    means = {"sensor.imp": 800.0, "sensor.exp": 100.0, PV: 1500.0, "sensor.batt": -200.0}
    for entity_id, mean in means.items():
        hass.states.async_set(entity_id, str(mean), power_attrs())
        metadata = {
            "has_mean": True,
            "mean_type": StatisticMeanType.ARITHMETIC,
            "has_sum": False,
            "name": None,
            "source": "recorder",
            "statistic_id": entity_id,
            "unit_of_measurement": "W",
            "unit_class": "power",
        }
        stats = [
            {"start": START + timedelta(hours=h), "mean": mean, "min": mean, "max": mean}
            for h in range(2)
        ]
        async_import_statistics(hass, metadata, stats)  # type: ignore[arg-type]
    await async_wait_recording_done(hass)

    history = await async_load_history(
        hass, config, START + timedelta(hours=2), 1, timedelta(hours=1)
    )
    assert set(history.sources.values()) == {"statistics"}
    # load = 800 - 100 + 1500 + (-200 battery charging)
    assert history.load_w.values[-2:] == (pytest.approx(2000.0), pytest.approx(2000.0))


async def test_nothing_recorded(recorder_mock: Recorder, hass: HomeAssistant) -> None:
    """Without history the load series is empty and says where nothing came from."""
    history = await async_load_history(
        hass, home_data(), datetime(2026, 11, 21, tzinfo=ZoneInfo("UTC")), 1, timedelta(hours=1)
    )
    assert history.load_w.coverage() == 0.0
    assert history.pv_w is None
    assert history.sources == {GRID: "none", PV: "none"}


async def test_statistics_compiled_by_the_recorder(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """States become 5-minute and hourly statistics; the loader reads them, finest first."""
    await async_setup_component(hass, "sensor", {})
    attrs = {**power_attrs(), "state_class": "measurement"}
    freezer.move_to(START)
    hass.states.async_set(GRID, "600", attrs)
    hass.states.async_set(PV, "0", attrs)
    await hass.async_block_till_done()
    freezer.move_to(START + timedelta(minutes=30))
    hass.states.async_set(GRID, "1200", attrs)
    await async_wait_recording_done(hass)
    freezer.move_to(START + timedelta(hours=1, minutes=1))
    for minute in range(0, 60, 5):
        do_adhoc_statistics(hass, start=START + timedelta(minutes=minute))
    await async_wait_recording_done(hass)

    history = await async_load_history(
        hass, home_data(), START + timedelta(hours=1), 1, timedelta(minutes=30)
    )
    assert history.sources == {GRID: "statistics", PV: "statistics"}
    assert history.load_w.values[-2:] == (pytest.approx(600.0), pytest.approx(1200.0))
    assert history.pv_w is not None
    assert history.pv_w.values[-1] == pytest.approx(0.0)
    # an hourly window reads the hourly mean
    hourly = await async_load_history(
        hass, home_data(), START + timedelta(hours=1), 1, timedelta(hours=1)
    )
    assert hourly.load_w.values[-1] == pytest.approx(900.0)


async def test_one_state_in_the_window(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A sensor that changed once in the window holds its value to the end of it."""
    freezer.move_to(START)
    hass.states.async_set(GRID, "750", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    await async_wait_recording_done(hass)
    freezer.move_to(START + timedelta(hours=5))
    history = await async_load_history(
        hass, home_data(), START + timedelta(hours=4), 1, timedelta(hours=1)
    )
    assert history.load_w.values[-4:] == (pytest.approx(750.0),) * 4
    assert history.sources == {GRID: "states", PV: "states"}
