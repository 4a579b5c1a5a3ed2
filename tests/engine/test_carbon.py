"""Carbon intensity: forecasts from entity attributes, the learned profile, emissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_collective.engine.carbon import (
    CarbonForecast,
    CarbonProfile,
    intensity_series,
    parse_carbon_attributes,
    plan_emissions_kg,
    to_kg_per_kwh,
    unit_factor,
)
from custom_components.energy_collective.engine.model import Series

H = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2025, 1, 27, tzinfo=UTC)  # a Monday


def test_electricity_maps_style_forecast() -> None:
    attributes = {
        "unit_of_measurement": "gCO2eq/kWh",
        "forecast": [
            {"datetime": "2025-01-27T00:00:00Z", "carbonIntensity": 300},
            {"datetime": "2025-01-27T01:00:00Z", "carbonIntensity": 250},
            {"datetime": "2025-01-27T02:00:00Z", "carbonIntensity": 200},
            {"datetime": "bad", "carbonIntensity": 1},
        ],
    }
    forecast = parse_carbon_attributes(attributes)
    assert forecast is not None
    assert [i.value for i in forecast.intervals] == [300, 250, 200]
    assert forecast.intervals[-1].end == T0 + 3 * H
    assert forecast.skipped == 1


def test_uk_style_records_prefer_actual() -> None:
    attributes = {
        "data": [
            {
                "from": "2025-01-27T00:00Z",
                "to": "2025-01-27T00:30Z",
                "intensity": {"forecast": 180, "actual": 175, "index": "moderate"},
            },
            {
                "from": "2025-01-27T00:30Z",
                "to": "2025-01-27T01:00Z",
                "intensity": {"forecast": 160, "actual": None, "index": "moderate"},
            },
        ]
    }
    forecast = parse_carbon_attributes(attributes)
    assert forecast is not None
    assert [(i.start.minute, i.value) for i in forecast.intervals] == [(0, 175), (30, 160)]


def test_kg_units_generic_lists_and_mappings() -> None:
    kg = {
        "unit_of_measurement": "kg/kWh",
        "forecast": {"2025-01-27T00:00:00+00:00": 0.3, "2025-01-27T01:00:00+00:00": 0.2},
    }
    forecast = parse_carbon_attributes(kg)
    assert forecast is not None
    assert [i.value for i in forecast.intervals] == pytest.approx([300, 200])
    generic = {
        "co2": [
            {"time": "2025-01-27T00:00:00+00:00", "g": 120},
            {"time": "2025-01-27T01:00:00+00:00", "g": 140},
        ]
    }
    forecast = parse_carbon_attributes(generic)
    assert forecast is not None
    assert [i.value for i in forecast.intervals] == [120, 140]
    # points far apart do not stretch over the gap
    sparse = {
        "forecast": [
            {"datetime": "2025-01-27T00:00:00Z", "carbonIntensity": 1},
            {"datetime": "2025-01-28T00:00:00Z", "carbonIntensity": 2},
        ]
    }
    forecast = parse_carbon_attributes(sparse)
    assert forecast is not None
    assert forecast.intervals[0].end == T0 + 3 * H
    assert parse_carbon_attributes({"friendly_name": "CO2", "forecast": []}) is None
    assert parse_carbon_attributes({"forecast": "soon", "data": [{"x": 1}]}) is None
    assert unit_factor(None) == 1
    assert unit_factor("kgCO₂e/kWh") == 1000
    assert unit_factor("lbs/MWh") == pytest.approx(0.45359237)
    assert unit_factor("gCO2eq/kWh") == 1


def test_profile_learns_by_hour_and_day_type() -> None:
    profile = CarbonProfile(alpha=0.5)
    assert profile.predict(T0, UTC) is None
    # Monday 08:00 Berlin = 07:00 UTC
    profile.update(T0 + 7 * H, 400, BERLIN)
    assert profile.weekday[8] == 400
    profile.update(T0 + 7 * H, 200, BERLIN)  # second sample: plain mean
    assert profile.weekday[8] == 300
    profile.update(T0 + 7 * H, 100, BERLIN)  # then alpha = 0.5
    assert profile.weekday[8] == 200
    profile.update(T0 + 7 * H, float("nan"), BERLIN)
    profile.update(T0 + 7 * H, -5, BERLIN)
    assert profile.weekday_count[8] == 3
    saturday = T0 + timedelta(days=5)
    # the weekend hour is unknown: the same hour of weekdays
    assert profile.predict(saturday + 7 * H, BERLIN) == 200
    # another hour: the mean of the known weekday hours, then of all
    assert profile.predict(T0 + 12 * H, BERLIN) == 200
    profile.update(saturday + 12 * H, 50, BERLIN)
    assert profile.predict(saturday + 3 * H, BERLIN) == 50
    assert profile.series(T0 + 7 * H, H, 2, BERLIN) == (200, 200)


def test_profile_learns_a_series_and_round_trips() -> None:
    values: list[float | None] = [100.0 + 10 * (i % 24) for i in range(24 * 14)]
    values[5] = None
    profile = CarbonProfile()
    used = profile.learn(Series(T0, H, tuple(values)), UTC)
    assert used == 24 * 14 - 1
    assert profile.predict(T0 + 13 * H, UTC) == pytest.approx(230)
    data = json.loads(json.dumps(profile.to_dict()))
    again = CarbonProfile.from_dict(data)
    assert again == profile
    with pytest.raises(ValueError, match="version"):
        CarbonProfile.from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="weekend must be a list"):
        CarbonProfile.from_dict({**data, "weekend": None})
    with pytest.raises(ValueError, match="weekend_count must be a list"):
        CarbonProfile.from_dict({**data, "weekend_count": "x"})
    with pytest.raises(ValueError, match="24 hours"):
        CarbonProfile.from_dict({**data, "weekday": [1.0]})
    with pytest.raises(ValueError, match="alpha"):
        CarbonProfile(alpha=0)


def test_intensity_series_combines_sources() -> None:
    forecast = parse_carbon_attributes(
        {
            "forecast": [
                {"datetime": "2025-01-27T00:00:00Z", "carbonIntensity": 300},
                {"datetime": "2025-01-27T01:00:00Z", "carbonIntensity": 250},
            ]
        }
    )
    profile = CarbonProfile()
    profile.update(T0 + 2 * H, 90, UTC)
    values = intensity_series(T0, H, 4, UTC, forecast=forecast, profile=profile)
    # the forecast's last point lasts the usual spacing (one hour), then the profile
    assert values == (300, 250, 90, 90)
    assert intensity_series(T0, H, 2, UTC, current=150) == (150, 150)
    assert intensity_series(T0, H, 2, UTC, forecast=CarbonForecast(())) is None
    assert to_kg_per_kwh((300.0, 50.0)) == (0.3, 0.05)


def test_plan_emissions() -> None:
    # 2 kW for an hour at 300 g/kWh, 1 kW for 30 min at 100 g/kWh, export counts nothing
    assert plan_emissions_kg([2000, 0, -500], [300, 50, 400], H) == pytest.approx(0.6)
    assert plan_emissions_kg([1000], [100], timedelta(minutes=30)) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="same length"):
        plan_emissions_kg([1.0], [], H)
