"""What a plan is worth: mode weights, penalties, derived requirements and cost accounting.

The MILP, the baseline policy and the greedy fallback all read their requirements from here
(which steps an EV is plugged, what a shiftable cycle draws per planning step, ...) and every
plan is priced by `assess`, so their costs compare like with like.

Modes (weights on the objective terms):
- cost: money only (energy, demand charge, battery wear); carbon is reported, not weighted.
- eco: money plus carbon price x emissions; without a carbon price, ECO_CARBON_PRICE is used.
- comfort: like cost, comfort-band breaches weigh 10 times more.
- away: like cost, comfort-band breaches weigh a tenth (the band may be left to save money).

Penalties (per unit of unmet requirement) scale with the prices of the problem so that they
dominate energy costs: REQUIREMENT = 10 x (the highest |import| + |export| + carbon cost per
kWh in the horizon) + 1 + 2 x demand charge / step hours, per kWh short.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .model import (
    Battery,
    Costs,
    DevicePlan,
    EVCharger,
    InterruptibleLoad,
    Mode,
    Problem,
    ShiftableAppliance,
    Shortfall,
    ThermalLoad,
)

ECO_CARBON_PRICE = 0.1
"""Carbon price (currency per kg CO2e) eco mode uses when the problem gives none."""

TOL_KWH = 1e-4
"""Shortfalls below this are rounding, not shortfalls."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the objective terms."""

    energy: float = 1.0
    demand: float = 1.0
    carbon: float = 0.0
    wear: float = 1.0
    comfort: float = 1.0
    requirement: float = 1.0


MODE_WEIGHTS: dict[Mode, Weights] = {
    "cost": Weights(),
    "eco": Weights(carbon=1.0),
    "comfort": Weights(comfort=10.0),
    "away": Weights(comfort=0.1),
}


@dataclass(frozen=True, slots=True)
class Coefficients:
    """Per-problem objective coefficients (currency per kWh unless named otherwise)."""

    dt: float
    weights: Weights
    carbon_price: float
    carbon: tuple[float, ...]
    """Carbon cost per kWh imported (unweighted)."""
    import_cost: tuple[float, ...]
    """Weighted objective per kWh imported: energy price plus weighted carbon cost."""
    export_cost: tuple[float, ...]
    """Weighted objective per kWh exported (minus the export price)."""
    requirement: float
    unserved: float
    spill: float


def coefficients(problem: Problem) -> Coefficients:
    """The objective coefficients of a problem."""
    w = MODE_WEIGHTS[problem.mode]
    n = problem.n_steps
    cp = problem.carbon_price_per_kg
    if problem.mode == "eco" and cp <= 0:
        cp = ECO_CARBON_PRICE
    ci = problem.carbon_intensity or (0.0,) * n
    carbon = tuple(cp * c for c in ci)
    imp = tuple(
        w.energy * p + w.carbon * c for p, c in zip(problem.import_price, carbon, strict=True)
    )
    exp = tuple(-w.energy * p for p in problem.export_price)
    scale = max(
        abs(a) + abs(b) + abs(c)
        for a, b, c in zip(problem.import_price, problem.export_price, carbon, strict=True)
    )
    dt = problem.step_hours
    req = 10 * scale + 1 + 2 * problem.grid.demand_charge_per_kw / dt
    return Coefficients(
        dt=dt,
        weights=w,
        carbon_price=cp,
        carbon=carbon,
        import_cost=imp,
        export_cost=exp,
        requirement=req * w.requirement,
        unserved=100 * req,
        spill=100 * req,
    )


# --------------------------------------------------------------------------------------------
# Derived requirements
# --------------------------------------------------------------------------------------------


def terminal_value(problem: Problem, battery: Battery) -> float:
    """Worth of one kWh left in `battery` at the horizon end (currency/kWh)."""
    if battery.terminal_value_per_kwh is not None:
        return battery.terminal_value_per_kwh
    return max(0.0, statistics.median(problem.import_price)) * battery.discharge_efficiency


def battery_bounds(battery: Battery) -> tuple[float, float]:
    """SoC bounds in kWh, widened to the initial SoC so the plan is always feasible."""
    cap = battery.capacity_kwh
    lo = min(battery.soc_min, battery.soc_initial) * cap
    hi = max(battery.soc_max, battery.soc_initial) * cap
    return lo, hi


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """An EV session on the planning grid: charging allowed in `steps`, `need_kwh` by their end."""

    steps: range
    need_kwh: float
    departure_step: int


def ev_sessions(problem: Problem, ev: EVCharger) -> list[SessionSpec]:
    """The EV's sessions inside the horizon, with what must be delivered inside it."""
    out: list[SessionSpec] = []
    for s in ev.sessions:
        if s.departure <= problem.start or s.plug_in >= problem.end:
            continue
        first = problem.step_ceil(s.plug_in)
        last = problem.step_floor(s.departure)
        need = s.energy_kwh
        if s.departure > problem.end:
            after_h = (s.departure - problem.end).total_seconds() / 3600
            need = max(0.0, need - ev.max_power_w / 1000 * ev.efficiency * after_h)
        if ev.power_step_w:
            # whole power steps deliver quanta: round the need up to one (keeps the MILP's
            # relaxation close to integral, the car gets at most one quantum more)
            quantum = ev.power_step_w / 1000 * ev.efficiency * problem.step_hours
            need = math.ceil(need / quantum - 1e-6) * quantum
        out.append(SessionSpec(range(first, max(first, last)), need, last))
    return out


def ev_power_levels(ev: EVCharger) -> tuple[float, float, float | None]:
    """(min, max, step) of the EV's charging power in kW; step None for continuous."""
    if ev.power_step_w:
        st = ev.power_step_w
        kmin = math.ceil(ev.min_power_w / st - 1e-9)
        kmax = math.floor(ev.max_power_w / st + 1e-9)
        return kmin * st / 1000, kmax * st / 1000, st / 1000
    return ev.min_power_w / 1000, ev.max_power_w / 1000, None


def plugged_steps(problem: Problem, ev: EVCharger) -> list[bool]:
    """Per step: whether the EV may charge."""
    plugged = [False] * problem.n_steps
    for s in ev_sessions(problem, ev):
        for t in s.steps:
            plugged[t] = True
    return plugged


def resample_profile(
    profile_w: tuple[float, ...], profile_step: float, step: float, offset: float
) -> tuple[float, ...]:
    """Average power (kW) of a profile per planning step, energy kept.

    Times in seconds: `profile_step` and `step` lengths, `offset` how far into the cycle the
    first planning step begins.
    """
    total = len(profile_w) * profile_step
    out: list[float] = []
    t0 = offset
    while t0 < total - 1e-9:
        t1 = t0 + step
        energy = 0.0
        i = max(0, int(t0 // profile_step))
        while i < len(profile_w) and i * profile_step < t1:
            a = max(t0, i * profile_step)
            b = min(t1, (i + 1) * profile_step)
            if b > a:
                energy += profile_w[i] * (b - a)
            i += 1
        out.append(energy / step / 1000)
        t0 = t1
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """A shiftable cycle on the planning grid.

    `profile_kw`: power per planning step of the cycle. `starts`: (step, late hours) of every
    start the plan may choose. `fixed_start`: a cycle already running or committed (its power
    is a fixed load from that step; -1 when it began before the horizon, with
    `fixed_profile_kw` holding the remainder). `required` cycles that are not run cost
    `not_run_penalty`; `late_per_hour` is the penalty per hour finished after the window.
    """

    profile_kw: tuple[float, ...]
    starts: tuple[tuple[int, float], ...]
    required: bool
    not_run_penalty: float
    late_per_hour: float
    run_value: float
    fixed_start: int | None = None
    fixed_profile_kw: tuple[float, ...] = ()
    deferred: bool = False
    """The window ends after the horizon and the cycle does not fit in it: no requirement now."""


def cycle_spec(problem: Problem, a: ShiftableAppliance, coef: Coefficients) -> CycleSpec:
    """Where the cycle may start and what it draws."""
    step_s = problem.step.total_seconds()
    prof_s = a.profile_step.total_seconds()
    profile = resample_profile(a.profile_w, prof_s, step_s, 0.0)
    length = len(profile)
    n = problem.n_steps
    energy = a.energy_kwh
    late_per_hour = coef.requirement * max(energy, 0.1) * 0.25
    horizon_h = n * coef.dt
    not_run = coef.requirement * max(energy, 0.1) * 2 + late_per_hour * horizon_h + 1
    if a.started_at is not None:
        if a.started_at + a.duration <= problem.start:
            return CycleSpec(profile, (), False, 0.0, 0.0, 0.0, deferred=True)
        if a.started_at < problem.start:
            offset = (problem.start - a.started_at).total_seconds()
            rest = resample_profile(a.profile_w, prof_s, step_s, offset)
            return CycleSpec(profile, (), False, 0.0, 0.0, 0.0, -1, rest[:n])
        k = problem.step_ceil(a.started_at)
        return CycleSpec(profile, (), False, 0.0, 0.0, 0.0, k, profile[: max(0, n - k)])
    e0 = problem.step_ceil(a.earliest_start)
    lf = problem.step_floor(a.latest_finish)
    beyond = a.latest_finish is not None and a.latest_finish > problem.end
    in_window = tuple((k, 0.0) for k in range(e0, min(lf, n) - length + 1))
    if in_window or not a.required:
        return CycleSpec(
            profile,
            in_window,
            a.required,
            not_run if a.required else 0.0,
            late_per_hour,
            a.run_value,
            deferred=not in_window and beyond,
        )
    if beyond or a.latest_finish is None:
        # the cycle does not fit before the horizon ends: a later plan will place it
        return CycleSpec(profile, (), False, 0.0, late_per_hour, 0.0, deferred=True)
    late = tuple((k, max(0.0, (k + length - lf) * coef.dt)) for k in range(e0, n - length + 1))
    return CycleSpec(profile, late, True, not_run, late_per_hour, a.run_value)


@dataclass(frozen=True, slots=True)
class RunSpec:
    """An interruptible load on the planning grid."""

    window: range
    need_kwh: float
    power_kw: float
    min_on: int
    min_off: int


def run_spec(problem: Problem, load: InterruptibleLoad) -> RunSpec:
    """Window, need inside the horizon and minimum on/off steps of an interruptible load."""
    first = problem.step_ceil(load.window_start)
    last = problem.step_floor(load.window_end)
    need = load.need_kwh
    if load.window_end is not None and load.window_end > problem.end:
        after_h = load.window_end - max(problem.end, load.window_start or problem.end)
        need = max(0.0, need - load.power_w / 1000 * after_h.total_seconds() / 3600)
    if load.window_end is not None and load.window_end <= problem.start:
        need = 0.0
    return RunSpec(
        range(first, max(first, last)),
        need,
        load.power_w / 1000,
        math.ceil(load.min_on / problem.step - 1e-9),
        math.ceil(load.min_off / problem.step - 1e-9),
    )


def thermal_dynamics(
    problem: Problem, h: ThermalLoad
) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """(a, b, c) with T[t] = a*T[t-1] + b[t] + c[t]*P_kW[t] (exact for piecewise-constant input)."""
    dt = problem.step_hours
    cap = h.heat_capacity_kwh_per_k
    ua = h.loss_w_per_k / 1000
    if ua <= 0:
        b = tuple(-dt * d / 1000 / cap for d in h.heat_demand_w)
        c = tuple(dt * e / cap for e in h.efficiency)
        return 1.0, b, c
    a = math.exp(-ua * dt / cap)
    b = tuple(
        (1 - a) * (amb - d / 1000 / ua) for amb, d in zip(h.ambient_c, h.heat_demand_w, strict=True)
    )
    c = tuple((1 - a) * e / ua for e in h.efficiency)
    return a, b, c


def comfort_penalty(coef: Coefficients, h: ThermalLoad) -> float:
    """Penalty per K*h outside the comfort band."""
    return coef.requirement * max(h.heat_capacity_kwh_per_k, 0.05) * coef.weights.comfort


def simulate_temperature(problem: Problem, h: ThermalLoad, power_w: list[float]) -> list[float]:
    """Temperatures at the end of each step for an electric power trajectory."""
    a, b, c = thermal_dynamics(problem, h)
    temp = h.t_initial_c
    out: list[float] = []
    for t, p in enumerate(power_w):
        temp = a * temp + b[t] + c[t] * p / 1000
        out.append(temp)
    return out


# --------------------------------------------------------------------------------------------
# Accounting
# --------------------------------------------------------------------------------------------


def assess(
    problem: Problem,
    *,
    import_w: tuple[float, ...],
    export_w: tuple[float, ...],
    curtailed_w: tuple[float, ...],
    unserved_w: tuple[float, ...],
    devices: tuple[DevicePlan, ...],
    coef: Coefficients | None = None,
) -> tuple[Costs, tuple[Shortfall, ...]]:
    """Costs and shortfalls of a plan (the single definition every planner is priced by)."""
    coef = coef or coefficients(problem)
    w = coef.weights
    dt = coef.dt
    n = problem.n_steps
    h = dt / 1000  # W -> kWh per step
    energy = sum(
        h * (i * pi - e * pe)
        for i, e, pi, pe in zip(
            import_w, export_w, problem.import_price, problem.export_price, strict=True
        )
    )
    ci = problem.carbon_intensity or (0.0,) * n
    emissions = sum(h * i * c for i, c in zip(import_w, ci, strict=True))
    peak = max(max(import_w, default=0.0), problem.grid.peak_floor_w)
    demand = problem.grid.demand_charge_per_kw * peak / 1000
    plans = {d.name: d for d in devices}
    wear = 0.0
    stored = 0.0
    shortfalls: list[Shortfall] = []

    def short(device: str, req: str, amount: float, unit: str, penalty: float) -> None:
        shortfalls.append(Shortfall(device, req, amount, unit, penalty))

    unserved = sum(unserved_w) * h
    if unserved > TOL_KWH:
        short("home", "load_not_served", unserved, "kWh", unserved * coef.unserved)
    if not problem.generation_curtailable:
        spilled = sum(curtailed_w) * h
        if spilled > TOL_KWH:
            short("home", "generation_spilled", spilled, "kWh", spilled * coef.spill)
    for dev in problem.devices:
        plan = plans.get(dev.name)
        power = plan.power_w if plan is not None else (0.0,) * n
        if isinstance(dev, Battery):
            wear += dev.wear_cost_per_kwh * sum(abs(p) for p in power) * h
            end_soc = plan.soc[-1] if plan is not None and plan.soc else dev.soc_initial
            stored += terminal_value(problem, dev) * end_soc * dev.capacity_kwh
        elif isinstance(dev, EVCharger):
            for s in ev_sessions(problem, dev):
                got = sum(power[t] for t in s.steps) * h * dev.efficiency
                gap = s.need_kwh - got
                if gap > TOL_KWH:
                    short(dev.name, "ev_energy", gap, "kWh", gap * coef.requirement)
        elif isinstance(dev, ShiftableAppliance):
            spec = cycle_spec(problem, dev, coef)
            if spec.fixed_start is not None or spec.deferred:
                continue
            start = plan.start_step if plan is not None else None
            if start is None:
                if spec.required:
                    short(dev.name, "cycle_not_run", 1.0, "cycles", spec.not_run_penalty)
                continue
            late = dict(spec.starts).get(start, 0.0)
            if late > 0:
                short(dev.name, "cycle_late", late, "h", late * spec.late_per_hour)
            if spec.run_value:
                # an optional cycle that runs earns its value (a negative penalty)
                shortfalls.append(
                    Shortfall(dev.name, "cycle_value", 1.0, "cycles", -spec.run_value)
                )
        elif isinstance(dev, InterruptibleLoad):
            rs = run_spec(problem, dev)
            got = sum(power[t] for t in rs.window) * h
            gap = rs.need_kwh - got
            if gap > TOL_KWH:
                short(dev.name, "run_energy", gap, "kWh", gap * coef.requirement)
        else:
            temps = (
                plan.temperature_c
                if plan is not None and plan.temperature_c
                else tuple(simulate_temperature(problem, dev, list(power)))
            )
            pen = comfort_penalty(coef, dev)
            low = sum(max(0.0, lo - x) for lo, x in zip(dev.t_min_c, temps, strict=True)) * dt
            high = sum(max(0.0, x - hi) for hi, x in zip(dev.t_max_c, temps, strict=True)) * dt
            if low > 1e-3:
                short(dev.name, "comfort_low", low, "K*h", low * pen)
            if high > 1e-3:
                short(dev.name, "comfort_high", high, "K*h", high * pen)
    penalties = sum(s.penalty for s in shortfalls)
    carbon = coef.carbon_price * emissions
    objective = (
        w.energy * energy
        + w.demand * demand
        + w.carbon * carbon
        + w.wear * wear
        + penalties
        - stored
    )
    costs = Costs(
        energy=energy,
        demand=demand,
        carbon=carbon,
        wear=wear,
        penalties=penalties,
        terminal_value=stored,
        objective=objective,
        emissions_kg=emissions,
        import_kwh=sum(import_w) * h,
        export_kwh=sum(export_w) * h,
        peak_import_w=peak,
    )
    return costs, tuple(s for s in shortfalls if s.requirement != "cycle_value")
