"""Data collection agent: reads what the home measures and the price and PV forecasts.

It reads the configured entities every minute and, debounced, when one of them changes. Values
are normalised (W, currency per kWh) into a `HomeSnapshot`. A source that goes bad keeps its
last good value until it is stale; the agent logs once when a source goes and once when it
returns, and raises a repair issue when a configured entity no longer exists.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util

from ..const import (
    BATTERY_SIGN_CHARGE_POSITIVE,
    COLLECT_INTERVAL,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_LOAD_POWER,
    CONF_METER_MAX_AGE_S,
    CONF_PV_FORECAST,
    CONF_PV_POWER,
    CONF_STEP_MINUTES,
    CONF_WEATHER,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_METER_MAX_AGE_S,
    DEFAULT_STEP_MINUTES,
    DOMAIN,
    GRID_MODE_SIGNED,
    GRID_SIGN_EXPORT_POSITIVE,
    STALE_AFTER,
    STATE_CHANGE_DEBOUNCE_S,
)
from ..engine import meter
from ..engine.meter import MeterReading
from ..engine.model import HomeSnapshot, Interval, Series
from ..engine.pv_forecast import parse_pv_forecast_attributes, parse_wh_hours
from ..engine.tariffs import (
    TouSchedule,
    parse_nordpool_response,
    parse_price_attributes,
    parse_tibber_response,
    parse_tou_schedule,
)
from ..engine.timeseries import to_series
from ..engine.units import UnitError, power_to_w, price_unit_factor

if TYPE_CHECKING:
    from ..collective import EnergyCollectiveConfigEntry
from ..coordinator import AgentCoordinator

LOGGER = logging.getLogger(__package__)

# Keys of the entity sources, in the order a user sees them
POWER_KEYS = (
    CONF_GRID_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_EXPORT_POWER,
    CONF_PV_POWER,
    CONF_LOAD_POWER,
    CONF_BATTERY_POWER,
)
PRICE_KEYS = (CONF_IMPORT_PRICE_ENTITY, CONF_EXPORT_PRICE_ENTITY)
SOURCE_KEYS = (*POWER_KEYS, *PRICE_KEYS, CONF_PV_FORECAST, CONF_WEATHER)
QUALITY_WINDOW = 60  # updates over which the data quality is averaged
ACTION_REFRESH = timedelta(minutes=30)


def home_config(entry: EnergyCollectiveConfigEntry) -> dict[str, Any]:
    """The effective configuration of a home: its sources and its options."""
    return {**entry.data, **entry.options}


def planning_grid(now: datetime, step_minutes: int, horizon_hours: int) -> tuple[datetime, int]:
    """The start of the current planning step and the number of steps in the horizon."""
    step_s = step_minutes * 60
    start = datetime.fromtimestamp(int(now.timestamp()) // step_s * step_s, tz=now.tzinfo)
    return start, horizon_hours * 60 // step_minutes


@dataclass(slots=True)
class _Source:
    """What the collector remembers of one configured entity."""

    entity_id: str
    last_value: float | None = None
    last_time: datetime | None = None
    down: bool = False
    missing: bool = False
    reported: bool = False
    """Whether the log said that this source went (so that it says when it returns)."""


class CollectorCoordinator(AgentCoordinator[HomeSnapshot]):
    """The data collection agent of one home."""

    def __init__(self, hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> None:
        """Prepare the sources of the home; nothing is read yet."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} collector",
            update_interval=COLLECT_INTERVAL,
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=STATE_CHANGE_DEBOUNCE_S, immediate=False
            ),
        )
        self.config = home_config(entry)
        self.step = timedelta(minutes=int(self.config.get(CONF_STEP_MINUTES, DEFAULT_STEP_MINUTES)))
        self.horizon_hours = int(self.config.get(CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS))
        self.sources: dict[str, _Source] = {
            key: _Source(self.config[key]) for key in SOURCE_KEYS if self.config.get(key)
        }
        self.import_schedule: TouSchedule | None = None
        self.export_schedule: TouSchedule | None = None
        if text := self.config.get(CONF_IMPORT_PRICE_SCHEDULE):
            self.import_schedule = parse_tou_schedule(text)
        if text := self.config.get(CONF_EXPORT_PRICE_SCHEDULE):
            self.export_schedule = parse_tou_schedule(text)
        self.holidays: frozenset[date] = frozenset()
        """Holidays for the time-of-use schedules; the grid agent sets them from a calendar."""
        self.currency: str | None = hass.config.currency
        self.quality: deque[float] = deque(maxlen=QUALITY_WINDOW)
        self.price_formats: dict[str, str | None] = {}
        self._action_cache: dict[str, tuple[datetime, list[Interval]]] = {}
        self.meter_max_age = timedelta(
            seconds=float(self.config.get(CONF_METER_MAX_AGE_S, DEFAULT_METER_MAX_AGE_S))
        )
        self.meter_watch = meter.MoveWatch()
        """Whether the meter answered the commands that should have moved it."""

    @property
    def entity_ids(self) -> list[str]:
        """Every entity this agent reads."""
        return [source.entity_id for source in self.sources.values()]

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Refresh (debounced) whenever a source changes; returns the unsubscribe callback."""

        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            self.hass.async_create_task(self.async_request_refresh(), eager_start=True)

        return async_track_state_change_event(self.hass, self.entity_ids, _changed)

    # -- reading one source -------------------------------------------------------------

    def _state(self, key: str) -> tuple[str, Mapping[str, Any]] | None:
        """The state and attributes of a source; raises or clears its repair issue."""
        source = self.sources[key]
        state = self.hass.states.get(source.entity_id)
        issue_id = f"missing_entity_{self.config_entry.entry_id}_{key}"
        if state is None:
            # while Home Assistant starts, the integrations that provide sources may still load
            if not source.missing and self.hass.state is CoreState.running:
                source.missing = True
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key="missing_entity",
                    translation_placeholders={
                        "entity_id": source.entity_id,
                        "home": self.config_entry.title,
                    },
                )
            return None
        if source.missing:
            source.missing = False
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        return state.state, state.attributes

    def _read(
        self, key: str, now: datetime, convert: Callable[[float, Any], float]
    ) -> float | None:
        """A source's value, the last good one while not stale, or None."""
        source = self.sources.get(key)
        if source is None:
            return None
        value: float | None = None
        if (read := self._state(key)) is not None:
            state, attributes = read
            if state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
                try:
                    value = convert(float(state), attributes.get(ATTR_UNIT_OF_MEASUREMENT))
                except (ValueError, UnitError):
                    value = None
        if value is not None and not math.isfinite(value):
            value = None  # "nan" and "inf" parse as floats but are no reading
        if value is not None:
            if source.reported:
                LOGGER.info("%s is back: %s", source.entity_id, value)
            source.down = source.reported = False
            source.last_value, source.last_time = value, now
            return value
        source.down = True
        if not source.reported and self.hass.state is CoreState.running:
            LOGGER.warning(
                "%s gives no valid value; its last value is kept for %s",
                source.entity_id,
                STALE_AFTER,
            )
            source.reported = True
        if source.last_time is not None and now - source.last_time <= STALE_AFTER:
            return source.last_value
        return None

    def _valid(self, key: str) -> bool:
        source = self.sources.get(key)
        return source is not None and not source.down and not source.missing

    # -- prices and forecasts ------------------------------------------------------------

    def _price_factor(self, unit: Any) -> float:
        factor, currency = price_unit_factor(unit)
        if currency:
            self.currency = currency
        return factor

    async def _action_prices(self, entity_id: str, now: datetime) -> list[Interval]:
        """Prices of the core Nord Pool and Tibber integrations, through their actions."""
        cached = self._action_cache.get(entity_id)
        if cached is not None and now - cached[0] < ACTION_REFRESH:
            return cached[1]
        entry = er.async_get(self.hass).async_get(entity_id)
        intervals: list[Interval] = []
        if entry is None or entry.config_entry_id is None:
            return intervals
        try:
            if entry.platform == "nordpool" and self.hass.services.has_service(
                "nordpool", "get_prices_for_date"
            ):
                today = dt_util.as_local(now).date()
                for day in (today, today + timedelta(days=1)):
                    intervals += await self._nordpool_day(entry.config_entry_id, day)
            elif entry.platform == "tibber" and self.hass.services.has_service(
                "tibber", "get_prices"
            ):
                response = await self.hass.services.async_call(
                    "tibber",
                    "get_prices",
                    {"start": now - timedelta(hours=1), "end": now + timedelta(days=2)},
                    blocking=True,
                    return_response=True,
                )
                intervals = parse_tibber_response(response or {}, None)
        except HomeAssistantError as err:
            LOGGER.debug("price action for %s failed: %s", entity_id, err)
        self._action_cache[entity_id] = (now, intervals)
        return intervals

    async def _nordpool_day(self, config_entry_id: str, day: date) -> list[Interval]:
        try:
            response = await self.hass.services.async_call(
                "nordpool",
                "get_prices_for_date",
                {"config_entry": config_entry_id, "date": day.isoformat()},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError:
            return []  # tomorrow's prices are not published before midday
        intervals = parse_nordpool_response(response or {}, None)
        # the action answers in currency per MWh
        return [Interval(i.start, i.end, i.value / 1000.0) for i in intervals]

    async def _price(
        self, key: str, schedule: TouSchedule | None, now: datetime, start: datetime, count: int
    ) -> tuple[float | None, Series | None]:
        """The current price and the price series on the planning grid, in currency/kWh."""
        end = start + self.step * count
        if schedule is not None:
            intervals = schedule.intervals(
                start, end, dt_util.get_default_time_zone(), self.holidays
            )
            series = to_series(intervals, start, self.step, count)
            return series.value_at(now), series
        source = self.sources.get(key)
        if source is None:
            return None, None
        current = self._read(key, now, lambda value, unit: value * self._price_factor(unit))
        read = self._state(key)
        intervals = []
        if read is not None:
            parsed = parse_price_attributes(read[1], dt_util.get_default_time_zone())
            self.price_formats[key] = parsed.format
            if parsed.intervals:
                unit = parsed.unit or read[1].get(ATTR_UNIT_OF_MEASUREMENT)
                try:
                    factor = self._price_factor(unit)
                except UnitError:
                    factor = 1.0
                intervals = [Interval(i.start, i.end, i.value * factor) for i in parsed.intervals]
            else:
                intervals = await self._action_prices(source.entity_id, now)
                if intervals:
                    self.price_formats[key] = "action"
        if not intervals:
            if current is None:
                return None, None
            # no forecast: the current price is the best guess for the horizon
            return current, Series(start, self.step, (current,) * count)
        return current, to_series(intervals, start, self.step, count)

    async def _pv_forecast(self, now: datetime, start: datetime, count: int) -> Series | None:
        source = self.sources.get(CONF_PV_FORECAST)
        if source is None:
            return None
        read = self._state(CONF_PV_FORECAST)
        if read is None:
            return None
        intervals = list(
            parse_pv_forecast_attributes(read[1], dt_util.get_default_time_zone()).intervals
        )
        if not intervals:
            intervals = await self._energy_platform_forecast(source.entity_id)
        if not intervals:
            return None
        return to_series(intervals, start, self.step, count)

    async def _energy_platform_forecast(self, entity_id: str) -> list[Interval]:
        """Forecasts of integrations that publish them to the Energy dashboard only."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None or entry.config_entry_id is None:
            return []
        try:
            integration = await async_get_integration(self.hass, entry.platform)
            platform = await integration.async_get_platform("energy")
            forecast = await platform.async_get_solar_forecast(self.hass, entry.config_entry_id)
        except (ImportError, AttributeError, HomeAssistantError) as err:
            LOGGER.debug("no energy forecast from %s: %s", entity_id, err)
            return []
        if not forecast:
            return []
        return parse_wh_hours(forecast.get("wh_hours", {}))

    # -- the snapshot --------------------------------------------------------------------

    def grid_power_w(self, now: datetime) -> float | None:
        """The grid power read live from its entities (W, import positive), None if unknown."""
        if self.config.get(CONF_GRID_MODE) == GRID_MODE_SIGNED:
            value = self._read(CONF_GRID_POWER, now, power_to_w)
            if value is not None and self.config.get(CONF_GRID_SIGN) == GRID_SIGN_EXPORT_POSITIVE:
                value = -value
            return value
        imported = self._read(CONF_GRID_IMPORT_POWER, now, power_to_w)
        exported = self._read(CONF_GRID_EXPORT_POWER, now, power_to_w)
        if imported is None or exported is None:
            return None
        return imported - exported

    def _grid_keys(self) -> list[str]:
        """The sources that make up the grid meter: one signed sensor, or import and export."""
        if self.config.get(CONF_GRID_MODE) == GRID_MODE_SIGNED:
            return [CONF_GRID_POWER]
        return [CONF_GRID_IMPORT_POWER, CONF_GRID_EXPORT_POWER]

    def grid_reading(self, now: datetime, fuse_w: float) -> MeterReading:
        """The grid reading a command may be checked against, and whether it may be trusted
        (fresh, plausible for a connection with this fuse, moving: engine/meter.py)."""
        value = self.grid_power_w(now)
        if not all(self._valid(key) for key in self._grid_keys()):
            value = None  # a kept last value is no reading to act on
        reading = meter.judge(
            value, self.grid_reported_at(), now, fuse_w=fuse_w, max_age=self.meter_max_age
        )
        if (
            reading.ok
            and reading.value_w is not None
            and self.meter_watch.update(now, reading.value_w)
        ):
            return meter.MeterReading(None, meter.NOT_MOVING, reading.age_s)
        return reading

    def grid_reported_at(self) -> datetime | None:
        """When the grid meter last reported a valid value (the older of the two in the
        import/export mode), or None while one of its entities gives none."""
        times: list[datetime] = []
        for key in self._grid_keys():
            source = self.sources.get(key)
            state = None if source is None else self.hass.states.get(source.entity_id)
            if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
                return None
            times.append(state.last_reported)
        return min(times)

    async def _guarded[T](self, key: str, reading: Coroutine[Any, Any, T], fallback: T) -> T:
        """One source read so that nothing in its data can fail the whole refresh.

        The parsers drop what they cannot read; should one still raise on data nobody
        foresaw, that source counts as giving nothing this time (a stale source, in the data
        quality), the error is logged once, and the home goes on without it.
        """
        try:
            return await reading
        except Exception:
            source = self.sources.get(key)
            if source is not None:
                source.down = True
                if not source.reported:
                    source.reported = True
                    LOGGER.exception(
                        "%s gives data that cannot be read; it is left out", source.entity_id
                    )
            return fallback

    def _battery_discharge(self, now: datetime) -> float | None:
        value = self._read(CONF_BATTERY_POWER, now, power_to_w)
        if value is not None and self.config.get(CONF_BATTERY_SIGN) == BATTERY_SIGN_CHARGE_POSITIVE:
            value = -value
        return value

    async def _async_update_data(self) -> HomeSnapshot:
        now = dt_util.utcnow()
        start, count = planning_grid(now, int(self.step.total_seconds() // 60), self.horizon_hours)
        grid = self.grid_power_w(now)
        pv = self._read(CONF_PV_POWER, now, power_to_w)
        load = self._read(CONF_LOAD_POWER, now, power_to_w)
        if CONF_LOAD_POWER not in self.sources and grid is not None:
            # house load = what the grid brings + what PV makes + what the battery gives
            battery = self._battery_discharge(now) if CONF_BATTERY_POWER in self.sources else 0.0
            if (pv is not None or CONF_PV_POWER not in self.sources) and battery is not None:
                load = max(0.0, grid + (pv or 0.0) + battery)
        import_price, import_series = await self._guarded(
            CONF_IMPORT_PRICE_ENTITY,
            self._price(CONF_IMPORT_PRICE_ENTITY, self.import_schedule, now, start, count),
            (None, None),
        )
        export_price, export_series = await self._guarded(
            CONF_EXPORT_PRICE_ENTITY,
            self._price(CONF_EXPORT_PRICE_ENTITY, self.export_schedule, now, start, count),
            (None, None),
        )
        pv_forecast = await self._guarded(
            CONF_PV_FORECAST, self._pv_forecast(now, start, count), None
        )
        if CONF_WEATHER in self.sources:
            self._state(CONF_WEATHER)
        stale = tuple(
            source.entity_id for source in self.sources.values() if source.down or source.missing
        )
        readable = [key for key in self.sources if key != CONF_WEATHER]
        if readable:
            self.quality.append(sum(self._valid(key) for key in readable) / len(readable))
        return HomeSnapshot(
            time=now,
            grid_power_w=grid,
            pv_power_w=pv,
            load_power_w=load,
            import_price=import_price,
            export_price=export_price,
            import_prices=import_series,
            export_prices=export_series,
            pv_forecast_w=pv_forecast,
            currency=self.currency,
            data_quality=sum(self.quality) / len(self.quality) if self.quality else 1.0,
            stale_sources=stale,
        )
