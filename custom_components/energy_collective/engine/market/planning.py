"""Where the market meets the planner: cleared trades in a planning problem, and metering.

Pure Python (no Home Assistant); `agents/market.py` calls these.

A home that sold energy in a slot must export it: the sale is planned as extra load, so the
planner keeps (or buys) that energy for the slot. A home that bought energy receives it: the
purchase is planned as extra supply, taken off the base load first and given as generation
beyond it. What the home then fails to deliver or use is settled at the grid prices, exactly
as the ledger does (a shortfall at retail, an excess at feed-in), so the planner weighs the
deviation at the right price.

A trade is paid between neighbours but flows through the home's own connection: energy bought
arrives through the meter like any import, energy sold leaves through it like any export. So
the connection's limits hold for the grid exchange *and* the trades together: the import limit
of a step is lowered by what is bought in it, the export limit by what is sold (never below
zero), and the plan (and `check_plan`) keep to what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..model import Problem
from .session import Position


def apply_positions(problem: Problem, positions: Mapping[int, Position]) -> Problem:
    """The problem with this home's cleared trades: sold energy as load, bought as supply.

    `positions` are keyed by slot start (Unix seconds); a slot counts when it starts exactly
    at one of the problem's steps. The problem is returned unchanged without any such slot.
    """
    n = problem.n_steps
    start = int(problem.start.timestamp())
    step_s = int(problem.step.total_seconds())
    hours = problem.step_hours
    base = list(problem.base_load_w)
    pv = list(problem.pv_w) if problem.pv_w else [0.0] * n
    import_limit = list(problem.grid.import_limit_w)
    export_limit = list(problem.grid.export_limit_w)
    changed = False
    for k in range(n):
        position = positions.get(start + k * step_s)
        if position is None:
            continue
        changed = True
        bought_w = position.import_kwh * 1000.0 / hours
        sold_w = position.export_kwh * 1000.0 / hours
        load = base[k] + sold_w - bought_w
        if load < 0:
            pv[k] += -load
            load = 0.0
        base[k] = load
        # the trades pass through the same connection as the grid exchange
        import_limit[k] = max(0.0, import_limit[k] - bought_w)
        export_limit[k] = max(0.0, export_limit[k] - sold_w)
    if not changed:
        return problem
    grid = replace(
        problem.grid, import_limit_w=tuple(import_limit), export_limit_w=tuple(export_limit)
    )
    return replace(problem, base_load_w=tuple(base), pv_w=tuple(pv), grid=grid)


def split_by_slot(
    start_s: float, end_s: float, power_w: float, slot_s: int
) -> list[tuple[int, float, float]]:
    """Energy of a constant grid power from `start_s` to `end_s`, cut at slot boundaries.

    Returns (slot start, import kWh, export kWh) per slot touched; `power_w` is positive for
    import and negative for export.
    """
    out: list[tuple[int, float, float]] = []
    t = start_s
    while t < end_s:
        slot = int(t // slot_s) * slot_s
        upto = min(end_s, slot + slot_s)
        kwh = power_w * (upto - t) / 3_600_000.0
        out.append((slot, max(kwh, 0.0), max(-kwh, 0.0)))
        t = upto
    return out
