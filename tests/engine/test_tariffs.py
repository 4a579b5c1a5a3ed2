"""Price formats of the integrations users have, and fixed time-of-use schedules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_collective.engine.model import Interval
from custom_components.energy_collective.engine.tariffs import (
    ParsedPrices,
    ScheduleError,
    TouSchedule,
    local_to_utc,
    parse_nordpool_response,
    parse_price_attributes,
    parse_tibber_response,
    parse_tou_schedule,
)
from custom_components.energy_collective.engine.timeseries import to_series
from custom_components.energy_collective.engine.units import UnitError

FIXTURES = Path(__file__).parent / "fixtures"
HOUR = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert data["_source"]
    payload: dict[str, Any] = data.get("attributes") or data["response"]
    return payload


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time without zone, as `TouSchedule.price_at` accepts."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001


def lengths(intervals: tuple[Interval, ...] | list[Interval]) -> set[timedelta]:
    return {i.end - i.start for i in intervals}


# --- Nord Pool (custom integration) ------------------------------------------------------------


def test_nordpool_15_min_prices_in_cents_become_eur_per_kwh() -> None:
    attributes = load("nordpool_custom_fi_15min.json")
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "nordpool"
    assert parsed.currency == "EUR"
    assert parsed.iso_currency == "EUR"
    assert parsed.skipped == 0
    assert len(parsed.intervals) == 192
    assert lengths(parsed.intervals) == {timedelta(minutes=15)}
    first = attributes["raw_today"][0]
    per_kwh = parsed.per_kwh()
    assert per_kwh[0].value == pytest.approx(first["value"] / 100)
    assert per_kwh[0].start == datetime.fromisoformat(first["start"])


def test_tomorrows_15_min_nordpool_prices_resampled_to_60_min_give_the_hourly_mean() -> None:
    attributes = load("nordpool_custom_fi_15min.json")
    prices = parse_price_attributes(attributes).per_kwh()
    helsinki = ZoneInfo("Europe/Helsinki")
    tomorrow = datetime(2025, 10, 15, tzinfo=helsinki)
    series = to_series(prices, tomorrow, HOUR, 24)
    quarters = [item["value"] / 100 for item in attributes["raw_tomorrow"]]
    expected = [mean(quarters[4 * h : 4 * h + 4]) for h in range(24)]
    assert series.values == pytest.approx(expected)


def test_nordpool_attributes_as_python_objects_read_like_their_json() -> None:
    # In the state machine raw_today holds datetime objects; restored or exported, strings.
    attributes = load("nordpool_custom_fi_15min.json")
    as_objects = dict(attributes)
    as_objects["raw_today"] = [
        {
            **item,
            "start": datetime.fromisoformat(item["start"]),
            "end": datetime.fromisoformat(item["end"]),
        }
        for item in attributes["raw_today"]
    ]
    assert parse_price_attributes(as_objects) == parse_price_attributes(attributes)


def test_a_dst_change_day_has_23_hourly_nordpool_prices() -> None:
    attributes = load("nordpool_custom_se3_dst.json")
    parsed = parse_price_attributes(attributes)
    assert parsed.unit == "SEK/kWh"
    assert parsed.per_kwh() == parsed.intervals
    stockholm = ZoneInfo("Europe/Stockholm")
    day_start = datetime(2025, 3, 30, tzinfo=stockholm)
    day_end = datetime(2025, 3, 31, tzinfo=stockholm)
    tomorrow = [i for i in parsed.intervals if day_start <= i.start < day_end]
    assert len(tomorrow) == 23
    hours = int((day_end - day_start.astimezone(UTC)).total_seconds() // 3600)
    series = to_series(parsed.intervals, day_start, HOUR, hours)
    assert hours == 23
    assert series.coverage() == 1.0
    assert list(series.values) == [i.value for i in tomorrow]


def test_nordpool_tomorrow_is_ignored_while_not_valid() -> None:
    attributes = dict(load("nordpool_custom_se3_dst.json"))
    attributes["tomorrow_valid"] = False
    parsed = parse_price_attributes(attributes)
    assert len(parsed.intervals) == 24


def test_nordpool_junk_prices_are_skipped_and_counted() -> None:
    attributes = dict(load("nordpool_custom_se3_dst.json"))
    raw_today = [dict(item) for item in attributes["raw_today"]]
    raw_today[3]["value"] = None  # the integration turns an infinite API price into None
    attributes["raw_today"] = raw_today
    parsed = parse_price_attributes(attributes)
    assert parsed.skipped == 1
    assert len(parsed.intervals) == 46


def test_nordpool_unit_falls_back_to_the_stated_unit() -> None:
    attributes = {
        "raw_today": load("nordpool_custom_se3_dst.json")["raw_today"],
        "unit_of_measurement": "öre/kWh",
    }
    parsed = parse_price_attributes(attributes)
    assert parsed.unit == "öre/kWh"
    assert parsed.currency is None
    assert parsed.iso_currency == "SEK"


def test_nordpool_without_currency_keeps_the_stated_unit() -> None:
    attributes = dict(load("nordpool_custom_se3_dst.json"))
    del attributes["currency"]
    attributes["unit_of_measurement"] = "kr/kWh"
    parsed = parse_price_attributes(attributes)
    assert (parsed.unit, parsed.currency, parsed.iso_currency) == ("kr/kWh", None, None)


# --- Nord Pool (core integration) and Tibber: action responses -----------------------------------


def test_core_nordpool_response_gives_a_days_quarter_hours_per_mwh() -> None:
    response = load("nordpool_get_prices_for_date.json")
    prices = parse_nordpool_response(response, "SE4")
    assert len(prices) == 96
    assert lengths(prices) == {timedelta(minutes=15)}
    assert prices[0].value == response["SE4"][0]["price"]  # SEK/MWh, as the action answers
    assert prices[0].start == datetime(2025, 10, 14, 22, tzinfo=UTC)
    hourly = to_series(prices, prices[0].start, HOUR, 24)
    first_hour = [entry["price"] for entry in response["SE4"][:4]]
    assert hourly.values[0] == pytest.approx(mean(first_hour))


def test_core_nordpool_response_without_area_uses_the_first() -> None:
    response = load("nordpool_get_prices_for_date.json")
    assert parse_nordpool_response(response, None) == parse_nordpool_response(response, "SE3")


@pytest.mark.parametrize(
    ("response", "area"),
    [({}, None), ({"SE3": "oops"}, "SE3"), ({"SE3": []}, "SE1"), ({1: []}, None)],
)
def test_core_nordpool_response_without_prices_gives_nothing(
    response: dict[Any, Any], area: str | None
) -> None:
    assert parse_nordpool_response(response, area) == []


def test_tibber_prices_hold_an_hour_each() -> None:
    response = load("tibber_get_prices.json")
    prices = parse_tibber_response(response, "Leilighet")
    assert len(prices) == 24
    assert lengths(prices) == {HOUR}
    assert prices[0].value == response["prices"]["Leilighet"][0]["price"]
    assert prices[0].start == datetime(2025, 5, 11, 22, tzinfo=UTC)
    assert parse_tibber_response(response, None) == parse_tibber_response(response, "Hytta")


def test_a_single_tibber_price_lasts_an_hour() -> None:
    response = {"prices": {"Home": [{"start_time": "2025-05-12T00:00:00.000+02:00", "price": 1.2}]}}
    (price,) = parse_tibber_response(response, None)
    assert price.end - price.start == HOUR


@pytest.mark.parametrize(
    ("response", "home"),
    [({}, None), ({"prices": {}}, None), ({"prices": {"A": None}}, "A"), ({"prices": []}, None)],
)
def test_tibber_response_without_prices_gives_nothing(
    response: dict[str, Any], home: str | None
) -> None:
    assert parse_tibber_response(response, home) == []


# --- ENTSO-E, Octopus Energy, Amber Electric ------------------------------------------------------


def test_entsoe_lists_are_merged_without_double_counting() -> None:
    attributes = load("entsoe_nl.json")
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "entsoe"
    assert parsed.unit == "EUR/kWh"
    assert parsed.iso_currency == "EUR"
    assert len(parsed.intervals) == 48  # prices repeats prices_today + prices_tomorrow
    assert lengths(parsed.intervals) == {HOUR}
    assert parsed.intervals[0].start == datetime(2025, 6, 10, 22, tzinfo=UTC)
    assert min(i.value for i in parsed.intervals) < 0  # sunny Dutch middays


def test_entsoe_tomorrow_alone_is_enough() -> None:
    attributes = load("entsoe_nl.json")
    parsed = parse_price_attributes({"prices_tomorrow": attributes["prices_tomorrow"]})
    assert parsed.format == "entsoe"
    assert len(parsed.intervals) == 24


def test_octopus_agile_rates_are_gbp_per_kwh_and_keep_negative_prices() -> None:
    parsed = parse_price_attributes(load("octopus_energy_current_day_rates.json"))
    assert parsed.format == "octopus_energy"
    assert (parsed.unit, parsed.currency) == ("GBP/kWh", "GBP")
    assert len(parsed.intervals) == 48
    assert lengths(parsed.intervals) == {timedelta(minutes=30)}
    assert any(i.value < 0 for i in parsed.intervals)
    assert all(abs(i.value) < 1 for i in parsed.intervals)  # pounds, not pence


def test_amber_forecast_starts_are_put_back_on_the_boundary() -> None:
    attributes = load("amberelectric_general_forecast.json")
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "amberelectric"
    assert (parsed.unit, parsed.currency) == ("AUD/kWh", "AUD")
    assert parsed.intervals[0].start == datetime(2025, 1, 15, 3, 0, tzinfo=UTC)
    assert all(
        a.end == b.start for a, b in zip(parsed.intervals, parsed.intervals[1:], strict=False)
    )
    series = to_series(parsed.per_kwh(), parsed.intervals[0].start, timedelta(minutes=5), 12)
    first = attributes["forecasts"][0]["per_kwh"]
    second = attributes["forecasts"][1]["per_kwh"]
    assert series.values == (first,) * 6 + (second,) * 6


# --- EMHASS, HAEO, generic lists and mappings -----------------------------------------------------


def test_emhass_cost_forecast_strings_are_read() -> None:
    attributes = load("emhass_unit_load_cost.json")
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "emhass"
    assert parsed.unit == "EUR/kWh"
    assert len(parsed.intervals) == 48
    assert lengths(parsed.intervals) == {timedelta(minutes=30)}
    assert parsed.intervals[0].value == float(
        attributes["unit_load_cost_forecasts"][0]["unit_load_cost"]
    )
    assert {i.value for i in parsed.intervals} == {0.2068, 0.2712}


def test_haeo_forecast_on_a_tiered_horizon_keeps_each_period_length() -> None:
    parsed = parse_price_attributes(load("haeo_grid_price.json"))
    assert parsed.format == "haeo"
    assert parsed.unit == "$/kWh"
    durations = [i.end - i.start for i in parsed.intervals]
    assert durations[:12] == [timedelta(minutes=5)] * 12
    assert durations[12:22] == [timedelta(minutes=30)] * 10
    assert set(durations[22:]) == {HOUR}


def test_a_generic_list_of_records_is_read() -> None:
    attributes = {
        "data": [
            {
                "start": "2025-06-11T00:00:00+00:00",
                "end": "2025-06-11T01:00:00+00:00",
                "price": 0.1,
            },
            {
                "start": "2025-06-11T01:00:00+00:00",
                "end": "2025-06-11T02:00:00+00:00",
                "price": 0.2,
            },
        ],
        "unit_of_measurement": "EUR/MWh",
    }
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "list"
    assert [i.value for i in parsed.per_kwh()] == pytest.approx([0.0001, 0.0002])


def test_a_list_with_an_unusual_value_name_is_read_when_it_is_the_only_number() -> None:
    attributes = {
        "schedule": [
            {"timestamp": "2025-06-11T00:00:00Z", "label": "low", "mpc_general_price": 0.11},
            {"timestamp": "2025-06-11T00:30:00Z", "label": "high", "mpc_general_price": "0.31"},
            {"timestamp": "bad", "label": "high", "mpc_general_price": 0.5},
        ]
    }
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "list"
    assert [i.value for i in parsed.intervals] == [0.11, 0.31]
    assert parsed.skipped == 1


@pytest.mark.parametrize(
    "attributes",
    [
        {"forecast": {"2025-06-11T00:00:00+00:00": 0.1, "2025-06-11T01:00:00+00:00": 0.2}},
        {"prices": {"2025-06-11T00:00:00+00:00": "0.1", "2025-06-11T01:00:00+00:00": 0.2}},
        {
            "2025-06-11T00:00:00+00:00": 0.1,
            "2025-06-11T01:00:00+00:00": 0.2,
            "friendly_name": "Spot price",
        },
    ],
)
def test_a_plain_mapping_of_times_to_prices_is_read(attributes: dict[str, Any]) -> None:
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "mapping"
    assert [(i.start.hour, i.value) for i in parsed.intervals] == [(0, 0.1), (1, 0.2)]
    assert lengths(parsed.intervals) == {HOUR}


def test_a_forecasts_list_that_is_neither_amber_nor_emhass_is_a_generic_list() -> None:
    attributes = {
        "forecasts": [
            {"time": "2025-06-11T00:00:00Z", "value": 0.1},
            {"time": "2025-06-11T00:15:00Z", "value": 0.2},
        ]
    }
    parsed = parse_price_attributes(attributes)
    assert parsed.format == "list"
    assert [i.value for i in parsed.intervals] == [0.1, 0.2]


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"friendly_name": "Price", "unit_of_measurement": "EUR/kWh"},
        {"unit_load_cost_forecasts": [{"date": "2025-06-11 00:00:00+00:00", "a": "1", "b": "2"}]},
        {"prices": {"soon": 0.1, "later": 0.2}},
        {"forecast": "soon"},
        {"forecast": [1, 2, 3]},
        {"prices": [{"label": "cheap"}]},
        {"prices": [{"time": "2025-06-11T00:00:00Z", "a": 1, "b": 2}]},
        {"2025-06-11T00:00:00+00:00": 0.1},
    ],
)
def test_unrecognised_attributes_give_an_empty_result(attributes: dict[str, Any]) -> None:
    assert parse_price_attributes(attributes) == ParsedPrices()


def test_entries_without_offset_are_placed_only_when_a_zone_is_given() -> None:
    attributes = {
        "forecast": [
            {"time": "2025-06-11T02:00:00", "value": 0.1},
            {"time": "2025-06-11T03:00:00", "value": 0.2},
        ]
    }
    assert parse_price_attributes(attributes).skipped == 2
    parsed = parse_price_attributes(attributes, naive_tz=BERLIN)
    assert parsed.intervals[0].start == datetime(2025, 6, 11, 0, tzinfo=UTC)


def test_an_unknown_unit_is_reported_when_converting() -> None:
    parsed = ParsedPrices(
        intervals=(
            Interval(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 1, tzinfo=UTC), 1.0),
        ),
        unit="EUR/kW",
    )
    assert parsed.iso_currency is None
    with pytest.raises(UnitError):
        parsed.per_kwh()


# --- Time-of-use schedules -----------------------------------------------------------------------

EXAMPLE = """
# summer peak on weekdays
all 00:00 0.21
jun-sep weekday 16:00 0.54, 21:00 0.21
holidays 00:00 0.18
"""


def test_the_example_schedule_prices() -> None:
    schedule = parse_tou_schedule(EXAMPLE)
    assert schedule.price_at(wall(2025, 7, 1, 17, 0)) == 0.54  # a Tuesday
    assert schedule.price_at(wall(2025, 7, 1, 21, 0)) == 0.21
    assert schedule.price_at(wall(2025, 7, 5, 17, 0)) == 0.21  # a Saturday
    assert schedule.price_at(wall(2025, 1, 7, 17, 0)) == 0.21  # winter
    holiday = date(2025, 7, 4)
    assert schedule.price_at(datetime(2025, 7, 4, 17, 0, tzinfo=LOS_ANGELES), {holiday}) == 0.18
    assert schedule.price_at(datetime(2025, 7, 4, 17, 0, tzinfo=LOS_ANGELES)) == 0.54


def test_a_number_alone_is_a_flat_price() -> None:
    schedule = parse_tou_schedule("0.08")
    assert schedule.price_at(wall(2025, 12, 31, 23, 59)) == 0.08
    start = datetime(2025, 1, 1, tzinfo=BERLIN)
    intervals = schedule.intervals(start, start + timedelta(days=3), BERLIN)
    assert intervals == [
        Interval(start.astimezone(UTC), (start + timedelta(days=3)).astimezone(UTC), 0.08)
    ]


def test_the_last_price_of_a_line_wraps_round_to_its_first_time() -> None:
    schedule = parse_tou_schedule("weekdays 07:00 0.30, 22:00 0.12\nsat, sun 00:00 0.12")
    monday = wall(2025, 3, 3)
    assert schedule.price_at(monday.replace(hour=3)) == 0.12
    assert schedule.price_at(monday.replace(hour=7)) == 0.30
    assert schedule.price_at(monday.replace(hour=23)) == 0.12
    assert schedule.price_at(monday.replace(day=8, hour=12)) == 0.12


def test_entries_may_be_written_in_any_order() -> None:
    a = parse_tou_schedule("all 22:00 0.12, 07:00 0.30")
    b = parse_tou_schedule("all 07:00 0.30, 22:00 0.12")
    assert a.rules[0].changes == b.rules[0].changes
    assert a == b


def test_months_days_ranges_and_later_lines_overriding() -> None:
    text = "\n".join(
        [
            "all 00:00 0.20",
            "nov-feb 00:00 0.25",  # winter, every day
            "december friday-monday 00:00 0.30",  # wraps round the week
            "mar,apr mon,wed 12:00 0.10, 13:00 0.20",
        ]
    )
    schedule = parse_tou_schedule(text)
    assert schedule.price_at(wall(2025, 1, 15, 12)) == 0.25
    assert schedule.price_at(wall(2025, 11, 3, 12)) == 0.25
    assert schedule.price_at(wall(2025, 12, 5, 12)) == 0.30  # Friday
    assert schedule.price_at(wall(2025, 12, 8, 12)) == 0.30  # Monday
    assert schedule.price_at(wall(2025, 12, 9, 12)) == 0.25  # Tuesday
    assert schedule.price_at(wall(2025, 3, 3, 12, 30)) == 0.10
    assert schedule.price_at(wall(2025, 3, 4, 12, 30)) == 0.20
    assert schedule.price_at(wall(2025, 6, 4, 12, 30)) == 0.20


def test_a_dst_spring_day_in_berlin_has_23_hours_of_prices() -> None:
    schedule = parse_tou_schedule("all 00:00 0.20, 16:00 0.40, 20:00 0.20")
    day = datetime(2024, 3, 31, tzinfo=BERLIN)
    intervals = schedule.intervals(day, day + timedelta(days=1), BERLIN)
    assert sum((i.end - i.start for i in intervals), timedelta()) == timedelta(hours=23)
    peak = next(i for i in intervals if i.value == 0.40)
    assert peak.start == datetime(2024, 3, 31, 14, tzinfo=UTC)  # 16:00 CEST
    assert peak.end == datetime(2024, 3, 31, 18, tzinfo=UTC)
    series = to_series(intervals, day, HOUR, 23)
    assert series.coverage() == 1.0
    assert series.values.count(0.40) == 4


def test_a_dst_autumn_day_in_berlin_has_25_hours_of_prices() -> None:
    schedule = parse_tou_schedule("all 00:00 0.20, 16:00 0.40, 20:00 0.20")
    day = datetime(2024, 10, 27, tzinfo=BERLIN)
    intervals = schedule.intervals(day, datetime(2024, 10, 28, tzinfo=BERLIN), BERLIN)
    assert sum((i.end - i.start for i in intervals), timedelta()) == timedelta(hours=25)
    peak = next(i for i in intervals if i.value == 0.40)
    assert peak.start == datetime(2024, 10, 27, 15, tzinfo=UTC)  # 16:00 CET


@pytest.mark.parametrize(
    ("day", "hours", "peak_start_utc"),
    [
        (date(2024, 3, 10), 23, datetime(2024, 3, 10, 23, tzinfo=UTC)),  # 16:00 PDT
        (date(2024, 11, 3), 25, datetime(2024, 11, 4, 0, tzinfo=UTC)),  # 16:00 PST
        (date(2024, 7, 10), 24, datetime(2024, 7, 10, 23, tzinfo=UTC)),
    ],
)
def test_los_angeles_days_around_dst(day: date, hours: int, peak_start_utc: datetime) -> None:
    schedule = parse_tou_schedule("all 00:00 0.31, 16:00 0.52, 21:00 0.31")
    start = datetime(day.year, day.month, day.day, tzinfo=LOS_ANGELES)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), LOS_ANGELES)
    intervals = schedule.intervals(start, end, LOS_ANGELES)
    assert sum((i.end - i.start for i in intervals), timedelta()) == timedelta(hours=hours)
    peak = next(i for i in intervals if i.value == 0.52)
    assert peak.start == peak_start_utc
    assert peak.end - peak.start == timedelta(hours=5)


def test_a_time_skipped_by_the_clocks_takes_effect_when_they_jump() -> None:
    schedule = parse_tou_schedule("all 00:00 0.20, 02:30 0.30, 03:00 0.40")
    day = datetime(2024, 3, 31, tzinfo=BERLIN)
    intervals = schedule.intervals(day, day + timedelta(days=1), BERLIN)
    assert [(i.start, i.value) for i in intervals] == [
        (datetime(2024, 3, 30, 23, tzinfo=UTC), 0.20),
        (datetime(2024, 3, 31, 1, tzinfo=UTC), 0.40),  # 03:00 CEST, the jump
    ]
    assert local_to_utc(wall(2024, 3, 31, 2, 30), BERLIN) == datetime(2024, 3, 31, 1, tzinfo=UTC)
    # The repeated hour in autumn: the first occurrence.
    assert local_to_utc(wall(2024, 10, 27, 2, 30), BERLIN) == datetime(
        2024, 10, 27, 0, 30, tzinfo=UTC
    )


def test_intervals_are_clipped_to_the_window_and_cross_days() -> None:
    schedule = parse_tou_schedule("weekday 07:00 0.30, 22:00 0.12\nweekend 00:00 0.12")
    start = datetime(2025, 3, 7, 21, 30, tzinfo=BERLIN)  # Friday evening
    end = datetime(2025, 3, 10, 8, 0, tzinfo=BERLIN)  # Monday morning
    intervals = schedule.intervals(start, end, BERLIN)
    assert [(i.start.astimezone(BERLIN).strftime("%a %H:%M"), i.value) for i in intervals] == [
        ("Fri 21:30", 0.30),
        ("Fri 22:00", 0.12),  # merged through the weekend until Monday 07:00
        ("Mon 07:00", 0.30),
    ]
    assert intervals[-1].end == end.astimezone(UTC)


def test_a_holiday_line_applies_to_the_given_dates_only() -> None:
    schedule = parse_tou_schedule("all 00:00 0.25\nholidays 00:00 0.15")
    start = datetime(2025, 12, 24, tzinfo=BERLIN)
    end = start + timedelta(days=3)
    plain = schedule.intervals(start, end, BERLIN)
    assert [i.value for i in plain] == [0.25]
    festive = schedule.intervals(start, end, BERLIN, {date(2025, 12, 25), date(2025, 12, 26)})
    assert [i.value for i in festive] == [0.25, 0.15]
    assert festive[1].start == datetime(2025, 12, 24, 23, tzinfo=UTC)


def test_intervals_need_aware_bounds() -> None:
    schedule = parse_tou_schedule("0.1")
    with pytest.raises(ValueError, match="aware"):
        schedule.intervals(wall(2025, 1, 1), wall(2025, 1, 2), BERLIN)


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("all 25:00 0.3", "schedule_time", 1),
        ("all 8:5 0.3", "schedule_time", 1),
        ("all 08:00 0.1, 08:00 0.2", "schedule_time", 1),
        ("all 08:00 cheap", "schedule_price", 1),
        ("funday 00:00 0.1", "schedule_syntax", 1),
        ("jan mon tue 00:00 0.1", "schedule_syntax", 1),
        ("00:00 0.1", "schedule_syntax", 1),
        ("mon-tue-wed 00:00 0.1", "schedule_syntax", 1),
        ("all 00:00 0.1\n\n# comment\nweekday 08:00", "schedule_syntax", 4),
        ("all 00:00 0.1, 08:00 0.2 0.3", "schedule_syntax", 1),
        ("weekday", "schedule_syntax", 1),
        ("jan-xyz 00:00 0.1", "schedule_syntax", 1),
        ("foo mon 00:00 0.1", "schedule_syntax", 1),
        ("all 00:00 0.1, 8h00 0.2", "schedule_time", 1),
        ("weekday 00:00 0.2", "schedule_gap", 0),
        ("jun-sep all 00:00 0.2", "schedule_gap", 0),
        ("holidays 00:00 0.2", "schedule_gap", 0),
        ("", "schedule_gap", 0),
    ],
)
def test_schedule_errors_say_what_and_where(text: str, key: str, line: int) -> None:
    with pytest.raises(ScheduleError) as error:
        parse_tou_schedule(text)
    assert error.value.key == key
    assert error.value.line == line
    assert isinstance(error.value, ValueError)


def test_a_gap_names_the_uncovered_days() -> None:
    with pytest.raises(ScheduleError) as error:
        parse_tou_schedule("weekday 00:00 0.2")
    assert error.value.detail == "jan sat"
    assert "schedule_gap" in str(error.value)


def test_all_months_may_be_written_out() -> None:
    schedule = parse_tou_schedule("all weekend 00:00 0.10\nall weekday 00:00 0.20")
    assert schedule.price_at(wall(2025, 8, 2, 12)) == 0.10  # a Saturday
    assert schedule.price_at(wall(2025, 8, 4, 12)) == 0.20


def test_the_schedule_keeps_its_text() -> None:
    schedule = parse_tou_schedule(EXAMPLE)
    assert schedule.text == EXAMPLE
    assert isinstance(schedule, TouSchedule)
    assert [rule.line for rule in schedule.rules] == [3, 4, 5]
