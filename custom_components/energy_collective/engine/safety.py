"""Hard physical limits: every plan, and every single device command, is checked here.

`check_plan` rejects a plan that breaks a grid limit, a device power limit, the energy
balance, a battery's SoC bounds or its own SoC arithmetic, charging from the grid where that
is forbidden, EV charging while unplugged, a cycle that does not follow its profile, or an
interruptible load that breaks its minimum on/off time. `check_command` checks one command
a dispatcher is about to send. Both return a list of Violations (empty: safe).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

from .model import (
    Battery,
    Device,
    DevicePlan,
    EVCharger,
    InterruptibleLoad,
    Plan,
    Problem,
    ShiftableAppliance,
    ThermalLoad,
)
from .modes import (
    battery_bounds,
    coefficients,
    cycle_spec,
    ev_power_levels,
    plugged_steps,
    run_spec,
)

TOL_W = 1.0
"""Power tolerance (W) for solver round-off."""
TOL_SOC = 1e-4


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken hard limit. `rule` is a stable key; `step` None for a single command."""

    device: str
    rule: str
    step: int | None
    value: float
    limit: float
    message: str


def _v(  # noqa: PLR0917 - a terse constructor for the many checks below
    device: str, rule: str, step: int | None, value: float, limit: float, what: str
) -> Violation:
    at = f" at step {step}" if step is not None else ""
    return Violation(
        device, rule, step, value, limit, f"{device}: {what}{at} ({value:.6g} vs {limit:.6g})"
    )


def _runs(on: list[bool]) -> list[tuple[int, int]]:
    """Maximal on-blocks as (first, stop)."""
    out: list[tuple[int, int]] = []
    start = None
    for t, x in enumerate([*on, False]):
        if x and start is None:
            start = t
        elif not x and start is not None:
            out.append((start, t))
            start = None
    return out


def check_plan(problem: Problem, plan: Plan) -> list[Violation]:
    """All hard-limit violations of `plan` for `problem` (empty: the plan is safe)."""
    n = problem.n_steps
    out: list[Violation] = []
    series = {
        "import_w": plan.import_w,
        "export_w": plan.export_w,
        "curtailed_w": plan.curtailed_w,
        "unserved_w": plan.unserved_w,
    }
    for name, values in series.items():
        if len(values) != n:
            out.append(_v("grid", "length", None, len(values), n, f"{name} has a wrong length"))
            return out
    plans = {d.name: d for d in plan.devices}
    for d in problem.devices:
        dp = plans.get(d.name)
        if dp is None or len(dp.power_w) != n:
            out.append(_v(d.name, "missing", None, 0, n, "no plan of the right length"))
            return out
    gen = problem.generation_w
    grid = problem.grid
    for t in range(n):
        if plan.import_w[t] > grid.import_limit_w[t] + TOL_W:
            out.append(
                _v(
                    "grid",
                    "import_limit",
                    t,
                    plan.import_w[t],
                    grid.import_limit_w[t],
                    "import above the limit",
                )
            )
        if plan.export_w[t] > grid.export_limit_w[t] + TOL_W:
            out.append(
                _v(
                    "grid",
                    "export_limit",
                    t,
                    plan.export_w[t],
                    grid.export_limit_w[t],
                    "export above the limit",
                )
            )
        for name, values in series.items():
            if values[t] < -TOL_W:
                out.append(_v("grid", "negative", t, values[t], 0.0, f"negative {name}"))
        if plan.curtailed_w[t] > gen[t] + TOL_W:
            out.append(
                _v(
                    "grid",
                    "curtailment",
                    t,
                    plan.curtailed_w[t],
                    gen[t],
                    "curtailment above generation",
                )
            )
        demand = problem.base_load_w[t] + sum(dp.power_w[t] for dp in plan.devices)
        supply = (
            plan.import_w[t] - plan.export_w[t] + gen[t] - plan.curtailed_w[t] + plan.unserved_w[t]
        )
        if abs(demand - supply) > TOL_W * (1 + len(plan.devices)):
            out.append(_v("grid", "balance", t, supply, demand, "energy does not balance"))
    no_grid_charge = [
        d for d in problem.devices if isinstance(d, Battery) and not d.allow_grid_charge
    ]
    no_export = [d for d in problem.devices if isinstance(d, Battery) and not d.allow_grid_export]
    if no_grid_charge or no_export:
        batteries = [d for d in problem.devices if isinstance(d, Battery)]
        for t in range(n):
            if no_grid_charge:
                loads = (
                    problem.base_load_w[t]
                    + sum(
                        plans[d.name].power_w[t]
                        for d in problem.devices
                        if not isinstance(d, Battery) or d.allow_grid_charge
                    )
                    - plan.unserved_w[t]
                )
                if plan.import_w[t] > loads + TOL_W * (1 + len(plan.devices)):
                    out.append(
                        _v(
                            "grid",
                            "grid_charge",
                            t,
                            plan.import_w[t],
                            loads,
                            "battery charged from the grid",
                        )
                    )
            if no_export:
                allowed = sum(
                    -min(0.0, plans[b.name].power_w[t]) for b in batteries if b.allow_grid_export
                )
                src = gen[t] - plan.curtailed_w[t] + allowed
                if plan.export_w[t] > src + TOL_W * (1 + len(plan.devices)):
                    out.append(
                        _v(
                            "grid",
                            "battery_export",
                            t,
                            plan.export_w[t],
                            src,
                            "battery discharged to the grid",
                        )
                    )
    coef = coefficients(problem)
    for d in problem.devices:
        out.extend(_check_device(problem, d, plans[d.name], coef))
    return out


def _check_device(problem: Problem, d: Device, dp: DevicePlan, coef: object) -> list[Violation]:
    out: list[Violation] = []
    n = problem.n_steps
    p = dp.power_w
    if isinstance(d, Battery):
        lo, hi = battery_bounds(d)
        cap = d.capacity_kwh
        soc = d.soc_initial
        h = problem.step_hours / 1000 / cap
        for t in range(n):
            if p[t] > d.max_charge_w + TOL_W:
                out.append(
                    _v(d.name, "max_charge", t, p[t], d.max_charge_w, "charging above the limit")
                )
            if -p[t] > d.max_discharge_w + TOL_W:
                out.append(
                    _v(
                        d.name,
                        "max_discharge",
                        t,
                        -p[t],
                        d.max_discharge_w,
                        "discharging above the limit",
                    )
                )
            soc += (p[t] * d.charge_efficiency if p[t] > 0 else p[t] / d.discharge_efficiency) * h
            if soc < lo / cap - TOL_SOC or soc > hi / cap + TOL_SOC:
                out.append(
                    _v(
                        d.name,
                        "soc_bounds",
                        t,
                        soc,
                        lo / cap if soc < lo / cap else hi / cap,
                        "state of charge out of bounds",
                    )
                )
            if dp.soc is not None and abs(dp.soc[t] - soc) > 1e-3:
                out.append(
                    _v(
                        d.name,
                        "soc_consistency",
                        t,
                        dp.soc[t],
                        soc,
                        "reported SoC does not follow the power",
                    )
                )
        return out
    for t in range(n):
        if p[t] < -TOL_W:
            out.append(_v(d.name, "negative_power", t, p[t], 0.0, "negative power"))
    if isinstance(d, EVCharger):
        plugged = plugged_steps(problem, d)
        pmin, pmax, pstep = ev_power_levels(d)
        for t in range(n):
            if p[t] <= TOL_W:
                continue
            if not plugged[t]:
                out.append(_v(d.name, "unplugged", t, p[t], 0.0, "charging while unplugged"))
            if p[t] > pmax * 1000 + TOL_W:
                out.append(
                    _v(d.name, "max_power", t, p[t], pmax * 1000, "charging above the limit")
                )
            if p[t] < pmin * 1000 - TOL_W:
                out.append(
                    _v(d.name, "min_power", t, p[t], pmin * 1000, "charging below the minimum")
                )
            if pstep is not None:
                k = p[t] / (pstep * 1000)
                if abs(k - round(k)) * pstep * 1000 > TOL_W:
                    out.append(
                        _v(
                            d.name,
                            "power_step",
                            t,
                            p[t],
                            pstep * 1000,
                            "power not on the charger's steps",
                        )
                    )
    elif isinstance(d, ShiftableAppliance):
        spec = cycle_spec(problem, d, coefficients(problem))
        expected = [0.0] * n
        if spec.fixed_start is not None:
            first = max(0, spec.fixed_start)
            profile = spec.fixed_profile_kw
        else:
            first = dp.start_step if dp.start_step is not None else n
            profile = spec.profile_kw
            if dp.start_step is not None and dp.start_step not in dict(spec.starts):
                out.append(
                    _v(
                        d.name,
                        "start",
                        dp.start_step,
                        dp.start_step,
                        0,
                        "start outside the allowed starts",
                    )
                )
        for j, kw in enumerate(profile):
            if first + j < n:
                expected[first + j] = kw * 1000
        for t in range(n):
            if abs(p[t] - expected[t]) > TOL_W:
                out.append(
                    _v(
                        d.name,
                        "profile",
                        t,
                        p[t],
                        expected[t],
                        "power does not follow the cycle's profile",
                    )
                )
                break
    elif isinstance(d, InterruptibleLoad):
        rs = run_spec(problem, d)
        on = [x > TOL_W for x in p]
        for t in range(n):
            if on[t] and t not in rs.window:
                out.append(_v(d.name, "window", t, p[t], 0.0, "running outside its window"))
            if on[t] and abs(p[t] - d.power_w) > TOL_W:
                out.append(
                    _v(d.name, "power_level", t, p[t], d.power_w, "power is not the load's level")
                )
        runs = _runs(on)
        for first, stop in runs:
            if stop - first < rs.min_on and stop < n:
                out.append(
                    _v(
                        d.name,
                        "min_on",
                        first,
                        stop - first,
                        rs.min_on,
                        "on for less than the minimum",
                    )
                )
        for (_, stop), (nxt, _) in itertools.pairwise(runs):
            if nxt - stop < rs.min_off:
                out.append(
                    _v(
                        d.name,
                        "min_off",
                        stop,
                        nxt - stop,
                        rs.min_off,
                        "off for less than the minimum",
                    )
                )
    elif isinstance(d, ThermalLoad):
        for t in range(n):
            if p[t] > d.max_power_w + TOL_W:
                out.append(_v(d.name, "max_power", t, p[t], d.max_power_w, "power above the limit"))
            if TOL_W < p[t] < d.min_power_w - TOL_W:
                out.append(
                    _v(d.name, "min_power", t, p[t], d.min_power_w, "power below the minimum")
                )
    return out


@dataclass(frozen=True, slots=True)
class DeviceState:
    """What the dispatcher knows of a device when it sends a command.

    `soc` (0..1) for batteries and EVs; `on` and `since` (how long it has been on or off)
    for switched loads; `plugged` for EV chargers.
    """

    soc: float | None = None
    on: bool | None = None
    since: timedelta | None = None
    plugged: bool | None = None


def check_command(
    device: Device,
    power_w: float,
    state: DeviceState | None = None,
    *,
    import_headroom_w: float | None = None,
) -> list[Violation]:
    """Check one command: set `device` to `power_w` (battery: + charge, - discharge).

    `import_headroom_w` is how much more the home may import right now (import limit minus
    the current import); a command that raises consumption beyond it is rejected. The
    current draw of the device is taken as 0 unless `state.on` says it is running.
    """
    state = state or DeviceState()
    name = device.name
    out: list[Violation] = []

    def bad(rule: str, value: float, limit: float, what: str) -> None:
        out.append(_v(name, rule, None, value, limit, what))

    if isinstance(device, Battery):
        if power_w > device.max_charge_w + TOL_W:
            bad("max_charge", power_w, device.max_charge_w, "charging above the limit")
        if -power_w > device.max_discharge_w + TOL_W:
            bad("max_discharge", -power_w, device.max_discharge_w, "discharging above the limit")
        if state.soc is not None:
            if power_w > TOL_W and state.soc >= device.soc_max - TOL_SOC:
                bad("soc_bounds", state.soc, device.soc_max, "charging a full battery")
            if power_w < -TOL_W and state.soc <= device.soc_min + TOL_SOC:
                bad("soc_bounds", state.soc, device.soc_min, "discharging an empty battery")
    else:
        if power_w < -TOL_W:
            bad("negative_power", power_w, 0.0, "negative power")
        on = power_w > TOL_W
        if isinstance(device, EVCharger):
            pmin, pmax, pstep = ev_power_levels(device)
            if on and state.plugged is False:
                bad("unplugged", power_w, 0.0, "charging while unplugged")
            if on and power_w > pmax * 1000 + TOL_W:
                bad("max_power", power_w, pmax * 1000, "charging above the limit")
            if on and power_w < pmin * 1000 - TOL_W:
                bad("min_power", power_w, pmin * 1000, "charging below the minimum")
            if on and pstep is not None:
                k = power_w / (pstep * 1000)
                if abs(k - round(k)) * pstep * 1000 > TOL_W:
                    bad("power_step", power_w, pstep * 1000, "power not on the charger's steps")
        elif isinstance(device, ThermalLoad):
            if power_w > device.max_power_w + TOL_W:
                bad("max_power", power_w, device.max_power_w, "power above the limit")
            if on and power_w < device.min_power_w - TOL_W:
                bad("min_power", power_w, device.min_power_w, "power below the minimum")
        elif isinstance(device, InterruptibleLoad):
            if on and abs(power_w - device.power_w) > TOL_W:
                bad("power_level", power_w, device.power_w, "power is not the load's level")
            if state.on is not None and state.since is not None and on != state.on:
                if state.on and state.since < device.min_on:
                    bad(
                        "min_on",
                        state.since.total_seconds() / 60,
                        device.min_on.total_seconds() / 60,
                        "switching off before the minimum on-time",
                    )
                if not state.on and state.since < device.min_off:
                    bad(
                        "min_off",
                        state.since.total_seconds() / 60,
                        device.min_off.total_seconds() / 60,
                        "switching on before the minimum off-time",
                    )
        elif isinstance(device, ShiftableAppliance):
            peak = max(device.profile_w)
            if power_w > peak + TOL_W:
                bad("max_power", power_w, peak, "power above the cycle's profile")
            if state.on and not on:
                bad("interrupt", power_w, 0.0, "an uninterruptible cycle cannot be stopped")
    if import_headroom_w is not None:
        increase = max(0.0, power_w)
        if increase > import_headroom_w + TOL_W:
            bad(
                "import_limit",
                increase,
                import_headroom_w,
                "the command would exceed the import limit",
            )
    return out
