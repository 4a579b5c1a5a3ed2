"""Peer comparison with EMHASS 0.18.7: the same problems posed to both, timed and priced alike.

    python benchmarks/peer_emhass.py [--repeats 5] [--mip-gap 1e-4] [--json]

EMHASS is installed from PyPI into its own virtual environment, benchmarks/.envs/emhass (an
ignored folder), made from this interpreter unless --python names another (EMHASS 0.18.7 needs
Python >= 3.11). This file is also the driver that runs inside that environment
(`--driver SPEC.json`), so it imports nothing but the standard library at module level.

Problems: P1 (48 x 30 min: battery, EV off or 1.4-7.4 kW, heat pump off or 0.8-2.5 kW) and
P2c, the largest problem both can express: P2 (192 x 15 min) with the EV charging continuously
between 6 and 16 A instead of in whole amperes (EMHASS has no power steps). In both, the comfort
band of the temperature at the end of the last step is opened: EMHASS pins the temperature at
the start of the first step and cannot bound the one after the last, so without this its plan
would leave the band there and look cheaper. How each device is posed to EMHASS:
- battery: EMHASS limits DC power, we limit AC power: its charge limit is ours x charge
  efficiency, its discharge limit ours / discharge efficiency. Wear cost = its charge and
  discharge weights. Our terminal value of stored energy is its final-SoC reward: target SoC =
  soc_min, reward factor = terminal value / last import price.
- EV and heat pump: deferrable loads with a minimum power (off or between min and max), the EV
  in its plug-in window with the AC energy of its need in the horizon.
- thermal loads: EMHASS's first-order thermal load with heating rate and cooling constant set
  so its Euler step equals our exact step, and the heat demand folded into the outdoor
  temperature; the comfort band as its min/max temperatures. (It pins the first temperature and
  leaves the last one unbounded: one bound fewer than ours.)
- shiftable cycles: sequence loads with our profile per step; pool pump: a semi-continuous
  load with its run hours, window and minimum on-time.
Both plans are priced by one cost function (`price_plan`): energy bought minus sold (import and
export recomputed from each plan's device powers), battery wear, minus the terminal value of
the energy left in the battery, and every requirement is checked on the plan's powers.
Timing: EMHASS's optimisation call only (`Optimization(...)` plus
`perform_dayahead_forecast_optim`, no data loading), fresh each run ("cold") and re-solved on
its cached problem ("warm"); ours `solve()` build + solve. Medians over --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV_DIR = ROOT / "benchmarks" / ".envs" / "emhass"
EMHASS_VERSION = "0.18.7"
TOL_KWH = 1e-3


# ----------------------------------------------------------------------------------------------
# Driver: runs inside the EMHASS environment
# ----------------------------------------------------------------------------------------------


def run_driver(spec_path: str) -> int:
    """Solve the spec with EMHASS and print its plan and timings as JSON."""
    import asyncio
    import logging
    import pathlib

    import emhass
    import numpy as np
    import pandas as pd
    import pytz
    from emhass import utils
    from emhass.optimization import Optimization

    spec = json.loads(Path(spec_path).read_text())
    n = spec["n_steps"]
    step = spec["step_minutes"]
    pkg = pathlib.Path(emhass.__file__).parent
    logger = logging.getLogger("peer_emhass")
    logger.setLevel(logging.ERROR)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    config = json.loads((pkg / "data" / "config_defaults.json").read_text())
    b = spec["battery"]
    loads = spec["loads"]
    k = len(loads)
    config.update(
        {
            "costfun": "profit",
            "optimization_time_step": step,
            "delta_forecast_daily": n * step / 1440,
            "lp_solver_mip_rel_gap": spec["mip_gap"],
            "lp_solver_timeout": spec["time_limit_s"],
            "num_threads": 0,
            "set_total_pv_sell": False,
            "compute_curtailment": spec["curtailable"],
            "maximum_power_from_grid": spec["import_limit_w"],
            "maximum_power_to_grid": spec["export_limit_w"],
            "set_use_battery": True,
            "set_nocharge_from_grid": not b["allow_grid_charge"],
            "set_nodischarge_to_grid": not b["allow_grid_export"],
            "battery_charge_power_max": b["max_charge_w"] * b["charge_efficiency"],
            "battery_discharge_power_max": b["max_discharge_w"] / b["discharge_efficiency"],
            "battery_charge_efficiency": b["charge_efficiency"],
            "battery_discharge_efficiency": b["discharge_efficiency"],
            "battery_nominal_energy_capacity": b["capacity_kwh"] * 1000,
            "battery_minimum_state_of_charge": b["soc_min"],
            "battery_maximum_state_of_charge": b["soc_max"],
            "battery_target_state_of_charge": b["soc_min"],
            "weight_battery_discharge": b["wear_cost_per_kwh"],
            "weight_battery_charge": b["wear_cost_per_kwh"],
            "battery_soc_final_reward_factor": spec["terminal_value_per_kwh"]
            / spec["import_price"][-1],
            "number_of_deferrable_loads": k,
            "nominal_power_of_deferrable_loads": [
                x["sequence_w"] if x["kind"] == "sequence" else x["power_w"] for x in loads
            ],
            "minimum_power_of_deferrable_loads": [x.get("min_power_w", 0.0) for x in loads],
            "operating_hours_of_each_deferrable_load": [
                x["energy_wh"] / x["power_w"] if x.get("energy_wh") else 0 for x in loads
            ],
            "start_timesteps_of_each_deferrable_load": [x["start"] for x in loads],
            "end_timesteps_of_each_deferrable_load": [x["end"] for x in loads],
            "treat_deferrable_load_as_semi_cont": [x["kind"] == "onoff" for x in loads],
            "set_deferrable_load_single_constant": [False] * k,
            "set_deferrable_startup_penalty": [0.0] * k,
            "deferrable_load_max_cost": [0.0] * k,
            "set_deferrable_max_startups": [0] * k,
            "def_minimum_on_time": [x.get("min_on_steps", 0) for x in loads],
            "def_minimum_off_time": [0] * k,
            "cost_forecast_per_deferrable_load": [None] * k,
            "is_electric_load": [True] * k,
            "def_load_config": [
                {"thermal_config": x["thermal"]} if x["kind"] == "thermal" else {} for x in loads
            ],
        }
    )
    emhass_conf = {
        "root_path": pkg,
        "data_path": Path(spec_path).parent,
        "associations_path": pkg / "data" / "associations.csv",
        "defaults_path": pkg / "data" / "config_defaults.json",
    }
    secrets = {"time_zone": "UTC", "Latitude": 48.8, "Longitude": 6.9, "Altitude": 200}
    params = asyncio.run(utils.build_params(emhass_conf, secrets, config, logger))
    retrieve_hass_conf, optim_conf, plant_conf = utils.get_yaml_parse(params, logger)
    retrieve_hass_conf["time_zone"] = pytz.UTC
    index = pd.date_range("2026-06-01", periods=n, freq=f"{step}min", tz="UTC")
    frame = pd.DataFrame(
        {"unit_load_cost": spec["import_price"], "unit_prod_price": spec["export_price"]},
        index=index,
    )
    if spec.get("outdoor_c") is not None:
        frame["outdoor_temperature_forecast"] = spec["outdoor_c"]
    pv = pd.Series(spec["pv_w"], index=index)
    load = pd.Series(spec["load_w"], index=index)

    def make() -> Any:
        return Optimization(
            retrieve_hass_conf,
            optim_conf,
            plant_conf,
            "unit_load_cost",
            "unit_prod_price",
            "profit",
            emhass_conf,
            logger,
            opt_time_delta=n * step / 60,
        )

    def run(opt: Any) -> Any:
        return opt.perform_dayahead_forecast_optim(
            frame, pv, load, soc_init=b["soc_initial"], soc_final=b["soc_min"]
        )

    cold: list[float] = []
    warm: list[float] = []
    result = None
    opt = None
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        opt = make()
        result = run(opt)
        cold.append(time.perf_counter() - t0)
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        result = run(opt)
        warm.append(time.perf_counter() - t0)
    assert result is not None
    assert opt is not None

    def col(name: str) -> list[float]:
        if name not in result.columns:
            return [0.0] * n
        return [float(v) for v in np.nan_to_num(result[name].to_numpy(dtype=float))]

    out = {
        "emhass": emhass.__version__ if hasattr(emhass, "__version__") else EMHASS_VERSION,
        "status": str(opt.optim_status),
        "cold_s": cold,
        "warm_s": warm,
        "battery_w": [-x for x in col("P_batt")],  # EMHASS: positive discharges
        "soc": col("SOC_opt"),
        "curtailed_w": col("P_PV_curtailment"),
        "grid_w": col("P_grid"),
        "loads_w": [col(f"P_deferrable{i}") for i in range(k)],
    }
    print(json.dumps(out))
    return 0


# ----------------------------------------------------------------------------------------------
# Host side: builds the specs, runs both planners, prices both plans alike
# ----------------------------------------------------------------------------------------------


def ensure_env(python: str) -> Path:
    """The EMHASS environment's interpreter, created and installed on first use."""
    py = ENV_DIR / "bin" / "python"
    stamp = ENV_DIR / f".emhass-{EMHASS_VERSION}"
    if py.exists() and stamp.exists():
        return py
    ENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"peer_emhass: installing emhass=={EMHASS_VERSION} into {ENV_DIR.relative_to(ROOT)} "
        "(once; a few minutes)",
        file=sys.stderr,
    )
    if not py.exists():
        subprocess.run([python, "-m", "venv", str(ENV_DIR)], check=True)
    subprocess.run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"emhass=={EMHASS_VERSION}",
        ],
        check=True,
    )
    stamp.write_text(EMHASS_VERSION + "\n")
    return py


def _window(first: int, last: int, n: int) -> tuple[int, int]:
    """EMHASS window [start, end) in steps; (0, 0) means the whole horizon."""
    if first <= 0 and last >= n:
        return 0, 0
    return max(0, first), min(n, last)


def pose(problem: Any, *, mip_gap: float, time_limit_s: float, repeats: int) -> dict[str, Any]:
    """The problem as the neutral spec the driver poses to EMHASS."""
    from custom_components.energy_collective.engine.model import (
        Battery,
        EVCharger,
        InterruptibleLoad,
        ShiftableAppliance,
        ThermalLoad,
    )
    from custom_components.energy_collective.engine.modes import (
        coefficients,
        cycle_spec,
        ev_sessions,
        run_spec,
        terminal_value,
        thermal_dynamics,
    )

    n = problem.n_steps
    dt = problem.step_hours
    coef = coefficients(problem)
    batteries = [d for d in problem.devices if isinstance(d, Battery)]
    if len(batteries) != 1:
        raise ValueError("the comparison needs exactly one battery")
    bat = batteries[0]
    loads: list[dict[str, Any]] = []
    outdoor: list[float] | None = None
    for d in problem.devices:
        if isinstance(d, EVCharger):
            if d.power_step_w:
                raise ValueError(f"{d.name}: EMHASS cannot express power steps")
            for i, s in enumerate(ev_sessions(problem, d)):
                start, end = _window(s.steps.start, s.steps.stop, n)
                loads.append(
                    {
                        "name": f"{d.name}#{i}",
                        "device": d.name,
                        "kind": "range",
                        "power_w": d.max_power_w,
                        "min_power_w": d.min_power_w,
                        "energy_wh": s.need_kwh / d.efficiency * 1000,
                        "start": start if (start, end) != (0, 0) else 0,
                        "end": end if end else n,
                    }
                )
        elif isinstance(d, ThermalLoad):
            if outdoor is not None:
                raise ValueError("EMHASS shares one outdoor temperature: one thermal load only")
            a, b, c = thermal_dynamics(problem, d)
            if a >= 1 or len(set(c)) != 1:
                raise ValueError(f"{d.name}: needs losses and a constant efficiency")
            cool = 1 - a
            outdoor = [x / cool for x in b]
            loads.append(
                {
                    "name": d.name,
                    "device": d.name,
                    "kind": "thermal",
                    "power_w": d.max_power_w,
                    "min_power_w": d.min_power_w,
                    "start": 0,
                    "end": 0,
                    "thermal": {
                        "heating_rate": c[0] * d.max_power_w / 1000 / dt,
                        "cooling_constant": cool / dt,
                        "start_temperature": d.t_initial_c,
                        "min_temperatures": [d.t_min_c[0], *d.t_min_c[: n - 1]],
                        "max_temperatures": [d.t_max_c[0], *d.t_max_c[: n - 1]],
                        "desired_temperatures": [],
                    },
                }
            )
        elif isinstance(d, ShiftableAppliance):
            spec = cycle_spec(problem, d, coef)
            if not spec.starts or spec.fixed_start is not None:
                raise ValueError(f"{d.name}: only a cycle that fits its window can be posed")
            first = spec.starts[0][0]
            last = spec.starts[-1][0] + len(spec.profile_kw)
            start, end = _window(first, last, n)
            loads.append(
                {
                    "name": d.name,
                    "device": d.name,
                    "kind": "sequence",
                    "sequence_w": [p * 1000 for p in spec.profile_kw],
                    "power_w": max(spec.profile_kw) * 1000,
                    "start": start,
                    "end": end,
                }
            )
        elif isinstance(d, InterruptibleLoad):
            rs = run_spec(problem, d)
            start, end = _window(rs.window.start, rs.window.stop, n)
            loads.append(
                {
                    "name": d.name,
                    "device": d.name,
                    "kind": "onoff",
                    "power_w": d.power_w,
                    "energy_wh": rs.need_kwh * 1000,
                    "start": start,
                    "end": end,
                    "min_on_steps": rs.min_on,
                }
            )
    return {
        "name": problem.name,
        "n_steps": n,
        "step_minutes": problem.step.total_seconds() / 60,
        "import_price": list(problem.import_price),
        "export_price": list(problem.export_price),
        "load_w": list(problem.base_load_w),
        "pv_w": list(problem.generation_w),
        "outdoor_c": outdoor,
        "import_limit_w": min(problem.grid.import_limit_w),
        "export_limit_w": min(problem.grid.export_limit_w),
        "curtailable": problem.generation_curtailable,
        "battery": {
            "capacity_kwh": bat.capacity_kwh,
            "max_charge_w": bat.max_charge_w,
            "max_discharge_w": bat.max_discharge_w,
            "soc_initial": bat.soc_initial,
            "soc_min": bat.soc_min,
            "soc_max": bat.soc_max,
            "charge_efficiency": bat.charge_efficiency,
            "discharge_efficiency": bat.discharge_efficiency,
            "wear_cost_per_kwh": bat.wear_cost_per_kwh,
            "allow_grid_charge": bat.allow_grid_charge,
            "allow_grid_export": bat.allow_grid_export,
        },
        "terminal_value_per_kwh": terminal_value(problem, bat),
        "loads": loads,
        "mip_gap": mip_gap,
        "time_limit_s": time_limit_s,
        "repeats": repeats,
    }


def price_plan(
    problem: Any,
    spec: dict[str, Any],
    *,
    battery_w: list[float],
    soc_end: float,
    curtailed_w: list[float],
    device_w: dict[str, list[float]],
) -> dict[str, Any]:
    """One cost function for both plans, and a check of every requirement.

    cost = sum(import x import price - export x export price) + wear x battery AC throughput
    - terminal value x energy stored at the end; import/export from the balance of the plan's
    own device powers: base load + devices + battery - generation + curtailment.
    """
    from custom_components.energy_collective.engine.model import (
        EVCharger,
        InterruptibleLoad,
        ShiftableAppliance,
        ThermalLoad,
    )
    from custom_components.energy_collective.engine.modes import (
        ev_sessions,
        run_spec,
        simulate_temperature,
    )

    n = problem.n_steps
    h = problem.step_hours / 1000
    gen = problem.generation_w
    flows = []
    for t in range(n):
        net = (
            problem.base_load_w[t]
            + sum(p[t] for p in device_w.values())
            + battery_w[t]
            - gen[t]
            + curtailed_w[t]
        )
        flows.append(net)
    imp = [max(x, 0.0) for x in flows]
    exp = [max(-x, 0.0) for x in flows]
    energy = sum(
        h * (i * pi - e * pe)
        for i, e, pi, pe in zip(imp, exp, problem.import_price, problem.export_price, strict=True)
    )
    b = spec["battery"]
    wear = b["wear_cost_per_kwh"] * sum(abs(p) for p in battery_w) * h
    stored = soc_end * b["capacity_kwh"]
    cost = energy + wear - spec["terminal_value_per_kwh"] * stored
    unmet: list[str] = []
    over_import = max(imp) - min(problem.grid.import_limit_w)
    if over_import > 1:
        unmet.append(f"import limit exceeded by {over_import:.0f} W")
    for d in problem.devices:
        power = device_w.get(d.name, [0.0] * n)
        if isinstance(d, EVCharger):
            for s in ev_sessions(problem, d):
                got = sum(power[t] for t in s.steps) * h * d.efficiency
                if got < s.need_kwh - TOL_KWH:
                    unmet.append(f"{d.name} short {s.need_kwh - got:.3f} kWh")
        elif isinstance(d, InterruptibleLoad):
            rs = run_spec(problem, d)
            got = sum(power[t] for t in rs.window) * h
            if got < rs.need_kwh - TOL_KWH:
                unmet.append(f"{d.name} short {rs.need_kwh - got:.3f} kWh")
        elif isinstance(d, ShiftableAppliance):
            if sum(power) * h < d.energy_kwh - TOL_KWH:
                unmet.append(f"{d.name} did not run")
        elif isinstance(d, ThermalLoad):
            temps = simulate_temperature(problem, d, list(power))
            worst = max(
                max(lo - x, x - hi) for lo, hi, x in zip(d.t_min_c, d.t_max_c, temps, strict=True)
            )
            if worst > 0.01:
                unmet.append(f"{d.name} leaves its band by {worst:.2f} K")
    return {
        "cost": cost,
        "energy": energy,
        "wear": wear,
        "stored_kwh": stored,
        "import_kwh": sum(imp) * h,
        "export_kwh": sum(exp) * h,
        "unmet": unmet,
    }


def run_ours(problem: Any, *, mip_gap: float, time_limit_s: float, repeats: int) -> dict[str, Any]:
    from custom_components.energy_collective.engine.milp import solve

    solve(problem, time_limit_s=time_limit_s, mip_gap=mip_gap)  # warm-up (imports)
    totals: list[float] = []
    plan = None
    for _ in range(repeats):
        plan = solve(problem, time_limit_s=time_limit_s, mip_gap=mip_gap)
        totals.append(plan.build_time_s + plan.solve_time_s)
    assert plan is not None
    return {"plan": plan, "totals": totals}


def compare(name: str, problem: Any, py: Path, args: argparse.Namespace) -> dict[str, Any]:
    from custom_components.energy_collective.engine.model import Battery

    spec = pose(problem, mip_gap=args.mip_gap, time_limit_s=args.time_limit, repeats=args.repeats)
    cache = ROOT / "benchmarks" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    spec_path = cache / f"emhass_{name}.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [str(py), str(Path(__file__).resolve()), "--driver", str(spec_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"EMHASS driver failed on {name}:\n{proc.stderr[-3000:]}")
    em = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = run_ours(
        problem, mip_gap=args.mip_gap, time_limit_s=args.time_limit, repeats=args.repeats
    )
    plan = ours["plan"]
    bat = next(d for d in problem.devices if isinstance(d, Battery))
    our_devices = {d.name: list(d.power_w) for d in plan.devices if d.name != bat.name}
    bat_plan = plan.device(bat.name)
    our_price = price_plan(
        problem,
        spec,
        battery_w=list(bat_plan.power_w),
        soc_end=bat_plan.soc[-1] if bat_plan.soc else bat.soc_initial,
        curtailed_w=list(plan.curtailed_w),
        device_w=our_devices,
    )
    em_devices: dict[str, list[float]] = {}
    for load, series in zip(spec["loads"], em["loads_w"], strict=True):
        acc = em_devices.setdefault(load["device"], [0.0] * problem.n_steps)
        for t, p in enumerate(series):
            acc[t] += p
    em_price = price_plan(
        problem,
        spec,
        battery_w=em["battery_w"],
        soc_end=em["soc"][-1],
        curtailed_w=em["curtailed_w"],
        device_w=em_devices,
    )
    ours_s = statistics.median(ours["totals"])
    cold_s = statistics.median(em["cold_s"])
    warm_s = statistics.median(em["warm_s"])
    diff = our_price["cost"] - em_price["cost"]
    scale = max(abs(em_price["cost"]), 1e-9)
    return {
        "problem": name,
        "steps": problem.n_steps,
        "ours_s": ours_s,
        "emhass_cold_s": cold_s,
        "emhass_warm_s": warm_s,
        "speedup_cold": cold_s / ours_s,
        "speedup_warm": warm_s / ours_s,
        "ours_cost": our_price["cost"],
        "emhass_cost": em_price["cost"],
        "cost_diff": diff,
        "cost_diff_pct": diff / scale * 100,
        "ours_status": plan.status,
        "emhass_status": em["status"],
        "ours_unmet": our_price["unmet"],
        "emhass_unmet": em_price["unmet"],
        "ours_detail": our_price,
        "emhass_detail": em_price,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mip-gap", type=float, default=1e-4, help="the same for both")
    parser.add_argument("--time-limit", type=float, default=60.0, help="the same for both (s)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to make the EMHASS environment from"
    )
    parser.add_argument("--problems", default="P1,P2c", help="comma-separated: P1, P2c")
    parser.add_argument("--json", action="store_true", help="also print the details as JSON")
    parser.add_argument("--driver", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        return run_driver(args.driver)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from dataclasses import replace

    from _problems import p1, p2

    from custom_components.energy_collective.engine.model import EVCharger, ThermalLoad

    def expressible(prob: Any, name: str) -> Any:
        """The problem as both can state it: EV power continuous between its limits, and no
        comfort band at the end of the last step (EMHASS cannot bound that temperature)."""
        devices = []
        for dev in prob.devices:
            d = dev
            if isinstance(d, EVCharger):
                d = replace(d, power_step_w=None)
            elif isinstance(d, ThermalLoad):
                d = replace(d, t_min_c=(*d.t_min_c[:-1], -50.0), t_max_c=(*d.t_max_c[:-1], 150.0))
            devices.append(d)
        return replace(prob, devices=tuple(devices), name=name)

    builders = {"P1": lambda: expressible(p1(), "P1"), "P2c": lambda: expressible(p2(), "P2c")}
    py = ensure_env(args.python)
    results = []
    for raw in args.problems.split(","):
        name = raw.strip()
        if name not in builders:
            parser.error(f"unknown problem {name!r}")
        results.append(compare(name, builders[name](), py, args))
    parts = []
    for r in results:
        ok = "" if not (r["ours_unmet"] or r["emhass_unmet"]) else " UNMET"
        parts.append(
            f"{r['problem']} ours {r['ours_s']:.3f} s vs EMHASS {r['emhass_cold_s']:.3f} s "
            f"(warm {r['emhass_warm_s']:.3f} s): {r['speedup_cold']:.1f}x faster "
            f"(warm {r['speedup_warm']:.1f}x), cost {r['ours_cost']:.4f} vs "
            f"{r['emhass_cost']:.4f} EUR ({r['cost_diff_pct']:+.3f} %){ok}"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(
        f"peer_emhass: {' | '.join(parts)} "
        f"[emhass {EMHASS_VERSION}, gap {args.mip_gap:g}, median of {args.repeats}, "
        f"load {load:.1f} on {os.cpu_count()} cores]"
    )
    if args.json:
        print(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
