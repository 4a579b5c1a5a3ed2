"""Replay measured history through a planning policy, as model-predictive control would run it.

A backtest walks a measured series step by step. At every step it builds a planning problem for
the next `horizon` (24 h by default) from what the policy may know at that moment, asks the
policy for a plan, applies only the plan's first step to the measured load and generation, and
carries the devices' state (battery and EV energy, appliance cycles, run time, temperatures)
into the next step. Devices follow the plan; the first battery follows the measured home as the
dispatcher does (`engine/follow.py`): the forecast error of the net load is its, within its
limits, wherever it would push the grid beyond the planned exchange or across zero (so an
unexpected surplus is stored rather than exported, and no energy is bought to store that the
plan did not mean to buy); the grid takes the rest.

Policies:
- `optimizer`: the MILP on forecasts. Load and PV are forecast by persistence (the value one
  day earlier), or read from forecast columns when the series has them; prices are taken as
  known over the horizon (day-ahead prices and tariffs are published in advance) unless price
  forecast columns are given.
- `baseline`: the engine's rule-based baseline policy, fed the measured values (a rule reacts
  to what it measures).
- `perfect`: the MILP on the actual future (perfect foresight): the same re-planning, without
  forecast error. The gap between `optimizer` and `perfect` is what forecasting costs.

The series format (SERIES.csv) and the home format (HOME.json) are documented in docs/engine.md.
Pure Python and numpy: no Home Assistant import here.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from datetime import time as dtime
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from .follow import battery_setpoint
from .model import Plan, Problem, ProblemError, problem_from_dict

Policy = Literal["optimizer", "baseline", "perfect"]
POLICIES: tuple[Policy, ...] = ("optimizer", "baseline", "perfect")

REQUIRED_COLUMNS = ("timestamp", "load_w", "pv_w", "price_import", "price_export")
CARBON_COLUMN = "carbon_g_per_kwh"
FORECAST_COLUMNS: dict[str, str] = {
    "load_forecast_w": "load_w",
    "pv_forecast_w": "pv_w",
    "price_import_forecast": "price_import",
    "price_export_forecast": "price_export",
}
"""Optional forecast column -> the measured column it forecasts."""

MIN_STEP = timedelta(minutes=5)
MAX_STEP = timedelta(minutes=60)
DEFAULT_HORIZON = timedelta(hours=24)
TOL_KWH = 1e-3

FloatArray = npt.NDArray[np.float64]
Planner = Callable[[Problem], Plan]


class SeriesFormatError(ValueError):
    """SERIES.csv (or arrays given in its place) is malformed; the message says where."""


class HomeFormatError(ValueError):
    """HOME.json cannot describe a home for a backtest; the message names the field."""


# --------------------------------------------------------------------------------------------
# The measured series
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SeriesTable:
    """Measured values on a regular grid: row i holds from times[i] for one `step`.

    Powers in W, prices in currency per kWh, carbon in g CO2e per kWh imported. `forecasts`
    maps a measured column name (`load_w`, `pv_w`, `price_import`, `price_export`) to its
    forecast per row; NaN where the forecast column was empty.
    """

    times: tuple[datetime, ...]
    step: timedelta
    load_w: FloatArray
    pv_w: FloatArray
    price_import: FloatArray
    price_export: FloatArray
    carbon_g_per_kwh: FloatArray | None = None
    forecasts: Mapping[str, FloatArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.times)
        if n < 2:
            raise SeriesFormatError("the series needs at least 2 rows")
        if any(t.tzinfo is None for t in self.times):
            raise SeriesFormatError("timestamps need a UTC offset")
        if not MIN_STEP <= self.step <= MAX_STEP:
            raise SeriesFormatError(
                f"the step must be between 5 and 60 minutes, got {_minutes(self.step)} min"
            )
        arrays: dict[str, FloatArray | None] = {
            "load_w": self.load_w,
            "pv_w": self.pv_w,
            "price_import": self.price_import,
            "price_export": self.price_export,
            CARBON_COLUMN: self.carbon_g_per_kwh,
        }
        for name, arr in arrays.items():
            if arr is None:
                continue
            if arr.shape != (n,):
                raise SeriesFormatError(f"{name} has {arr.shape[0]} values, expected {n}")
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise SeriesFormatError(f"{name} is not a finite number at row {int(bad[0])}")
        for name, arr in self.forecasts.items():
            if name not in FORECAST_COLUMNS.values() or arr.shape != (n,):
                raise SeriesFormatError(f"forecast of {name!r} is malformed")

    def __len__(self) -> int:
        return len(self.times)

    @classmethod
    def from_arrays(
        cls,
        start: datetime,
        step: timedelta,
        *,
        load_w: Sequence[float] | FloatArray,
        pv_w: Sequence[float] | FloatArray,
        price_import: Sequence[float] | FloatArray,
        price_export: Sequence[float] | FloatArray,
        carbon_g_per_kwh: Sequence[float] | FloatArray | None = None,
        forecasts: Mapping[str, Sequence[float] | FloatArray] | None = None,
    ) -> SeriesTable:
        """A series on a regular grid from `start` (tz-aware), one value per step."""
        n = len(load_w)
        return cls(
            times=tuple(start + step * i for i in range(n)),
            step=step,
            load_w=np.asarray(load_w, dtype=np.float64),
            pv_w=np.asarray(pv_w, dtype=np.float64),
            price_import=np.asarray(price_import, dtype=np.float64),
            price_export=np.asarray(price_export, dtype=np.float64),
            carbon_g_per_kwh=(
                None if carbon_g_per_kwh is None else np.asarray(carbon_g_per_kwh, np.float64)
            ),
            forecasts={k: np.asarray(v, dtype=np.float64) for k, v in (forecasts or {}).items()},
        )

    def actual(self, name: str) -> FloatArray:
        """A measured column by name."""
        return cast(FloatArray, getattr(self, name))


def _minutes(step: timedelta) -> float:
    return step.total_seconds() / 60


def _parse_float(text: str, line: int, column: str, *, allow_empty: bool) -> float:
    text = text.strip()
    if not text:
        if allow_empty:
            return math.nan
        raise SeriesFormatError(f"line {line}: {column} is empty")
    try:
        value = float(text)
    except ValueError:
        raise SeriesFormatError(f"line {line}: {column} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise SeriesFormatError(f"line {line}: {column} is not a finite number: {text!r}")
    return value


def parse_series_rows(rows: Iterable[Sequence[str]], source: str = "series") -> SeriesTable:
    """Read SERIES.csv rows (the header first) into a SeriesTable.

    Raises SeriesFormatError naming the line and column of the first problem found.
    """
    it = iter(rows)
    try:
        header = [h.strip() for h in next(it)]
    except StopIteration:
        raise SeriesFormatError(f"{source}: the file is empty") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SeriesFormatError(
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"required: {', '.join(REQUIRED_COLUMNS)}"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise SeriesFormatError(f"{source}: duplicate column(s) {', '.join(dupes)}")
    index = {name: i for i, name in enumerate(header)}
    measured = [c for c in (*REQUIRED_COLUMNS[1:], CARBON_COLUMN) if c in index]
    forecast = [c for c in FORECAST_COLUMNS if c in index]
    times: list[datetime] = []
    values: dict[str, list[float]] = {c: [] for c in (*measured, *forecast)}
    for line, row in enumerate(it, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SeriesFormatError(
                f"{source} line {line}: {len(row)} fields, the header has {len(header)}"
            )
        stamp = row[index["timestamp"]].strip()
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            raise SeriesFormatError(
                f"{source} line {line}: timestamp is not ISO 8601: {stamp!r}"
            ) from None
        if when.tzinfo is None:
            raise SeriesFormatError(
                f"{source} line {line}: timestamp needs a UTC offset (e.g. +01:00): {stamp!r}"
            )
        times.append(when)
        for c in measured:
            values[c].append(_parse_float(row[index[c]], line, c, allow_empty=False))
        for c in forecast:
            values[c].append(_parse_float(row[index[c]], line, c, allow_empty=True))
    if len(times) < 2:
        raise SeriesFormatError(f"{source}: need at least 2 data rows, got {len(times)}")
    step = times[1] - times[0]
    for i in range(1, len(times)):
        if times[i] - times[i - 1] != step:
            raise SeriesFormatError(
                f"{source} line {i + 2}: timestamps must be evenly spaced by "
                f"{_minutes(step):g} min (the first interval); got {times[i].isoformat()} "
                f"after {times[i - 1].isoformat()}"
            )
    if not MIN_STEP <= step <= MAX_STEP:
        raise SeriesFormatError(
            f"{source}: the step must be between 5 and 60 minutes, got {_minutes(step):g} min"
        )
    for c in ("load_w", "pv_w"):
        neg = [i for i, v in enumerate(values[c]) if v < 0]
        if neg:
            raise SeriesFormatError(f"{source} line {neg[0] + 2}: {c} must be >= 0")
    arr = {c: np.asarray(v, dtype=np.float64) for c, v in values.items()}
    return SeriesTable(
        times=tuple(times),
        step=step,
        load_w=arr["load_w"],
        pv_w=arr["pv_w"],
        price_import=arr["price_import"],
        price_export=arr["price_export"],
        carbon_g_per_kwh=arr.get(CARBON_COLUMN),
        forecasts={FORECAST_COLUMNS[c]: arr[c] for c in forecast},
    )


def read_series_csv(path: str | Path) -> SeriesTable:
    """Read SERIES.csv (see docs/engine.md); raises SeriesFormatError when it is malformed."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            return parse_series_rows(csv.reader(fh), p.name)
    except OSError as err:
        raise SeriesFormatError(f"cannot read {p}: {err.strerror or err}") from err
    except (csv.Error, UnicodeDecodeError) as err:
        raise SeriesFormatError(f"{p.name}: not a readable CSV file: {err}") from err


# --------------------------------------------------------------------------------------------
# The home and its recurring requests
# --------------------------------------------------------------------------------------------

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE_KINDS = ("ev", "appliance", "interruptible", "thermal")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A daily recurring request in the home's local time: from `start` to `end` (next day if
    `end` is not after `start`), on `days` (0 = Monday). `energy_kwh` is an EV's need per
    session; `heat_demand_w_by_hour` a thermal load's hourly heat draw (24 values)."""

    start: dtime | None
    end: dtime | None
    days: frozenset[int]
    energy_kwh: float | None = None
    heat_demand_w_by_hour: tuple[float, ...] | None = None

    def occurrences(
        self, tz: tzinfo, t_from: datetime, t_to: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Every (start, end) of this schedule that overlaps [t_from, t_to)."""
        if self.start is None or self.end is None:
            return []
        out: list[tuple[datetime, datetime]] = []
        day = t_from.astimezone(tz).date() - timedelta(days=2)
        last = t_to.astimezone(tz).date() + timedelta(days=1)
        while day <= last:
            if day.weekday() in self.days:
                a = datetime.combine(day, self.start, tzinfo=tz)
                end_day = day if self.end > self.start else day + timedelta(days=1)
                b = datetime.combine(end_day, self.end, tzinfo=tz)
                if b > t_from and a < t_to:
                    out.append((a, b))
            day += timedelta(days=1)
        return out


@dataclass(frozen=True, eq=False)
class Home:
    """What a backtest needs of HOME.json: the problem's top-level settings (no series), the
    devices in problem JSON form, their recurring schedules and the local time zone."""

    settings: Mapping[str, Any]
    devices: tuple[Mapping[str, Any], ...]
    schedules: Mapping[str, Schedule]
    timezone: tzinfo
    horizon: timedelta = DEFAULT_HORIZON

    @property
    def name(self) -> str:
        return str(self.settings.get("name", "home"))


def _clock(value: Any, where: str) -> dtime:
    if not isinstance(value, str):
        raise HomeFormatError(f'{where} must be a time of day such as "18:30"')
    try:
        return dtime.fromisoformat(value)
    except ValueError:
        raise HomeFormatError(f"{where}: not a time of day: {value!r}") from None


def _days(value: Any, where: str) -> frozenset[int]:
    if value is None:
        return frozenset(range(7))
    if not isinstance(value, list):
        raise HomeFormatError(f"{where} must be a list of days (0-6 or mon..sun)")
    out: set[int] = set()
    for v in value:
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 6:
            out.add(v)
        elif isinstance(v, str) and v[:3].lower() in _DAY_NAMES:
            out.add(_DAY_NAMES.index(v[:3].lower()))
        else:
            raise HomeFormatError(f"{where}: not a day: {v!r}")
    return frozenset(out)


def _schedule(kind: str, d: Any, where: str) -> Schedule:
    if not isinstance(d, Mapping):
        raise HomeFormatError(f"{where} must be an object")
    keys = {
        "ev": ("plug_in", "departure"),
        "appliance": ("earliest_start", "latest_finish"),
        "interruptible": ("window_start", "window_end"),
    }
    days = _days(d.get("days"), f"{where}.days")
    if kind == "thermal":
        hourly = d.get("heat_demand_w_by_hour")
        if (
            not isinstance(hourly, list)
            or len(hourly) != 24
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in hourly)
        ):
            raise HomeFormatError(f"{where}.heat_demand_w_by_hour must be 24 numbers")
        return Schedule(None, None, days, heat_demand_w_by_hour=tuple(float(x) for x in hourly))
    a, b = keys[kind]
    energy: float | None = None
    if kind == "ev":
        e = d.get("energy_kwh")
        if not isinstance(e, (int, float)) or isinstance(e, bool) or e < 0:
            raise HomeFormatError(f"{where}.energy_kwh must be a number >= 0")
        energy = float(e)
    return Schedule(
        _clock(d.get(a), f"{where}.{a}"), _clock(d.get(b), f"{where}.{b}"), days, energy
    )


def home_from_dict(d: Mapping[str, Any]) -> Home:
    """Read HOME.json for a backtest.

    The file is a problem in the JSON form `solve` reads (see docs/engine.md); its series and
    `start` are ignored, since the backtest takes them from SERIES.csv. Added keys:
    `timezone` (IANA name for the schedules, default UTC), `horizon_hours` (default 24) and a
    `schedule` object on devices whose requests recur every day.
    """
    if not isinstance(d, Mapping):
        raise HomeFormatError("the home must be a JSON object")
    tz_name = d.get("timezone", "UTC")
    try:
        tz: tzinfo = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise HomeFormatError(f"timezone: unknown time zone {tz_name!r}") from None
    horizon_h = d.get("horizon_hours", 24)
    if (
        not isinstance(horizon_h, (int, float))
        or isinstance(horizon_h, bool)
        or not (0 < horizon_h <= 48)
    ):
        raise HomeFormatError("horizon_hours must be a number in (0, 48]")
    raw_devices = d.get("devices", [])
    if not isinstance(raw_devices, list):
        raise HomeFormatError("devices must be a list")
    devices: list[dict[str, Any]] = []
    schedules: dict[str, Schedule] = {}
    for i, raw in enumerate(raw_devices):
        if not isinstance(raw, Mapping):
            raise HomeFormatError(f"devices[{i}] must be an object")
        dev = dict(raw)
        sched = dev.pop("schedule", None)
        kind = dev.get("kind")
        if sched is not None:
            if kind not in _SCHEDULE_KINDS:
                raise HomeFormatError(f"devices[{i}]: a {kind} device takes no schedule")
            schedules[str(dev.get("name"))] = _schedule(str(kind), sched, f"devices[{i}].schedule")
        devices.append(dev)
    settings = {
        k: v
        for k, v in d.items()
        if k
        in (
            "name",
            "currency",
            "mode",
            "carbon_price_per_kg",
            "generation_curtailable",
            "grid",
        )
    }
    home = Home(settings, tuple(devices), schedules, tz, timedelta(hours=float(horizon_h)))
    # validate the devices once, with the engine's own reader
    probe = _problem_dict(
        home,
        datetime(2000, 1, 3, tzinfo=tz),
        timedelta(minutes=60),
        1,
        series={"import_price": [0.0], "export_price": [0.0], "base_load_w": [0.0], "pv_w": [0.0]},
        carbon_kg=None,
        devices=[_static_device(x, 1) for x in devices],
    )
    try:
        problem_from_dict(probe)
    except ProblemError as err:
        raise HomeFormatError(str(err)) from err
    return home


def _static_device(dev: Mapping[str, Any], n: int) -> dict[str, Any]:
    """A device dict usable for a problem of n steps (thermal series broadcast)."""
    out = dict(dev)
    if out.get("kind") == "thermal":
        for key in ("t_min_c", "t_max_c", "ambient_c", "heat_demand_w", "efficiency"):
            v = out.get(key)
            if isinstance(v, list) and v:
                out[key] = (v * (n // len(v) + 1))[:n]
    return out


def _problem_dict(
    home: Home,
    start: datetime,
    step: timedelta,
    n: int,
    *,
    series: Mapping[str, list[float]],
    carbon_kg: list[float] | None,
    devices: list[dict[str, Any]],
) -> dict[str, Any]:
    d: dict[str, Any] = dict(home.settings)
    d.update(
        start=start.isoformat(),
        step_minutes=_minutes(step),
        n_steps=n,
        devices=devices,
        **series,
    )
    if carbon_kg is not None:
        d["carbon_intensity"] = carbon_kg
    return d


# --------------------------------------------------------------------------------------------
# Device state carried from step to step
# --------------------------------------------------------------------------------------------


@dataclass
class _Request:
    """One appliance cycle, EV session or run window, and how it went."""

    start: datetime | None
    end: datetime | None
    need_kwh: float = 0.0
    done_kwh: float = 0.0
    started_at: datetime | None = None
    finished: bool = False


@dataclass
class _DeviceState:
    spec: Mapping[str, Any]
    kind: str
    requests: list[_Request] = field(default_factory=list)
    cursor: int = 0
    soc: float = 0.0
    temperature: float = 0.0


@dataclass
class Outcome:
    """What happened to the requirements over a replay."""

    ev_unmet_kwh: float = 0.0
    cycles_missed: int = 0
    cycles_late_h: float = 0.0
    run_unmet_kwh: float = 0.0
    comfort_kh: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "ev_unmet_kwh": round(self.ev_unmet_kwh, 3),
            "cycles_missed": self.cycles_missed,
            "cycles_late_h": round(self.cycles_late_h, 3),
            "run_unmet_kwh": round(self.run_unmet_kwh, 3),
            "comfort_kh": round(self.comfort_kh, 3),
        }


def _window_of(dev: Mapping[str, Any], a: str, b: str) -> tuple[datetime | None, datetime | None]:
    def t(key: str) -> datetime | None:
        v = dev.get(key)
        return datetime.fromisoformat(v) if isinstance(v, str) else None

    return t(a), t(b)


def _duration(dev: Mapping[str, Any]) -> timedelta:
    profile = dev.get("profile_w") or []
    return timedelta(minutes=float(dev.get("profile_step_minutes", 15)) * len(profile))


def _interruptible_need(dev: Mapping[str, Any]) -> float:
    if dev.get("energy_kwh") is not None:
        return float(dev["energy_kwh"])
    return float(dev.get("run_hours") or 0.0) * float(dev["power_w"]) / 1000


def _init_states(home: Home, t_from: datetime, t_to: datetime) -> dict[str, _DeviceState]:
    states: dict[str, _DeviceState] = {}
    for dev in home.devices:
        name = str(dev["name"])
        kind = str(dev["kind"])
        st = _DeviceState(dev, kind)
        sched = home.schedules.get(name)
        if kind == "battery":
            st.soc = float(dev["soc_initial"])
        elif kind == "thermal":
            st.temperature = float(dev["t_initial_c"])
        elif kind == "ev":
            if sched is not None:
                st.requests = [
                    _Request(a, b, sched.energy_kwh or 0.0)
                    for a, b in sched.occurrences(home.timezone, t_from, t_to)
                ]
            else:
                for s in dev.get("sessions") or []:
                    a, b = _window_of(s, "plug_in", "departure")
                    st.requests.append(_Request(a, b, float(s.get("energy_kwh", 0.0))))
        elif kind in ("appliance", "interruptible"):
            keys = (
                ("earliest_start", "latest_finish")
                if kind == "appliance"
                else ("window_start", "window_end")
            )
            need = _interruptible_need(dev) if kind == "interruptible" else 0.0
            if sched is not None:
                st.requests = [
                    _Request(a, b, need) for a, b in sched.occurrences(home.timezone, t_from, t_to)
                ]
            else:
                a, b = _window_of(dev, *keys)
                st.requests = [_Request(a, b, need)]
        states[name] = st
    return states


# --------------------------------------------------------------------------------------------
# The replay
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Replay:
    """Per-step results of one policy over [begin, end) of a series."""

    policy: str
    times: tuple[datetime, ...]
    step: timedelta
    load_w: FloatArray
    """Base load as measured."""
    pv_w: FloatArray
    flexible_w: FloatArray
    """Power of the planned devices other than batteries."""
    battery_w: FloatArray
    """Sum of battery powers (positive charging)."""
    import_w: FloatArray
    export_w: FloatArray
    curtailed_w: FloatArray
    price_import: FloatArray
    price_export: FloatArray
    carbon_g_per_kwh: FloatArray | None
    device_power_w: Mapping[str, FloatArray]
    battery_soc: Mapping[str, FloatArray]
    """State of charge at the end of each step."""
    battery_energy_start_kwh: float
    battery_energy_end_kwh: float
    battery_value_per_kwh: float
    wear_cost: float
    outcome: Outcome
    solves: int
    plan_seconds: float
    wall_seconds: float
    statuses: Mapping[str, int]


def _forecast(series: SeriesTable, column: str, t: int, n: int, day_steps: int) -> list[float]:
    """Forecast of `column` for rows t..t+n-1 known at the start of row t.

    A forecast column when given (empty cells fall back), else persistence: the value one day
    earlier (two days for targets more than a day ahead); before the series has a day of
    history, the last measured value (the first value at row 0).
    """
    actual = series.actual(column)
    given = series.forecasts.get(column)
    out: list[float] = []
    for k in range(n):
        target = t + k
        if given is not None and math.isfinite(given[target]):
            out.append(float(given[target]))
            continue
        lag = day_steps * (k // day_steps + 1)
        src = target - lag
        if src < 0:
            src = max(t - 1, 0)
        out.append(float(actual[src]))
    return out


def _known(series: SeriesTable, column: str, t: int, n: int) -> list[float]:
    """Values published in advance (prices): the forecast column where given, else actual."""
    actual = series.actual(column)[t : t + n]
    given = series.forecasts.get(column)
    if given is None:
        return [float(v) for v in actual]
    fc = given[t : t + n]
    return [float(f) if math.isfinite(f) else float(a) for f, a in zip(fc, actual, strict=True)]


def _device_dicts(
    states: Mapping[str, _DeviceState],
    home: Home,
    now: datetime,
    step: timedelta,
    n: int,
) -> list[dict[str, Any]]:
    """The devices as problem JSON for a plan starting `now`, with their current state."""
    end = now + step * n
    out: list[dict[str, Any]] = []
    for name, st in states.items():
        dev = dict(st.spec)
        kind = st.kind
        if kind == "battery":
            dev["soc_initial"] = min(1.0, max(0.0, st.soc))
        elif kind == "thermal":
            dev = _static_device(dev, n)
            dev["t_initial_c"] = st.temperature
            sched = home.schedules.get(name)
            if sched is not None and sched.heat_demand_w_by_hour is not None:
                hourly = sched.heat_demand_w_by_hour
                dev["heat_demand_w"] = [
                    hourly[(now + step * k).astimezone(home.timezone).hour] for k in range(n)
                ]
        elif kind == "ev":
            sessions = [
                {
                    "plug_in": (r.start or now).isoformat(),
                    "departure": (r.end or end).isoformat(),
                    "energy_kwh": max(0.0, r.need_kwh - r.done_kwh),
                }
                for r in st.requests
                if (r.end is None or r.end > now) and (r.start is None or r.start < end)
            ]
            dev["sessions"] = sessions
        elif kind == "appliance":
            if st.cursor >= len(st.requests):
                continue
            r = st.requests[st.cursor]
            if r.started_at is None and r.start is not None and r.start >= end:
                continue
            dev["earliest_start"] = r.start.isoformat() if r.start else None
            dev["latest_finish"] = r.end.isoformat() if r.end else None
            dev["started_at"] = r.started_at.isoformat() if r.started_at else None
        elif kind == "interruptible":
            if st.cursor >= len(st.requests):
                continue
            r = st.requests[st.cursor]
            if r.start is not None and r.start >= end:
                continue
            dev.pop("run_hours", None)
            dev["energy_kwh"] = max(0.0, r.need_kwh - r.done_kwh)
            dev["window_start"] = r.start.isoformat() if r.start else None
            dev["window_end"] = r.end.isoformat() if r.end else None
        out.append(dev)
    return out


def _advance_requests(states: Mapping[str, _DeviceState], now: datetime, outcome: Outcome) -> None:
    """Close the requests that are over at `now` and account for what they missed."""
    for st in states.values():
        if st.kind == "appliance":
            while st.cursor < len(st.requests):
                r = st.requests[st.cursor]
                if r.started_at is not None:
                    if r.started_at + _duration(st.spec) <= now:
                        r.finished = True
                        st.cursor += 1
                        continue
                    break
                nxt = st.requests[st.cursor + 1] if st.cursor + 1 < len(st.requests) else None
                if nxt is not None and nxt.start is not None and nxt.start <= now:
                    outcome.cycles_missed += 1  # the next request opened before this one ran
                    st.cursor += 1
                    continue
                break
        elif st.kind == "interruptible":
            while st.cursor < len(st.requests):
                r = st.requests[st.cursor]
                if r.end is not None and r.end <= now:
                    outcome.run_unmet_kwh += max(0.0, r.need_kwh - r.done_kwh - TOL_KWH)
                    st.cursor += 1
                    continue
                break
        elif st.kind == "ev":
            for r in st.requests:
                if not r.finished and r.end is not None and r.end <= now:
                    r.finished = True
                    outcome.ev_unmet_kwh += max(0.0, r.need_kwh - r.done_kwh - TOL_KWH)


def _close_requests(states: Mapping[str, _DeviceState], end: datetime, outcome: Outcome) -> None:
    """At the end of a replay: requests whose deadline passed inside it count as missed."""
    for st in states.values():
        if st.kind == "appliance":
            for r in st.requests[st.cursor :]:
                if r.started_at is None and r.end is not None and r.end <= end:
                    outcome.cycles_missed += 1


def replay(
    home: Home,
    series: SeriesTable,
    policy: Policy,
    planner: Planner,
    *,
    begin: int = 0,
    end: int | None = None,
    replan_every: int = 1,
) -> Replay:
    """Run `policy` (its plans made by `planner`) over rows [begin, end) of `series`.

    Rows before `begin` serve as history for persistence forecasts; rows after `end` only as
    the horizon's look-ahead. Re-plans every `replan_every` steps (1: every step) and applies
    the current plan's step in between.
    """
    wall0 = time.perf_counter()
    n_rows = len(series)
    end = n_rows if end is None else min(end, n_rows)
    if not 0 <= begin < end:
        raise ValueError(f"empty replay range [{begin}, {end})")
    step = series.step
    dt_h = step.total_seconds() / 3600
    h_steps = max(1, round(home.horizon / step))
    day_steps = max(1, round(timedelta(days=1) / step))
    t_first = series.times[begin]
    t_last = series.times[end - 1] + step
    states = _init_states(home, t_first, t_last + home.horizon)
    outcome = Outcome()
    m = end - begin
    z = np.zeros(m)
    flexible, battery_w, imp, exp, curt = z.copy(), z.copy(), z.copy(), z.copy(), z.copy()
    dev_power = {name: z.copy() for name in states}
    bat_soc = {name: z.copy() for name, st in states.items() if st.kind == "battery"}
    statuses: dict[str, int] = {}
    solves = 0
    plan_seconds = 0.0
    wear = 0.0
    curtailable = bool(home.settings.get("generation_curtailable", True))
    export_limit = _grid_limit(home, "export_limit_w")
    carbon = series.carbon_g_per_kwh
    batteries = [st for st in states.values() if st.kind == "battery"]
    e_start = sum(st.soc * float(st.spec["capacity_kwh"]) for st in batteries)
    plan: Plan | None = None
    plan_row = 0
    plan_names: set[str] = set()
    fc_load: list[float] = []
    fc_pv: list[float] = []
    for t in range(begin, end):
        now = series.times[t]
        _advance_requests(states, now, outcome)
        offset = t - plan_row
        if plan is None or offset >= replan_every or offset >= plan.n_steps:
            n = min(h_steps, n_rows - t)
            if policy == "optimizer":
                inputs = {
                    "import_price": _known(series, "price_import", t, n),
                    "export_price": _known(series, "price_export", t, n),
                    "base_load_w": [
                        max(0.0, v) for v in _forecast(series, "load_w", t, n, day_steps)
                    ],
                    "pv_w": [max(0.0, v) for v in _forecast(series, "pv_w", t, n, day_steps)],
                }
            else:
                inputs = {
                    "import_price": series.price_import[t : t + n].tolist(),
                    "export_price": series.price_export[t : t + n].tolist(),
                    "base_load_w": np.maximum(series.load_w[t : t + n], 0.0).tolist(),
                    "pv_w": np.maximum(series.pv_w[t : t + n], 0.0).tolist(),
                }
            carbon_kg = None if carbon is None else (carbon[t : t + n] / 1000).tolist()
            devices = _device_dicts(states, home, now, step, n)
            problem = problem_from_dict(
                _problem_dict(
                    home, now, step, n, series=inputs, carbon_kg=carbon_kg, devices=devices
                )
            )
            p0 = time.perf_counter()
            plan = planner(problem)
            plan_seconds += time.perf_counter() - p0
            solves += 1
            statuses[plan.status] = statuses.get(plan.status, 0) + 1
            plan_row = t
            offset = 0
            plan_names = {d.name for d in plan.devices}
            fc_load = [float(x) for x in inputs["base_load_w"]]
            fc_pv = [float(x) for x in inputs["pv_w"]]
        assert plan is not None
        i = t - begin
        after = now + step
        total_flex = 0.0
        total_batt = 0.0
        # the planned devices first; the batteries then take the forecast error of the net
        # load (and of any device that could not follow its plan) as engine/follow.py says
        error = (float(series.load_w[t]) - fc_load[offset]) - (
            float(series.pv_w[t]) - fc_pv[offset]
        )
        for name, st in states.items():
            if st.kind == "battery":
                continue
            planned = float(plan.device(name).power_w[offset]) if name in plan_names else 0.0
            if st.kind == "ev":
                p = _apply_ev(st, planned, now, after, dt_h)
            elif st.kind == "appliance":
                p = _apply_appliance(
                    st, planned, now, plan=plan, name=name, offset=offset, outcome=outcome
                )
            elif st.kind == "interruptible":
                p = _apply_interruptible(st, planned, now, after, dt_h)
            else:
                p = _apply_thermal(st, planned, now, step=step, home=home, outcome=outcome)
            error += p - planned
            total_flex += p
            dev_power[name][i] = p
        follower = True
        for name, st in states.items():
            if st.kind != "battery":
                continue
            planned = float(plan.device(name).power_w[offset]) if name in plan_names else 0.0
            # what the dispatcher does live (engine/follow.py): the first battery keeps the
            # grid between zero and the planned exchange, the others keep to the plan; the
            # energy bounds are _apply_battery's
            g_p = float(plan.import_w[offset]) - float(plan.export_w[offset])
            target = planned
            if follower:
                target = battery_setpoint(
                    planned, g_p, g_p + error, max_charge_w=math.inf, max_discharge_w=math.inf
                )
                follower = False
            p, worn = _apply_battery(st, target, dt_h)
            error -= planned - p
            wear += worn
            total_batt += p
            bat_soc[name][i] = st.soc
            dev_power[name][i] = p
        net = float(series.load_w[t]) + total_flex + total_batt - float(series.pv_w[t])
        imp[i] = max(net, 0.0)
        surplus = max(-net, 0.0)
        limit = export_limit
        if curtailable and series.price_export[t] < 0:
            limit = 0.0  # nobody exports into a negative price when the inverter can curtail
        spill = min(max(surplus - limit, 0.0), float(series.pv_w[t]))
        exp[i] = surplus - spill
        curt[i] = spill
        flexible[i] = total_flex
        battery_w[i] = total_batt
    _advance_requests(states, t_last, outcome)
    _close_requests(states, t_last, outcome)
    e_end = sum(st.soc * float(st.spec["capacity_kwh"]) for st in batteries)
    eff = (
        statistics.fmean(float(st.spec.get("discharge_efficiency", 0.95)) for st in batteries)
        if batteries
        else 1.0
    )
    value = max(0.0, float(np.median(series.price_import[begin:end]))) * eff
    return Replay(
        policy=policy,
        times=series.times[begin:end],
        step=step,
        load_w=series.load_w[begin:end].copy(),
        pv_w=series.pv_w[begin:end].copy(),
        flexible_w=flexible,
        battery_w=battery_w,
        import_w=imp,
        export_w=exp,
        curtailed_w=curt,
        price_import=series.price_import[begin:end].copy(),
        price_export=series.price_export[begin:end].copy(),
        carbon_g_per_kwh=None if carbon is None else carbon[begin:end].copy(),
        device_power_w=dev_power,
        battery_soc=bat_soc,
        battery_energy_start_kwh=e_start,
        battery_energy_end_kwh=e_end,
        battery_value_per_kwh=value,
        wear_cost=wear,
        outcome=outcome,
        solves=solves,
        plan_seconds=plan_seconds,
        wall_seconds=time.perf_counter() - wall0,
        statuses=statuses,
    )


def _grid_limit(home: Home, key: str) -> float:
    grid = home.settings.get("grid")
    if isinstance(grid, Mapping):
        v = grid.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return math.inf


def _apply_battery(st: _DeviceState, p: float, dt_h: float) -> tuple[float, float]:
    """Follow the set point within the energy bounds; returns (AC power, wear cost)."""
    spec = st.spec
    cap = float(spec["capacity_kwh"])
    eta_c = float(spec.get("charge_efficiency", 0.95))
    eta_d = float(spec.get("discharge_efficiency", 0.95))
    lo = min(float(spec.get("soc_min", 0.0)), st.soc) * cap
    hi = max(float(spec.get("soc_max", 1.0)), st.soc) * cap
    p = min(p, float(spec["max_charge_w"]))
    p = max(p, -float(spec.get("max_discharge_w", spec["max_charge_w"])))
    energy = st.soc * cap
    if p >= 0:
        gain = min(p / 1000 * dt_h * eta_c, max(0.0, hi - energy))
        p = gain / eta_c / dt_h * 1000
        energy += gain
    else:
        take = min(-p / 1000 * dt_h / eta_d, max(0.0, energy - lo))
        p = -take * eta_d / dt_h * 1000
        energy -= take
    st.soc = energy / cap
    return p, float(spec.get("wear_cost_per_kwh", 0.0)) * abs(p) / 1000 * dt_h


def _apply_ev(st: _DeviceState, p: float, now: datetime, after: datetime, dt_h: float) -> float:
    active = [
        r
        for r in st.requests
        if not r.finished
        and (r.start is None or r.start < after)
        and (r.end is None or r.end > now)
    ]
    if not active or p <= 0:
        return 0.0
    eff = float(st.spec.get("efficiency", 0.9))
    active[0].done_kwh += p / 1000 * dt_h * eff
    return p


def _apply_appliance(
    st: _DeviceState,
    p: float,
    now: datetime,
    *,
    plan: Plan,
    name: str,
    offset: int,
    outcome: Outcome,
) -> float:
    if st.cursor >= len(st.requests):
        return 0.0
    r = st.requests[st.cursor]
    if r.started_at is None:
        dp = plan.device(name) if any(d.name == name for d in plan.devices) else None
        if dp is None or dp.start_step != offset:
            return 0.0
        r.started_at = now
        if r.end is not None:
            late = (now + _duration(st.spec) - r.end).total_seconds() / 3600
            outcome.cycles_late_h += max(0.0, late)
    return max(0.0, p)


def _apply_interruptible(
    st: _DeviceState, p: float, now: datetime, after: datetime, dt_h: float
) -> float:
    if st.cursor >= len(st.requests) or p <= 0:
        return 0.0
    r = st.requests[st.cursor]
    if (r.start is not None and r.start >= after) or (r.end is not None and r.end <= now):
        return 0.0
    r.done_kwh += p / 1000 * dt_h
    return p


def _apply_thermal(
    st: _DeviceState, p: float, now: datetime, *, step: timedelta, home: Home, outcome: Outcome
) -> float:
    spec = st.spec
    dt_h = step.total_seconds() / 3600

    def first(key: str, default: float) -> float:
        v = spec.get(key, default)
        return float(v[0]) if isinstance(v, list) else float(v)

    p = min(max(p, 0.0), float(spec["max_power_w"]))
    demand = first("heat_demand_w", 0.0)
    sched = home.schedules.get(str(spec["name"]))
    if sched is not None and sched.heat_demand_w_by_hour is not None:
        demand = sched.heat_demand_w_by_hour[now.astimezone(home.timezone).hour]
    cap = float(spec["heat_capacity_kwh_per_k"])
    ua = float(spec["loss_w_per_k"]) / 1000
    eff = first("efficiency", 1.0)
    amb = first("ambient_c", 20.0)
    if ua <= 0:
        temp = st.temperature + dt_h * (eff * p / 1000 - demand / 1000) / cap
    else:
        a = math.exp(-ua * dt_h / cap)
        temp = (
            a * st.temperature
            + (1 - a) * (amb - demand / 1000 / ua)
            + (1 - a) * eff * p / 1000 / ua
        )
    st.temperature = temp
    lo, hi = first("t_min_c", -math.inf), first("t_max_c", math.inf)
    outcome.comfort_kh += (max(0.0, lo - temp) + max(0.0, temp - hi)) * dt_h
    return p


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def savings_percent(baseline_cost: float, cost: float) -> float | None:
    """Savings against the baseline in percent of the baseline's cost (of its magnitude when the
    baseline earns money); None when the baseline cost is zero."""
    if abs(baseline_cost) < 1e-12:
        return None
    return (baseline_cost - cost) / abs(baseline_cost) * 100


def captured_share(baseline_cost: float, cost: float, perfect_cost: float) -> float | None:
    """Share of the perfect-foresight savings the policy captured (1.0 = all of them); None
    when perfect foresight saves nothing against the baseline."""
    possible = baseline_cost - perfect_cost
    if possible <= 1e-9:
        return None
    return (baseline_cost - cost) / possible


def metrics(r: Replay) -> dict[str, Any]:
    """Costs and energy shares of one replay.

    `total_cost` = energy bought minus energy sold, plus battery wear, minus the value of the
    energy the batteries gained over the replay (a loss when they ended lower), valued at the
    median import price times the discharge efficiency, as the planner values it.
    """
    h = r.step.total_seconds() / 3600 / 1000  # W per step -> kWh
    energy_cost = float(np.sum(r.import_w * r.price_import - r.export_w * r.price_export) * h)
    stored_delta = r.battery_energy_end_kwh - r.battery_energy_start_kwh
    total = energy_cost + r.wear_cost - stored_delta * r.battery_value_per_kwh
    imp = float(np.sum(r.import_w) * h)
    exp = float(np.sum(r.export_w) * h)
    pv = float(np.sum(r.pv_w) * h)
    curtailed = float(np.sum(r.curtailed_w) * h)
    consumption = float(np.sum(np.maximum(r.load_w, 0.0) + r.flexible_w) * h)
    pv_used = max(0.0, pv - exp - curtailed)
    co2 = (
        None
        if r.carbon_g_per_kwh is None
        else float(np.sum(r.import_w * r.carbon_g_per_kwh) * h / 1000)
    )
    return {
        "total_cost": total,
        "energy_cost": energy_cost,
        "wear_cost": r.wear_cost,
        "stored_energy_change_kwh": stored_delta,
        "import_kwh": imp,
        "export_kwh": exp,
        "pv_kwh": pv,
        "curtailed_kwh": curtailed,
        "consumption_kwh": consumption,
        "self_consumption": pv_used / pv if pv > 0 else None,
        "self_sufficiency": max(0.0, 1 - imp / consumption) if consumption > 0 else None,
        "peak_import_kw": float(np.max(r.import_w, initial=0.0)) / 1000,
        "co2_kg": co2,
        "unmet": r.outcome.as_dict(),
        "solves": r.solves,
        "plan_seconds": r.plan_seconds,
        "wall_seconds": r.wall_seconds,
        "statuses": dict(r.statuses),
    }


def summarize(
    policy: Policy,
    results: Mapping[str, Mapping[str, Any]],
    *,
    home: str,
    start: datetime,
    end: datetime,
    step: timedelta,
    horizon: timedelta,
    currency: str,
) -> dict[str, Any]:
    """One JSON summary: the chosen policy's metrics against the baseline and perfect foresight.

    `results` maps policy names to `metrics(...)` (or sums of them over several replays).
    """
    own = results[policy]
    base = results["baseline"]["total_cost"]
    perfect = results["perfect"]["total_cost"]
    cost = own["total_cost"]

    def rnd(x: float | None, nd: int = 4) -> float | None:
        return None if x is None else round(x, nd)

    share = captured_share(base, cost, perfect)
    return {
        "home": home,
        "policy": policy,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "step_minutes": _minutes(step),
        "horizon_hours": horizon.total_seconds() / 3600,
        "currency": currency,
        "total_cost": rnd(cost),
        "baseline_cost": rnd(base),
        "perfect_cost": rnd(perfect),
        "savings_pct": rnd(savings_percent(base, cost), 2),
        "perfect_savings_pct": rnd(savings_percent(base, perfect), 2),
        "captured_share": rnd(share, 3),
        "self_consumption": rnd(own["self_consumption"]),
        "self_sufficiency": rnd(own["self_sufficiency"]),
        "peak_import_kw": rnd(own["peak_import_kw"], 3),
        "co2_kg": rnd(own["co2_kg"], 2),
        "import_kwh": rnd(own["import_kwh"], 2),
        "export_kwh": rnd(own["export_kwh"], 2),
        "unmet": own["unmet"],
        "policies": {
            name: {k: (rnd(v, 4) if isinstance(v, float) else v) for k, v in m.items()}
            for name, m in results.items()
        },
    }


def combine(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Metrics of several replays added up (shares recomputed from the sums)."""
    keys = (
        "total_cost",
        "energy_cost",
        "wear_cost",
        "stored_energy_change_kwh",
        "import_kwh",
        "export_kwh",
        "pv_kwh",
        "curtailed_kwh",
        "consumption_kwh",
        "plan_seconds",
        "wall_seconds",
    )
    out: dict[str, Any] = {k: sum(float(p[k]) for p in parts) for k in keys}
    out["solves"] = sum(int(p["solves"]) for p in parts)
    pv_used = max(0.0, out["pv_kwh"] - out["export_kwh"] - out["curtailed_kwh"])
    out["self_consumption"] = pv_used / out["pv_kwh"] if out["pv_kwh"] > 0 else None
    out["self_sufficiency"] = (
        max(0.0, 1 - out["import_kwh"] / out["consumption_kwh"])
        if out["consumption_kwh"] > 0
        else None
    )
    out["peak_import_kw"] = max(float(p["peak_import_kw"]) for p in parts)
    co2 = [p["co2_kg"] for p in parts]
    out["co2_kg"] = None if any(c is None for c in co2) else sum(float(c) for c in co2)
    unmet: dict[str, float] = {}
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p["unmet"].items():
            unmet[k] = round(unmet.get(k, 0) + v, 3)
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + int(v)
    out["unmet"] = unmet
    out["statuses"] = statuses
    return out


def default_planner(policy: Policy, *, time_limit_s: float = 5.0, mip_gap: float = 1e-3) -> Planner:
    """The engine's planner for a policy: the MILP, or the baseline policy."""
    if policy == "baseline":
        from .baseline import baseline_plan

        return baseline_plan
    from .milp import solve

    def plan(problem: Problem) -> Plan:
        return solve(problem, time_limit_s=time_limit_s, mip_gap=mip_gap, marginal_prices=False)

    return plan


def history_rows(series: SeriesTable) -> int:
    """Rows a persistence forecast needs before the first planned row: one day, unless the
    series brings load and PV forecast columns."""
    if "load_w" in series.forecasts and "pv_w" in series.forecasts:
        return 0
    return max(1, round(timedelta(days=1) / series.step))


def clamp_windows(windows: Sequence[tuple[int, int]], first: int) -> list[tuple[int, int]]:
    """The windows with rows before `first` removed (empty ones dropped)."""
    out = [(max(a, first), b) for a, b in windows]
    return [(a, b) for a, b in out if a < b]


def run_backtest(
    home: Home,
    series: SeriesTable,
    policy: Policy = "optimizer",
    *,
    windows: Sequence[tuple[int, int]] | None = None,
    planners: Mapping[str, Planner] | None = None,
    time_limit_s: float = 5.0,
    mip_gap: float = 1e-3,
    replan_every: int = 1,
) -> tuple[dict[str, Any], dict[str, list[Replay]]]:
    """Replay `policy`, the baseline and perfect foresight over `windows` (row ranges; the
    whole series by default) and summarise. Returns (summary, replays by policy)."""
    windows = clamp_windows(windows or [(0, len(series))], history_rows(series))
    if not windows:
        raise SeriesFormatError(
            "the series is too short: persistence forecasts need one day of history before "
            "the first planned step (or load_forecast_w and pv_forecast_w columns)"
        )
    replays: dict[str, list[Replay]] = {}
    results: dict[str, dict[str, Any]] = {}
    order: tuple[Policy, ...] = (policy, "baseline", "perfect")
    for pol in dict.fromkeys(order):
        name = str(pol)
        planner = (planners or {}).get(name) or default_planner(
            pol, time_limit_s=time_limit_s, mip_gap=mip_gap
        )
        runs = [
            replay(home, series, pol, planner, begin=a, end=b, replan_every=replan_every)
            for a, b in windows
        ]
        replays[name] = runs
        results[name] = combine([metrics(r) for r in runs])
    first, last = windows[0][0], windows[-1][1]
    summary = summarize(
        policy,
        results,
        home=home.name,
        start=series.times[first],
        end=series.times[last - 1] + series.step,
        step=series.step,
        horizon=home.horizon,
        currency=str(home.settings.get("currency", "EUR")),
    )
    summary["windows"] = len(windows)
    summary["steps"] = sum(b - a for a, b in windows)
    return summary, replays


__all__ = [
    "POLICIES",
    "Home",
    "HomeFormatError",
    "Outcome",
    "Policy",
    "Replay",
    "Schedule",
    "SeriesFormatError",
    "SeriesTable",
    "captured_share",
    "clamp_windows",
    "combine",
    "history_rows",
    "home_from_dict",
    "metrics",
    "parse_series_rows",
    "read_series_csv",
    "replay",
    "run_backtest",
    "savings_percent",
    "summarize",
]


def month_windows(times: Sequence[Any], days: int, day_start: int = 0) -> list[tuple[int, int]]:
    """Row ranges of the first `days` days of every month in the series.

    A day runs from `day_start` o'clock to the same hour next day (local times expected). Pick
    an hour at which no request is open (an EV plugged overnight, a dishwasher window through
    the night): energy delivered into a request that is still open when a window ends is not
    valued, so a window cut through a night makes charging after its end look free.
    """
    windows: list[tuple[int, int]] = []
    start: int | None = None
    shift = timedelta(hours=day_start)
    for i, t in enumerate(times):
        inside = (t - shift).day <= days
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            windows.append((start, i))
            start = None
    if start is not None:
        windows.append((start, len(times)))
    return windows
