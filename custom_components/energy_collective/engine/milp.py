"""The energy-management MILP: one PuLP model of the whole home, solved in-process by HiGHS.

Units inside the model: kW for power, kWh for energy, one row per step for the energy
balance. Formulation notes:
- Binaries only where the physics needs them: grid direction only at steps where exporting
  pays at least as much as importing costs (else simultaneous import and export can never
  pay), battery direction only where wasting energy could pay (import cost <= 0, or spilled
  generation that cannot be curtailed), EV on/off only for a minimum power that the power
  steps do not already imply, on/off of an interruptible load, one-hot starts for cycles.
- A cycle's power is written straight into the balance rows from its one-hot start
  variables (no power variable), and "not run" is the complement of the starts.
- Limits are variable bounds; every requirement is soft with an explicit penalty, so the
  model is always feasible (all devices idle is a solution).
- A semi-continuous thermal load (off, or between a minimum and a maximum power) gets valid
  inequalities tying its on/off to the comfort band: one step ahead, and over the windows it
  cannot coast through even from the top of the band (`_coast_cuts`), which lift the LP
  bound close to the optimum.
- Rows are built as one expression each from prebuilt (variable, coefficient) lists.
Solving (`_optimise`): the LP relaxation, then its solution rounded (thermal on/off by
following the LP's temperature, other semi-continuous loads at half their minimum), the LP
re-solved in place with every integer fixed and a few price-guided repair moves; when that is
within the gap of the relaxation's bound it is the answer. Otherwise a small MIP over the
semi-continuous on/off (the rest kept), then the full MILP, each started from the best plan so
far (never from HiGHS's leftover LP values, which it would first try to complete).
The marginal energy price per step is the dual of the balance row of the LP obtained by
fixing the integer variables at their optimal values, re-solved in the same HiGHS instance.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .baseline import baseline_plan, ev_device_plan, soc_trajectory
from .explain import explain
from .greedy import greedy_plan
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
    Coefficients,
    assess,
    battery_bounds,
    coefficients,
    comfort_penalty,
    cycle_spec,
    ev_power_levels,
    ev_sessions,
    run_spec,
    simulate_temperature,
    terminal_value,
    thermal_dynamics,
)
from .safety import check_plan

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MIP_GAP = 1e-2
DEFAULT_MIP_GAP_ABS = 0.01
"""Stop when the plan is provably within this much currency of the optimum."""
_EPS_FLOW = 1e-6
"""Tiny cost per kWh on import and export so that circulating energy is never a tie."""

_SMALL_MIP_OPTIONS: dict[str, Any] = {
    "presolve": "off",
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_zi_round": False,
}
"""HiGHS options for the small MIP of the free on/off loads (the semi-continuous heat pump of
P1): its presolve restarts and sub-MIP heuristics took most of the time while the root cuts
(helped by the thermal on/off inequalities) close the gap alone; measured about 2-3x faster
there, same plans within the gap. Restored to their previous values before any full MILP."""

_COAST_STEPS = 96
"""Longest window of a thermal load's coasting inequalities (steps)."""

Term = tuple[Any, float]


class SolverUnavailableError(RuntimeError):
    """PuLP or HiGHS cannot be used."""


@dataclass
class _DeviceVars:
    kind: str
    power: list[list[Term]] = field(default_factory=list)
    """Per step: terms giving the device's consumption (kW)."""
    on: dict[int, Any] = field(default_factory=dict)
    starts: dict[int, Any] = field(default_factory=dict)
    charge: list[Any] = field(default_factory=list)
    discharge: list[Any] = field(default_factory=list)
    temp: list[Any] = field(default_factory=list)


class _Builder:
    """Builds the PuLP model of a problem."""

    def __init__(self, problem: Problem, coef: Coefficients) -> None:
        import pulp

        self.pulp = pulp
        self.p = problem
        self.coef = coef
        self.n = problem.n_steps
        self.dt = problem.step_hours
        self.lp = pulp.LpProblem("ems", pulp.LpMinimize)
        self.obj: list[Term] = []
        self.obj_const = 0.0
        self.integers: list[Any] = []
        self.directions: list[tuple[Any, Any, Any]] = []
        """(binary, a, b): in a rounded LP solution the binary is 1 when a >= b."""
        self.semis: list[tuple[Any, Any, float, str, int]] = []
        """Semi-continuous loads (off, or between a minimum and a maximum power): (on, power,
        minimum kW, group, step). Rounded on where the LP power reaches half the minimum; moves of
        the repair stay inside one group (an EV session, a thermal load)."""
        self.ev_groups: list[tuple[dict[int, tuple[Any, Any]], int, int, list[list[int]]]] = []
        """Integer EV currents: ({t: (k, on or None)}, kmin, kmax, steps of each session)."""
        self.cycles: list[tuple[dict[int, Any], tuple[float, ...], dict[int, float]]] = []
        """({start: binary}, profile kW, objective coefficient of each start)."""
        self.trackers: list[tuple[ThermalLoad, dict[int, Any], list[Any], list[Any], float]] = []
        """Semi-continuous thermal loads: (load, {t: on}, power, temperature, minimum kW)."""
        self.free_ints: list[Any] = []
        """Integers left to the solver when the LP solution is rounded (semi-continuous loads)."""
        self.runs: list[tuple[dict[int, Any], float, int]] = []
        """Interruptible loads: ({t: on}, power kW, steps needed)."""
        self.loads: list[list[Term]] = [[] for _ in range(self.n)]
        self.fixed_kw = [0.0] * self.n
        self.devices: dict[str, _DeviceVars] = {}
        self.balance: list[Any] = []
        self._count = 0
        self._le = pulp.LpConstraintLE
        self._ge = pulp.LpConstraintGE
        self._eq = pulp.LpConstraintEQ
        self._expr = pulp.LpAffineExpression

    # -- helpers ---------------------------------------------------------------------------

    def var(
        self,
        name: str,
        lb: float | None,
        ub: float | None,
        cat: Literal["Continuous", "Integer", "Binary"] = "Continuous",
    ) -> Any:
        v = self.lp.add_variable(name, lb, ub, cat)
        if cat != "Continuous":
            self.integers.append(v)
        return v

    def vars(self, name: str, lb: float, ubs: Sequence[float]) -> list[Any]:
        """One continuous variable per upper bound."""
        out = self.lp.add_variable_matrix(name, range(len(ubs)), lowBound=lb)
        for v, ub in zip(out, ubs, strict=True):
            v.upBound = ub
        return out

    def row(self, terms: list[Term], sense: int, rhs: float) -> Any:
        e = self._expr.from_list(terms, -rhs)
        e.sense = sense
        return self.lp.addConstraint(e)

    # -- model -----------------------------------------------------------------------------

    def build(self) -> None:
        p, n, dt, coef = self.p, self.n, self.dt, self.coef
        batteries: list[Battery] = []
        for d in p.devices:
            if isinstance(d, Battery):
                batteries.append(d)
            elif isinstance(d, EVCharger):
                self._ev(d)
            elif isinstance(d, ShiftableAppliance):
                self._appliance(d)
            elif isinstance(d, InterruptibleLoad):
                self._interruptible(d)
            else:
                self._thermal(d)
        gen = [g / 1000 for g in p.generation_w]
        base = [b / 1000 + f for b, f in zip(p.base_load_w, self.fixed_kw, strict=True)]
        lim_i = [x / 1000 for x in p.grid.import_limit_w]
        lim_e = [x / 1000 for x in p.grid.export_limit_w]
        imp = self.vars("imp", 0.0, lim_i)
        exp = self.vars("exp", 0.0, lim_e)
        self.imp, self.exp = imp, exp
        ic, ec = coef.import_cost, coef.export_cost
        for t in range(n):
            self.obj.append((imp[t], (ic[t] + _EPS_FLOW) * dt))
            self.obj.append((exp[t], (ec[t] + _EPS_FLOW) * dt))
        # curtailment where there is generation, unserved load where the limit can bite
        self.curt: dict[int, Any] = {}
        self.uns: dict[int, Any] = {}
        spill = 0.0 if p.generation_curtailable else coef.spill * dt
        for t in range(n):
            if gen[t] > 0:
                self.curt[t] = v = self.var(f"curt_{t}", 0.0, gen[t])
                if spill:
                    self.obj.append((v, spill))
            if base[t] - gen[t] > lim_i[t] + 1e-9:
                self.uns[t] = v = self.var(f"uns_{t}", 0.0, base[t])
                self.obj.append((v, coef.unserved * dt))
        # grid direction where circulating energy would pay
        for t in range(n):
            if lim_i[t] > 0 and lim_e[t] > 0 and ic[t] + ec[t] <= 1e-9:
                z = self.var(f"gz_{t}", 0, 1, "Binary")
                self.directions.append((z, imp[t], exp[t]))
                self.row([(imp[t], 1.0), (z, -lim_i[t])], self._le, 0.0)
                self.row([(exp[t], 1.0), (z, lim_e[t])], self._le, lim_e[t])
        for b in batteries:
            self._battery(b, gen)
        # energy balance: supply = demand
        for t in range(n):
            terms: list[Term] = [(imp[t], 1.0), (exp[t], -1.0)]
            if t in self.curt:
                terms.append((self.curt[t], -1.0))
            if t in self.uns:
                terms.append((self.uns[t], 1.0))
            for dv in self.devices.values():
                if dv.kind == "battery":
                    terms.append((dv.discharge[t], 1.0))
                    terms.append((dv.charge[t], -1.0))
            terms.extend((v, -c) for v, c in self.loads[t])
            self.balance.append(self.row(terms, self._eq, base[t] - gen[t]))
        # batteries that may not charge from, or discharge to, the grid
        no_grid_charge = [b for b in batteries if not b.allow_grid_charge]
        no_export = [b for b in batteries if not b.allow_grid_export]
        if no_grid_charge:
            allowed = [self.devices[b.name] for b in batteries if b.allow_grid_charge]
            for t in range(n):
                terms = [(imp[t], 1.0)]
                terms.extend((v, -c) for v, c in self.loads[t])
                terms.extend((dv.charge[t], -1.0) for dv in allowed)
                if t in self.uns:
                    terms.append((self.uns[t], 1.0))
                self.row(terms, self._le, base[t])
        if no_export:
            allowed = [self.devices[b.name] for b in batteries if b.allow_grid_export]
            for t in range(n):
                terms = [(exp[t], 1.0)]
                if t in self.curt:
                    terms.append((self.curt[t], 1.0))
                terms.extend((dv.discharge[t], -1.0) for dv in allowed)
                self.row(terms, self._le, gen[t])
        # demand charge on the new peak
        dc = p.grid.demand_charge_per_kw * coef.weights.demand
        self.peak = None
        if dc > 0:
            floor = p.grid.peak_floor_w / 1000
            self.peak = pk = self.var("peak", floor, max(*lim_i, floor))
            self.obj.append((pk, dc))
            for t in range(n):
                self.row([(pk, 1.0), (imp[t], -1.0)], self._ge, 0.0)
        self.lp.setObjective(self._expr.from_list(self.obj, self.obj_const))

    def _battery(self, b: Battery, gen: list[float]) -> None:
        n, dt, coef = self.n, self.dt, self.coef
        dv = _DeviceVars("battery")
        self.devices[b.name] = dv
        tag = f"b{len(self.devices)}"
        dv.charge = ch = self.vars(f"{tag}c", 0.0, [b.max_charge_w / 1000] * n)
        dv.discharge = dis = self.vars(f"{tag}d", 0.0, [b.max_discharge_w / 1000] * n)
        lo, hi = battery_bounds(b)
        soc = self.lp.add_variable_matrix(f"{tag}s", range(n), lowBound=lo, upBound=hi)
        dv.temp = soc
        wear = b.wear_cost_per_kwh * coef.weights.wear * dt
        if wear > 0:
            for t in range(n):
                self.obj.append((ch[t], wear))
                self.obj.append((dis[t], wear))
        self.obj.append((soc[n - 1], -terminal_value(self.p, b)))
        ec, ed = b.charge_efficiency * dt, dt / b.discharge_efficiency
        waste_pays = not self.p.generation_curtailable
        for t in range(n):
            rhs = b.soc_initial * b.capacity_kwh if t == 0 else 0.0
            terms: list[Term] = [(soc[t], 1.0), (ch[t], -ec), (dis[t], ed)]
            if t > 0:
                terms.append((soc[t - 1], -1.0))
            self.row(terms, self._eq, rhs)
            if self.coef.import_cost[t] <= 1e-9 or (waste_pays and gen[t] > 0):
                y = self.var(f"{tag}y_{t}", 0, 1, "Binary")
                self.directions.append((y, ch[t], dis[t]))
                self.row([(ch[t], 1.0), (y, -b.max_charge_w / 1000)], self._le, 0.0)
                self.row(
                    [(dis[t], 1.0), (y, b.max_discharge_w / 1000)],
                    self._le,
                    b.max_discharge_w / 1000,
                )

    def _ev(self, ev: EVCharger) -> None:
        dt, coef = self.dt, self.coef
        dv = _DeviceVars("ev")
        self.devices[ev.name] = dv
        tag = f"e{len(self.devices)}"
        pmin, pmax, pstep = ev_power_levels(ev)
        power: dict[int, Term] = {}
        group: dict[int, tuple[Any, Any]] = {}
        session_steps: list[list[int]] = []
        for si, s in enumerate(ev_sessions(self.p, ev)):
            session_steps.append(list(s.steps))
            delivered: list[Term] = []
            for t in s.steps:
                if t not in power:
                    if pstep is not None:
                        kmax = round(pmax / pstep)
                        kmin = round(pmin / pstep)
                        k = self.var(f"{tag}k_{t}", 0, kmax, "Integer")
                        power[t] = (k, pstep)
                        group[t] = (k, None)
                        if kmin >= 2:
                            on = self.var(f"{tag}o_{t}", 0, 1, "Binary")
                            dv.on[t] = on
                            group[t] = (k, on)
                            self.row([(k, 1.0), (on, -kmin)], self._ge, 0.0)
                            self.row([(k, 1.0), (on, -kmax)], self._le, 0.0)
                    elif pmin > 0:
                        x = self.var(f"{tag}p_{t}", 0.0, pmax)
                        on = self.var(f"{tag}o_{t}", 0, 1, "Binary")
                        dv.on[t] = on
                        self.free_ints.append(on)
                        self.semis.append((on, x, pmin, f"{tag}/{si}", t))
                        power[t] = (x, 1.0)
                        self.row([(x, 1.0), (on, -pmin)], self._ge, 0.0)
                        self.row([(x, 1.0), (on, -pmax)], self._le, 0.0)
                    else:
                        power[t] = (self.var(f"{tag}p_{t}", 0.0, pmax), 1.0)
                    v, c = power[t]
                    self.loads[t].append((v, c))
                v, c = power[t]
                delivered.append((v, c * ev.efficiency * dt))
            if s.need_kwh > 0:
                short = self.var(f"{tag}sh_{si}", 0.0, s.need_kwh)
                self.obj.append((short, coef.requirement))
                self.row([*delivered, (short, 1.0)], self._ge, s.need_kwh)
            if delivered:
                cap = s.need_kwh
                if ev.capacity_kwh is not None:
                    cap = max(cap, ev.capacity_kwh * (1 - (ev.soc_initial or 0.0)))
                self.row(delivered, self._le, cap + 1e-6)
        dv.power = [[power[t]] if t in power else [] for t in range(self.n)]
        if group:
            kmin = max(0, round(pmin / pstep)) if pstep else 0
            kmax = round(pmax / pstep) if pstep else 0
            self.ev_groups.append((group, kmin, kmax, session_steps))

    def _appliance(self, a: ShiftableAppliance) -> None:
        spec = cycle_spec(self.p, a, self.coef)
        dv = _DeviceVars("appliance")
        self.devices[a.name] = dv
        dv.power = [[] for _ in range(self.n)]
        if spec.fixed_start is not None:
            first = max(0, spec.fixed_start)
            for j, kw in enumerate(spec.fixed_profile_kw):
                if first + j < self.n:
                    self.fixed_kw[first + j] += kw
            return
        if not spec.starts:
            return
        tag = f"a{len(self.devices)}"
        run_terms: list[Term] = []
        costs: dict[int, float] = {}
        for k, late in spec.starts:
            s = self.var(f"{tag}_{k}", 0, 1, "Binary")
            dv.starts[k] = s
            run_terms.append((s, 1.0))
            cost = late * spec.late_per_hour
            cost -= spec.not_run_penalty if spec.required else spec.run_value
            costs[k] = cost
            if cost:
                self.obj.append((s, cost))
            for j, kw in enumerate(spec.profile_kw):
                if kw:
                    self.loads[k + j].append((s, kw))
                    dv.power[k + j].append((s, kw))
        self.cycles.append((dv.starts, spec.profile_kw, costs))
        if spec.required:
            self.obj_const += spec.not_run_penalty
        if len(run_terms) > 1:
            self.row(run_terms, self._le, 1.0)

    def _interruptible(self, load: InterruptibleLoad) -> None:
        rs = run_spec(self.p, load)
        dv = _DeviceVars("interruptible")
        self.devices[load.name] = dv
        dv.power = [[] for _ in range(self.n)]
        if not rs.window:
            return
        tag = f"i{len(self.devices)}"
        w0, w1 = rs.window.start, rs.window.stop
        on = {t: self.var(f"{tag}o_{t}", 0, 1, "Binary") for t in rs.window}
        dv.on = on
        steps = math.ceil(rs.need_kwh / (rs.power_kw * self.dt) - 1e-6) if rs.need_kwh else 0
        if steps:
            steps = min(max(steps, rs.min_on), len(rs.window))
        self.runs.append((on, rs.power_kw, steps))
        for t in rs.window:
            self.loads[t].append((on[t], rs.power_kw))
            dv.power[t].append((on[t], rs.power_kw))
        if rs.need_kwh > 0:
            short = self.var(f"{tag}sh", 0.0, rs.need_kwh)
            self.obj.append((short, self.coef.requirement))
            terms = [(on[t], rs.power_kw * self.dt) for t in rs.window]
            self.row([*terms, (short, 1.0)], self._ge, rs.need_kwh)
        if rs.min_on > 1:
            su = {t: self.var(f"{tag}u_{t}", 0.0, 1.0) for t in rs.window}
            for t in rs.window:
                terms = [(su[t], 1.0), (on[t], -1.0)]
                if t > w0:
                    terms.append((on[t - 1], 1.0))
                self.row(terms, self._ge, 0.0)
            for t in range(w0, min(w1 + rs.min_on - 1, self.n)):
                terms = [
                    (su[x], -1.0) for x in range(max(w0, t - rs.min_on + 1), min(t, w1 - 1) + 1)
                ]
                if t < w1:
                    terms.append((on[t], 1.0))
                self.row(terms, self._ge, 0.0)
        if rs.min_off > 1:
            sd = {t: self.var(f"{tag}v_{t}", 0.0, 1.0) for t in range(w0 + 1, w1)}
            for t in range(w0 + 1, w1):
                self.row([(sd[t], 1.0), (on[t - 1], -1.0), (on[t], 1.0)], self._ge, 0.0)
                terms = [(sd[x], 1.0) for x in range(max(w0 + 1, t - rs.min_off + 1), t + 1)]
                self.row([*terms, (on[t], 1.0)], self._le, 1.0)

    def _thermal(self, h: ThermalLoad) -> None:
        n, dt = self.n, self.dt
        dv = _DeviceVars("thermal")
        self.devices[h.name] = dv
        tag = f"h{len(self.devices)}"
        a, b, c = thermal_dynamics(self.p, h)
        pmax, pmin = h.max_power_w / 1000, h.min_power_w / 1000
        power = self.vars(f"{tag}p", 0.0, [pmax] * n)
        temp = self.lp.add_variable_matrix(f"{tag}t", range(n), lowBound=-100.0, upBound=300.0)
        dv.temp = temp
        dv.power = [[(power[t], 1.0)] for t in range(n)]
        pen = comfort_penalty(self.coef, h) * dt
        low = self.vars(f"{tag}l", 0.0, [400.0] * n)
        high = self.vars(f"{tag}u", 0.0, [400.0] * n)
        for t in range(n):
            self.loads[t].append((power[t], 1.0))
            terms: list[Term] = [(temp[t], 1.0), (power[t], -c[t])]
            rhs = b[t]
            if t == 0:
                rhs += a * h.t_initial_c
            else:
                terms.append((temp[t - 1], -a))
            self.row(terms, self._eq, rhs)
            self.row([(temp[t], 1.0), (low[t], 1.0)], self._ge, h.t_min_c[t])
            self.row([(temp[t], 1.0), (high[t], -1.0)], self._le, h.t_max_c[t])
            self.obj.append((low[t], pen))
            self.obj.append((high[t], pen))
            if pmin > 0:
                on = self.var(f"{tag}o_{t}", 0, 1, "Binary")
                dv.on[t] = on
                self.free_ints.append(on)
                self.semis.append((on, power[t], pmin, tag, t))
                self.row([(power[t], 1.0), (on, -pmin)], self._ge, 0.0)
                self.row([(power[t], 1.0), (on, -pmax)], self._le, 0.0)
        if pmin > 0:
            self.trackers.append((h, dv.on, power, temp, pmin))
        if pmin > 0 and a > 0:
            self._thermal_cuts(h, dv.on, temp=temp, low=low, high=high, abc=(a, b, c), pmin=pmin)

    def _thermal_cuts(
        self,
        h: ThermalLoad,
        on: dict[int, Any],
        *,
        temp: list[Any],
        low: list[Any],
        high: list[Any],
        abc: tuple[float, Sequence[float], Sequence[float]],
        pmin: float,
    ) -> None:
        """Valid inequalities linking a semi-continuous thermal load's on/off to its band.

        Off at step t, the temperature only decays: T[t] = a*T[t-1] + b[t], so staying above
        the band needs T[t-1] >= R = (lo[t] - b[t]) / a; on at least at the minimum power,
        it rises by c[t]*pmin at least, so staying below the band needs T[t-1] <= S =
        (hi[t] - b[t] - c[t]*pmin) / a. With the comfort slacks these read
            T[t-1] + low[t-1] + low[t]/a + (R - lo[t-1]) on[t] >= R        (when R > lo[t-1])
            T[t-1] - high[t-1] - high[t]/a + (hi[t-1] - S) on[t] <= hi[t-1] (when S < hi[t-1])
        which every integer solution meets (the other branch is the band row of step t-1)
        but which cut off the LP's holding of the band edge at a power below the minimum.
        """
        a, b, c = abc
        for t in range(self.n):
            lo, hi = h.t_min_c[t], h.t_max_c[t]
            r = (lo - b[t]) / a
            s = (hi - b[t] - c[t] * pmin) / a
            if t == 0:
                t0 = h.t_initial_c
                if r > t0 + 1e-6:
                    self.row([(low[0], 1 / a), (on[0], r - t0)], self._ge, r - t0)
                if s < t0 - 1e-6:
                    self.row([(high[0], -1 / a), (on[0], t0 - s)], self._le, 0.0)
                continue
            lo0, hi0 = h.t_min_c[t - 1], h.t_max_c[t - 1]
            if r > lo0 + 1e-6:
                terms: list[Term] = [(temp[t - 1], 1.0), (low[t - 1], 1.0), (low[t], 1 / a)]
                self.row([*terms, (on[t], r - lo0)], self._ge, r)
            if s < hi0 - 1e-6:
                terms = [(temp[t - 1], 1.0), (high[t - 1], -1.0), (high[t], -1 / a)]
                self.row([*terms, (on[t], hi0 - s)], self._le, hi0)
        self._coast_cuts(h, on, low=low, high=high, ab=(a, b))

    def _coast_cuts(
        self,
        h: ThermalLoad,
        on: dict[int, Any],
        *,
        low: list[Any],
        high: list[Any],
        ab: tuple[float, Sequence[float]],
    ) -> None:
        """Windows in which a semi-continuous thermal load must run at least once.

        Starting at the top of the band before step s (the initial temperature for s = 0) and
        staying off, the temperature T[j] = a^k T[s-1] + B falls below the band at some step
        j = s+k-1 by delta. So every plan either runs in s..j or leaves the band there:
            low[j] + a^k high[s-1] + delta * sum(on[s..j]) >= delta
        In the LP this asks for at least one whole on, hence energy of at least the minimum
        power over a step, where the LP would coast on a trickle; the rounding then costs
        little more than the bound. A window whose next start ends at the same step is left
        out (the shorter one is stronger), and so are windows longer than _COAST_STEPS.
        """
        a, b = ab
        found: list[tuple[int, int, float, float]] = []
        for first in range(self.n):
            now = h.t_initial_c if first == 0 else h.t_max_c[first - 1]
            decay = 1.0
            for j in range(first, min(self.n, first + _COAST_STEPS)):
                now = a * now + b[j]
                decay *= a
                if now < h.t_min_c[j] - 1e-6:
                    found.append((first, j, h.t_min_c[j] - now, decay))
                    break
        for i, (first, j, delta, decay) in enumerate(found):
            if i + 1 < len(found) and found[i + 1][:2] == (first + 1, j):
                continue
            terms: list[Term] = [(low[j], 1.0)]
            if first > 0:
                terms.append((high[first - 1], decay))
            terms.extend((on[t], delta) for t in range(first, j + 1))
            self.row(terms, self._ge, delta)


def _val(v: Any) -> float:
    x = v.varValue
    return 0.0 if x is None else float(x)


def _extract(problem: Problem, m: _Builder, status: PlanStatus) -> Plan:
    """Turn solver values into a Plan (states recomputed from the rounded powers)."""
    n = problem.n_steps
    imp = [max(0.0, _val(v)) * 1000 for v in m.imp]
    exp = [max(0.0, _val(v)) * 1000 for v in m.exp]
    curt = [max(0.0, _val(m.curt[t])) * 1000 if t in m.curt else 0.0 for t in range(n)]
    uns = [max(0.0, _val(m.uns[t])) * 1000 if t in m.uns else 0.0 for t in range(n)]
    plans: list[DevicePlan] = []
    ints = {v.id for v in m.integers}
    for d in problem.devices:
        dv = m.devices[d.name]
        if isinstance(d, Battery):
            power = [
                (_val(c) - _val(x)) * 1000 for c, x in zip(dv.charge, dv.discharge, strict=True)
            ]
            power = [0.0 if abs(p) < 1e-6 else p for p in power]
            plans.append(
                DevicePlan(
                    d.name, d.kind, tuple(power), soc=tuple(soc_trajectory(problem, d, power))
                )
            )
            continue
        power = [
            max(0.0, sum((round(_val(v)) if v.id in ints else _val(v)) * c for v, c in terms))
            * 1000
            for terms in dv.power
        ]
        power = [0.0 if p < 1e-6 else p for p in power]
        if isinstance(d, ShiftableAppliance):
            spec = cycle_spec(problem, d, m.coef)
            if spec.fixed_start is not None:
                first = max(0, spec.fixed_start)
                power = [0.0] * n
                for j, kw in enumerate(spec.fixed_profile_kw):
                    if first + j < n:
                        power[first + j] = kw * 1000
                start = spec.fixed_start if spec.fixed_start >= 0 else None
            else:
                chosen = [k for k, s in dv.starts.items() if _val(s) > 0.5]
                start = chosen[0] if chosen else None
            plans.append(
                DevicePlan(
                    d.name,
                    d.kind,
                    tuple(power),
                    on=tuple(p > 0 for p in power),
                    start_step=start,
                    start=problem.time_of(start) if start is not None else None,
                )
            )
        elif isinstance(d, EVCharger):
            plans.append(ev_device_plan(problem, d, power))
        elif isinstance(d, InterruptibleLoad):
            plans.append(DevicePlan(d.name, d.kind, tuple(power), on=tuple(p > 0 for p in power)))
        else:
            temps = simulate_temperature(problem, d, power)
            plans.append(
                DevicePlan(
                    d.name,
                    d.kind,
                    tuple(power),
                    on=tuple(p > 0 for p in power),
                    temperature_c=tuple(temps),
                )
            )
    # the model never profits from simultaneous import and export; net out solver noise
    for t in range(n):
        both = min(imp[t], exp[t])
        if both > 0:
            imp[t] -= both
            exp[t] -= both
    costs, shortfalls = assess(
        problem,
        import_w=tuple(imp),
        export_w=tuple(exp),
        curtailed_w=tuple(curt),
        unserved_w=tuple(uns),
        devices=tuple(plans),
        coef=m.coef,
    )
    return Plan(
        start=problem.start,
        step=problem.step,
        n_steps=n,
        status=status,
        solver="HiGHS",
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


def _round_ev(
    group: dict[int, tuple[Any, Any]],
    kmin: int,
    kmax: int,
    sessions: list[list[int]],
    *,
    x: Any,
    price: dict[int, float],
) -> dict[int, int]:
    """Whole EV currents close to the LP's, keeping each session's total (rounded up)."""
    out: dict[int, int] = {}
    for session in sessions:
        steps = [t for t in session if t in group]
        if not steps:
            continue
        want = {t: max(0.0, x(group[t][0])) for t in steps}
        total = math.ceil(sum(want.values()) - 1e-6)
        k = {t: math.floor(want[t] + 1e-9) for t in steps}
        order = sorted(steps, key=lambda t: (-(want[t] - k[t]), price[t], t))
        left = total - sum(k.values())
        for t in order * 2:
            if left <= 0:
                break
            if k[t] < kmax:
                k[t] += 1
                left -= 1
        # below the minimum current: move the ampere-steps to steps already charging
        for t in sorted(steps, key=lambda s: (k[s], s)):
            if 0 < k[t] < kmin:
                units, k[t] = k[t], 0
                for u in sorted(steps, key=lambda s: (price[s], s)):
                    room = kmax - k[u] if k[u] >= kmin else 0
                    take = min(room, units)
                    k[u] += take
                    units -= take
                if units > 0:
                    k[t] = kmin
        out.update(k)
    return out


def _rounded(m: _Builder, x: Any, duals: list[float]) -> dict[Any, float]:
    """Values for the integer variables from an LP solution (pump-like loads left free)."""
    fixed: dict[Any, float] = {}
    for z, a, b in m.directions:
        fixed[z] = 1.0 if x(a) >= x(b) else 0.0
    groups: dict[str, list[tuple[Any, float, float, float, int]]] = {}
    for on, p, pmin, key, t in m.semis:
        fixed[on] = 1.0 if x(p) >= pmin / 2 else 0.0
        groups.setdefault(key, []).append((on, max(0.0, x(p)), pmin, float(p.upBound), t))
    for members in groups.values():
        _fit_group(members, fixed, price=[duals[m.balance[t].id] for t in range(m.n)])
    for load, ons, power, temp, pmin in m.trackers:
        powers, temps = [x(v) for v in power], [x(v) for v in temp]
        fixed.update(_track(m, load, ons=ons, power=powers, temp=temps, pmin=pmin))
    for group, kmin, kmax, sessions in m.ev_groups:
        price = {t: duals[m.balance[t].id] for t in group}
        ks = _round_ev(group, kmin, kmax, sessions, x=x, price=price)
        for t, (k, on) in group.items():
            fixed[k] = float(ks.get(t, 0))
            if on is not None:
                fixed[on] = 1.0 if ks.get(t, 0) > 0 else 0.0
    for switch, kw, steps in m.runs:
        # one block of the needed length, where it is cheapest at the LP's marginal prices
        window = sorted(switch)
        dear = [kw * duals[m.balance[t].id] for t in window]
        best = 0
        if steps:
            sums = [sum(dear[i : i + steps]) for i in range(len(window) - steps + 1)]
            best = min(range(len(sums)), key=lambda i: (sums[i], i))
        for i, t in enumerate(window):
            fixed[switch[t]] = 1.0 if steps and best <= i < best + steps else 0.0
    for starts, profile, costs in m.cycles:
        # the start the LP likes most; ties broken by the cost at the LP's marginal prices
        cost = {
            k: costs[k] + sum(kw * duals[m.balance[k + j].id] for j, kw in enumerate(profile))
            for k in starts
        }
        best = min(starts, key=lambda k: (-round(x(starts[k]), 6), cost[k], k))
        run = cost[best] < 0
        for k, s in starts.items():
            fixed[s] = 1.0 if run and k == best else 0.0
    return fixed


def _fit_group(
    members: list[tuple[Any, float, float, float, int]],
    fixed: dict[Any, float],
    *,
    price: list[float],
) -> None:
    """Make a group's rounded on-steps able to carry the LP's energy, and not force more.

    Rounding at half the minimum can leave too few on-steps for the LP's energy (a trickle
    below half the minimum at every step but one) or too many (several small ones pushed up
    to the minimum). Steps are turned on, largest LP power first, while the maxima of the
    on-steps cannot carry the LP's total, and off, smallest first, while their minima exceed
    it. Members are (on, LP power, minimum, maximum, step).
    """
    total = sum(x for _, x, _, _, _ in members)
    on = [m for m in members if fixed[m[0]] > 0.5]
    off = sorted(
        (m for m in members if fixed[m[0]] < 0.5 and m[1] > 1e-9),
        key=lambda m: (-m[1], price[m[4]], m[4]),
    )
    while off and sum(m[3] for m in on) < total - 1e-9:
        pick = off.pop(0)
        fixed[pick[0]] = 1.0
        on.append(pick)
    on.sort(key=lambda m: (m[1], -price[m[4]], -m[4]))
    while len(on) > 1 and sum(m[2] for m in on) > total + 1e-9:
        fixed[on.pop(0)[0]] = 0.0


def _track(
    m: _Builder,
    load: ThermalLoad,
    *,
    ons: dict[int, Any],
    power: list[float],
    temp: list[float],
    pmin: float,
) -> dict[Any, float]:
    """On/off of a semi-continuous thermal load that follows the LP's temperature from above.

    Rounding each step alone breaks the comfort band wherever the LP holds its edge with a
    power below the minimum. Instead the temperature is simulated step by step: the load is
    on whenever staying off would leave it below the LP's temperature (like a sigma-delta
    modulator), at least at its minimum power, and where the LP's power is below that
    minimum with enough heat to stay off the next step as well, so a trickle becomes pulses.
    The LP re-solved with these on/off values then sets the powers.
    """
    a, b, c = thermal_dynamics(m.p, load)
    out: dict[Any, float] = {}
    now = load.t_initial_c
    for t in range(m.n):
        p = max(0.0, power[t])
        off = a * now + b[t]
        run = off < temp[t] - 1e-6
        out[ons[t]] = 1.0 if run else 0.0
        if run:
            kw = max(pmin, p)
            if p < pmin and t + 1 < m.n and c[t] > 0:
                # below its minimum the LP would hold the temperature with a trickle: heat
                # enough now to stay off next step instead (pulses, not a constant minimum)
                skip = ((temp[t + 1] - b[t + 1]) / a - off) / c[t]
                kw = min(load.max_power_w / 1000, max(kw, skip))
            if c[t] > 0 and off + c[t] * kw > load.t_max_c[t]:
                kw = max(pmin, (load.t_max_c[t] - off) / c[t])
            off += c[t] * kw
        now = off
    return out


def _repair_ev(
    m: _Builder,
    h: Any,
    *,
    fixed: dict[Any, float],
    set_bounds: Any,
    objective: Any,
    bound: float,
    tol: float,
    rounds: int = 40,
) -> float:
    """Move EV ampere-steps from dear to cheap steps at the fixed LP's prices while it pays.

    Rounding can push an EV step past a binding limit (battery power, import limit) where
    the next kWh costs far more than the LP's marginal price said; a few price-guided swaps,
    each checked by re-solving the LP in place, repair that. Leaves h at the best solution.
    """
    import highspy

    value = objective()
    solves = 0
    while solves < rounds and value - bound > tol:
        duals = h.getSolution().row_dual
        pairs: list[tuple[float, Any, Any]] = []
        for group, kmin, kmax, sessions in m.ev_groups:
            for session in sessions:
                steps = [t for t in session if t in group]
                d = {t: duals[m.balance[t].id] for t in steps}
                k = {t: fixed[group[t][0]] for t in steps}
                donors = sorted(
                    (t for t in steps if k[t] > max(kmin, 0) or (kmin <= 1 and k[t] > 0)),
                    key=lambda t: (-d[t], t),
                )[:3]
                takers = sorted(
                    (t for t in steps if k[t] < kmax and (k[t] >= kmin > 0 or kmin <= 1)),
                    key=lambda t: (d[t], t),
                )[:3]
                pairs.extend(
                    (d[a] - d[b], group[a][0], group[b][0])
                    for a in donors
                    for b in takers
                    if a != b and d[a] - d[b] > 1e-9
                )
        pairs.sort(key=lambda p: -p[0])
        improved = False
        for _, a, b in pairs[:6]:
            solves += 1
            fixed[a] -= 1
            fixed[b] += 1
            set_bounds([(a, fixed[a], fixed[a]), (b, fixed[b], fixed[b])])
            h.run()
            new = objective()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal and new < value - 1e-9:
                value = new
                improved = True
                break
            fixed[a] += 1
            fixed[b] -= 1
            set_bounds([(a, fixed[a], fixed[a]), (b, fixed[b], fixed[b])])
        if not improved:
            h.run()
            break
    return float(value)


Move = list[tuple[Any, float]]
"""New values of some integer variables."""


def _repair_semis(
    m: _Builder,
    h: Any,
    *,
    cols: dict[int, int],
    fixed: dict[Any, float],
    set_bounds: Any,
    objective: Any,
    bound: float,
    tol: float,
    rounds: int = 12,
) -> float:
    """Flip on/off of semi-continuous loads while it pays, guided by the fixed LP's duals.

    The reduced cost of a fixed on/off says how much the objective would drop if the load
    could run a little at an off step (or below its minimum at an on step); flipping the most
    promising ones alone or in pairs of the same load is tried first. Then a load that runs
    at exactly its minimum power at a dear step is moved to a cheaper step of the same group
    (for a thermal load one of the two steps before, so the heat still arrives in time), at
    the balance rows' prices. Each move is checked by re-solving the LP in place and kept
    only if the objective drops. Stops when the plan is within `tol` of `bound`, after
    `rounds` re-solves, or when no move pays. Leaves h at the best solution.
    """
    value = float(objective())
    solves = 0
    thermal = {on.id for _, ons, _, _, _ in m.trackers for on in ons.values()}
    step = {on.id: t for on, _, _, _, t in m.semis}
    groups: dict[str, list[tuple[Any, Any, float, int]]] = {}
    for on, p, pmin, key, t in m.semis:
        if on in fixed:
            groups.setdefault(key, []).append((on, p, pmin, t))
    while solves < rounds and value - bound > tol:
        sol = h.getSolution()
        xs, duals, reduced = sol.col_value, sol.row_dual, sol.col_dual
        flips: list[tuple[float, int, Move]] = []
        shifts: list[tuple[float, int, Move]] = []
        for members in groups.values():
            rc = {on: reduced[cols[on.id]] for on, _, _, _ in members}
            stop = sorted(
                (on for on, _, _, _ in members if fixed[on] > 0.5 and rc[on] > 1e-9),
                key=lambda v: (-rc[v], v.id),
            )[:3]
            start = sorted(
                (on for on, _, _, _ in members if fixed[on] < 0.5 and rc[on] < -1e-9),
                key=lambda v: (rc[v], v.id),
            )[:3]
            flips.extend((rc[a], len(flips), [(a, 0.0)]) for a in stop)
            flips.extend((-rc[b], len(flips), [(b, 1.0)]) for b in start)
            flips.extend(
                (rc[a] - rc[b], len(flips), [(a, 0.0), (b, 1.0)])
                for a in stop[:2]
                for b in start[:2]
            )
            # a thermal load's run moved by one step, where the duals favour it
            at = {t: on for on, _, _, t in members}
            flips.extend(
                (rc[a] - rc[b], len(flips), [(a, 0.0), (b, 1.0)])
                for a in at.values()
                if a.id in thermal and fixed[a] > 0.5
                for b in (at.get(step[a.id] - 1), at.get(step[a.id] + 1))
                if b is not None and fixed[b] < 0.5 and rc[a] - rc[b] > 1e-9
            )
            price = {on: duals[m.balance[t].id] for on, _, _, t in members}
            low = [
                on
                for on, p, pmin, _ in members
                if fixed[on] > 0.5 and xs[cols[p.id]] <= pmin + 1e-6
            ]
            off = sorted(
                (on for on, _, _, _ in members if fixed[on] < 0.5), key=lambda v: (price[v], v.id)
            )
            for a in sorted(low, key=lambda v: (-price[v], v.id))[:3]:
                if a.id in thermal:
                    takers = [b for b in off if 0 < step[a.id] - step[b.id] <= 2]
                else:
                    takers = off[:2]
                shifts.extend(
                    (price[a] - price[b], len(shifts), [(a, 0.0), (b, 1.0)])
                    for b in takers
                    if price[a] - price[b] > 1e-9
                )
        flips.sort(key=lambda q: (-q[0], q[1]))
        shifts.sort(key=lambda q: (-q[0], q[1]))
        moves = [move for _, _, move in [*flips[:5], *shifts[:2]]]
        value, used, improved = _try_moves(
            h,
            moves,
            fixed=fixed,
            set_bounds=set_bounds,
            objective=objective,
            value=value,
            budget=rounds - solves,
        )
        solves += used
        if not improved:
            break
    return value


def _try_moves(
    h: Any,
    moves: list[Move],
    *,
    fixed: dict[Any, float],
    set_bounds: Any,
    objective: Any,
    value: float,
    budget: int,
) -> tuple[float, int, bool]:
    """Try moves in order (each by re-solving the LP in place) until one lowers the objective.

    Returns (objective, LP solves used, whether a move was kept); a move that does not pay is
    undone, and h is left at the solution of the kept move, or re-solved at the old values.
    """
    import highspy

    ok = highspy.HighsModelStatus.kOptimal
    used = 0
    tried: set[tuple[tuple[int, float], ...]] = set()
    for move in moves:
        sig = tuple(sorted((v.id, val) for v, val in move))
        if used >= budget or sig in tried:
            continue
        tried.add(sig)
        used += 1
        undo = [(v, fixed[v], fixed[v]) for v, _ in move]
        for v, val in move:
            fixed[v] = val
        set_bounds([(v, val, val) for v, val in move])
        h.run()
        new = float(objective())
        if h.getModelStatus() == ok and new < value - 1e-9:
            return new, used, True
        for v, val, _ in undo:
            fixed[v] = val
        set_bounds(undo)
    h.run()
    return value, used, False


@dataclass
class _Outcome:
    status: PlanStatus
    gap: float | None
    prices: tuple[float, ...] | None
    how: str


def _optimise(
    m: _Builder, *, time_limit_s: float, mip_gap: float, mip_gap_abs: float, threads: int
) -> _Outcome | None:
    """Solve the model; None when no solution was found.

    First the LP relaxation gives a bound and prices; rounding its solution (every integer; a
    thermal load's on/off by following the LP's temperature, other semi-continuous loads at
    half their minimum with enough on-steps for their energy), re-solving the LP with the
    integers fixed and a few dual-guided repair moves usually give a plan within the gap of
    that bound, which is then optimal within the gap without any branch and bound. Otherwise the
    on/off of the semi-continuous loads go to a small MIP (the other integers kept at their
    rounded values), and if that is not close enough either, the full MILP runs; both start
    from the best plan found so far. The marginal prices are the duals of the balance rows
    with every integer fixed at its final value.
    """
    import highspy
    import pulp

    t0 = time.perf_counter()
    solver: Any = pulp.HiGHS(
        msg=False, timeLimit=time_limit_s, gapRel=mip_gap, gapAbs=mip_gap_abs, threads=threads
    )
    lp: Any = m.lp
    solver.createAndConfigureSolver(lp)
    solver.buildSolverModel(lp)
    h = lp.solverModel
    h.setOptionValue("mip_feasibility_tolerance", 1e-7)
    cols = {v.id: j for j, v in enumerate(lp.exported_variables())}
    ints = [v for v in m.integers if v.id in cols]
    cont = highspy.HighsVarType.kContinuous
    integer = highspy.HighsVarType.kInteger
    ok = highspy.HighsModelStatus.kOptimal

    def set_kind(vs: list[Any], kind: Any) -> None:
        if vs:
            h.changeColsIntegrality(len(vs), [cols[v.id] for v in vs], [kind] * len(vs))

    def set_bounds(pairs: list[tuple[Any, float, float]]) -> None:
        if pairs:
            h.changeColsBounds(
                len(pairs),
                [cols[v.id] for v, _, _ in pairs],
                [lo for _, lo, _ in pairs],
                [hi for _, _, hi in pairs],
            )

    def objective() -> float:
        return float(h.getInfo().objective_function_value)

    def start_from(values: list[float]) -> None:
        h.setSolution(len(values), list(range(len(values))), values)

    def tolerance(value: float) -> float:
        return max(mip_gap_abs, mip_gap * abs(value))

    incumbent: list[float] | None = None
    free = [v for v in m.free_ints if v.id in cols]
    free_ids = {v.id for v in free}
    if ints:
        set_kind(ints, cont)
        h.run()
        if h.getModelStatus() == ok:
            bound = objective()
            sol = h.getSolution()
            xs = list(sol.col_value)
            duals = list(sol.row_dual)
            fixed = _rounded(m, lambda v: xs[cols[v.id]], duals)
            fixed = {v: val for v, val in fixed.items() if v.id in cols}
            set_bounds([(v, val, val) for v, val in fixed.items()])
            h.run()
            if h.getModelStatus() == ok:
                value = objective()
                if m.ev_groups and value - bound > tolerance(value):
                    value = _repair_ev(
                        m,
                        h,
                        fixed=fixed,
                        set_bounds=set_bounds,
                        objective=objective,
                        bound=bound,
                        tol=tolerance(value),
                    )
                if m.semis and mip_gap * abs(value) < value - bound <= 2 * tolerance(value):
                    # moves polish a plan already within the gap, or may reach it if close;
                    # farther, the small MIP below finds better plans than the moves would
                    value = _repair_semis(
                        m,
                        h,
                        cols=cols,
                        fixed=fixed,
                        set_bounds=set_bounds,
                        objective=objective,
                        bound=bound,
                        tol=mip_gap * abs(value),
                    )
                incumbent = list(h.getSolution().col_value)
                if value - bound <= tolerance(value):
                    gap = abs(value - bound) / max(abs(value), 1e-9)
                    prices = _prices(m, h)
                    solver.findSolutionValues(lp)
                    return _Outcome("optimal", gap, prices, "rounded LP")
            if free:
                # the on/off of the semi-continuous loads to a small MIP, the rest kept
                rest = {v: val for v, val in fixed.items() if v.id not in free_ids}
                set_bounds([(v, float(v.lowBound), float(v.upBound)) for v in free])
                set_kind(free, integer)
                if incumbent is not None:
                    start_from(incumbent)
                else:
                    h.clearSolver()  # else HiGHS spends time completing the LP's values
                saved = {name: h.getOptionValue(name)[1] for name in _SMALL_MIP_OPTIONS}
                for name, val in _SMALL_MIP_OPTIONS.items():
                    h.setOptionValue(name, val)
                h.run()
                for name, val in saved.items():
                    h.setOptionValue(name, val)
                if h.getModelStatus() == ok and h.getSolution().value_valid:
                    value = objective()
                    if not rest:
                        # nothing else was fixed: that small MIP was the whole MILP, so its
                        # dual bound holds for the whole model
                        dual = float(h.getInfo().mip_dual_bound)
                        if math.isfinite(dual):
                            bound = max(bound, dual)
                    incumbent = list(h.getSolution().col_value)
                    if value - bound <= tolerance(value):
                        gap = abs(value - bound) / max(abs(value), 1e-9)
                        prices = _fixed_prices(m, h, cols, free, incumbent)
                        solver.findSolutionValues(lp)
                        return _Outcome("optimal", gap, prices, "MILP of the on/off loads")
                set_kind(free, cont)
            set_bounds([(v, float(v.lowBound), float(v.upBound)) for v in fixed])
        set_kind(ints, integer)
    used = h.getRunTime()
    remaining = time_limit_s - (time.perf_counter() - t0)
    if remaining <= 0 and incumbent is None:
        # out of time with no plan yet: the caller's fallback, not a search past the limit
        # (a few extra milliseconds sometimes found a plan and sometimes not)
        return None
    h.setOptionValue("time_limit", float(used + max(0.01, remaining)))
    if incumbent is not None:
        start_from(incumbent)
    else:
        h.clearSolver()
    h.run()
    status = h.getModelStatus()
    if (
        not math.isfinite(objective())
        or status
        in (
            highspy.HighsModelStatus.kInfeasible,
            highspy.HighsModelStatus.kNotset,
        )
        or not h.getSolution().value_valid
    ):
        return None
    info = h.getInfo()
    gap = float(info.mip_gap) if ints and math.isfinite(info.mip_gap) else 0.0
    final = list(h.getSolution().col_value)
    prices = _fixed_prices(m, h, cols, ints, final) if ints else _prices(m, h)
    solver.findSolutionValues(lp)
    return _Outcome("optimal" if status == ok else "feasible", gap, prices, "MILP")


def _prices(m: _Builder, h: Any) -> tuple[float, ...] | None:
    import highspy

    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None  # pragma: no cover - only after an LP failure
    duals = h.getSolution().row_dual
    return tuple(round(duals[c.id] / m.dt, 6) for c in m.balance)


def _fixed_prices(
    m: _Builder, h: Any, cols: dict[int, int], ints: list[Any], values: list[float]
) -> tuple[float, ...] | None:
    """Fix the integers at their values, re-solve the LP in place and read the duals."""
    import highspy

    idx = [cols[v.id] for v in ints]
    vals = [float(round(values[j])) for j in idx]
    h.changeColsIntegrality(len(idx), idx, [highspy.HighsVarType.kContinuous] * len(idx))
    h.changeColsBounds(len(idx), idx, vals, vals)
    h.run()
    return _prices(m, h)


def solve(
    problem: Problem,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    mip_gap_abs: float = DEFAULT_MIP_GAP_ABS,
    marginal_prices: bool = True,
    threads: int = 1,
) -> Plan:
    """Plan every device of `problem` with one MILP.

    Never raises for a valid problem: if PuLP/HiGHS is missing, fails or finds no solution in
    `time_limit_s`, the greedy plan is returned with status "fallback". The baseline policy is
    priced too (`baseline_costs`, `savings`); when it is at least as good as the solver's plan
    (time limit, MIP gap) the baseline is returned with status "baseline", so the plan's
    objective never exceeds the baseline's. Deterministic for the same input (one thread)
    unless the time limit cuts the search.
    """
    time.perf_counter()
    coef = coefficients(problem)
    base = baseline_plan(problem)
    plan: Plan | None = None
    build_s = solve_s = 0.0
    message = ""
    try:
        import pulp

        if "HiGHS" not in pulp.listSolvers(onlyAvailable=True):
            raise SolverUnavailableError("HiGHS is not available to PuLP")
        tb = time.perf_counter()
        m = _Builder(problem, coef)
        m.build()
        t1 = time.perf_counter()
        build_s = t1 - tb
        outcome = _optimise(
            m,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            mip_gap_abs=mip_gap_abs,
            threads=threads,
        )
        solve_s = time.perf_counter() - t1
        if outcome is None:
            raise SolverUnavailableError("no solution within the time limit")
        plan = _extract(problem, m, outcome.status)
        plan = replace(
            plan,
            marginal_price=outcome.prices if marginal_prices else None,
            mip_gap=outcome.gap,
            message=f"solved by {outcome.how}",
        )
        if violations := check_plan(problem, plan):
            raise SolverUnavailableError(f"unsafe solver plan: {violations[0].message}")
    except Exception as err:
        _LOGGER.debug("MILP failed, using the greedy plan", exc_info=True)
        message = f"greedy fallback: {err}"
        plan = None
    if plan is None:
        plan = greedy_plan(problem)
        if base.costs.objective < plan.costs.objective and not check_plan(problem, base):
            plan = replace(base, status="fallback", solver="baseline")
        plan = replace(plan, message=message)
    elif base.costs.objective < plan.costs.objective - 1e-9 and not check_plan(problem, base):
        plan = replace(base, message="the baseline policy is at least as good")
    plan = replace(
        plan,
        baseline_costs=base.costs,
        savings=base.costs.objective - plan.costs.objective,
        build_time_s=build_s,
        solve_time_s=solve_s,
    )
    return replace(plan, explanations=explain(problem, plan))
