"""History for learning: the last days of house load and PV at the planning step.

Long-term statistics are used where the recorder keeps them (5-minute means where they still
exist, hourly means before that); entities without statistics fall back to their recorded
states, averaged over time. Everything here runs in the recorder's executor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from homeassistant.components.recorder import history, statistics
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfPower
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance

from ..const import (
    BATTERY_SIGN_CHARGE_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_LOAD_POWER,
    CONF_PV_POWER,
    GRID_MODE_SIGNED,
    GRID_SIGN_EXPORT_POSITIVE,
)
from ..engine.model import Interval, Series
from ..engine.timeseries import intervals_from_points, to_series
from ..engine.units import UnitError, power_to_w

FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class History:
    """Measured house load and PV on the planning grid, and where each came from."""

    load_w: Series
    pv_w: Series | None
    sources: Mapping[str, str]
    """entity id -> "statistics" or "states" (or "none" when nothing was recorded)."""


def _statistics_intervals(
    hass: HomeAssistant, entity_ids: set[str], start: datetime, end: datetime
) -> dict[str, list[Interval]]:
    """Mean power per period from long-term statistics: hourly first, 5-minute on top."""
    out: dict[str, list[Interval]] = {}
    units: dict[str, str] = {"power": UnitOfPower.WATT}
    periods: tuple[tuple[Literal["hour", "5minute"], timedelta], ...] = (
        ("hour", HOUR),
        ("5minute", FIVE_MINUTES),
    )
    for period, length in periods:
        rows = statistics.statistics_during_period(
            hass, start, end, entity_ids, period, units, {"mean"}
        )
        for entity_id, points in rows.items():
            intervals = [
                Interval(
                    datetime.fromtimestamp(point["start"], tz=start.tzinfo),
                    datetime.fromtimestamp(point["start"], tz=start.tzinfo) + length,
                    mean,
                )
                for point in points
                if (mean := point.get("mean")) is not None
            ]
            if not intervals:
                continue
            if period == "hour" or entity_id not in out:
                out[entity_id] = intervals
            else:  # finer data replaces the hourly means where it exists
                first = intervals[0].start
                out[entity_id] = [i for i in out[entity_id] if i.end <= first] + intervals
    return out


def _state_points(states: Iterable[State], unit: str | None) -> list[tuple[datetime, float]]:
    points: list[tuple[datetime, float]] = []
    for state in states:
        try:
            value = power_to_w(float(state.state), unit)
        except (ValueError, UnitError):
            continue
        points.append((state.last_changed, value))
    return points


def _states_intervals(
    hass: HomeAssistant, entity_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[Interval]]:
    """Time-weighted intervals from recorded states, each state lasting until the next."""
    if not entity_ids:
        return {}
    found = history.get_significant_states(
        hass,
        start,
        end,
        list(entity_ids),
        significant_changes_only=False,
        minimal_response=False,
        no_attributes=True,
    )
    out: dict[str, list[Interval]] = {}
    for entity_id in entity_ids:
        current = hass.states.get(entity_id)
        unit = current.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if current else None
        states: list[Any] = list(found.get(entity_id, []))
        points = _state_points((s for s in states if isinstance(s, State)), unit)
        if points:
            # each state lasts until the next; the last one until the end of the window
            last_length = max(end - points[-1][0], timedelta(seconds=1))
            out[entity_id] = intervals_from_points(points, default_length=last_length)
    return out


def _combine(*parts: tuple[Series | None, float]) -> Series | None:
    """sum(sign * series) step by step; None where any part is missing."""
    present = [(series, sign) for series, sign in parts if series is not None]
    if not present or len(present) != len(parts):
        return None
    first = present[0][0]
    values: list[float | None] = []
    for i in range(len(first.values)):
        total = 0.0
        for series, sign in present:
            value = series.values[i]
            if value is None:
                total = float("nan")
                break
            total += sign * value
        values.append(None if math.isnan(total) else total)
    return Series(first.start, first.step, tuple(values))


def load_history_job(
    hass: HomeAssistant, config: Mapping[str, Any], start: datetime, end: datetime, step: timedelta
) -> History:
    """Read the history (blocking: run it in the recorder's executor)."""
    keys = (
        CONF_GRID_POWER,
        CONF_GRID_IMPORT_POWER,
        CONF_GRID_EXPORT_POWER,
        CONF_PV_POWER,
        CONF_LOAD_POWER,
        CONF_BATTERY_POWER,
    )
    entity_ids = {key: config[key] for key in keys if config.get(key)}
    wanted = set(entity_ids.values())
    intervals = _statistics_intervals(hass, wanted, start, end)
    sources = dict.fromkeys(intervals, "statistics")
    from_states = _states_intervals(hass, sorted(wanted - set(intervals)), start, end)
    intervals.update(from_states)
    sources.update(dict.fromkeys(from_states, "states"))
    for entity_id in wanted - set(intervals):
        sources[entity_id] = "none"

    count = int((end - start) / step)

    def series(key: str) -> Series | None:
        entity_id = entity_ids.get(key)
        if entity_id is None or entity_id not in intervals:
            return None
        return to_series(intervals[entity_id], start, step, count)

    pv = series(CONF_PV_POWER)
    load = series(CONF_LOAD_POWER)
    if load is None:
        if config.get(CONF_GRID_MODE) == GRID_MODE_SIGNED:
            sign = -1.0 if config.get(CONF_GRID_SIGN) == GRID_SIGN_EXPORT_POSITIVE else 1.0
            grid_parts: list[tuple[Series | None, float]] = [(series(CONF_GRID_POWER), sign)]
        else:
            grid_parts = [
                (series(CONF_GRID_IMPORT_POWER), 1.0),
                (series(CONF_GRID_EXPORT_POWER), -1.0),
            ]
        parts = list(grid_parts)
        if CONF_PV_POWER in entity_ids:
            parts.append((pv, 1.0))
        if CONF_BATTERY_POWER in entity_ids:
            battery_sign = (
                -1.0 if config.get(CONF_BATTERY_SIGN) == BATTERY_SIGN_CHARGE_POSITIVE else 1.0
            )
            parts.append((series(CONF_BATTERY_POWER), battery_sign))
        load = _combine(*parts)
        if load is not None:
            load = Series(
                load.start,
                load.step,
                tuple(None if v is None else max(0.0, v) for v in load.values),
            )
    if load is None:
        load = Series(start, step, (None,) * count)
    return History(load_w=load, pv_w=pv, sources=sources)


async def async_load_history(
    hass: HomeAssistant, config: Mapping[str, Any], end: datetime, days: int, step: timedelta
) -> History:
    """The last `days` days before `end` at the planning step, read in the executor."""
    start = end - timedelta(days=days)
    return await get_instance(hass).async_add_executor_job(
        load_history_job, hass, config, start, end, step
    )


def grid_import_job(
    hass: HomeAssistant, config: Mapping[str, Any], start: datetime, end: datetime, step: timedelta
) -> Series:
    """Measured grid import (W, export as 0) at `step` from `start` to `end`, None where nothing
    was recorded (blocking: run it in the recorder's executor). For baselines and peaks."""
    signed = config.get(CONF_GRID_MODE) == GRID_MODE_SIGNED
    keys = (CONF_GRID_POWER,) if signed else (CONF_GRID_IMPORT_POWER, CONF_GRID_EXPORT_POWER)
    entity_ids = {key: config[key] for key in keys if config.get(key)}
    count = int((end - start) / step)
    empty = Series(start, step, (None,) * count)
    if len(entity_ids) != len(keys):
        return empty
    wanted = set(entity_ids.values())
    intervals = _statistics_intervals(hass, wanted, start, end)
    intervals.update(_states_intervals(hass, sorted(wanted - set(intervals)), start, end))

    def series(key: str) -> Series | None:
        found = intervals.get(entity_ids[key])
        return to_series(found, start, step, count) if found else None

    if signed:
        sign = -1.0 if config.get(CONF_GRID_SIGN) == GRID_SIGN_EXPORT_POSITIVE else 1.0
        net = _combine((series(CONF_GRID_POWER), sign))
    else:
        net = _combine(
            (series(CONF_GRID_IMPORT_POWER), 1.0), (series(CONF_GRID_EXPORT_POWER), -1.0)
        )
    if net is None:
        return empty
    return Series(start, step, tuple(None if v is None else max(0.0, v) for v in net.values))


async def async_grid_import(
    hass: HomeAssistant, config: Mapping[str, Any], start: datetime, end: datetime, step: timedelta
) -> Series:
    """`grid_import_job` in the recorder's executor."""
    return await get_instance(hass).async_add_executor_job(
        grid_import_job, hass, config, start, end, step
    )
