"""A plan written with `plan_to_dict` reads back as the same plan with `plan_from_dict`."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.model import (
    Battery,
    EVCharger,
    EVSession,
    Grid,
    InterruptibleLoad,
    Plan,
    Problem,
    ProblemError,
    ShiftableAppliance,
    ThermalLoad,
    plan_from_dict,
    plan_to_dict,
)

START = datetime(2026, 6, 17, 18, 0, tzinfo=UTC)
N = 24
STEP = timedelta(hours=1)


def _problem() -> Problem:
    prices = tuple(0.30 if 6 <= i <= 14 else 0.12 for i in range(N))
    return Problem(
        start=START,
        step=STEP,
        n_steps=N,
        import_price=prices,
        export_price=(0.05,) * N,
        base_load_w=(400.0,) * N,
        pv_w=tuple(2000.0 if 12 <= i <= 20 else 0.0 for i in range(N)),
        wind_w=(0.0,) * N,
        grid=Grid(import_limit_w=(11000.0,) * N, export_limit_w=(11000.0,) * N),
        devices=(
            Battery(
                name="Battery",
                capacity_kwh=10.0,
                max_charge_w=5000.0,
                max_discharge_w=5000.0,
                soc_initial=0.5,
                soc_min=0.1,
            ),
            EVCharger(
                name="Car",
                max_power_w=11040.0,
                min_power_w=4140.0,
                power_step_w=690.0,
                sessions=(EVSession(START, START + timedelta(hours=13), 12.0),),
                capacity_kwh=60.0,
                soc_initial=0.6,
            ),
            ShiftableAppliance(
                name="Dishwasher",
                profile_w=(2000.0, 2000.0),
                profile_step=STEP,
                latest_finish=START + timedelta(hours=12),
            ),
            InterruptibleLoad(
                name="Pool pump",
                power_w=750.0,
                run_hours=3.0,
                window_start=START + timedelta(hours=14),
                window_end=START + timedelta(hours=23),
            ),
            ThermalLoad(
                name="Water heater",
                max_power_w=3000.0,
                heat_capacity_kwh_per_k=0.23,
                loss_w_per_k=2.0,
                t_initial_c=50.0,
                t_min_c=(45.0,) * N,
                t_max_c=(60.0,) * N,
                ambient_c=(20.0,) * N,
                heat_demand_w=(150.0,) * N,
                efficiency=(1.0,) * N,
            ),
        ),
        currency="EUR",
        name="Round trip",
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    """A solved plan with every kind of device."""
    return milp.solve(_problem(), time_limit_s=60)


def test_a_solved_plan_survives_json(plan: Plan) -> None:
    """Through JSON and back, every field is equal."""
    data = json.loads(json.dumps(plan_to_dict(plan)))
    back = plan_from_dict(data)
    assert back == plan
    assert back.device("Dishwasher").start == plan.device("Dishwasher").start
    assert back.times() == plan.times()
    assert plan_to_dict(back) == plan_to_dict(plan)


def test_optional_fields_and_non_finite_numbers(plan: Plan) -> None:
    """None stays None; a non-finite number (written as null) reads back as NaN."""
    bare = replace(
        plan, baseline_costs=None, savings=None, marginal_price=None, mip_gap=None, shortfalls=()
    )
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(bare)))) == bare
    odd = replace(plan, import_w=(math.inf, *plan.import_w[1:]))
    back = plan_from_dict(json.loads(json.dumps(plan_to_dict(odd))))
    assert math.isnan(back.import_w[0])
    assert back.import_w[1:] == plan.import_w[1:]


def test_a_time_without_offset_is_refused(plan: Plan) -> None:
    """Times must carry their UTC offset, as `plan_to_dict` writes them."""
    data = plan_to_dict(plan)
    data["start"] = "2026-06-17T18:00:00"
    with pytest.raises(ProblemError):
        plan_from_dict(data)
    del data["devices"]
    with pytest.raises(KeyError):
        plan_from_dict(data)
