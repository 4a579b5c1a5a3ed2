"""Grid signals: demand-response events, baselines, windows, demand charges, fixed tariffs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_collective.engine.grid import (
    DemandResponseError,
    DemandResponseEvent,
    action_event,
    active_cap,
    apply_demand_response,
    billing_period_start,
    calendar_events,
    demand_charge_floor,
    demand_response_series,
    event_baseline,
    event_performance,
    matches_keywords,
    next_billing_period_start,
    next_window,
    parse_octopus_saving_sessions,
    peak_now,
    peak_so_far,
    quantile,
    tou_prices,
)
from custom_components.energy_collective.engine.model import Grid, Problem, Series
from custom_components.energy_collective.engine.tariffs import parse_tou_schedule

FIXTURES = Path(__file__).parent / "fixtures"
H = timedelta(hours=1)
Q = timedelta(minutes=15)
LONDON = ZoneInfo("Europe/London")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Baseline on a hand-made history
# ---------------------------------------------------------------------------------------------

HISTORY_START = utc(2025, 1, 6)  # a Monday; London is on UTC in January


def history() -> Series:
    """21 days, hourly: day d has 1000 + 100 d W at 17:00, 2000 + 10 d W at 18:00, else 500."""
    values: list[float | None] = []
    for d in range(21):
        for hour in range(24):
            if hour == 17:
                values.append(1000 + 100 * d)
            elif hour == 18:
                values.append(2000 + 10 * d)
            else:
                values.append(500)
    return Series(HISTORY_START, H, tuple(values))


def test_weekday_baseline_takes_ten_previous_weekdays_without_events() -> None:
    event = action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 19), 2000, 0.5)
    base = event_baseline(history(), event, event_days={date(2025, 1, 15)}, tz=LONDON)
    # weekdays back from Fri 24 Jan: d = 18 17 16 15 14 11 10 (9 is the event day) 8 7 4
    assert base.days == (
        date(2025, 1, 24),
        date(2025, 1, 23),
        date(2025, 1, 22),
        date(2025, 1, 21),
        date(2025, 1, 20),
        date(2025, 1, 17),
        date(2025, 1, 16),
        date(2025, 1, 14),
        date(2025, 1, 13),
        date(2025, 1, 10),
    )
    assert base.rule == "weekday"
    assert base.complete
    # mean d = 120 / 10 = 12
    assert base.values_w == pytest.approx((2200.0, 2120.0))
    assert base.start == utc(2025, 1, 27, 17)
    assert base.energy_kwh == pytest.approx(4.32)


def test_weekend_baseline_takes_four_previous_weekend_days() -> None:
    event = action_event(utc(2025, 1, 25, 17), utc(2025, 1, 25, 18), incentive_per_kwh=1.0)
    base = event_baseline(history(), event)
    # Sun 19 (d 13), Sat 18 (12), Sun 12 (6), Sat 11 (5): mean d = 9
    assert base.days == (date(2025, 1, 19), date(2025, 1, 18), date(2025, 1, 12), date(2025, 1, 11))
    assert base.values_w == pytest.approx((1900.0,))
    assert base.rule == "weekend"
    # with the 18th an event day only three weekend days are in the history
    short = event_baseline(history(), event, {date(2025, 1, 18)})
    assert short.days == (date(2025, 1, 19), date(2025, 1, 12), date(2025, 1, 11))
    assert short.values_w == pytest.approx((1800.0,))
    assert not short.complete


def test_holiday_event_uses_the_weekend_rule_and_gaps_skip_days() -> None:
    event = action_event(utc(2025, 1, 20, 17), utc(2025, 1, 20, 18), 3000)
    base = event_baseline(history(), event, holidays={date(2025, 1, 20)})
    assert base.rule == "weekend"
    assert base.days == (date(2025, 1, 19), date(2025, 1, 18), date(2025, 1, 12), date(2025, 1, 11))
    # a gap in the event's slots leaves the day out
    values = list(history().values)
    values[18 * 24 + 17] = None  # Fri 24 Jan, 17:00
    gappy = Series(HISTORY_START, H, tuple(values))
    later = action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 18), 3000)
    assert date(2025, 1, 24) not in event_baseline(gappy, later).days
    with pytest.raises(DemandResponseError, match="baseline_no_days"):
        event_baseline(history(), action_event(utc(2025, 1, 6, 17), utc(2025, 1, 6, 18), 1))


def test_performance_counts_reduction_per_slot() -> None:
    event = action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 19), 2000, 0.5)
    base = event_baseline(history(), event, {date(2025, 1, 15)})
    measured = Series(utc(2025, 1, 27, 16), H, (800.0, 1200.0, 2500.0))
    perf = event_performance(base, measured, 0.5)
    # 17:00: 2200 - 1200 = 1 kWh; 18:00: above the baseline counts 0
    assert perf.reduced_kwh == pytest.approx((1.0, 0.0))
    assert perf.energy_reduced_kwh == pytest.approx(1.0)
    assert perf.reward == pytest.approx(0.5)
    assert perf.baseline_kwh == pytest.approx(4.32)
    assert perf.measured_kwh == pytest.approx(3.7)
    assert perf.complete
    partial = event_performance(base, Series(utc(2025, 1, 27, 17), H, (1200.0,)), None)
    assert partial.reward == 0
    assert not partial.complete


# ---------------------------------------------------------------------------------------------
# Events from their sources
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Demand Response event", True),
        ("PEAK!", True),
        ("peaked early", False),
        ("off-peakish", False),
        ("Saving   session tonight", True),
        ("savingsession", False),
        ("", False),
        (None, False),
    ],
)
def test_keyword_matching(text: str | None, expected: bool) -> None:
    assert matches_keywords(text, ["peak", "saving session", "demand response", "  "]) is expected


def test_calendar_events() -> None:
    items: list[dict[str, Any]] = [
        {
            "summary": "Grid peak event",
            "start": "2025-01-27T17:00:00+00:00",
            "end": "2025-01-27T19:00:00+00:00",
            "description": "Keep import under 2.5 kW, reward 0,30 EUR/kWh",
            "uid": "abc",
        },
        {
            "summary": "Dentist",
            "start": "2025-01-27T09:00:00+00:00",
            "end": "2025-01-27T10:00:00+00:00",
        },
        {
            "summary": "Flex day",
            "description": "demand response all day",
            "start": "2025-01-28",
            "end": "2025-01-29",
        },
        {"summary": "peak", "start": "2025-01-27T19:00:00+00:00", "end": "nonsense"},
        {"summary": "peak", "start": "2025-13-40", "end": "2025-01-29"},
    ]
    events = calendar_events(
        items, ["peak", "demand response"], import_cap_w=4000, incentive_per_kwh=0.1, tz=LONDON
    )
    assert [(e.id, e.import_cap_w, e.incentive_per_kwh) for e in events] == [
        ("calendar:abc", 2500.0, 0.3),
        ("calendar:2025-01-28T00:00:00+00:00:Flex day", 4000, 0.1),
    ]
    assert events[1].start == utc(2025, 1, 28)
    assert events[1].end == utc(2025, 1, 29)
    assert events[0].source == "calendar"
    # all-day events need a zone; a date object works like a date string
    dated = [{"summary": "peak", "start": date(2025, 1, 28), "end": date(2025, 1, 29)}]
    assert calendar_events(dated, ["peak"]) == []
    (event,) = calendar_events(dated, ["peak"], tz=LONDON)
    assert event.days(LONDON) == {date(2025, 1, 28)}
    watts = [{**items[0], "description": "cap 1800 W", "uid": None}]
    (event,) = calendar_events(watts, ["peak"])
    assert event.import_cap_w == 1800
    assert event.incentive_per_kwh is None
    assert event.id == "calendar:2025-01-27T17:00:00+00:00:Grid peak event"


def test_octopus_saving_sessions_fixture() -> None:
    data = json.loads((FIXTURES / "octopus_saving_sessions.json").read_text(encoding="utf-8"))
    assert data["_source"]
    attributes = data["attributes"]
    events = parse_octopus_saving_sessions(attributes)
    assert [e.id for e in events] == ["octopus:2286", "octopus:2289", "octopus:2290"]
    assert events[1].start == utc(2025, 1, 21, 17)
    assert events[1].end == utc(2025, 1, 21, 18)
    assert events[1].incentive_per_kwh == pytest.approx(3.0)  # 2400 points at 800 per GBP
    assert events[0].incentive_per_kwh == pytest.approx(1.8)
    assert events[2].incentive_per_kwh is None
    assert all(e.joined and e.source == "octopus" for e in events)
    both = parse_octopus_saving_sessions(attributes, include_available=True, import_cap_w=500)
    available = [e for e in both if not e.joined]
    assert [(e.id, e.title, e.incentive_per_kwh) for e in available] == [
        ("octopus:2291", "EVENT_32_230125", pytest.approx(2.25))
    ]
    assert all(e.import_cap_w == 500 for e in both)
    # available events are not planned for
    dr = demand_response_series(both, utc(2025, 1, 23, 17), H, 2)
    assert dr.incentive_per_kwh == (0.0, 0.0)
    assert parse_octopus_saving_sessions({}) == []
    messy = {
        "joined_events": [
            "x",
            {"id": 1, "start": "bad", "end": "2025-01-21T18:00:00+00:00"},
            {"start": "2025-01-21T17:00:00+00:00", "end": "2025-01-21T18:00:00+00:00"},
            {"start": "2025-01-21T17:00:00+00:00", "end": "2025-01-21T18:00:00+00:00"},
        ],
        "available_events": "none",
    }
    (only,) = parse_octopus_saving_sessions(messy, include_available=True)
    assert only.id == "octopus:2025-01-21T17:00:00+00:00"


def test_event_validation() -> None:
    with pytest.raises(DemandResponseError, match="event_empty"):
        action_event(utc(2025, 1, 1), utc(2025, 1, 1, 1))
    with pytest.raises(DemandResponseError, match="event_time"):
        action_event(utc(2025, 1, 1, 1), utc(2025, 1, 1), 1000)
    with pytest.raises(DemandResponseError, match="event_time"):
        DemandResponseEvent("x", "action", datetime(2025, 1, 1), utc(2025, 1, 2))  # noqa: DTZ001
    with pytest.raises(DemandResponseError, match="event_cap"):
        action_event(utc(2025, 1, 1), utc(2025, 1, 1, 1), -5)
    with pytest.raises(DemandResponseError, match="event_incentive") as err:
        action_event(utc(2025, 1, 1), utc(2025, 1, 1, 1), None, float("nan"))
    assert err.value.key == "event_incentive"
    event = action_event(utc(2025, 1, 1), utc(2025, 1, 1, 1), 1000, event_id="mine")
    assert event.id == "mine"
    assert event.active_at(utc(2025, 1, 1, 0, 30))
    assert not event.active_at(utc(2025, 1, 1, 1))


# ---------------------------------------------------------------------------------------------
# Events on the planning grid
# ---------------------------------------------------------------------------------------------


def small_problem(n: int = 12) -> Problem:
    return Problem(
        start=utc(2025, 1, 27, 16),
        step=Q,
        n_steps=n,
        import_price=(0.2,) * n,
        export_price=(0.05,) * n,
        base_load_w=(400.0,) * n,
        grid=Grid(import_limit_w=(17000.0,) * n, export_limit_w=(5000.0,) * n),
    )


def test_caps_and_incentives_on_the_planning_grid() -> None:
    events = [
        action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 18), 3000),
        action_event(utc(2025, 1, 27, 17, 30), utc(2025, 1, 27, 18, 30), 2000, 0.5),
        # a short event inside one step
        action_event(utc(2025, 1, 27, 16, 20), utc(2025, 1, 27, 16, 25), 5000, 0.9),
        # outside the horizon
        action_event(utc(2025, 1, 27, 12), utc(2025, 1, 27, 13), 100, 9.0),
    ]
    dr = demand_response_series(events, utc(2025, 1, 27, 16), Q, 12)
    assert dr.import_cap_w == (
        None,
        5000,
        None,
        None,
        3000,
        3000,
        2000,
        2000,
        2000,
        2000,
        None,
        None,
    )
    assert dr.incentive_per_kwh == pytest.approx(
        (0.0, 0.3, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0)
    )
    assert dr.event_ids[6] == (events[0].id, events[1].id)
    planned = apply_demand_response(small_problem(), events)
    assert planned.grid.import_limit_w[:6] == (17000, 5000, 17000, 17000, 3000, 3000)
    assert planned.import_price[6] == pytest.approx(0.7)
    assert planned.import_price[0] == 0.2
    assert planned.grid.export_limit_w == small_problem().grid.export_limit_w


def test_active_cap() -> None:
    events = [
        action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 18), 3000),
        action_event(utc(2025, 1, 27, 17), utc(2025, 1, 27, 18), None, 1.0),
        DemandResponseEvent(
            "no", "octopus", utc(2025, 1, 27, 17), utc(2025, 1, 27, 18), 1, None, joined=False
        ),
    ]
    assert active_cap(events, utc(2025, 1, 27, 17, 30), 17000) == (3000, events[0].id)
    assert active_cap(events, utc(2025, 1, 27, 17, 30), 2000) == (2000, None)
    assert active_cap(events, utc(2025, 1, 27, 18), 17000) == (17000, None)


# ---------------------------------------------------------------------------------------------
# Peaks and windows
# ---------------------------------------------------------------------------------------------

PRICES = Series(utc(2025, 1, 27), H, (0.10, 0.12, 0.30, 0.35, 0.20, 0.05, 0.04, None, 0.40))


def test_quantile() -> None:
    assert quantile([], 0.5) is None
    assert quantile([None, 3.0], 0.9) == 3.0
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.75) == 4.0
    assert quantile([1.0, 2.0], 0.25) == 1.25


def test_peak_now() -> None:
    # from 02:00: 0.30 0.35 0.20 0.05 0.04 0.40 -> 75th percentile 0.3375
    assert not peak_now(PRICES, utc(2025, 1, 27, 2, 30))
    # the median from 02:00 is 0.25
    assert peak_now(PRICES, utc(2025, 1, 27, 2, 30), q=0.5)
    assert peak_now(PRICES, utc(2025, 1, 27, 2), threshold=0.25)
    assert not peak_now(PRICES, utc(2025, 1, 27, 7))  # no price
    assert not peak_now(PRICES, utc(2025, 1, 26))
    assert not peak_now(Series(utc(2025, 1, 27), H, (None, 0.1)), utc(2025, 1, 27, 1))


def test_next_windows() -> None:
    at = utc(2025, 1, 27, 0, 30)
    # all prices: 75th percentile 0.3125, 25th 0.0875
    expensive = next_window(PRICES, at, expensive=True)
    assert expensive is not None
    assert (expensive.start, expensive.end) == (utc(2025, 1, 27, 3), utc(2025, 1, 27, 4))
    cheap = next_window(PRICES, at, expensive=False)
    assert cheap is not None
    assert (cheap.start, cheap.end) == (utc(2025, 1, 27, 5), utc(2025, 1, 27, 7))
    assert cheap.average == pytest.approx(0.045)
    # a window holding now keeps its real start
    inside = next_window(PRICES, utc(2025, 1, 27, 6, 10), expensive=False, threshold=0.15)
    assert inside is not None
    assert inside.start == utc(2025, 1, 27, 5)
    assert next_window(PRICES, at, expensive=True, threshold=1.0) is None
    fixed = next_window(PRICES, at, expensive=False, length=2 * H)
    assert fixed is not None
    assert fixed.start == utc(2025, 1, 27, 5)
    assert next_window(Series(utc(2025, 1, 27), H, (None,)), at, expensive=True) is None


# ---------------------------------------------------------------------------------------------
# Demand charges
# ---------------------------------------------------------------------------------------------


def test_billing_periods() -> None:
    now = utc(2025, 3, 30, 12)  # the day Europe/London goes to summer time
    assert billing_period_start(now, "month", LONDON) == utc(2025, 3, 1)
    assert billing_period_start(now, "day", LONDON) == utc(2025, 3, 30)
    assert next_billing_period_start(now, "day", LONDON) == utc(2025, 3, 30, 23)
    assert next_billing_period_start(now, "month", LONDON) == utc(2025, 3, 31, 23)
    assert next_billing_period_start(utc(2025, 12, 31, 12), "month", LONDON) == utc(2026, 1, 1)


def test_peak_so_far_and_floor() -> None:
    start = utc(2025, 1, 31, 23)
    # 5-minute import from 23:00 on the 31st to 01:00 on 1 Feb
    values: list[float | None] = [1000.0] * 24
    values[12:15] = [9000.0, 9000.0, 9000.0]  # 00:00-00:15 on 1 Feb: 9 kW mean
    values[15:18] = [6000.0, None, 2000.0]  # 00:15-00:30: mean of the known ones, 4 kW
    values[18] = -3000.0
    values[6] = 20000.0  # January's peak does not count in February
    series = Series(start, timedelta(minutes=5), tuple(values))
    now = utc(2025, 2, 1, 0, 40)
    assert peak_so_far(series, now, "month", LONDON) == pytest.approx(9000)
    hourly = peak_so_far(series, now, "day", LONDON, interval=timedelta(minutes=30))
    # 00:00-00:30: five known 5-minute values
    assert hourly == pytest.approx((9000 * 3 + 6000 + 2000) / 5)
    assert peak_so_far(series, utc(2025, 2, 1, 0, 10), "month", LONDON) == 0.0
    assert demand_charge_floor(9000, now, now + 24 * H, "month", LONDON) == 9000
    assert demand_charge_floor(9000, now, now + 24 * H, "day", LONDON) == 0.0
    assert demand_charge_floor(-1, now, now + H, "day", LONDON) == 0.0


# ---------------------------------------------------------------------------------------------
# Time-of-use schedule of a real tariff: weekday peak 16-21, holidays off-peak, DST days
# ---------------------------------------------------------------------------------------------

TOU = parse_tou_schedule(
    """
    all 00:00 0.28            # off-peak
    weekday 16:00 0.52, 21:00 0.28
    holidays 00:00 0.28       # holidays are off-peak all day
    """
)
HOLIDAYS = {date(2025, 7, 4), date(2025, 11, 27)}


def test_tou_holiday_is_off_peak() -> None:
    # Thu 3 July has its peak 16-21 PDT (23:00-04:00 UTC); Fri 4 July (Independence Day) none
    start = utc(2025, 7, 3, 7)  # midnight PDT
    prices = tou_prices(TOU, start, H, 48, LOS_ANGELES, holidays=HOLIDAYS)
    peak_hours = [i for i, p in enumerate(prices) if p == 0.52]
    assert peak_hours == [16, 17, 18, 19, 20]
    without = tou_prices(TOU, start, H, 48, LOS_ANGELES)
    assert [i for i, p in enumerate(without) if p == 0.52] == [
        16,
        17,
        18,
        19,
        20,
        40,
        41,
        42,
        43,
        44,
    ]


def test_tou_across_the_autumn_clock_change() -> None:
    # Fri 31 Oct (PDT, UTC-7) to Mon 3 Nov (PST, UTC-8); Sunday 2 Nov has 25 hours
    intervals = TOU.intervals(utc(2025, 10, 31, 7), utc(2025, 11, 4, 8), LOS_ANGELES)
    peaks = [(i.start, i.end) for i in intervals if i.value == 0.52]
    assert peaks == [
        (utc(2025, 10, 31, 23), utc(2025, 11, 1, 4)),  # 16:00-21:00 PDT
        (utc(2025, 11, 4, 0), utc(2025, 11, 4, 5)),  # 16:00-21:00 PST
    ]
    off_peak = [i for i in intervals if i.value == 0.28]
    # Friday 21:00 PDT to Monday 16:00 PST: 67 wall-clock hours plus the repeated one
    assert off_peak[1].end - off_peak[1].start == timedelta(hours=68)
    # on 15-minute steps the peak starts exactly at the quarter hour of 16:00 local
    prices = tou_prices(TOU, utc(2025, 11, 3, 23), Q, 8, LOS_ANGELES)
    assert prices == (0.28,) * 4 + (0.52,) * 4


def test_tou_across_the_spring_clock_change() -> None:
    # Sunday 9 March 2025 has 23 hours in Los Angeles; Monday's peak is 16:00 PDT = 23:00 UTC
    prices = tou_prices(TOU, utc(2025, 3, 9, 8), H, 47, LOS_ANGELES)
    assert [i for i, p in enumerate(prices) if p == 0.52] == [39, 40, 41, 42, 43]
