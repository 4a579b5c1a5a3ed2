"""Backtest replay, more cases: malformed inputs, thermal loads, one-off requests, forecast
columns, grid limits and several batteries, each small enough to check by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.energy_collective.engine.backtest import (
    HomeFormatError,
    SeriesFormatError,
    SeriesTable,
    home_from_dict,
    parse_series_rows,
    read_series_csv,
    replay,
    run_backtest,
)
from custom_components.energy_collective.engine.baseline import baseline_plan
from custom_components.energy_collective.engine.model import Plan, Problem

from .test_backtest import HOUR, START, _rows

LOCAL = "Etc/GMT-1"  # UTC+01:00, the offset of START


def _known_series(
    n: int,
    *,
    load: Sequence[float] | None = None,
    pv: Sequence[float] | None = None,
    imp: Sequence[float] | None = None,
    exp: Sequence[float] | None = None,
    forecasts: Mapping[str, Sequence[float]] | None = None,
) -> SeriesTable:
    """Hourly rows from START with load and PV forecast columns (exact unless overridden), so
    no day of history is needed and every row is replayed."""
    load = list(load or [0.0] * n)
    pv = list(pv or [0.0] * n)
    return SeriesTable.from_arrays(
        START,
        HOUR,
        load_w=load,
        pv_w=pv,
        price_import=list(imp or [0.2] * n),
        price_export=list(exp or [0.0] * n),
        forecasts={"load_w": load, "pv_w": pv, **(forecasts or {})},
    )


def _home(*devices: dict[str, Any], hours: float = 2, **extra: Any) -> dict[str, Any]:
    return {"timezone": LOCAL, "horizon_hours": hours, "devices": list(devices), **extra}


# -- the series -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"load_w": [1.0]}, "the series needs at least 2 rows"),
        ({"start": START.replace(tzinfo=None)}, "timestamps need a UTC offset"),
        ({"step": timedelta(minutes=2)}, "the step must be between 5 and 60 minutes, got 2.0 min"),
        ({"pv_w": [0.0] * 2}, "pv_w has 2 values, expected 3"),
        ({"price_import": [0.2, math.nan, 0.2]}, "price_import is not a finite number at row 1"),
        ({"carbon_g_per_kwh": [300.0, 300.0, math.inf]}, "carbon_g_per_kwh is not a finite"),
        ({"forecasts": {"carbon": [1.0] * 3}}, "forecast of 'carbon' is malformed"),
        ({"forecasts": {"load_w": [1.0] * 2}}, "forecast of 'load_w' is malformed"),
    ],
)
def test_series_from_arrays_rejects_malformed_input(arrays: dict[str, Any], message: str) -> None:
    """Arrays given in place of SERIES.csv are checked like the file, naming what is wrong."""
    load = arrays.pop("load_w", [0.0] * 3)
    kwargs: dict[str, Any] = {
        "pv_w": [0.0] * len(load),
        "price_import": [0.2] * len(load),
        "price_export": [0.0] * len(load),
        **arrays,
    }
    start = kwargs.pop("start", START)
    step = kwargs.pop("step", HOUR)
    with pytest.raises(SeriesFormatError, match=message.replace("(", r"\(")):
        SeriesTable.from_arrays(start, step, load_w=load, **kwargs)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r[2].__setitem__(1, "inf"), "line 3: load_w is not a finite number: 'inf'"),
        (lambda r: r[2].__setitem__(4, "nan"), "line 3: price_export is not a finite number"),
        (lambda r: [row.append(row[1]) for row in r], "duplicate column(s) load_w"),
        (lambda r: r.__delitem__(slice(2, None)), "need at least 2 data rows, got 1"),
    ],
)
def test_more_malformed_series(mutate: Any, message: str) -> None:
    """Infinite cells, a column given twice and a single row are refused with the reason."""
    rows = _rows(3)
    mutate(rows)
    with pytest.raises(SeriesFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_series_rows(rows, "s.csv")


def test_blank_lines_are_skipped_and_line_numbers_stay_true() -> None:
    """Empty lines between rows are ignored; an error after them names the file's line."""
    rows = _rows(3)
    rows.insert(2, [])
    rows.insert(3, ["", " ", "", "", ""])
    series = parse_series_rows(rows)
    assert len(series) == 3
    assert series.times[-1] - series.times[0] == 2 * HOUR
    rows[5][1] = "x"  # the third data row, line 6 of the file
    with pytest.raises(SeriesFormatError, match="line 6: load_w is not a number: 'x'"):
        parse_series_rows(rows)


def test_csv_with_a_byte_order_mark_and_a_binary_file(tmp_path: Path) -> None:
    """A spreadsheet's UTF-8 BOM is accepted; a file that is not UTF-8 text is a format error."""
    path = tmp_path / "excel.csv"
    path.write_text("\ufeff" + "\n".join(",".join(r) for r in _rows(2)) + "\n", encoding="utf-8")
    assert read_series_csv(path).load_w.tolist() == [500.0, 500.0]
    binary = tmp_path / "series.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81timestamp\x00")
    with pytest.raises(SeriesFormatError, match=r"series\.csv: not a readable CSV file"):
        read_series_csv(binary)


# -- the home -------------------------------------------------------------------------------------


def _ev(schedule: Any) -> dict[str, Any]:
    return {"kind": "ev", "name": "ev", "max_power_w": 7400, "schedule": schedule}


@pytest.mark.parametrize(
    ("home", "message"),
    [
        ([], "the home must be a JSON object"),
        ({"devices": {"kind": "ev"}}, "devices must be a list"),
        ({"devices": ["ev"]}, r"devices\[0\] must be an object"),
        (
            {"devices": [{"kind": "battery", "name": "b", "schedule": {}}]},
            r"devices\[0\]: a battery device takes no schedule",
        ),
        ({"devices": [_ev("18:00")]}, r"devices\[0\]\.schedule must be an object"),
        (
            {"devices": [_ev({"plug_in": 18, "departure": "07:00", "energy_kwh": 5})]},
            r'schedule\.plug_in must be a time of day such as "18:30"',
        ),
        (
            {"devices": [_ev({"plug_in": "18:00", "departure": "07:00", "energy_kwh": -1})]},
            r"schedule\.energy_kwh must be a number >= 0",
        ),
        (
            {"devices": [_ev({"plug_in": "18:00", "departure": "07:00", "energy_kwh": True})]},
            r"schedule\.energy_kwh must be a number >= 0",
        ),
        (
            {"devices": [_ev({"plug_in": "18:00", "departure": "7", "energy_kwh": 5})]},
            r"schedule\.departure: not a time of day: '7'",
        ),
        (
            {
                "devices": [
                    _ev({"plug_in": "18:00", "departure": "07:00", "energy_kwh": 5, "days": "mon"})
                ]
            },
            r"schedule\.days must be a list of days \(0-6 or mon\.\.sun\)",
        ),
        (
            {
                "devices": [
                    _ev({"plug_in": "18:00", "departure": "07:00", "energy_kwh": 5, "days": [7]})
                ]
            },
            r"schedule\.days: not a day: 7",
        ),
        (
            {
                "devices": [
                    {
                        "kind": "thermal",
                        "name": "heater",
                        "max_power_w": 2000,
                        "heat_capacity_kwh_per_k": 0.2,
                        "loss_w_per_k": 2,
                        "t_initial_c": 50,
                        "t_min_c": 45,
                        "t_max_c": 60,
                        "schedule": {"heat_demand_w_by_hour": [100] * 23},
                    }
                ]
            },
            r"devices\[0\]\.schedule\.heat_demand_w_by_hour must be 24 numbers",
        ),
    ],
)
def test_home_errors_name_the_field(home: Any, message: str) -> None:
    """Every malformed part of HOME.json is refused with its path in the message."""
    with pytest.raises(HomeFormatError, match=message):
        home_from_dict(home)


def test_days_by_number_and_by_full_name() -> None:
    """Days are read from 0-6 and from day names; a thermal schedule has no sessions."""
    home = home_from_dict(
        _home(
            _ev(
                {"plug_in": "18:00", "departure": "20:00", "energy_kwh": 5, "days": [0, "SATURDAY"]}
            ),
            {
                "kind": "thermal",
                "name": "heater",
                "max_power_w": 2000,
                "heat_capacity_kwh_per_k": 0.2,
                "loss_w_per_k": 2,
                "t_initial_c": 50,
                "t_min_c": 45,
                "t_max_c": 60,
                "schedule": {"heat_demand_w_by_hour": [100] * 24},
            },
        )
    )
    week = home.schedules["ev"].occurrences(home.timezone, START, START + timedelta(days=7))
    assert [(a.strftime("%a %H:%M"), b.strftime("%H:%M")) for a, b in week] == [
        ("Mon 18:00", "20:00"),
        ("Sat 18:00", "20:00"),
    ]
    assert home.schedules["heater"].occurrences(home.timezone, START, START + HOUR * 48) == []
    assert home.schedules["heater"].heat_demand_w_by_hour == (100.0,) * 24


# -- thermal loads --------------------------------------------------------------------------------


def _heater(**fields: Any) -> dict[str, Any]:
    return {"kind": "thermal", "name": "heater", "efficiency": 1.0, **fields}


def test_undersized_heater_without_losses_counts_the_comfort_gap() -> None:
    """An undersized heater without losses reports the K x h it falls below the band."""
    # 500 W against 1 kW of hourly demand (the schedule's, not the device's zero) in a 1 kWh/K
    # tank at 50 degC, the bottom of its band: every policy heats flat out and the tank loses
    # 0.5 K an hour, 49.5 then 49.0 degC: 0.5 + 1.0 = 1.5 K x h below the band
    home = home_from_dict(
        _home(
            _heater(
                max_power_w=500,
                heat_capacity_kwh_per_k=1.0,
                loss_w_per_k=0,
                t_initial_c=50,
                t_min_c=[50, 50],
                t_max_c=60,
                heat_demand_w=[0, 0],
                schedule={"heat_demand_w_by_hour": [1000] * 24},
            )
        )
    )
    summary, replays = run_backtest(home, _known_series(2), "optimizer")
    assert summary["steps"] == 2
    for policy in ("optimizer", "baseline", "perfect"):
        assert summary["policies"][policy]["unmet"]["comfort_kh"] == pytest.approx(1.5)
        assert replays[policy][0].device_power_w["heater"].tolist() == [500.0, 500.0]
    # 1 kWh bought at 0.20
    assert summary["total_cost"] == pytest.approx(0.2)
    assert summary["import_kwh"] == pytest.approx(1.0)
    assert summary["self_sufficiency"] == pytest.approx(0.0)


def test_heater_with_losses_follows_the_exact_first_order_model() -> None:
    """A leaky tank follows the exact first-order model; a demand list counts as its first value."""
    # 1 kW into 0.1 kWh/K losing 10 W/K to 20 degC air, from 40 degC, band from 60 degC:
    # T(t+1) = a T(t) + (1 - a) (20 + 1 kW / 0.01 kW/K) with a = exp(-0.1); demand 0 (first value)
    home = home_from_dict(
        _home(
            _heater(
                max_power_w=1000,
                heat_capacity_kwh_per_k=0.1,
                loss_w_per_k=10,
                t_initial_c=40,
                t_min_c=60,
                t_max_c=80,
                ambient_c=[20],
                heat_demand_w=[0, 5000],
            )
        )
    )
    summary, _ = run_backtest(home, _known_series(2), "baseline")
    a = math.exp(-0.1)
    t1 = a * 40 + (1 - a) * 120
    t2 = a * t1 + (1 - a) * 120
    assert (t1, t2) == (pytest.approx(47.61, abs=0.01), pytest.approx(54.50, abs=0.01))
    assert summary["unmet"]["comfort_kh"] == pytest.approx((60 - t1) + (60 - t2), abs=1e-3)
    assert summary["total_cost"] == pytest.approx(0.4)


# -- one-off requests, forecasts and re-planning -------------------------------------------------


def test_one_off_ev_session_charged_in_the_cheap_hours() -> None:
    """A one-off EV session is charged in the cheap hour; the baseline charges at once."""
    # 9 kWh (10 kWh AC at 90 %) between 00:00 and 03:00 on a 5 kW charger: the baseline pays
    # 2 h x 5 kW at 0.30 = 3.00, the optimizer 0.10 + 0.30 per kWh-hour = 2.00: 33.33 % saved
    session = {
        "plug_in": START.isoformat(),
        "departure": (START + 3 * HOUR).isoformat(),
        "energy_kwh": 9,
    }
    home = home_from_dict(
        _home(
            {"kind": "ev", "name": "ev", "max_power_w": 5000, "sessions": [session]},
            hours=3,
        )
    )
    summary, replays = run_backtest(home, _known_series(3, imp=[0.3, 0.3, 0.1]), "optimizer")
    assert summary["baseline_cost"] == pytest.approx(3.0)
    assert summary["total_cost"] == pytest.approx(2.0)
    assert summary["perfect_cost"] == pytest.approx(2.0)
    assert summary["savings_pct"] == pytest.approx(33.33)
    assert summary["captured_share"] == pytest.approx(1.0)
    assert summary["unmet"]["ev_unmet_kwh"] == 0
    assert replays["baseline"][0].device_power_w["ev"].tolist() == [5000.0, 5000.0, 0.0]
    assert replays["optimizer"][0].device_power_w["ev"][2] == 5000.0


def _pump(**fields: Any) -> dict[str, Any]:
    """A 1 kW pump that must run 1 kWh between 00:00 and 02:00 (a one-off window)."""
    return {
        "kind": "interruptible",
        "name": "pump",
        "power_w": 1000,
        "energy_kwh": 1,
        "window_start": START.isoformat(),
        "window_end": (START + 2 * HOUR).isoformat(),
        **fields,
    }


def test_wrong_price_forecast_costs_the_whole_saving() -> None:
    """A price forecast that is exactly wrong loses the whole saving perfect foresight finds."""
    # prices 0.40 then 0.10, forecast 0.10 then 0.40: the optimizer runs the pump at 0.40 like
    # the baseline, perfect foresight at 0.10; with load and PV forecast columns no day of
    # history is needed, so both rows are replayed
    home = home_from_dict(_home(_pump()))
    series = _known_series(2, imp=[0.4, 0.1], forecasts={"price_import": [0.1, 0.4]})
    summary, replays = run_backtest(home, series, "optimizer")
    assert (summary["steps"], summary["start"]) == (2, START.isoformat())
    assert summary["total_cost"] == pytest.approx(0.4)
    assert summary["baseline_cost"] == pytest.approx(0.4)
    assert summary["perfect_cost"] == pytest.approx(0.1)
    assert summary["savings_pct"] == pytest.approx(0.0)
    assert summary["perfect_savings_pct"] == pytest.approx(75.0)
    assert summary["captured_share"] == pytest.approx(0.0)
    assert replays["optimizer"][0].device_power_w["pump"].tolist() == [1000.0, 0.0]
    assert summary["unmet"]["run_unmet_kwh"] == 0


def test_empty_forecast_cells_without_history_use_the_last_measured_value() -> None:
    """An empty forecast cell with no day of history falls back to the last measured load."""
    # row 1's load forecast is empty and there is no earlier day: the optimizer is told row 0's
    # measured 100 W
    told: list[tuple[float, ...]] = []

    def recording(problem: Problem) -> Plan:
        told.append(problem.base_load_w)
        return baseline_plan(problem)

    home = home_from_dict(_home(hours=3))
    series = _known_series(
        3, load=[100.0, 200.0, 300.0], forecasts={"load_w": [300.0, math.nan, 500.0]}
    )
    summary, _ = run_backtest(home, series, "optimizer", planners={"optimizer": recording})
    assert told == [(300.0, 100.0, 500.0), (100.0, 500.0), (500.0,)]
    # what is paid is the measured load: 0.6 kWh at 0.20
    assert summary["total_cost"] == pytest.approx(0.12)


def test_replanning_every_two_steps_halves_the_solves() -> None:
    """Re-planning every 2 steps needs one plan per policy and still uses the cheap hour."""
    home = home_from_dict(_home(_pump()))
    series = _known_series(2, imp=[0.4, 0.1])
    summary, replays = run_backtest(home, series, "optimizer", replan_every=2)
    assert {p: m["solves"] for p, m in summary["policies"].items()} == {
        "optimizer": 1,
        "baseline": 1,
        "perfect": 1,
    }
    assert summary["total_cost"] == pytest.approx(0.1)
    assert replays["optimizer"][0].device_power_w["pump"].tolist() == [0.0, 1000.0]


def test_pump_never_runs_outside_its_window_whatever_the_plan_says() -> None:
    """The replay never runs a pump outside its window, whatever the plan says."""
    # the planner below ignores the 01:00 window start and asks for the pump from 00:00

    def eager(problem: Problem) -> Plan:
        plan = baseline_plan(problem)
        if not plan.devices:  # the need is met: the pump is no longer planned
            return plan
        forced = replace(plan.device("pump"), power_w=(1000.0,) * problem.n_steps)
        return replace(plan, devices=(forced,))

    home = home_from_dict(_home(_pump(window_start=(START + HOUR).isoformat())))
    series = _known_series(3, imp=[0.2, 0.2, 0.2])
    run = replay(home, series, "baseline", eager)
    assert run.device_power_w["pump"].tolist() == [0.0, 1000.0, 0.0]
    assert run.outcome.run_unmet_kwh == 0
    with pytest.raises(ValueError, match=r"empty replay range \[3, 3\)"):
        replay(home, series, "baseline", eager, begin=3)


def test_optional_cycle_not_run_counts_as_missed_each_day() -> None:
    """Each daily window an optional cycle lets pass unstarted counts as a missed cycle."""
    # the dryer has no run value, so no policy runs it: Monday's cycle is missed when Tuesday's
    # window opens, Tuesday's at the end of the replay
    dryer = {
        "kind": "appliance",
        "name": "dryer",
        "profile_w": [1000],
        "profile_step_minutes": 60,
        "required": False,
        "schedule": {"earliest_start": "08:00", "latest_finish": "12:00"},
    }
    home = home_from_dict(_home(dryer, hours=4))
    summary, replays = run_backtest(home, _known_series(48), "optimizer")
    assert summary["unmet"]["cycles_missed"] == 2
    assert summary["policies"]["baseline"]["unmet"]["cycles_missed"] == 2
    assert float(replays["optimizer"][0].device_power_w["dryer"].sum()) == 0.0
    assert summary["total_cost"] == pytest.approx(0.0)


def test_cycle_longer_than_its_window_runs_late() -> None:
    """A 2 h cycle in a 1 h window (01:00-02:00) starts at 01:00 and finishes an hour late."""
    washer = {
        "kind": "appliance",
        "name": "washer",
        "profile_w": [1000, 1000],
        "profile_step_minutes": 60,
        "schedule": {"earliest_start": "01:00", "latest_finish": "02:00"},
    }
    home = home_from_dict(_home(washer, hours=4))
    summary, replays = run_backtest(home, _known_series(4), "optimizer")
    assert summary["unmet"]["cycles_late_h"] == pytest.approx(1.0)
    assert summary["unmet"]["cycles_missed"] == 0
    assert replays["optimizer"][0].device_power_w["washer"].tolist() == [0.0, 1000.0, 1000.0, 0.0]


# -- the grid and the batteries -------------------------------------------------------------------


def test_negative_export_price_curtails_unless_generation_cannot_be() -> None:
    """Surplus at a negative export price is curtailed unless generation cannot be."""
    # 1.5 kW of surplus for two hours, export paid -0.10 then 0.05: a curtailable inverter spills
    # the first hour and earns 0.075; one that cannot curtail pays 0.15 to export, 0.075 net
    series = _known_series(2, load=[500.0] * 2, pv=[2000.0] * 2, exp=[-0.1, 0.05])
    summary, _ = run_backtest(home_from_dict(_home()), series, "baseline")
    assert summary["total_cost"] == pytest.approx(-0.075)
    assert summary["export_kwh"] == pytest.approx(1.5)
    assert summary["policies"]["baseline"]["curtailed_kwh"] == pytest.approx(1.5)
    # (4 kWh PV - 1.5 exported - 1.5 curtailed) / 4
    assert summary["self_consumption"] == pytest.approx(0.25)
    stuck = home_from_dict(_home(generation_curtailable=False))
    summary, _ = run_backtest(stuck, series, "baseline")
    assert summary["total_cost"] == pytest.approx(0.075)
    assert summary["export_kwh"] == pytest.approx(3.0)
    assert summary["policies"]["baseline"]["curtailed_kwh"] == pytest.approx(0.0)


def test_export_limit_spills_the_rest() -> None:
    """2.5 kW of surplus behind a 1 kW export limit: 1 kW is sold at 0.10, 1.5 kW spilled."""
    home = home_from_dict(_home(grid={"export_limit_w": 1000}))
    series = _known_series(2, load=[500.0] * 2, pv=[3000.0] * 2, exp=[0.1, 0.1])
    summary, replays = run_backtest(home, series, "optimizer")
    assert replays["optimizer"][0].export_w.tolist() == [1000.0, 1000.0]
    assert replays["optimizer"][0].curtailed_w.tolist() == [1500.0, 1500.0]
    assert summary["total_cost"] == pytest.approx(-0.2)
    assert summary["peak_import_kw"] == 0.0


def test_only_the_first_battery_takes_the_forecast_error() -> None:
    """Only the first battery absorbs the forecast error; the second keeps to its plan."""
    # forecast: no sun; measured: 2.5 kW against a 500 W load. Both batteries are planned idle
    # (wear makes cycling a loss); the first stores the 2 kW surplus. Cost: 0.5 kWh bought at
    # 0.30 + 2 kWh x 0.01 wear - 1.9 kWh stored x (median import price 0.30 x 95 %)
    battery = {
        "kind": "battery",
        "capacity_kwh": 10,
        "max_charge_w": 3000,
        "soc_initial": 0.5,
        "wear_cost_per_kwh": 0.01,
    }
    home = home_from_dict(
        _home({**battery, "name": "first"}, {**battery, "name": "second"}, hours=2)
    )
    series = _known_series(
        2,
        load=[500.0] * 2,
        pv=[2500.0, 0.0],
        imp=[0.3, 0.3],
        exp=[0.05, 0.05],
        forecasts={"pv_w": [0.0, 0.0]},
    )
    summary, replays = run_backtest(home, series, "optimizer")
    run = replays["optimizer"][0]
    assert run.device_power_w["first"].tolist() == [pytest.approx(2000.0), pytest.approx(0.0)]
    assert run.device_power_w["second"].tolist() == [0.0, 0.0]
    assert run.battery_soc["first"][0] == pytest.approx(0.5 + 2 * 0.95 / 10)
    assert float(run.export_w.sum()) == pytest.approx(0.0)
    assert np.allclose(run.import_w, [0.0, 500.0])
    assert summary["total_cost"] == pytest.approx(0.15 + 0.02 - 1.9 * 0.3 * 0.95, abs=1e-4)
