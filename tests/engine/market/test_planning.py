"""Cleared trades in a planning problem, and grid energy cut at slot boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.market import (
    Position,
    apply_positions,
    split_by_slot,
)
from custom_components.energy_collective.engine.model import Grid, Problem
from custom_components.energy_collective.engine.safety import check_plan

START = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)
T0 = int(START.timestamp())


def _problem(pv: tuple[float, ...] = ()) -> Problem:
    n = 4
    return Problem(
        start=START,
        step=timedelta(minutes=15),
        n_steps=n,
        import_price=(0.3,) * n,
        export_price=(0.06,) * n,
        base_load_w=(400.0, 400.0, 400.0, 400.0),
        pv_w=pv,
        grid=Grid(import_limit_w=(11000.0,) * n, export_limit_w=(11000.0,) * n),
    )


def _position(slot: int, bought: float = 0.0, sold: float = 0.0) -> Position:
    return Position(slot, bought, sold, 0.1 if bought else None, 0.1 if sold else None)


def test_sold_energy_is_load_and_bought_energy_is_supply() -> None:
    """0.5 kWh sold in a 15-minute step is 2 kW more load; bought energy lowers the load, and
    what is left over beyond the whole load arrives as generation."""
    problem = _problem(pv=(1000.0, 0.0, 0.0, 0.0))
    positions = {
        T0: _position(T0, sold=0.5),
        T0 + 900: _position(T0 + 900, bought=0.05),  # 200 W: half the base load
        T0 + 1800: _position(T0 + 1800, bought=0.25),  # 1 kW: 600 W more than the load
    }
    out = apply_positions(problem, positions)
    assert out.base_load_w == (2400.0, 200.0, 0.0, 400.0)
    assert out.pv_w == (1000.0, 0.0, 600.0, 0.0)
    assert out.import_price == problem.import_price


def test_without_a_position_in_the_horizon_nothing_changes() -> None:
    """Slots before the horizon, off the step grid or absent leave the problem as it is."""
    problem = _problem()
    positions = {T0 - 900: _position(T0 - 900, sold=1.0), T0 + 60: _position(T0 + 60, sold=1.0)}
    assert apply_positions(problem, positions) is problem
    assert apply_positions(problem, {}) is problem


def test_a_problem_without_pv_gets_a_pv_series_for_bought_energy() -> None:
    out = apply_positions(_problem(), {T0 + 2700: _position(T0 + 2700, bought=0.2)})
    assert out.pv_w == (0.0, 0.0, 0.0, 400.0)
    assert out.base_load_w[3] == 0.0


def test_split_by_slot_cuts_at_boundaries() -> None:
    """2 kW of import from 10:14 to 10:16 is 1/30 kWh on each side of 10:15."""
    parts = split_by_slot(T0 + 840, T0 + 960, 2000.0, 900)
    assert [p[0] for p in parts] == [T0, T0 + 900]
    assert [p[1] for p in parts] == pytest.approx([1 / 30, 1 / 30])
    assert [p[2] for p in parts] == [0.0, 0.0]
    # export is negative power; an empty interval gives nothing
    ((slot, imported, exported),) = split_by_slot(T0, T0 + 900, -3600.0, 900)
    assert (slot, imported) == (T0, 0.0)
    assert exported == pytest.approx(0.9)
    assert split_by_slot(T0, T0, 1000.0, 900) == []


def test_trades_count_against_the_connection() -> None:
    """7 kW bought from a neighbour arrives through the home's 11 kW connection: the grid may
    bring only 4 kW more in that step, and a plan importing the full 11 kW beside the purchase
    fails the safety check. What is sold lowers the export limit alike."""
    problem = _problem()
    positions = {
        T0: _position(T0, bought=1.75),  # 7 kW over 15 minutes
        T0 + 900: _position(T0 + 900, sold=0.5),  # 2 kW
    }
    out = apply_positions(problem, positions)
    assert out.grid.import_limit_w == (4000.0, 11000.0, 11000.0, 11000.0)
    assert out.grid.export_limit_w == (11000.0, 9000.0, 11000.0, 11000.0)
    plan = milp.solve(replace(out, base_load_w=(18000.0, 400.0, 400.0, 400.0)))
    assert plan.import_w[0] <= 4000.0 + 1e-6
    overloaded = replace(plan, import_w=(11000.0, *plan.import_w[1:]))
    assert any(v.rule == "import_limit" for v in check_plan(out, overloaded))
