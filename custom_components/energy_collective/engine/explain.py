"""Per-device explanations of a plan: a short English text plus a key and parameters.

The integration translates from `key` and `params` (times as "HH:MM" in the problem's time
zone, energies in kWh, prices in currency/kWh rounded to 3 decimals); the English `text` is
built from the same parameters. The price of a step is what its energy is worth to the home:
the import price while importing, the export price (the income given up) otherwise.
"""

from __future__ import annotations

from datetime import datetime

from .model import (
    Battery,
    DevicePlan,
    EVCharger,
    Explanation,
    InterruptibleLoad,
    Plan,
    Problem,
    ShiftableAppliance,
    ThermalLoad,
)
from .modes import coefficients, cycle_spec, ev_sessions

Params = dict[str, str | float | int]

TEMPLATES: dict[str, str] = {
    "cycle_start_cheapest": (
        "{device} starts {start}: the cheapest {duration} window before {until}, "
        "{price} {currency}/kWh average"
    ),
    "cycle_start": "{device} starts {start} and runs {duration}, {price} {currency}/kWh average",
    "cycle_late": (
        "{device} starts {start}: its window cannot hold the {duration} cycle, "
        "it finishes {late_h} h after {until}"
    ),
    "cycle_not_run": "{device} cannot run in this plan: no {duration} slot is left",
    "cycle_skipped": "{device} does not run: not worth {value} {currency}",
    "cycle_running": "{device} is running; its cycle continues",
    "cycle_later": "{device} is planned in a later horizon (window ends {until})",
    "ev_charge": (
        "{device} gets {energy} kWh between {first} and {last}, {price} {currency}/kWh "
        "average, ready by {departure}"
    ),
    "ev_short": (
        "{device} gets {energy} of {need} kWh by {departure}: {short} kWh short, charging "
        "whenever possible"
    ),
    "ev_idle": "{device} does not charge in this plan",
    "battery_cycle": (
        "{device} charges {charge} kWh at {charge_price} {currency}/kWh average and "
        "discharges {discharge} kWh at {discharge_price} {currency}/kWh; ends at {end_soc} %"
    ),
    "battery_idle": "{device} stays at {end_soc} %: no price spread worth its losses",
    "run_hours": (
        "{device} runs {hours} h in {blocks} block(s) from {first}, {price} {currency}/kWh average"
    ),
    "run_short": "{device} runs {hours} h: {short} kWh short of its need in the window",
    "run_idle": "{device} does not need to run in this plan",
    "thermal_heat": (
        "{device} uses {energy} kWh, mostly {first}-{last}, {price} {currency}/kWh average; "
        "stays between {t_low} and {t_high} °C"
    ),
    "thermal_breach": (
        "{device} leaves its comfort band by {kh} K*h (down to {t_low} °C, up to {t_high} °C)"
    ),
}


def _hm(t: datetime) -> str:
    return t.strftime("%H:%M")


def _dur(hours: float) -> str:
    if abs(hours - round(hours)) < 1e-9:
        return f"{round(hours)} h"
    return f"{round(hours * 60)} min" if hours < 1 else f"{hours:.1f} h"


def step_values(problem: Problem, plan: Plan) -> list[float]:
    """What a kWh is worth at each step (import price while importing, else export price)."""
    return [
        problem.import_price[t] if plan.import_w[t] > 1e-6 else problem.export_price[t]
        for t in range(problem.n_steps)
    ]


def _avg(prices: list[float], power: tuple[float, ...] | list[float]) -> float:
    total = sum(abs(p) for p in power)
    if total <= 0:
        return 0.0
    return sum(pr * abs(p) for pr, p in zip(prices, power, strict=True)) / total


def _make(device: str, key: str, params: Params) -> Explanation:
    params = {"device": device, **params}
    return Explanation(device, key, params, TEMPLATES[key].format(**params))


def explain(problem: Problem, plan: Plan) -> tuple[Explanation, ...]:
    """One explanation per device of the plan."""
    value = step_values(problem, plan)
    dt = problem.step_hours
    cur = problem.currency
    coef = coefficients(problem)
    plans = {d.name: d for d in plan.devices}
    out: list[Explanation] = []
    for d in problem.devices:
        dp = plans.get(d.name)
        if dp is None:
            continue
        if isinstance(d, ShiftableAppliance):
            out.append(_appliance(problem, d, dp, value=value, price=coef.import_cost, cur=cur))
        elif isinstance(d, EVCharger):
            out.append(_ev(problem, d, dp, value, cur))
        elif isinstance(d, Battery):
            out.append(_battery(d, dp, value, cur, dt))
        elif isinstance(d, InterruptibleLoad):
            on = [p > 0 for p in dp.power_w]
            hours = round(sum(on) * dt, 2)
            short = next((s for s in plan.shortfalls if s.device == d.name), None)
            if short is not None:
                out.append(
                    _make(d.name, "run_short", {"hours": hours, "short": round(short.amount, 2)})
                )
            elif not any(on):
                out.append(_make(d.name, "run_idle", {}))
            else:
                blocks = sum(1 for t in range(len(on)) if on[t] and (t == 0 or not on[t - 1]))
                first = on.index(True)
                out.append(
                    _make(
                        d.name,
                        "run_hours",
                        {
                            "hours": hours,
                            "blocks": blocks,
                            "first": _hm(problem.time_of(first)),
                            "price": round(_avg(value, dp.power_w), 3),
                            "currency": cur,
                        },
                    )
                )
        else:
            out.append(_thermal(problem, d, dp, plan, value=value, cur=cur))
    return tuple(out)


def _appliance(
    problem: Problem,
    d: ShiftableAppliance,
    dp: DevicePlan,
    *,
    value: list[float],
    price: tuple[float, ...],
    cur: str,
) -> Explanation:
    coef = coefficients(problem)
    spec = cycle_spec(problem, d, coef)
    dt = problem.step_hours
    duration = _dur(d.duration.total_seconds() / 3600)
    until = _hm(d.latest_finish or problem.end)
    if spec.fixed_start is not None:
        return _make(d.name, "cycle_running", {})
    if dp.start_step is None:
        if spec.deferred:
            return _make(d.name, "cycle_later", {"until": until})
        if spec.required:
            return _make(d.name, "cycle_not_run", {"duration": duration})
        return _make(d.name, "cycle_skipped", {"value": round(d.run_value, 2), "currency": cur})
    k = dp.start_step
    params: Params = {
        "start": _hm(problem.time_of(k)),
        "duration": duration,
        "until": until,
        "price": round(_avg(value, dp.power_w), 3),
        "currency": cur,
    }
    late = dict(spec.starts).get(k, 0.0)
    if late > 0:
        return _make(d.name, "cycle_late", {**params, "late_h": round(late, 2)})

    def cost(s: int) -> float:
        return sum(kw * dt * price[s + j] for j, kw in enumerate(spec.profile_kw))

    best = min(cost(s) for s, _ in spec.starts) if spec.starts else cost(k)
    key = "cycle_start_cheapest" if cost(k) <= best + 1e-9 else "cycle_start"
    return _make(d.name, key, params)


def _ev(
    problem: Problem, d: EVCharger, dp: DevicePlan, value: list[float], cur: str
) -> Explanation:
    dt = problem.step_hours
    on = [t for t, p in enumerate(dp.power_w) if p > 0]
    sessions = ev_sessions(problem, d)
    energy = sum(dp.power_w) / 1000 * dt * d.efficiency
    need = sum(s.need_kwh for s in sessions)
    departure = _hm(problem.time_of(sessions[0].departure_step)) if sessions else "-"
    if need - energy > 1e-3:
        return _make(
            d.name,
            "ev_short",
            {
                "energy": round(energy, 2),
                "need": round(need, 2),
                "short": round(need - energy, 2),
                "departure": departure,
            },
        )
    if not on:
        return _make(d.name, "ev_idle", {})
    return _make(
        d.name,
        "ev_charge",
        {
            "energy": round(energy, 2),
            "first": _hm(problem.time_of(on[0])),
            "last": _hm(problem.time_of(on[-1] + 1)),
            "price": round(_avg(value, dp.power_w), 3),
            "currency": cur,
            "departure": departure,
        },
    )


def _battery(d: Battery, dp: DevicePlan, value: list[float], cur: str, dt: float) -> Explanation:
    charge = [max(0.0, p) for p in dp.power_w]
    discharge = [max(0.0, -p) for p in dp.power_w]
    end_soc = round(100 * (dp.soc[-1] if dp.soc else d.soc_initial))
    if sum(charge) <= 0 and sum(discharge) <= 0:
        return _make(d.name, "battery_idle", {"end_soc": end_soc})
    return _make(
        d.name,
        "battery_cycle",
        {
            "charge": round(sum(charge) * dt / 1000, 2),
            "charge_price": round(_avg(value, charge), 3),
            "discharge": round(sum(discharge) * dt / 1000, 2),
            "discharge_price": round(_avg(value, discharge), 3),
            "currency": cur,
            "end_soc": end_soc,
        },
    )


def _thermal(
    problem: Problem, d: ThermalLoad, dp: DevicePlan, plan: Plan, *, value: list[float], cur: str
) -> Explanation:
    temps = dp.temperature_c or (d.t_initial_c,)
    t_low = round(min(temps), 1)
    t_high = round(max(temps), 1)
    breach = sum(
        s.amount
        for s in plan.shortfalls
        if s.device == d.name and s.requirement in ("comfort_low", "comfort_high")
    )
    if breach > 0:
        return _make(
            d.name, "thermal_breach", {"kh": round(breach, 2), "t_low": t_low, "t_high": t_high}
        )
    on = [t for t, p in enumerate(dp.power_w) if p > 0]
    energy = sum(dp.power_w) / 1000 * problem.step_hours
    heavy = sorted(on, key=lambda t: -dp.power_w[t])[: max(1, len(on) // 2)] if on else [0]
    return _make(
        d.name,
        "thermal_heat",
        {
            "energy": round(energy, 2),
            "first": _hm(problem.time_of(min(heavy))),
            "last": _hm(problem.time_of(max(heavy) + 1)),
            "price": round(_avg(value, dp.power_w), 3),
            "currency": cur,
            "t_low": t_low,
            "t_high": t_high,
        },
    )
