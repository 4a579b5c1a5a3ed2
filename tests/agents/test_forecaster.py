"""The prediction agent, against a real SQLite recorder, through the entities a user sees."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_collective.agents.forecaster import weather_from_forecast
from custom_components.energy_collective.const import (
    CONF_AZIMUTH,
    CONF_CUT_IN_MS,
    CONF_CUT_OUT_MS,
    CONF_GENERATOR_KIND,
    CONF_HUB_HEIGHT_M,
    CONF_KWP,
    CONF_LOAD_POWER,
    CONF_LOSSES_PCT,
    CONF_PV_FORECAST,
    CONF_RATED_POWER_W,
    CONF_RATED_SPEED_MS,
    CONF_TILT,
    CONF_WEATHER,
    DOMAIN,
    GENERATOR_PV_ARRAY,
    GENERATOR_WIND_TURBINE,
    SUBENTRY_GENERATOR,
)
from custom_components.energy_collective.diagnostics import async_get_config_entry_diagnostics
from custom_components.energy_collective.engine.forecast import LoadForecaster

from ..common import (
    GRID,
    PRICE,
    PV,
    forecast_points,
    home_data,
    home_options,
    import_hourly_means,
    make_entry,
    nordpool_attrs,
    power_attrs,
)

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 10, 7, tzinfo=TZ)
MIDNIGHT = datetime(2026, 11, 21, tzinfo=TZ)
LOAD = "sensor.house_load"
WEATHER = "weather.home"

LOAD_FORECAST = "sensor.home_forecasting_load_forecast"
PV_FORECAST = "sensor.home_forecasting_pv_forecast"
WIND_FORECAST = "sensor.home_forecasting_wind_forecast"
LOAD_ERROR = "sensor.home_forecasting_load_forecast_error"
PV_ERROR = "sensor.home_forecasting_pv_forecast_error"
LOAD_MODEL = "sensor.home_forecasting_load_model"

# the load model's sensor is disabled by default; these tests read it
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


def evening_peak(local_hour: int) -> float:
    """A home that uses 2 kW from 17:00 to 21:00 and 300 W otherwise."""
    return 2000.0 if 17 <= local_hour < 21 else 300.0


async def _prepare(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    history_days: int = 0,
    pv_history: bool = True,
) -> None:
    """Berlin at 10:07, live sources, and `history_days` of hourly load (and PV) statistics."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "1000", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(LOAD, "1000", power_attrs())
    hass.states.async_set(PRICE, "0.30", nordpool_attrs(MIDNIGHT, [0.3] * 48))
    if history_days:
        first = MIDNIGHT - timedelta(days=history_days)
        hours = int((NOW.replace(minute=0) - first) / timedelta(hours=1))
        means = [
            evening_peak((first + timedelta(hours=h)).astimezone(TZ).hour) for h in range(hours)
        ]
        import_hourly_means(hass, LOAD, first, means)
        if pv_history:
            import_hourly_means(hass, PV, first, [0.0] * hours)
    await async_wait_recording_done(hass)


async def _setup(
    hass: HomeAssistant,
    data: dict[str, Any] | None = None,
    subentries: list[ConfigSubentryData] | None = None,
    **options: Any,
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=data or home_data(**{CONF_LOAD_POWER: LOAD}),
        options=home_options(**options),
        unique_id=GRID,
        subentries_data=subentries or [],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _pv_array(title: str = "South roof", **overrides: Any) -> ConfigSubentryData:
    data = {
        CONF_GENERATOR_KIND: GENERATOR_PV_ARRAY,
        CONF_KWP: 5.0,
        CONF_TILT: 35.0,
        CONF_AZIMUTH: 180.0,
        CONF_LOSSES_PCT: 14.0,
    } | overrides
    return ConfigSubentryData(
        data=data, subentry_type=SUBENTRY_GENERATOR, title=title, unique_id=None
    )


def _turbine(title: str = "Mast") -> ConfigSubentryData:
    data = {
        CONF_GENERATOR_KIND: GENERATOR_WIND_TURBINE,
        CONF_RATED_POWER_W: 1000.0,
        CONF_CUT_IN_MS: 3.0,
        CONF_RATED_SPEED_MS: 12.0,
        CONF_CUT_OUT_MS: 25.0,
        CONF_HUB_HEIGHT_M: 10.0,
    }
    return ConfigSubentryData(
        data=data, subentry_type=SUBENTRY_GENERATOR, title=title, unique_id=None
    )


def _by_local_hour(points: list[tuple[datetime, float]]) -> dict[int, float]:
    return {when.astimezone(TZ).hour: value for when, value in points}


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> None:
    """Let time pass in 5-minute ticks, so every agent runs as it would."""
    for _ in range(minutes // 5):
        freezer.tick(timedelta(minutes=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def test_forecast_follows_the_daily_shape(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Five days of history: the profile model forecasts the evening peak, hour by hour."""
    await _prepare(hass, freezer, history_days=5)
    entry = await _setup(hass, step_minutes=60)

    state = hass.states.get(LOAD_FORECAST)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "W"
    assert state.attributes["device_class"] == "power"
    points = forecast_points(hass, LOAD_FORECAST)
    assert len(points) == 24
    assert points[0][0] == datetime(2026, 11, 21, 10, tzinfo=TZ)
    assert float(state.state) == pytest.approx(points[0][1])
    by_hour = _by_local_hour(points)
    assert by_hour[18] == pytest.approx(2000.0, rel=0.1)
    assert by_hour[3] == pytest.approx(300.0, rel=0.2)
    assert len(state.attributes["forecast_p10"]) == len(state.attributes["forecast_p90"]) == 24
    assert all(
        low["value"] <= mid["value"] <= high["value"]
        for low, mid, high in zip(
            state.attributes["forecast_p10"],
            state.attributes["forecast"],
            state.attributes["forecast_p90"],
            strict=True,
        )
    )

    model = hass.states.get(LOAD_MODEL)
    assert model is not None
    assert model.state == "profile"
    assert "days of history" in model.attributes["note"]
    # no PV array nor PV forecast entity: no PV forecast; no turbine: no wind forecast
    assert hass.states.get(PV_FORECAST) is None
    assert hass.states.get(WIND_FORECAST) is None

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["forecaster"]["load_model"] == "profile"
    assert diagnostics["forecaster"]["history_sources"] == {
        GRID: "none",
        LOAD: "statistics",
        PV: "statistics",
    }
    assert diagnostics["forecaster"]["history_days"] == pytest.approx(5 + 10 / 24, abs=0.01)


async def test_day_one_uses_a_typical_profile(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without history the load forecast is a typical household day, and it says so."""
    await _prepare(hass, freezer)
    await _setup(hass)

    model = hass.states.get(LOAD_MODEL)
    assert model is not None
    assert model.state == "typical"
    assert "typical household profile" in model.attributes["note"]
    points = forecast_points(hass, LOAD_FORECAST)
    assert len(points) == 96  # 24 h at 15 minutes
    by_hour = _by_local_hour(points)
    assert by_hour[19] > by_hour[3]  # the typical evening peak
    accuracy = hass.states.get(LOAD_ERROR)
    assert accuracy is not None
    assert accuracy.state == "unknown"
    assert accuracy.attributes["samples"] == 0


async def test_horizon_is_not_recorded(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The recorder keeps the state of a forecast sensor, not its horizon."""
    await _prepare(hass, freezer)
    await _setup(hass)
    await async_wait_recording_done(hass)

    recorded = await hass.async_add_executor_job(
        lambda: get_significant_states(
            hass,
            NOW - timedelta(minutes=1),
            None,
            [LOAD_FORECAST],
            significant_changes_only=False,
            minimal_response=False,
        )
    )
    states = recorded[LOAD_FORECAST]
    assert states
    attributes = states[-1].attributes  # type: ignore[union-attr]
    assert "forecast" not in attributes
    assert "forecast_p10" not in attributes
    assert "forecast_p90" not in attributes
    assert attributes["model"] == "typical"
    assert "forecast" in hass.states.get(LOAD_FORECAST).attributes  # type: ignore[union-attr]


async def test_model_is_stored_and_refitted_daily(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A reload restores the fitted model from Store; a day later it is fitted again."""
    await _prepare(hass, freezer, history_days=3)
    entry = await _setup(hass, step_minutes=60)
    before = forecast_points(hass, LOAD_FORECAST)

    fits = 0
    original = LoadForecaster.fit

    def counting_fit(self: LoadForecaster, history: Any) -> None:
        nonlocal fits
        fits += 1
        original(self, history)

    with patch.object(LoadForecaster, "fit", counting_fit):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert fits == 0
        assert forecast_points(hass, LOAD_FORECAST) == before
        assert hass.states.get(LOAD_MODEL).state == "profile"  # type: ignore[union-attr]

        await _advance(hass, freezer, 60)
        assert fits == 0
        freezer.tick(timedelta(days=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert fits == 1


async def test_a_changed_step_refits(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A model stored for another planning step is not used."""
    await _prepare(hass, freezer, history_days=3)
    entry = await _setup(hass, step_minutes=60)
    with patch.object(LoadForecaster, "fit", autospec=True, side_effect=LoadForecaster.fit) as fit:
        hass.config_entries.async_update_entry(entry, options=home_options(step_minutes=30))
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert fit.call_count == 1
    assert len(forecast_points(hass, LOAD_FORECAST)) == 48


async def test_unusable_store_refits(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A stored model that cannot be read is replaced by a fresh fit."""
    await _prepare(hass, freezer)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=home_data(**{CONF_LOAD_POWER: LOAD}),
        options=home_options(),
        unique_id=GRID,
    )
    entry.add_to_hass(hass)
    hass_storage[f"{DOMAIN}.{entry.entry_id}.forecaster"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.forecaster",
        "data": {
            "step_seconds": 900.0,
            "time_zone": "Europe/Berlin",
            "load": {"version": 99},
            "issued": {"load": {"1700000000": [500.0, 1.0]}},
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(LOAD_MODEL).state == "typical"  # type: ignore[union-attr]


async def test_rolling_accuracy(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Finished steps compare the forecast issued an hour ahead with the measured load."""
    await _prepare(hass, freezer, history_days=3)
    entry = await _setup(hass, step_minutes=60)
    forecaster = entry.runtime_data.forecaster

    await _advance(hass, freezer, 4 * 60)  # until 14:07: 12:00 and 13:00 are finished
    issued = [
        forecaster.issued["load"].get(int(datetime(2026, 11, 21, h, tzinfo=TZ).timestamp()))
        for h in (12, 13)
    ]
    assert None not in issued
    expected_mae = sum(abs(value - 1000.0) for value in issued if value is not None) / 2
    state = hass.states.get(LOAD_ERROR)
    assert state is not None
    assert state.attributes["samples"] == 2
    assert state.attributes["mae_w"] == pytest.approx(expected_mae, abs=0.1)
    assert float(state.state) == pytest.approx(expected_mae / 10.0, abs=0.1)


async def test_pv_array_gives_a_daytime_forecast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A PV array subentry without a forecast entity: the built-in model, zero at night."""
    await _prepare(hass, freezer, history_days=2, pv_history=False)
    entry = await _setup(hass, subentries=[_pv_array()], step_minutes=60)

    points = forecast_points(hass, PV_FORECAST)
    by_hour = _by_local_hour(points)
    assert all(by_hour[h] == 0.0 for h in (0, 3, 6, 18, 21, 23))
    assert by_hour[12] > 300.0
    assert max(by_hour.values()) < 5000.0
    state = hass.states.get(PV_FORECAST)
    assert state is not None
    assert float(state.state) == pytest.approx(points[0][1])
    assert state.attributes["model"] == "pv"
    assert "clear-sky" in state.attributes["note"]
    assert hass.states.get(PV_ERROR) is not None

    summary = (await async_get_config_entry_diagnostics(hass, entry))["forecaster"]
    assert summary["pv_source"] == "model"
    assert summary["pv_arrays"] == 1
    # no PV was measured yet: the model is not calibrated, and says so
    assert summary["pv_calibration"] is None
    assert "not calibrated" in state.attributes["note"]


async def test_pv_calibration_learns_from_measured_pv(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Panels that never produced anything (a broken inverter) are forecast to produce nothing."""
    await _prepare(hass, freezer, history_days=2)
    await _setup(hass, subentries=[_pv_array()], step_minutes=60)
    assert all(value == 0.0 for _, value in forecast_points(hass, PV_FORECAST))


async def test_pv_from_the_forecast_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A configured PV forecast entity wins over the built-in model of the arrays."""
    await _prepare(hass, freezer)
    start = datetime(2026, 11, 21, 10, tzinfo=TZ)
    hass.states.async_set(
        "sensor.solcast",
        "3.1",
        {
            "unit_of_measurement": "kWh",
            "detailedHourly": [
                {"period_start": (start + timedelta(hours=h)).isoformat(), "pv_estimate": 1.5}
                for h in range(4)
            ],
        },
    )
    await _setup(
        hass,
        home_data(**{CONF_LOAD_POWER: LOAD, CONF_PV_FORECAST: "sensor.solcast"}),
        subentries=[_pv_array()],
        step_minutes=60,
    )
    points = forecast_points(hass, PV_FORECAST)
    assert [value for _, value in points[:5]] == [1500.0, 1500.0, 1500.0, 1500.0, 0.0]
    assert hass.states.get(PV_FORECAST).attributes["model"] == "entity"  # type: ignore[union-attr]


def _register_weather(hass: HomeAssistant, speeds_kmh: list[float], fail: bool = False) -> None:
    """A weather entity in km/h and its hourly forecast action."""
    hass.states.async_set(WEATHER, "cloudy", {"wind_speed_unit": "km/h", "temperature_unit": "°F"})
    start = datetime(2026, 11, 21, 10, tzinfo=TZ)

    async def get_forecasts(call: ServiceCall) -> ServiceResponse:
        if fail:
            raise HomeAssistantError("no forecast")
        assert call.data["type"] == "hourly"
        return {
            WEATHER: {
                "forecast": [
                    {
                        "datetime": (start + timedelta(hours=h)).isoformat(),
                        "wind_speed": speed,
                        "cloud_coverage": 100,
                        "temperature": 41.0,
                    }
                    for h, speed in enumerate(speeds_kmh)
                ]
            }
        }

    hass.services.async_register(
        "weather", "get_forecasts", get_forecasts, supports_response=SupportsResponse.ONLY
    )


async def test_wind_turbine_follows_its_power_curve(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Forecast wind speed in km/h, converted to m/s, through the turbine's power curve."""
    await _prepare(hass, freezer)
    # 6 h each of 10 m/s, 15 m/s (above rated), 2 m/s (below cut-in), 30 m/s (above cut-out)
    _register_weather(hass, [36.0] * 6 + [54.0] * 6 + [7.2] * 6 + [108.0] * 6)
    entry = await _setup(
        hass,
        home_data(**{CONF_LOAD_POWER: LOAD, CONF_WEATHER: WEATHER}),
        subentries=[_turbine(), _turbine("Second mast")],
        step_minutes=60,
    )
    values = [value for _, value in forecast_points(hass, WIND_FORECAST)]
    rising = 1000.0 * (10.0**3 - 3.0**3) / (12.0**3 - 3.0**3)
    assert values[2] == pytest.approx(2 * rising, abs=0.2)  # two turbines
    assert values[8] == pytest.approx(2000.0)
    assert values[14] == 0.0
    assert values[20] == 0.0
    state = hass.states.get(WIND_FORECAST)
    assert state is not None
    assert float(state.state) == pytest.approx(values[0])
    assert entry.runtime_data.forecaster.summary()["wind_turbines"] == 2


async def test_weather_failure_keeps_forecasting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """When the weather action fails, the turbines forecast nothing and say why."""
    await _prepare(hass, freezer)
    _register_weather(hass, [], fail=True)
    await _setup(
        hass,
        home_data(**{CONF_LOAD_POWER: LOAD, CONF_WEATHER: WEATHER}),
        subentries=[_turbine(), _pv_array("Broken", **{CONF_TILT: 120.0})],
    )
    state = hass.states.get(WIND_FORECAST)
    assert state is not None
    assert state.state == "0.0"
    assert state.attributes["note"] == "no wind speed forecast"
    # an array that cannot exist is left out (with a warning): no PV forecast at all
    assert hass.states.get(PV_FORECAST) is None


def test_weather_from_forecast_reads_units_and_gaps() -> None:
    """Speeds and temperatures are converted; items without a time are skipped."""
    weather = weather_from_forecast(
        [
            {"datetime": "2026-11-21T10:00:00+00:00", "wind_speed": 36, "temperature": 50},
            {"datetime": "2026-11-21T11:00:00", "wind_speed": "n/a", "cloud_coverage": 20},
            {"wind_speed": 10},
        ],
        "km/h",
        "°F",
    )
    assert weather is not None
    assert weather.wind_speed is not None
    assert weather.wind_speed[0] == pytest.approx(10.0)
    assert weather.temperature is not None
    assert weather.temperature[0] == pytest.approx(10.0)
    # a time without an offset is in the home's time zone
    local = datetime(2026, 11, 21, 11, tzinfo=dt_util.get_default_time_zone())
    assert local.timestamp() in weather.times
    assert weather_from_forecast([{"wind_speed": 1}], None, None) is None


async def test_without_recorder_history_the_home_still_forecasts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The recorder is optional: without it the forecast starts from the typical profile."""
    await _prepare(hass, freezer)
    hass.config.components.remove("recorder")
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(LOAD_MODEL).state == "typical"  # type: ignore[union-attr]
    assert "no history" in hass.states.get(LOAD_MODEL).attributes["note"]  # type: ignore[union-attr]
    hass.config.components.add("recorder")
    assert dt_util.utcnow() == NOW
