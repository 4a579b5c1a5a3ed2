"""Grid integration agent: demand response, carbon, demand charges and holidays for the planner.

The agent gathers what the grid asks of the home and hands it to the planner as a problem
adjuster (`GridAgent.adjust`), so every plan carries it:

- demand-response events from a calendar (events whose title or description holds a keyword,
  read with ``calendar.get_events`` periodically and when the calendar changes), from the action
  ``energy_collective.demand_response`` and from the Octopus Energy saving-session event
  entity, become an import cap and an incentive for their window while the home takes part
  (the participation switch);
- the carbon intensity of the configured entity (its forecast attributes, else a learned daily
  profile kept in a Store) and the carbon price per kg enter the objective;
- a demand charge per kW of the billing period's peak import, with the peak measured so far
  (recorder history) as the floor the plan need not pay again;
- the all-day events of a holiday calendar are holidays for the time-of-use schedules (the
  collector's) and for the baselines.

At an event's start and end the agent fires ``energy_collective_demand_response_started`` and
``..._ended`` on the bus and writes to the logbook. After an event it computes the utility
baseline from the recorded grid import (engine `event_baseline`) and reports the energy reduced
and the reward. The real-time budget agent asks `import_cap_w` for the cap that holds now.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import voluptuous as vol
from homeassistant.components.logbook import async_log_entry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_point_in_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..collective import EnergyCollectiveConfigEntry
from ..const import (
    BASELINE_LOOKBACK_DAYS,
    BILLING_DAILY,
    BILLING_MONTHLY,
    CONF_BILLING_PERIOD,
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DR_CALENDAR,
    CONF_DR_KEYWORDS,
    CONF_HOLIDAY_CALENDAR,
    CONF_OCTOPUS_SESSIONS,
    DEFAULT_DR_KEYWORDS,
    DOMAIN,
    EVENT_DAYS_KEPT,
    EVENT_DR_ENDED,
    EVENT_DR_STARTED,
    GRID_REFRESH,
    GRID_SAVE_DELAY_S,
    GRID_STORE_VERSION,
    HOLIDAY_LOOKBACK_DAYS,
    store_key,
)
from ..coordinator import AgentCoordinator
from ..engine.carbon import (
    CarbonForecast,
    CarbonProfile,
    intensity_series,
    parse_carbon_attributes,
    plan_emissions_kg,
    to_kg_per_kwh,
    unit_factor,
)
from ..engine.grid import (
    BillingPeriod,
    DemandResponseError,
    DemandResponseEvent,
    active_cap,
    apply_demand_response,
    billing_period_start,
    calendar_events,
    demand_charge_floor,
    event_baseline,
    event_from_dict,
    event_performance,
    event_to_dict,
    holidays_from_calendar,
    next_window,
    parse_keywords,
    parse_octopus_saving_sessions,
    peak_now,
    peak_so_far,
)
from ..engine.model import Problem
from ..engine.windows import Window
from .collector import CollectorCoordinator, home_config
from .history import async_grid_import
from .planner import PlannerCoordinator

_LOGGER = logging.getLogger(__name__)

PEAK_STEP = timedelta(minutes=5)
"""Resolution of the measured import for the demand charge's peak."""


@dataclass(frozen=True, slots=True)
class EventResult:
    """How a finished demand-response event went."""

    event_id: str
    title: str
    source: str
    start: datetime
    end: datetime
    participated: bool
    energy_reduced_kwh: float | None
    reward: float | None
    baseline_kwh: float | None
    measured_kwh: float | None
    baseline_days: tuple[date, ...]
    currency: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "event_id": self.event_id,
            "title": self.title,
            "source": self.source,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "participated": self.participated,
            "energy_reduced_kwh": self.energy_reduced_kwh,
            "reward": self.reward,
            "baseline_kwh": self.baseline_kwh,
            "measured_kwh": self.measured_kwh,
            "baseline_days": [day.isoformat() for day in self.baseline_days],
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventResult:
        """Read `to_dict` output (raises KeyError/ValueError/TypeError when malformed)."""

        def number(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            event_id=str(data["event_id"]),
            title=str(data.get("title") or ""),
            source=str(data.get("source") or ""),
            start=datetime.fromisoformat(str(data["start"])),
            end=datetime.fromisoformat(str(data["end"])),
            participated=bool(data.get("participated", True)),
            energy_reduced_kwh=number("energy_reduced_kwh"),
            reward=number("reward"),
            baseline_kwh=number("baseline_kwh"),
            measured_kwh=number("measured_kwh"),
            baseline_days=tuple(date.fromisoformat(str(d)) for d in data.get("baseline_days", [])),
            currency=data.get("currency"),
        )


@dataclass(frozen=True, slots=True)
class GridState:
    """What the grid agent publishes to its entities."""

    time: datetime
    peak_now: bool | None
    cheap: Window | None
    expensive: Window | None
    carbon_g_per_kwh: float | None
    plan_emissions_kg: float | None
    event: DemandResponseEvent | None
    """The active event, else the next one."""
    participating: bool
    last: EventResult | None
    peak_w: float | None


class GridAgent(AgentCoordinator[GridState]):
    """The grid integration agent of one home."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyCollectiveConfigEntry,
        collector: CollectorCoordinator,
        planner: PlannerCoordinator,
    ) -> None:
        """Prepare the agent from the home's options; nothing is read yet."""
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} grid", update_interval=None
        )
        self.collector = collector
        self.planner = planner
        self.config = home_config(entry)
        self.demand_charge_per_kw = float(self.config.get(CONF_DEMAND_CHARGE_PER_KW) or 0.0)
        period = self.config.get(CONF_BILLING_PERIOD)
        self.billing_period: BillingPeriod = (
            BILLING_DAILY if period == BILLING_DAILY else BILLING_MONTHLY
        )
        self.carbon_entity: str | None = self.config.get(CONF_CARBON_ENTITY) or None
        self.carbon_price_per_kg = float(self.config.get(CONF_CARBON_PRICE) or 0.0)
        self.dr_calendar: str | None = self.config.get(CONF_DR_CALENDAR) or None
        keywords = self.config.get(CONF_DR_KEYWORDS)
        self.keywords = parse_keywords(DEFAULT_DR_KEYWORDS if keywords is None else keywords)
        self.octopus_entity: str | None = self.config.get(CONF_OCTOPUS_SESSIONS) or None
        self.holiday_calendar: str | None = self.config.get(CONF_HOLIDAY_CALENDAR) or None
        self.store: Store[dict[str, Any]] = Store(
            hass, GRID_STORE_VERSION, store_key(entry.entry_id, "grid")
        )
        self.participating = True
        self.profile = CarbonProfile()
        self.action_events: dict[str, DemandResponseEvent] = {}
        self.calendar_events: list[DemandResponseEvent] = []
        self.octopus_events: list[DemandResponseEvent] = []
        self.holidays: frozenset[date] = frozenset()
        self.event_days: set[date] = set()
        self.started: dict[str, tuple[DemandResponseEvent, bool]] = {}
        """Events under way: the event and whether the home took part when it started."""
        self.last_result: EventResult | None = None
        self.peak_w: float | None = None
        self.carbon_forecast: CarbonForecast | None = None
        self.carbon_now: float | None = None
        self._timers: dict[str, tuple[datetime, datetime, list[CALLBACK_TYPE]]] = {}
        self._stopped = False
        """True once Home Assistant stops or the home unloads: no event is timed any more."""
        self._unsubs: list[CALLBACK_TYPE] = []

    @property
    def tz(self) -> Any:
        """The home's time zone."""
        return dt_util.get_default_time_zone()

    # -- start and stop ---------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the store and every source once; register with the planner.

        Call before the planner's first refresh, so the first plan carries the grid signals.
        """
        stored = await self.store.async_load() or {}
        self._restore(stored)
        now = dt_util.utcnow()
        if self.carbon_entity:
            self._read_carbon(self.hass.states.get(self.carbon_entity), learn=False)
        if self.octopus_entity:
            self._read_octopus(self.hass.states.get(self.octopus_entity))
        await self._async_read_calendars(now)
        await self._async_measure_peak(now)
        if self.holidays and (self.collector.import_schedule or self.collector.export_schedule):
            await self.collector.async_refresh()
        self.planner.adjusters.append(self.adjust)
        self.data = self._compute(now)

    def _restore(self, stored: Mapping[str, Any]) -> None:
        self.participating = bool(stored.get("participating", True))
        if profile := stored.get("profile"):
            try:
                self.profile = CarbonProfile.from_dict(profile)
            except (ValueError, TypeError) as err:
                _LOGGER.debug("The carbon profile is not read back: %s", err)
        for item in stored.get("actions", []):
            try:
                event = event_from_dict(item)
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.debug("A stored event is not read back: %s", err)
                continue
            self.action_events[event.id] = event
        for item in stored.get("started", []):
            try:
                event = event_from_dict(item["event"])
            except (KeyError, TypeError, ValueError):
                continue
            self.started[event.id] = (event, bool(item.get("participating", True)))
        for text in stored.get("event_days", []):
            try:
                self.event_days.add(date.fromisoformat(str(text)))
            except ValueError:
                continue
        if last := stored.get("last"):
            try:
                self.last_result = EventResult.from_dict(last)
            except (KeyError, TypeError, ValueError):
                self.last_result = None

    def _store_data(self) -> dict[str, Any]:
        return {
            "participating": self.participating,
            "profile": self.profile.to_dict(),
            "actions": [event_to_dict(e) for e in self.action_events.values()],
            "started": [
                {"event": event_to_dict(event), "participating": joined}
                for event, joined in self.started.values()
            ],
            "event_days": sorted(day.isoformat() for day in self.event_days),
            "last": self.last_result.to_dict() if self.last_result else None,
        }

    @callback
    def async_save(self) -> None:
        """Persist soon (debounced)."""
        self.store.async_delay_save(self._store_data, GRID_SAVE_DELAY_S)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Watch the sources, refresh periodically and time the events; returns the stop."""
        hass = self.hass
        unsubs = self._unsubs
        if self.carbon_entity:
            unsubs.append(
                async_track_state_change_event(hass, [self.carbon_entity], self._carbon_changed)
            )
        if self.octopus_entity:
            unsubs.append(
                async_track_state_change_event(hass, [self.octopus_entity], self._octopus_changed)
            )
        calendars = [c for c in (self.dr_calendar, self.holiday_calendar) if c]
        if calendars:
            unsubs.append(async_track_state_change_event(hass, calendars, self._calendar_changed))
        unsubs.append(async_track_time_interval(hass, self._async_periodic, GRID_REFRESH))
        unsubs.append(self.collector.async_add_listener(self._publish))
        unsubs.append(self.planner.async_add_listener(self._publish))

        @callback
        def _cancel_timers(_event: Event | None = None) -> None:
            self._stopped = True  # no event is timed again (a source may still change)
            for _, _, timers in self._timers.values():
                for cancel in timers:
                    cancel()
            self._timers.clear()

        # Home Assistant stops without unloading its entries: the events' start and end
        # timers must not outlive it either (a stop cancels only the periodic timers)
        unsubs.append(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _cancel_timers))
        self._schedule(dt_util.utcnow())
        self._publish()

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()
            unsubs.clear()
            _cancel_timers()
            if self.adjust in self.planner.adjusters:
                self.planner.adjusters.remove(self.adjust)

        return _stop

    async def async_shutdown(self) -> None:
        """Persist at once when the home stops."""
        await super().async_shutdown()
        await self.store.async_save(self._store_data())

    async def _async_update_data(self) -> GridState:
        return self._compute(dt_util.utcnow())

    @callback
    def _publish(self) -> None:
        self.async_set_updated_data(self._compute(dt_util.utcnow()))

    # -- events -----------------------------------------------------------------------------

    def events(self) -> list[DemandResponseEvent]:
        """Every known event from the three sources, by start."""
        found: dict[str, DemandResponseEvent] = {}
        for event in (*self.action_events.values(), *self.calendar_events, *self.octopus_events):
            found.setdefault(event.id, event)
        return sorted(found.values(), key=lambda e: (e.start, e.id))

    def participates(self, event: DemandResponseEvent) -> bool:
        """Whether the home takes part in `event` (joined, and the switch is on)."""
        return self.participating and event.joined

    def import_cap_w(self, now: datetime) -> float | None:
        """The import cap of the event active now that the home takes part in (None: none)."""
        cap, event_id = active_cap(
            (e for e in self.events() if self.participates(e)), now, math.inf
        )
        return cap if event_id is not None else None

    def current_event(self, now: datetime) -> DemandResponseEvent | None:
        """The active event, else the next one."""
        upcoming = [e for e in self.events() if e.end > now]
        active = [e for e in upcoming if e.active_at(now)]
        if active:
            return active[0]
        return upcoming[0] if upcoming else None

    async def async_add_event(self, event: DemandResponseEvent) -> None:
        """Take an event from the action; the home re-plans with it."""
        self.action_events[event.id] = event
        self.async_save()
        await self._async_events_changed(at_once=True)

    async def async_set_participating(self, on: bool) -> None:
        """Take part in events, or opt out of the current and upcoming ones."""
        if on == self.participating:
            return
        self.participating = on
        now = dt_util.utcnow()
        event = self.current_event(now)
        if on:
            message = "takes part in demand-response events again"
        else:
            message = "opted out of demand-response events"
            if event is not None:
                message += f" (next: {event.title or event.source}, {_local(event.start)})"
        async_log_entry(self.hass, self.config_entry.title, message, DOMAIN)
        self.async_save()
        await self._async_events_changed(at_once=True)

    async def _async_events_changed(self, *, at_once: bool = False) -> None:
        """Time the events and re-plan: at once for the user's own changes, else debounced."""
        self._schedule(dt_util.utcnow())
        self._publish()
        if at_once:
            await self.planner.async_refresh()
        else:
            await self.planner.async_request_refresh()

    @callback
    def _schedule(self, now: datetime) -> None:
        """Time the start and end of every known event (again where an event moved)."""
        if self._stopped:
            return
        events = {e.id: e for e in self.events()}
        for event_id in list(self._timers):
            known = events.get(event_id)
            first, last, timers = self._timers[event_id]
            if known is not None and (known.start, known.end) == (first, last):
                continue
            if event_id in self.started and known is None:
                continue  # gone from its source while under way: it still ends
            for cancel in timers:
                cancel()
            del self._timers[event_id]
        for event_id, event in events.items():
            if event_id in self._timers or (event.end <= now and event_id not in self.started):
                continue
            pending: list[CALLBACK_TYPE] = []
            if event.start > now:
                pending.append(
                    async_track_point_in_time(self.hass, self._starter(event_id), event.start)
                )
            elif event_id not in self.started:
                self._event_started(event)
            pending.append(async_track_point_in_time(self.hass, self._ender(event_id), event.end))
            self._timers[event_id] = (event.start, event.end, pending)
        # events under way that their source no longer lists (or that ended while Home
        # Assistant was stopped) still end
        for event_id, (event, _) in self.started.items():
            if event_id not in self._timers:
                end = async_track_point_in_time(self.hass, self._ender(event_id), event.end)
                self._timers[event_id] = (event.start, event.end, [end])

    def _starter(self, event_id: str) -> Any:
        @callback
        def _fire(_when: datetime) -> None:
            event = next((e for e in self.events() if e.id == event_id), None)
            if event is not None and event_id not in self.started:
                self._event_started(event)

        return _fire

    def _ender(self, event_id: str) -> Any:
        async def _fire(_when: datetime) -> None:
            self._timers.pop(event_id, None)
            await self._async_event_ended(event_id)

        return _fire

    def _event_data(self, event: DemandResponseEvent, participating: bool) -> dict[str, Any]:
        return {
            "config_entry_id": self.config_entry.entry_id,
            "source": event.source,
            "title": event.title,
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "import_cap_w": event.import_cap_w,
            "incentive_per_kwh": event.incentive_per_kwh,
            "participating": participating,
        }

    @callback
    def _event_started(self, event: DemandResponseEvent) -> None:
        joined = self.participates(event)
        self.started[event.id] = (event, joined)
        self._note_event_days(event)
        self.hass.bus.async_fire(EVENT_DR_STARTED, self._event_data(event, joined))
        async_log_entry(
            self.hass,
            self.config_entry.title,
            f"demand-response event started: {_describe(event)}"
            + ("" if joined else " (the home does not take part)"),
            DOMAIN,
        )
        self.async_save()
        self._publish()

    def _note_event_days(self, event: DemandResponseEvent) -> None:
        self.event_days |= event.days(self.tz)
        oldest = dt_util.now().date() - timedelta(days=EVENT_DAYS_KEPT)
        self.event_days = {day for day in self.event_days if day >= oldest}

    async def _async_event_ended(self, event_id: str) -> None:
        found = self.started.pop(event_id, None)
        if found is None:
            return
        event, joined = found
        result = await self._async_performance(event, joined)
        self.last_result = result
        self.action_events.pop(event_id, None)
        data = self._event_data(event, joined)
        data["energy_reduced_kwh"] = result.energy_reduced_kwh
        data["reward"] = result.reward
        self.hass.bus.async_fire(EVENT_DR_ENDED, data)
        outcome = (
            f": {result.energy_reduced_kwh:.2f} kWh below the baseline"
            if result.energy_reduced_kwh is not None
            else ""
        )
        async_log_entry(
            self.hass,
            self.config_entry.title,
            f"demand-response event ended: {_describe(event)}{outcome}",
            DOMAIN,
        )
        self.async_save()
        self._publish()

    async def _async_performance(self, event: DemandResponseEvent, joined: bool) -> EventResult:
        """The event's baseline from recorded import, and how far below it the home stayed."""
        currency = self._currency()
        empty = EventResult(
            event.id, event.title, event.source, event.start, event.end, joined,
            None, None, None, None, (), currency,
        )  # fmt: skip
        if not joined or "recorder" not in self.hass.config.components:
            return empty
        step = self.planner.data.plan.step if self.planner.data.plan else None
        step = step or timedelta(minutes=self.planner.step_minutes)
        end = event.end
        local_start = dt_util.as_local(event.start)
        begin_day = local_start.date() - timedelta(days=BASELINE_LOOKBACK_DAYS)
        begin = dt_util.as_utc(
            datetime.combine(begin_day, datetime.min.time(), tzinfo=local_start.tzinfo)
        )
        count = math.ceil((end - begin) / step)
        try:
            await get_instance(self.hass).async_block_till_done()
            history = await async_grid_import(
                self.hass, self.config, begin, begin + step * count, step
            )
            baseline = event_baseline(
                history,
                event,
                self.event_days - event.days(self.tz),
                tz=self.tz,
                holidays=self.holidays,
                max_lookback_days=BASELINE_LOOKBACK_DAYS,
            )
        except DemandResponseError as err:
            _LOGGER.info("No baseline for %s: %s", _describe(event), err)
            return empty
        except Exception as err:  # a database error must not lose the event's end
            _LOGGER.warning("The history for %s could not be read: %s", _describe(event), err)
            return empty
        performance = event_performance(baseline, history, event.incentive_per_kwh)
        return EventResult(
            event_id=event.id,
            title=event.title,
            source=event.source,
            start=event.start,
            end=event.end,
            participated=True,
            energy_reduced_kwh=round(performance.energy_reduced_kwh, 3),
            reward=round(performance.reward, 2),
            baseline_kwh=round(performance.baseline_kwh, 3),
            measured_kwh=round(performance.measured_kwh, 3),
            baseline_days=baseline.days,
            currency=currency,
        )

    def _currency(self) -> str | None:
        problem = self.planner.data.problem if self.planner.data else None
        return problem.currency if problem else self.hass.config.currency

    # -- sources ----------------------------------------------------------------------------

    async def _async_periodic(self, _now: datetime) -> None:
        now = dt_util.utcnow()
        changed = await self._async_read_calendars(now)
        await self._async_measure_peak(now)
        if changed:
            await self._async_events_changed()
        else:
            self._publish()

    @callback
    def _calendar_changed(self, event: Event[EventStateChangedData]) -> None:
        self.config_entry.async_create_task(self.hass, self._async_calendar_refresh())

    async def _async_calendar_refresh(self) -> None:
        if await self._async_read_calendars(dt_util.utcnow()):
            await self._async_events_changed()

    async def _async_read_calendars(self, now: datetime) -> bool:
        """Read both calendars; True when the events or the holidays changed."""
        changed = False
        local = dt_util.as_local(now)
        horizon = timedelta(hours=self.planner.horizon_hours) + timedelta(days=1)
        if self.dr_calendar:
            items = await self._async_calendar_items(
                self.dr_calendar, local - timedelta(days=1), local + horizon
            )
            if items is not None:
                events = calendar_events(items, self.keywords, tz=self.tz)
                if events != self.calendar_events:
                    self.calendar_events = events
                    changed = True
        if self.holiday_calendar:
            first = local.replace(hour=0, minute=0, second=0, microsecond=0)
            items = await self._async_calendar_items(
                self.holiday_calendar,
                first - timedelta(days=HOLIDAY_LOOKBACK_DAYS),
                first + horizon + timedelta(days=1),
            )
            if items is not None:
                holidays = frozenset(holidays_from_calendar(items))
                if holidays != self.holidays:
                    self.holidays = holidays
                    self.collector.holidays = holidays
                    changed = True
                    if self.collector.import_schedule or self.collector.export_schedule:
                        self.config_entry.async_create_task(
                            self.hass, self.collector.async_request_refresh()
                        )
        return changed

    async def _async_calendar_items(
        self, entity_id: str, start: datetime, end: datetime
    ) -> list[Mapping[str, Any]] | None:
        if self.hass.states.get(entity_id) is None:
            return None
        try:
            response = await self.hass.services.async_call(
                "calendar",
                "get_events",
                {"entity_id": entity_id, "start_date_time": start, "end_date_time": end},
                blocking=True,
                return_response=True,
            )
        except (HomeAssistantError, vol.Invalid) as err:
            _LOGGER.debug("The events of %s could not be read: %s", entity_id, err)
            return None
        found = (response or {}).get(entity_id)
        if not isinstance(found, Mapping):
            return None
        events = found.get("events")
        return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []

    @callback
    def _octopus_changed(self, event: Event[EventStateChangedData]) -> None:
        if self._read_octopus(event.data["new_state"]):
            self.config_entry.async_create_task(self.hass, self._async_events_changed())

    def _read_octopus(self, state: State | None) -> bool:
        """Read the saving sessions; True when they changed."""
        if state is None:
            return False
        events = parse_octopus_saving_sessions(state.attributes)
        if events == self.octopus_events:
            return False
        self.octopus_events = events
        return True

    @callback
    def _carbon_changed(self, event: Event[EventStateChangedData]) -> None:
        before = self.carbon_forecast
        self._read_carbon(event.data["new_state"], learn=True)
        if self.carbon_forecast != before:
            self.config_entry.async_create_task(self.hass, self.planner.async_request_refresh())
        self._publish()

    def _read_carbon(self, state: State | None, *, learn: bool) -> None:
        """The current intensity (g/kWh) and the forecast in the attributes, if any."""
        if state is None:
            self.carbon_now = None
            return
        self.carbon_forecast = parse_carbon_attributes(state.attributes, self.tz)
        value: float | None = None
        if state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            try:
                value = float(state.state) * unit_factor(
                    state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
                )
            except ValueError:
                value = None
        self.carbon_now = value if value is not None and math.isfinite(value) else None
        if learn and self.carbon_now is not None:
            self.profile.update(dt_util.utcnow(), self.carbon_now, self.tz)
            self.async_save()

    async def _async_measure_peak(self, now: datetime) -> None:
        """The billing period's peak import so far, from the recorder (demand charge only)."""
        if self.demand_charge_per_kw <= 0 or "recorder" not in self.hass.config.components:
            return
        begin = billing_period_start(now, self.billing_period, self.tz)
        count = int((now - begin) / PEAK_STEP)
        if count <= 0:
            self.peak_w = 0.0
            return
        try:
            history = await async_grid_import(
                self.hass, self.config, begin, begin + PEAK_STEP * count, PEAK_STEP
            )
        except HomeAssistantError as err:
            _LOGGER.warning("The peak import could not be read: %s", err)
            return
        self.peak_w = round(peak_so_far(history, now, self.billing_period, self.tz), 1)

    # -- the planner's problem --------------------------------------------------------------

    def intensity(self, start: datetime, step: timedelta, n_steps: int) -> tuple[float, ...] | None:
        """Carbon intensity (g/kWh) per planning step, None without a carbon entity or data."""
        if not self.carbon_entity:
            return None
        learned = any(self.profile.weekday_count) or any(self.profile.weekend_count)
        return intensity_series(
            start,
            step,
            n_steps,
            self.tz,
            forecast=self.carbon_forecast,
            profile=self.profile if learned else None,
            current=self.carbon_now,
        )

    def adjust(self, problem: Problem, now: datetime) -> Problem:
        """The planner's problem with the grid's signals: events, carbon and demand charge."""
        events = [e for e in self.events() if self.participates(e) and e.end > problem.start]
        if events:
            problem = apply_demand_response(problem, events)
        intensity = self.intensity(dt_util.as_utc(problem.start), problem.step, problem.n_steps)
        if intensity is not None:
            # a carbon price the user set counts in the default (cost) mode too: the objective
            # is then money plus the price of the emissions, which is the engine's eco mode
            mode = problem.mode
            if self.carbon_price_per_kg > 0 and mode == "cost":
                mode = "eco"
            problem = replace(
                problem,
                carbon_intensity=to_kg_per_kwh(intensity),
                carbon_price_per_kg=self.carbon_price_per_kg,
                mode=mode,
            )
        if self.demand_charge_per_kw > 0:
            end = problem.end
            floor = demand_charge_floor(self.peak_w or 0.0, now, end, self.billing_period, self.tz)
            problem = replace(
                problem,
                grid=replace(
                    problem.grid,
                    demand_charge_per_kw=self.demand_charge_per_kw,
                    peak_floor_w=floor,
                ),
            )
        return problem

    # -- what the entities show -------------------------------------------------------------

    def _compute(self, now: datetime) -> GridState:
        snapshot = self.collector.data
        prices = snapshot.import_prices if snapshot is not None else None
        emissions: float | None = None
        result = self.planner.data
        if result is not None and result.plan is not None and result.problem is not None:
            intensity = result.problem.carbon_intensity
            if intensity is not None:
                emissions = round(
                    plan_emissions_kg(
                        result.plan.import_w, [v * 1000 for v in intensity], result.plan.step
                    ),
                    3,
                )
        return GridState(
            time=now,
            peak_now=peak_now(prices, now) if prices is not None else None,
            cheap=next_window(prices, now, expensive=False) if prices is not None else None,
            expensive=next_window(prices, now, expensive=True) if prices is not None else None,
            carbon_g_per_kwh=self.carbon_now,
            plan_emissions_kg=emissions,
            event=self.current_event(now),
            participating=self.participating,
            last=self.last_result,
            peak_w=self.peak_w if self.demand_charge_per_kw > 0 else None,
        )

    def summary(self) -> dict[str, Any]:
        """For diagnostics."""
        return {
            "participating": self.participating,
            "events": [event_to_dict(e) for e in self.events()],
            "started": sorted(self.started),
            "holidays": sorted(day.isoformat() for day in self.holidays),
            "carbon_now_g_per_kwh": self.carbon_now,
            "carbon_forecast_intervals": (
                len(self.carbon_forecast.intervals) if self.carbon_forecast else 0
            ),
            "peak_w": self.peak_w,
            "demand_charge_per_kw": self.demand_charge_per_kw,
            "billing_period": self.billing_period,
            "last_event": self.last_result.to_dict() if self.last_result else None,
        }


def _local(when: datetime) -> str:
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M")


def _describe(event: DemandResponseEvent) -> str:
    parts = [event.title or event.source, f"{_local(event.start)}-{_local(event.end)[-5:]}"]
    if event.import_cap_w is not None:
        parts.append(f"cap {event.import_cap_w:.0f} W")
    if event.incentive_per_kwh:
        parts.append(f"{event.incentive_per_kwh:g}/kWh")
    return ", ".join(parts)
