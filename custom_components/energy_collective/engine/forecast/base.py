"""What every forecaster takes and returns.

Time is handled as UTC instants (seconds since the epoch, float64 numpy arrays) so that a
daylight saving change never shifts a series: the local calendar (weekday, time of day) is
derived from the instants through the home's time zone, where a 23-hour day simply lacks
one hour's slots and a 25-hour day has them twice.

Missing values are NaN. Nothing here imports Home Assistant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_SECONDS = 86_400


def as_float_array(values: Iterable[float | None] | FloatArray) -> FloatArray:
    """Turn a sequence with None (missing) into a float array with NaN."""
    if isinstance(values, np.ndarray):
        return np.asarray(values, dtype=np.float64)
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def step_seconds(step: timedelta) -> int:
    """The step in whole seconds; it must be positive and divide a day."""
    seconds = step.total_seconds()
    if seconds <= 0 or seconds != int(seconds) or DAY_SECONDS % int(seconds):
        raise ValueError(f"step {step} must be positive and divide a day")
    return int(seconds)


def epoch_grid(start: datetime, step: timedelta, count: int) -> FloatArray:
    """The UTC instants (epoch seconds) of `count` steps from `start`."""
    origin = _aware(start, "start").timestamp()
    return origin + step.total_seconds() * np.arange(max(count, 0), dtype=np.float64)


def utc_offsets(times: FloatArray, time_zone: str) -> FloatArray:
    """The local UTC offset in seconds at each instant (DST aware)."""
    if times.size == 0:
        return np.zeros(0)
    if time_zone == "UTC":
        return np.zeros(times.shape)
    zone = ZoneInfo(time_zone)
    # Offsets change at most a few times a year: look them up once per hour of the range and
    # pick each instant's hour.
    first = math.floor(float(times.min()) / 3600.0)
    last = math.floor(float(times.max()) / 3600.0)
    hours = np.arange(first, last + 1)
    table = np.empty(hours.size)
    for i, hour in enumerate(hours):
        offset = datetime.fromtimestamp(float(hour) * 3600.0, UTC).astimezone(zone).utcoffset()
        table[i] = offset.total_seconds() if offset is not None else 0.0
    index = (np.floor(times / 3600.0) - first).astype(np.int64)
    return table[index]


@dataclass(frozen=True, slots=True)
class Calendar:
    """Local calendar of each instant."""

    day: IntArray
    """Local day number (days since 1970-01-01 in local time)."""
    weekday: IntArray
    """0 = Monday .. 6 = Sunday."""
    slot: IntArray
    """Index of the step within the local day (0 .. slots_per_day - 1)."""
    day_of_year: FloatArray
    """Fractional day of the (local) year, 0 .. 366."""


def calendar(times: FloatArray, step_s: int, time_zone: str) -> Calendar:
    """Local weekday, slot of day and day number of each instant."""
    local = times + utc_offsets(times, time_zone)
    day = np.floor(local / DAY_SECONDS).astype(np.int64)
    seconds = local - day * DAY_SECONDS
    slot = np.minimum((seconds // step_s).astype(np.int64), DAY_SECONDS // step_s - 1)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    day_of_year = np.mod(local / DAY_SECONDS - 10_957.0, 365.2425)  # from 2000-01-01
    return Calendar(day=day, weekday=weekday, slot=slot, day_of_year=day_of_year)


@dataclass(frozen=True, slots=True, eq=False)
class History:
    """Measured values on a regular grid, with optional outdoor temperature.

    `values` and `temperature` are NaN where missing. `time_zone` is an IANA name; it decides
    what "same weekday and time of day" means.
    """

    start: datetime
    step: timedelta
    values: FloatArray
    time_zone: str = "UTC"
    temperature: FloatArray | None = None

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        step_seconds(self.step)
        object.__setattr__(self, "values", as_float_array(self.values))
        if self.temperature is not None:
            temperature = as_float_array(self.temperature)
            if temperature.shape != self.values.shape:
                raise ValueError("temperature must have the shape of values")
            object.__setattr__(self, "temperature", temperature)
        ZoneInfo(self.time_zone)  # raises on an unknown zone

    @classmethod
    def from_values(
        cls,
        start: datetime,
        step: timedelta,
        values: Sequence[float | None],
        time_zone: str = "UTC",
        temperature: Sequence[float | None] | None = None,
    ) -> History:
        """Build from plain sequences with None for missing."""
        return cls(
            start=start,
            step=step,
            values=as_float_array(values),
            time_zone=time_zone,
            temperature=None if temperature is None else as_float_array(temperature),
        )

    @property
    def times(self) -> FloatArray:
        """UTC instants (epoch seconds) of the values."""
        return epoch_grid(self.start, self.step, self.values.size)

    @property
    def end(self) -> datetime:
        """The instant after the last value."""
        return self.start + self.step * self.values.size

    def observed_days(self) -> float:
        """How many days of non-missing values there are."""
        return float(np.isfinite(self.values).sum()) * self.step.total_seconds() / DAY_SECONDS

    def head(self, count: int) -> History:
        """The first `count` values."""
        return History(
            start=self.start,
            step=self.step,
            values=self.values[:count],
            time_zone=self.time_zone,
            temperature=None if self.temperature is None else self.temperature[:count],
        )

    def tail(self, count: int) -> History:
        """The last `count` values."""
        count = min(max(count, 0), self.values.size)
        skip = self.values.size - count
        return History(
            start=self.start + self.step * skip,
            step=self.step,
            values=self.values[skip:],
            time_zone=self.time_zone,
            temperature=None if self.temperature is None else self.temperature[skip:],
        )


@dataclass(frozen=True, slots=True)
class ForecastResult:
    """A forecast on a regular grid: P10, P50 and P90 of the average value over each step."""

    start: datetime
    step: timedelta
    p10: tuple[float, ...]
    p50: tuple[float, ...]
    p90: tuple[float, ...]
    model: str
    """Which model produced it (``profile``, ``gbm``, ``typical``, ``pv``, ``wind``, ...)."""
    note: str | None = None
    """Why the forecast is weaker than usual (short history, no weather forecast), or None."""

    def __post_init__(self) -> None:
        if not len(self.p10) == len(self.p50) == len(self.p90):
            raise ValueError("p10, p50 and p90 must have the same length")

    def __len__(self) -> int:
        return len(self.p50)

    @property
    def times(self) -> tuple[datetime, ...]:
        """The start of each step."""
        return tuple(self.start + self.step * i for i in range(len(self.p50)))

    def array(self, quantile: str = "p50") -> FloatArray:
        """One quantile as a numpy array (``p10``, ``p50`` or ``p90``)."""
        values: tuple[float, ...] = getattr(self, quantile)
        return np.asarray(values, dtype=np.float64)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for diagnostics and sensor attributes)."""
        return {
            "start": self.start.isoformat(),
            "step_seconds": self.step.total_seconds(),
            "p10": list(self.p10),
            "p50": list(self.p50),
            "p90": list(self.p90),
            "model": self.model,
            "note": self.note,
        }


def make_result(
    start: datetime,
    step: timedelta,
    p10: FloatArray,
    p50: FloatArray,
    p90: FloatArray,
    *,
    model: str,
    note: str | None = None,
    nonnegative: bool = True,
) -> ForecastResult:
    """Build a result, enforcing P10 <= P50 <= P90 (and >= 0 when asked)."""
    stack = np.sort(np.vstack([p10, p50, p90]), axis=0)
    stack = np.nan_to_num(stack, nan=0.0)
    if nonnegative:
        stack = np.maximum(stack, 0.0)
    return ForecastResult(
        start=_aware(start, "start").astimezone(UTC),
        step=step,
        p10=tuple(float(v) for v in stack[0]),
        p50=tuple(float(v) for v in stack[1]),
        p90=tuple(float(v) for v in stack[2]),
        model=model,
        note=note,
    )


def sum_results(results: Sequence[ForecastResult], model: str | None = None) -> ForecastResult:
    """Add forecasts on the same grid (several arrays, several turbines).

    Quantiles are added as they are, which assumes the parts move together (true for arrays
    under the same sky); it overstates the spread of independent parts.
    """
    if not results:
        raise ValueError("nothing to sum")
    first = results[0]
    for other in results[1:]:
        if other.start != first.start or other.step != first.step or len(other) != len(first):
            raise ValueError("forecasts must share start, step and length")
    notes = sorted({r.note for r in results if r.note})
    return ForecastResult(
        start=first.start,
        step=first.step,
        p10=tuple(float(v) for v in np.sum([r.array("p10") for r in results], axis=0)),
        p50=tuple(float(v) for v in np.sum([r.array("p50") for r in results], axis=0)),
        p90=tuple(float(v) for v in np.sum([r.array("p90") for r in results], axis=0)),
        model=model or "+".join(dict.fromkeys(r.model for r in results)),
        note="; ".join(notes) if notes else None,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Weather:
    """An hourly (or any step) weather forecast as points in time.

    Any field may be None or hold NaN; it is interpolated linearly in time onto the grid a
    forecaster needs. `wind_speed` is in m/s at `wind_height_m` above ground.
    """

    times: FloatArray
    """UTC instants, epoch seconds, ascending."""
    cloud_coverage: FloatArray | None = None
    """Percent, 0 .. 100."""
    temperature: FloatArray | None = None
    """Degrees Celsius."""
    wind_speed: FloatArray | None = None
    """m/s."""
    wind_height_m: float = 10.0

    @classmethod
    def from_points(
        cls,
        times: Sequence[datetime],
        *,
        cloud_coverage: Sequence[float | None] | None = None,
        temperature: Sequence[float | None] | None = None,
        wind_speed: Sequence[float | None] | None = None,
        wind_height_m: float = 10.0,
    ) -> Weather:
        """Build from datetimes and sequences with None for missing."""
        stamps = np.array([_aware(t, "time").timestamp() for t in times], dtype=np.float64)
        order = np.argsort(stamps, kind="stable")

        def pick(values: Sequence[float | None] | None) -> FloatArray | None:
            if values is None:
                return None
            array = as_float_array(values)
            if array.shape != stamps.shape:
                raise ValueError("each weather field needs one value per time")
            return array[order]

        return cls(
            times=stamps[order],
            cloud_coverage=pick(cloud_coverage),
            temperature=pick(temperature),
            wind_speed=pick(wind_speed),
            wind_height_m=wind_height_m,
        )

    def at(self, name: str, times: FloatArray) -> FloatArray | None:
        """Field `name` interpolated at `times`; None when the field is absent or all NaN.

        Outside the forecast's range the nearest value is held.
        """
        values: FloatArray | None = getattr(self, name)
        if values is None:
            return None
        known = np.isfinite(values)
        if not known.any():
            return None
        return np.asarray(np.interp(times, self.times[known], values[known]), dtype=np.float64)


@runtime_checkable
class Forecaster(Protocol):
    """What the prediction agent needs from any model."""

    def fit(self, history: History) -> None:
        """Learn from measured history."""

    def predict(
        self,
        start: datetime,
        count: int,
        *,
        recent: History | None = None,
        weather: Weather | None = None,
    ) -> ForecastResult:
        """Forecast `count` steps from `start` (the planning step)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (lists, numbers, strings; never pickled objects)."""


@dataclass(slots=True)
class Accuracy:
    """Running error of a forecaster against what was then measured."""

    mae: float = math.nan
    bias: float = math.nan
    samples: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def accuracy(forecast: FloatArray, actual: FloatArray) -> Accuracy:
    """MAE and bias (forecast - actual) over the steps where both are known."""
    known = np.isfinite(forecast) & np.isfinite(actual)
    if not known.any():
        return Accuracy()
    error = forecast[known] - actual[known]
    return Accuracy(
        mae=float(np.mean(np.abs(error))),
        bias=float(np.mean(error)),
        samples=int(known.sum()),
    )
