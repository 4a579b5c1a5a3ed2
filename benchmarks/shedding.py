"""Reaction time of the power budget: from a load spike to the shedding command.

Runs `tests/sim/test_shedding.py::test_reaction_time_from_spike_to_command` in Home
Assistant's test harness (the simulated home with Energy Collective running it): every spike
turns up the simulated home's extra load until the meter reads 1.5 kW over the main fuse, and
the real clock measures the time from the grid sensor's state change to the service call that
sheds (the battery's setpoint). Prints one summary line: the median and maximum over the
spikes, the budget's own share of it, and the load average seen.

    .venv/bin/python benchmarks/shedding.py [--spikes 200]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/sim/test_shedding.py::test_reaction_time_from_spike_to_command"
LINE = re.compile(r"^shedding reaction: .*$", re.MULTILINE)


def main() -> int:
    """Run the measurement and print its summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spikes", type=int, default=200, help="number of spikes (200)")
    args = parser.parse_args()
    env = {**os.environ, "SHEDDING_SPIKES": str(args.spikes)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        TEST,
        "-q",
        "-s",
        "-p",
        "no:sugar",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = LINE.search(done.stdout)
    if done.returncode != 0 or found is None:
        sys.stdout.write(done.stdout[-4000:])
        sys.stderr.write(done.stderr[-4000:])
        print("shedding benchmark: the measurement failed")
        return 1
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{found.group(0)} (load average {load})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
