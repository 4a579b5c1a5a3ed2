"""The benchmark problems P1, P2 and P3 (deterministic, synthetic, shaped like real days).

All start at 2026-06-01 00:00 +02:00 and cover 48 h except P1 (24 h). The series are
functions of the time of day h (0..24) and of the day index d (0, 1), no randomness:
- import price (EUR/kWh): 0.22 base, 0.13 at night (0-6 h), 0.33 morning peak (7-9 h),
  0.17 midday solar dip (11-15 h), 0.38 evening peak (17-21 h), plus 0.015 sin(h) wiggle;
  day 2 is 10 % dearer. Export price: 0.07, 0.02 at midday (11-15 h).
- base load (W): 280 + 600 at 7-8 h + 1200 at 18-21 h + 150 sin(h/3) (always > 0).
- PV (W): 4500 sin(pi (h-6)/14) between 6 and 20 h, day 2 at 60 %.
- carbon intensity (kg/kWh): 0.30 - 0.12 * PV share of the 4500 W peak.
- grid: 17 kW import (3 x 25 A), 7 kW export.
P1 = 48 x 30 min: battery + an EV with a 1.4 kW minimum + a heat pump with a 0.8 kW minimum
(two semi-continuous loads). P2 = 192 x 15 min: battery + EV (6-16 A, 3 phases, whole
amperes) + dishwasher and washing machine cycles + pool pump + water heater. P3 = P2 at
576 x 5 min.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

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

START = datetime(2026, 6, 1, 0, 0, tzinfo=timezone(timedelta(hours=2)))


def _hours(step: timedelta, n: int) -> list[tuple[int, float]]:
    """(day, hour of day at the middle of the step) per step."""
    out = []
    for t in range(n):
        mid = (t + 0.5) * step.total_seconds() / 3600
        out.append((int(mid // 24), mid % 24))
    return out


def import_price(d: int, h: float) -> float:
    """Import price at hour h of day d (EUR/kWh)."""
    if h < 6:
        p = 0.13
    elif 7 <= h < 9:
        p = 0.33
    elif 11 <= h < 15:
        p = 0.17
    elif 17 <= h < 21:
        p = 0.38
    else:
        p = 0.22
    return round((p + 0.015 * math.sin(h)) * (1.1 if d else 1.0), 4)


def export_price(h: float) -> float:
    """Export price at hour h (EUR/kWh)."""
    return 0.02 if 11 <= h < 15 else 0.07


def base_load(h: float) -> float:
    """Base load at hour h (W)."""
    w = 280 + 150 * math.sin(h / 3)
    if 7 <= h < 8:
        w += 600
    if 18 <= h < 21:
        w += 1200
    return round(max(w, 50.0), 1)


def pv(d: int, h: float) -> float:
    """PV forecast at hour h of day d (W)."""
    if not 6 < h < 20:
        return 0.0
    return round(4500 * math.sin(math.pi * (h - 6) / 14) * (0.6 if d else 1.0), 1)


def _series(step: timedelta, n: int) -> dict[str, tuple[float, ...]]:
    hours = _hours(step, n)
    pv_w = tuple(pv(d, h) for d, h in hours)
    return {
        "import_price": tuple(import_price(d, h) for d, h in hours),
        "export_price": tuple(export_price(h) for _, h in hours),
        "base_load_w": tuple(base_load(h) for _, h in hours),
        "pv_w": pv_w,
        "carbon_intensity": tuple(round(0.30 - 0.12 * p / 4500, 4) for p in pv_w),
    }


def _series_args(s: dict[str, tuple[float, ...]]) -> dict[str, Any]:
    return dict(s)


def _grid(n: int) -> Grid:
    return Grid(import_limit_w=(17000.0,) * n, export_limit_w=(7000.0,) * n)


def _battery() -> Battery:
    return Battery(
        name="battery",
        capacity_kwh=10.0,
        max_charge_w=5000.0,
        max_discharge_w=5000.0,
        soc_initial=0.3,
        soc_min=0.1,
        soc_max=0.95,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        wear_cost_per_kwh=0.02,
    )


def _water_heater(n: int, step: timedelta, min_power_w: float = 0.0) -> ThermalLoad:
    hours = _hours(step, n)
    # hot-water draws: showers 6:30-7:30 and 19-20 h, dishes 12-13 h
    demand = tuple(
        2500.0 if (6.5 <= h < 7.5 or 19 <= h < 20) else 800.0 if 12 <= h < 13 else 60.0
        for _, h in hours
    )
    return ThermalLoad(
        name="water_heater",
        max_power_w=3000.0,
        min_power_w=min_power_w,
        heat_capacity_kwh_per_k=0.233,
        loss_w_per_k=2.0,
        t_initial_c=52.0,
        t_min_c=(45.0,) * n,
        t_max_c=(65.0,) * n,
        ambient_c=(20.0,) * n,
        heat_demand_w=demand,
        efficiency=(1.0,) * n,
    )


def p1() -> Problem:
    """P1: 48 x 30 min; battery, EV (1.4-7.4 kW, off or at least 1.4 kW), heat pump with a
    0.8 kW minimum (COP 3) keeping a house between 20 and 23 °C."""
    step = timedelta(minutes=30)
    n = 48
    s = _series(step, n)
    hours = _hours(step, n)
    ev = EVCharger(
        name="ev",
        max_power_w=7400.0,
        min_power_w=1400.0,
        sessions=(EVSession(START + timedelta(hours=18), START + timedelta(hours=31), 20.0),),
    )
    heat_pump = ThermalLoad(
        name="heat_pump",
        max_power_w=2500.0,
        min_power_w=800.0,
        heat_capacity_kwh_per_k=5.0,
        loss_w_per_k=150.0,
        t_initial_c=21.0,
        t_min_c=(20.0,) * n,
        t_max_c=(23.0,) * n,
        ambient_c=tuple(round(8 + 5 * math.sin(math.pi * (h - 9) / 12), 2) for _, h in hours),
        heat_demand_w=(0.0,) * n,
        efficiency=(3.0,) * n,
    )
    return Problem(
        start=START,
        step=step,
        n_steps=n,
        grid=_grid(n),
        devices=(_battery(), ev, heat_pump),
        name="P1",
        **_series_args(s),
    )


def _p2_like(step: timedelta, n: int, name: str) -> Problem:
    s = _series(step, n)
    day = timedelta(hours=24)
    ev = EVCharger(
        name="ev",
        max_power_w=16 * 3 * 230.0,
        min_power_w=6 * 3 * 230.0,
        power_step_w=3 * 230.0,
        sessions=(
            EVSession(START + timedelta(hours=18), START + timedelta(hours=31), 22.0),
            EVSession(START + day + timedelta(hours=17), START + day + timedelta(hours=31), 15.0),
        ),
        capacity_kwh=60.0,
        soc_initial=0.35,
    )
    dishwasher = ShiftableAppliance(
        name="dishwasher",
        profile_w=(2000.0, 150.0, 150.0, 2000.0, 100.0, 100.0, 1800.0, 50.0),
        profile_step=timedelta(minutes=15),
        earliest_start=START + timedelta(hours=20),
        latest_finish=START + timedelta(hours=31),
    )
    washer = ShiftableAppliance(
        name="washing_machine",
        profile_w=(2200.0, 2200.0, 400.0, 400.0, 300.0, 600.0),
        profile_step=timedelta(minutes=15),
        earliest_start=START + day + timedelta(hours=8),
        latest_finish=START + day + timedelta(hours=18),
    )
    pump = InterruptibleLoad(
        name="pool_pump",
        power_w=750.0,
        run_hours=6.0,
        window_start=START + timedelta(hours=8),
        window_end=START + timedelta(hours=20),
        min_on=timedelta(hours=1),
    )
    return Problem(
        start=START,
        step=step,
        n_steps=n,
        grid=_grid(n),
        devices=(_battery(), ev, dishwasher, washer, pump, _water_heater(n, step)),
        name=name,
        **_series_args(s),
    )


def p2() -> Problem:
    """P2: 192 x 15 min (48 h); battery, EV in whole amperes with two sessions, dishwasher and
    washing machine (profiles over 2 h and 1.5 h), pool pump (6 h in 8-20 h, 1 h minimum
    on-time), 3 kW water heater kept in 45-65 °C against shower draws."""
    return _p2_like(timedelta(minutes=15), 192, "P2")


def p3() -> Problem:
    """P3: P2 at 576 x 5 min."""
    return _p2_like(timedelta(minutes=5), 576, "P3")
