"""Household load forecasting: numpy by default, scikit-learn when it can be imported.

Models
------
``typical``
    A generic household day shape scaled to the measured mean. Used while there is less
    history than `LoadForecaster.min_history_days`; the result's note says so.
``profile`` (numpy only, the default)
    An exponentially weighted profile by weekday and time of day, shrunk towards the
    all-days profile of the same time while a weekday has few observations. The profile is
    built causally, day after day, so its residuals are honest out-of-sample errors. A ridge
    regression then corrects those residuals from the residual at the same time one day
    earlier, the mean residual over the 24 h ending then, and outdoor temperature (hinge
    functions below 12/18 °C and above 20/25 °C, per quarter of the day).
``gbm`` (scikit-learn's `HistGradientBoostingRegressor`)
    Trained on lagged load (1 day, 7 days, the mean of the 24 h ending one day earlier), the
    calendar, temperature and the profile model's value. Its trees are exported to plain
    arrays, so it is stored as JSON and predicts with numpy even where scikit-learn is absent.

`LoadForecaster` fits the candidates on the history minus a held-back validation window,
scores them by day-ahead MAE (a forecast issued at each local midnight of the window), keeps
the best, and refits it on the whole history. P10/P90 come from the chosen model's errors by
time of day. Beyond one day ahead, lagged values are the model's own predictions.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import numpy as np

from .base import (
    DAY_SECONDS,
    Calendar,
    FloatArray,
    ForecastResult,
    History,
    IntArray,
    Weather,
    calendar,
    epoch_grid,
    make_result,
    step_seconds,
)

FORMAT_VERSION: Final = 1

# A generic household day (mean 1.0), hour by hour from local midnight: low at night, a
# morning peak, a flat middle of the day and the evening peak.
TYPICAL_DAY: Final = (
    0.62, 0.55, 0.52, 0.50, 0.50, 0.55, 0.75, 1.05, 1.15, 1.00, 0.92, 0.90,
    0.95, 0.92, 0.88, 0.90, 1.00, 1.25, 1.55, 1.70, 1.60, 1.40, 1.10, 0.80,
)  # fmt: skip

_HINGES_BELOW: Final = (12.0, 18.0)
_HINGES_ABOVE: Final = (20.0, 25.0)
_DAY_PARTS: Final = 4


def sklearn_regressor() -> Any | None:
    """scikit-learn's HistGradientBoostingRegressor class, or None when not importable."""
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        return None
    return HistGradientBoostingRegressor


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Keep scikit-learn's OpenMP to one thread: Home Assistant shares the machine."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _slots(step: timedelta) -> int:
    return DAY_SECONDS // step_seconds(step)


def _rolling_mean(values: FloatArray, window: int) -> FloatArray:
    """Mean of the last `window` values up to each index (NaN-aware; NaN if < half known)."""
    known = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(known, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(known)])
    upper = np.arange(1, values.size + 1)
    lower = np.maximum(upper - window, 0)
    count = counts[upper] - counts[lower]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums[upper] - sums[lower]) / count
    return np.where(count * 2 >= window, mean, np.nan)


def _shift(values: FloatArray, steps: int) -> FloatArray:
    """values[i - steps] at i (NaN before the start)."""
    out = np.full(values.size, np.nan)
    if steps < values.size:
        out[steps:] = values[: values.size - steps]
    return out


def _timeline(
    start: float, step_s: int, back: int, count: int, sources: Sequence[tuple[float, FloatArray]]
) -> FloatArray:
    """A grid of `back` past and `count` future steps around `start`, past filled from sources.

    Each source is (epoch of its first value, values) on a grid of the same step; later
    sources override earlier ones; only instants before `start` are taken.
    """
    line = np.full(back + count, np.nan)
    origin = start - back * step_s
    for first, values in sources:
        if values.size == 0:
            continue
        index = np.rint((first + step_s * np.arange(values.size) - origin) / step_s)
        index = index.astype(np.int64)
        keep = (index >= 0) & (index < back) & np.isfinite(values)
        line[index[keep]] = values[keep]
    return line


def _quantiles_by_slot(
    errors: FloatArray, slots: IntArray, slots_per_day: int
) -> tuple[FloatArray, FloatArray]:
    """P10 and P90 of `errors` (actual - forecast) by time of day, pooled over +-2 h."""
    known = np.isfinite(errors)
    errors, slots = errors[known], slots[known]
    q10 = np.zeros(slots_per_day)
    q90 = np.zeros(slots_per_day)
    if errors.size == 0:
        return q10, q90
    overall = np.quantile(errors, [0.1, 0.9])
    reach = max(slots_per_day // 12, 0)
    for slot in range(slots_per_day):
        distance = np.abs(slots - slot)
        near = np.minimum(distance, slots_per_day - distance) <= reach
        if near.sum() >= 20:
            q10[slot], q90[slot] = np.quantile(errors[near], [0.1, 0.9])
        else:
            q10[slot], q90[slot] = overall
    return np.minimum(q10, 0.0), np.maximum(q90, 0.0)


def _temperatures(weather: Weather | None, times: FloatArray) -> FloatArray:
    temps = None if weather is None else weather.at("temperature", times)
    return np.full(times.size, np.nan) if temps is None else temps


def _as_list(array: FloatArray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in array.tolist()]


def _from_list(values: Sequence[float | None]) -> FloatArray:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


@dataclass(slots=True)
class _Context:
    """The grid and calendar a model was fitted on."""

    step_s: int
    slots: int
    time_zone: str
    fit_end: float
    """Epoch of the instant after the last history value."""


class _Model:
    """Common parts: the grid, quantiles, persistence of the context."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.context: _Context | None = None
        self.q10: FloatArray = np.zeros(0)
        self.q90: FloatArray = np.zeros(0)
        self.note: str | None = None

    @property
    def fitted(self) -> bool:
        return self.context is not None

    def _ctx(self) -> _Context:
        if self.context is None:
            raise RuntimeError(f"{self.name} model is not fitted")
        return self.context

    def fit(self, history: History) -> None:
        raise NotImplementedError

    def predict_p50(
        self, start: float, count: int, recent: History | None, weather: Weather | None
    ) -> FloatArray:
        raise NotImplementedError

    def predict(
        self,
        start: datetime,
        count: int,
        *,
        recent: History | None = None,
        weather: Weather | None = None,
        nonnegative: bool = True,
    ) -> ForecastResult:
        """P10/P50/P90 for `count` steps from `start`."""
        ctx = self._ctx()
        step = timedelta(seconds=ctx.step_s)
        p50 = self.predict_p50(start.timestamp(), count, recent, weather)
        times = epoch_grid(start, step, count)
        slot = calendar(times, ctx.step_s, ctx.time_zone).slot
        return make_result(
            start,
            step,
            p50 + self.q10[slot],
            p50,
            p50 + self.q90[slot],
            model=self.name,
            note=self.note,
            nonnegative=nonnegative,
        )

    def _context_dict(self) -> dict[str, Any]:
        ctx = self._ctx()
        return {
            "model": self.name,
            "step_seconds": ctx.step_s,
            "time_zone": ctx.time_zone,
            "fit_end": ctx.fit_end,
            "q10": self.q10.tolist(),
            "q90": self.q90.tolist(),
            "note": self.note,
        }

    def _load_context(self, data: dict[str, Any]) -> None:
        step_s = int(data["step_seconds"])
        self.context = _Context(
            step_s=step_s,
            slots=DAY_SECONDS // step_s,
            time_zone=str(data["time_zone"]),
            fit_end=float(data["fit_end"]),
        )
        self.q10 = np.asarray(data["q10"], dtype=np.float64)
        self.q90 = np.asarray(data["q90"], dtype=np.float64)
        self.note = data.get("note")

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


class TypicalModel(_Model):
    """A generic household day scaled to what little was measured."""

    name: ClassVar[str] = "typical"

    def __init__(self, fallback_mean: float = 500.0) -> None:
        super().__init__()
        self.fallback_mean = fallback_mean
        self.profile: FloatArray = np.zeros(0)

    def fit(self, history: History) -> None:
        step_s = step_seconds(history.step)
        slots = DAY_SECONDS // step_s
        times = history.times
        cal = calendar(times, step_s, history.time_zone)
        hours = (np.arange(slots) + 0.5) * step_s / 3600.0
        shape = np.interp(hours, np.arange(24) + 0.5, TYPICAL_DAY, period=24.0)
        shape = shape / shape.mean()
        known = np.isfinite(history.values)
        mean = float(history.values[known].mean()) if known.any() else self.fallback_mean
        profile = shape * mean
        # Where a time of day was measured, lean towards it as days accumulate.
        sums = np.bincount(cal.slot[known], history.values[known], minlength=slots)
        counts = np.bincount(cal.slot[known], minlength=slots)
        with np.errstate(invalid="ignore", divide="ignore"):
            measured = sums / counts
        weight = counts / (counts + 2.0)
        self.profile = np.where(counts > 0, weight * measured + (1 - weight) * profile, profile)
        self.q10 = -0.5 * self.profile
        self.q90 = 0.8 * self.profile
        days = history.observed_days()
        self.note = (
            f"only {days:.1f} days of history: typical household profile scaled to the "
            "measured mean"
            if known.any()
            else "no history: typical household profile at a default level"
        )
        self.context = _Context(step_s, slots, history.time_zone, history.end.timestamp())

    def predict_p50(
        self, start: float, count: int, recent: History | None, weather: Weather | None
    ) -> FloatArray:
        ctx = self._ctx()
        times = start + ctx.step_s * np.arange(count, dtype=np.float64)
        return self.profile[calendar(times, ctx.step_s, ctx.time_zone).slot]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._context_dict(),
            "fallback_mean": self.fallback_mean,
            "profile": self.profile.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TypicalModel:
        model = cls(float(data["fallback_mean"]))
        model._load_context(data)
        model.profile = np.asarray(data["profile"], dtype=np.float64)
        return model


@dataclass(slots=True)
class _ProfileState:
    """Exponentially weighted sums by weekday and slot, and over all days by slot."""

    by_weekday: FloatArray
    weight_by_weekday: FloatArray
    all_days: FloatArray
    weight_all_days: FloatArray


class ProfileModel(_Model):
    """Weekday x time-of-day profile plus a ridge correction (numpy only)."""

    name: ClassVar[str] = "profile"

    def __init__(
        self,
        weekday_half_life_days: float = 35.0,
        all_days_half_life_days: float = 10.0,
        shrinkage: float = 2.0,
        ridge: float = 3.0,
        regression_half_life_days: float = 120.0,
    ) -> None:
        super().__init__()
        self.weekday_half_life_days = weekday_half_life_days
        self.all_days_half_life_days = all_days_half_life_days
        self.shrinkage = shrinkage
        self.ridge = ridge
        self.regression_half_life_days = regression_half_life_days
        self.profile: FloatArray = np.zeros((7, 0))
        self.coef: FloatArray = np.zeros(0)
        self.temp_center: FloatArray = np.zeros(0)
        self.tail_start = 0.0
        self.tail_residuals: FloatArray = np.zeros(0)
        self.online: FloatArray = np.zeros(0)
        """The causal profile at each history step (kept after fit, not persisted)."""

    # -- profile --------------------------------------------------------------------------
    def _online_profile(self, cal: Calendar, values: FloatArray, slots: int) -> FloatArray:
        state = _ProfileState(
            by_weekday=np.zeros((7, slots)),
            weight_by_weekday=np.zeros((7, slots)),
            all_days=np.zeros(slots),
            weight_all_days=np.zeros(slots),
        )
        online = np.full(values.size, np.nan)
        if values.size == 0:
            self.profile = np.full((7, slots), np.nan)
            return online
        cuts = np.flatnonzero(np.diff(cal.day)) + 1
        previous_day: int | None = None
        for group in np.split(np.arange(values.size), cuts):
            day = int(cal.day[group[0]])
            if previous_day is not None:
                gap = day - previous_day
                state.by_weekday *= 0.5 ** (gap / self.weekday_half_life_days)
                state.weight_by_weekday *= 0.5 ** (gap / self.weekday_half_life_days)
                state.all_days *= 0.5 ** (gap / self.all_days_half_life_days)
                state.weight_all_days *= 0.5 ** (gap / self.all_days_half_life_days)
            previous_day = day
            weekday = int(cal.weekday[group[0]])
            slot = cal.slot[group]
            online[group] = self._blend(state, weekday)[slot]
            seen = np.isfinite(values[group])
            np.add.at(state.by_weekday[weekday], slot[seen], values[group][seen])
            np.add.at(state.weight_by_weekday[weekday], slot[seen], 1.0)
            np.add.at(state.all_days, slot[seen], values[group][seen])
            np.add.at(state.weight_all_days, slot[seen], 1.0)
        profile = np.vstack([self._blend(state, weekday) for weekday in range(7)])
        known = np.isfinite(values)
        fill = float(values[known].mean()) if known.any() else 0.0
        self.profile = np.where(np.isfinite(profile), profile, fill)
        return online

    def _blend(self, state: _ProfileState, weekday: int) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            all_days = state.all_days / state.weight_all_days
        k = self.shrinkage
        prior = np.where(np.isfinite(all_days), all_days, 0.0)
        blended = (state.by_weekday[weekday] + k * prior) / (state.weight_by_weekday[weekday] + k)
        return np.where(np.isfinite(all_days), blended, np.nan)

    # -- regression features ----------------------------------------------------------------
    def _features(
        self, residuals: FloatArray, temps: FloatArray, slot: IntArray, slots: int
    ) -> FloatArray:
        lag_day = np.nan_to_num(_shift(residuals, slots))
        lag_mean = np.nan_to_num(_shift(_rolling_mean(residuals, slots), slots))
        hinges = [np.maximum(0.0, h - temps) for h in _HINGES_BELOW]
        hinges += [np.maximum(0.0, temps - h) for h in _HINGES_ABOVE]
        columns = [np.ones(residuals.size), lag_day, lag_mean]
        part = slot * _DAY_PARTS // slots
        for index, hinge in enumerate(hinges):
            centered = hinge - (self.temp_center[index] if self.temp_center.size else 0.0)
            centered = np.where(np.isfinite(centered), centered, 0.0)
            columns += [np.where(part == p, centered, 0.0) for p in range(_DAY_PARTS)]
        return np.column_stack(columns)

    def fit(self, history: History) -> None:
        step_s = step_seconds(history.step)
        slots = DAY_SECONDS // step_s
        times = history.times
        cal = calendar(times, step_s, history.time_zone)
        values = history.values
        online = self._online_profile(cal, values, slots)
        self.online = online
        residuals = values - online
        temps = (
            history.temperature if history.temperature is not None else np.full(values.size, np.nan)
        )
        hinges = [np.maximum(0.0, h - temps) for h in _HINGES_BELOW]
        hinges += [np.maximum(0.0, temps - h) for h in _HINGES_ABOVE]
        self.temp_center = np.array(
            [float(np.nanmean(h)) if np.isfinite(h).any() else 0.0 for h in hinges]
        )
        features = self._features(residuals, temps, cal.slot, slots)
        usable = np.isfinite(residuals)
        # A model needs a day of residuals before its lags mean anything.
        usable[: min(slots, usable.size)] = False
        self.coef = np.zeros(features.shape[1])
        if usable.sum() > features.shape[1] * 4:
            age_days = (times[-1] - times) / DAY_SECONDS
            weight = 0.5 ** (age_days / self.regression_half_life_days)
            x = features[usable]
            w = weight[usable]
            y = residuals[usable]
            scale = np.sqrt(np.average(x**2, axis=0, weights=w)) + 1e-9
            xs = x / scale
            gram = (xs * w[:, None]).T @ xs
            penalty = self.ridge * np.eye(gram.shape[0])
            penalty[0, 0] = 1e-6
            solution = np.linalg.solve(gram + penalty, (xs * w[:, None]).T @ y)
            self.coef = solution / scale
        fitted = online + features @ self.coef
        errors = values - fitted
        recent = times >= times[-1] - 56 * DAY_SECONDS if times.size else np.zeros(0, bool)
        self.q10, self.q90 = _quantiles_by_slot(errors[recent], cal.slot[recent], slots)
        keep = min(2 * slots, values.size)
        self.tail_residuals = residuals[values.size - keep :]
        self.tail_start = float(times[values.size - keep]) if keep else 0.0
        self.context = _Context(step_s, slots, history.time_zone, history.end.timestamp())
        self.note = None

    def profile_at(self, times: FloatArray) -> FloatArray:
        """The fitted weekday x time-of-day profile at `times`."""
        ctx = self._ctx()
        cal = calendar(times, ctx.step_s, ctx.time_zone)
        return self.profile[cal.weekday, cal.slot]

    def predict_p50(
        self, start: float, count: int, recent: History | None, weather: Weather | None
    ) -> FloatArray:
        ctx = self._ctx()
        slots = ctx.slots
        back = 2 * slots
        sources: list[tuple[float, FloatArray]] = [(self.tail_start, self.tail_residuals)]
        if recent is not None and recent.values.size:
            rtimes = recent.times
            newer = rtimes >= ctx.fit_end
            if newer.any():
                first = int(np.argmax(newer))
                resid = recent.values[first:] - self.profile_at(rtimes[first:])
                sources.append((float(rtimes[first]), resid))
        line = _timeline(start, ctx.step_s, back, count, sources)
        times = start + ctx.step_s * np.arange(-back, count, dtype=np.float64)
        temps = _temperatures(weather, times)
        slot = calendar(times, ctx.step_s, ctx.time_zone).slot
        for chunk in range(back, back + count, slots):
            rows = slice(chunk, min(chunk + slots, back + count))
            features = self._features(line, temps, slot, slots)
            line[rows] = features[rows] @ self.coef
        return self.profile_at(times[back:]) + line[back:]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._context_dict(),
            "params": {
                "weekday_half_life_days": self.weekday_half_life_days,
                "all_days_half_life_days": self.all_days_half_life_days,
                "shrinkage": self.shrinkage,
                "ridge": self.ridge,
                "regression_half_life_days": self.regression_half_life_days,
            },
            "profile": self.profile.tolist(),
            "coef": self.coef.tolist(),
            "temp_center": self.temp_center.tolist(),
            "tail_start": self.tail_start,
            "tail_residuals": _as_list(self.tail_residuals),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileModel:
        model = cls(**{k: float(v) for k, v in data["params"].items()})
        model._load_context(data)
        model.profile = np.asarray(data["profile"], dtype=np.float64)
        model.coef = np.asarray(data["coef"], dtype=np.float64)
        model.temp_center = np.asarray(data["temp_center"], dtype=np.float64)
        model.tail_start = float(data["tail_start"])
        model.tail_residuals = _from_list(data["tail_residuals"])
        return model


@dataclass(slots=True)
class TreeEnsemble:
    """Gradient-boosted regression trees as plain arrays (one set per tree)."""

    baseline: float
    trees: list[dict[str, list[float]]] = field(default_factory=list)

    @classmethod
    def from_sklearn(cls, estimator: Any) -> TreeEnsemble:
        """Copy the trees of a fitted HistGradientBoostingRegressor (numeric features)."""
        trees = []
        for (predictor,) in estimator._predictors:
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):  # pragma: no cover - no categorical features
                raise ValueError("categorical splits are not supported")
            trees.append(
                {
                    "value": nodes["value"].astype(float).tolist(),
                    "feature": nodes["feature_idx"].astype(float).tolist(),
                    "threshold": nodes["num_threshold"].astype(float).tolist(),
                    "missing_left": nodes["missing_go_to_left"].astype(float).tolist(),
                    "left": nodes["left"].astype(float).tolist(),
                    "right": nodes["right"].astype(float).tolist(),
                    "leaf": nodes["is_leaf"].astype(float).tolist(),
                }
            )
        baseline = float(np.asarray(estimator._baseline_prediction).ravel()[0])
        return cls(baseline=baseline, trees=trees)

    def predict(self, x: FloatArray) -> FloatArray:
        """Sum of the leaves each row falls in, plus the baseline."""
        out = np.full(x.shape[0], self.baseline)
        rows = np.arange(x.shape[0])
        for tree in self.trees:
            value = np.asarray(tree["value"])
            feature = np.asarray(tree["feature"], dtype=np.int64)
            threshold = np.asarray(tree["threshold"])
            missing_left = np.asarray(tree["missing_left"], dtype=bool)
            left = np.asarray(tree["left"], dtype=np.int64)
            right = np.asarray(tree["right"], dtype=np.int64)
            leaf = np.asarray(tree["leaf"], dtype=bool)
            node = np.zeros(x.shape[0], dtype=np.int64)
            active = ~leaf[node]
            while active.any():
                current = node[active]
                data = x[rows[active], feature[current]]
                go_left = np.where(
                    np.isnan(data), missing_left[current], data <= threshold[current]
                )
                node[active] = np.where(go_left, left[current], right[current])
                active = ~leaf[node]
            out += value[node]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "trees": self.trees}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeEnsemble:
        return cls(baseline=float(data["baseline"]), trees=list(data["trees"]))


class GradientBoostingModel(_Model):
    """Gradient boosting on lagged load, calendar, temperature and the profile (sklearn)."""

    name: ClassVar[str] = "gbm"

    def __init__(self, max_iter: int = 150, learning_rate: float = 0.06) -> None:
        super().__init__()
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.profile_model = ProfileModel()
        self.ensemble: TreeEnsemble | None = None
        self.tail_start = 0.0
        self.tail_values: FloatArray = np.zeros(0)
        self.uses_temperature = False

    @staticmethod
    def _features(
        values: FloatArray, profile: FloatArray, temps: FloatArray, cal: Calendar, slots: int
    ) -> FloatArray:
        return np.column_stack(
            [
                cal.slot / slots,
                cal.weekday.astype(np.float64),
                temps,
                profile,
                _shift(values, slots),
                _shift(values, 7 * slots),
                _shift(_rolling_mean(values, slots), slots),
                _shift(_rolling_mean(values, slots // 8 or 1), slots),
            ]
        )

    def fit(self, history: History) -> None:
        regressor = sklearn_regressor()
        if regressor is None:
            raise RuntimeError("scikit-learn is not installed")
        step_s = step_seconds(history.step)
        slots = DAY_SECONDS // step_s
        self.profile_model.fit(history)
        times = history.times
        cal = calendar(times, step_s, history.time_zone)
        values = history.values
        temps = (
            history.temperature if history.temperature is not None else np.full(values.size, np.nan)
        )
        # A column that is never known cannot be binned: leave temperature out then.
        self.uses_temperature = bool(np.isfinite(temps).any())
        if not self.uses_temperature:
            temps = np.zeros(values.size)
        features = self._features(values, self.profile_model.online, temps, cal, slots)
        usable = np.isfinite(values) & np.isfinite(self.profile_model.online)
        usable[: min(slots, usable.size)] = False
        estimator = regressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=0,
        )
        with _one_thread():
            estimator.fit(features[usable], values[usable])
        self.ensemble = TreeEnsemble.from_sklearn(estimator)
        fitted = self.ensemble.predict(features)
        errors = np.where(usable, values - fitted, np.nan)
        recent = times >= times[-1] - 56 * DAY_SECONDS
        self.q10, self.q90 = _quantiles_by_slot(errors[recent], cal.slot[recent], slots)
        keep = min(8 * slots, values.size)
        self.tail_values = values[values.size - keep :]
        self.tail_start = float(times[values.size - keep])
        self.context = _Context(step_s, slots, history.time_zone, history.end.timestamp())
        self.note = None

    def predict_p50(
        self, start: float, count: int, recent: History | None, weather: Weather | None
    ) -> FloatArray:
        ctx = self._ctx()
        if self.ensemble is None:  # pragma: no cover - set together with the context
            raise RuntimeError("gbm model is not fitted")
        slots = ctx.slots
        back = 8 * slots
        sources: list[tuple[float, FloatArray]] = [(self.tail_start, self.tail_values)]
        if recent is not None and recent.values.size:
            sources.append((recent.start.timestamp(), recent.values))
        line = _timeline(start, ctx.step_s, back, count, sources)
        times = start + ctx.step_s * np.arange(-back, count, dtype=np.float64)
        cal = calendar(times, ctx.step_s, ctx.time_zone)
        profile = self.profile_model.profile[cal.weekday, cal.slot]
        temps = _temperatures(weather, times) if self.uses_temperature else np.zeros(times.size)
        for chunk in range(back, back + count, slots):
            rows = slice(chunk, min(chunk + slots, back + count))
            features = self._features(line, profile, temps, cal, slots)
            line[rows] = self.ensemble.predict(features[rows])
        return line[back:]

    def to_dict(self) -> dict[str, Any]:
        if self.ensemble is None:  # pragma: no cover - set together with the context
            raise RuntimeError("gbm model is not fitted")
        return {
            **self._context_dict(),
            "params": {"max_iter": self.max_iter, "learning_rate": self.learning_rate},
            "uses_temperature": self.uses_temperature,
            "profile_model": self.profile_model.to_dict(),
            "ensemble": self.ensemble.to_dict(),
            "tail_start": self.tail_start,
            "tail_values": _as_list(self.tail_values),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradientBoostingModel:
        params = data["params"]
        model = cls(int(params["max_iter"]), float(params["learning_rate"]))
        model._load_context(data)
        model.profile_model = ProfileModel.from_dict(data["profile_model"])
        model.ensemble = TreeEnsemble.from_dict(data["ensemble"])
        model.tail_start = float(data["tail_start"])
        model.tail_values = _from_list(data["tail_values"])
        model.uses_temperature = bool(data["uses_temperature"])
        return model


_MODEL_TYPES: Final[dict[str, Callable[[dict[str, Any]], _Model]]] = {
    TypicalModel.name: TypicalModel.from_dict,
    ProfileModel.name: ProfileModel.from_dict,
    GradientBoostingModel.name: GradientBoostingModel.from_dict,
}


def day_ahead_mae(model: _Model, history: History, first: int) -> float:
    """MAE of forecasts issued at each local midnight from index `first` for the next day."""
    ctx = model._ctx()
    times = history.times
    cal = calendar(times, ctx.step_s, history.time_zone)
    midnights = [i for i in range(first, times.size) if cal.slot[i] == 0]
    errors: list[FloatArray] = []
    for index in midnights:
        count = min(ctx.slots, times.size - index)
        start = datetime.fromtimestamp(float(times[index]), UTC)
        weather = None
        if history.temperature is not None:
            weather = Weather(times=times, temperature=history.temperature)
        p50 = model.predict_p50(start.timestamp(), count, history.head(index), weather)
        errors.append(np.abs(p50 - history.values[index : index + count]))
    if not errors:
        return math.inf
    joined = np.concatenate(errors)
    known = np.isfinite(joined)
    return float(joined[known].mean()) if known.any() else math.inf


class LoadForecaster:
    """Picks and runs the best load model for one home (implements `Forecaster`)."""

    def __init__(
        self,
        *,
        models: Sequence[str] = ("profile", "gbm"),
        validation_days: float = 14.0,
        min_history_days: float = 2.0,
        gbm_min_history_days: float = 28.0,
        fallback_mean: float = 500.0,
        nonnegative: bool = True,
        keep_candidates: bool = False,
    ) -> None:
        unknown = set(models) - {"profile", "gbm"}
        if unknown or not models:
            raise ValueError(f"unknown models {sorted(unknown)}")
        self.models = tuple(models)
        self.validation_days = validation_days
        self.min_history_days = min_history_days
        self.gbm_min_history_days = gbm_min_history_days
        self.fallback_mean = fallback_mean
        self.nonnegative = nonnegative
        self.keep_candidates = keep_candidates
        self.model: _Model | None = None
        self.candidates: dict[str, _Model] = {}
        """With `keep_candidates`, every candidate refitted on the whole history."""
        self.scores: dict[str, float] = {}
        """Day-ahead validation MAE of each candidate (empty when there was no choice)."""
        self.skipped: dict[str, str] = {}
        """Candidates that were not tried and why (``sklearn_missing``, ``short_history``)."""

    @property
    def selected(self) -> str | None:
        """Name of the model in use."""
        return None if self.model is None else self.model.name

    @staticmethod
    def sklearn_available() -> bool:
        """Whether scikit-learn can be imported here."""
        return sklearn_regressor() is not None

    def _candidates(self, days: float) -> list[str]:
        names: list[str] = []
        self.skipped = {}
        for name in self.models:
            if name == "gbm":
                if not self.sklearn_available():
                    self.skipped[name] = "sklearn_missing"
                    continue
                if days < self.gbm_min_history_days:
                    self.skipped[name] = "short_history"
                    continue
            names.append(name)
        return names

    @staticmethod
    def _new(name: str) -> _Model:
        return GradientBoostingModel() if name == "gbm" else ProfileModel()

    def fit(self, history: History) -> None:
        """Choose a model on a validation window and fit it on the whole history."""
        days = history.observed_days()
        self.scores = {}
        self.candidates = {}
        if days < self.min_history_days:
            self.skipped = dict.fromkeys(self.models, "short_history")
            typical = TypicalModel(self.fallback_mean)
            typical.fit(history)
            self.model = typical
            return
        names = self._candidates(days)
        if not names:
            names = ["profile"]
        slots = _slots(history.step)
        holdout = int(self.validation_days * slots)
        if len(names) > 1 and holdout and history.values.size >= 3 * holdout:
            first = history.values.size - holdout
            for name in names:
                candidate = self._new(name)
                candidate.fit(history.head(first))
                self.scores[name] = day_ahead_mae(candidate, history, first)
            names.sort(key=lambda n: self.scores[n])
        chosen = names[0]
        for name in names if self.keep_candidates else [chosen]:
            model = self._new(name)
            model.fit(history)
            self.candidates[name] = model
        self.model = self.candidates[chosen]
        if days < 14:
            self.model.note = (
                f"only {days:.1f} days of history: weekday profiles lean on the all-days profile"
            )

    def predict(
        self,
        start: datetime,
        count: int,
        *,
        recent: History | None = None,
        weather: Weather | None = None,
    ) -> ForecastResult:
        """P10/P50/P90 for `count` steps of the history's step from `start`.

        `recent` is measured history (it may overlap the fitted one) up to `start`; its newer
        values feed the lags. `weather` gives the outdoor temperature forecast.
        """
        if self.model is None:
            raise RuntimeError("fit the forecaster first")
        return self.model.predict(
            start, count, recent=recent, weather=weather, nonnegative=self.nonnegative
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; `from_dict` restores identical predictions."""
        return {
            "version": FORMAT_VERSION,
            "kind": "load",
            "settings": {
                "models": list(self.models),
                "validation_days": self.validation_days,
                "min_history_days": self.min_history_days,
                "gbm_min_history_days": self.gbm_min_history_days,
                "fallback_mean": self.fallback_mean,
                "nonnegative": self.nonnegative,
            },
            "model": None if self.model is None else self.model.to_dict(),
            "scores": {k: (v if math.isfinite(v) else None) for k, v in self.scores.items()},
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadForecaster:
        """Restore from `to_dict` output."""
        if data.get("version") != FORMAT_VERSION or data.get("kind") != "load":
            raise ValueError("not a stored load forecaster of this version")
        settings = data["settings"]
        forecaster = cls(
            models=tuple(settings["models"]),
            validation_days=float(settings["validation_days"]),
            min_history_days=float(settings["min_history_days"]),
            gbm_min_history_days=float(settings["gbm_min_history_days"]),
            fallback_mean=float(settings["fallback_mean"]),
            nonnegative=bool(settings["nonnegative"]),
        )
        stored = data.get("model")
        if stored is not None:
            forecaster.model = _MODEL_TYPES[stored["model"]](stored)
        forecaster.scores = {
            k: (math.inf if v is None else float(v)) for k, v in data["scores"].items()
        }
        forecaster.skipped = dict(data["skipped"])
        return forecaster
