"""Per-device explanations: readable text, and a key with parameters to translate."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.explain import TEMPLATES, explain
from custom_components.energy_collective.engine.model import (
    EVCharger,
    EVSession,
    InterruptibleLoad,
    ShiftableAppliance,
)

from .test_milp import T0, H, battery, home, water_heater


def by_device(plan: object) -> dict[str, object]:
    return {e.device: e for e in plan.explanations}  # type: ignore[attr-defined]


def test_dishwasher_explains_its_cheapest_window() -> None:
    quarter = timedelta(minutes=15)
    prices = [0.30] * 8 + [0.11] * 8 + [0.25] * 8 + [0.05] * 8
    dishwasher = ShiftableAppliance(
        "dishwasher",
        (1000.0,) * 8,
        profile_step=quarter,
        latest_finish=T0 + timedelta(hours=7),
    )
    plan = milp.solve(home(prices, step=quarter, devices=(dishwasher,)))
    e = plan.explanations[0]
    assert e.key == "cycle_start_cheapest"
    assert e.text == (
        "dishwasher starts 02:00: the cheapest 2 h window before 07:00, 0.11 EUR/kWh average"
    )
    assert e.params["start"] == "02:00"
    assert e.params["price"] == 0.11
    assert e.params["currency"] == "EUR"


def test_every_device_kind_is_explained() -> None:
    ev = EVCharger("car", 7000.0, efficiency=1.0, sessions=(EVSession(T0, T0 + 4 * H, 7.0),))
    pump = InterruptibleLoad("pump", 1000.0, run_hours=2.0)
    problem = home(
        [0.3, 0.1, 0.5, 0.2],
        load=500.0,
        devices=(battery(), ev, pump, water_heater(4)),
        currency="CHF",
    )
    plan = milp.solve(problem)
    keys = {e.device: e.key for e in plan.explanations}
    assert keys == {
        "battery": "battery_cycle",
        "car": "ev_charge",
        "pump": "run_hours",
        "boiler": "thermal_heat",
    }
    texts = {e.device: e.text for e in plan.explanations}
    assert texts["car"].startswith("car gets 7.0 kWh between 01:00 and 02:00, 0.1 CHF/kWh")
    assert "CHF/kWh" in texts["battery"]
    for e in plan.explanations:
        assert e.text == TEMPLATES[e.key].format(**e.params)


def test_shortfalls_are_explained() -> None:
    ev = EVCharger("car", 1000.0, efficiency=1.0, sessions=(EVSession(T0, T0 + 2 * H, 5.0),))
    pump = InterruptibleLoad("pump", 1000.0, energy_kwh=3.0, window_end=T0 + 2 * H)
    late = ShiftableAppliance("washer", (1000.0,) * 2, profile_step=H, latest_finish=T0 + H)
    never = ShiftableAppliance("dryer", (1000.0,) * 5, profile_step=H, latest_finish=T0 + H)
    heater = water_heater(2, max_power_w=0.0, heat_demand_w=(0.0, 3000.0))
    problem = home(
        [0.2, 0.2],
        devices=(ev, pump, late, never, heater, battery()),
    )
    plan = milp.solve(problem)
    keys = {e.device: e.key for e in plan.explanations}
    assert keys["car"] == "ev_short"
    assert keys["pump"] == "run_short"
    assert keys["washer"] == "cycle_late"
    assert keys["dryer"] == "cycle_not_run"
    assert keys["boiler"] == "thermal_breach"
    assert keys["battery"] == "battery_idle"
    texts = {e.device: e.text for e in plan.explanations}
    assert texts["car"] == (
        "car gets 2.0 of 5.0 kWh by 02:00: 3.0 kWh short, charging whenever possible"
    )
    assert texts["washer"].endswith("it finishes 1.0 h after 01:00")


def test_idle_and_optional_and_deferred() -> None:
    ev = EVCharger("car", 7000.0, sessions=(EVSession(T0, T0 + 2 * H, 0.0),))
    pump = InterruptibleLoad("pump", 1000.0, run_hours=0.0)
    optional = ShiftableAppliance(
        "dryer", (1000.0,), profile_step=H, required=False, run_value=0.01
    )
    deferred = ShiftableAppliance(
        "washer",
        (1000.0,) * 3,
        profile_step=H,
        earliest_start=T0 + H,
        latest_finish=T0 + 10 * H,
    )
    running = ShiftableAppliance("oven", (1000.0,) * 3, profile_step=H, started_at=T0 - H)
    problem = home([0.2, 0.2], devices=(ev, pump, optional, deferred, running))
    plan = milp.solve(problem)
    keys = {e.device: e.key for e in plan.explanations}
    assert keys == {
        "car": "ev_idle",
        "pump": "run_idle",
        "dryer": "cycle_skipped",
        "washer": "cycle_later",
        "oven": "cycle_running",
    }
    # explanations are rebuilt from any plan, e.g. the baseline's
    assert plan.baseline_costs is not None
    again = explain(problem, replace(plan, explanations=()))
    assert [e.key for e in again] == [e.key for e in plan.explanations]


def test_start_chosen_with_the_rest_of_the_plan() -> None:
    # with a PV surplus at 0 h the cycle is free there, though the import price is higher
    cycle = ShiftableAppliance("dishwasher", (1000.0,), profile_step=H)
    plan = milp.solve(home([0.3, 0.1], pv=[1000.0, 0.0], devices=(cycle,)))
    e = plan.explanations[0]
    assert plan.device("dishwasher").start_step == 0
    assert e.key == "cycle_start"
    assert e.params["price"] == 0.0
