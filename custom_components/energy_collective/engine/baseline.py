"""The baseline policy (what a home without an energy manager does) and the step simulator.

Baseline: every cycle starts at its earliest allowed start, an EV charges at full power from
plug-in until its need is met, an interruptible load runs from its window start until its
need is met, a thermal load heats just enough to stay at the bottom of its comfort band, and
batteries charge from surplus generation and discharge to cover the load (self-consumption).
The simulator respects the grid limits like a load manager would: when the import limit would
be exceeded it lowers EV and then thermal power, and only then leaves load unserved; surplus
beyond the export limit is curtailed. The greedy fallback uses the same simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from .model import (
    Battery,
    DevicePlan,
    EVCharger,
    InterruptibleLoad,
    Plan,
    PlanStatus,
    Problem,
    ShiftableAppliance,
    ThermalLoad,
)
from .modes import (
    assess,
    battery_bounds,
    coefficients,
    cycle_spec,
    ev_power_levels,
    ev_sessions,
    run_spec,
    thermal_dynamics,
)


@dataclass
class Decisions:
    """What a policy decided ahead of the simulation.

    `starts`: cycle start step per appliance (None: not run). `ev_power_w`: EV power per
    step (None: charge as soon as plugged, at full power, until the need is met).
    `run_on`: on/off per step of interruptible loads (None: from the window start).
    """

    starts: dict[str, int | None] = field(default_factory=dict)
    ev_power_w: dict[str, list[float]] = field(default_factory=dict)
    run_on: dict[str, list[bool]] = field(default_factory=dict)


def soc_trajectory(problem: Problem, b: Battery, power_w: list[float]) -> list[float]:
    """Battery SoC (0..1) at the end of each step for a power trajectory (+ charging)."""
    h = problem.step_hours / 1000 / b.capacity_kwh
    soc = b.soc_initial
    out: list[float] = []
    for p in power_w:
        soc += (p * b.charge_efficiency if p > 0 else p / b.discharge_efficiency) * h
        out.append(soc)
    return out


def ev_device_plan(problem: Problem, ev: EVCharger, power: list[float]) -> DevicePlan:
    """An EV's plan with the cumulative energy delivered and, if the car is known, its SoC."""
    h = problem.step_hours / 1000 * ev.efficiency
    total = 0.0
    energy: list[float] = []
    for p in power:
        total += p * h
        energy.append(total)
    soc = None
    if ev.capacity_kwh:
        s0 = ev.soc_initial or 0.0
        soc = tuple(min(1.0, s0 + e / ev.capacity_kwh) for e in energy)
    return DevicePlan(
        ev.name,
        ev.kind,
        tuple(power),
        on=tuple(p > 0 for p in power),
        soc=soc,
        energy_kwh=tuple(energy),
    )


def snap_ev_power(ev: EVCharger, want_w: float, up: bool) -> float:
    """The allowed EV power nearest `want_w` (W): 0 or within the limits, on the step grid.

    `up` rounds up to the next allowed level (to finish a need), else down (to fit a limit).
    """
    pmin, pmax, pstep = (x * 1000 if x is not None else None for x in ev_power_levels(ev))
    assert pmin is not None
    assert pmax is not None
    if want_w <= 1e-9 or pmax <= 0:
        return 0.0
    want = min(want_w, pmax)
    if pstep is not None:
        k = math.ceil(want / pstep - 1e-9) if up else math.floor(want / pstep + 1e-9)
        want = min(k * pstep, pmax)
    if want < pmin - 1e-9:
        return pmin if up else 0.0
    return want


def simulate(
    problem: Problem,
    decisions: Decisions,
    *,
    status: PlanStatus,
    solver: str,
) -> Plan:
    """Run the decisions step by step with limit handling and self-consumption batteries."""
    n = problem.n_steps
    dt = problem.step_hours
    coef = coefficients(problem)
    gen = problem.generation_w
    power: dict[str, list[float]] = {d.name: [0.0] * n for d in problem.devices}
    starts: dict[str, int | None] = {}
    fixed = [0.0] * n
    # cycles are fixed loads once their start is decided
    for d in problem.devices:
        if not isinstance(d, ShiftableAppliance):
            continue
        spec = cycle_spec(problem, d, coef)
        if spec.fixed_start is not None:
            first = max(0, spec.fixed_start)
            for j, kw in enumerate(spec.fixed_profile_kw):
                if first + j < n:
                    power[d.name][first + j] = kw * 1000
            starts[d.name] = spec.fixed_start if spec.fixed_start >= 0 else None
            continue
        k = decisions.starts.get(d.name)
        starts[d.name] = k
        if k is not None:
            for j, kw in enumerate(spec.profile_kw):
                if k + j < n:
                    power[d.name][k + j] = kw * 1000
    for d in problem.devices:
        if isinstance(d, InterruptibleLoad):
            rs = run_spec(problem, d)
            on = decisions.run_on.get(d.name)
            if on is None:
                on = [False] * n
                steps = math.ceil(rs.need_kwh / (rs.power_kw * dt) - 1e-9)
                steps = max(steps, rs.min_on) if steps > 0 else 0
                for t in list(rs.window)[:steps]:
                    on[t] = True
            power[d.name] = [rs.power_kw * 1000 if x else 0.0 for x in on]
    for d in problem.devices:
        if isinstance(d, (ShiftableAppliance, InterruptibleLoad)):
            for t in range(n):
                fixed[t] += power[d.name][t]
    evs = [d for d in problem.devices if isinstance(d, EVCharger)]
    thermals = [d for d in problem.devices if isinstance(d, ThermalLoad)]
    batteries = [d for d in problem.devices if isinstance(d, Battery)]
    ev_remaining: dict[str, list[tuple[range, float]]] = {
        ev.name: [(s.steps, s.need_kwh) for s in ev_sessions(problem, ev)] for ev in evs
    }
    dyn = {h.name: thermal_dynamics(problem, h) for h in thermals}
    temp = {h.name: h.t_initial_c for h in thermals}
    soc = {b.name: b.soc_initial * b.capacity_kwh for b in batteries}
    bounds = {b.name: battery_bounds(b) for b in batteries}
    imp = [0.0] * n
    exp = [0.0] * n
    curt = [0.0] * n
    uns = [0.0] * n
    for t in range(n):
        flex: list[tuple[str, float]] = []
        for ev in evs:
            want = 0.0
            sched = decisions.ev_power_w.get(ev.name)
            sessions = ev_remaining[ev.name]
            active = [i for i, (steps, _) in enumerate(sessions) if t in steps]
            if sched is not None:
                want = sched[t] if active else 0.0
            elif active:
                i = active[0]
                left = sessions[i][1]
                want = snap_ev_power(ev, left / (ev.efficiency * dt) * 1000, up=True)
            power[ev.name][t] = want
            flex.append((ev.name, want))
        for hl in thermals:
            a, b, c = dyn[hl.name]
            need_kw = (hl.t_min_c[t] - a * temp[hl.name] - b[t]) / c[t] if c[t] > 0 else 0.0
            want = min(max(need_kw * 1000, 0.0), hl.max_power_w)
            if 0 < want < hl.min_power_w:
                want = hl.min_power_w
            power[hl.name][t] = want
            flex.append((hl.name, want))
        net = problem.base_load_w[t] + fixed[t] + sum(x for _, x in flex) - gen[t]
        # batteries: self-consumption
        for bat in batteries:
            lo, hi = bounds[bat.name]
            if net > 0:
                avail_kw = max(0.0, (soc[bat.name] - lo) * bat.discharge_efficiency / dt)
                dis_w = min(net, bat.max_discharge_w, avail_kw * 1000)
                power[bat.name][t] = -dis_w
                soc[bat.name] -= dis_w / 1000 * dt / bat.discharge_efficiency
                net -= dis_w
            elif net < 0:
                room_kw = max(0.0, (hi - soc[bat.name]) / bat.charge_efficiency / dt)
                c_w = min(-net, bat.max_charge_w, room_kw * 1000)
                power[bat.name][t] = c_w
                soc[bat.name] += c_w / 1000 * dt * bat.charge_efficiency
                net += c_w
        # the import limit: lower flexible loads first (EVs, then thermal loads)
        limit = problem.grid.import_limit_w[t]
        for name, want in flex:
            if net <= limit + 1e-9:
                break
            dev = next(d for d in problem.devices if d.name == name)
            lower = max(0.0, want - (net - limit))
            if isinstance(dev, EVCharger):
                got = snap_ev_power(dev, lower, up=False)
            else:
                got = lower if lower >= dev.min_power_w else 0.0  # type: ignore[union-attr]
            net -= want - got
            power[name][t] = got
        for ev in evs:
            sessions = ev_remaining[ev.name]
            for i, (plugged, left) in enumerate(sessions):
                if t in plugged:
                    got_kwh = power[ev.name][t] / 1000 * dt * ev.efficiency
                    sessions[i] = (plugged, max(0.0, left - got_kwh))
                    break
        for hl in thermals:
            a, b, c = dyn[hl.name]
            temp[hl.name] = a * temp[hl.name] + b[t] + c[t] * power[hl.name][t] / 1000
        if net > 0:
            imp[t] = min(net, limit)
            uns[t] = net - imp[t]
        else:
            exp[t] = min(-net, problem.grid.export_limit_w[t])
            curt[t] = -net - exp[t]
    plans: list[DevicePlan] = []
    for d in problem.devices:
        pw = power[d.name]
        if isinstance(d, Battery):
            plans.append(
                DevicePlan(d.name, d.kind, tuple(pw), soc=tuple(soc_trajectory(problem, d, pw)))
            )
        elif isinstance(d, EVCharger):
            plans.append(ev_device_plan(problem, d, pw))
        elif isinstance(d, ShiftableAppliance):
            k = starts.get(d.name)
            plans.append(
                DevicePlan(
                    d.name,
                    d.kind,
                    tuple(pw),
                    on=tuple(p > 0 for p in pw),
                    start_step=k,
                    start=problem.time_of(k) if k is not None else None,
                )
            )
        elif isinstance(d, InterruptibleLoad):
            plans.append(DevicePlan(d.name, d.kind, tuple(pw), on=tuple(p > 0 for p in pw)))
        else:
            a, b, c = dyn[d.name]
            x = d.t_initial_c
            temps: list[float] = []
            for t in range(n):
                x = a * x + b[t] + c[t] * pw[t] / 1000
                temps.append(x)
            plans.append(
                DevicePlan(
                    d.name,
                    d.kind,
                    tuple(pw),
                    on=tuple(p > 0 for p in pw),
                    temperature_c=tuple(temps),
                )
            )
    costs, shortfalls = assess(
        problem,
        import_w=tuple(imp),
        export_w=tuple(exp),
        curtailed_w=tuple(curt),
        unserved_w=tuple(uns),
        devices=tuple(plans),
        coef=coef,
    )
    return Plan(
        start=problem.start,
        step=problem.step,
        n_steps=n,
        status=status,
        solver=solver,
        import_w=tuple(imp),
        export_w=tuple(exp),
        curtailed_w=tuple(curt),
        unserved_w=tuple(uns),
        devices=tuple(plans),
        costs=costs,
        shortfalls=shortfalls,
        mode=problem.mode,
        currency=problem.currency,
    )


BaselineStatus = Literal["baseline"]


def baseline_plan(problem: Problem) -> Plan:
    """The baseline policy's plan (status "baseline", solver "baseline")."""
    coef = coefficients(problem)
    decisions = Decisions()
    for d in problem.devices:
        if isinstance(d, ShiftableAppliance):
            spec = cycle_spec(problem, d, coef)
            run = spec.required or spec.run_value > 0
            decisions.starts[d.name] = spec.starts[0][0] if spec.starts and run else None
    return simulate(problem, decisions, status="baseline", solver="baseline")
