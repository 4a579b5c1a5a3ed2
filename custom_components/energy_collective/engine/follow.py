"""How a battery follows its plan when the home does not follow the forecast.

A plan sets a battery's power for a step from forecasts of load and generation. The home then
draws more or less than forecast, and the battery's planned power alone would send the whole
difference to the grid: an unexpected surplus exported at the export price while the plan
meant to store it, or an unexpected load bought while the plan was already discharging to
cover the load. Holding the grid exactly at its planned exchange is no better: a battery asked
to hold 0 W while the home imports would charge from the grid whenever the load came in below
its forecast, buying energy the plan never meant to store.

`battery_setpoint` keeps the grid between zero and the planned exchange instead:

- grid inside that band with the planned battery power: the plan is followed as it is;
- more import than planned: the battery discharges more (or charges less) until the import is
  back at the planned import, or at zero where the plan imported nothing;
- more export than planned: the battery charges more (or discharges less) until the export is
  back at the planned export, or at zero where the plan exported nothing.

Where the plan balances the home with the battery (planned exchange zero), this is
self-consumption on the measured values; where it buys to charge or sells to discharge on
purpose, the planned exchange is kept as a limit and never overshot. The power limits are the
caller's: the result is clipped to them.
"""

from __future__ import annotations


def battery_setpoint(
    planned_w: float,
    planned_grid_w: float,
    grid_w: float,
    *,
    max_charge_w: float,
    max_discharge_w: float,
) -> float:
    """The battery power (W, positive charging) for the measured home.

    `planned_w`: the plan's battery power for the step. `planned_grid_w`: the plan's grid
    exchange for the step (import positive, export negative). `grid_w`: the exchange the home
    would have now with the battery at `planned_w` (the measured exchange, minus what the
    battery draws now, plus `planned_w`). `max_charge_w`, `max_discharge_w`: what the battery
    can take or give now (>= 0; 0 when full or empty).
    """
    high = max(planned_grid_w, 0.0)
    low = min(planned_grid_w, 0.0)
    power = planned_w
    if grid_w > high:
        power = planned_w - (grid_w - high)
    elif grid_w < low:
        power = planned_w + (low - grid_w)
    return min(max(power, -max(max_discharge_w, 0.0)), max(max_charge_w, 0.0))
