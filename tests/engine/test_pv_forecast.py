"""PV forecast formats, read into average power in W."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_collective.engine.model import Interval
from custom_components.energy_collective.engine.pv_forecast import (
    ParsedForecast,
    parse_pv_forecast_attributes,
    parse_wh_hours,
)
from custom_components.energy_collective.engine.timeseries import to_series

FIXTURES = Path(__file__).parent / "fixtures"
HOUR = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert data["_source"]
    payload: dict[str, Any] = data.get("attributes") or data["response"]
    return payload


def energy_wh(intervals: tuple[Interval, ...] | list[Interval]) -> float:
    return sum(i.value * (i.end - i.start).total_seconds() / 3600 for i in intervals)


def test_solcast_half_hourly_kw_become_watts_and_keep_the_days_energy() -> None:
    attributes = load("solcast_forecast_today.json")
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "solcast"
    assert parsed.error is None
    assert len(parsed.intervals) == 48
    assert {i.end - i.start for i in parsed.intervals} == {timedelta(minutes=30)}
    assert max(i.value for i in parsed.intervals) == pytest.approx(
        1000 * max(d["pv_estimate"] for d in attributes["detailedForecast"])
    )
    # The sensor's state (estimate) is the day's energy in kWh.
    assert energy_wh(parsed.intervals) == pytest.approx(attributes["estimate"] * 1000, rel=1e-3)


def test_solcast_pessimistic_estimate_can_be_chosen() -> None:
    attributes = load("solcast_forecast_today.json")
    low = parse_pv_forecast_attributes(attributes, estimate="pv_estimate10")
    assert energy_wh(low.intervals) == pytest.approx(attributes["estimate10"] * 1000, rel=1e-3)
    unknown = parse_pv_forecast_attributes(attributes, estimate="pv_estimate42")
    assert unknown == parse_pv_forecast_attributes(attributes)


def test_solcast_hourly_detail_is_used_when_the_half_hours_are_off() -> None:
    attributes = dict(load("solcast_forecast_today.json"))
    del attributes["detailedForecast"]
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "solcast"
    assert len(parsed.intervals) == 24
    assert {i.end - i.start for i in parsed.intervals} == {HOUR}
    assert energy_wh(parsed.intervals) == pytest.approx(attributes["estimate"] * 1000, rel=1e-3)


def test_solcast_empty_or_foreign_lists_are_not_solcast() -> None:
    assert parse_pv_forecast_attributes({"detailedForecast": []}).format is None
    assert parse_pv_forecast_attributes({"detailedForecast": "x"}).format is None
    other = parse_pv_forecast_attributes(
        {
            "detailedForecast": [{"time": "2025-06-11T00:00:00Z", "value": 1}],
            "unit_of_measurement": "kW",
        }
    )
    assert other.format == "list"


def test_open_meteo_instant_watts_are_averaged_between_samples() -> None:
    attributes = load("open_meteo_energy_production_today.json")
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "open_meteo"
    assert len(parsed.intervals) == 96
    watts = list(attributes["watts"].values())
    assert parsed.intervals[40].value == pytest.approx((watts[40] + watts[41]) / 2)
    assert parsed.intervals[-1].value == watts[-1]
    # The hourly energy Open-Meteo states agrees with the power curve within a few percent.
    assert energy_wh(parsed.intervals) == pytest.approx(
        sum(attributes["wh_period"].values()), rel=0.02
    )


def test_open_meteo_hourly_energy_alone_is_turned_into_average_power() -> None:
    attributes = load("open_meteo_energy_production_today.json")
    parsed = parse_pv_forecast_attributes({"wh_period": attributes["wh_period"]})
    assert parsed.format == "open_meteo"
    assert len(parsed.intervals) == 24
    noon = next(i for i in parsed.intervals if i.start == datetime(2025, 6, 21, 11, tzinfo=UTC))
    assert noon.value == attributes["wh_period"]["2025-06-21T13:00:00+02:00"]


def test_forecast_solar_wh_hours_give_average_power_per_hour() -> None:
    response = load("forecast_solar_wh_hours.json")
    intervals = parse_wh_hours(response["wh_hours"])
    assert energy_wh(intervals) == pytest.approx(sum(response["wh_hours"].values()))
    at_noon = next(i for i in intervals if i.start == datetime(2025, 6, 21, 10, tzinfo=UTC))
    assert at_noon.value == response["wh_hours"]["2025-06-21T12:00:00+02:00"]
    # Sunrise at 04:49:13 starts a short period, and the night is a gap, not a long period.
    assert intervals[0].end - intervals[0].start == timedelta(minutes=10, seconds=47)
    assert max(i.end - i.start for i in intervals) == HOUR
    night = to_series(intervals, datetime(2025, 6, 21, 23, tzinfo=BERLIN), HOUR, 4)
    assert night.values == (None, None, None, None)


def test_forecast_solar_response_is_recognised_as_attributes_too() -> None:
    response = load("forecast_solar_wh_hours.json")
    parsed = parse_pv_forecast_attributes(response)
    assert parsed.format == "forecast_solar"
    assert list(parsed.intervals) == parse_wh_hours(response["wh_hours"])


def test_wh_hours_with_a_shorter_period_and_bad_entries() -> None:
    mapping = {"2025-06-21T10:00:00+00:00": 500, "2025-06-21T10:30:00+00:00": "x", "later": 3}
    (interval,) = parse_wh_hours(mapping, period=timedelta(minutes=30))
    assert interval.value == 1000.0
    assert parse_pv_forecast_attributes({"wh_hours": mapping}).skipped == 2


def test_emhass_pv_forecast_strings_in_watts() -> None:
    attributes = load("emhass_p_pv_forecast.json")
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "emhass"
    assert len(parsed.intervals) == 48
    assert parsed.intervals[0].value == float(attributes["forecasts"][0]["p_pv_forecast"])
    assert parsed.intervals[0].start == datetime(2025, 5, 20, 12, 30, tzinfo=UTC)


def test_emhass_lists_without_a_single_value_name_are_skipped() -> None:
    attributes = {"forecasts": [{"date": "2025-05-20 14:30:00+02:00", "a": "1", "b": "2"}]}
    assert parse_pv_forecast_attributes(attributes) == ParsedForecast()


def test_haeo_solar_power_in_kw_becomes_watts() -> None:
    attributes = load("haeo_solar_power.json")
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "haeo"
    values = [point["value"] * 1000 for point in attributes["forecast"]]
    assert [i.value for i in parsed.intervals] == pytest.approx(values)
    assert parsed.intervals[0].end - parsed.intervals[0].start == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("unit", "watts"),
    [(None, 1500.0), ("W", 1500.0), ("kW", 1_500_000.0), ("Wh", 1500.0), ("kWh", 1_500_000.0)],
)
def test_a_plain_mapping_uses_the_entitys_unit(unit: str | None, watts: float) -> None:
    attributes: dict[str, Any] = {
        "forecast": {"2025-06-21T10:00:00+00:00": 1500, "2025-06-21T11:00:00+00:00": 1500}
    }
    if unit:
        attributes["unit_of_measurement"] = unit
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "mapping"
    assert [i.value for i in parsed.intervals] == [watts, watts]


def test_energy_per_quarter_hour_is_four_times_the_power() -> None:
    attributes = {
        "2025-06-21T10:00:00+00:00": 250,
        "2025-06-21T10:15:00+00:00": 250,
        "unit_of_measurement": "Wh",
        "friendly_name": "PV energy next periods",
    }
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "mapping"
    assert [i.value for i in parsed.intervals] == [1000.0, 1000.0]


def test_a_series_in_a_unit_that_is_not_power_or_energy_is_reported() -> None:
    attributes = {
        "forecast": [{"time": "2025-06-21T10:00:00Z", "value": 55}],
        "unit_of_measurement": "%",
    }
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.format == "haeo"
    assert parsed.intervals == ()
    assert parsed.error == "unknown_unit"


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"friendly_name": "PV"},
        {"watts": {}},
        {"forecast": "later"},
        {"wh_period": []},
        {"forecasts": ["not a record"]},
        {"forecasts": [{"time": "2025-06-21T10:00:00Z", "a": 1, "b": 2}]},
    ],
)
def test_attributes_without_a_forecast_give_an_empty_result(attributes: dict[str, Any]) -> None:
    assert parse_pv_forecast_attributes(attributes) == ParsedForecast()


def test_bad_entries_are_skipped_and_counted() -> None:
    attributes = {
        "detailedForecast": [
            {"period_start": "2025-06-12T10:00:00+10:00", "pv_estimate": 2.0},
            {"period_start": "2025-06-12T10:30:00+10:00", "pv_estimate": None},
            {"period_start": "nonsense", "pv_estimate": 2.0},
            {"period_start": "2025-06-12T11:00:00+10:00", "pv_estimate": 3.0},
        ]
    }
    parsed = parse_pv_forecast_attributes(attributes)
    assert parsed.skipped == 2
    # 10:00 lasts its usual 30 minutes: the missing 10:30 stays unknown.
    assert [(i.end - i.start, i.value) for i in parsed.intervals] == [
        (timedelta(minutes=30), 2000.0),
        (timedelta(minutes=30), 3000.0),
    ]
