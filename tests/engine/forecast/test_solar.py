"""Built-in PV forecast: solar geometry, clear sky, clouds, calibration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from custom_components.energy_collective.engine.forecast import (
    History,
    PVArray,
    SolarForecaster,
    Weather,
    solar_position,
    sum_results,
)
from custom_components.energy_collective.engine.forecast.base import epoch_grid
from custom_components.energy_collective.engine.forecast.solar import (
    clear_sky_ghi,
    cloud_factor,
    erbs_split,
)

QUARTER = timedelta(minutes=15)


def test_sun_position_matches_the_spa_reference_example() -> None:
    # Reda & Andreas (2004), NREL SPA, table A5.1: Golden, Colorado, 820 mbar, 11 C.
    moment = datetime(2003, 10, 17, 12, 30, 30, tzinfo=timezone(timedelta(hours=-7)))
    sun = solar_position(
        np.array([moment.timestamp()]),
        39.742476,
        -105.1786,
        pressure_hpa=820.0,
        temperature_c=11.0,
    )
    assert sun.zenith[0] == pytest.approx(50.11162, abs=0.05)
    assert sun.azimuth[0] == pytest.approx(194.34024, abs=0.05)
    assert sun.elevation[0] == pytest.approx(90 - 50.11162, abs=0.05)


def test_sun_position_agrees_with_astral_where_it_is_installed() -> None:
    astral_sun = pytest.importorskip("astral.sun")
    astral = pytest.importorskip("astral")
    observer = astral.Observer(latitude=-33.86, longitude=151.21)
    moments = [
        datetime(2024, month, 11, hour, 7, tzinfo=UTC) for month in (1, 6) for hour in (0, 3, 22)
    ]
    ours = solar_position(np.array([m.timestamp() for m in moments]), -33.86, 151.21)
    for i, moment in enumerate(moments):
        assert ours.zenith[i] == pytest.approx(astral_sun.zenith(observer, moment), abs=0.05)
        assert ours.azimuth[i] == pytest.approx(astral_sun.azimuth(observer, moment), abs=0.05)


def test_pv_is_zero_at_night_and_peaks_near_solar_noon() -> None:
    forecaster = SolarForecaster(48.83, 6.86, [PVArray(5.0, tilt=30, azimuth=180)])
    start = datetime(2024, 9, 10, tzinfo=UTC)
    result = forecaster.predict(start, QUARTER, 96)
    p50 = result.array()
    times = epoch_grid(start, QUARTER, 96) + 450
    sun = solar_position(times, 48.83, 6.86)
    assert np.all(p50[sun.elevation < -1] == 0.0)
    assert p50.max() > 0
    peak = float(sun.solar_hour[int(np.argmax(p50))])
    assert abs(peak - 12.0) <= 0.5
    assert result.note is not None
    assert "no cloud forecast" in result.note
    assert "not calibrated" in result.note


def test_south_array_in_june_at_48n_has_a_plausible_clear_sky_peak() -> None:
    forecaster = SolarForecaster(48.0, 11.0, [PVArray(1.0, tilt=35, azimuth=180)])
    start = datetime(2024, 6, 21, tzinfo=UTC)
    times = epoch_grid(start, QUARTER, 96)
    clear = Weather(times=times, cloud_coverage=np.zeros(96))
    result = forecaster.predict(start, QUARTER, 96, clear)
    assert 850.0 <= max(result.p50) <= 1000.0  # W per kWp
    assert result.note == "not calibrated against measured PV yet"
    p10, p50, p90 = (result.array(q) for q in ("p10", "p50", "p90"))
    assert np.all(p10 <= p50)
    assert np.all(p50 <= p90)


def test_clouds_reduce_output_following_kasten_czeplak() -> None:
    assert cloud_factor(np.array([0.0, 100.0]))[1] == pytest.approx(0.25)
    assert cloud_factor(np.array([0.0]))[0] == 1.0
    forecaster = SolarForecaster(48.0, 11.0, [PVArray(4.0)])
    start = datetime(2024, 6, 21, tzinfo=UTC)
    times = epoch_grid(start, QUARTER, 96)
    overcast = forecaster.predict(start, QUARTER, 96, Weather(times, np.full(96, 100.0)))
    sunny = forecaster.predict(start, QUARTER, 96, Weather(times, np.zeros(96)))
    assert 0.15 * sum(sunny.p50) < sum(overcast.p50) < 0.5 * sum(sunny.p50)
    hot = forecaster.predict(
        start, QUARTER, 96, Weather(times, np.zeros(96), temperature=np.full(96, 35.0))
    )
    assert sum(hot.p50) < sum(sunny.p50)


def test_irradiance_split_keeps_energy() -> None:
    zenith = np.array([20.0, 60.0, 89.0, 120.0])
    ghi = clear_sky_ghi(zenith)
    assert ghi[3] == 0.0
    dni, dhi = erbs_split(ghi, zenith, np.ones(4))
    np.testing.assert_allclose(dhi + dni * np.cos(np.radians(zenith)), ghi, atol=1e-9)
    assert dni[2] == 0.0
    assert dhi[0] < 0.3 * ghi[0]


def _measured(
    forecaster: SolarForecaster, start: datetime, days: int, weather: Weather | None
) -> History:
    step = timedelta(hours=1)
    count = days * 24
    truth = forecaster.predict(start, step, count, weather)
    return History.from_values(start, step, [0.7 * v for v in truth.p50])


@pytest.mark.parametrize("with_clouds", [False, True])
def test_calibration_learns_a_shaded_array(with_clouds: bool) -> None:
    forecaster = SolarForecaster(48.83, 6.86, [PVArray(3.0, tilt=30, azimuth=170)])
    start = datetime(2024, 5, 1, tzinfo=UTC)
    days = 40
    times = epoch_grid(start, timedelta(hours=1), days * 24 + 48)
    rng = np.random.default_rng(3)
    weather = Weather(times=times, cloud_coverage=rng.uniform(0, 100, times.size))
    reference = SolarForecaster(48.83, 6.86, [PVArray(3.0, tilt=30, azimuth=170)])
    if with_clouds:
        history = _measured(reference, start, days, weather)
        forecaster.fit(history, weather)
        assert forecaster.calibration_mode == "clouds"
    else:
        clear = Weather(times=times, cloud_coverage=np.zeros(times.size))
        history = _measured(reference, start, days, clear)
        forecaster.fit(history)
        assert forecaster.calibration_mode == "clear_sky_envelope"
    end = history.end
    after = forecaster.predict(end, timedelta(hours=1), 48, weather)
    expected = 0.7 * reference.predict(end, timedelta(hours=1), 48, weather).array()
    assert after.note is None
    assert abs(after.array().sum() - expected.sum()) <= 0.05 * expected.sum()
    day = expected > 0.1 * expected.max()
    np.testing.assert_allclose(after.array()[day], expected[day], rtol=0.05)
    restored = SolarForecaster.from_dict(json.loads(json.dumps(forecaster.to_dict())))
    assert restored.predict(end, timedelta(hours=1), 48, weather) == after


def test_calibration_without_daylight_keeps_factor_one() -> None:
    forecaster = SolarForecaster(60.0, 10.0, [PVArray(2.0)])
    night = History.from_values(datetime(2024, 1, 1, 20, tzinfo=UTC), timedelta(hours=1), [0.0] * 6)
    forecaster.fit(night)
    assert np.all(forecaster.factors == 1.0)


def test_several_arrays_are_summed() -> None:
    east = PVArray(3.0, tilt=20, azimuth=90, name="east")
    west = PVArray(3.0, tilt=20, azimuth=270, name="west")
    start = datetime(2024, 4, 2, tzinfo=UTC)
    both = SolarForecaster(-35.0, 149.0, [east, west]).predict(start, QUARTER, 96)
    parts = [SolarForecaster(-35.0, 149.0, [a]).predict(start, QUARTER, 96) for a in (east, west)]
    np.testing.assert_allclose(both.array(), sum_results(parts).array(), rtol=1e-9)
    assert SolarForecaster(-35.0, 149.0, [east, west]).kwp == 6.0


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="latitude"):
        SolarForecaster(95.0, 0.0, [])
    with pytest.raises(ValueError, match="tilt"):
        PVArray(1.0, tilt=100)
    with pytest.raises(ValueError, match="kWp"):
        PVArray(-1.0)
    with pytest.raises(ValueError, match="losses"):
        PVArray(1.0, losses=1.5)
    with pytest.raises(ValueError, match="not a stored PV"):
        SolarForecaster.from_dict({"kind": "load"})
