"""The greedy fallback plan, used when the solver is missing, fails or times out.

Price-aware but simple, and always safe: each cycle starts where its profile meets the lowest
weighted price (late starts only if the window cannot hold it), each EV session fills its
cheapest plugged steps at full power, each interruptible load runs in its cheapest contiguous
block, thermal loads keep the bottom of their band and batteries do self-consumption. The
simulator of the baseline applies the grid limits. The plan's status is "fallback".
"""

from __future__ import annotations

import math

from .baseline import Decisions, simulate, snap_ev_power
from .model import EVCharger, InterruptibleLoad, Plan, Problem, ShiftableAppliance
from .modes import coefficients, cycle_spec, ev_sessions, run_spec


def greedy_plan(problem: Problem) -> Plan:
    """A safe, price-aware plan without a solver (status "fallback", solver "greedy")."""
    coef = coefficients(problem)
    n = problem.n_steps
    dt = problem.step_hours
    price = coef.import_cost
    decisions = Decisions()
    for d in problem.devices:
        if isinstance(d, ShiftableAppliance):
            spec = cycle_spec(problem, d, coef)
            best: tuple[float, int] | None = None
            for k, late in spec.starts:
                cost = sum(kw * dt * price[k + j] for j, kw in enumerate(spec.profile_kw))
                cost += late * spec.late_per_hour
                if best is None or cost < best[0]:
                    best = (cost, k)
            run = best is not None and (spec.required or best[0] < spec.run_value)
            decisions.starts[d.name] = best[1] if best is not None and run else None
        elif isinstance(d, EVCharger):
            sched = [0.0] * n
            full = snap_ev_power(d, d.max_power_w, up=False)
            for s in ev_sessions(problem, d):
                left = s.need_kwh
                for t in sorted(s.steps, key=lambda x: (price[x], x)):
                    if left <= 1e-9 or full <= 0:
                        break
                    want = snap_ev_power(d, left / (d.efficiency * dt) * 1000, up=True)
                    sched[t] = min(want, full) if want > 0 else 0.0
                    left -= sched[t] / 1000 * dt * d.efficiency
            decisions.ev_power_w[d.name] = sched
        elif isinstance(d, InterruptibleLoad):
            rs = run_spec(problem, d)
            on = [False] * n
            length = math.ceil(rs.need_kwh / (rs.power_kw * dt) - 1e-9) if rs.need_kwh else 0
            if length:
                length = min(max(length, rs.min_on), len(rs.window))
                firsts = range(rs.window.start, rs.window.stop - length + 1)
                k = min(firsts, key=lambda x: (sum(price[x : x + length]), x))
                for t in range(k, k + length):
                    on[t] = True
            decisions.run_on[d.name] = on
    return simulate(problem, decisions, status="fallback", solver="greedy")
