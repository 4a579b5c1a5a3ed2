"""The baseline policy and the greedy fallback: what a home without a planner does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.energy_collective.engine.baseline import baseline_plan, snap_ev_power
from custom_components.energy_collective.engine.greedy import greedy_plan
from custom_components.energy_collective.engine.model import (
    EVCharger,
    EVSession,
    InterruptibleLoad,
    ShiftableAppliance,
)
from custom_components.energy_collective.engine.safety import check_plan

from .test_milp import T0, H, battery, home, water_heater


def test_appliance_starts_at_its_earliest_start() -> None:
    cycle = ShiftableAppliance("dishwasher", (1000.0, 500.0), profile_step=H, earliest_start=T0 + H)
    problem = home([0.5, 0.5, 0.5, 0.1, 0.1], devices=(cycle,))
    plan = baseline_plan(problem)
    assert plan.status == "baseline"
    assert plan.device("dishwasher").start_step == 1
    assert plan.device("dishwasher").power_w == (0.0, 1000.0, 500.0, 0.0, 0.0)
    assert plan.costs.energy == pytest.approx(0.75)
    greedy = greedy_plan(problem)
    assert greedy.status == "fallback"
    assert greedy.device("dishwasher").start_step == 3
    assert greedy.costs.energy == pytest.approx(0.15)


def test_ev_charges_at_full_power_on_plug_in_until_full() -> None:
    ev = EVCharger(
        "car", max_power_w=7000.0, efficiency=1.0, sessions=(EVSession(T0 + H, T0 + 5 * H, 10.0),)
    )
    problem = home([0.4, 0.4, 0.4, 0.1, 0.1, 0.1], devices=(ev,))
    plan = baseline_plan(problem)
    assert plan.device("car").power_w == (0.0, 7000.0, 3000.0, 0.0, 0.0, 0.0)
    assert plan.shortfalls == ()
    greedy = greedy_plan(problem)
    assert greedy.device("car").power_w == (0.0, 0.0, 0.0, 7000.0, 3000.0, 0.0)
    assert check_plan(problem, greedy) == []


def test_battery_charges_from_surplus_and_covers_load() -> None:
    problem = home(
        [0.3] * 4, pv=[3000.0, 3000.0, 0, 0], load=1000.0, devices=(battery(capacity_kwh=3.0),)
    )
    plan = baseline_plan(problem)
    # surplus 2 kW is capped at the 1 kW charge limit; the rest is exported
    assert plan.device("battery").power_w == (1000.0, 1000.0, -1000.0, -1000.0)
    assert plan.export_w == (1000.0, 1000.0, 0.0, 0.0)
    assert plan.import_w == (0.0, 0.0, 0.0, 0.0)
    assert plan.device("battery").soc == pytest.approx((1 / 3, 2 / 3, 1 / 3, 0.0))


def test_import_limit_lowers_the_ev_first() -> None:
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        min_power_w=1400.0,
        power_step_w=230.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 2 * H, 20.0),),
    )
    problem = home([0.2, 0.2], load=1000.0, devices=(ev,), import_limit=5000.0)
    plan = baseline_plan(problem)
    # 4 kW of headroom, on whole 230 W steps
    assert plan.device("car").power_w == (3910.0, 3910.0)
    assert plan.import_w == (4910.0, 4910.0)
    assert check_plan(problem, plan) == []
    (short,) = plan.shortfalls
    # the need is rounded up to whole 230 Wh quanta: 87 x 0.23 = 20.01 kWh
    assert short.amount == pytest.approx(87 * 0.23 - 7.82)


def test_unservable_load_is_reported_not_hidden() -> None:
    plan = baseline_plan(home([0.2], load=[5000.0], import_limit=3000.0))
    assert plan.unserved_w == (2000.0,)
    assert plan.shortfalls[0].requirement == "load_not_served"


def test_export_limit_curtails_surplus() -> None:
    plan = baseline_plan(home([0.2], export=0.1, pv=[5000.0], export_limit=2000.0))
    assert plan.export_w == (2000.0,)
    assert plan.curtailed_w == (3000.0,)


def test_pump_and_thermostat() -> None:
    pump = InterruptibleLoad("pump", 1000.0, run_hours=1.5, min_on=2 * H)
    heater = water_heater(4)
    problem = home([0.2] * 4, devices=(pump, heater))
    plan = baseline_plan(problem)
    # 1.5 h rounds up to 2 steps, also the minimum on-time
    assert plan.device("pump").power_w == (1000.0, 1000.0, 0.0, 0.0)
    # thermostat: heat only when the temperature would fall below 45 °C
    assert plan.device("boiler").power_w == pytest.approx((0.0, 0.0, 0.0, 1000.0))
    assert plan.device("boiler").temperature_c == pytest.approx((50.0, 50.0, 50.0, 45.0))
    greedy = greedy_plan(problem)
    assert sum(greedy.device("pump").on or ()) == 2
    assert check_plan(problem, greedy) == []


def test_optional_cycle_and_running_cycle() -> None:
    optional = ShiftableAppliance("dryer", (1000.0,), profile_step=H, required=False)
    running = ShiftableAppliance(
        "washer", (500.0, 800.0, 300.0), profile_step=H, started_at=T0 - timedelta(hours=1)
    )
    done = ShiftableAppliance("old", (500.0,), profile_step=H, started_at=T0 - 3 * H)
    later = ShiftableAppliance("future", (500.0,), profile_step=H, started_at=T0 + H)
    problem = home([0.2] * 3, devices=(optional, running, done, later))
    plan = baseline_plan(problem)
    assert plan.device("dryer").start_step is None
    assert plan.device("washer").power_w == (800.0, 300.0, 0.0)
    assert plan.device("old").power_w == (0.0, 0.0, 0.0)
    assert plan.device("future").power_w == (0.0, 500.0, 0.0)
    assert check_plan(problem, plan) == []
    assert check_plan(problem, greedy_plan(problem)) == []


def test_snap_ev_power() -> None:
    ev = EVCharger("car", max_power_w=11040.0, min_power_w=4140.0, power_step_w=690.0)
    assert snap_ev_power(ev, 5000.0, up=True) == 5520.0
    assert snap_ev_power(ev, 5000.0, up=False) == 4830.0
    assert snap_ev_power(ev, 1000.0, up=True) == 4140.0
    assert snap_ev_power(ev, 1000.0, up=False) == 0.0
    assert snap_ev_power(ev, 20000.0, up=True) == 11040.0
    assert snap_ev_power(ev, 0.0, up=True) == 0.0
