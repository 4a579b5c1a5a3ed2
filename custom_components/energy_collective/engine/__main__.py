"""Command line of the engine (no Home Assistant needed).

    python -m custom_components.energy_collective.engine solve HOME.json
    python -m custom_components.energy_collective.engine backtest --home HOME.json \
        --series SERIES.csv --policy optimizer

`solve` prints the plan of one problem as JSON; `backtest` replays a measured series with
model-predictive control and prints one JSON summary. Formats: docs/engine.md. Exit status 0 on
success, 2 when an input is malformed (the message says where), 1 when planning itself fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from .model import Plan, ProblemError, plan_to_dict, problem_from_dict

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2

PLAN_KEYS = (
    "status",
    "solver",
    "objective",
    "build_s",
    "solve_s",
    "mip_gap",
    "message",
    "name",
    "start",
    "step_minutes",
    "n_steps",
    "currency",
    "mode",
    "series",
    "costs",
    "baseline_costs",
    "savings",
    "shortfalls",
    "explanations",
)
"""Top-level keys of the JSON that `solve` prints (documented in docs/engine.md)."""


class InputError(Exception):
    """An input file is missing or malformed (exit status 2)."""


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, list):
        return [_round(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    return value


def plan_json(plan: Plan, name: str) -> dict[str, Any]:
    """The plan as the JSON `solve` prints: summary keys, per-step series and costs."""
    d = plan_to_dict(plan)
    devices: dict[str, Any] = {}
    for dev in cast(list[dict[str, Any]], d["devices"]):
        entry = {k: v for k, v in dev.items() if k != "name" and v is not None}
        devices[str(dev["name"])] = entry
    series = {
        "times": d["times"],
        "import_w": d["import_w"],
        "export_w": d["export_w"],
        "curtailed_w": d["curtailed_w"],
        "unserved_w": d["unserved_w"],
        "marginal_price": d["marginal_price"],
        "devices": devices,
    }
    out = {
        "status": plan.status,
        "solver": plan.solver,
        "objective": plan.costs.objective,
        "build_s": plan.build_time_s,
        "solve_s": plan.solve_time_s,
        "mip_gap": d["mip_gap"],
        "message": plan.message,
        "name": name,
        "start": d["start"],
        "step_minutes": d["step_minutes"],
        "n_steps": plan.n_steps,
        "currency": plan.currency,
        "mode": plan.mode,
        "series": series,
        "costs": d["costs"],
        "baseline_costs": d["baseline_costs"],
        "savings": d["savings"],
        "shortfalls": d["shortfalls"],
        "explanations": d["explanations"],
    }
    return cast(dict[str, Any], _round(out))


def _read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON: {err}") from err


def _print(data: Any, indent: int | None) -> None:
    sys.stdout.write(json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False))
    sys.stdout.write("\n")


def cmd_solve(args: argparse.Namespace) -> int:
    data = _read_json(args.home)
    try:
        problem = problem_from_dict(data)
    except ProblemError as err:
        raise InputError(f"{args.home}: {err}") from err
    if args.policy == "baseline":
        from .baseline import baseline_plan

        plan = baseline_plan(problem)
    else:
        from .milp import solve

        plan = solve(problem, time_limit_s=args.time_limit, mip_gap=args.mip_gap)
    _print(plan_json(plan, problem.name), args.indent)
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import (
        HomeFormatError,
        SeriesFormatError,
        home_from_dict,
        month_windows,
        read_series_csv,
        run_backtest,
    )

    if args.replan_every < 1:
        raise InputError("--replan-every must be >= 1")
    if not 0 <= args.day_start <= 23:
        raise InputError("--day-start must be an hour from 0 to 23")
    data = _read_json(args.home)
    if isinstance(data, dict) and args.horizon_hours is not None:
        data["horizon_hours"] = args.horizon_hours
    try:
        home = home_from_dict(data)
    except HomeFormatError as err:
        raise InputError(f"{args.home}: {err}") from err
    try:
        series = read_series_csv(args.series)
    except SeriesFormatError as err:
        raise InputError(str(err)) from err
    windows = None
    if args.first_days is not None:
        local = [t.astimezone(home.timezone) for t in series.times]
        windows = month_windows(local, args.first_days, args.day_start)
        if not windows:
            raise InputError("--first-days selects no rows of the series")
    try:
        summary, _ = run_backtest(
            home,
            series,
            args.policy,
            windows=windows,
            time_limit_s=args.time_limit,
            mip_gap=args.mip_gap,
            replan_every=args.replan_every,
        )
    except SeriesFormatError as err:
        raise InputError(f"{args.series}: {err}") from err
    except ProblemError as err:
        raise InputError(f"the home and the series do not make a valid problem: {err}") from err
    _print(summary, args.indent)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.energy_collective.engine",
        description="Energy Collective planning engine: solve one problem or backtest a policy.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--time-limit", type=float, default=10.0, help="solver limit (s)")
        p.add_argument("--mip-gap", type=float, default=1e-4, help="relative MIP gap")
        p.add_argument("--indent", type=int, default=None, help="indent the JSON output")

    s = sub.add_parser("solve", help="plan one problem (HOME.json) and print the plan as JSON")
    s.add_argument("home", help="HOME.json: the problem (devices, prices, forecasts)")
    s.add_argument("--policy", choices=("optimizer", "baseline"), default="optimizer")
    common(s)
    s.set_defaults(func=cmd_solve)

    b = sub.add_parser("backtest", help="replay SERIES.csv with MPC and print one JSON summary")
    b.add_argument("--home", required=True, help="HOME.json: devices and recurring requests")
    b.add_argument("--series", required=True, help="SERIES.csv: measured load, PV and prices")
    b.add_argument("--policy", choices=("optimizer", "baseline", "perfect"), default="optimizer")
    b.add_argument("--horizon-hours", type=float, default=None, help="planning horizon (h)")
    b.add_argument("--replan-every", type=int, default=1, help="re-plan every N steps")
    b.add_argument(
        "--first-days",
        type=int,
        default=None,
        metavar="D",
        help="replay only the first D days of every month (each month starts afresh)",
    )
    b.add_argument(
        "--day-start",
        type=int,
        default=0,
        metavar="H",
        help="with --first-days: days run from H o'clock local time (pick an hour with no "
        "request open, e.g. 8 for overnight EV charging)",
    )
    common(b)
    b.set_defaults(func=cmd_backtest, mip_gap=1e-3, time_limit=5.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return cast(int, args.func(args))
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
