"""The MILP planner: behaviour a user notices, on small hand-checkable homes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.model import (
    Battery,
    EVCharger,
    EVSession,
    Grid,
    InterruptibleLoad,
    Problem,
    ShiftableAppliance,
    ThermalLoad,
    plan_to_dict,
)
from custom_components.energy_collective.engine.safety import check_plan

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=timezone(timedelta(hours=1)))
H = timedelta(hours=1)


def home(
    prices: list[float],
    *,
    export: list[float] | float = 0.0,
    load: list[float] | float = 0.0,
    pv: list[float] | float = 0.0,
    devices: tuple[Any, ...] = (),
    step: timedelta = H,
    import_limit: float = 20000.0,
    export_limit: float = 20000.0,
    **kw: Any,
) -> Problem:
    """A small home with hourly steps and whatever the test needs."""
    n = len(prices)

    def ser(x: list[float] | float) -> tuple[float, ...]:
        return tuple(float(v) for v in x) if isinstance(x, list) else (float(x),) * n

    grid = kw.pop(
        "grid",
        Grid(import_limit_w=(import_limit,) * n, export_limit_w=(export_limit,) * n),
    )
    return Problem(
        start=T0,
        step=step,
        n_steps=n,
        import_price=ser(prices),
        export_price=ser(export),
        base_load_w=ser(load),
        pv_w=ser(pv),
        grid=grid,
        devices=devices,
        **kw,
    )


def battery(**kw: Any) -> Battery:
    args: dict[str, Any] = {
        "name": "battery",
        "capacity_kwh": 2.0,
        "max_charge_w": 1000.0,
        "max_discharge_w": 1000.0,
        "soc_initial": 0.0,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "terminal_value_per_kwh": 0.0,
    }
    args.update(kw)
    return Battery(**args)


def solve(problem: Problem) -> Any:
    plan = milp.solve(problem, time_limit_s=30)
    assert check_plan(problem, plan) == []
    return plan


def test_dishwasher_runs_in_cheapest_window_for_its_profile() -> None:
    prices = [0.3, 0.1, 0.5, 0.1, 0.2, 0.3]
    heavy_first = ShiftableAppliance("dishwasher", (2000.0, 500.0), profile_step=H)
    heavy_last = ShiftableAppliance("dishwasher", (500.0, 2000.0), profile_step=H)
    # cost of a start k: 2 kWh at p[k] + 0.5 kWh at p[k+1] (or the reverse)
    for appliance in (heavy_first, heavy_last):
        profile = [w / 1000 for w in appliance.profile_w]
        costs = {k: sum(e * prices[k + j] for j, e in enumerate(profile)) for k in range(5)}
        best = min(costs, key=lambda k: costs[k])
        plan = solve(home(prices, devices=(appliance,)))
        dp = plan.device("dishwasher")
        assert dp.start_step == best
        assert dp.start == T0 + best * H
        assert plan.costs.energy == pytest.approx(costs[best], abs=1e-6)
    assert solve(home(prices, devices=(heavy_first,))).device("dishwasher").start_step == 3
    assert solve(home(prices, devices=(heavy_last,))).device("dishwasher").start_step == 0


def test_cycle_respects_its_window() -> None:
    prices = [0.1, 0.4, 0.3, 0.2, 0.35, 0.1]
    cycle = ShiftableAppliance(
        "washer",
        (1000.0, 1000.0),
        profile_step=H,
        earliest_start=T0 + H,
        latest_finish=T0 + 5 * H,
    )
    plan = solve(home(prices, devices=(cycle,)))
    # starts 1..3 fit; costs 0.7, 0.5, 0.55
    assert plan.device("washer").start_step == 2
    assert plan.shortfalls == ()


def test_required_cycle_that_cannot_fit_runs_late_and_says_by_how_much() -> None:
    prices = [0.1] * 6
    cycle = ShiftableAppliance(
        "washer",
        (1000.0,) * 3,
        profile_step=H,
        earliest_start=T0 + H,
        latest_finish=T0 + 3 * H,
    )
    plan = solve(home(prices, devices=(cycle,)))
    assert plan.device("washer").start_step == 1
    (short,) = plan.shortfalls
    assert (short.requirement, short.unit) == ("cycle_late", "h")
    assert short.amount == pytest.approx(1.0)


def test_battery_charges_when_cheap_and_discharges_when_expensive() -> None:
    problem = home([0.1, 0.1, 0.5, 0.5], load=1000.0, devices=(battery(),))
    plan = solve(problem)
    assert plan.device("battery").power_w == pytest.approx((1000, 1000, -1000, -1000))
    assert plan.import_w == pytest.approx((2000, 2000, 0, 0))
    # 4 kWh bought at 0.1 instead of 2 at 0.1 and 2 at 0.5
    assert plan.costs.energy == pytest.approx(0.4)
    assert plan.baseline_costs is not None
    assert plan.baseline_costs.energy == pytest.approx(1.2)
    assert plan.savings == pytest.approx(0.8, abs=1e-5)
    assert plan.device("battery").soc == pytest.approx((0.5, 1.0, 0.5, 0.0))


def test_battery_losses_are_counted() -> None:
    # round trip 0.9 * 0.9 = 0.81: a cheap kWh 0.1 stored is worth 0.1/0.81 = 0.123 < 0.5
    b = battery(charge_efficiency=0.9, discharge_efficiency=0.9, capacity_kwh=10.0)
    plan = solve(home([0.1, 0.5], load=[0.0, 900.0], devices=(b,)))
    # charging is capped at 1 kW: 1 kWh in, 0.9 stored, 0.81 back out; 0.09 kWh still bought
    assert plan.device("battery").power_w == pytest.approx((1000.0, -810.0))
    assert plan.import_w == pytest.approx((1000.0, 90.0))
    assert plan.costs.energy == pytest.approx(0.1 * 1.0 + 0.5 * 0.09)
    assert plan.device("battery").soc == pytest.approx((0.09, 0.0), abs=1e-9)


def test_battery_wear_stops_a_small_spread() -> None:
    b = battery(wear_cost_per_kwh=0.15)
    plan = solve(home([0.2, 0.4], load=1000.0, devices=(b,)))
    # a spread of 0.2 does not pay two times 0.15 of wear
    assert plan.device("battery").power_w == pytest.approx((0.0, 0.0))


def test_terminal_value_keeps_the_battery_from_emptying() -> None:
    full = battery(soc_initial=1.0, soc_min=0.1)
    plan = solve(home([0.3] * 4, export=0.2, devices=(full,)))
    # without a value for stored energy, selling it at 0.2 pays
    assert plan.device("battery").soc[-1] == pytest.approx(0.1)
    kept = replace(full, terminal_value_per_kwh=0.25)
    plan = solve(home([0.3] * 4, export=0.2, devices=(kept,)))
    assert plan.device("battery").soc[-1] == pytest.approx(1.0)
    assert plan.costs.terminal_value == pytest.approx(0.25 * 2.0)


def test_battery_without_grid_charging_only_stores_surplus() -> None:
    b = battery(allow_grid_charge=False)
    plan = solve(
        home([0.01, 0.01, 0.9, 0.9], pv=[500.0, 0, 0, 0], load=[0, 0, 1000, 1000], devices=(b,))
    )
    assert plan.device("battery").power_w[0] == pytest.approx(500.0)
    assert plan.device("battery").power_w[1] == pytest.approx(0.0)
    assert plan.import_w[0] == pytest.approx(0.0, abs=1e-6)


def test_battery_without_export_does_not_sell() -> None:
    b = battery(soc_initial=1.0, allow_grid_export=False)
    plan = solve(home([0.3, 0.3], export=0.5, devices=(b,)))
    assert plan.export_w == pytest.approx((0.0, 0.0))


def test_ev_whose_need_cannot_be_met_charges_at_max_and_reports_shortfall() -> None:
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 4 * H, 40.0),),
    )
    plan = solve(home([0.2, 0.3, 0.25, 0.4], devices=(ev,)))
    assert plan.device("car").power_w == pytest.approx((7000,) * 4)
    (short,) = plan.shortfalls
    assert short.requirement == "ev_energy"
    assert short.amount == pytest.approx(40 - 28)
    assert plan.device("car").energy_kwh == pytest.approx((7, 14, 21, 28))


def test_ev_charges_in_cheapest_plugged_hours_on_current_steps() -> None:
    ev = EVCharger(
        "car",
        max_power_w=16 * 690.0,
        min_power_w=6 * 690.0,
        power_step_w=690.0,
        efficiency=1.0,
        sessions=(EVSession(T0 + H, T0 + 5 * H, 11.04),),
        capacity_kwh=50.0,
        soc_initial=0.5,
    )
    prices = [0.01, 0.3, 0.1, 0.2, 0.15, 0.05]
    plan = solve(home(prices, devices=(ev,)))
    p = plan.device("car").power_w
    assert p[0] == 0
    assert p[5] == 0
    # 11.04 kWh = 16 A for one hour: the cheapest plugged hour
    assert p == pytest.approx((0, 0, 11040, 0, 0, 0))
    assert plan.device("car").soc[-1] == pytest.approx(0.5 + 11.04 / 50)
    assert all(x == 0 or (4140 - 1e-6 <= x <= 11040 + 1e-6) for x in p)


def test_ev_minimum_power_makes_charging_off_or_above_minimum() -> None:
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        min_power_w=3000.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 3 * H, 4.0),),
    )
    plan = solve(home([0.1, 0.2, 0.3], devices=(ev,)))
    p = plan.device("car").power_w
    assert all(x == 0 or x >= 3000 - 1e-6 for x in p)
    assert sum(p) == pytest.approx(4000.0)
    assert p[0] == pytest.approx(4000.0)


@pytest.mark.parametrize(
    ("imp", "exp"),
    [(-0.1, 0.05), (0.2, -0.1), (-0.2, -0.1), (0.1, 0.1)],
)
def test_no_simultaneous_import_and_export(imp: float, exp: float) -> None:
    b = battery(capacity_kwh=4.0, soc_initial=0.5)
    problem = home([imp] * 3, export=exp, pv=3000.0, load=500.0, devices=(b,))
    plan = solve(problem)
    for i, e in zip(plan.import_w, plan.export_w, strict=True):
        assert min(i, e) == pytest.approx(0.0, abs=1e-6)
    assert all(min(max(0, p), max(0, -p)) == 0 for p in plan.device("battery").power_w)


def test_negative_export_price_curtails_instead_of_exporting() -> None:
    plan = solve(home([0.2] * 2, export=-0.1, pv=3000.0, load=500.0))
    assert plan.export_w == pytest.approx((0.0, 0.0))
    assert plan.curtailed_w == pytest.approx((2500.0, 2500.0))
    assert plan.costs.energy == pytest.approx(0.0)


def test_demand_charge_flattens_the_peak() -> None:
    ev = EVCharger(
        "car", max_power_w=8000.0, efficiency=1.0, sessions=(EVSession(T0, T0 + 4 * H, 8.0),)
    )
    n = 4
    flat = home([0.2] * n, load=500.0, devices=(ev,))
    charged = replace(
        flat,
        grid=Grid((20000.0,) * n, (20000.0,) * n, demand_charge_per_kw=10.0),
    )
    plan = solve(charged)
    assert plan.device("car").power_w == pytest.approx((2000,) * 4)
    assert plan.costs.peak_import_w == pytest.approx(2500.0)
    assert plan.costs.demand == pytest.approx(25.0)
    assert plan.baseline_costs is not None
    assert plan.baseline_costs.peak_import_w == pytest.approx(8500.0)


def test_peak_floor_is_free() -> None:
    ev = EVCharger(
        "car", max_power_w=8000.0, efficiency=1.0, sessions=(EVSession(T0, T0 + 2 * H, 8.0),)
    )
    grid = Grid((20000.0,) * 2, (20000.0,) * 2, demand_charge_per_kw=10.0, peak_floor_w=9000.0)
    plan = solve(home([0.1, 0.3], devices=(ev,), grid=grid))
    assert plan.device("car").power_w == pytest.approx((8000.0, 0.0))
    assert plan.costs.demand == pytest.approx(90.0)


def test_import_limit_is_respected_and_unservable_load_reported() -> None:
    plan = solve(home([0.2] * 2, load=[3000.0, 1000.0], import_limit=2000.0))
    assert plan.import_w == pytest.approx((2000.0, 1000.0))
    (short,) = plan.shortfalls
    assert (short.requirement, short.amount) == ("load_not_served", pytest.approx(1.0))


def test_carbon_price_shifts_load_in_eco_mode() -> None:
    cycle = ShiftableAppliance("dishwasher", (1000.0,), profile_step=H)
    prices = [0.2, 0.22, 0.2, 0.2]
    carbon = (0.5, 0.1, 0.5, 0.5)
    cost_mode = home(prices, devices=(cycle,), carbon_intensity=carbon, carbon_price_per_kg=0.1)
    assert solve(cost_mode).device("dishwasher").start_step != 1
    eco = replace(cost_mode, mode="eco")
    plan = solve(eco)
    # 0.22 + 0.1 * 0.1 = 0.23 beats 0.2 + 0.1 * 0.5 = 0.25
    assert plan.device("dishwasher").start_step == 1
    assert plan.costs.emissions_kg == pytest.approx(0.1)
    assert plan.costs.carbon == pytest.approx(0.01)


def test_pool_pump_respects_min_on_time() -> None:
    prices = [0.1, 0.5, 0.1, 0.5, 0.3, 0.3, 0.5, 0.5]
    pump = InterruptibleLoad("pump", power_w=1000.0, run_hours=2.0, min_on=2 * H)
    plan = solve(home(prices, devices=(pump,)))
    on = plan.device("pump").on
    assert on is not None
    # cheapest single hours are 0 and 2, but a 2 h minimum run makes 4-5 (0.6) best
    # against 0-1 (0.6) or 1-2 (0.6): any 2 h block costing 0.6
    assert sum(on) == 2
    first = on.index(True)
    assert on[first + 1]
    assert plan.costs.energy == pytest.approx(0.6)
    free = solve(home(prices, devices=(replace(pump, min_on=timedelta(0)),)))
    assert free.device("pump").on == (True, False, True, False, False, False, False, False)


def test_pool_pump_min_off_time() -> None:
    prices = [0.1, 0.5, 0.1, 0.9, 0.9, 0.9]
    pump = InterruptibleLoad("pump", power_w=1000.0, run_hours=2.0, min_off=2 * H)
    plan = solve(home(prices, devices=(pump,)))
    on = plan.device("pump").on
    assert on == (True, True, False, False, False, False)


def test_pump_shortfall_when_window_too_short() -> None:
    pump = InterruptibleLoad(
        "pump", power_w=1000.0, energy_kwh=3.0, window_start=T0, window_end=T0 + 2 * H
    )
    plan = solve(home([0.1] * 4, devices=(pump,)))
    (short,) = plan.shortfalls
    assert (short.requirement, short.amount) == ("run_energy", pytest.approx(1.0))


def water_heater(n: int, **kw: Any) -> ThermalLoad:
    args: dict[str, Any] = {
        "name": "boiler",
        "max_power_w": 2000.0,
        "heat_capacity_kwh_per_k": 0.2,
        "loss_w_per_k": 0.0,
        "t_initial_c": 50.0,
        "t_min_c": (45.0,) * n,
        "t_max_c": (60.0,) * n,
        "ambient_c": (20.0,) * n,
        "heat_demand_w": (0.0, 0.0, 0.0, 2000.0),
        "efficiency": (1.0,) * n,
    }
    args.update(kw)
    return ThermalLoad(**args)


def test_water_heater_preheats_when_cheap_and_keeps_comfort() -> None:
    # a 2 kWh draw in the last hour: 50 - 2/0.2 = 40 < 45, so 1 kWh must be added first
    plan = solve(home([0.1, 0.3, 0.3, 0.3], devices=(water_heater(4),)))
    assert plan.device("boiler").power_w == pytest.approx((1000.0, 0.0, 0.0, 0.0))
    assert plan.device("boiler").temperature_c == pytest.approx((55.0, 55.0, 55.0, 45.0))
    assert plan.shortfalls == ()


def test_comfort_breach_is_reported_when_power_is_too_small() -> None:
    heater = water_heater(4, max_power_w=200.0, heat_demand_w=(0.0, 0.0, 0.0, 4000.0))
    plan = solve(home([0.1] * 4, devices=(heater,)))
    # 0.8 kWh at most: 50 + 4 - 20 = 34 °C at the end, 11 K below for 1 h
    assert plan.device("boiler").power_w == pytest.approx((200.0,) * 4)
    kinds = {s.requirement: s.amount for s in plan.shortfalls}
    assert kinds["comfort_low"] == pytest.approx(11.0)


def test_thermal_with_losses_and_min_power() -> None:
    heater = water_heater(
        4, loss_w_per_k=5.0, min_power_w=1000.0, heat_demand_w=(0.0,) * 4, t_initial_c=46.0
    )
    plan = solve(home([0.3, 0.1, 0.3, 0.3], devices=(heater,)))
    p = plan.device("boiler").power_w
    assert all(x == 0 or x >= 1000 - 1e-6 for x in p)
    assert min(plan.device("boiler").temperature_c or ()) >= 45 - 1e-6


def test_optional_cycle_runs_only_when_worth_it() -> None:
    cheap = ShiftableAppliance("dryer", (1000.0,), profile_step=H, required=False, run_value=0.15)
    assert solve(home([0.2, 0.1], devices=(cheap,))).device("dryer").start_step == 1
    assert solve(home([0.2, 0.2], devices=(cheap,))).device("dryer").start_step is None


def test_marginal_prices_follow_the_import_price() -> None:
    plan = solve(home([0.1, 0.3, 0.2], load=1000.0))
    assert plan.marginal_price == pytest.approx((0.1, 0.3, 0.2), abs=1e-5)


def test_marginal_price_of_a_battery_home_links_the_hours() -> None:
    b = battery(capacity_kwh=10.0, max_charge_w=5000.0, max_discharge_w=5000.0)
    plan = solve(home([0.1, 0.3], load=1000.0, devices=(b,)))
    # with a lossless battery that is not full, energy at 1 is worth what it costs at 0
    assert plan.marginal_price is not None
    assert plan.marginal_price[1] == pytest.approx(0.1, abs=1e-5)


def test_solver_failure_gives_a_safe_greedy_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Any) -> None:
        raise RuntimeError("solver broke")

    monkeypatch.setattr(milp._Builder, "build", boom)
    cycle = ShiftableAppliance("dishwasher", (1000.0,), profile_step=H)
    problem = home([0.3, 0.1, 0.2], devices=(cycle, battery()), load=300.0)
    plan = milp.solve(problem)
    assert plan.status == "fallback"
    assert "solver broke" in plan.message
    assert check_plan(problem, plan) == []
    assert plan.device("dishwasher").start_step == 1


def test_missing_solver_gives_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulp

    monkeypatch.setattr(pulp, "listSolvers", lambda **_: [])
    plan = milp.solve(home([0.1, 0.2], load=100.0))
    assert plan.status == "fallback"
    assert "HiGHS" in plan.message


def test_plan_is_deterministic() -> None:
    from benchmarks._problems import p1

    a = plan_to_dict(milp.solve(p1()))
    b = plan_to_dict(milp.solve(p1()))
    for d in (a, b):
        d.pop("build_time_s")
        d.pop("solve_time_s")
    assert a == b


def test_time_limit_gives_fallback_plan() -> None:
    from benchmarks._problems import p2

    problem = p2()
    plan = milp.solve(problem, time_limit_s=0.001)
    # no solution in time: the greedy plan (or the baseline, if better); a poor one: the baseline
    assert plan.status in ("fallback", "baseline")
    assert check_plan(problem, plan) == []
    assert plan.baseline_costs is not None
    assert plan.costs.objective <= plan.baseline_costs.objective


@pytest.mark.parametrize("name", ["p1", "p2", "p3"])
def test_benchmark_problems_solve_safely(name: str) -> None:
    from benchmarks import _problems

    problem = getattr(_problems, name)()
    plan = milp.solve(problem, time_limit_s=30)
    assert plan.status in ("optimal", "feasible")
    assert check_plan(problem, plan) == []
    assert plan.baseline_costs is not None
    assert plan.costs.objective <= plan.baseline_costs.objective + 1e-6
    assert plan.marginal_price is not None
    assert len(plan.explanations) == len(problem.devices)


# -- semi-continuous loads: rounding, repair, small search, coasting rows -------------------


def test_ev_minimum_power_moves_energy_to_the_cheapest_whole_steps() -> None:
    # the LP would charge 7 kWh at 0.10 and a 0.5 kWh trickle at 0.11, below the 3 kW
    # minimum; the best plan charges 4.5 kW, then the minimum
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        min_power_w=3000.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 4 * H, 7.5),),
    )
    problem = home([0.10, 0.11, 0.12, 0.30], devices=(ev,))
    plan = milp.solve(problem, mip_gap=1e-4)
    assert check_plan(problem, plan) == []
    assert plan.device("car").power_w == pytest.approx((4500.0, 3000.0, 0.0, 0.0), abs=1e-3)
    assert plan.shortfalls == ()
    assert plan.costs.energy == pytest.approx(0.78)


def test_rounded_ev_keeps_enough_on_steps_for_its_energy() -> None:
    # rounding at half the minimum alone would turn the 0.5 kW trickle off and leave the car
    # short; the group's energy check turns that step on, and the plan needs no search
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        min_power_w=3000.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 3 * H, 7.5),),
    )
    problem = home([0.10, 0.1001, 0.30], devices=(ev,))
    plan = milp.solve(problem, mip_gap=1e-4)
    assert check_plan(problem, plan) == []
    assert plan.device("car").power_w == pytest.approx((4500.0, 3000.0, 0.0), abs=1e-3)
    assert plan.message == "solved by rounded LP"
    assert plan.shortfalls == ()


def test_rounding_that_breaks_a_limit_falls_back_to_the_search() -> None:
    # the car's 4 kW minimum never fits under the 3 kW import limit: rounding the LP's 3 kW
    # up to the minimum is infeasible, so the on/off go to the small MIP, which leaves it off
    ev = EVCharger(
        "car",
        max_power_w=7000.0,
        min_power_w=4000.0,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 3 * H, 5.0),),
    )
    problem = home([0.1, 0.2, 0.3], devices=(ev,), import_limit=3000.0)
    plan = milp.solve(problem)
    assert plan.status == "optimal"
    assert check_plan(problem, plan) == []
    assert plan.device("car").power_w == pytest.approx((0.0, 0.0, 0.0))
    assert {s.requirement for s in plan.shortfalls} == {"ev_energy"}


def test_small_search_starts_from_the_repaired_plan_and_stays_near_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import highspy

    from benchmarks._problems import p1

    starts: list[int] = []
    original = highspy.Highs.setSolution

    def record(self: Any, *args: Any) -> Any:
        starts.append(int(args[0]) if len(args) == 3 else -1)
        return original(self, *args)

    monkeypatch.setattr(highspy.Highs, "setSolution", record)
    plan = milp.solve(p1(), mip_gap=1e-4)
    monkeypatch.undo()
    # the heat pump's on/off needs the small MIP, started from a whole plan (every column)
    assert plan.message == "solved by MILP of the on/off loads"
    assert len(starts) == 1
    assert starts[0] > 100
    exact = milp.solve(p1(), mip_gap=1e-7, mip_gap_abs=1e-7)
    assert exact.costs.objective <= plan.costs.objective + 1e-6
    assert plan.costs.objective <= exact.costs.objective + milp.DEFAULT_MIP_GAP_ABS


def test_coasting_rows_never_cut_off_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks._problems import p1
    from custom_components.energy_collective.engine.modes import coefficients

    problem = p1()

    def rows() -> int:
        m = milp._Builder(problem, coefficients(problem))
        m.build()
        return int(m.lp.numConstraints())

    with_rows = rows()
    best = milp.solve(problem, mip_gap=1e-7, mip_gap_abs=1e-7).costs.objective
    monkeypatch.setattr(milp, "_COAST_STEPS", 0)
    assert rows() < with_rows  # the rows exist on P1, so the comparison means something
    plain = milp.solve(problem, mip_gap=1e-7, mip_gap_abs=1e-7).costs.objective
    assert best == pytest.approx(plain, abs=1e-5)


def test_plans_with_semi_continuous_loads_are_deterministic() -> None:
    from benchmarks._problems import p2

    problem = p2()
    devices = tuple(
        replace(d, power_step_w=None) if isinstance(d, EVCharger) else d for d in problem.devices
    )
    problem = replace(problem, devices=devices)  # the EV between 6 and 16 A, continuously
    a = plan_to_dict(milp.solve(problem, mip_gap=1e-4))
    b = plan_to_dict(milp.solve(problem, mip_gap=1e-4))
    for d in (a, b):
        d.pop("build_time_s")
        d.pop("solve_time_s")
    assert a == b


@st.composite
def semi_homes(draw: Any) -> Problem:
    """Small homes whose EV and heater are off or between a minimum and a maximum power."""
    n = draw(st.integers(3, 10))
    step = timedelta(minutes=draw(st.sampled_from([30, 60])))
    kw = st.floats(0, 4000, allow_nan=False).map(lambda x: round(x, 0))
    devices: list[Any] = []
    if draw(st.booleans()):
        devices.append(
            battery(capacity_kwh=draw(st.floats(1, 8)), soc_initial=draw(st.floats(0, 1)))
        )
    if draw(st.booleans()):
        first = draw(st.integers(0, n - 1))
        devices.append(
            EVCharger(
                "car",
                max_power_w=draw(st.floats(3000, 11000)),
                min_power_w=draw(st.floats(500, 3000)),
                efficiency=0.9,
                sessions=(
                    EVSession(
                        T0 + step * first,
                        T0 + step * draw(st.integers(first + 1, n + 2)),
                        draw(st.floats(0, 20)),
                    ),
                ),
            )
        )
    if draw(st.booleans()) or not devices:
        low = draw(st.floats(18, 50))
        devices.append(
            ThermalLoad(
                "heater",
                max_power_w=draw(st.floats(1500, 4000)),
                min_power_w=draw(st.floats(300, 1500)),
                heat_capacity_kwh_per_k=draw(st.floats(0.2, 6)),
                loss_w_per_k=draw(st.sampled_from([0.0, 3.0, 150.0])),
                t_initial_c=low + draw(st.floats(-2, 5)),
                t_min_c=(low,) * n,
                t_max_c=(low + draw(st.floats(0.5, 10)),) * n,
                ambient_c=(draw(st.floats(0, 20)),) * n,
                heat_demand_w=tuple(draw(st.lists(kw, min_size=n, max_size=n))),
                efficiency=(draw(st.sampled_from([1.0, 3.0])),) * n,
            )
        )
    prices = draw(st.lists(st.floats(0.0, 0.4).map(lambda x: round(x, 3)), min_size=n, max_size=n))
    return home(
        prices,
        export=draw(st.sampled_from([0.0, 0.05])),
        load=draw(st.lists(kw, min_size=n, max_size=n)),
        pv=draw(st.lists(kw, min_size=n, max_size=n)),
        devices=tuple(devices),
        step=step,
        import_limit=draw(st.sampled_from([4000.0, 20000.0])),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(semi_homes())
def test_semi_continuous_plans_are_safe_and_their_extra_rows_valid(problem: Problem) -> None:
    plan = milp.solve(problem, time_limit_s=30, mip_gap=1e-4)
    assert check_plan(problem, plan) == []
    assert plan.baseline_costs is not None
    assert plan.costs.objective <= plan.baseline_costs.objective + 1e-6
    for d in problem.devices:
        if isinstance(d, (EVCharger, ThermalLoad)):
            floor = d.min_power_w - 1e-3
            assert all(p < 1e-3 or p >= floor for p in plan.device(d.name).power_w)
    # the coasting rows remove no plan: the exact optimum is the same without them
    exact = milp.solve(problem, time_limit_s=30, mip_gap=1e-9, mip_gap_abs=1e-9)
    saved = milp._COAST_STEPS
    try:
        milp._COAST_STEPS = 0
        plain = milp.solve(problem, time_limit_s=30, mip_gap=1e-9, mip_gap_abs=1e-9)
    finally:
        milp._COAST_STEPS = saved
    if exact.status == plain.status == "optimal":
        assert exact.costs.objective == pytest.approx(plain.costs.objective, rel=1e-6, abs=1e-5)
