"""The grid integration agent in a running home, with a real SQLite recorder.

Demand-response events from a calendar, the action and the Octopus Energy saving-session
entity reach the plan; the participation switch opts out; bus events fire at start and end;
the baseline comes from recorded grid import; time-of-use prices follow DST and the holiday
calendar; a demand charge lowers the planned peak; a carbon price moves consumption.
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncGenerator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.recorder import Recorder
from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    async_capture_events,
    async_fire_time_changed,
    mock_integration,
    mock_platform,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_collective.const import (
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DR_CALENDAR,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_HOLIDAY_CALENDAR,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_MIN_OFF_MIN,
    CONF_MIN_ON_MIN,
    CONF_OCTOPUS_SESSIONS,
    CONF_POWER_W,
    CONF_RUN_HOURS,
    CONF_SWITCH,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DOMAIN,
    EVENT_DR_ENDED,
    EVENT_DR_STARTED,
    PRICE_MODE_SCHEDULE,
    SUBENTRY_INTERRUPTIBLE,
)
from custom_components.energy_collective.engine.model import Plan, Problem

from ..common import GRID, PRICE, PV, exception_message, home_data, home_options, nordpool_attrs

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 18, 13, 0, tzinfo=TZ)  # a Wednesday
EVENT_START = NOW.replace(hour=17)
EVENT_END = NOW.replace(hour=19)
FUSE = 11000.0
FLAT = [0.30] * 48
CHEAP_EVENING = [0.10 if h in (17, 18) else 0.30 for h in range(48)]
OCTOPUS = "event.octopus_energy_saving_session_events"
EXCEPTIONS = json.loads(
    (Path(__file__).parents[2] / "custom_components" / DOMAIN / "strings.json").read_text(
        encoding="utf-8"
    )
)["exceptions"]


def pump(name: str = "switch.pump") -> dict[str, Any]:
    """An interruptible 2 kW load that must run 2 h between 12:00 and 12:00 the next day."""
    return {
        CONF_SWITCH: name,
        CONF_POWER_W: 2000.0,
        CONF_RUN_HOURS: 2.0,
        CONF_WINDOW_START: "12:00:00",
        CONF_WINDOW_END: "12:00:00",
        CONF_MIN_ON_MIN: 15.0,
        CONF_MIN_OFF_MIN: 15.0,
    }


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


class FakeCalendar(CalendarEntity):
    """A calendar holding a fixed list of events."""

    def __init__(self, name: str, events: list[CalendarEvent]) -> None:
        """A calendar called `name`."""
        self._attr_name = name
        self._attr_unique_id = name
        self.items = events

    @property
    def event(self) -> CalendarEvent | None:
        """The event under way, else the next one."""
        now = dt_util.now()
        upcoming = [e for e in self.items if e.end_datetime_local > now]
        return min(upcoming, key=lambda e: e.start_datetime_local) if upcoming else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The events overlapping the window."""
        return [
            e
            for e in self.items
            if e.start_datetime_local < end_date and e.end_datetime_local > start_date
        ]


class FakeSwitch(SwitchEntity):
    """A switch that does what it is told."""

    _attr_is_on = False

    def __init__(self, name: str) -> None:
        """A switch called `name`."""
        self._attr_name = name
        self._attr_unique_id = name

    async def async_turn_on(self, **kwargs: Any) -> None:
        """On."""
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Off."""
        self._attr_is_on = False
        self.async_write_ha_state()


async def add_fakes(hass: HomeAssistant, domain: str, entities: Sequence[Any]) -> None:
    """Set up `domain` with the given entities of a test integration."""

    async def _setup(
        hass: HomeAssistant, config: Any, add_entities: Any, discovery_info: Any = None
    ) -> None:
        add_entities(list(entities))

    if "fakes_mocked" not in hass.data:
        hass.data["fakes_mocked"] = True
        mock_integration(hass, MockModule("fakes"))
    mock_platform(hass, f"fakes.{domain}", MockPlatform(async_setup_platform=_setup))
    assert await async_setup_component(hass, domain, {domain: {"platform": "fakes"}})
    await hass.async_block_till_done()


async def add_calendars(hass: HomeAssistant, *calendars: FakeCalendar) -> None:
    """Set up the calendar integration with the given calendars."""
    await add_fakes(hass, "calendar", calendars)
    hass.data.setdefault("fake_calendars", []).extend(calendars)


@pytest.fixture(autouse=True)
async def unload_at_the_end(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Unload the homes and remove the fake calendars when a test ends.

    Home Assistant stops without unloading its entries, and a calendar entity keeps a timer
    for its next event until it is removed (the calendar platform of 2026.3 and later).
    """
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    for calendar in hass.data.get("fake_calendars", []):
        if hass.states.get(calendar.entity_id) is not None:
            await calendar.async_remove()
    await hass.async_block_till_done()


def pending_points(hass: HomeAssistant) -> set[datetime]:
    """The moments for which a point-in-time timer is still pending on the loop."""
    return {
        point
        for handle in get_scheduled_timer_handles(hass.loop)
        if not handle.cancelled()
        and (point := getattr(handle._callback, "utc_point_in_time", None)) is not None
    }


async def prepare(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Berlin, euros, the clock at `when`."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.currency = "EUR"
    freezer.move_to(when)


async def start_home(
    hass: HomeAssistant,
    *,
    prices: Sequence[float] = CHEAP_EVENING,
    options: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    pumps: int = 1,
) -> MockConfigEntry:
    """A home with Nord Pool prices from today's midnight and `pumps` interruptible loads."""
    now = dt_util.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hass.states.async_set(
        PRICE, str(prices[now.hour]), nordpool_attrs(midnight, list(prices), "EUR/kWh")
    )
    if hass.states.get(GRID) is None:
        hass.states.async_set(GRID, "400", {"unit_of_measurement": "W"})
    hass.states.async_set(PV, "0", {"unit_of_measurement": "W"})
    await add_fakes(hass, "switch", [FakeSwitch(f"Pump {i}") for i in range(pumps)])
    names = [f"switch.pump_{i}" for i in range(pumps)]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=data or home_data(),
        options={**home_options(), **(options or {})},
        unique_id=GRID,
        subentries_data=[
            ConfigSubentryData(
                data=pump(name),
                subentry_type=SUBENTRY_INTERRUPTIBLE,
                title=f"Pump {i}",
                unique_id=None,
            )
            for i, name in enumerate(names)
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def problem_of(entry: MockConfigEntry) -> Problem:
    """The problem of the current plan."""
    problem = entry.runtime_data.planner.data.problem
    assert problem is not None
    return problem


def plan_of(entry: MockConfigEntry) -> Plan:
    """The current plan."""
    plan = entry.runtime_data.planner.data.plan
    assert plan is not None
    return plan


def steps(problem: Problem, start: datetime, end: datetime) -> list[int]:
    """Indexes of the planning steps in [start, end)."""
    return [i for i in range(problem.n_steps) if start <= problem.start + problem.step * i < end]


def grid_entity(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    """The entity id of one of the grid agent's entities."""
    entity_id = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_grid_{key}"
    )
    assert entity_id is not None, key
    return entity_id


def state(hass: HomeAssistant, entity_id: str) -> Any:
    """The state object of an entity."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found


async def jump(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Move the clock to `when` and let every timer that is due run."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    # a debounced re-plan runs as a background task
    await hass.async_block_till_done(wait_background_tasks=True)


async def restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Reload the home and let it re-plan (the first update publishes the saved plan)."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await jump(hass, freezer, dt_util.utcnow() + timedelta(seconds=15))


async def demand_response(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> None:
    """Call the demand-response action."""
    await hass.services.async_call(
        DOMAIN,
        "demand_response",
        {"config_entry_id": entry.entry_id, **fields},
        blocking=True,
    )
    await hass.async_block_till_done()


def assert_capped(entry: MockConfigEntry, cap: float, start: datetime, end: datetime) -> None:
    """The event's window, and only it, is capped; the plan stays under the cap there."""
    problem, plan = problem_of(entry), plan_of(entry)
    inside = steps(problem, start, end)
    assert inside
    limits = problem.grid.import_limit_w
    assert [limits[i] for i in inside] == [cap] * len(inside)
    assert {v for i, v in enumerate(limits) if i not in inside} == {FUSE}
    assert max(plan.import_w[i] for i in inside) <= cap + 1e-6
    # the 2 kW pump, which would run in the cheap evening hours, runs elsewhere
    power = plan.device("Pump 0").power_w
    assert all(power[i] == 0 for i in inside)
    assert sum(power) * problem.step_hours == pytest.approx(4000.0, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# the three sources
# ---------------------------------------------------------------------------------------------


async def test_action_event_caps_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An event from the action is an import cap in its window; the real-time cap follows."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    power = plan_of(entry).device("Pump 0").power_w
    evening = steps(problem_of(entry), EVENT_START, EVENT_END)
    assert all(power[i] == 2000 for i in evening)  # the cheapest hours, without an event

    await demand_response(hass, entry, start=EVENT_START, end=EVENT_END, import_cap_w=500)
    assert_capped(entry, 500.0, EVENT_START, EVENT_END)
    grid = entry.runtime_data.grid
    assert grid.import_cap_w(NOW) is None
    assert grid.import_cap_w(EVENT_START + timedelta(minutes=30)) == 500.0
    assert grid.import_cap_w(EVENT_END) is None
    event_sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert dt_util.parse_datetime(event_sensor.state) == EVENT_START
    assert event_sensor.attributes["import_cap_w"] == 500.0
    assert event_sensor.attributes["source"] == "action"
    assert event_sensor.attributes["participating"] is True

    # the event survives a restart
    await restart(hass, freezer, entry)
    assert_capped(entry, 500.0, EVENT_START, EVENT_END)


async def test_calendar_event_caps_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A calendar event whose title holds a keyword is read with its cap; others are not."""
    await prepare(hass, freezer, NOW)
    calendar = FakeCalendar(
        "Grid operator",
        [
            CalendarEvent(EVENT_START, EVENT_END, "Peak event: stay under 1.5 kW"),
            CalendarEvent(NOW.replace(hour=20), NOW.replace(hour=21), "Dentist"),
        ],
    )
    await add_calendars(hass, calendar)
    entry = await start_home(hass, options={CONF_DR_CALENDAR: "calendar.grid_operator"})
    assert_capped(entry, 1500.0, EVENT_START, EVENT_END)
    events = entry.runtime_data.grid.events()
    assert [(e.source, e.title) for e in events] == [("calendar", "Peak event: stay under 1.5 kW")]

    # a new event appears: the periodic read brings it to the plan
    calendar.items.append(
        CalendarEvent(NOW.replace(hour=21), NOW.replace(hour=22), "Demand response", "limit 800 W")
    )
    await jump(hass, freezer, NOW + timedelta(minutes=15))
    await jump(hass, freezer, NOW + timedelta(minutes=15, seconds=20))
    problem = problem_of(entry)
    late = steps(problem, NOW.replace(hour=21), NOW.replace(hour=22))
    assert {problem.grid.import_limit_w[i] for i in late} == {800.0}

    # the events' start and end timers go with the home: none is left after it unloads
    moments = {EVENT_START, EVENT_END, NOW.replace(hour=21), NOW.replace(hour=22)}
    assert moments & pending_points(hass)
    await calendar.async_remove()  # the calendar's own timers for the same moments
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not moments & pending_points(hass)


async def test_octopus_saving_session_pays_in_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A joined Octopus saving session is an incentive per kWh on the import price."""
    await prepare(hass, freezer, NOW)
    hass.states.async_set(OCTOPUS, "unknown", {"joined_events": [], "available_events": []})
    entry = await start_home(hass, prices=FLAT, options={CONF_OCTOPUS_SESSIONS: OCTOPUS})
    assert set(problem_of(entry).import_price) == {0.30}

    session = {
        "id": 42,
        "start": EVENT_START.isoformat(),
        "end": EVENT_START.replace(hour=18).isoformat(),
        "octopoints_per_kwh": 1600,
        "rewarded_octopoints": None,
    }
    offered = {**session, "id": 43, "code": "EVENT43", "start": EVENT_END.isoformat()}
    hass.states.async_set(
        OCTOPUS,
        "2026-11-18T12:00:00+00:00",
        {"joined_events": [session], "available_events": [offered]},
    )
    await hass.async_block_till_done()
    await jump(hass, freezer, NOW + timedelta(seconds=15))
    problem = problem_of(entry)
    inside = steps(problem, EVENT_START, EVENT_START.replace(hour=18))
    # 1600 points per kWh at 800 points per pound
    assert [problem.import_price[i] for i in inside] == pytest.approx([2.30] * len(inside))
    outside = [p for i, p in enumerate(problem.import_price) if i not in inside]
    assert set(outside) == {0.30}  # the session not joined does not count
    power = plan_of(entry).device("Pump 0").power_w
    assert all(power[i] == 0 for i in inside)


# ---------------------------------------------------------------------------------------------
# participation, bus events, baseline
# ---------------------------------------------------------------------------------------------


async def test_participation_switch_opts_out(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Off, the home plans as if there were no event; the choice survives a restart."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    await demand_response(hass, entry, start=EVENT_START, end=EVENT_END, import_cap_w=500)
    switch = grid_entity(hass, entry, "switch", "demand_response_participation")
    assert state(hass, switch).state == "on"

    logbook = async_capture_events(hass, "logbook_entry")
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await jump(hass, freezer, NOW + timedelta(seconds=15))
    assert state(hass, switch).state == "off"
    assert any("opted out" in e.data["message"] for e in logbook)
    assert set(problem_of(entry).grid.import_limit_w) == {FUSE}
    assert entry.runtime_data.grid.import_cap_w(EVENT_START) is None
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.attributes["participating"] is False

    await restart(hass, freezer, entry)
    assert state(hass, switch).state == "off"
    assert set(problem_of(entry).grid.import_limit_w) == {FUSE}

    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    await jump(hass, freezer, NOW + timedelta(seconds=30))
    assert_capped(entry, 500.0, EVENT_START, EVENT_END)


async def test_bus_events_at_start_and_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Started and ended fire on the bus at the event's times, with its figures."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    started = async_capture_events(hass, EVENT_DR_STARTED)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    logbook = async_capture_events(hass, "logbook_entry")
    start, end = NOW + timedelta(minutes=30), NOW + timedelta(hours=1)
    await demand_response(
        hass, entry, start=start, end=end, import_cap_w=1000, incentive_per_kwh=0.4
    )
    await jump(hass, freezer, start - timedelta(seconds=1))
    assert not started

    await jump(hass, freezer, start)
    assert len(started) == 1
    assert started[0].data == {
        "config_entry_id": entry.entry_id,
        "source": "action",
        "title": "",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "import_cap_w": 1000.0,
        "incentive_per_kwh": 0.4,
        "participating": True,
    }
    assert not ended
    sensor = state(hass, grid_entity(hass, entry, "sensor", "demand_response_event"))
    assert sensor.attributes["active"] is True

    await jump(hass, freezer, end)
    assert len(ended) == 1
    data = ended[0].data
    assert data["start"] == start.isoformat()
    assert {"energy_reduced_kwh", "reward"} <= set(data)
    assert len(started) == 1
    # the event is over: it no longer caps anything
    assert entry.runtime_data.grid.events() == []
    messages = [e.data["message"] for e in logbook if e.data.get("domain") == DOMAIN]
    assert [m.split(":")[0] for m in messages if "demand-response" in m] == [
        "demand-response event started",
        "demand-response event ended",
    ]


async def _record_days(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, first: date, last: date
) -> None:
    """Grid import on each day: 500 W, 2000 W from 17:00 to 19:00 (3000 W on weekends)."""
    day = first
    while day <= last:
        midnight = datetime(day.year, day.month, day.day, tzinfo=TZ)
        evening = "3000" if day.weekday() >= 5 else "2000"
        for hour, value in ((0, "500"), (17, evening), (19, "500")):
            freezer.move_to(midnight + timedelta(hours=hour))
            hass.states.async_set(GRID, value, {"unit_of_measurement": "W"})
            await hass.async_block_till_done()
        day += timedelta(days=1)
    await async_wait_recording_done(hass)


async def test_baseline_from_recorder_history(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After the event, the energy below the utility baseline and the reward are reported."""
    await prepare(hass, freezer, NOW - timedelta(days=17))
    await _record_days(
        hass, freezer, (NOW - timedelta(days=16)).date(), NOW.date() - timedelta(days=1)
    )
    freezer.move_to(NOW)
    hass.states.async_set(GRID, "400", {"unit_of_measurement": "W"})
    entry = await start_home(hass)
    ended = async_capture_events(hass, EVENT_DR_ENDED)
    await demand_response(hass, entry, start=EVENT_START, end=EVENT_END, incentive_per_kwh=0.5)

    await jump(hass, freezer, EVENT_START)
    hass.states.async_set(GRID, "800", {"unit_of_measurement": "W"})
    await async_wait_recording_done(hass)
    await jump(hass, freezer, EVENT_END)
    await async_wait_recording_done(hass)
    await hass.async_block_till_done()

    # baseline: the 10 previous weekdays at 2000 W (the weekends' 3000 W are left out)
    assert len(ended) == 1
    assert ended[0].data["energy_reduced_kwh"] == pytest.approx(2.4)  # (2000 - 800) W x 2 h
    assert ended[0].data["reward"] == pytest.approx(1.2)
    last = entry.runtime_data.grid.last_result
    assert last is not None
    assert len(last.baseline_days) == 10
    assert all(day.weekday() < 5 for day in last.baseline_days)
    assert last.baseline_kwh == pytest.approx(4.0)
    reduced = state(hass, grid_entity(hass, entry, "sensor", "last_event_energy_reduced"))
    assert float(reduced.state) == pytest.approx(2.4)
    assert reduced.attributes["unit_of_measurement"] == "kWh"
    reward = state(hass, grid_entity(hass, entry, "sensor", "last_event_reward"))
    assert float(reward.state) == pytest.approx(1.2)
    assert reward.attributes["unit_of_measurement"] == "EUR"

    # the result is kept across a restart
    await restart(hass, freezer, entry)
    reward = state(hass, grid_entity(hass, entry, "sensor", "last_event_reward"))
    assert float(reward.state) == pytest.approx(1.2)


# ---------------------------------------------------------------------------------------------
# the action's validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"start": EVENT_START, "end": EVENT_END}, "dr_cap_or_incentive"),
        ({"start": EVENT_END, "end": EVENT_START, "import_cap_w": 500}, "dr_end_before_start"),
        ({"start": EVENT_START, "end": EVENT_START, "incentive_per_kwh": 1}, "dr_end_before_start"),
        (
            {"start": NOW - timedelta(hours=3), "end": NOW - timedelta(hours=1), "import_cap_w": 1},
            "dr_over",
        ),
    ],
)
async def test_action_rejects_bad_events(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fields: dict[str, Any], key: str
) -> None:
    """A bad event is refused with a translated error and changes nothing."""
    await prepare(hass, freezer, NOW)
    entry = await start_home(hass)
    with pytest.raises(ServiceValidationError) as err:
        await demand_response(hass, entry, **fields)
    domain, found, placeholders = exception_message(err.value)
    assert (domain, found) == (DOMAIN, key)
    message = EXCEPTIONS[key]["message"]
    assert {n for _, n, _, _ in string.Formatter().parse(message) if n} == set(placeholders)
    assert entry.runtime_data.grid.events() == []


# ---------------------------------------------------------------------------------------------
# tariffs, demand charge, carbon
# ---------------------------------------------------------------------------------------------


async def test_time_of_use_across_dst_and_holiday(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Schedule prices follow local time through the clock change and the holiday calendar."""
    saturday = datetime(2026, 10, 24, 20, 0, tzinfo=TZ)  # clocks go back on Sunday at 03:00
    await prepare(hass, freezer, saturday)
    holidays = FakeCalendar(
        "Holidays",
        [CalendarEvent(date(2026, 10, 26), date(2026, 10, 27), "National holiday")],
    )
    await add_calendars(hass, holidays)
    data = home_data(
        **{
            CONF_IMPORT_PRICE_MODE: PRICE_MODE_SCHEDULE,
            CONF_IMPORT_PRICE_SCHEDULE: "all 07:00 0.30, 22:00 0.20\nholidays 00:00 0.10",
            CONF_IMPORT_PRICE_ENTITY: None,
            CONF_EXPORT_PRICE_SCHEDULE: "0.05",
        }
    )
    entry = await start_home(
        hass,
        data=data,
        options={CONF_HORIZON_HOURS: 48, CONF_HOLIDAY_CALENDAR: "calendar.holidays"},
    )
    problem = problem_of(entry)
    utc = dt_util.UTC

    def price(when: datetime) -> float:
        return problem.import_price[int((when - problem.start) / problem.step)]

    # Sunday is winter time (UTC+1): 07:00 local is 06:00 UTC
    assert price(datetime(2026, 10, 25, 5, 45, tzinfo=utc)) == 0.20
    assert price(datetime(2026, 10, 25, 6, 0, tzinfo=utc)) == 0.30
    assert price(datetime(2026, 10, 25, 20, 45, tzinfo=utc)) == 0.30
    assert price(datetime(2026, 10, 25, 21, 0, tzinfo=utc)) == 0.20
    # Saturday is still summer time (UTC+2): 22:00 local is 20:00 UTC
    assert price(datetime(2026, 10, 24, 19, 45, tzinfo=utc)) == 0.30
    assert price(datetime(2026, 10, 24, 20, 0, tzinfo=utc)) == 0.20
    # Monday is a holiday from the calendar: its own price all day (local midnight = 23:00 UTC)
    assert price(datetime(2026, 10, 25, 22, 45, tzinfo=utc)) == 0.20
    assert price(datetime(2026, 10, 25, 23, 0, tzinfo=utc)) == 0.10
    assert price(datetime(2026, 10, 26, 9, 0, tzinfo=utc)) == 0.10
    assert entry.runtime_data.grid.holidays == frozenset({date(2026, 10, 26)})
    assert entry.runtime_data.collector.holidays == frozenset({date(2026, 10, 26)})


async def test_demand_charge_lowers_the_planned_peak(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With a demand charge two pumps no longer run together; the period's peak is the floor."""
    await prepare(hass, freezer, datetime(2026, 11, 10, 9, 0, tzinfo=TZ))
    hass.states.async_set(GRID, "3000", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    freezer.move_to(datetime(2026, 11, 10, 10, 0, tzinfo=TZ))
    hass.states.async_set(GRID, "400", {"unit_of_measurement": "W"})
    await async_wait_recording_done(hass)
    freezer.move_to(NOW)

    entry = await start_home(hass, pumps=2)
    without = max(plan_of(entry).import_w)
    assert problem_of(entry).grid.demand_charge_per_kw == 0

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_DEMAND_CHARGE_PER_KW: 20.0}
    )
    await restart(hass, freezer, entry)
    problem = problem_of(entry)
    assert problem.grid.demand_charge_per_kw == 20.0
    assert problem.grid.peak_floor_w == pytest.approx(3000.0)
    peak = state(hass, grid_entity(hass, entry, "sensor", "peak_import_this_period"))
    assert float(peak.state) == pytest.approx(3000.0)
    plan = plan_of(entry)
    assert max(plan.import_w) <= without - 1500
    first, second = plan.device("Pump 0").power_w, plan.device("Pump 1").power_w
    assert not any(a > 0 and b > 0 for a, b in zip(first, second, strict=True))


async def test_carbon_price_moves_consumption_to_low_carbon_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The carbon entity's forecast reaches the plan; with a price, the pump follows it."""
    await prepare(hass, freezer, NOW)
    midnight = NOW.replace(hour=0)
    low = range(26, 30)  # Thursday 02:00 to 06:00
    forecast = [
        {
            "datetime": (midnight + timedelta(hours=h)).isoformat(),
            "carbonIntensity": 50 if h in low else 400,
        }
        for h in range(48)
    ]
    hass.states.async_set(
        "sensor.co2_intensity", "300", {"unit_of_measurement": "gCO2eq/kWh", "forecast": forecast}
    )
    # the low-carbon hours cost a little more
    prices = [0.25 if h in low else 0.24 for h in range(48)]
    options = {CONF_CARBON_ENTITY: "sensor.co2_intensity"}
    entry = await start_home(hass, prices=prices, options=options)
    problem = problem_of(entry)
    night = steps(problem, midnight + timedelta(hours=26), midnight + timedelta(hours=30))
    assert problem.carbon_intensity is not None
    assert [problem.carbon_intensity[i] for i in night] == pytest.approx([0.05] * len(night))
    power = plan_of(entry).device("Pump 0").power_w
    assert sum(power[i] for i in night) == 0  # money only: the cheaper hours
    intensity = state(hass, grid_entity(hass, entry, "sensor", "carbon_intensity"))
    assert float(intensity.state) == 300
    emissions = state(hass, grid_entity(hass, entry, "sensor", "plan_emissions"))
    assert float(emissions.state) > 0

    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_CARBON_PRICE: 0.5})
    await restart(hass, freezer, entry)
    problem = problem_of(entry)
    assert problem.carbon_price_per_kg == 0.5
    power = plan_of(entry).device("Pump 0").power_w
    assert sum(power[i] for i in night) * problem.step_hours == pytest.approx(4000.0)
    after = state(hass, grid_entity(hass, entry, "sensor", "plan_emissions"))
    assert float(after.state) < float(emissions.state)


async def test_peak_now_and_windows(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Peak now is on in the dear hours; the next cheap and expensive windows are found."""
    await prepare(hass, freezer, NOW)
    prices = [0.50 if h in (13, 14) else 0.10 if h in (26, 27, 28) else 0.20 for h in range(48)]
    entry = await start_home(hass, prices=prices)
    assert state(hass, grid_entity(hass, entry, "binary_sensor", "peak_now")).state == "on"
    dear = state(hass, grid_entity(hass, entry, "sensor", "next_expensive_window"))
    assert dt_util.parse_datetime(dear.state) == NOW
    assert dt_util.parse_datetime(dear.attributes["end"]) == NOW.replace(hour=15)
    assert dear.attributes["average_price"] == pytest.approx(0.5)
    cheap = state(hass, grid_entity(hass, entry, "sensor", "next_cheap_window"))
    night = NOW.replace(hour=0) + timedelta(hours=26)
    assert dt_util.parse_datetime(cheap.state) == night
    assert dt_util.parse_datetime(cheap.attributes["end"]) == night + timedelta(hours=3)
    assert cheap.attributes["average_price"] == pytest.approx(0.1)

    await jump(hass, freezer, NOW.replace(hour=15))
    assert state(hass, grid_entity(hass, entry, "binary_sensor", "peak_now")).state == "off"
    # no demand charge and no carbon sensor: their sensors do not exist
    registry = er.async_get(hass)
    for key in ("peak_import_this_period", "carbon_intensity", "plan_emissions"):
        assert (
            registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_grid_{key}") is None
        )
