"""Turning what sources give (points, intervals, mappings) into series on the engine's grid.

Sources publish prices and forecasts as lists of points or of intervals of their own length
(hourly, 15 min, 30 min). `to_series` resamples them onto the planner's grid by the
time-weighted mean, so an hourly price covers twelve 5-minute steps and four 15-minute prices
average into one hourly step. All arithmetic is done on UTC instants: two datetimes in the same
zone subtract by wall clock in Python, which is wrong across a daylight saving change.

The small parsers here (`parse_time`, `parse_number`, `points_from_records`,
`points_from_mapping`) are shared by the tariff and PV forecast parsers. They never raise on bad
entries: they skip them and count them.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .model import Interval, Series

_EPOCH_SECONDS_MIN = 1e9  # 2001-09-09: smaller numbers are not timestamps of a forecast
_EPOCH_MILLIS_MIN = 1e12
_EPOCH_SECONDS_MAX = 7258118400.0  # 2200-01-01: larger numbers are not times of a forecast
_YEARS = range(2000, 2200)
"""The years a time of a forecast may fall in: others (9999, year 1) are damaged data."""


def to_series(
    intervals: Sequence[Interval], start: datetime, step: timedelta, count: int
) -> Series:
    """Resample `intervals` onto `count` steps of `step` from `start`.

    Each step gets the time-weighted mean of the intervals that overlap it, over the part of
    the step they cover; a step no interval touches is None. Intervals with a non-finite value
    or no length are ignored. The series starts at `start` expressed in UTC.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    count = max(count, 0)
    origin = start.timestamp()
    width = step.total_seconds()
    weighted = [0.0] * count
    covered = [0.0] * count
    # A step that one value covers gets that value exactly, not value * t / t.
    single: list[float | None] = [None] * count
    mixed = [False] * count
    horizon = origin + width * count
    for interval in intervals:
        value = interval.value
        if not math.isfinite(value):
            continue
        lo = max(interval.start.timestamp(), origin)
        hi = min(interval.end.timestamp(), horizon)
        if hi <= lo:
            continue
        first = int((lo - origin) // width)
        last = min(math.ceil((hi - origin) / width), count)
        for index in range(first, last):
            step_lo = origin + index * width
            # Positive for every index in range; at worst zero through rounding, which adds
            # nothing (a mixed step is then averaged, which is still right).
            overlap = min(hi, step_lo + width) - max(lo, step_lo)
            weighted[index] += value * overlap
            covered[index] += overlap
            if single[index] is None:
                single[index] = value
            elif single[index] != value:
                mixed[index] = True
    values = tuple(
        (weighted[i] / covered[i] if mixed[i] else single[i]) if covered[i] > 0 else None
        for i in range(count)
    )
    return Series(start=start.astimezone(UTC), step=step, values=values)


def intervals_from_points(
    points: Sequence[tuple[datetime, float]],
    default_length: timedelta | None = None,
    max_length: timedelta | None = None,
) -> list[Interval]:
    """Intervals from points where each value holds until the next point.

    Points are sorted and a repeated time keeps its last value. The last point lasts
    `default_length`, or when that is None the median of the last three spacings: the usual
    spacing, also on a horizon whose resolution changes (5, 30, then 60 min) and with one entry
    missing. A single point without `default_length` gives nothing, as its length is unknown.
    With `max_length`, no interval is longer than that, so a gap in the source (a night, a
    missing day) stays a gap.
    """
    by_time: dict[float, tuple[datetime, float]] = {}
    for when, value in points:
        by_time[when.timestamp()] = (when, value)
    ordered = [by_time[key] for key in sorted(by_time)]
    if not ordered:
        return []
    last_length = default_length
    if last_length is None:
        if len(ordered) < 2:
            return []
        last_length = median_spacing((when for when, _ in ordered), last=3)
    result: list[Interval] = []
    for index, (when, value) in enumerate(ordered):
        start = when.astimezone(UTC)
        if index + 1 < len(ordered):
            end = ordered[index + 1][0].astimezone(UTC)
        else:
            end = start + last_length
        if max_length is not None and end - start > max_length:
            end = start + max_length
        result.append(Interval(start=start, end=end, value=value))
    return result


def median_spacing(times: Iterable[datetime], last: int | None = None) -> timedelta:
    """The median gap between consecutive distinct times (0 for fewer than two).

    With `last`, only the last that many gaps count: the spacing at the end of a horizon whose
    resolution changes (5 min, then 30, then 60) is the one of its last part.
    """
    stamps = sorted({when.timestamp() for when in times})
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    if last is not None:
        gaps = gaps[-last:]
    if not gaps:
        return timedelta(0)
    return timedelta(seconds=statistics.median(gaps))


def sort_unique(intervals: Iterable[Interval]) -> list[Interval]:
    """Intervals sorted by start, keeping the last one given for a repeated start."""
    by_start: dict[float, Interval] = {}
    for interval in intervals:
        by_start[interval.start.timestamp()] = interval
    return [by_start[key] for key in sorted(by_start)]


def parse_time(value: Any, naive_tz: tzinfo | None = None) -> datetime | None:
    """A timezone-aware datetime from what sources put in attributes, or None.

    Accepts datetime objects (Home Assistant keeps attributes as Python objects), ISO 8601
    strings with `T` or a space between date and time (`str(datetime)` as ENTSO-E and EMHASS
    write it), `Z` and `+0000` offsets, and Unix timestamps in seconds or milliseconds. A time
    without an offset is placed in `naive_tz`, or refused when that is None. Times outside the
    years 2000-2199 (microsecond timestamps, 1e20, 9999-12-31, year 1) are refused: never an
    exception.
    """
    when: datetime
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number) or number < _EPOCH_SECONDS_MIN:
            return None
        if number >= _EPOCH_MILLIS_MIN:
            number /= 1000.0
        if number >= _EPOCH_SECONDS_MAX:
            return None  # microseconds, nanoseconds or nonsense: no calendar time of ours
        return datetime.fromtimestamp(number, UTC)
    else:
        return None
    if when.year not in _YEARS:
        return None  # and nothing is computed with it (a day added to 9999-12-31 overflows)
    if when.tzinfo is None or when.utcoffset() is None:
        if naive_tz is None:
            return None
        when = when.replace(tzinfo=naive_tz)
    return when


def parse_number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (EMHASS publishes strings), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class Records:
    """What was read from a list of records or a mapping."""

    intervals: list[Interval]
    """Intervals read with an explicit end."""
    points: list[tuple[datetime, float]]
    """Points read without an end: each holds until the next one."""
    skipped: int
    """Entries with a bad time or a non-numeric value."""


def points_from_records(
    records: Sequence[Any],
    time_keys: Sequence[str],
    value_keys: Sequence[str],
    end_keys: Sequence[str] = (),
    naive_tz: tzinfo | None = None,
) -> Records:
    """Read `[{time: ..., value: ...}, ...]` records.

    The first key of `time_keys` (and of `value_keys`, `end_keys`) that a record has is used.
    Records with an end give intervals, the others give points.
    """
    intervals: list[Interval] = []
    points: list[tuple[datetime, float]] = []
    skipped = 0
    for record in records:
        if not isinstance(record, Mapping):
            skipped += 1
            continue
        when = _first(record, time_keys)
        start = parse_time(when, naive_tz)
        value = parse_number(_first(record, value_keys))
        if start is None or value is None:
            skipped += 1
            continue
        end_raw = _first(record, end_keys)
        if end_raw is None:
            points.append((start, value))
            continue
        end = parse_time(end_raw, naive_tz)
        if end is None or end <= start:
            skipped += 1
            continue
        intervals.append(
            Interval(start=start.astimezone(UTC), end=end.astimezone(UTC), value=value)
        )
    return Records(intervals=intervals, points=points, skipped=skipped)


def points_from_mapping(
    mapping: Mapping[Any, Any], naive_tz: tzinfo | None = None, *, strict: bool = True
) -> Records:
    """Read a `{time: value}` mapping.

    With `strict`, a key that is not a time counts as skipped; without, such keys are ignored
    (used when the mapping is a whole attribute dict that also holds `friendly_name` and such).
    """
    points: list[tuple[datetime, float]] = []
    skipped = 0
    for key, raw in mapping.items():
        when = parse_time(key, naive_tz)
        if when is None:
            if strict:
                skipped += 1
            continue
        value = parse_number(raw)
        if value is None:
            skipped += 1
            continue
        points.append((when, value))
    return Records(intervals=[], points=points, skipped=skipped)


def _first(record: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in record:
            return record[key]
    return None
