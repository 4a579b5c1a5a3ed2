"""Typed data of the engine: series, home snapshots, problems and plans.

Nothing here imports Home Assistant. Times are timezone-aware datetimes; power is in W,
energy in kWh and prices in the home's currency per kWh unless a name says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal, cast


@dataclass(frozen=True, slots=True)
class Interval:
    """A value that holds from `start` (inclusive) to `end` (exclusive), as a source gives it."""

    start: datetime
    end: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """Values on a regular grid: values[i] holds from start + i*step to start + (i+1)*step.

    A value of None means the source had nothing for that step.
    """

    start: datetime
    step: timedelta
    values: tuple[float | None, ...]

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("Series.start must be timezone-aware")
        if self.step <= timedelta(0):
            raise ValueError("Series.step must be positive")

    @property
    def end(self) -> datetime:
        """The end of the last step."""
        return step_time(self.start, self.step, len(self.values))

    def times(self) -> list[datetime]:
        """The start of every step."""
        return [step_time(self.start, self.step, i) for i in range(len(self.values))]

    def value_at(self, when: datetime) -> float | None:
        """The value of the step containing `when`, or None outside the series."""
        if when < self.start or when >= self.end:
            return None
        return self.values[int(steps_since(self.start, when, self.step))]

    def coverage(self) -> float:
        """Share of steps that have a value (0..1); 0 for an empty series."""
        if not self.values:
            return 0.0
        return sum(v is not None for v in self.values) / len(self.values)


@dataclass(frozen=True, slots=True)
class HomeSnapshot:
    """What the collector knows of the home at one moment, normalised to W and price per kWh."""

    time: datetime
    grid_power_w: float | None
    """Net grid power: positive is import, negative is export."""
    pv_power_w: float | None
    load_power_w: float | None
    """House load; derived from grid, PV and battery when no load sensor is configured."""
    import_price: float | None
    export_price: float | None
    import_prices: Series | None
    export_prices: Series | None
    pv_forecast_w: Series | None
    currency: str | None = None
    data_quality: float = 1.0
    """Share of the configured sources that gave a valid sample (0..1)."""
    stale_sources: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------
# Planning problem
#
# Conventions used by everything below:
# - A problem lives on a regular grid: step t covers [start + t*step, start + (t+1)*step).
# - Per-step series are plain tuples of floats with exactly `n_steps` values.
# - Power in W (positive = consumption for devices; for batteries positive = charging),
#   energy in kWh, prices in the problem's currency per kWh, temperatures in degrees C,
#   carbon intensity in kg CO2e per kWh imported, carbon price in currency per kg.
# - States (battery/EV state of charge, temperatures) in a plan are given at the END of
#   every step (n_steps values); the initial state is part of the problem.
# ---------------------------------------------------------------------------------------------

Mode = Literal["cost", "eco", "comfort", "away"]
MODES: tuple[Mode, ...] = ("cost", "eco", "comfort", "away")
MIN_STEP = timedelta(minutes=5)
MAX_STEP = timedelta(minutes=60)
MAX_HORIZON = timedelta(hours=48)


class ProblemError(ValueError):
    """A problem (or its JSON form) is invalid; the message names the offending field."""


class DeviceError(ProblemError):
    """A device of a problem is invalid."""


class SeriesError(ProblemError):
    """A per-step series has the wrong length or a value that is not a finite number."""


def step_time(start: datetime, step: timedelta, index: int) -> datetime:
    """Start of step `index` counted from `start` in real time, in `start`'s time zone.

    Aware arithmetic in one zone follows the wall clock, so across a clock change it would
    make one step an hour long or none; this counts in UTC and converts back.
    """
    return (start.astimezone(UTC) + step * index).astimezone(start.tzinfo)


def steps_since(start: datetime, when: datetime, step: timedelta) -> float:
    """How many steps of real time lie between `start` and `when` (fractional)."""
    return (when.timestamp() - start.timestamp()) / step.total_seconds()


def _check(cond: bool, message: str, exc: type[ProblemError] = ProblemError) -> None:
    if not cond:
        raise exc(message)


def _finite(values: Sequence[float], name: str) -> None:
    for i, v in enumerate(values):
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SeriesError(f"{name}[{i}] must be a finite number, got {v!r}")


@dataclass(frozen=True, slots=True)
class Grid:
    """The grid connection.

    Limits are per step (W, >= 0), so demand-response caps and export bans fit. The demand
    charge is in currency per kW of the highest import power of the billing period;
    `peak_floor_w` is the peak already reached in the period, so only a new, higher peak costs.
    """

    import_limit_w: tuple[float, ...]
    export_limit_w: tuple[float, ...]
    demand_charge_per_kw: float = 0.0
    peak_floor_w: float = 0.0

    def __post_init__(self) -> None:
        _finite(self.import_limit_w, "grid.import_limit_w")
        _finite(self.export_limit_w, "grid.export_limit_w")
        _check(min(self.import_limit_w, default=0) >= 0, "grid.import_limit_w must be >= 0")
        _check(min(self.export_limit_w, default=0) >= 0, "grid.export_limit_w must be >= 0")
        _check(self.demand_charge_per_kw >= 0, "grid.demand_charge_per_kw must be >= 0")
        _check(self.peak_floor_w >= 0, "grid.peak_floor_w must be >= 0")


@dataclass(frozen=True, slots=True)
class Battery:
    """A stationary battery behind the home's meter.

    State of charge as a fraction of `capacity_kwh` (0..1). Efficiencies apply one way each:
    stored = charged_ac * charge_efficiency, delivered_ac = taken * discharge_efficiency.
    `wear_cost_per_kwh` is charged per kWh of AC throughput (charge plus discharge).
    `terminal_value_per_kwh`: what a kWh stored at the end of the horizon is worth; None means
    the median import price times the discharge efficiency, so the plan does not empty the
    battery just because the horizon ends. An initial SoC outside [soc_min, soc_max] is
    allowed: the bound is widened to the initial value so the plan stays feasible.
    """

    kind: ClassVar[str] = "battery"
    name: str
    capacity_kwh: float
    max_charge_w: float
    max_discharge_w: float
    soc_initial: float
    soc_min: float = 0.0
    soc_max: float = 1.0
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    wear_cost_per_kwh: float = 0.0
    allow_grid_charge: bool = True
    allow_grid_export: bool = True
    terminal_value_per_kwh: float | None = None

    def __post_init__(self) -> None:
        p = f"battery {self.name!r}"
        _check(self.capacity_kwh > 0, f"{p}: capacity_kwh must be > 0", DeviceError)
        _check(self.max_charge_w >= 0, f"{p}: max_charge_w must be >= 0", DeviceError)
        _check(self.max_discharge_w >= 0, f"{p}: max_discharge_w must be >= 0", DeviceError)
        _check(
            0 <= self.soc_min <= self.soc_max <= 1,
            f"{p}: need 0 <= soc_min <= soc_max <= 1",
            DeviceError,
        )
        _check(0 <= self.soc_initial <= 1, f"{p}: soc_initial must be in 0..1", DeviceError)
        for eff in (self.charge_efficiency, self.discharge_efficiency):
            _check(0 < eff <= 1, f"{p}: efficiencies must be in (0, 1]", DeviceError)
        _check(self.wear_cost_per_kwh >= 0, f"{p}: wear_cost_per_kwh must be >= 0", DeviceError)


@dataclass(frozen=True, slots=True)
class EVSession:
    """One plugged-in window of an EV: it needs `energy_kwh` (into the car) by `departure`.

    A session that started before the horizon is plugged from the first step; a departure
    after the horizon end leaves only what cannot be delivered after the horizon as a need
    inside it.
    """

    plug_in: datetime
    departure: datetime
    energy_kwh: float

    def __post_init__(self) -> None:
        _check(self.plug_in.tzinfo is not None, "EV session times must be timezone-aware")
        _check(self.departure.tzinfo is not None, "EV session times must be timezone-aware")
        _check(self.departure > self.plug_in, "EV session: departure must be after plug_in")
        _check(self.energy_kwh >= 0, "EV session: energy_kwh must be >= 0")


@dataclass(frozen=True, slots=True)
class EVCharger:
    """An EV charger: charging is off or between `min_power_w` and `max_power_w` (AC, W).

    `power_step_w` (optional) restricts power to multiples of it, e.g. 3 phases x 230 V x 1 A
    = 690 W for a charger set in whole amperes. `efficiency` is the share of AC energy that
    reaches the car. `capacity_kwh` and `soc_initial` only serve to report the car's SoC.
    """

    kind: ClassVar[str] = "ev"
    name: str
    max_power_w: float
    sessions: tuple[EVSession, ...] = ()
    min_power_w: float = 0.0
    power_step_w: float | None = None
    efficiency: float = 0.9
    capacity_kwh: float | None = None
    soc_initial: float | None = None

    def __post_init__(self) -> None:
        p = f"EV charger {self.name!r}"
        _check(self.max_power_w >= 0, f"{p}: max_power_w must be >= 0", DeviceError)
        _check(
            0 <= self.min_power_w <= self.max_power_w,
            f"{p}: need 0 <= min_power_w <= max_power_w",
            DeviceError,
        )
        _check(
            self.power_step_w is None or self.power_step_w > 0,
            f"{p}: power_step_w must be > 0",
            DeviceError,
        )
        _check(0 < self.efficiency <= 1, f"{p}: efficiency must be in (0, 1]", DeviceError)
        _check(
            self.capacity_kwh is None or self.capacity_kwh > 0,
            f"{p}: capacity_kwh must be > 0",
            DeviceError,
        )
        _check(
            self.soc_initial is None or 0 <= self.soc_initial <= 1,
            f"{p}: soc_initial must be in 0..1",
            DeviceError,
        )


@dataclass(frozen=True, slots=True)
class ShiftableAppliance:
    """An uninterruptible cycle (dishwasher, washing machine) with a power profile.

    `profile_w[i]` is the power during [i*profile_step, (i+1)*profile_step) of the cycle; the
    engine resamples it to the planning step keeping energy. The cycle starts on a step
    boundary, at most once, between `earliest_start` and `latest_finish` (None: the horizon's
    ends). A required cycle that cannot fit its window runs late with a penalty per hour, or is
    reported as not run. An optional cycle runs only when its cost is below `run_value`.
    `started_at` marks a cycle already running: its remaining profile is a fixed load.
    """

    kind: ClassVar[str] = "appliance"
    name: str
    profile_w: tuple[float, ...]
    profile_step: timedelta = timedelta(minutes=15)
    earliest_start: datetime | None = None
    latest_finish: datetime | None = None
    required: bool = True
    run_value: float = 0.0
    started_at: datetime | None = None

    def __post_init__(self) -> None:
        p = f"appliance {self.name!r}"
        _check(len(self.profile_w) > 0, f"{p}: profile_w must not be empty", DeviceError)
        _finite(self.profile_w, f"{p}: profile_w")
        _check(min(self.profile_w) >= 0, f"{p}: profile_w must be >= 0", DeviceError)
        _check(self.profile_step > timedelta(0), f"{p}: profile_step must be > 0", DeviceError)
        _check(self.run_value >= 0, f"{p}: run_value must be >= 0", DeviceError)
        for t in (self.earliest_start, self.latest_finish, self.started_at):
            _check(t is None or t.tzinfo is not None, f"{p}: times must be tz-aware", DeviceError)

    @property
    def duration(self) -> timedelta:
        """Length of one cycle."""
        return self.profile_step * len(self.profile_w)

    @property
    def energy_kwh(self) -> float:
        """Energy of one cycle."""
        return sum(self.profile_w) / 1000 * self.profile_step.total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class InterruptibleLoad:
    """A load that runs at `power_w` or is off (pool pump), inside [window_start, window_end).

    It needs `energy_kwh`, or `run_hours` at `power_w` when energy is not given; once on it
    stays on for `min_on` and once off it stays off for `min_off`. None window ends mean the
    horizon's ends. A need that cannot be met is reported as a shortfall.
    """

    kind: ClassVar[str] = "interruptible"
    name: str
    power_w: float
    energy_kwh: float | None = None
    run_hours: float | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    min_on: timedelta = timedelta(0)
    min_off: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        p = f"interruptible load {self.name!r}"
        _check(self.power_w > 0, f"{p}: power_w must be > 0", DeviceError)
        _check(
            (self.energy_kwh is None) != (self.run_hours is None),
            f"{p}: give exactly one of energy_kwh and run_hours",
            DeviceError,
        )
        _check(
            (self.energy_kwh or 0) >= 0 and (self.run_hours or 0) >= 0,
            f"{p}: the need must be >= 0",
            DeviceError,
        )
        for t in (self.window_start, self.window_end):
            _check(t is None or t.tzinfo is not None, f"{p}: times must be tz-aware", DeviceError)
        _check(self.min_on >= timedelta(0), f"{p}: min_on must be >= 0", DeviceError)
        _check(self.min_off >= timedelta(0), f"{p}: min_off must be >= 0", DeviceError)

    @property
    def need_kwh(self) -> float:
        """Energy needed in the window."""
        if self.energy_kwh is not None:
            return self.energy_kwh
        return (self.run_hours or 0.0) * self.power_w / 1000


@dataclass(frozen=True, slots=True)
class ThermalLoad:
    """A water heater or heat pump as a first-order thermal model.

    C dT/dt = efficiency * P_el - loss_w_per_k * (T - T_ambient) - heat_demand.
    `efficiency` is the COP per step (1.0 for a resistive element, ~3 for a heat pump);
    `heat_capacity_kwh_per_k` is C (a 200 l tank: 0.233 kWh/K). The comfort band
    [t_min_c, t_max_c] per step is soft; a breach costs a penalty per K*h and is reported.
    Electric power is off or in [min_power_w, max_power_w].
    """

    kind: ClassVar[str] = "thermal"
    name: str
    max_power_w: float
    heat_capacity_kwh_per_k: float
    loss_w_per_k: float
    t_initial_c: float
    t_min_c: tuple[float, ...]
    t_max_c: tuple[float, ...]
    ambient_c: tuple[float, ...]
    heat_demand_w: tuple[float, ...]
    efficiency: tuple[float, ...]
    min_power_w: float = 0.0

    def __post_init__(self) -> None:
        p = f"thermal load {self.name!r}"
        _check(self.max_power_w >= 0, f"{p}: max_power_w must be >= 0", DeviceError)
        _check(
            0 <= self.min_power_w <= self.max_power_w,
            f"{p}: need 0 <= min_power_w <= max_power_w",
            DeviceError,
        )
        _check(self.heat_capacity_kwh_per_k > 0, f"{p}: heat capacity must be > 0", DeviceError)
        _check(self.loss_w_per_k >= 0, f"{p}: loss_w_per_k must be >= 0", DeviceError)
        _check(math.isfinite(self.t_initial_c), f"{p}: t_initial_c must be finite", DeviceError)
        for name in ("t_min_c", "t_max_c", "ambient_c", "heat_demand_w", "efficiency"):
            _finite(getattr(self, name), f"{p}: {name}")
        _check(
            all(lo <= hi for lo, hi in zip(self.t_min_c, self.t_max_c, strict=False)),
            f"{p}: t_min_c must be <= t_max_c",
            DeviceError,
        )
        _check(min(self.efficiency, default=1) > 0, f"{p}: efficiency must be > 0", DeviceError)


Device = Battery | EVCharger | ShiftableAppliance | InterruptibleLoad | ThermalLoad
DEVICE_TYPES: dict[str, type[Any]] = {
    "battery": Battery,
    "ev": EVCharger,
    "appliance": ShiftableAppliance,
    "interruptible": InterruptibleLoad,
    "thermal": ThermalLoad,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A home over a planning horizon: what the MILP, the baseline and the greedy plan take.

    `n_steps` steps of `step` (5 to 60 min) from `start` (tz-aware), at most 48 h. All series
    have exactly `n_steps` values: prices (currency/kWh, may be negative), base load and
    generation forecasts (W, >= 0), carbon intensity (kg/kWh of import; None: not known).
    `generation_curtailable`: PV/wind may be curtailed for free (else curtailment is penalised).
    `mode` picks the objective weights (see engine/modes.py). Device names must be unique.
    """

    start: datetime
    step: timedelta
    n_steps: int
    import_price: tuple[float, ...]
    export_price: tuple[float, ...]
    base_load_w: tuple[float, ...]
    grid: Grid
    pv_w: tuple[float, ...] = ()
    wind_w: tuple[float, ...] = ()
    devices: tuple[Device, ...] = ()
    carbon_intensity: tuple[float, ...] | None = None
    carbon_price_per_kg: float = 0.0
    mode: Mode = "cost"
    currency: str = "EUR"
    generation_curtailable: bool = True
    name: str = "home"

    def __post_init__(self) -> None:
        _check(self.start.tzinfo is not None, "start must be timezone-aware")
        _check(
            MIN_STEP <= self.step <= MAX_STEP,
            f"step must be between 5 and 60 minutes, got {self.step}",
        )
        _check(self.n_steps >= 1, "n_steps must be >= 1")
        _check(
            self.step * self.n_steps <= MAX_HORIZON,
            f"horizon {self.step * self.n_steps} exceeds 48 h",
        )
        n = self.n_steps
        series: dict[str, tuple[float, ...] | None] = {
            "import_price": self.import_price,
            "export_price": self.export_price,
            "base_load_w": self.base_load_w,
            "pv_w": self.pv_w or None,
            "wind_w": self.wind_w or None,
            "carbon_intensity": self.carbon_intensity,
            "grid.import_limit_w": self.grid.import_limit_w,
            "grid.export_limit_w": self.grid.export_limit_w,
        }
        for name, values in series.items():
            if values is None:
                continue
            if len(values) != n:
                raise SeriesError(f"{name} has {len(values)} values, expected n_steps={n}")
            _finite(values, name)
        for name in ("base_load_w", "pv_w", "wind_w"):
            _check(min(getattr(self, name), default=0) >= 0, f"{name} must be >= 0", SeriesError)
        _check(self.carbon_price_per_kg >= 0, "carbon_price_per_kg must be >= 0")
        _check(self.mode in MODES, f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        names = [d.name for d in self.devices]
        dupes = sorted({x for x in names if names.count(x) > 1})
        _check(not dupes, f"device names must be unique: {', '.join(dupes)}", DeviceError)
        for d in self.devices:
            if isinstance(d, ThermalLoad):
                for fname in ("t_min_c", "t_max_c", "ambient_c", "heat_demand_w", "efficiency"):
                    if len(getattr(d, fname)) != n:
                        raise SeriesError(f"thermal load {d.name!r}: {fname} needs {n} values")

    @property
    def step_hours(self) -> float:
        """Step length in hours."""
        return self.step.total_seconds() / 3600

    @property
    def end(self) -> datetime:
        """End of the horizon."""
        return step_time(self.start, self.step, self.n_steps)

    @property
    def generation_w(self) -> tuple[float, ...]:
        """PV plus wind forecast per step (W)."""
        n = self.n_steps
        pv = self.pv_w or (0.0,) * n
        wind = self.wind_w or (0.0,) * n
        return tuple(a + b for a, b in zip(pv, wind, strict=True))

    def time_of(self, step: int) -> datetime:
        """Start of step `step`."""
        return step_time(self.start, self.step, step)

    def step_ceil(self, when: datetime | None, default: int = 0) -> int:
        """First step starting at or after `when`, clamped to 0..n_steps."""
        if when is None:
            return default
        k = math.ceil(steps_since(self.start, when, self.step) - 1e-9)
        return max(0, min(self.n_steps, k))

    def step_floor(self, when: datetime | None, default: int | None = None) -> int:
        """Number of whole steps that end at or before `when`, clamped to 0..n_steps."""
        if when is None:
            return self.n_steps if default is None else default
        k = math.floor(steps_since(self.start, when, self.step) + 1e-9)
        return max(0, min(self.n_steps, k))


# ---------------------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------------------

PlanStatus = Literal["optimal", "feasible", "baseline", "fallback"]


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """What one device does per step.

    `power_w`: consumption (W); for a battery positive is charging, negative discharging.
    `on`: on/off per step for switched devices (EV, appliance, interruptible, thermal).
    `start_step`/`start`: when a shiftable cycle starts (None: not run in the horizon).
    `soc`: battery or EV state of charge (0..1) at the end of each step.
    `energy_kwh`: EV energy delivered into the car by the end of each step (cumulative).
    `temperature_c`: thermal load temperature at the end of each step.
    """

    name: str
    kind: str
    power_w: tuple[float, ...]
    on: tuple[bool, ...] | None = None
    start_step: int | None = None
    start: datetime | None = None
    soc: tuple[float, ...] | None = None
    energy_kwh: tuple[float, ...] | None = None
    temperature_c: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Costs:
    """Cost accounting of a plan, in the problem's currency.

    `energy` = sum(import price x import - export price x export); `demand` = demand charge x
    the new peak (kW, at least the floor); `carbon` = carbon price used x `emissions_kg`;
    `wear` = battery throughput cost; `penalties` = weighted penalties of unmet requirements;
    `terminal_value` = worth of the energy left in batteries (a credit). `objective` is what
    the optimiser minimises: the mode-weighted sum of the terms minus the terminal value.
    """

    energy: float
    demand: float
    carbon: float
    wear: float
    penalties: float
    terminal_value: float
    objective: float
    emissions_kg: float
    import_kwh: float
    export_kwh: float
    peak_import_w: float


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A requirement the plan could not meet, and by how much (`amount` in `unit`).

    `requirement` keys: ev_energy (kWh), cycle_late (h), cycle_not_run (cycles),
    run_energy (kWh), comfort_low / comfort_high (K*h), load_not_served (kWh),
    generation_spilled (kWh, only when generation is not curtailable).
    """

    device: str
    requirement: str
    amount: float
    unit: str
    penalty: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """A short text a user can read, plus a key and parameters to translate it."""

    device: str
    key: str
    params: Mapping[str, str | float | int]
    text: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The engine's answer for one problem.

    Per-step grid flows (W): `import_w`, `export_w`, `curtailed_w` (generation not used),
    `unserved_w` (base load the import limit could not serve). `status`: "optimal" (within
    the MIP gap), "feasible" (time limit hit, best solution found), "baseline" (the baseline
    policy was at least as good and is returned) or "fallback" (greedy plan, solver missing,
    failed or timed out). `marginal_price` (currency/kWh per step) is the dual of the energy
    balance with the binaries fixed; None when not computed. `savings` = baseline objective
    minus this plan's objective.
    """

    start: datetime
    step: timedelta
    n_steps: int
    status: PlanStatus
    solver: str
    import_w: tuple[float, ...]
    export_w: tuple[float, ...]
    curtailed_w: tuple[float, ...]
    unserved_w: tuple[float, ...]
    devices: tuple[DevicePlan, ...]
    costs: Costs
    shortfalls: tuple[Shortfall, ...] = ()
    baseline_costs: Costs | None = None
    savings: float | None = None
    marginal_price: tuple[float, ...] | None = None
    explanations: tuple[Explanation, ...] = ()
    mode: Mode = "cost"
    currency: str = "EUR"
    build_time_s: float = 0.0
    solve_time_s: float = 0.0
    mip_gap: float | None = None
    message: str = ""

    def device(self, name: str) -> DevicePlan:
        """The plan of the device called `name`."""
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def times(self) -> list[datetime]:
        """Start of every step."""
        return [step_time(self.start, self.step, i) for i in range(self.n_steps)]


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


class _Reader:
    """Reads one JSON object with typed accessors and error messages that name the field."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ProblemError(f"{path or 'problem'} must be an object")
        self.data = cast(Mapping[str, Any], data)
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def num(self, key: str, default: float | None = None) -> float:
        v = self.data.get(key)
        if v is None:
            if default is None:
                raise ProblemError(f"{self._name(key)} is required")
            return default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ProblemError(f"{self._name(key)} must be a finite number, got {v!r}")
        return float(v)

    def opt_num(self, key: str) -> float | None:
        return self.num(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        v = self.num(key)
        if v != int(v):
            raise ProblemError(f"{self._name(key)} must be a whole number")
        return int(v)

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise ProblemError(f"{self._name(key)} must be true or false")
        return v

    def text(self, key: str, default: str | None = None) -> str:
        v = self.data.get(key)
        if v is None:
            if default is None:
                raise ProblemError(f"{self._name(key)} is required")
            return default
        if not isinstance(v, str):
            raise ProblemError(f"{self._name(key)} must be a string")
        return v

    def time(self, key: str) -> datetime:
        v = self.text(key)
        try:
            t = datetime.fromisoformat(v)
        except ValueError as err:
            raise ProblemError(f"{self._name(key)}: not an ISO 8601 time: {v!r}") from err
        if t.tzinfo is None:
            raise ProblemError(f"{self._name(key)} needs a UTC offset, got {v!r}")
        return t

    def opt_time(self, key: str) -> datetime | None:
        return self.time(key) if self.has(key) else None

    def minutes(self, key: str, default: float = 0.0) -> timedelta:
        return timedelta(minutes=self.num(key, default))

    def series(self, key: str, n: int, default: float | None = None) -> tuple[float, ...]:
        """A number (constant) or a list of at least n numbers (extra values are dropped)."""
        v = self.data.get(key)
        if v is None:
            if default is None:
                raise ProblemError(f"{self._name(key)} is required")
            return (default,) * n
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (self.num(key),) * n
        if not isinstance(v, list):
            raise ProblemError(f"{self._name(key)} must be a number or a list of numbers")
        if len(v) < n:
            raise SeriesError(f"{self._name(key)} has {len(v)} values, need {n}")
        out = []
        for i, x in enumerate(v[:n]):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise SeriesError(f"{self._name(key)}[{i}] must be a finite number, got {x!r}")
            out.append(float(x))
        return tuple(out)

    def items(self, key: str) -> list[_Reader]:
        v = self.data.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise ProblemError(f"{self._name(key)} must be a list")
        return [_Reader(x, f"{self._name(key)}[{i}]") for i, x in enumerate(v)]


def _device_from(r: _Reader, n: int) -> Device:
    kind = r.text("kind")
    name = r.text("name")
    if kind == "battery":
        return Battery(
            name=name,
            capacity_kwh=r.num("capacity_kwh"),
            max_charge_w=r.num("max_charge_w"),
            max_discharge_w=r.num("max_discharge_w", r.num("max_charge_w")),
            soc_initial=r.num("soc_initial"),
            soc_min=r.num("soc_min", 0.0),
            soc_max=r.num("soc_max", 1.0),
            charge_efficiency=r.num("charge_efficiency", 0.95),
            discharge_efficiency=r.num("discharge_efficiency", 0.95),
            wear_cost_per_kwh=r.num("wear_cost_per_kwh", 0.0),
            allow_grid_charge=r.flag("allow_grid_charge", True),
            allow_grid_export=r.flag("allow_grid_export", True),
            terminal_value_per_kwh=r.opt_num("terminal_value_per_kwh"),
        )
    if kind == "ev":
        if r.has("max_current_a"):
            # power from current: amperes x phases x volts, in whole-ampere steps
            unit = r.num("phases", 3) * r.num("voltage_v", 230)
            max_w = r.num("max_current_a") * unit
            min_w = r.num("min_current_a", 0.0) * unit
            step_w: float | None = unit
        else:
            max_w = r.num("max_power_w")
            min_w = r.num("min_power_w", 0.0)
            step_w = r.opt_num("power_step_w")
        sessions = tuple(
            EVSession(
                plug_in=s.time("plug_in"),
                departure=s.time("departure"),
                energy_kwh=s.num("energy_kwh"),
            )
            for s in r.items("sessions")
        )
        return EVCharger(
            name=name,
            max_power_w=max_w,
            min_power_w=min_w,
            power_step_w=step_w,
            sessions=sessions,
            efficiency=r.num("efficiency", 0.9),
            capacity_kwh=r.opt_num("capacity_kwh"),
            soc_initial=r.opt_num("soc_initial"),
        )
    if kind == "appliance":
        profile = r.data.get("profile_w")
        if not isinstance(profile, list) or not profile:
            raise DeviceError(f"{r.path}.profile_w must be a non-empty list of numbers")
        return ShiftableAppliance(
            name=name,
            profile_w=r.series("profile_w", len(profile)),
            profile_step=r.minutes("profile_step_minutes", 15),
            earliest_start=r.opt_time("earliest_start"),
            latest_finish=r.opt_time("latest_finish"),
            required=r.flag("required", True),
            run_value=r.num("run_value", 0.0),
            started_at=r.opt_time("started_at"),
        )
    if kind == "interruptible":
        return InterruptibleLoad(
            name=name,
            power_w=r.num("power_w"),
            energy_kwh=r.opt_num("energy_kwh"),
            run_hours=r.opt_num("run_hours"),
            window_start=r.opt_time("window_start"),
            window_end=r.opt_time("window_end"),
            min_on=r.minutes("min_on_minutes"),
            min_off=r.minutes("min_off_minutes"),
        )
    if kind == "thermal":
        return ThermalLoad(
            name=name,
            max_power_w=r.num("max_power_w"),
            min_power_w=r.num("min_power_w", 0.0),
            heat_capacity_kwh_per_k=r.num("heat_capacity_kwh_per_k"),
            loss_w_per_k=r.num("loss_w_per_k"),
            t_initial_c=r.num("t_initial_c"),
            t_min_c=r.series("t_min_c", n),
            t_max_c=r.series("t_max_c", n),
            ambient_c=r.series("ambient_c", n, 20.0),
            heat_demand_w=r.series("heat_demand_w", n, 0.0),
            efficiency=r.series("efficiency", n, 1.0),
        )
    raise DeviceError(f"{r.path}.kind must be one of {', '.join(DEVICE_TYPES)}, got {kind!r}")


def problem_from_dict(d: Mapping[str, Any]) -> Problem:
    """Build a Problem from its JSON form (the format the CLI reads).

    Top level: start (ISO 8601 with offset), step_minutes, n_steps or horizon_hours,
    import_price, export_price (default 0), base_load_w, pv_w, wind_w (default 0),
    carbon_intensity (kg/kWh, optional), carbon_price_per_kg, mode, currency, name,
    generation_curtailable, grid {import_limit_w, export_limit_w, demand_charge_per_kw,
    peak_floor_w}, devices [{kind, name, ...}]. A series is a number (constant) or a list of
    at least n_steps numbers. Device fields are the dataclass fields; durations are given in
    minutes (`profile_step_minutes`, `min_on_minutes`, `min_off_minutes`); an EV may give
    `min_current_a`/`max_current_a`/`phases`/`voltage_v` instead of powers.
    Raises ProblemError (a ValueError) naming the offending field.
    """
    r = _Reader(d, "")
    start = r.time("start")
    step = r.minutes("step_minutes", 15)
    if step <= timedelta(0):
        raise ProblemError("step_minutes must be > 0")
    if r.has("n_steps"):
        n = r.integer("n_steps")
    else:
        n = round(timedelta(hours=r.num("horizon_hours", 24)) / step)
    if n < 1:
        raise ProblemError("the horizon must hold at least one step")
    g = _Reader(d.get("grid", {}), "grid")
    grid = Grid(
        import_limit_w=g.series("import_limit_w", n, 1e5),
        export_limit_w=g.series("export_limit_w", n, 1e5),
        demand_charge_per_kw=g.num("demand_charge_per_kw", 0.0),
        peak_floor_w=g.num("peak_floor_w", 0.0),
    )
    mode = r.text("mode", "cost")
    if mode not in MODES:
        raise ProblemError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return Problem(
        start=start,
        step=step,
        n_steps=n,
        import_price=r.series("import_price", n),
        export_price=r.series("export_price", n, 0.0),
        base_load_w=r.series("base_load_w", n, 0.0),
        pv_w=r.series("pv_w", n, 0.0),
        wind_w=r.series("wind_w", n, 0.0),
        grid=grid,
        devices=tuple(_device_from(x, n) for x in r.items("devices")),
        carbon_intensity=r.series("carbon_intensity", n) if r.has("carbon_intensity") else None,
        carbon_price_per_kg=r.num("carbon_price_per_kg", 0.0),
        mode=mode,
        currency=r.text("currency", "EUR"),
        generation_curtailable=r.flag("generation_curtailable", True),
        name=r.text("name", "home"),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds() / 60
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in fields(value):
            v = getattr(value, f.name)
            key = f"{f.name}_minutes" if isinstance(v, timedelta) else f.name
            out[key] = _jsonable(v)
        kind = getattr(type(value), "kind", None)
        if isinstance(kind, str) and "kind" not in out:
            out = {"kind": kind, **out}
        return out
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data: datetimes ISO 8601 with offset, durations in minutes
    (`step_minutes`), W/kWh/currency as in the dataclasses, plus `times` (start of each step).
    """
    out = cast(dict[str, Any], _jsonable(plan))
    out["times"] = [t.isoformat() for t in plan.times()]
    return out


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The problem as JSON-ready data that `problem_from_dict` reads back."""
    return cast(dict[str, Any], _jsonable(problem))


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(math.nan if v is None else float(v) for v in values)


def _opt_floats(values: Any) -> tuple[float, ...] | None:
    return None if values is None else _floats(values)


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ProblemError(f"{value!r} has no UTC offset")
    return parsed


def _costs(d: Mapping[str, Any]) -> Costs:
    return Costs(
        **{f.name: math.nan if d.get(f.name) is None else float(d[f.name]) for f in fields(Costs)}
    )


def plan_from_dict(d: Mapping[str, Any]) -> Plan:
    """Inverse of `plan_to_dict` (the derived `times` are ignored).

    A non-finite number, written as null, reads back as NaN (None where the field may be
    None). Raises ProblemError (a ValueError) or KeyError on data that is not a plan.
    """
    devices = tuple(
        DevicePlan(
            name=str(dev["name"]),
            kind=str(dev["kind"]),
            power_w=_floats(dev["power_w"]),
            on=None if dev.get("on") is None else tuple(bool(v) for v in dev["on"]),
            start_step=None if dev.get("start_step") is None else int(dev["start_step"]),
            start=None if dev.get("start") is None else _time(dev["start"]),
            soc=_opt_floats(dev.get("soc")),
            energy_kwh=_opt_floats(dev.get("energy_kwh")),
            temperature_c=_opt_floats(dev.get("temperature_c")),
        )
        for dev in d["devices"]
    )
    baseline = d.get("baseline_costs")
    gap = d.get("mip_gap")
    savings = d.get("savings")
    return Plan(
        start=_time(d["start"]),
        step=timedelta(minutes=float(d["step_minutes"])),
        n_steps=int(d["n_steps"]),
        status=d["status"],
        solver=str(d["solver"]),
        import_w=_floats(d["import_w"]),
        export_w=_floats(d["export_w"]),
        curtailed_w=_floats(d["curtailed_w"]),
        unserved_w=_floats(d["unserved_w"]),
        devices=devices,
        costs=_costs(d["costs"]),
        shortfalls=tuple(
            Shortfall(
                device=str(s["device"]),
                requirement=str(s["requirement"]),
                amount=float(s["amount"]),
                unit=str(s["unit"]),
                penalty=float(s["penalty"]),
            )
            for s in d.get("shortfalls", ())
        ),
        baseline_costs=None if baseline is None else _costs(baseline),
        savings=None if savings is None else float(savings),
        marginal_price=_opt_floats(d.get("marginal_price")),
        explanations=tuple(
            Explanation(
                device=str(e["device"]),
                key=str(e["key"]),
                params=dict(e.get("params", {})),
                text=str(e["text"]),
            )
            for e in d.get("explanations", ())
        ),
        mode=d.get("mode", "cost"),
        currency=str(d.get("currency", "EUR")),
        build_time_s=float(d.get("build_time_s", 0.0)),
        solve_time_s=float(d.get("solve_time_s", 0.0)),
        mip_gap=None if gap is None else float(gap),
        message=str(d.get("message", "")),
    )
