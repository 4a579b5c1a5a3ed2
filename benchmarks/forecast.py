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

Peer: EMHASS 0.18.7's two load forecasts, computed by `_emhass_forecast_driver.py` in the EMHASS
environment (`benchmarks/.envs/emhass`, made by `peer_emhass.py`; else
`benchmarks/.envs/emhass-forecast` is made here) from the same history at the same origins:
its KNN `MLForecaster` (refitted every `--refit-days` too) and its default "typical" method
(a profile from EMHASS's bundled household data, not from the home's history; see the driver).

MAE is taken over the steps where the actual value and every method's forecast are known.
Homes: the EMHASS household (30 min, Europe/Paris, no weather) and CityLearn 2022 buildings
1-11 (1 h, with the TMY outdoor temperature as a perfect temperature forecast; building 12's
load column is PV).

    python benchmarks/forecast.py --data ../shared/data [--max-origins 120] [--no-emhass]

prints one summary line and writes docs/forecast_results.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
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

METHODS = ("seasonal_naive", "typical", "numpy", "sklearn", "auto", "emhass_knn", "emhass_typical")
# Reported for the EMHASS typical method, not part of the common mask (see the driver).
EMHASS_VARIANTS = ("emhass_typical_wallclock", "emhass_typical_without_day")
EMHASS_VERSION = "0.18.7"
ENVS = ROOT / "benchmarks" / ".envs"
DRIVER = ROOT / "benchmarks" / "_emhass_forecast_driver.py"
EMHASS_CSV = Path("emhass_household") / "load_pv_30min.csv"


@dataclass
class Home:
    name: str
    history: History
    emhass_time_zone: str  # the time zone an EMHASS user in this home would configure
    to_watts: float  # EMHASS works in W
    grid_time_zone: str | None  # None: the grid's clock times are local wall-clock times


@dataclass
class Outcome:
    name: str
    days: int
    mae: dict[str, float]
    selected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    emhass_seconds: float = 0.0
    emhass_fits: int = 0


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
    return Home("EMHASS household", history, "Europe/Paris", 1.0, "Europe/Paris")


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
    return Home(f"CityLearn {building}", history, "America/Los_Angeles", 1000.0, None)


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


def emhass_python(python: str) -> Path:
    """Interpreter of a working EMHASS environment: the planner's, else one made here."""
    for name in ("emhass", "emhass-forecast"):
        env = ENVS / name
        py = env / "bin" / "python"
        if py.exists() and (env / f".emhass-{EMHASS_VERSION}").exists():
            check = [str(py), "-c", "import emhass.forecast, emhass.machine_learning_forecaster"]
            if subprocess.run(check, capture_output=True, check=False).returncode == 0:
                return py
    env = ENVS / "emhass-forecast"
    py = env / "bin" / "python"
    print(f"forecast: installing emhass=={EMHASS_VERSION} into {env}", file=sys.stderr)
    subprocess.run([python, "-m", "venv", str(env)], check=True)
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"emhass=={EMHASS_VERSION}"], check=True)
    (env / f".emhass-{EMHASS_VERSION}").write_text(EMHASS_VERSION + "\n")
    return py


@dataclass
class EmhassRun:
    proc: subprocess.Popen[bytes]
    out: Path
    log: Path


def start_emhass(
    home: Home, origins: list[int], refit_days: int, *, data: Path, py: Path, folder: Path
) -> EmhassRun:
    """Start the EMHASS driver on one home; it runs while our models are evaluated."""
    history = home.history
    start = history.start
    if home.grid_time_zone is None:
        start = start.replace(tzinfo=None)  # the grid's clock times are local wall-clock
    spec = {
        "start": start.isoformat(),
        "step_s": int(history.step.total_seconds()),
        "values": [None if not np.isfinite(v) else float(v) for v in history.values],
        "time_zone": home.grid_time_zone,
        "emhass_time_zone": home.emhass_time_zone,
        "to_watts": home.to_watts,
        "slots": DAY_SECONDS // int(history.step.total_seconds()),
        "origins": origins,
        "refit_days": refit_days,
        "typical_csv": str(data / EMHASS_CSV),
        "maximum_power_from_grid": 9000,  # EMHASS's default
    }
    tag = home.name.replace(" ", "_")
    spec_path, out, log = (folder / f"{tag}.{ext}" for ext in ("spec.json", "out.json", "log"))
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(py), str(DRIVER), str(spec_path), str(out)], stdout=sink, stderr=sink, env=env
        )
    return EmhassRun(proc, out, log)


def pick_origins(midnights: list[int], limit: int | None) -> list[int]:
    """All origins, or `limit` of them spread evenly over the evaluation period."""
    if limit is None or len(midnights) <= limit:
        return midnights
    keep = np.unique(np.linspace(0, len(midnights) - 1, limit).round().astype(int))
    return [midnights[k] for k in keep.tolist()]


def evaluate(
    home: Home,
    warmup_days: int,
    refit_days: int,
    sklearn: bool,
    *,
    max_origins: int | None = None,
    emhass: tuple[Path, Path, Path] | None = None,
) -> Outcome:
    """MAE of every method on one home; `emhass` is (interpreter, data folder, work folder)."""
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
    midnights = pick_origins(midnights, max_origins)
    run = None
    if emhass is not None:
        py, data, folder = emhass
        run = start_emhass(home, midnights, refit_days, data=data, py=py, folder=folder)
    values = history.values
    typical = typical_baseline(history)
    forecasts = {m: np.full(values.size, np.nan) for m in (*METHODS, *EMHASS_VARIANTS)}
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
    seconds = time.perf_counter() - began  # ours only; the driver ran alongside
    emhass_seconds, emhass_fits = 0.0, 0
    if run is not None:
        if run.proc.wait() != 0:
            tail = run.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"EMHASS driver failed on {home.name}:\n{tail}")
        result = json.loads(run.out.read_text())
        for method, key in (
            ("emhass_knn", "knn"),
            ("emhass_typical", "typical"),
            ("emhass_typical_wallclock", "typical_wallclock"),
            ("emhass_typical_without_day", "typical_without_day"),
        ):
            for index, forecast in zip(midnights, result[key], strict=True):
                forecasts[method][index : index + slots] = np.array(forecast, dtype=float)
        emhass_seconds = sum(result["seconds"].values())
        emhass_fits = int(result["knn_fits"])
    used = [
        m
        for m in METHODS
        if (sklearn or m not in {"sklearn", "auto"}) and (run or not m.startswith("emhass"))
    ]
    known = np.isfinite(values)
    for method in used:
        known &= np.isfinite(forecasts[method])
    scored = used + (list(EMHASS_VARIANTS) if run else [])
    mae = {m: float(np.mean(np.abs(forecasts[m][known] - values[known]))) for m in scored}
    return Outcome(
        name=home.name,
        days=len(midnights),
        mae=mae,
        selected=selected,
        seconds=seconds,
        emhass_seconds=emhass_seconds,
        emhass_fits=emhass_fits,
    )


def _pct(model: float, baseline: float) -> float:
    return 100.0 * (model - baseline) / baseline


def _fmt(value: float) -> str:
    return f"{value:+.1f} %"


def summary(outcomes: list[Outcome], sklearn: bool, subset: int | None = None) -> str:
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
    if "emhass_knn" in emhass.mae:
        line += f"; vs EMHASS KNN: {part('numpy', 'emhass_knn')} (numpy model)"
        line += f"; vs EMHASS typical: {part('numpy', 'emhass_typical')} (numpy model)"
    else:
        line += "; EMHASS not run"
    if subset:
        line += f" [{subset} origins per home]"
    return line


def emhass_text() -> str:
    text = f"""
- EMHASS KNN: EMHASS {EMHASS_VERSION}'s `MLForecaster` with its defaults, run by its own
  `fit` and `predict` (`benchmarks/_emhass_forecast_driver.py`, in the EMHASS environment):
  scikit-learn's `KNeighborsRegressor()` (5 neighbours, uniform weights; EMHASS's optional
  Bayesian `tune` was not run) in skforecast's `ForecasterRecursive`, with `num_lags` = one day
  of steps (48 at 30 min, 24 at 1 h, as EMHASS advises; it is also the horizon `predict`
  returns) and EMHASS's date features (year, month, weekday, day of year, day, hour; no weather).
  At each refit it is trained on all history before that origin, like ours (`fit` keeps the
  last 48 h as its test split, so those are not trained on); it is refitted every
  {REFIT_DAYS} days, like the sklearn model. Every origin is forecast by `predict` from a
  fresh last window (the 3 days before the origin), as
  `get_load_forecast(method="mlforecaster")` does. The history is prepared as EMHASS's
  `prepare_data` does: negatives clipped, zeros made missing, gaps filled by linear
  interpolation (leading gaps of the training history dropped). CityLearn loads are
  passed in W (x 1000), as a Home Assistant power sensor would give them: the unit matters,
  because the KNN distances mix unscaled lags with calendar numbers.
- EMHASS typical: EMHASS's default `get_load_forecast(method="typical")`. It does **not** use
  the home's history. It reads EMHASS's bundled `data/long_train_data.pkl` (one French
  household, 2024-02-28 .. 2025-02-27, the data behind `emhass_household/load_pv_30min.csv`,
  whose `load_w` column stands in for that bundled file, which is never loaded here),
  converts it to the configured time zone, takes every day of the same month and weekday as
  the forecast day, averages them time of day by time of day (`get_typical_load_forecast`) and
  multiplies by `maximum_power_from_grid / 9000` (1 with the default 9000 W, used here).
  For the EMHASS household this is **in-sample**: the bundled year is this household's, so the
  average includes the forecast day itself and later days (see "without the day" below;
  later days remain). For CityLearn, a user in California
  configures `America/Los_Angeles`; EMHASS converts the French data to that zone, so the French
  day shape arrives 9 h early in local time (the French 19:00 evening peak at 10:00).
"""
    return text.lstrip("\n")


def emhass_variants_text(variants: list[str]) -> str:
    return """
EMHASS typical, two variants (same mask; MAE in the data's unit) and the cost of the EMHASS runs:
"wall-clock" drops the time-zone shift (the French local time of day is used as the home's
local time of day; the same as "as run" for the EMHASS household), "without the day" removes
the forecast day itself from the bundled data (it still contains the later days). "KNN fits"
is the number of `fit` calls; seconds are wall time on a shared, busy machine (EMHASS: the
driver's KNN plus typical, without its start-up; ours: all our methods, computed while the
driver ran alongside).

| home | EMHASS typical (as run) | wall-clock | without the day | KNN fits | EMHASS s | ours s |
|---|---|---|---|---|---|---|
""" + "".join(f"{row}\n" for row in variants)


def write_table(
    outcomes: list[Outcome], path: Path, command: str, line: str, subset: int | None = None
) -> None:
    sklearn = "auto" in outcomes[0].mae
    subset_note = (
        f"\n**Subset:** {subset} forecast origins per home (not all of them), spread evenly\n"
        "over the evaluation period, to fit the run on two shared cores. Every method uses the\n"
        f"same origins; refits follow the same every-{REFIT_DAYS}-days rule.\n"
        if subset
        else ""
    )
    header = "| home | days | seasonal-naive | typical | numpy | vs s-naive | vs typical |"
    rule = "|---|---|---|---|---|---|---|"
    if sklearn:
        header += " sklearn | vs s-naive | auto | vs s-naive | auto chose |"
        rule += "---|---|---|---|---|"
    emhass = "emhass_knn" in outcomes[0].mae
    if emhass:
        header += " EMHASS KNN | numpy vs it | EMHASS typical | numpy vs it |"
        rule += "---|---|---|---|"
    rows = []
    variants = []
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
        if emhass:
            row += (
                f" {m['emhass_knn']:.4g} | {_fmt(_pct(m['numpy'], m['emhass_knn']))} | "
                f"{m['emhass_typical']:.4g} | {_fmt(_pct(m['numpy'], m['emhass_typical']))} |"
            )
            variants.append(
                f"| {o.name} | {m['emhass_typical']:.4g} | "
                f"{m['emhass_typical_wallclock']:.4g} | "
                f"{m['emhass_typical_without_day']:.4g} | {o.emhass_fits} | "
                f"{o.emhass_seconds:.0f} | {o.seconds:.0f} |"
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
{"" if not emhass else emhass_text()}
CityLearn uses its TMY outdoor temperature as a perfect temperature forecast (ours only; the
EMHASS methods get no weather); the EMHASS household has no weather. CityLearn building 12 is
left out (its load column is PV). CityLearn's hours are local wall-clock time
(America/Los_Angeles) with 24 rows a day, kept as a plain 24-h grid for every method.
"days" is the number of forecast origins per home.
{subset_note}
{header}
{rule}
"""
        + "\n".join(rows)
        + "\n"
        + (emhass_variants_text(variants) if emhass else "")
    )
    path.write_text(text)


REFIT_DAYS = 14


def main() -> None:
    global REFIT_DAYS  # noqa: PLW0603
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--warmup-days", type=int, default=120)
    parser.add_argument("--refit-days", type=int, default=14)
    parser.add_argument(
        "--homes",
        default="all",
        help="'all', or 'emhass' and/or CityLearn numbers, e.g. emhass,1,2",
    )
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--no-emhass", action="store_true", help="skip EMHASS's two methods")
    parser.add_argument(
        "--max-origins", type=int, help="use this many origins per home, spread evenly"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to make an EMHASS environment from"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "forecast_results.md")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    REFIT_DAYS = args.refit_days
    sklearn = not args.no_sklearn and LoadForecaster.sklearn_available()
    homes: list[Home] = []
    wanted = args.homes.split(",")
    if "all" in wanted or "emhass" in wanted:
        homes.append(load_emhass(args.data))
    if "all" in wanted:
        homes += [load_citylearn(args.data, b) for b in range(1, 12)]
    else:
        homes += [load_citylearn(args.data, int(b)) for b in wanted if b != "emhass"]
    outcomes = []
    py = None if args.no_emhass else emhass_python(args.python)
    with tempfile.TemporaryDirectory(prefix="forecast_emhass_") as folder:
        for home in homes:
            emhass = None if py is None else (py, args.data.resolve(), Path(folder))
            outcome = evaluate(
                home,
                args.warmup_days,
                args.refit_days,
                sklearn,
                max_origins=args.max_origins,
                emhass=emhass,
            )
            outcomes.append(outcome)
            if not args.quiet:
                maes = ", ".join(f"{k} {v:.4g}" for k, v in outcome.mae.items())
                print(
                    f"  {outcome.name}: {outcome.days} days, {maes} ({outcome.seconds:.0f} s,"
                    f" EMHASS driver {outcome.emhass_seconds:.0f} s)",
                    file=sys.stderr,
                )
    complete = any(o.name.startswith("EMHASS") for o in outcomes) and any(
        o.name.startswith("CityLearn") for o in outcomes
    )
    line = summary(outcomes, sklearn, args.max_origins) if complete else ""
    if line:
        command = "python benchmarks/forecast.py --data ../shared/data"
        extra = []
        if args.warmup_days != 120:
            extra.append(f"--warmup-days {args.warmup_days}")
        if args.refit_days != 14:
            extra.append(f"--refit-days {args.refit_days}")
        if args.no_sklearn:
            extra.append("--no-sklearn")
        if args.no_emhass:
            extra.append("--no-emhass")
        if args.max_origins:
            extra.append(f"--max-origins {args.max_origins}")
        command = " ".join([command, *extra])
        write_table(outcomes, args.output, command, line, args.max_origins)
        print(line)


if __name__ == "__main__":
    main()
