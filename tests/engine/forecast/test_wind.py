"""Wind turbines: power curve and hub-height correction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from custom_components.energy_collective.engine.forecast import (
    Weather,
    WindForecaster,
    WindTurbine,
)
from custom_components.energy_collective.engine.forecast.base import epoch_grid

TURBINE = WindTurbine(rated_power_w=2000.0, cut_in_ms=3.0, rated_speed_ms=11.0, cut_out_ms=25.0)


def test_power_curve_regions() -> None:
    speeds = np.array([0.0, 2.9, 3.0, 7.0, 11.0, 18.0, 24.9, 25.0, 40.0, np.nan])
    power = TURBINE.power(speeds)
    assert power[:3].tolist() == [0.0, 0.0, 0.0]
    assert 0.0 < power[3] < 2000.0
    assert power[3] == pytest.approx(2000.0 * (7**3 - 3**3) / (11**3 - 3**3))
    assert power[4:7].tolist() == [2000.0, 2000.0, 2000.0]
    assert power[7:9].tolist() == [0.0, 0.0]
    assert np.isnan(power[9])
    rising = TURBINE.power(np.linspace(3.0, 11.0, 50))
    assert np.all(np.diff(rising) > 0)


def test_hub_height_follows_the_power_law() -> None:
    tall = WindTurbine(1000.0, hub_height_m=30.0)
    assert tall.hub_speed(np.array([5.0]))[0] == pytest.approx(5.0 * 3 ** (1 / 7))
    assert tall.hub_speed(np.array([5.0]), reference_height_m=30.0)[0] == pytest.approx(5.0)
    assert tall.hub_speed(np.array([-1.0]))[0] == 0.0


def test_forecaster_sums_turbines_with_ordered_quantiles() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    times = epoch_grid(start, step, 48)
    speed = np.linspace(0.0, 30.0, 48)
    weather = Weather(times=times, wind_speed=speed, wind_height_m=10.0)
    one = WindForecaster([TURBINE]).predict(start, step, 48, weather)
    two = WindForecaster([TURBINE, TURBINE]).predict(start, step, 48, weather)
    np.testing.assert_allclose(two.array(), 2 * one.array())
    p10, p50, p90 = (two.array(q) for q in ("p10", "p50", "p90"))
    assert np.all(p10 <= p50)
    assert np.all(p50 <= p90)
    assert two.model == "wind"
    assert two.note is None
    stored = json.loads(json.dumps(WindForecaster([TURBINE]).to_dict()))
    assert WindForecaster.from_dict(stored).predict(start, step, 48, weather) == one


def test_no_wind_forecast_gives_zero_and_says_so() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    result = WindForecaster([TURBINE]).predict(start, timedelta(hours=1), 6, None)
    assert result.p50 == (0.0,) * 6
    assert result.note == "no wind speed forecast"


def test_bad_turbines_are_refused() -> None:
    with pytest.raises(ValueError, match="cut-in"):
        WindTurbine(1000.0, cut_in_ms=12.0, rated_speed_ms=11.0)
    with pytest.raises(ValueError, match="negative"):
        WindTurbine(-1.0)
    with pytest.raises(ValueError, match="hub height"):
        WindTurbine(1000.0, hub_height_m=0.0)
    with pytest.raises(ValueError, match="not a stored wind"):
        WindForecaster.from_dict({"kind": "pv"})
