"""Carbon intensity of grid electricity: a forecast from a source, or a learned daily profile.

Units: g CO2e per kWh here (what Electricity Maps, CO2 Signal and the UK carbon intensity API
publish); `to_kg_per_kwh` converts for `Problem.carbon_intensity`, which is in kg per kWh.

`parse_carbon_attributes` reads a forecast from the attributes of a carbon-intensity entity:
lists of records such as Electricity Maps' ``forecast: [{datetime, carbonIntensity}]``, the UK
API's ``[{from, to, intensity: {forecast, actual}}]``, any list the generic price readers of
`engine/tariffs.py` understand, or a ``{time: value}`` mapping. When the entity has no forecast,
`CarbonProfile` learns one: an exponentially weighted mean per hour of the day, apart for
weekdays and weekend days, kept across restarts with `to_dict`/`from_dict`. `intensity_series`
puts them together on the planning grid: the forecast where it has values, the profile
elsewhere, the current value when neither knows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

from .model import Interval, Series
from .tariffs import read_record_list, read_time_mapping
from .timeseries import (
    intervals_from_points,
    parse_number,
    points_from_records,
    sort_unique,
    to_series,
)

_TIME_KEYS: Final = ("datetime", "from", "start", "time", "date", "period_start", "timestamp")
_END_KEYS: Final = ("to", "end")
_VALUE_KEYS: Final = (
    "carbonIntensity",
    "carbon_intensity",
    "intensity",
    "value",
    "forecast",
)
_LIST_ATTRIBUTES: Final = ("forecast", "forecasts", "data", "history", "carbon_intensity")
_MAPPING_ATTRIBUTES: Final = ("forecast", "forecasts", "data")
_KG_UNITS: Final = ("kg/kwh", "kgco2/kwh", "kgco2e/kwh", "kgco2eq/kwh")
_LB_PER_MWH: Final = ("lbs/mwh", "lb/mwh", "lbsco2/mwh")
_G_PER_LB: Final = 453.59237

PROFILE_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class CarbonForecast:
    """Intensity intervals (g/kWh), sorted, and how many entries were skipped."""

    intervals: tuple[Interval, ...]
    skipped: int = 0


def unit_factor(unit: str | None) -> float:
    """Factor from `unit` to g/kWh (g/kWh when None or unknown)."""
    if not unit:
        return 1.0
    text = unit.replace(" ", "").replace("₂", "2").lower()
    if text in _KG_UNITS:
        return 1000.0
    if text in _LB_PER_MWH:
        return _G_PER_LB / 1000
    return 1.0


def _flatten(records: Sequence[Any]) -> list[Any]:
    """UK-style records carry ``intensity: {forecast, actual}``: take the actual when known."""
    out: list[Any] = []
    for record in records:
        if isinstance(record, Mapping) and isinstance(record.get("intensity"), Mapping):
            inner = record["intensity"]
            value = inner.get("actual")
            if parse_number(value) is None:
                value = inner.get("forecast")
            out.append({**record, "intensity": value})
        else:
            out.append(record)
    return out


def parse_carbon_attributes(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None = None
) -> CarbonForecast | None:
    """The forecast in an entity's attributes (g/kWh), or None when there is none."""
    factor = unit_factor(attributes.get("unit_of_measurement"))
    for name in _LIST_ATTRIBUTES:
        records = attributes.get(name)
        if not isinstance(records, Sequence) or isinstance(records, str | bytes) or not records:
            continue
        flat = _flatten(records)
        read = points_from_records(flat, _TIME_KEYS, _VALUE_KEYS, _END_KEYS, naive_tz)
        if read.intervals or read.points:
            return _forecast(read.intervals, read.points, read.skipped, factor)
    found = read_record_list(attributes, naive_tz)
    if found is not None:
        _, read = found
        if read.intervals or read.points:
            return _forecast(read.intervals, read.points, read.skipped, factor)
    mapping = read_time_mapping(attributes, _MAPPING_ATTRIBUTES, naive_tz)
    if mapping is not None:
        return _forecast([], mapping.points, mapping.skipped, factor)
    return None


def _forecast(
    intervals: list[Interval],
    points: list[tuple[datetime, float]],
    skipped: int,
    factor: float,
) -> CarbonForecast:
    merged = sort_unique(
        [*intervals, *intervals_from_points(points, max_length=timedelta(hours=3))]
    )
    scaled = tuple(
        Interval(start=i.start, end=i.end, value=i.value * factor) if factor != 1.0 else i
        for i in merged
    )
    return CarbonForecast(intervals=scaled, skipped=skipped)


# ---------------------------------------------------------------------------------------------
# Learned profile
# ---------------------------------------------------------------------------------------------


def _empty() -> list[float | None]:
    return [None] * 24


def _zeros() -> list[int]:
    return [0] * 24


@dataclass(slots=True)
class CarbonProfile:
    """Exponentially weighted mean intensity (g/kWh) by local hour, weekdays and weekends apart.

    A cell's first samples are averaged plainly (weight 1/count) until the weight reaches
    `alpha`, so a young profile is not dominated by its first sample. Mutable: `update` learns.
    """

    alpha: float = 0.1
    weekday: list[float | None] = field(default_factory=_empty)
    weekend: list[float | None] = field(default_factory=_empty)
    weekday_count: list[int] = field(default_factory=_zeros)
    weekend_count: list[int] = field(default_factory=_zeros)

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        for row in (self.weekday, self.weekend, self.weekday_count, self.weekend_count):
            if len(row) != 24:
                raise ValueError("a profile row needs 24 hours")

    def _cells(self, when: datetime, tz: tzinfo) -> tuple[list[float | None], list[int], int]:
        local = when.astimezone(tz)
        if local.weekday() >= 5:
            return self.weekend, self.weekend_count, local.hour
        return self.weekday, self.weekday_count, local.hour

    def update(self, when: datetime, value: float, tz: tzinfo) -> None:
        """Learn one sample (g/kWh) taken at `when`; non-finite or negative values are ignored."""
        if not math.isfinite(value) or value < 0:
            return
        means, counts, hour = self._cells(when, tz)
        counts[hour] += 1
        weight = max(self.alpha, 1 / counts[hour])
        old = means[hour]
        means[hour] = value if old is None else old + weight * (value - old)

    def learn(self, series: Series, tz: tzinfo) -> int:
        """Learn every value of `series`; returns how many were used."""
        used = 0
        for when, value in zip(series.times(), series.values, strict=True):
            if value is not None and math.isfinite(value) and value >= 0:
                self.update(when, value, tz)
                used += 1
        return used

    def predict(self, when: datetime, tz: tzinfo) -> float | None:
        """The expected intensity at `when`: the cell, else the same hour of the other day type,
        else the mean of the known cells of the day type, else of all; None when empty."""
        means, _, hour = self._cells(when, tz)
        other = self.weekday if means is self.weekend else self.weekend
        if means[hour] is not None:
            return means[hour]
        if other[hour] is not None:
            return other[hour]
        for row in (means, [*means, *other]):
            known = [v for v in row if v is not None]
            if known:
                return sum(known) / len(known)
        return None

    def series(
        self, start: datetime, step: timedelta, n_steps: int, tz: tzinfo
    ) -> tuple[float | None, ...]:
        """The prediction at the middle of each step."""
        return tuple(self.predict(start + step * i + step / 2, tz) for i in range(n_steps))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": PROFILE_VERSION,
            "alpha": self.alpha,
            "weekday": list(self.weekday),
            "weekend": list(self.weekend),
            "weekday_count": list(self.weekday_count),
            "weekend_count": list(self.weekend_count),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CarbonProfile:
        """Read `to_dict` output. Raises ValueError for another version or malformed data."""
        if data.get("version") != PROFILE_VERSION:
            raise ValueError(f"unsupported carbon profile version {data.get('version')!r}")

        def means(key: str) -> list[float | None]:
            row = data.get(key)
            if not isinstance(row, list):
                raise ValueError(f"{key} must be a list")
            return [None if v is None else float(v) for v in row]

        def counts(key: str) -> list[int]:
            row = data.get(key)
            if not isinstance(row, list):
                raise ValueError(f"{key} must be a list")
            return [int(v) for v in row]

        return cls(
            alpha=float(data.get("alpha", 0.1)),
            weekday=means("weekday"),
            weekend=means("weekend"),
            weekday_count=counts("weekday_count"),
            weekend_count=counts("weekend_count"),
        )


# ---------------------------------------------------------------------------------------------
# On the planning grid
# ---------------------------------------------------------------------------------------------


def intensity_series(
    start: datetime,
    step: timedelta,
    n_steps: int,
    tz: tzinfo,
    *,
    forecast: CarbonForecast | None = None,
    profile: CarbonProfile | None = None,
    current: float | None = None,
) -> tuple[float, ...] | None:
    """Intensity (g/kWh) per planning step: the forecast, else the profile, else `current`.

    None when nothing knows any step (the planner then runs without carbon).
    """
    from_forecast: Sequence[float | None] = (None,) * n_steps
    if forecast is not None:
        from_forecast = to_series(list(forecast.intervals), start, step, n_steps).values
    from_profile = profile.series(start, step, n_steps, tz) if profile else (None,) * n_steps
    out: list[float] = []
    for a, b in zip(from_forecast, from_profile, strict=True):
        value = a if a is not None else b if b is not None else current
        if value is None:
            return None
        out.append(value)
    return tuple(out)


def to_kg_per_kwh(values_g: Sequence[float]) -> tuple[float, ...]:
    """g/kWh to kg/kWh, the unit of `Problem.carbon_intensity`."""
    return tuple(v / 1000 for v in values_g)


def plan_emissions_kg(
    import_w: Sequence[float], intensity_g_per_kwh: Sequence[float], step: timedelta
) -> float:
    """Emissions (kg CO2e) of importing `import_w` per step at the given intensities."""
    if len(import_w) != len(intensity_g_per_kwh):
        raise ValueError("import_w and intensity need the same length")
    hours = step.total_seconds() / 3600
    return sum(
        max(0.0, p) / 1000 * hours * g / 1000
        for p, g in zip(import_w, intensity_g_per_kwh, strict=True)
    )
