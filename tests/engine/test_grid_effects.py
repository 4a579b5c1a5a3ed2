"""What grid signals do to a plan: a demand charge flattens the peak, carbon moves loads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.carbon import (
    intensity_series,
    parse_carbon_attributes,
    plan_emissions_kg,
    to_kg_per_kwh,
)
from custom_components.energy_collective.engine.grid import action_event, apply_demand_response
from custom_components.energy_collective.engine.model import (
    EVCharger,
    EVSession,
    Grid,
    Problem,
    ShiftableAppliance,
)

T0 = datetime(2025, 1, 27, 18, tzinfo=UTC)
H = timedelta(hours=1)


def problem(n: int, prices: list[float], devices: tuple[object, ...], **kw: object) -> Problem:
    return Problem(
        start=T0,
        step=H,
        n_steps=n,
        import_price=tuple(prices),
        export_price=(0.0,) * n,
        base_load_w=(500.0,) * n,
        grid=kw.pop("grid", Grid(import_limit_w=(20000.0,) * n, export_limit_w=(0.0,) * n)),  # type: ignore[arg-type]
        devices=devices,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_demand_charge_flattens_the_peak() -> None:
    ev = EVCharger(
        name="ev",
        max_power_w=11000,
        efficiency=1.0,
        sessions=(EVSession(T0, T0 + 6 * H, 22.0),),
    )
    prices = [0.20, 0.18, 0.16, 0.15, 0.16, 0.19]
    plain = milp.solve(problem(6, prices, (ev,)))
    grid = Grid(import_limit_w=(20000.0,) * 6, export_limit_w=(0.0,) * 6, demand_charge_per_kw=5.0)
    charged = milp.solve(problem(6, prices, (ev,), grid=grid))
    assert plain.status == charged.status == "optimal"
    # without a demand charge the car charges flat out in the two cheapest hours
    assert max(plain.import_w) == 11500
    # with one the 22 kWh spread over the six hours: 22/6 kW on top of the base load
    assert max(charged.import_w) < 5000
    assert sum(charged.device("ev").power_w) / 1000 == pytest.approx(22)
    assert charged.costs.peak_import_w < plain.costs.peak_import_w
    # a peak already paid this month lets the plan charge up to it for free
    floor = replace(grid, peak_floor_w=8000.0)
    paid = milp.solve(problem(6, prices, (ev,), grid=floor))
    assert 5000 < max(paid.import_w) <= 8000 + 1


def test_demand_response_cap_and_incentive_shape_the_plan() -> None:
    ev = EVCharger(
        name="ev", max_power_w=7000, efficiency=1.0, sessions=(EVSession(T0, T0 + 4 * H, 14.0),)
    )
    base = problem(4, [0.10, 0.10, 0.12, 0.14], (ev,))
    event = action_event(T0, T0 + 2 * H, import_cap_w=2500, incentive_per_kwh=0.5)
    plan = milp.solve(apply_demand_response(base, [event]))
    assert plan.import_w[0] <= 2500 + 1e-6
    assert plan.import_w[1] <= 2500 + 1e-6
    assert plan.device("ev").power_w[2:] == (7000, 7000)


def test_carbon_price_moves_a_shiftable_load_to_low_carbon_hours() -> None:
    washer = ShiftableAppliance(name="washer", profile_w=(2000.0,) * 4, profile_step=H / 4)
    attributes = {
        "forecast": [
            {"datetime": (T0 + i * H).isoformat(), "carbonIntensity": g}
            for i, g in enumerate([450, 420, 120, 400, 430, 440])
        ]
    }
    forecast = parse_carbon_attributes(attributes)
    grams = intensity_series(T0, H, 6, UTC, forecast=forecast)
    assert grams is not None
    # the cheapest hour is the first; the cleanest is the third
    prices = [0.20, 0.22, 0.23, 0.22, 0.22, 0.22]
    common = {"carbon_intensity": to_kg_per_kwh(grams), "carbon_price_per_kg": 0.2}
    cost = milp.solve(problem(6, prices, (washer,), mode="cost", **common))
    eco = milp.solve(problem(6, prices, (washer,), mode="eco", **common))
    assert cost.device("washer").start_step == 0
    assert eco.device("washer").start_step == 2
    assert plan_emissions_kg(eco.import_w, grams, H) < plan_emissions_kg(cost.import_w, grams, H)
    assert eco.costs.emissions_kg < cost.costs.emissions_kg
