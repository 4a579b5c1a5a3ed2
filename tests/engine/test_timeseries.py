"""Resampling source intervals onto the planner's grid, and the small shared parsers."""

from __future__ import annotations

import math
import time as clock
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine.model import Interval
from custom_components.energy_collective.engine.timeseries import (
    intervals_from_points,
    median_spacing,
    parse_number,
    parse_time,
    points_from_mapping,
    points_from_records,
    sort_unique,
    to_series,
)

T0 = datetime(2025, 6, 11, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MIN5 = timedelta(minutes=5)
MIN15 = timedelta(minutes=15)


def hourly(values: list[float], start: datetime = T0) -> list[Interval]:
    return [Interval(start + HOUR * i, start + HOUR * (i + 1), v) for i, v in enumerate(values)]


def test_an_hourly_price_covers_twelve_five_minute_steps() -> None:
    series = to_series(hourly([0.20, 0.35]), T0, MIN5, 24)
    assert series.values[:12] == (0.20,) * 12
    assert series.values[12:] == (0.35,) * 12
    assert series.coverage() == 1.0


def test_four_quarter_hour_prices_average_into_one_hourly_step() -> None:
    quarters = [
        Interval(T0 + MIN15 * i, T0 + MIN15 * (i + 1), v) for i, v in enumerate([1, 2, 3, 6])
    ]
    series = to_series(quarters, T0, HOUR, 1)
    assert series.values == (3.0,)


def test_a_partly_covered_step_averages_over_the_covered_part_only() -> None:
    # Prices known until 00:30 only: the 00:00-01:00 step is the mean of what is known.
    known = [Interval(T0, T0 + MIN15, 0.1), Interval(T0 + MIN15, T0 + 2 * MIN15, 0.3)]
    series = to_series(known, T0, HOUR, 2)
    assert series.values[0] == pytest.approx(0.2)
    assert series.values[1] is None
    assert series.coverage() == 0.5


def test_steps_no_interval_touches_are_none() -> None:
    series = to_series(hourly([5.0], T0 + 2 * HOUR), T0, HOUR, 4)
    assert series.values == (None, None, 5.0, None)


def test_intervals_outside_the_grid_and_broken_ones_are_ignored() -> None:
    intervals = [
        Interval(T0 - 2 * HOUR, T0 - HOUR, 99.0),  # before
        Interval(T0 + 5 * HOUR, T0 + 6 * HOUR, 99.0),  # after
        Interval(T0, T0, 99.0),  # no length
        Interval(T0, T0 + HOUR, math.nan),
        Interval(T0, T0 + HOUR, 4.0),
    ]
    assert to_series(intervals, T0, HOUR, 2).values == (4.0, None)


def test_an_interval_straddling_the_start_counts_for_its_overlap() -> None:
    series = to_series([Interval(T0 - HOUR, T0 + HOUR, 2.0)], T0, MIN15 * 2, 3)
    assert series.values == (2.0, 2.0, None)


def test_series_starts_at_the_same_instant_in_utc() -> None:
    berlin = datetime(2025, 6, 11, 2, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    series = to_series(hourly([1.0]), berlin, HOUR, 1)
    assert series.start == T0
    assert series.start.tzinfo is UTC
    assert series.values == (1.0,)


def test_steps_are_real_hours_across_a_daylight_saving_change() -> None:
    # 30 March 2025 in Berlin has 23 hours: 24 hourly steps from local midnight end at 01:00
    # the next day, local time. Python's same-zone arithmetic would get this wrong.
    berlin = ZoneInfo("Europe/Berlin")
    midnight = datetime(2025, 3, 30, tzinfo=berlin)
    prices = hourly([float(i) for i in range(24)], midnight.astimezone(UTC))
    series = to_series(prices, midnight, HOUR, 24)
    assert series.values == tuple(float(i) for i in range(24))
    assert series.end.astimezone(berlin) == datetime(2025, 3, 31, 1, 0, tzinfo=berlin)


def test_to_series_refuses_a_naive_start_or_a_bad_step() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_series([], datetime(2025, 1, 1), HOUR, 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="positive"):
        to_series([], T0, timedelta(0), 1)
    assert to_series([], T0, HOUR, -3).values == ()


def test_resampling_48_hours_at_5_minutes_is_fast() -> None:
    # Hourly and 15-min sources onto 576 steps: about a millisecond each on a busy laptop.
    hourly_prices = hourly([0.1 + 0.01 * (i % 24) for i in range(48)])
    quarter = [Interval(T0 + MIN15 * i, T0 + MIN15 * (i + 1), float(i % 7)) for i in range(192)]
    began = clock.perf_counter()
    for _ in range(50):
        a = to_series(hourly_prices, T0, MIN5, 576)
        b = to_series(quarter, T0, MIN5, 576)
    per_call = (clock.perf_counter() - began) / 100
    assert a.coverage() == b.coverage() == 1.0
    assert per_call < 0.02


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=240), st.floats(-500, 500)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([5, 15, 30, 60]),
)
def test_resampling_preserves_energy(pieces: list[tuple[int, float]], step_minutes: int) -> None:
    # Intervals of any length (in minutes) laid end to end; the grid covers exactly the same
    # span. Sum of value x duration is the same before and after.
    intervals: list[Interval] = []
    at = T0
    for minutes, value in pieces:
        intervals.append(Interval(at, at + timedelta(minutes=minutes), value))
        at += timedelta(minutes=minutes)
    total_minutes = sum(minutes for minutes, _ in pieces)
    count = total_minutes // step_minutes
    span_end = T0 + timedelta(minutes=count * step_minutes)
    series = to_series(intervals, T0, timedelta(minutes=step_minutes), count)
    before = sum(
        i.value * (min(i.end, span_end) - i.start).total_seconds()
        for i in intervals
        if i.start < span_end
    )
    after = sum(v * step_minutes * 60 for v in series.values if v is not None)
    assert all(v is not None for v in series.values)
    assert after == pytest.approx(before, rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=30),
    st.sampled_from([5, 20, 45, 90]),
)
def test_resampled_values_stay_within_the_source_range(values: list[float], step: int) -> None:
    intervals = [Interval(T0 + MIN15 * i, T0 + MIN15 * (i + 1), v) for i, v in enumerate(values)]
    series = to_series(intervals, T0, timedelta(minutes=step), 24)
    known = [v for v in series.values if v is not None]
    assert known
    assert all(min(values) - 1e-9 <= v <= max(values) + 1e-9 for v in known)


def test_each_point_lasts_until_the_next_and_the_last_the_usual_spacing() -> None:
    points = [(T0 + MIN15 * 2, 3.0), (T0, 1.0), (T0 + MIN15, 2.0)]
    intervals = intervals_from_points(points)
    assert [(i.start, i.end, i.value) for i in intervals] == [
        (T0, T0 + MIN15, 1.0),
        (T0 + MIN15, T0 + 2 * MIN15, 2.0),
        (T0 + 2 * MIN15, T0 + 3 * MIN15, 3.0),
    ]


def test_the_last_point_can_be_given_its_length() -> None:
    intervals = intervals_from_points([(T0, 1.0), (T0 + MIN15, 2.0)], default_length=HOUR)
    assert intervals[-1].end == T0 + MIN15 + HOUR


def test_a_single_point_needs_a_length() -> None:
    assert intervals_from_points([(T0, 1.0)]) == []
    assert intervals_from_points([]) == []
    assert intervals_from_points([(T0, 1.0)], HOUR) == [Interval(T0, T0 + HOUR, 1.0)]


def test_a_repeated_time_keeps_its_last_value() -> None:
    intervals = intervals_from_points([(T0, 1.0), (T0, 9.0)], HOUR)
    assert intervals == [Interval(T0, T0 + HOUR, 9.0)]


def test_a_gap_in_the_source_stays_a_gap_with_max_length() -> None:
    evening = T0 + 20 * HOUR
    morning = T0 + 30 * HOUR
    intervals = intervals_from_points([(evening, 100.0), (morning, 50.0)], HOUR, HOUR)
    assert intervals[0].end == evening + HOUR
    series = to_series(intervals, evening, HOUR, 10)
    assert series.values[0] == 100.0
    assert series.values[1:] == (None,) * 9


def test_intervals_from_points_are_in_utc() -> None:
    local = datetime(2025, 6, 11, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    (interval,) = intervals_from_points([(local, 1.0)], HOUR)
    assert interval.start == T0
    assert interval.start.tzinfo is UTC


def test_median_spacing() -> None:
    times = [T0, T0 + MIN15, T0 + 2 * MIN15, T0 + 5 * HOUR]
    assert median_spacing(times) == MIN15
    assert median_spacing([T0]) == timedelta(0)
    tiered = [T0 + MIN5 * i for i in range(12)] + [T0 + HOUR * i for i in range(1, 5)]
    assert median_spacing(tiered) == MIN5
    assert median_spacing(tiered, last=3) == HOUR


def test_the_last_point_of_a_tiered_horizon_lasts_its_tier() -> None:
    tiered = [T0 + MIN5 * i for i in range(12)] + [T0 + HOUR * i for i in range(1, 5)]
    intervals = intervals_from_points([(when, 1.0) for when in tiered])
    assert intervals[-1].end - intervals[-1].start == HOUR


def test_sort_unique_keeps_the_last_of_a_start() -> None:
    a = Interval(T0 + HOUR, T0 + 2 * HOUR, 1.0)
    b = Interval(T0, T0 + HOUR, 2.0)
    c = Interval(T0, T0 + HOUR, 3.0)
    assert sort_unique([a, b, c]) == [c, a]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-06-11T02:00:00+02:00", T0),
        ("2025-06-11 02:00:00+02:00", T0),
        ("2025-06-11T00:00:00Z", T0),
        ("2025-06-11T00:00:00+0000", T0),
        ("2025-06-11T02:00:00.000+02:00", T0),
        (T0, T0),
        (T0.timestamp(), T0),
        (int(T0.timestamp()) * 1000, T0),
    ],
)
def test_times_are_read_in_the_forms_sources_use(raw: object, expected: datetime) -> None:
    assert parse_time(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "  ", "yesterday", "2025-06-11T00:00:00", None, True, 12.5, math.inf, [], {}]
)
def test_unreadable_or_unplaceable_times_are_none(raw: object) -> None:
    assert parse_time(raw) is None


def test_a_time_without_offset_is_placed_in_the_given_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_time("2025-06-11T02:00:00", berlin) == T0
    assert parse_time(datetime(2025, 6, 11, 2), berlin) == T0  # noqa: DTZ001


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, 1.0), (0.25, 0.25), ("0.2712", 0.2712), (" -3 ", -3.0)],
)
def test_numbers_and_numeric_strings_are_read(raw: object, expected: float) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", [None, True, "n/a", "", math.nan, "inf", [1]])
def test_non_numbers_are_none(raw: object) -> None:
    assert parse_number(raw) is None


def test_records_with_an_end_give_intervals_and_bad_ones_are_counted() -> None:
    records = [
        {"start": "2025-06-11T00:00:00+00:00", "end": "2025-06-11T01:00:00+00:00", "v": 1},
        {"start": "2025-06-11T01:00:00+00:00", "v": "2"},
        {"start": "2025-06-11T02:00:00+00:00", "end": "2025-06-11T01:00:00+00:00", "v": 3},
        {"start": "2025-06-11T03:00:00+00:00", "end": "soon", "v": 3},
        {"start": "not a time", "v": 3},
        {"start": "2025-06-11T04:00:00+00:00", "v": "unavailable"},
        "not a record",
    ]
    read = points_from_records(records, ("start",), ("v",), ("end",))
    assert read.intervals == [Interval(T0, T0 + HOUR, 1.0)]
    assert read.points == [(T0 + HOUR, 2.0)]
    assert read.skipped == 5


def test_a_mapping_of_times_is_read_strictly_or_not() -> None:
    mapping = {"2025-06-11T00:00:00+00:00": 1, "friendly_name": "x", "2025-06-11T01:00:00Z": None}
    strict = points_from_mapping(mapping)
    assert strict.points == [(T0, 1.0)]
    assert strict.skipped == 2
    loose = points_from_mapping(mapping, strict=False)
    assert loose.points == [(T0, 1.0)]
    assert loose.skipped == 1
