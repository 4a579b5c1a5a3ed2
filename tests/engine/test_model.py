"""The typed problem: JSON in, validation, JSON out."""

from __future__ import annotations

import itertools
import json
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_collective.engine import milp
from custom_components.energy_collective.engine.model import (
    Battery,
    DeviceError,
    EVCharger,
    EVSession,
    Grid,
    InterruptibleLoad,
    Problem,
    ProblemError,
    Series,
    SeriesError,
    ShiftableAppliance,
    ThermalLoad,
    plan_to_dict,
    problem_from_dict,
    problem_to_dict,
)

START = "2026-01-05T00:00:00+01:00"


def doc() -> dict[str, Any]:
    """A home in the JSON format the CLI reads."""
    return {
        "name": "demo",
        "start": START,
        "step_minutes": 60,
        "n_steps": 4,
        "currency": "CHF",
        "mode": "eco",
        "import_price": [0.3, 0.1, 0.2, 0.4, 9.9],
        "export_price": 0.05,
        "base_load_w": 400,
        "pv_w": [0, 1000, 2000, 0],
        "carbon_intensity": [0.3, 0.2, 0.1, 0.3],
        "carbon_price_per_kg": 0.05,
        "grid": {"import_limit_w": 11000, "export_limit_w": [5000, 5000, 0, 5000]},
        "devices": [
            {
                "kind": "battery",
                "name": "battery",
                "capacity_kwh": 5,
                "max_charge_w": 2500,
                "soc_initial": 0.5,
            },
            {
                "kind": "ev",
                "name": "car",
                "min_current_a": 6,
                "max_current_a": 16,
                "phases": 1,
                "voltage_v": 230,
                "sessions": [
                    {
                        "plug_in": START,
                        "departure": "2026-01-05T03:00:00+01:00",
                        "energy_kwh": 5,
                    }
                ],
            },
            {
                "kind": "appliance",
                "name": "dishwasher",
                "profile_w": [2000, 500],
                "profile_step_minutes": 30,
                "latest_finish": "2026-01-05T04:00:00+01:00",
            },
            {
                "kind": "interruptible",
                "name": "pump",
                "power_w": 750,
                "run_hours": 2,
                "min_on_minutes": 60,
            },
            {
                "kind": "thermal",
                "name": "boiler",
                "max_power_w": 2000,
                "heat_capacity_kwh_per_k": 0.2,
                "loss_w_per_k": 1,
                "t_initial_c": 50,
                "t_min_c": 45,
                "t_max_c": [60, 60, 60, 60],
            },
        ],
    }


def test_problem_from_dict_reads_every_field() -> None:
    p = problem_from_dict(doc())
    assert p.n_steps == 4
    assert p.step == timedelta(hours=1)
    assert p.start == datetime.fromisoformat(START)
    assert p.import_price == (0.3, 0.1, 0.2, 0.4)  # extra values are dropped
    assert p.export_price == (0.05,) * 4
    assert p.grid.import_limit_w == (11000.0,) * 4
    assert p.grid.export_limit_w[2] == 0
    assert p.generation_w == (0.0, 1000.0, 2000.0, 0.0)
    assert p.mode == "eco"
    assert p.currency == "CHF"
    battery, ev, dish, pump, boiler = p.devices
    assert isinstance(battery, Battery)
    assert battery.max_discharge_w == 2500  # defaults to the charge limit
    assert isinstance(ev, EVCharger)
    assert (ev.min_power_w, ev.max_power_w, ev.power_step_w) == (1380, 3680, 230)
    assert isinstance(dish, ShiftableAppliance)
    assert dish.duration == timedelta(hours=1)
    assert dish.energy_kwh == pytest.approx(1.25)
    assert isinstance(pump, InterruptibleLoad)
    assert pump.need_kwh == pytest.approx(1.5)
    assert pump.min_on == timedelta(hours=1)
    assert isinstance(boiler, ThermalLoad)
    assert boiler.t_min_c == (45.0,) * 4
    assert boiler.efficiency == (1.0,) * 4


def test_horizon_hours_and_defaults() -> None:
    d = {"start": START, "step_minutes": 15, "horizon_hours": 2, "import_price": 0.2}
    p = problem_from_dict(d)
    assert p.n_steps == 8
    assert p.base_load_w == (0.0,) * 8
    assert p.carbon_intensity is None
    assert p.end == p.start + timedelta(hours=2)


def test_problem_round_trips_through_json() -> None:
    p = problem_from_dict(doc())
    again = problem_from_dict(json.loads(json.dumps(problem_to_dict(p))))
    assert again == p


@pytest.mark.parametrize(
    ("change", "error", "text"),
    [
        (lambda d: d.pop("start"), ProblemError, "start is required"),
        (lambda d: d.update(start="2026-01-05T00:00:00"), ProblemError, "UTC offset"),
        (lambda d: d.update(start="yesterday"), ProblemError, "ISO 8601"),
        (lambda d: d.update(import_price=[0.1, 0.2]), SeriesError, "need 4"),
        (lambda d: d.update(import_price=[0.1, "x", 0, 0]), SeriesError, r"import_price\[1\]"),
        (lambda d: d.update(import_price="cheap"), ProblemError, "list of numbers"),
        (lambda d: d.update(step_minutes=2), ProblemError, "between 5 and 60"),
        (lambda d: d.update(step_minutes=0), ProblemError, "step_minutes"),
        (lambda d: d.update(n_steps=0), ProblemError, "at least one step"),
        (lambda d: d.update(n_steps=1.5), ProblemError, "whole number"),
        (
            lambda d: d.update(
                n_steps=49, import_price=0.1, grid={}, devices=[], pv_w=0, carbon_intensity=0
            ),
            ProblemError,
            "48 h",
        ),
        (lambda d: d.update(mode="turbo"), ProblemError, "mode must be one of"),
        (lambda d: d.update(currency=3), ProblemError, "currency must be a string"),
        (lambda d: d.update(generation_curtailable="yes"), ProblemError, "true or false"),
        (lambda d: d.update(devices={}), ProblemError, "devices must be a list"),
        (lambda d: d["devices"].append({"kind": "rocket", "name": "x"}), DeviceError, "kind"),
        (lambda d: d["devices"].append(d["devices"][0]), DeviceError, "unique"),
        (lambda d: d["devices"][0].update(capacity_kwh=0), DeviceError, "capacity_kwh"),
        (lambda d: d["devices"][0].update(capacity_kwh=True), ProblemError, "finite number"),
        (lambda d: d["devices"][0].pop("soc_initial"), ProblemError, "soc_initial is required"),
        (lambda d: d["devices"][2].update(profile_w=[]), DeviceError, "profile_w"),
        (lambda d: d["devices"][3].update(energy_kwh=1), DeviceError, "exactly one"),
        (lambda d: d["devices"][4].update(t_min_c=70), DeviceError, "t_min_c must be <="),
        (lambda d: d.update(base_load_w=-1), SeriesError, "base_load_w must be >= 0"),
        (lambda d: d.update(carbon_price_per_kg=-1), ProblemError, "carbon_price"),
        (lambda d: d.update(grid={"import_limit_w": -1}), ProblemError, "import_limit_w"),
        (lambda d: d.update(grid={"demand_charge_per_kw": -1}), ProblemError, "demand_charge"),
    ],
)
def test_invalid_problems_name_the_field(change: Any, error: type[Exception], text: str) -> None:
    d = deepcopy(doc())
    change(d)
    with pytest.raises(error, match=text):
        problem_from_dict(d)


def test_not_an_object() -> None:
    with pytest.raises(ProblemError, match="must be an object"):
        problem_from_dict([])  # type: ignore[arg-type]


def test_problem_checks_direct_construction() -> None:
    base = problem_from_dict(doc())
    with pytest.raises(SeriesError, match="expected n_steps=4"):
        Problem(
            start=base.start,
            step=base.step,
            n_steps=4,
            import_price=(0.1,) * 3,
            export_price=(0.0,) * 4,
            base_load_w=(0.0,) * 4,
            grid=base.grid,
        )
    with pytest.raises(ProblemError, match="timezone-aware"):
        Problem(
            start=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
            step=base.step,
            n_steps=4,
            import_price=(0.1,) * 4,
            export_price=(0.0,) * 4,
            base_load_w=(0.0,) * 4,
            grid=base.grid,
        )
    thermal = next(d for d in base.devices if isinstance(d, ThermalLoad))
    from dataclasses import replace

    short = replace(thermal, ambient_c=(20.0,) * 3, t_min_c=(45.0,) * 3, t_max_c=(60.0,) * 3)
    with pytest.raises(SeriesError, match="t_min_c needs 4"):
        replace(base, devices=(short,))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Battery("b", 5, 1000, 1000, 0.5, soc_min=0.6, soc_max=0.5),
        lambda: Battery("b", 5, 1000, 1000, 1.5),
        lambda: Battery("b", 5, 1000, 1000, 0.5, charge_efficiency=0),
        lambda: Battery("b", 5, -1, 1000, 0.5),
        lambda: Battery("b", 5, 1000, -1, 0.5),
        lambda: Battery("b", 5, 1000, 1000, 0.5, wear_cost_per_kwh=-1),
        lambda: EVCharger("e", 1000, min_power_w=2000),
        lambda: EVCharger("e", -1),
        lambda: EVCharger("e", 1000, power_step_w=0),
        lambda: EVCharger("e", 1000, efficiency=1.5),
        lambda: EVCharger("e", 1000, capacity_kwh=0),
        lambda: EVCharger("e", 1000, soc_initial=2),
        lambda: ShiftableAppliance("a", (100.0, -1.0)),
        lambda: ShiftableAppliance("a", (100.0,), profile_step=timedelta(0)),
        lambda: ShiftableAppliance("a", (100.0,), run_value=-1),
        lambda: ShiftableAppliance("a", (100.0,), earliest_start=datetime(2026, 1, 1)),  # noqa: DTZ001
        lambda: InterruptibleLoad("i", 0, run_hours=1),
        lambda: InterruptibleLoad("i", 100, run_hours=-1),
        lambda: InterruptibleLoad("i", 100, run_hours=1, min_on=timedelta(-1)),
        lambda: InterruptibleLoad("i", 100, run_hours=1, min_off=timedelta(-1)),
    ],
)
def test_device_validation(make: Any) -> None:
    with pytest.raises(DeviceError):
        make()


def test_ev_session_validation() -> None:
    t = datetime.fromisoformat(START)
    with pytest.raises(ProblemError, match="after plug_in"):
        EVSession(t, t, 1.0)
    with pytest.raises(ProblemError, match=">= 0"):
        EVSession(t, t + timedelta(hours=1), -1.0)
    with pytest.raises(ProblemError, match="timezone-aware"):
        EVSession(datetime(2026, 1, 1), t, 1.0)  # noqa: DTZ001


def test_thermal_validation() -> None:
    ok: dict[str, Any] = {
        "name": "t",
        "max_power_w": 1000.0,
        "heat_capacity_kwh_per_k": 0.2,
        "loss_w_per_k": 1.0,
        "t_initial_c": 50.0,
        "t_min_c": (45.0,),
        "t_max_c": (60.0,),
        "ambient_c": (20.0,),
        "heat_demand_w": (0.0,),
        "efficiency": (1.0,),
    }
    ThermalLoad(**ok)
    for key, bad in [
        ("max_power_w", -1.0),
        ("min_power_w", 2000.0),
        ("heat_capacity_kwh_per_k", 0.0),
        ("loss_w_per_k", -1.0),
        ("t_initial_c", float("nan")),
        ("efficiency", (0.0,)),
    ]:
        with pytest.raises(DeviceError):
            ThermalLoad(**{**ok, key: bad})
    with pytest.raises(SeriesError):
        ThermalLoad(**{**ok, "ambient_c": (float("inf"),)})


def test_grid_validation() -> None:
    with pytest.raises(ProblemError, match="peak_floor_w"):
        Grid((1.0,), (1.0,), peak_floor_w=-1)
    with pytest.raises(ProblemError, match="export_limit_w"):
        Grid((1.0,), (-1.0,))


def test_step_helpers() -> None:
    p = problem_from_dict(doc())
    t = p.start + timedelta(minutes=90)
    assert p.step_ceil(t) == 2
    assert p.step_floor(t) == 1
    assert p.step_ceil(None, 3) == 3
    assert p.step_floor(None) == 4
    assert p.step_floor(p.start - timedelta(hours=5)) == 0
    assert p.step_ceil(p.end + timedelta(hours=5)) == 4
    assert p.time_of(2) == p.start + 2 * p.step


def test_plan_to_dict_is_json_with_offsets() -> None:
    p = problem_from_dict(doc())
    plan = milp.solve(p)
    d = plan_to_dict(plan)
    text = json.dumps(d)
    assert '"step_minutes": 60.0' in text
    assert d["start"] == START
    assert d["times"][1] == "2026-01-05T01:00:00+01:00"
    assert d["currency"] == "CHF"
    dish = next(x for x in d["devices"] if x["name"] == "dishwasher")
    assert dish["start"].endswith("+01:00")
    assert len(d["import_w"]) == 4
    assert {e["device"] for e in d["explanations"]} == {x.name for x in p.devices}
    assert plan.times()[3] == p.start + 3 * p.step
    with pytest.raises(KeyError):
        plan.device("nope")


def test_steps_count_real_time_across_a_clock_change() -> None:
    """A plan starting in local time before the October change has 15-minute steps throughout.

    On 2026-10-25 Berlin goes from 03:00 CEST back to 02:00 CET: eight 15-minute steps from
    01:00 CEST end at 02:00 CET, not at 03:00.
    """
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 25, 1, 0, tzinfo=berlin)
    series = Series(start, timedelta(minutes=15), tuple(float(i) for i in range(12)))
    times = series.times()
    gaps = {(b.timestamp() - a.timestamp()) for a, b in itertools.pairwise(times)}
    assert gaps == {900.0}
    assert times[8].hour == 2
    assert times[8].utcoffset() == timedelta(hours=1)
    assert series.end.timestamp() - start.timestamp() == 12 * 900
    # the step holding 02:30 CET (the second 02:30 of the night) is the tenth
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("UTC"))
    assert series.value_at(second_half_past_two) == 10.0
