"""Day-ahead load forecast accuracy on measured homes.

Rolling origin: a forecast is issued at every local midnight after a warm-up period, for the
next 24 h at the data's step, with everything measured before that midnight as history. It is
compared with two baselines:

- seasonal-naive: the value at the same step one week earlier;
- typical profile: the mean of the same weekday and time of day over all history so far.

Models: the numpy profile model (refitted every day), and `LoadForecaster` with scikit-learn
(refitted every `--refit-days`): its gradient-boosting candidate ("sklearn") and the model it
selects on its 14-day validation window ("auto"). Between refits, forecasts use the newest
measurements as lags.

MAE is taken over the steps where the actual value and every method's forecast are known.
Homes: the EMHASS household (30 min, Europe/Paris, no weather) and CityLearn 2022 buildings
1-11 (1 h, with the TMY outdoor temperature as a perfect temperature forecast; building 12's
load column is PV).

    python benchmarks/forecast.py --data ../shared/data

prints one summary line and writes docs/forecast_results.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.energy_collective.engine.forecast.base import (  # noqa: E402
    DAY_SECONDS,
    History,
    Weather,
    calendar,
)
from custom_components.energy_collective.engine.forecast.load import (  # noqa: E402
    LoadForecaster,
)

METHODS = ("seasonal_naive", "typical", "numpy", "sklearn", "auto")


@dataclass
class Home:
    name: str
    history: History


@dataclass
class Outcome:
    name: str
    days: int
    mae: dict[str, float]
    selected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _float(text: str) -> float:
    return float(text) if text.strip() else float("nan")


def load_emhass(data: Path) -> Home:
    path = data / "emhass_household" / "load_pv_30min.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    start = datetime.fromisoformat(rows[0]["timestamp"].replace("Z", "+00:00"))
    values = np.array([_float(r["load_w"]) for r in rows])
    # The few exact zeros sit next to gaps: outage artefacts, not load (see the data README).
    values[values == 0.0] = np.nan
    stamps = [datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in rows]
    if any(b - a != timedelta(minutes=30) for a, b in itertools.pairwise(stamps)):
        raise SystemExit("EMHASS file is not on a regular 30-min grid")
    history = History(
        start=start, step=timedelta(minutes=30), values=values, time_zone="Europe/Paris"
    )
    return Home("EMHASS household", history)


def load_citylearn(data: Path, building: int) -> Home:
    folder = data / "citylearn2022"
    with (folder / f"building_{building:02d}.csv").open(newline="") as handle:
        values = np.array([_float(r["load_kwh"]) for r in csv.DictReader(handle)])
    with (folder / "weather.csv").open(newline="") as handle:
        temps = np.array(
            [_float(r["outdoor_dry_bulb_temperature_c"]) for r in csv.DictReader(handle)]
        )
    # Rows are local wall-clock hours with exactly 24 per day (DST days are not represented
    # faithfully), so they are kept on a plain 24-h grid; 2016-08-01 was a Monday.
    start = datetime(2016, 8, 1, tzinfo=UTC)
    history = History(
        start=start, step=timedelta(hours=1), values=values, time_zone="UTC", temperature=temps
    )
    return Home(f"CityLearn {building}", history)


def typical_baseline(history: History) -> np.ndarray:
    """Expanding mean of the same weekday and slot over everything before each step."""
    step_s = int(history.step.total_seconds())
    slots = DAY_SECONDS // step_s
    cal = calendar(history.times, step_s, history.time_zone)
    key = cal.weekday * slots + cal.slot
    out = np.full(history.values.size, np.nan)
    sums = np.zeros(7 * slots)
    counts = np.zeros(7 * slots)
    issue = cal.slot == 0
    # Forecasts are issued at midnight: a day's baseline uses days before it only.
    day_start = np.flatnonzero(issue)
    bounds = [*day_start.tolist(), history.values.size]
    if bounds[0] != 0:
        bounds.insert(0, 0)
    for lo, hi in itertools.pairwise(bounds):
        k = key[lo:hi]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:hi] = sums[k] / counts[k]
        seen = np.isfinite(history.values[lo:hi])
        np.add.at(sums, k[seen], history.values[lo:hi][seen])
        np.add.at(counts, k[seen], 1.0)
    return out


def evaluate(home: Home, warmup_days: int, refit_days: int, sklearn: bool) -> Outcome:
    began = time.perf_counter()
    history = home.history
    step_s = int(history.step.total_seconds())
    slots = DAY_SECONDS // step_s
    times = history.times
    cal = calendar(times, step_s, history.time_zone)
    midnights = [
        i
        for i in np.flatnonzero(cal.slot == 0).tolist()
        if i >= warmup_days * slots and i + slots <= times.size
    ]
    values = history.values
    typical = typical_baseline(history)
    forecasts = {m: np.full(values.size, np.nan) for m in METHODS}
    weather = (
        Weather(times=times, temperature=history.temperature)
        if history.temperature is not None
        else None
    )
    numpy_model = LoadForecaster(models=("profile",))
    auto = LoadForecaster(models=("profile", "gbm"), keep_candidates=True)
    selected: dict[str, int] = {}
    last_auto_fit: int | None = None
    for index in midnights:
        window = slice(index, index + slots)
        start = datetime.fromtimestamp(float(times[index]), UTC)
        past = history.head(index)
        week_ago = np.arange(index, index + slots) - 7 * slots
        forecasts["seasonal_naive"][window] = values[week_ago]
        forecasts["typical"][window] = typical[window]
        numpy_model.fit(past)
        forecasts["numpy"][window] = numpy_model.predict(start, slots, weather=weather).p50
        if sklearn:
            if last_auto_fit is None or index - last_auto_fit >= refit_days * slots:
                auto.fit(past)
                last_auto_fit = index
            chosen = auto.predict(start, slots, recent=past, weather=weather)
            selected[chosen.model] = selected.get(chosen.model, 0) + 1
            forecasts["auto"][window] = chosen.p50
            gbm = auto.candidates.get("gbm")
            if gbm is not None:
                forecasts["sklearn"][window] = gbm.predict(
                    start, slots, recent=past, weather=weather
                ).p50
    used = [m for m in METHODS if sklearn or m not in {"sklearn", "auto"}]
    known = np.isfinite(values)
    for method in used:
        known &= np.isfinite(forecasts[method])
    mae = {m: float(np.mean(np.abs(forecasts[m][known] - values[known]))) for m in used}
    return Outcome(
        name=home.name,
        days=len(midnights),
        mae=mae,
        selected=selected,
        seconds=time.perf_counter() - began,
    )


def _pct(model: float, baseline: float) -> float:
    return 100.0 * (model - baseline) / baseline


def _fmt(value: float) -> str:
    return f"{value:+.1f} %"


def summary(outcomes: list[Outcome], sklearn: bool) -> str:
    emhass = next(o for o in outcomes if o.name.startswith("EMHASS"))
    city = [o for o in outcomes if o.name.startswith("CityLearn")]

    def part(method: str, baseline: str) -> str:
        median = statistics.median(_pct(o.mae[method], o.mae[baseline]) for o in city)
        return (
            f"EMHASS household {_fmt(_pct(emhass.mae[method], emhass.mae[baseline]))}, "
            f"CityLearn 1-11 median {_fmt(median)}"
        )

    line = f"forecast: load MAE vs seasonal-naive: {part('numpy', 'seasonal_naive')} (numpy model)"
    if sklearn:
        line += f"; sklearn model {part('sklearn', 'seasonal_naive')}"
        line += f"; auto-selected {part('auto', 'seasonal_naive')}"
    else:
        line += "; sklearn model not run (scikit-learn not importable)"
    line += f"; vs typical profile: {part('numpy', 'typical')} (numpy model)"
    return line


def write_table(outcomes: list[Outcome], path: Path, command: str, line: str) -> None:
    sklearn = "auto" in outcomes[0].mae
    header = "| home | days | seasonal-naive | typical | numpy | vs s-naive | vs typical |"
    rule = "|---|---|---|---|---|---|---|"
    if sklearn:
        header += " sklearn | vs s-naive | auto | vs s-naive | auto chose |"
        rule += "---|---|---|---|---|"
    rows = []
    for o in outcomes:
        m = o.mae
        row = (
            f"| {o.name} | {o.days} | {m['seasonal_naive']:.4g} | {m['typical']:.4g} | "
            f"{m['numpy']:.4g} | {_fmt(_pct(m['numpy'], m['seasonal_naive']))} | "
            f"{_fmt(_pct(m['numpy'], m['typical']))} |"
        )
        if sklearn:
            chose = ", ".join(f"{k} {v}" for k, v in sorted(o.selected.items()))
            row += (
                f" {m['sklearn']:.4g} | {_fmt(_pct(m['sklearn'], m['seasonal_naive']))} | "
                f"{m['auto']:.4g} | {_fmt(_pct(m['auto'], m['seasonal_naive']))} | {chose} |"
            )
        rows.append(row)
    text = (
        f"""# Load forecast accuracy (day-ahead, measured homes)

Produced by (from the repository root):

```
{command}
```

Summary line as printed:

```
{line}
```

Rolling origin: one forecast at every local midnight after the warm-up, for the next 24 h at
the data's step, fitted on everything measured before that midnight. MAE in the data's unit
(EMHASS: W; CityLearn: kWh per hour = kW), over the steps where the actual value and every
method's forecast are known. "vs" columns are the change in MAE against the baseline
(negative is better).

- seasonal-naive: the value one week earlier at the same step.
- typical: mean of the same weekday and time of day over all history before the day.
- numpy: `ProfileModel` (exponentially weighted weekday x time-of-day profile with a ridge
  correction on lagged residuals and temperature), refitted daily.
- sklearn: the gradient-boosting candidate of `LoadForecaster`, refitted every
  {REFIT_DAYS} days (lags still use the newest measurements).
- auto: the model `LoadForecaster` picked on its 14-day validation window (counts of days).

CityLearn uses its TMY outdoor temperature as a perfect temperature forecast; the EMHASS
household has no weather. CityLearn building 12 is left out (its load column is PV).
EMHASS's own KNN load forecaster was not compared here.

{header}
{rule}
"""
        + "\n".join(rows)
        + "\n"
    )
    path.write_text(text)


REFIT_DAYS = 14


def main() -> None:
    global REFIT_DAYS  # noqa: PLW0603
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--warmup-days", type=int, default=120)
    parser.add_argument("--refit-days", type=int, default=14)
    parser.add_argument("--homes", default="all", help="'all', 'emhass' or CityLearn numbers")
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "forecast_results.md")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    REFIT_DAYS = args.refit_days
    sklearn = not args.no_sklearn and LoadForecaster.sklearn_available()
    homes: list[Home] = []
    if args.homes in {"all", "emhass"}:
        homes.append(load_emhass(args.data))
    if args.homes == "all":
        homes += [load_citylearn(args.data, b) for b in range(1, 12)]
    elif args.homes != "emhass":
        homes += [load_citylearn(args.data, int(b)) for b in args.homes.split(",")]
    outcomes = []
    for home in homes:
        outcome = evaluate(home, args.warmup_days, args.refit_days, sklearn)
        outcomes.append(outcome)
        if not args.quiet:
            maes = ", ".join(f"{k} {v:.4g}" for k, v in outcome.mae.items())
            print(
                f"  {outcome.name}: {outcome.days} days, {maes} ({outcome.seconds:.0f} s)",
                file=sys.stderr,
            )
    complete = any(o.name.startswith("EMHASS") for o in outcomes) and any(
        o.name.startswith("CityLearn") for o in outcomes
    )
    line = summary(outcomes, sklearn) if complete else ""
    if line:
        command = "python benchmarks/forecast.py --data ../shared/data"
        extra = []
        if args.warmup_days != 120:
            extra.append(f"--warmup-days {args.warmup_days}")
        if args.refit_days != 14:
            extra.append(f"--refit-days {args.refit_days}")
        if args.no_sklearn:
            extra.append("--no-sklearn")
        command = " ".join([command, *extra])
        write_table(outcomes, args.output, command, line)
        print(line)


if __name__ == "__main__":
    main()
