"""The history loader and the measured grid import, more cases, against a real SQLite recorder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_collective.agents.history import (
    async_grid_import,
    async_load_history,
)
from custom_components.energy_collective.const import (
    BATTERY_SIGN_CHARGE_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_LOAD_POWER,
    CONF_PV_POWER,
    GRID_MODE_SEPARATE,
    GRID_SIGN_EXPORT_POSITIVE,
)

from ..common import GRID, PV, home_data, import_hourly_means, power_attrs
from .test_history import START, auto_enable_custom_integrations  # noqa: F401 (a fixture)

IMP = "sensor.grid_import"
EXP = "sensor.grid_export"
BATT = "sensor.battery_power"
LOAD = "sensor.house_load"
HALF_HOUR = timedelta(minutes=30)
QUARTER = timedelta(minutes=15)


def _separate(**overrides: str | None) -> dict[str, str]:
    """A home with separate import and export meters and no PV sensor."""
    return home_data(
        **{
            CONF_GRID_MODE: GRID_MODE_SEPARATE,
            CONF_GRID_POWER: None,
            CONF_GRID_SIGN: None,
            CONF_PV_POWER: None,
            CONF_GRID_IMPORT_POWER: IMP,
            CONF_GRID_EXPORT_POWER: EXP,
            **overrides,
        }
    )


async def _record(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, changes: dict[int, dict[str, str]]
) -> None:
    """Set states at START + the given minutes (in W unless the value names a unit)."""
    for minute in sorted(changes):
        freezer.move_to(START + timedelta(minutes=minute))
        for entity_id, value in changes[minute].items():
            number, _, unit = value.partition(" ")
            hass.states.async_set(entity_id, number, power_attrs(unit or "W"))
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)


async def test_a_load_sensor_is_used_as_measured(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With a house load sensor the forecaster learns its values, not grid plus PV."""
    await _record(
        hass,
        freezer,
        {0: {GRID: "5000", PV: "0", LOAD: "700"}, 30: {GRID: "-1000", PV: "1.5 kW", LOAD: "450"}},
    )
    config = home_data(**{CONF_LOAD_POWER: LOAD})
    history = await async_load_history(hass, config, START + timedelta(hours=1), 1, HALF_HOUR)
    assert history.load_w.values[-2:] == (pytest.approx(700.0), pytest.approx(450.0))
    assert history.pv_w is not None
    assert history.pv_w.values[-2:] == (pytest.approx(0.0), pytest.approx(1500.0))
    assert history.sources == {GRID: "states", PV: "states", LOAD: "states"}


async def test_separate_meters_and_a_charging_battery_without_pv(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Load is import - export - battery charging, and never negative."""
    # the second half hour (300 W exported, nothing else) would be -300 W: meters out of step
    await _record(
        hass,
        freezer,
        {
            0: {IMP: "1200", EXP: "0", BATT: "400"},
            30: {IMP: "0", EXP: "300", BATT: "0"},
        },
    )
    config = _separate(
        **{CONF_BATTERY_POWER: BATT, CONF_BATTERY_SIGN: BATTERY_SIGN_CHARGE_POSITIVE}
    )
    history = await async_load_history(hass, config, START + timedelta(hours=1), 1, HALF_HOUR)
    assert history.load_w.values[-2:] == (pytest.approx(800.0), 0.0)
    assert history.pv_w is None
    assert history.sources == {IMP: "states", EXP: "states", BATT: "states"}


async def test_unavailable_states_give_no_load(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A grid sensor unavailable until 00:30 gives no load for that half hour, not zero."""
    await _record(hass, freezer, {0: {GRID: "unavailable"}, 30: {GRID: "800"}})
    config = home_data(**{CONF_PV_POWER: None})
    history = await async_load_history(hass, config, START + timedelta(hours=1), 1, QUARTER)
    assert history.load_w.values[-4:] == (None, None, pytest.approx(800.0), pytest.approx(800.0))
    assert history.sources == {GRID: "states"}


async def test_a_sensor_in_an_energy_unit_gives_no_history(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A grid sensor in an energy unit gives no history, so no load is derived."""
    await _record(hass, freezer, {0: {GRID: "1.2 kWh", PV: "300"}, 30: {GRID: "1.4 kWh"}})
    history = await async_load_history(hass, home_data(), START + timedelta(hours=1), 1, HALF_HOUR)
    assert history.sources == {GRID: "none", PV: "states"}
    assert history.load_w.coverage() == 0.0
    assert history.pv_w is not None
    assert history.pv_w.values[-1] == pytest.approx(300.0)


async def test_grid_import_from_a_signed_meter_exporting_positive(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A meter counting export as positive gives import only when it imports."""
    # 2 kW exported from before the window, then 1.5 kW imported from 00:30
    await _record(hass, freezer, {0: {GRID: "2000"}, 30: {GRID: "-1.5 kW"}})
    config = home_data(**{CONF_GRID_SIGN: GRID_SIGN_EXPORT_POSITIVE})
    start = START + QUARTER
    series = await async_grid_import(hass, config, start, start + 3 * QUARTER, QUARTER)
    assert series.start == start
    assert series.values == (0.0, pytest.approx(1500.0), pytest.approx(1500.0))


async def test_grid_import_from_separate_meters_uses_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Net import from separate meters comes from hourly statistics; a missing hour is None."""
    freezer.move_to(START + timedelta(hours=4))
    for entity_id in (IMP, EXP):
        hass.states.async_set(entity_id, "0", power_attrs())
    import_hourly_means(hass, IMP, START, [1000.0, 3000.0])
    import_hourly_means(hass, EXP, START, [200.0, 3500.0])
    await async_wait_recording_done(hass)
    series = await async_grid_import(
        hass, _separate(), START, START + timedelta(hours=3), timedelta(hours=1)
    )
    assert series.values == (pytest.approx(800.0), 0.0, None)


async def test_grid_import_unknown_without_meters_or_history(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without an export meter configured, or with nothing recorded, every step is unknown."""
    await _record(hass, freezer, {0: {IMP: "1000"}})
    end = START + timedelta(hours=2)
    missing = await async_grid_import(
        hass, _separate(**{CONF_GRID_EXPORT_POWER: None}), START, end, HALF_HOUR
    )
    assert missing.values == (None,) * 4
    nothing = await async_grid_import(hass, home_data(), START, end, HALF_HOUR)
    assert nothing.values == (None,) * 4


async def test_statistics_without_means_fall_back_to_states(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Statistics that keep only a sum are skipped and the recorded states read instead."""
    metadata = {
        "has_mean": False,
        "mean_type": StatisticMeanType.NONE,
        "has_sum": True,
        "name": None,
        "source": "recorder",
        "statistic_id": GRID,
        "unit_of_measurement": "W",
        "unit_class": "power",
    }
    async_import_statistics(
        hass,
        metadata,  # type: ignore[arg-type]
        [{"start": START + timedelta(hours=h), "sum": 10.0 * h} for h in range(3)],
    )
    await _record(hass, freezer, {0: {GRID: "900"}})
    freezer.move_to(START + timedelta(hours=4))
    config = home_data(**{CONF_PV_POWER: None})
    history = await async_load_history(
        hass, config, START + timedelta(hours=3), 1, timedelta(hours=1)
    )
    assert history.sources == {GRID: "states"}
    assert history.load_w.values[-3:] == (pytest.approx(900.0),) * 3
