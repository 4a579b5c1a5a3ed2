"""PV forecast formats of the integrations users have, read into average power in W.

`parse_pv_forecast_attributes` recognises, in an entity's attributes:

- ``solcast``: Solcast PV Forecast (BJReplay/ha-solcast-solar), ``detailedForecast`` (30-min)
  or ``detailedHourly`` lists of ``{period_start, pv_estimate, pv_estimate10, pv_estimate90}``
  in kW;
- ``open_meteo``: Open-Meteo Solar Forecast (rany2/ha-open-meteo-solar-forecast), ``watts``
  ``{iso: W}`` (15-min) and ``wh_period`` ``{iso: Wh}`` on its energy production sensors;
- ``forecast_solar``: the ``{"wh_hours": {iso: Wh}}`` forecast that Forecast.Solar's energy
  platform returns (the core integration's sensors carry no series);
- ``emhass``: EMHASS's published sensors, e.g. ``forecasts`` lists of
  ``{date, p_pv_forecast: "1234.5"}``;
- ``haeo`` and ``list``: lists of ``{time|date|start...: iso, value|...: number}``;
- ``mapping``: a plain ``{iso: W}`` mapping, as an attribute such as ``forecast`` or as the whole
  attribute dict.

For the last three the unit is the entity's ``unit_of_measurement`` (W when there is none); an
energy unit (Wh, kWh) means energy per period, turned into the average power of the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

from .model import Interval
from .tariffs import emhass_value_key, read_record_list, read_time_mapping
from .timeseries import (
    Records,
    intervals_from_points,
    median_spacing,
    points_from_mapping,
    points_from_records,
    sort_unique,
)
from .units import energy_to_kwh, is_energy_unit, is_power_unit, power_to_w


@dataclass(frozen=True, slots=True)
class ParsedForecast:
    """A PV forecast as average power in W over each interval."""

    intervals: tuple[Interval, ...] = ()
    """Sorted by start."""
    format: str | None = None
    """The recognised format, or None when the attributes hold no forecast."""
    skipped: int = 0
    """Entries that were left out: bad time, non-numeric value."""
    error: str | None = None
    """Translation key when the series was found but cannot be used (``unknown_unit``)."""


_SOLCAST_LISTS: Final = (("detailedForecast", 30), ("detailedHourly", 60))
_SOLCAST_ESTIMATES: Final = ("pv_estimate", "pv_estimate10", "pv_estimate90")
_EMHASS_LISTS: Final = ("forecasts", "scheduled_forecast")
_MAPPING_ATTRIBUTES: Final = ("forecast", "watts", "power", "data", "values")


def parse_pv_forecast_attributes(
    attributes: Mapping[str, Any],
    naive_tz: tzinfo | None = None,
    estimate: str = "pv_estimate",
) -> ParsedForecast:
    """Recognise and read the PV forecast in an entity's attributes, in W.

    `estimate` picks Solcast's median (``pv_estimate``) or its 10 %/90 % estimates. Never
    raises: attributes without a forecast give an empty result with format None.
    """
    return (
        _read_solcast(attributes, naive_tz, estimate)
        or _read_open_meteo(attributes, naive_tz)
        or _read_forecast_solar(attributes, naive_tz)
        or _read_emhass(attributes, naive_tz)
        or _read_generic(attributes, naive_tz)
        or ParsedForecast()
    )


def parse_wh_hours(
    mapping: Mapping[Any, Any], naive_tz: tzinfo | None = None, period: timedelta | None = None
) -> list[Interval]:
    """Average power in W from a ``{period start: Wh}`` mapping such as ``wh_hours``.

    Each key starts a period that lasts until the next key and at most `period` (one hour by
    default): Forecast.Solar's first key of a day is the sunrise, not a full hour, and the
    night between two days is a gap, not a long period. Bad entries are skipped.
    """
    read = points_from_mapping(mapping, naive_tz)
    return _energy_to_power(read, period or timedelta(hours=1), "Wh")


def _periods(points: Sequence[tuple[datetime, float]], fallback: timedelta) -> list[Interval]:
    """Intervals of the source's own period: until the next point, at most the usual spacing."""
    period = median_spacing(when for when, _ in points) or fallback
    return intervals_from_points(points, period, period)


def _energy_to_power(read: Records, period: timedelta, unit: str) -> list[Interval]:
    intervals = sort_unique([*read.intervals, *_periods(read.points, period)])
    result: list[Interval] = []
    for interval in intervals:
        hours = (interval.end - interval.start).total_seconds() / 3600.0
        watts = energy_to_kwh(interval.value, unit) * 1000.0 / hours
        result.append(Interval(start=interval.start, end=interval.end, value=watts))
    return result


def _between_samples(intervals: list[Interval]) -> list[Interval]:
    """Average power between instantaneous samples: the mean of the two ends of each period.

    Open-Meteo's ``watts`` are the power at each instant, not over the following 15 minutes;
    the trapezoid keeps the energy of a smooth curve. A period not followed directly by another
    sample keeps its own value.
    """
    result: list[Interval] = []
    for index, interval in enumerate(intervals):
        value = interval.value
        if index + 1 < len(intervals) and intervals[index + 1].start == interval.end:
            value = (value + intervals[index + 1].value) / 2.0
        result.append(Interval(start=interval.start, end=interval.end, value=value))
    return result


def _in_watts(intervals: list[Interval], unit: str) -> list[Interval]:
    return [Interval(start=i.start, end=i.end, value=power_to_w(i.value, unit)) for i in intervals]


def _read_solcast(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None, estimate: str
) -> ParsedForecast | None:
    value_key = estimate if estimate in _SOLCAST_ESTIMATES else "pv_estimate"
    for name, minutes in _SOLCAST_LISTS:
        records = attributes.get(name)
        if not isinstance(records, Sequence) or isinstance(records, str | bytes) or not records:
            continue
        first = records[0]
        if not isinstance(first, Mapping) or "period_start" not in first:
            continue
        read = points_from_records(records, ("period_start",), (value_key,), (), naive_tz)
        period = timedelta(minutes=minutes)  # fixed by Solcast, whatever entries are missing
        intervals = _in_watts(intervals_from_points(read.points, period, period), "kW")
        return ParsedForecast(tuple(intervals), "solcast", read.skipped)
    return None


def _read_open_meteo(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None
) -> ParsedForecast | None:
    watts = attributes.get("watts")
    wh_period = attributes.get("wh_period")
    if isinstance(watts, Mapping) and watts:
        read = points_from_mapping(watts, naive_tz)
        intervals = _between_samples(_periods(read.points, timedelta(minutes=15)))
        return ParsedForecast(tuple(intervals), "open_meteo", read.skipped)
    if isinstance(wh_period, Mapping) and wh_period:
        read = points_from_mapping(wh_period, naive_tz)
        intervals = _energy_to_power(read, timedelta(hours=1), "Wh")
        return ParsedForecast(tuple(intervals), "open_meteo", read.skipped)
    return None


def _read_forecast_solar(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None
) -> ParsedForecast | None:
    wh_hours = attributes.get("wh_hours")
    if not isinstance(wh_hours, Mapping):
        return None
    read = points_from_mapping(wh_hours, naive_tz)
    intervals = _energy_to_power(read, timedelta(hours=1), "Wh")
    return ParsedForecast(tuple(intervals), "forecast_solar", read.skipped)


def _with_unit(attributes: Mapping[str, Any], read: Records, form: str) -> ParsedForecast:
    """Convert what a generic reader found using the entity's unit_of_measurement."""
    unit = attributes.get("unit_of_measurement")
    unit = unit.strip() if isinstance(unit, str) and unit.strip() else "W"
    if is_power_unit(unit):
        intervals = sort_unique([*read.intervals, *intervals_from_points(read.points)])
        return ParsedForecast(tuple(_in_watts(intervals, unit)), form, read.skipped)
    if is_energy_unit(unit):
        spacing = median_spacing(when for when, _ in read.points) or timedelta(hours=1)
        intervals = _energy_to_power(read, spacing, unit)
        return ParsedForecast(tuple(intervals), form, read.skipped)
    return ParsedForecast((), form, read.skipped, error="unknown_unit")


def _read_emhass(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedForecast | None:
    for name in _EMHASS_LISTS:
        records = attributes.get(name)
        if not isinstance(records, Sequence) or isinstance(records, str | bytes) or not records:
            continue
        value_key = emhass_value_key(records)
        if value_key is None:
            continue
        read = points_from_records(records, ("date",), (value_key,), (), naive_tz)
        return _with_unit(attributes, read, "emhass")
    return None


def _read_generic(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedForecast | None:
    found = read_record_list(attributes, naive_tz)
    if found is not None:
        name, read = found
        return _with_unit(attributes, read, "haeo" if name == "forecast" else "list")
    mapped = read_time_mapping(attributes, _MAPPING_ATTRIBUTES, naive_tz)
    if mapped is not None:
        return _with_unit(attributes, mapped, "mapping")
    return None
