"""More of the grid integration agent in a running home: what a user sees when events move,
restart, are opted out of, or when a calendar, the recorder or a sensor misbehaves.

The helpers, fakes and fixtures are those of `test_grid_agent` (SQLite recorder, Berlin).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEvent
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_collective.const import (
    BILLING_DAILY,
    CONF_BILLING_PERIOD,
    CONF_CARBON_ENTITY,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DR_CALENDAR,
    CONF_HOLIDAY_CALENDAR,
    CONF_OCTOPUS_SESSIONS,
    DOMAIN,
    EVENT_DR_ENDED,
    EVENT_DR_STARTED,
    store_key,
)
from custom_components.energy_collective.diagnostics import async_get_config_entry_diagnostics

from ..common import GRID
from .test_grid_agent import (  # the module's autouse fixtures apply here too
    EVENT_END,
    EVENT_START,
    FLAT,
    FUSE,
    NOW,
    OCTOPUS,
    TZ,
    FakeCalendar,
    add_calendars,
    auto_enable_custom_integrations,  # noqa: F401
    demand_response,
    grid_entity,
    jump,
    pending_points,
    plan_of,
    prepare,
    problem_of,
    restart,
    start_home,
    state,
    steps,
    unload_at_the_end,  # noqa: F401
)

GRID_MODULE = "custom_components.energy_collective.agents.grid"


def messages(logbook: list[Any]) -> list[str]:
    """The logbook messages of the integration, oldest first."""
    return [e.data["message"] for e in logbook if e.data.get("domain") == DOMAIN]


def limits(entry: MockConfigEntry, start: datetime, end: datetime) -> set[float]:
    """The plan's import limits in [start, end)."""
    problem = problem_of(entry)
    return {problem.grid.import_limit_w[i] for i in steps(problem, start, end)}


# ---------------------------------------------------------------------------------------------
# events that are under way, move or outlive a restart
# ---------------------------------------------------------------------------------------------


async def test_event_already_under_way_starts_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An event announced after its start begins at once, and the logbook names its cap."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    started = async_capture_events(hass, EVENT_DR_STARTED)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    logbook = async_capture_events(hass, "logbook_entry")
    start, end = NOW - timedelta(minutes=30), NOW + timedelta(hours=1)

    await demand_response(hass, entry, start=start, end=end, import_cap_w=1000)
    assert len(started) == 1
    assert started[0].data["participating"] is True
    assert messages(logbook) == [
        "demand-response event started: action, 2026-11-18 12:30-14:00, cap 1000 W"
    ]
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert dt_util.parse_datetime(sensor.state) == start
    assert sensor.attributes["active"] is True
    assert entry.runtime_data.grid.import_cap_w(NOW) == 1000.0

    await jump(hass, freezer, end)
    assert len(ended) == 1
    assert len(started) == 1
    assert entry.runtime_data.grid.import_cap_w(end) is None


async def test_restart_during_an_event_ends_it_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A restart in the middle of an event neither starts it again nor loses its end."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    started = async_capture_events(hass, EVENT_DR_STARTED)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=2)
    await demand_response(hass, entry, start=start, end=end, import_cap_w=800)
    await jump(hass, freezer, start)
    assert len(started) == 1

    await restart(hass, freezer, entry)
    assert len(started) == 1
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.attributes["active"] is True
    assert limits(entry, start + timedelta(minutes=30), end) == {800.0}

    await jump(hass, freezer, end)
    assert len(ended) == 1
    assert ended[0].data["start"] == start.isoformat()
    assert ended[0].data["participating"] is True
    assert len(started) == 1


async def test_event_that_ended_while_the_home_was_stopped_ends_at_its_return(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An event that ended while the home was unloaded is reported ended when it comes back."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    logbook = async_capture_events(hass, "logbook_entry")
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=1)
    await demand_response(hass, entry, start=start, end=end, incentive_per_kwh=0.3)
    await jump(hass, freezer, start)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    await jump(hass, freezer, end + timedelta(hours=1))
    assert not ended
    assert await hass.config_entries.async_setup(entry.entry_id)
    await jump(hass, freezer, dt_util.utcnow())  # its end is overdue: it runs at once
    assert len(ended) == 1
    assert ended[0].data["end"] == end.isoformat()
    assert messages(logbook)[-1].startswith(
        "demand-response event ended: action, 2026-11-18 13:30-14:00, 0.3/kWh"
    )
    assert entry.runtime_data.grid.events() == []
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.state == "unknown"


async def test_calendar_event_removed_while_under_way_still_ends(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A calendar event deleted while under way still ends, also across a restart."""
    await prepare(hass, freezer, NOW)
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=2)
    calendar = FakeCalendar(
        "Grid operator", [CalendarEvent(start, end, "Peak event", "limit 900 W")]
    )
    await add_calendars(hass, calendar)
    entry = await start_home(hass, options={CONF_DR_CALENDAR: "calendar.grid_operator"})
    started = async_capture_events(hass, EVENT_DR_STARTED)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    await jump(hass, freezer, start)
    assert [e.data["import_cap_w"] for e in started] == [900.0]

    calendar.items.clear()
    await jump(hass, freezer, NOW + timedelta(minutes=45))  # the periodic read
    assert entry.runtime_data.grid.events() == []
    await restart(hass, freezer, entry)
    assert not ended

    await jump(hass, freezer, end)
    assert len(ended) == 1
    assert ended[0].data["title"] == "Peak event"
    assert len(started) == 1


async def test_moved_calendar_event_starts_at_its_new_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """When the calendar moves an event, it starts at the new time, not the old one."""
    await prepare(hass, freezer, NOW)
    old_start, old_end = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    new_start, new_end = NOW + timedelta(hours=3), NOW + timedelta(hours=4)
    calendar = FakeCalendar(
        "Grid operator",
        [CalendarEvent(old_start, old_end, "Demand response", "stay under 1 kW")],
    )
    await add_calendars(hass, calendar)
    entry = await start_home(hass, options={CONF_DR_CALENDAR: "calendar.grid_operator"})
    started = async_capture_events(hass, EVENT_DR_STARTED)
    assert limits(entry, old_start, old_end) == {1000.0}

    # the operator moves it: the calendar entity's state changes and the home reads it at once
    calendar.items[0] = CalendarEvent(new_start, new_end, "Demand response", "stay under 1 kW")
    calendar.async_write_ha_state()
    await hass.async_block_till_done()
    await jump(hass, freezer, NOW + timedelta(seconds=15))  # the debounced re-plan
    assert limits(entry, old_start, old_end) == {FUSE}
    assert limits(entry, new_start, new_end) == {1000.0}
    assert old_start not in pending_points(hass)

    await jump(hass, freezer, old_start)
    assert not started
    await jump(hass, freezer, new_start)
    assert [e.data["start"] for e in started] == [new_start.isoformat()]


async def test_new_calendar_event_reaches_the_plan_without_waiting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A new event in the calendar is in the plan within seconds, not at the next periodic read."""
    await prepare(hass, freezer, NOW)
    tomorrow = NOW + timedelta(days=1)
    calendar = FakeCalendar(
        "Grid operator", [CalendarEvent(tomorrow, tomorrow + timedelta(hours=1), "Dentist")]
    )
    await add_calendars(hass, calendar)
    entry = await start_home(hass, options={CONF_DR_CALENDAR: "calendar.grid_operator"})
    assert entry.runtime_data.grid.events() == []

    calendar.items.append(CalendarEvent(EVENT_START, EVENT_END, "Flex event: max 600 W"))
    calendar.async_write_ha_state()
    await hass.async_block_till_done()
    await jump(hass, freezer, NOW + timedelta(seconds=15))
    assert limits(entry, EVENT_START, EVENT_END) == {600.0}
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.attributes["source"] == "calendar"
    assert sensor.attributes["title"] == "Flex event: max 600 W"

    # the periodic read finds the same events: the plan stays as it is
    await jump(hass, freezer, NOW + timedelta(minutes=15))
    assert limits(entry, EVENT_START, EVENT_END) == {600.0}
    assert len(entry.runtime_data.grid.events()) == 1


async def test_no_event_is_timed_after_home_assistant_stops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Once Home Assistant stops, no event start or end is timed any more."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    started = async_capture_events(hass, EVENT_DR_STARTED)
    start = NOW + timedelta(hours=1)
    await demand_response(
        hass, entry, start=start, end=start + timedelta(hours=1), import_cap_w=500
    )
    assert start in pending_points(hass)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert start not in pending_points(hass)
    later = NOW + timedelta(hours=3)
    await demand_response(hass, entry, start=later, end=later + timedelta(hours=1), import_cap_w=1)
    assert later not in pending_points(hass)
    await jump(hass, freezer, start)
    assert not started


# ---------------------------------------------------------------------------------------------
# participation
# ---------------------------------------------------------------------------------------------


async def test_opting_out_without_events_is_logged_plainly(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without an event, opting out is logged without a next event; repeating it logs nothing."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    switch = grid_entity(hass, entry, "switch", "demand_response_participation")
    logbook = async_capture_events(hass, "logbook_entry")

    for _ in range(2):
        await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
        await hass.async_block_till_done()
    assert state(hass, switch).state == "off"
    assert messages(logbook) == ["opted out of demand-response events"]

    for _ in range(2):
        await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
        await hass.async_block_till_done()
    assert state(hass, switch).state == "on"
    assert messages(logbook) == [
        "opted out of demand-response events",
        "takes part in demand-response events again",
    ]


async def test_event_opted_out_of_reports_no_savings(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An event the home stays out of starts and ends as such, with no energy or reward."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    started = async_capture_events(hass, EVENT_DR_STARTED)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    logbook = async_capture_events(hass, "logbook_entry")
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=1)
    await demand_response(
        hass, entry, start=start, end=end, import_cap_w=700, incentive_per_kwh=0.25
    )
    switch = grid_entity(hass, entry, "switch", "demand_response_participation")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await hass.async_block_till_done()

    await jump(hass, freezer, start)
    assert started[0].data["participating"] is False
    await jump(hass, freezer, end)
    assert ended[0].data["participating"] is False
    assert ended[0].data["energy_reduced_kwh"] is None
    assert ended[0].data["reward"] is None
    assert messages(logbook) == [
        "opted out of demand-response events (next: action, 2026-11-18 13:30)",
        "demand-response event started: action, 2026-11-18 13:30-14:00, cap 700 W, 0.25/kWh"
        " (the home does not take part)",
        "demand-response event ended: action, 2026-11-18 13:30-14:00, cap 700 W, 0.25/kWh",
    ]
    reduced = state(hass, grid_entity(hass, entry, "sensor", "last_event_energy_reduced"))
    assert reduced.state == "unknown"
    assert reduced.attributes["start"] == start.isoformat()
    assert reduced.attributes["baseline_days"] == []
    reward = state(hass, grid_entity(hass, entry, "sensor", "last_event_reward"))
    assert reward.state == "unknown"
    assert reward.attributes["unit_of_measurement"] == "EUR"


# ---------------------------------------------------------------------------------------------
# the recorder and the store
# ---------------------------------------------------------------------------------------------


async def test_unreadable_history_at_an_event_end_still_ends_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A database error at an event's end is logged; the end is still reported, without figures."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=1)
    await demand_response(hass, entry, start=start, end=end, incentive_per_kwh=0.5)
    await jump(hass, freezer, start)
    with patch(f"{GRID_MODULE}.async_grid_import", side_effect=OSError("disk I/O error")):
        await jump(hass, freezer, end)
    assert len(ended) == 1
    assert ended[0].data["energy_reduced_kwh"] is None
    assert "could not be read: disk I/O error" in caplog.text
    assert entry.runtime_data.grid.last_result is not None
    assert entry.runtime_data.grid.last_result.participated is True


async def test_damaged_store_is_read_as_far_as_it_goes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Damaged items in the grid agent's store are skipped; the good ones still count."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    good = {
        "id": "action:kept",
        "source": "action",
        "start": EVENT_START.isoformat(),
        "end": EVENT_END.isoformat(),
        "import_cap_w": 700.0,
    }
    hass_storage[store_key(entry.entry_id, "grid")]["data"] = {
        "participating": True,
        "profile": {"version": 99},
        "actions": [good, {**good, "id": "action:fax", "source": "fax"}, {"source": "action"}],
        "started": [{"event": {"source": "action"}}, {"participating": True}],
        "event_days": ["2026-11-17", "yesterday"],
        "last": {"event_id": "x", "title": "no times"},
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await jump(hass, freezer, NOW + timedelta(seconds=15))  # the first re-plan

    grid = entry.runtime_data.grid
    assert [e.id for e in grid.events()] == ["action:kept"]
    assert limits(entry, EVENT_START, EVENT_END) == {700.0}
    assert grid.last_result is None
    reduced = state(hass, grid_entity(hass, entry, "sensor", "last_event_energy_reduced"))
    assert reduced.state == "unknown"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["grid"]["started"] == []
    assert diagnostics["grid"]["last_event"] is None


async def test_daily_peak_starts_at_zero_and_survives_a_database_error(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """At midnight a daily demand charge's peak is 0 W; a failed read keeps the last peak."""
    midnight = datetime(2026, 11, 18, 0, 0, tzinfo=TZ)
    await prepare(hass, freezer, midnight - timedelta(hours=1))
    hass.states.async_set(GRID, "5000", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    freezer.move_to(midnight - timedelta(minutes=1))
    hass.states.async_set(GRID, "1200", {"unit_of_measurement": "W"})
    await async_wait_recording_done(hass)
    freezer.move_to(midnight)
    options = {CONF_DEMAND_CHARGE_PER_KW: 10.0, CONF_BILLING_PERIOD: BILLING_DAILY}
    entry = await start_home(hass, options=options)
    peak = grid_entity(hass, entry, "sensor", "peak_import_this_period")
    assert float(state(hass, peak).state) == 0.0  # yesterday's 5 kW is not today's peak
    assert problem_of(entry).grid.peak_floor_w == 0.0

    await jump(hass, freezer, midnight + timedelta(minutes=30))  # the periodic measurement
    assert float(state(hass, peak).state) == pytest.approx(1200.0)

    caplog.set_level(logging.WARNING)
    with patch(f"{GRID_MODULE}.async_grid_import", side_effect=HomeAssistantError("recorder busy")):
        await jump(hass, freezer, midnight + timedelta(minutes=45))
    assert "The peak import could not be read: recorder busy" in caplog.text
    assert float(state(hass, peak).state) == pytest.approx(1200.0)


# ---------------------------------------------------------------------------------------------
# calendars, Octopus sessions and carbon sensors that change, go or misbehave
# ---------------------------------------------------------------------------------------------


async def test_missing_or_broken_calendars_leave_the_home_without_events(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A calendar that does not exist or cannot be read gives no events and no holidays."""
    await prepare(hass, freezer, NOW)
    hass.states.async_set("calendar.holidays", "off")  # an entity without a calendar integration
    options = {
        CONF_DR_CALENDAR: "calendar.nowhere",
        CONF_HOLIDAY_CALENDAR: "calendar.holidays",
    }
    entry = await start_home(hass, options=options)
    grid = entry.runtime_data.grid
    assert grid.events() == []
    assert grid.holidays == frozenset()
    assert set(problem_of(entry).grid.import_limit_w) == {FUSE}
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.state == "unknown"
    assert sensor.attributes["participating"] is True
    assert "source" not in sensor.attributes
    await jump(hass, freezer, NOW + timedelta(minutes=15))
    assert grid.events() == []
    assert plan_of(entry).import_w


async def test_holidays_with_spot_prices_are_known_without_a_price_refresh(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With spot prices, holidays from the calendar show in diagnostics and stay as read."""
    await prepare(hass, freezer, NOW)
    holiday = NOW.date() + timedelta(days=1)
    calendars = [
        FakeCalendar("Holidays", [CalendarEvent(holiday, holiday + timedelta(days=1), "Fest")]),
        FakeCalendar("Grid operator", [CalendarEvent(EVENT_START, EVENT_END, "Peak event 2 kW")]),
    ]
    await add_calendars(hass, *calendars)
    options = {
        CONF_DR_CALENDAR: "calendar.grid_operator",
        CONF_HOLIDAY_CALENDAR: "calendar.holidays",
    }
    entry = await start_home(hass, options=options)
    collector = entry.runtime_data.collector
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["grid"]["holidays"] == [holiday.isoformat()]
    assert collector.holidays == frozenset({holiday})
    assert limits(entry, EVENT_START, EVENT_END) == {2000.0}

    # the periodic read finds both calendars as they were
    await jump(hass, freezer, NOW + timedelta(minutes=15))
    assert entry.runtime_data.grid.holidays == frozenset({holiday})
    assert limits(entry, EVENT_START, EVENT_END) == {2000.0}


async def test_octopus_session_stays_when_the_entity_only_changes_or_goes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The joined saving session stays in the plan when the Octopus entity changes or goes."""
    await prepare(hass, freezer, NOW)
    session = {
        "id": 42,
        "start": EVENT_START.isoformat(),
        "end": EVENT_END.isoformat(),
        "octopoints_per_kwh": 800,
        "rewarded_octopoints": None,
    }
    attrs = {"joined_events": [session], "available_events": []}
    hass.states.async_set(OCTOPUS, "2026-11-18T10:00:00+00:00", attrs)
    entry = await start_home(hass, prices=FLAT, options={CONF_OCTOPUS_SESSIONS: OCTOPUS})
    inside = steps(problem_of(entry), EVENT_START, EVENT_END)
    assert [problem_of(entry).import_price[i] for i in inside] == pytest.approx([1.3] * len(inside))
    event_sensor = grid_entity(hass, entry, "sensor", "demand_response_event")
    assert state(hass, event_sensor).attributes["source"] == "octopus"

    hass.states.async_set(OCTOPUS, "2026-11-18T12:30:00+00:00", attrs)
    await jump(hass, freezer, NOW + timedelta(seconds=15))
    hass.states.async_remove(OCTOPUS)
    await jump(hass, freezer, NOW + timedelta(seconds=30))
    assert [e.source for e in entry.runtime_data.grid.events()] == ["octopus"]
    assert [problem_of(entry).import_price[i] for i in inside] == pytest.approx([1.3] * len(inside))
    assert state(hass, event_sensor).attributes["incentive_per_kwh"] == pytest.approx(1.0)


async def test_carbon_sensor_follows_the_entity_and_its_readings_are_learned(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The carbon sensor follows its source (else unknown); plans use the hourly learned values."""
    await prepare(hass, freezer, NOW)
    carbon = "sensor.co2_intensity"
    unit = {"unit_of_measurement": "gCO2eq/kWh"}
    hass.states.async_set(carbon, "300", unit)
    entry = await start_home(hass, options={CONF_CARBON_ENTITY: carbon})
    intensity = grid_entity(hass, entry, "sensor", "carbon_intensity")
    assert float(state(hass, intensity).state) == 300
    assert set(problem_of(entry).carbon_intensity or ()) == {0.3}  # the reading, everywhere

    hass.states.async_set(carbon, "200", unit)
    await hass.async_block_till_done()
    assert float(state(hass, intensity).state) == 200
    for text in ("unavailable", "n/a"):
        hass.states.async_set(carbon, text, unit)
        await hass.async_block_till_done()
        assert state(hass, intensity).state == "unknown"
    await jump(hass, freezer, NOW.replace(hour=14))
    hass.states.async_set(carbon, "0.4", {"unit_of_measurement": "kg/kWh"})
    await hass.async_block_till_done()
    assert float(state(hass, intensity).state) == 400

    # the next plan: 200 g at 13:00 and 400 g at 14:00 as learned, their mean elsewhere
    await jump(hass, freezer, NOW.replace(hour=14, minute=15))
    problem = problem_of(entry)
    assert problem.carbon_intensity is not None
    tomorrow = NOW + timedelta(days=1)

    def at(when: datetime) -> float:
        return problem.carbon_intensity[steps(problem, when, when + problem.step)[0]]  # type: ignore[index]

    assert at(tomorrow.replace(hour=13)) == pytest.approx(0.2)
    assert at(tomorrow.replace(hour=14)) == pytest.approx(0.4)
    assert at(tomorrow.replace(hour=3)) == pytest.approx(0.3)

    hass.states.async_remove(carbon)
    await hass.async_block_till_done()
    assert state(hass, intensity).state == "unknown"


async def test_new_carbon_forecast_is_planned_with(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A new forecast in the carbon entity's attributes reaches the next plan within seconds."""
    await prepare(hass, freezer, NOW)
    carbon = "sensor.co2_intensity"
    hass.states.async_set(carbon, "300", {"unit_of_measurement": "gCO2eq/kWh"})
    entry = await start_home(hass, options={CONF_CARBON_ENTITY: carbon})
    midnight = NOW.replace(hour=0)
    forecast = [
        {"datetime": (midnight + timedelta(hours=h)).isoformat(), "carbonIntensity": 100 + h}
        for h in range(48)
    ]
    hass.states.async_set(
        carbon, "300", {"unit_of_measurement": "gCO2eq/kWh", "forecast": forecast}
    )
    await hass.async_block_till_done()
    await jump(hass, freezer, NOW + timedelta(seconds=15))
    problem = problem_of(entry)
    evening = steps(problem, EVENT_START, EVENT_START + timedelta(hours=1))
    assert [problem.carbon_intensity[i] for i in evening] == pytest.approx(  # type: ignore[index]
        [0.117] * len(evening)
    )
    emissions = state(hass, grid_entity(hass, entry, "sensor", "plan_emissions"))
    assert float(emissions.state) > 0


async def test_update_entity_shows_the_current_grid_state(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Asking Home Assistant to update a grid entity shows the state of the current time."""
    await prepare(hass, freezer, NOW)
    assert await async_setup_component(hass, "homeassistant", {})
    prices = [0.50 if h in (13, 14) else 0.20 for h in range(48)]
    entry = await start_home(hass, prices=prices)
    peak = grid_entity(hass, entry, "binary_sensor", "peak_now")
    assert state(hass, peak).state == "on"

    freezer.move_to(NOW.replace(hour=15, minute=1))  # no timer has run yet
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": peak}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, peak).state == "off"
