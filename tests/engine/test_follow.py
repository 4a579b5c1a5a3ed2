"""A battery following its plan in a home that does not follow the forecast (engine/follow.py)."""

from __future__ import annotations

import pytest

from custom_components.energy_collective.engine.follow import battery_setpoint

LIMITS = {"max_charge_w": 5000.0, "max_discharge_w": 5000.0}


def test_balanced_step_becomes_self_consumption() -> None:
    # the plan discharges 600 W to cover a forecast 600 W deficit: grid 0
    # an unexpected surplus of 800 W (grid -800 W at the planned power) is stored
    assert battery_setpoint(-600.0, 0.0, -800.0, **LIMITS) == pytest.approx(200.0)
    # 900 W more load than forecast is covered too
    assert battery_setpoint(-600.0, 0.0, 900.0, **LIMITS) == pytest.approx(-1500.0)


def test_planned_grid_charging_buys_no_more_than_planned() -> None:
    # the plan buys 2000 W to charge 1500 W; the load comes in 300 W lower: the battery keeps
    # its 1500 W and the home simply imports less (holding the grid at 2000 W would buy 300 W
    # more to store)
    assert battery_setpoint(1500.0, 2000.0, 1700.0, **LIMITS) == pytest.approx(1500.0)
    # 400 W more load than forecast: the planned import is a ceiling, charging gives way
    assert battery_setpoint(1500.0, 2000.0, 2400.0, **LIMITS) == pytest.approx(1100.0)


def test_holding_battery_caps_the_import_at_the_plan() -> None:
    # the plan keeps the battery for later and imports 1000 W; a 500 W spike is covered
    assert battery_setpoint(0.0, 1000.0, 1500.0, **LIMITS) == pytest.approx(-500.0)
    # a surplus while holding is stored rather than exported
    assert battery_setpoint(0.0, 1000.0, -700.0, **LIMITS) == pytest.approx(700.0)


def test_planned_export_is_kept_and_not_overshot() -> None:
    # the plan sells 3000 W, 2500 W of it from the battery; 800 W more PV than forecast: the
    # battery discharges 800 W less, the export stays at 3000 W
    assert battery_setpoint(-2500.0, -3000.0, -3800.0, **LIMITS) == pytest.approx(-1700.0)
    # less PV than forecast: the export falls, the battery does not make up for it
    assert battery_setpoint(-2500.0, -3000.0, -2000.0, **LIMITS) == pytest.approx(-2500.0)


def test_limits_clip_the_result() -> None:
    assert battery_setpoint(-600.0, 0.0, 9000.0, max_charge_w=5000, max_discharge_w=0) == 0.0
    assert battery_setpoint(0.0, 0.0, -9000.0, max_charge_w=3000, max_discharge_w=5000) == 3000
    assert battery_setpoint(0.0, 0.0, 9000.0, max_charge_w=3000, max_discharge_w=2000) == -2000
