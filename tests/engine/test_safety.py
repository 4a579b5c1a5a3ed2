"""Hard limits: unsafe plans and commands are rejected, safe ones pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.model import (
    DevicePlan,
    EVCharger,
    EVSession,
    InterruptibleLoad,
    Plan,
    ShiftableAppliance,
)
from custom_components.energy_collective.engine.safety import (
    DeviceState,
    check_command,
    check_plan,
)

from .test_milp import T0, H, battery, home, water_heater

EV = EVCharger(
    "car",
    max_power_w=11040.0,
    min_power_w=4140.0,
    power_step_w=690.0,
    efficiency=1.0,
    sessions=(EVSession(T0 + H, T0 + 3 * H, 5.0),),
)
PUMP = InterruptibleLoad("pump", 1000.0, run_hours=2.0, min_on=2 * H, min_off=2 * H)
CYCLE = ShiftableAppliance("dishwasher", (1000.0, 500.0), profile_step=H)


def setup() -> tuple[Any, Plan]:
    problem = home(
        [0.3, 0.1, 0.2, 0.4],
        load=500.0,
        devices=(
            battery(allow_grid_charge=False),
            EV,
            PUMP,
            CYCLE,
            water_heater(4, min_power_w=500.0),
        ),
        import_limit=15000.0,
    )
    plan = milp.solve(problem)
    assert check_plan(problem, plan) == []
    return problem, plan


def with_device(plan: Plan, name: str, **changes: Any) -> Plan:
    devices = tuple(replace(d, **changes) if d.name == name else d for d in plan.devices)
    return replace(plan, devices=devices)


def rules(problem: Any, plan: Plan) -> set[str]:
    return {v.rule for v in check_plan(problem, plan)}


def test_grid_limits_and_balance() -> None:
    problem, plan = setup()
    over = replace(plan, import_w=(16000.0, *plan.import_w[1:]))
    assert {"import_limit", "balance"} <= rules(problem, over)
    assert "export_limit" in rules(problem, replace(plan, export_w=(30000.0, 0, 0, 0)))
    assert "negative" in rules(problem, replace(plan, curtailed_w=(-5.0, 0, 0, 0)))
    assert "curtailment" in rules(problem, replace(plan, curtailed_w=(5.0, 0, 0, 0)))
    assert "length" in rules(problem, replace(plan, import_w=(0.0,)))
    assert "missing" in rules(problem, replace(plan, devices=plan.devices[1:]))


def test_battery_limits_soc_and_grid_charging() -> None:
    problem, plan = setup()
    b = plan.device("battery")
    assert "max_charge" in rules(problem, with_device(plan, "battery", power_w=(5000.0, 0, 0, 0)))
    assert "max_discharge" in rules(
        problem, with_device(plan, "battery", power_w=(-5000.0, 0, 0, 0))
    )
    empty = with_device(plan, "battery", power_w=(-1000.0, 0, 0, 0), soc=None)
    assert "soc_bounds" in rules(problem, empty)
    assert "soc_consistency" in rules(problem, with_device(plan, "battery", soc=(0.9,) * 4))
    # charging 1 kW from the grid at step 0 while grid charging is forbidden
    charged = with_device(plan, "battery", power_w=(1000.0, *b.power_w[1:]), soc=None)
    imp = (plan.import_w[0] + 1000.0 - b.power_w[0], *plan.import_w[1:])
    assert "grid_charge" in rules(problem, replace(charged, import_w=imp))


def test_battery_export_ban() -> None:
    problem = home(
        [0.3, 0.3], export=0.5, devices=(battery(soc_initial=1.0, allow_grid_export=False),)
    )
    plan = milp.solve(problem)
    sold = with_device(plan, "battery", power_w=(-1000.0, 0.0), soc=None)
    sold = replace(sold, export_w=(1000.0, 0.0))
    assert "battery_export" in rules(problem, sold)


def test_ev_limits() -> None:
    problem, plan = setup()
    for power, rule in [
        ((690.0 * 8, 0, 0, 0), "unplugged"),
        ((0, 20000.0, 0, 0), "max_power"),
        ((0, 1000.0, 0, 0), "min_power"),
        ((0, 5000.0, 0, 0), "power_step"),
        ((0, -5.0, 0, 0), "negative_power"),
    ]:
        assert rule in rules(problem, with_device(plan, "car", power_w=power))


def test_cycle_profile_and_start() -> None:
    problem, plan = setup()
    assert "profile" in rules(problem, with_device(plan, "dishwasher", power_w=(1000.0, 0, 0, 0)))
    assert "start" in rules(
        problem, with_device(plan, "dishwasher", start_step=3, power_w=(0, 0, 0, 1000.0))
    )


def test_pump_min_on_off_and_window() -> None:
    problem, plan = setup()
    blip = (1000.0, 0.0, 0.0, 0.0)
    assert "min_on" in rules(problem, with_device(plan, "pump", power_w=blip))
    gap = (1000.0, 1000.0, 0.0, 1000.0)
    assert "min_off" in rules(problem, with_device(plan, "pump", power_w=gap))
    assert "power_level" in rules(problem, with_device(plan, "pump", power_w=(0, 0, 700.0, 700.0)))
    windowed = replace(PUMP, window_start=T0, window_end=T0 + 2 * H)
    p2 = replace(
        problem, devices=tuple(windowed if d.name == "pump" else d for d in problem.devices)
    )
    assert "window" in rules(p2, with_device(plan, "pump", power_w=(0, 0, 1000.0, 1000.0)))


def test_thermal_limits() -> None:
    problem, plan = setup()
    assert "max_power" in rules(problem, with_device(plan, "boiler", power_w=(9000.0, 0, 0, 0)))
    assert "min_power" in rules(problem, with_device(plan, "boiler", power_w=(100.0, 0, 0, 0)))


def test_check_command() -> None:
    b = battery(soc_min=0.1, soc_max=0.9)
    assert check_command(b, 500.0, DeviceState(soc=0.5)) == []
    assert {v.rule for v in check_command(b, 5000.0)} == {"max_charge"}
    assert {v.rule for v in check_command(b, -5000.0)} == {"max_discharge"}
    assert {v.rule for v in check_command(b, 500.0, DeviceState(soc=0.9))} == {"soc_bounds"}
    assert {v.rule for v in check_command(b, -500.0, DeviceState(soc=0.1))} == {"soc_bounds"}
    assert check_command(EV, 6900.0, DeviceState(plugged=True)) == []
    assert {v.rule for v in check_command(EV, 6900.0, DeviceState(plugged=False))} == {"unplugged"}
    assert {v.rule for v in check_command(EV, 20010.0)} == {"max_power"}
    assert {v.rule for v in check_command(EV, 2000.0)} == {"min_power", "power_step"}
    assert {v.rule for v in check_command(EV, -5.0)} == {"negative_power"}
    heater = water_heater(4, min_power_w=500.0)
    assert {v.rule for v in check_command(heater, 3000.0)} == {"max_power"}
    assert {v.rule for v in check_command(heater, 100.0)} == {"min_power"}
    on_short = DeviceState(on=True, since=timedelta(minutes=30))
    assert {v.rule for v in check_command(PUMP, 0.0, on_short)} == {"min_on"}
    off_short = DeviceState(on=False, since=timedelta(minutes=30))
    assert {v.rule for v in check_command(PUMP, 1000.0, off_short)} == {"min_off"}
    assert check_command(PUMP, 1000.0, DeviceState(on=False, since=3 * H)) == []
    assert {v.rule for v in check_command(PUMP, 500.0)} == {"power_level"}
    assert {v.rule for v in check_command(CYCLE, 5000.0)} == {"max_power"}
    assert {v.rule for v in check_command(CYCLE, 0.0, DeviceState(on=True))} == {"interrupt"}
    over = check_command(EV, 6900.0, import_headroom_w=3000.0)
    assert [v.rule for v in over] == ["import_limit"]
    assert "import limit" in over[0].message


@pytest.mark.parametrize("name", ["battery", "car", "pump", "dishwasher", "boiler"])
def test_every_planned_device_passes(name: str) -> None:
    problem, plan = setup()
    dp: DevicePlan = plan.device(name)
    assert len(dp.power_w) == problem.n_steps
    assert not [v for v in check_plan(problem, plan) if v.device == name]
