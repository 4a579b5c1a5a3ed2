"""Property tests over random homes: the engine never raises, every plan is safe and the
optimised plan never costs more than the baseline policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.greedy import greedy_plan
from custom_components.energy_collective.engine.model import (
    Battery,
    EVCharger,
    EVSession,
    Grid,
    InterruptibleLoad,
    Problem,
    ShiftableAppliance,
    ThermalLoad,
)
from custom_components.energy_collective.engine.safety import check_plan

from .test_milp import T0

price = st.floats(-0.2, 0.6, allow_nan=False).map(lambda x: round(x, 3))
power = st.floats(0, 6000, allow_nan=False).map(lambda x: round(x, 0))


@st.composite
def homes(draw: Any) -> Problem:
    step = timedelta(minutes=draw(st.sampled_from([30, 60])))
    n = draw(st.integers(2, 12))

    def at(k: int) -> Any:
        return T0 + step * k

    devices: list[Any] = []
    if draw(st.booleans()):
        smin = draw(st.floats(0, 0.5))
        devices.append(
            Battery(
                "battery",
                capacity_kwh=draw(st.floats(1, 15)),
                max_charge_w=draw(power),
                max_discharge_w=draw(power),
                soc_initial=draw(st.floats(0, 1)),
                soc_min=smin,
                soc_max=draw(st.floats(smin, 1)),
                charge_efficiency=draw(st.floats(0.8, 1)),
                discharge_efficiency=draw(st.floats(0.8, 1)),
                wear_cost_per_kwh=draw(st.sampled_from([0.0, 0.03])),
                allow_grid_charge=draw(st.booleans()),
                allow_grid_export=draw(st.booleans()),
                terminal_value_per_kwh=draw(st.one_of(st.none(), st.floats(0, 0.3))),
            )
        )
    if draw(st.booleans()):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n + 2))
        stepped = draw(st.booleans())
        devices.append(
            EVCharger(
                "ev",
                max_power_w=11040.0 if stepped else draw(power),
                min_power_w=4140.0 if stepped else draw(st.sampled_from([0.0, 1000.0])) * 0,
                power_step_w=690.0 if stepped else None,
                sessions=(EVSession(at(a), at(b), draw(st.floats(0, 40))),),
                efficiency=0.9,
            )
        )
    for i in range(draw(st.integers(0, 2))):
        profile = tuple(draw(st.lists(power, min_size=1, max_size=3)))
        e = draw(st.integers(0, n))
        devices.append(
            ShiftableAppliance(
                f"cycle{i}",
                profile,
                profile_step=step,
                earliest_start=at(e),
                latest_finish=at(draw(st.integers(e, n + 2))),
                required=draw(st.booleans()),
                run_value=draw(st.sampled_from([0.0, 0.5])),
            )
        )
    if draw(st.booleans()):
        devices.append(
            InterruptibleLoad(
                "pump",
                power_w=draw(st.floats(200, 2000)),
                run_hours=draw(st.floats(0, 4)),
                min_on=step * draw(st.integers(0, 3)),
                min_off=step * draw(st.integers(0, 2)),
            )
        )
    if draw(st.booleans()):
        tmin = draw(st.floats(40, 50))
        devices.append(
            ThermalLoad(
                "heater",
                max_power_w=draw(st.floats(0, 3000)),
                min_power_w=draw(st.sampled_from([0.0, 500.0])) * 0,
                heat_capacity_kwh_per_k=0.2,
                loss_w_per_k=draw(st.sampled_from([0.0, 3.0])),
                t_initial_c=draw(st.floats(35, 65)),
                t_min_c=(tmin,) * n,
                t_max_c=(tmin + 10,) * n,
                ambient_c=(20.0,) * n,
                heat_demand_w=tuple(draw(st.lists(power, min_size=n, max_size=n))),
                efficiency=(1.0,) * n,
            )
        )
    imp = tuple(draw(st.lists(price, min_size=n, max_size=n)))
    exp = tuple(draw(st.lists(price, min_size=n, max_size=n)))
    limit = draw(st.sampled_from([3000.0, 9000.0, 25000.0]))
    return Problem(
        start=T0,
        step=step,
        n_steps=n,
        import_price=imp,
        export_price=exp,
        base_load_w=tuple(draw(st.lists(power, min_size=n, max_size=n))),
        pv_w=tuple(draw(st.lists(power, min_size=n, max_size=n))),
        grid=Grid(
            import_limit_w=(limit,) * n,
            export_limit_w=(draw(st.sampled_from([0.0, 5000.0])),) * n,
            demand_charge_per_kw=draw(st.sampled_from([0.0, 0.5])),
        ),
        devices=tuple(devices),
        carbon_intensity=tuple(draw(st.lists(st.floats(0, 0.5), min_size=n, max_size=n))),
        carbon_price_per_kg=draw(st.sampled_from([0.0, 0.1])),
        mode=draw(st.sampled_from(["cost", "eco", "comfort", "away"])),
        generation_curtailable=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(homes())
def test_plans_are_safe_and_never_worse_than_baseline(problem: Problem) -> None:
    plan = milp.solve(problem, time_limit_s=20)
    assert check_plan(problem, plan) == []
    assert plan.baseline_costs is not None
    assert plan.costs.objective <= plan.baseline_costs.objective + 1e-6
    assert len(plan.explanations) == len(problem.devices)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(homes())
def test_greedy_fallback_is_safe(problem: Problem) -> None:
    plan = greedy_plan(problem)
    assert check_plan(problem, plan) == []
