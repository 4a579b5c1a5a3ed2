"""Planner speed: median build and solve time of the MILP on P1, P2 and P3.

    python benchmarks/planner.py [--repeats 7] [--json]

P1 = 48 x 30 min (battery + two semi-continuous loads), P2 = 192 x 15 min (battery, EV, two
shiftable cycles, pool pump, water heater), P3 = P2 at 576 x 5 min; see benchmarks/_problems.py.
Each problem is solved `--repeats` times after one warm-up solve (imports, first-call costs);
the line reports medians of the engine's own build and solve timers (`Plan.build_time_s`,
`Plan.solve_time_s`) and of their sum, with the targets P2 <= 0.25 s and P3 <= 2 s.
Prints one summary line (and the details as JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _problems import p1, p2, p3  # noqa: E402

from custom_components.energy_collective.engine.milp import solve  # noqa: E402

TARGETS_S = {"P2": 0.25, "P3": 2.0}


def measure(name: str, problem: object, repeats: int) -> dict[str, object]:
    solve(problem)  # type: ignore[arg-type]  # warm-up
    builds: list[float] = []
    solves: list[float] = []
    totals: list[float] = []
    status = ""
    objective = 0.0
    for _ in range(repeats):
        plan = solve(problem)  # type: ignore[arg-type]
        builds.append(plan.build_time_s)
        solves.append(plan.solve_time_s)
        totals.append(plan.build_time_s + plan.solve_time_s)
        status = plan.status
        objective = plan.costs.objective
    return {
        "problem": name,
        "steps": problem.n_steps,  # type: ignore[attr-defined]
        "build_s": statistics.median(builds),
        "solve_s": statistics.median(solves),
        "total_s": statistics.median(totals),
        "max_total_s": max(totals),
        "status": status,
        "objective": objective,
        "repeats": repeats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print the details as JSON")
    args = parser.parse_args()
    results = [
        measure(name, build(), max(1, args.repeats))
        for name, build in (("P1", p1), ("P2", p2), ("P3", p3))
    ]
    parts = []
    verdicts = []
    for r in results:
        parts.append(
            f"{r['problem']} build {r['build_s']:.3f} s solve {r['solve_s']:.3f} s "
            f"total {r['total_s']:.3f} s ({r['status']})"
        )
        target = TARGETS_S.get(str(r["problem"]))
        if target is not None:
            ok = float(r["total_s"]) <= target  # type: ignore[arg-type]
            verdicts.append(f"{r['problem']}<={target:g}s {'ok' if ok else 'MISSED'}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"planner: {' | '.join(parts)} | {', '.join(verdicts)} "
        f"[median of {args.repeats}, load {load:.1f} on {os.cpu_count()} cores]"
    )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
