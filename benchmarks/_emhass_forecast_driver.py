"""EMHASS 0.18.7's load forecasts for `forecast.py`; runs in the EMHASS environment.

    benchmarks/.envs/emhass/bin/python benchmarks/_emhass_forecast_driver.py SPEC.json OUT.json

SPEC (written by `forecast.py`) holds one home's load history on a regular grid, the forecast
origins (indices of local midnights), the number of steps per day and the refit interval. OUT
gets, per origin, the next day's forecast from:

- ``knn``: EMHASS's `MLForecaster` with its defaults (`KNeighborsRegressor()` untuned through
  skforecast's `ForecasterRecursive`, `num_lags` = one day of steps, `split_date_delta` 48 h),
  trained by EMHASS's own `fit` on every measurement before the origin and refitted every
  `refit_days`. Every origin is then forecast by EMHASS's own `predict` from a freshly
  prepared last window (the 3 days before the origin), as `get_load_forecast(method=
  "mlforecaster")` does. The history is prepared as EMHASS's `RetrieveHass.prepare_data`
  does: negatives clipped, zeros made missing (`set_zero_min`), gaps filled by linear
  interpolation (and leading gaps of the last window by 0); leading gaps of the training
  history are dropped because skforecast refuses missing targets.
- ``typical``: EMHASS's `get_load_forecast(method="typical")`. It does not use the home's
  history at all: it loads EMHASS's bundled `data/long_train_data.pkl` (one French household,
  2024-02-28 .. 2025-02-27, the same data as `emhass_household/load_pv_30min.csv`), converts it
  to the configured time zone, averages all days of the same month and weekday as the forecast
  day time of day by time of day, and multiplies by `maximum_power_from_grid / 9000` (1 with
  the default 9000 W). The CSV copy of that data stands in for that bundled file, which the
  PyPI wheel does not ship and which is never loaded here. Days are looked up by local
  wall-clock time (the home's grid may have 24 h windows crossing a DST change, where
  EMHASS would intersect tz-aware timestamps).
- ``typical_wallclock``: the same profile without the time-zone conversion, i.e. the French
  household's local time of day mapped onto the home's local time of day (equal to ``typical``
  for a home in Europe/Paris).
- ``typical_without_day``: ``typical`` with the forecast day itself removed from the bundled
  data (differs from ``typical`` only for the household the data came from).

Values are sent in the home's unit times ``to_watts`` (EMHASS works in W and its KNN distances
mix W with calendar numbers, so the unit matters) and returned in the home's unit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from emhass.forecast import Forecast
from emhass.machine_learning_forecaster import MLForecaster

VAR = "sensor.power_load_no_var_loads"
LAST_WINDOW_DAYS = 3  # get_load_forecast's days_min_load_forecast default
TYPICAL_SCALE = 9000.0  # the divisor in Forecast._get_load_forecast_typical


def prepare(values: pd.Series) -> pd.Series:
    """`RetrieveHass.prepare_data` with `set_zero_min`: clip at 0, zeros become gaps."""
    return values.clip(lower=0.0).replace(0.0, np.nan)


def grid(spec: dict) -> pd.DatetimeIndex:
    """The home's index: tz-aware where a zone is given, else naive local wall-clock time."""
    step = pd.Timedelta(seconds=spec["step_s"])
    start = pd.Timestamp(spec["start"])
    index = pd.date_range(start=start, periods=len(spec["values"]), freq=step)
    if spec.get("time_zone"):
        index = index.tz_convert(spec["time_zone"])
    return index


def knn_forecasts(series: pd.Series, spec: dict, log: logging.Logger) -> tuple[list, int]:
    slots = spec["slots"]
    refit_steps = spec["refit_days"] * slots
    cleaned = prepare(series)
    out: list[list[float]] = []
    mlf: MLForecaster | None = None
    last_fit: int | None = None
    fits = 0
    for origin in spec["origins"]:
        if mlf is None or origin - last_fit >= refit_steps:
            history = cleaned.iloc[:origin]
            first = history.first_valid_index()
            data = history.loc[first:].to_frame(VAR)
            data.index.freq = series.index.freq
            mlf = MLForecaster(data, "load_forecast", VAR, "KNeighborsRegressor", slots, {}, log)
            asyncio.run(mlf.fit(split_date_delta="48h", perform_backtest=False))
            last_fit = origin
            fits += 1
        window = cleaned.iloc[max(0, origin - LAST_WINDOW_DAYS * slots) : origin]
        window = window.interpolate(method="linear", axis=0, limit=None).fillna(0.0)
        last = window.to_frame(VAR)
        last.index.freq = series.index.freq
        pred = asyncio.run(mlf.predict(last))
        if len(pred) != slots or pred.index[0] != series.index[origin]:
            raise SystemExit(f"unexpected KNN forecast at origin {origin}: {pred.index[:2]}")
        out.append(np.clip(pred.to_numpy(dtype=float), 0.0, None).tolist())
    return out, fits


def bundled(spec: dict) -> pd.DataFrame:
    """EMHASS's long_train_data load column, read from the shared CSV copy (UTC, W)."""
    frame = pd.read_csv(spec["typical_csv"], usecols=["timestamp", "load_w"])
    index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"], utc=True))
    return pd.DataFrame({"load": frame["load_w"].to_numpy(dtype=float)}, index=index)


def wall_clock(data: pd.DataFrame, zone: str) -> pd.DataFrame:
    shifted = data.copy()
    shifted.index = shifted.index.tz_convert(zone).tz_localize(None)
    return shifted


def typical_forecasts(index: pd.DatetimeIndex, spec: dict) -> dict[str, list]:
    slots = spec["slots"]
    step = pd.Timedelta(seconds=spec["step_s"])
    raw = bundled(spec)
    if step != pd.Timedelta("30min"):
        # _get_load_forecast_typical resamples when the optimisation step is not 30 min.
        raw = Forecast.resample_data(raw, step, pd.Timedelta("30min"))
    scale = spec["maximum_power_from_grid"] / TYPICAL_SCALE
    variants = {
        "typical": wall_clock(raw, spec["emhass_time_zone"]),
        "typical_wallclock": wall_clock(raw, "Europe/Paris"),
    }
    local = index
    if index.tz is not None:
        local = index.tz_convert(spec["emhass_time_zone"]).tz_localize(None)
    days_in = {name: set(data.index.date) for name, data in variants.items()}
    cache: dict[tuple, pd.Series] = {}

    def profile(name: str, day: date, drop_day: bool) -> pd.Series:
        # The profile depends on the month and weekday only, unless the day itself is dropped.
        drop_day = drop_day and day in days_in[name]
        key = (name, day) if drop_day else (name, day.month, day.weekday())
        if key not in cache:
            data = variants[name]
            if drop_day:
                data = data[data.index.date != day]
            forecast, _ = Forecast.get_typical_load_forecast(data, pd.Timestamp(day))
            cache[key] = forecast["load"]
        # EMHASS aligns the profile onto the forecast day's date.
        prof = cache[key]
        stamp = pd.Timestamp(day)
        return pd.Series(
            prof.to_numpy(),
            index=stamp + (prof.index - prof.index[0].normalize()),
        )

    out: dict[str, list] = {"typical": [], "typical_wallclock": [], "typical_without_day": []}
    for origin in spec["origins"]:
        times = local[origin : origin + slots]
        for name, variant, drop in (
            ("typical", "typical", False),
            ("typical_wallclock", "typical_wallclock", False),
            ("typical_without_day", "typical", True),
        ):
            values = np.full(slots, np.nan)
            for day in sorted(set(times.date)):
                prof = profile(variant, day, drop)
                on_day = times.date == day
                values[on_day] = prof.reindex(times[on_day]).to_numpy(dtype=float)
            out[name].append((values * scale).tolist())
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    logging.basicConfig(level=logging.WARNING)
    log = logging.getLogger("emhass_forecast")
    log.setLevel(logging.WARNING)
    index = grid(spec)
    to_w = spec["to_watts"]
    values = np.array([math.nan if v is None else v for v in spec["values"]], dtype=float)
    series = pd.Series(values * to_w, index=index, name=VAR)
    began = time.perf_counter()
    knn, fits = knn_forecasts(series, spec, log)
    knn_s = time.perf_counter() - began
    began = time.perf_counter()
    typical = typical_forecasts(index, spec)
    typical_s = time.perf_counter() - began
    result = {
        "knn": (np.array(knn) / to_w).tolist(),
        **{k: (np.array(v) / to_w).tolist() for k, v in typical.items()},
        "knn_fits": fits,
        "seconds": {"knn": knn_s, "typical": typical_s},
    }
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
