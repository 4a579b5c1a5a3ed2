"""Backtests over measured household data: the optimizer against the baseline and perfect foresight.

    python benchmarks/backtests.py [--data ../shared/data] [--first-days 7] [--jobs 2]

Homes (see ../shared/data/README.md):
- `emhass`: the EMHASS household (France), 30 min, with German day-ahead (EPEX) prices of a
  comparable year: 2016-03-02 .. 2017-03-01, the household's year shifted back by 417 whole
  weeks so weekdays line up. Retail import price = day-ahead price + 0.20 EUR/kWh (fees, levies
  and taxes as one flat adder); export price = the day-ahead price (it can be negative; the
  replay then curtails rather than pay to export). Gaps in load and PV are filled (see
  `fill_gaps`). No carbon data: CO2 is not reported for this home.
- `cl01` .. `cl11`: CityLearn 2022 buildings 1-11 (building 12's load column is PV, see the
  data README), 1 h, with their SCE TOU-D-PRIME tariff as import price, an assumed flat export
  credit of 0.08 USD/kWh, and their carbon intensity.

Each home gets a flexible-device scenario (`scenario`), written to docs/results.md: a battery,
an EV on weekdays, a dishwasher every day, a washing machine three days a week and, in every
second CityLearn home, a pool pump. These devices come on top of the measured load.

Every policy is replayed with model-predictive control (engine/backtest.py): a new 24 h plan
every step. A year at 30 min is 17 520 plans per policy, so by default the replay covers the
first `--first-days` (7) days of every month, each month starting afresh (battery at 50 %),
days counted from 08:00 local time (`DAY_START`, when no request is open);
`--first-days 31` replays whole years. Writes the tables to docs/results.md and a plot of one
representative day to docs/img/backtest_day.png; prints one summary line.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from custom_components.energy_collective.engine.backtest import (  # noqa: E402
    Home,
    Replay,
    SeriesTable,
    clamp_windows,
    combine,
    default_planner,
    history_rows,
    home_from_dict,
    metrics,
    replay,
    savings_percent,
)
from custom_components.energy_collective.engine.backtest import (  # noqa: E402
    month_windows as backtest_month_windows,
)

PRICE_SHIFT = timedelta(weeks=417)
IMPORT_ADDER_EUR = 0.20
CITYLEARN_EXPORT_USD = 0.08
CITYLEARN_OFFSET = timezone(timedelta(hours=-8))
DISHWASHER = [2000.0, 150.0, 150.0, 2000.0, 100.0, 100.0, 1800.0, 50.0]
WASHER = [2200.0, 2200.0, 400.0, 400.0, 300.0, 600.0]
POLICY_ORDER = ("baseline", "optimizer", "perfect")


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


KEPT_START = "<!-- speed benchmarks -->"
KEPT_END = "<!-- /speed benchmarks -->"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def fill_gaps(values: list[float | None], day_steps: int, short: int) -> tuple[list[float], int]:
    """Fill missing values: runs up to `short` steps linearly, longer runs with the value one
    day earlier (or one day later at the start). Returns (values, number filled)."""
    out: list[float | None] = list(values)
    n = len(out)
    filled = 0
    i = 0
    while i < n:
        if out[i] is not None:
            i += 1
            continue
        j = i
        while j < n and out[j] is None:
            j += 1
        before = out[i - 1] if i > 0 else None
        after = out[j] if j < n else None
        if j - i <= short and before is not None and after is not None:
            for k in range(i, j):
                w = (k - i + 1) / (j - i + 1)
                out[k] = before * (1 - w) + after * w
        else:
            for k in range(i, j):
                src = k - day_steps if k - day_steps >= 0 else k + day_steps
                v = out[src] if 0 <= src < n else None
                out[k] = v if v is not None else (before if before is not None else after or 0.0)
        filled += j - i
        i = j
    return [float(v if v is not None else 0.0) for v in out], filled


def load_emhass(data: Path) -> tuple[SeriesTable, dict[str, Any]]:
    rows = _read_csv(data / "emhass_household" / "load_pv_30min.csv")
    times = [datetime.fromisoformat(r["timestamp"]) for r in rows]

    def num(s: str) -> float | None:
        return float(s) if s.strip() else None

    load, n_load = fill_gaps([num(r["load_w"]) for r in rows], 48, 4)
    pv, n_pv = fill_gaps([num(r["pv_w"]) for r in rows], 48, 4)
    prices = {}
    for r in _read_csv(data / "prices" / "epex_de_hourly.csv"):
        stamp = datetime.fromisoformat(r["timestamp"])
        prices[(stamp.date(), stamp.hour)] = float(r["price_eur_per_mwh"]) / 1000
    berlin = ZoneInfo("Europe/Berlin")
    spot = []
    for t in times:
        local = t.astimezone(berlin) - PRICE_SHIFT
        key = (local.date(), local.hour)
        if key not in prices:
            raise SystemExit(f"no EPEX price for {key} (needed for {t.isoformat()})")
        spot.append(prices[key])
    series = SeriesTable.from_arrays(
        times[0],
        times[1] - times[0],
        load_w=np.maximum(load, 0.0),
        pv_w=np.maximum(pv, 0.0),
        price_import=[p + IMPORT_ADDER_EUR for p in spot],
        price_export=spot,
    )
    info = {
        "filled_load": n_load,
        "filled_pv": n_pv,
        "price_from": (times[0].astimezone(berlin) - PRICE_SHIFT).date().isoformat(),
        "price_to": (times[-1].astimezone(berlin) - PRICE_SHIFT).date().isoformat(),
    }
    return series, info


def load_citylearn(data: Path, building: int) -> SeriesTable:
    folder = data / "citylearn2022"
    rows = _read_csv(folder / f"building_{building:02d}.csv")
    price = [float(r["electricity_price_usd_per_kwh"]) for r in _read_csv(folder / "pricing.csv")]
    carbon = [
        float(r["carbon_intensity_kg_co2_per_kwh"]) * 1000
        for r in _read_csv(folder / "carbon_intensity.csv")
    ]
    start = datetime(2016, 8, 1, tzinfo=CITYLEARN_OFFSET)
    return SeriesTable.from_arrays(
        start,
        timedelta(hours=1),
        load_w=[max(0.0, float(r["load_kwh"]) * 1000) for r in rows],
        pv_w=[max(0.0, float(r["pv_kwh"]) * 1000) for r in rows],
        price_import=price,
        price_export=[CITYLEARN_EXPORT_USD] * len(rows),
        carbon_g_per_kwh=carbon,
    )


# ----------------------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------------------


def scenario(key: str, index: int) -> dict[str, Any]:
    """HOME.json of one home: devices and their recurring requests (documented in results.md)."""
    if key == "emhass":
        tz, currency, cap, ev_in, ev_out, need, pool = (
            "Europe/Paris",
            "EUR",
            10.0,
            "18:00",
            "07:30",
            10.0,
            False,
        )
    else:
        tz, currency, cap = "Etc/GMT+8", "USD", 6.4
        ev_in = f"{17 + index % 4:02d}:00"
        ev_out = f"{7 + index % 2:02d}:00"
        need = 6.0 + 2.0 * (index % 4)
        pool = index % 2 == 1
    devices: list[dict[str, Any]] = [
        {
            "kind": "battery",
            "name": "battery",
            "capacity_kwh": cap,
            "max_charge_w": 5000,
            "max_discharge_w": 5000,
            "soc_initial": 0.5,
            "soc_min": 0.1,
            "soc_max": 0.95,
            "charge_efficiency": 0.95,
            "discharge_efficiency": 0.95,
            "wear_cost_per_kwh": 0.02,
        },
        {
            "kind": "ev",
            "name": "ev",
            "max_power_w": 7400,
            "min_power_w": 1400,
            "efficiency": 0.9,
            "schedule": {
                "plug_in": ev_in,
                "departure": ev_out,
                "energy_kwh": need,
                "days": ["mon", "tue", "wed", "thu", "fri"],
            },
        },
        {
            "kind": "appliance",
            "name": "dishwasher",
            "profile_w": DISHWASHER,
            "profile_step_minutes": 15,
            "schedule": {"earliest_start": "20:00", "latest_finish": "07:00"},
        },
        {
            "kind": "appliance",
            "name": "washing_machine",
            "profile_w": WASHER,
            "profile_step_minutes": 15,
            "schedule": {
                "earliest_start": "09:00",
                "latest_finish": "17:00",
                "days": ["mon", "wed", "sat"],
            },
        },
    ]
    if pool:
        devices.append(
            {
                "kind": "interruptible",
                "name": "pool_pump",
                "power_w": 750,
                "run_hours": 4,
                "schedule": {"window_start": "09:00", "window_end": "19:00"},
            }
        )
    return {
        "name": key,
        "currency": currency,
        "timezone": tz,
        "horizon_hours": 24,
        "grid": {"import_limit_w": 17000, "export_limit_w": 10000},
        "devices": devices,
    }


DAY_START = 8
"""Windows run from 08:00 local time: every scenario's requests are closed then (EVs leave by
08:00, dishwashers finish by 07:00, washing machines and pool pumps start at 09:00). Cut at
midnight, the energy an optimizer puts into an EV after the window's end would be free."""


def month_windows(series: SeriesTable, tz: Any, days: int) -> list[tuple[int, int]]:
    """Row ranges of the first `days` days of every whole month, each day from DAY_START."""
    local = [t.astimezone(tz) for t in series.times]
    windows = backtest_month_windows(local, days, DAY_START)
    # a month must start in the series (no partial first month)
    return [(a, b) for a, b in windows if local[a].day == 1 and local[a].hour == DAY_START]


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


def _task(args: tuple[str, int, str, str, int, float]) -> tuple[str, str, list[Replay], float]:
    key, index, policy, data, days, mip_gap = args
    t0 = time.perf_counter()
    series = load_emhass(Path(data))[0] if key == "emhass" else load_citylearn(Path(data), index)
    home = home_from_dict(scenario(key, index))
    planner = default_planner(policy, mip_gap=mip_gap)  # type: ignore[arg-type]
    runs = [
        replay(home, series, policy, planner, begin=a, end=b)  # type: ignore[arg-type]
        for a, b in clamp_windows(month_windows(series, home.timezone, days), history_rows(series))
    ]
    return key, policy, runs, time.perf_counter() - t0


def ensure_matplotlib() -> Any:
    """matplotlib, installed from requirements_bench.txt into benchmarks/.envs/lib if missing."""
    try:
        import matplotlib
    except ImportError:
        target = ROOT / "benchmarks" / ".envs" / "lib"
        if str(target) not in sys.path:
            sys.path.append(str(target))
        try:
            import matplotlib
        except ImportError:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(target),
                    "-r",
                    str(ROOT / "requirements_bench.txt"),
                ],
                check=True,
            )
            importlib.invalidate_caches()
            import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_day(runs: dict[str, list[Replay]], home: Home, path: Path) -> str:
    """Plot one representative day of the optimizer's replay; returns the day's date."""
    plt = ensure_matplotlib()
    opt = runs["optimizer"]
    base = runs["baseline"]
    # the sunniest weekday of the June window (or of the window with the most PV)
    best = max(range(len(opt)), key=lambda w: float(np.sum(opt[w].pv_w)))
    r, rb = opt[best], base[best]
    day_steps = round(timedelta(days=1) / r.step)
    local = [t.astimezone(home.timezone) for t in r.times]
    candidates = [
        d for d in range(len(r.times) // day_steps) if local[d * day_steps].weekday() < 5
    ] or [0]
    d = max(candidates, key=lambda k: float(np.sum(r.pv_w[k * day_steps : (k + 1) * day_steps])))
    sl = slice(d * day_steps, (d + 1) * day_steps)
    hours = [t.hour + t.minute / 60 for t in local[sl]]
    width = r.step.total_seconds() / 3600
    edges = [*hours, hours[-1] + width]

    def closed(values: Any) -> Any:
        return np.append(values, values[-1])

    fig, axes = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
    ax = axes[0]
    ax.step(edges, closed(r.price_import[sl]), where="post", label="import price")
    ax.step(edges, closed(r.price_export[sl]), where="post", label="export price")
    ax.set_ylabel(f"{home.settings.get('currency', 'EUR')}/kWh")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(
        f"{home.name}: {local[sl][0].date().isoformat()} (optimizer, re-planned every step)"
    )
    ax = axes[1]
    ax.step(edges, closed(r.pv_w[sl] / 1000), where="post", label="PV", color="orange")
    ax.step(edges, closed(r.load_w[sl] / 1000), where="post", label="base load", color="gray")
    ax.step(
        edges,
        closed((r.load_w[sl] + r.flexible_w[sl]) / 1000),
        where="post",
        label="load incl. devices",
        color="black",
    )
    ax.step(
        edges,
        closed((r.import_w[sl] - r.export_w[sl]) / 1000),
        where="post",
        label="grid (+import)",
        color="tab:red",
        alpha=0.7,
    )
    ax.set_ylabel("kW")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    for name, soc in r.battery_soc.items():
        ax.plot([h + width for h in hours], soc[sl] * 100, label=f"{name} (optimizer)")
    for name, soc in rb.battery_soc.items():
        ax.plot([h + width for h in hours], soc[sl] * 100, "--", label=f"{name} (baseline)")
    ax.set_ylabel("SoC %")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[3]
    bottom = np.zeros(len(hours))
    for name, power in r.device_power_w.items():
        if name in r.battery_soc:
            continue
        vals = power[sl] / 1000
        if not np.any(vals > 0):
            continue
        ax.bar(hours, vals, width=width, align="edge", bottom=bottom, label=name)
        bottom += vals
    ax.set_ylabel("device kW")
    ax.set_xlabel("local hour")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlim(0, 24)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return local[sl][0].date().isoformat()


def _fmt(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def write_results(
    path: Path,
    summaries: dict[str, dict[str, dict[str, Any]]],
    scenarios: dict[str, dict[str, Any]],
    info: dict[str, Any],
) -> None:
    lines = [
        "# Backtest results",
        "",
        "Generated by `python benchmarks/backtests.py "
        + " ".join(info["argv"])
        + f"` on {info['date']} ({info['wall_min']:.1f} min wall time, {info['jobs']} worker(s), "
        f"load average {info['load']:.1f} on {os.cpu_count()} cores while it ran).",
        "Do not edit by hand: re-run the script.",
        "",
        "## Method",
        "",
        "Every policy is replayed through the measured series with model-predictive control "
        "(`engine/backtest.py`): at every step a new plan over the next 24 h is made, only its "
        "first step is applied to the measured load and PV, and the devices' state is carried "
        "on. Appliances and the EV follow the plan. The battery follows the measured home as the "
        "dispatcher does (`engine/follow.py`): it takes the forecast error of the net load "
        "wherever that would push the grid past the planned exchange or across zero (an "
        "unexpected surplus is stored, not exported; nothing is bought to store that the plan "
        "did not buy), within its limits; the grid takes the rest.",
        "",
        "- **baseline**: the engine's rule-based baseline (battery self-consumption, EV charges "
        "at full power on arrival, cycles start at their earliest start, pool pump from the "
        "window start), fed the measured values.",
        "- **optimizer**: the MILP on forecasts: load and PV by persistence (the value one day "
        "earlier); prices as published (day-ahead prices and tariffs are known in advance).",
        "- **perfect**: the same MILP re-planning on the actual future (perfect foresight).",
        "",
        f"Coverage: the first {info['days']} days of every month, each day from "
        f"{DAY_START:02d}:00 local time, when no EV, dishwasher or pump request is open (a window "
        "cut at midnight would leave the charging an optimizer defers past its end unpaid). "
        "Each month starts afresh with the battery at 50 %. Not whole years, because a year of "
        "re-planning every step is 17 520 plans per policy at 30 min; pass `--first-days 31` "
        "for whole years. "
        f"{info['solves']} plans were made in all.",
        "",
        "Cost = energy bought - energy sold + battery wear (0.02 per kWh throughput) - the "
        "value of the energy the battery gained over the window (median import price x "
        "discharge efficiency). Savings = (baseline - policy) / baseline; captured = "
        "(baseline - optimizer) / (baseline - perfect). Self-consumption = share of PV used "
        "on site; self-sufficiency = 1 - import / consumption (base load plus devices). "
        "Unmet = EV energy missing at departure (kWh) / cycles not run; all policies met every "
        "requirement unless the column says otherwise.",
        "",
        "## Data",
        "",
        f"- `emhass`: the EMHASS household, 30 min, 2024-02-28 .. 2025-02-27 (UTC). Load gaps "
        f"filled: {info['emhass']['filled_load']} values, PV: {info['emhass']['filled_pv']} "
        "(runs up to 2 h linearly, longer ones from the day before). Prices: EPEX DE day-ahead "
        f"of {info['emhass']['price_from']} .. {info['emhass']['price_to']} (the same local "
        f"hour 417 weeks earlier, so weekdays line up), import = day-ahead + "
        f"{IMPORT_ADDER_EUR:.2f} EUR/kWh, export = day-ahead (curtailed when negative). "
        "No carbon data for this home.",
        "- `cl01`..`cl11`: CityLearn 2022 buildings 1-11, 1 h, 2016-08-01 .. 2017-07-31, SCE "
        f"TOU-D-PRIME import price, an assumed flat export credit of {CITYLEARN_EXPORT_USD:.2f} "
        "USD/kWh, CityLearn's carbon intensity. Rows are labelled at a fixed -08:00 offset so "
        "that every day keeps its 24 rows; schedules follow the rows' wall-clock hours. "
        "Building 12 is left out: its load column is PV (see the data README).",
        "",
        "## Flexible-device scenario per home",
        "",
        "Added on top of the measured load. Battery: 5 kW both ways, SoC 10-95 %, efficiency "
        "0.95 each way. EV: 1.4-7.4 kW, 90 % charging efficiency, Monday to Friday. "
        "Dishwasher: every day, 20:00 -> 07:00, 1.5 kWh over 2 h. Washing machine: Mon/Wed/Sat, "
        "09:00 -> 17:00, 1.5 kWh over 1.5 h. Pool pump: 750 W for 4 h between 09:00 and 19:00.",
        "",
        "| home | battery kWh | EV plug-in -> departure | EV need kWh | pool pump |",
        "|---|---|---|---|---|",
    ]
    for key, sc in scenarios.items():
        devs = {d["name"]: d for d in sc["devices"]}
        ev = devs["ev"]["schedule"]
        lines.append(
            f"| {key} | {devs['battery']['capacity_kwh']:g} | {ev['plug_in']} -> "
            f"{ev['departure']} | {ev['energy_kwh']:g} | "
            f"{'yes' if 'pool_pump' in devs else 'no'} |"
        )
    lines += [
        "",
        "## Results",
        "",
        "| home | currency | baseline cost | optimizer cost | perfect cost | savings % | "
        "perfect savings % | captured | self-consumption (base -> opt) | "
        "self-sufficiency (base -> opt) | peak import kW (base -> opt) | CO2 kg (base -> opt) | "
        "unmet (opt) | plan ms (mean) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tot = dict.fromkeys(POLICY_ORDER, 0.0)
    for key, res in summaries.items():
        b, o, p = res["baseline"], res["optimizer"], res["perfect"]
        for pol in POLICY_ORDER:
            tot[pol] += res[pol]["total_cost"] if key != "emhass" else 0.0
        possible = b["total_cost"] - p["total_cost"]
        captured = (b["total_cost"] - o["total_cost"]) / possible if possible > 1e-9 else None
        unmet = o["unmet"]
        unmet_txt = f"{unmet['ev_unmet_kwh']:g} kWh / {unmet['cycles_missed']}"
        lines.append(
            f"| {key} | {scenarios[key]['currency']} | {b['total_cost']:.2f} | "
            f"{o['total_cost']:.2f} | {p['total_cost']:.2f} | "
            f"{_fmt(savings_percent(b['total_cost'], o['total_cost']), 1)} | "
            f"{_fmt(savings_percent(b['total_cost'], p['total_cost']), 1)} | "
            f"{_fmt(captured, 2)} | {_fmt(b['self_consumption'])} -> "
            f"{_fmt(o['self_consumption'])} | {_fmt(b['self_sufficiency'])} -> "
            f"{_fmt(o['self_sufficiency'])} | {b['peak_import_kw']:.1f} -> "
            f"{o['peak_import_kw']:.1f} | {_fmt(b['co2_kg'], 0)} -> {_fmt(o['co2_kg'], 0)} | "
            f"{unmet_txt} | {o['plan_seconds'] / max(o['solves'], 1) * 1000:.0f} |"
        )
    cl = [k for k in summaries if k != "emhass"]
    if cl:
        possible = tot["baseline"] - tot["perfect"]
        share = (tot["baseline"] - tot["optimizer"]) / possible if possible > 1e-9 else None
        lines.append(
            f"| CityLearn 1-11 | USD | {tot['baseline']:.2f} | {tot['optimizer']:.2f} | "
            f"{tot['perfect']:.2f} | "
            f"{_fmt(savings_percent(tot['baseline'], tot['optimizer']), 1)} | "
            f"{_fmt(savings_percent(tot['baseline'], tot['perfect']), 1)} | {_fmt(share, 2)} "
            "| | | | | | |"
        )
    lines += [
        "",
        "## One representative day",
        "",
        f"![{info['plot_home']} on {info['plot_day']}](img/backtest_day.png)",
        "",
        f"`{info['plot_home']}` on {info['plot_day']} (the sunniest weekday of the window with "
        "the most PV), optimizer replay: prices, PV, load and grid, battery SoC (optimizer and "
        "baseline) and the power of the appliances the plans ran.",
        "",
    ]
    # the speed benchmarks keep their latest lines in a section of their own: carry it over
    kept = ""
    if path.exists():
        previous = path.read_text(encoding="utf-8")
        start, end = previous.find(KEPT_START), previous.find(KEPT_END)
        if 0 <= start < end:
            kept = previous[start : end + len(KEPT_END)] + "\n"
    path.write_text("\n".join(lines) + ("\n" + kept if kept else ""), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default="../shared/data",
        help="data folder (relative to the repository root unless absolute)",
    )
    parser.add_argument(
        "--first-days",
        type=int,
        default=7,
        help="replay the first D days of every month (31: whole years)",
    )
    parser.add_argument("--homes", default="all", help="all, or e.g. emhass,cl01,cl02")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mip-gap", type=float, default=1e-3)
    parser.add_argument("--out", default="docs/results.md")
    parser.add_argument("--img", default="docs/img/backtest_day.png")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_absolute():
        data = (ROOT / data).resolve()
    if not (data / "citylearn2022").is_dir() or not (data / "emhass_household").is_dir():
        parser.error(f"no data under {args.data} (expected citylearn2022/ and emhass_household/)")
    keys = ["emhass"] + [f"cl{i:02d}" for i in range(1, 12)]
    if args.homes != "all":
        wanted = [k.strip() for k in args.homes.split(",")]
        unknown = [k for k in wanted if k not in keys]
        if unknown:
            parser.error(f"unknown home(s): {', '.join(unknown)}")
        keys = [k for k in keys if k in wanted]
    index = {k: (0 if k == "emhass" else int(k[2:])) for k in keys}
    tasks = [
        (k, index[k], pol, str(data), args.first_days, args.mip_gap)
        for k in keys
        for pol in ("optimizer", "perfect", "baseline")
    ]
    t0 = time.perf_counter()
    runs: dict[str, dict[str, list[Replay]]] = {k: {} for k in keys}
    loads: list[float] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for key, pol, result, _secs in pool.map(_task, tasks):
            runs[key][pol] = result
            loads.append(os.getloadavg()[0])
    wall = time.perf_counter() - t0
    summaries = {
        k: {pol: combine([metrics(r) for r in runs[k][pol]]) for pol in POLICY_ORDER} for k in keys
    }
    scenarios = {k: scenario(k, index[k]) for k in keys}
    plot_home = "emhass" if "emhass" in keys else keys[0]
    plot_path = ROOT / args.img
    plot_date = plot_day(runs[plot_home], home_from_dict(scenarios[plot_home]), plot_path)
    emhass_info = (
        load_emhass(data)[1]
        if "emhass" in keys
        else {"filled_load": 0, "filled_pv": 0, "price_from": "-", "price_to": "-"}
    )
    info = {
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "date": datetime.now(UTC).date().isoformat(),
        "wall_min": wall / 60,
        "jobs": args.jobs,
        "load": statistics.fmean(loads) if loads else math.nan,
        "days": args.first_days,
        "solves": sum(s[p]["solves"] for s in summaries.values() for p in POLICY_ORDER),
        "emhass": emhass_info,
        "plot_home": plot_home,
        "plot_day": plot_date,
    }
    write_results(ROOT / args.out, summaries, scenarios, info)
    savings = [
        savings_percent(s["baseline"]["total_cost"], s["optimizer"]["total_cost"]) or 0.0
        for s in summaries.values()
    ]
    shares = []
    for s in summaries.values():
        possible = s["baseline"]["total_cost"] - s["perfect"]["total_cost"]
        if possible > 1e-9:
            shares.append((s["baseline"]["total_cost"] - s["optimizer"]["total_cost"]) / possible)
    solves = info["solves"]
    print(
        f"backtests: {len(keys)} homes, first {args.first_days} days of each month, "
        f"{solves} plans in {wall / 60:.1f} min | savings vs baseline median "
        f"{statistics.median(savings):.1f} % (min {min(savings):.1f}, max {max(savings):.1f}) | "
        f"perfect-foresight savings captured median "
        f"{statistics.median(shares) * 100 if shares else math.nan:.0f} % | "
        f"wrote {args.out}, {args.img}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
