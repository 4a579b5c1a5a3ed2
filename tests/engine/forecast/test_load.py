"""Load forecasting: what a user of the prediction agent would notice."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.energy_collective.engine.forecast import (
    Forecaster,
    ForecastResult,
    History,
    LoadForecaster,
    Weather,
    accuracy,
    sum_results,
)
from custom_components.energy_collective.engine.forecast import load as load_module
from custom_components.energy_collective.engine.forecast.base import (
    calendar,
    epoch_grid,
    make_result,
    step_seconds,
)
from custom_components.energy_collective.engine.forecast.load import (
    GradientBoostingModel,
    ProfileModel,
    TreeEnsemble,
    TypicalModel,
    day_ahead_mae,
    sklearn_regressor,
)

PARIS = "Europe/Paris"


def synthetic_home(
    start: datetime,
    days: int,
    step: timedelta = timedelta(hours=1),
    *,
    noise: float = 120.0,
    seed: int = 1,
    time_zone: str = PARIS,
    temperature: bool = False,
) -> History:
    """A home with a known daily shape (W), a weekend shape, and noise."""
    rng = np.random.default_rng(seed)
    times = epoch_grid(start, step, int(days * 86_400 / step.total_seconds()))
    cal = calendar(times, step_seconds(step), time_zone)
    hour = cal.slot * step.total_seconds() / 3600.0
    shape = 300 + 250 * np.exp(-((hour - 7.5) ** 2) / 2) + 600 * np.exp(-((hour - 19) ** 2) / 4)
    weekend = cal.weekday >= 5
    shape = np.where(weekend, shape + 200 * np.exp(-((hour - 12) ** 2) / 8), shape)
    temps = None
    if temperature:
        day = (times - times[0]) / 86_400
        temps = 18 + 8 * np.sin(day / 3.0) + 5 * np.sin((hour - 9) / 24 * 2 * np.pi)
        shape = shape + 60 * np.maximum(0.0, temps - 22)
    values = shape + rng.normal(0, noise, times.size)
    return History(start=start, step=step, values=values, time_zone=time_zone, temperature=temps)


def local_midnight(year: int, month: int, day: int, zone: str = PARIS) -> datetime:
    return datetime(year, month, day, tzinfo=ZoneInfo(zone))


def test_beats_seasonal_naive_on_a_known_shape() -> None:
    history = synthetic_home(local_midnight(2024, 1, 1), 56)
    steps_per_day = 24
    first = 49 * steps_per_day
    forecaster = LoadForecaster(models=("profile",))
    forecaster.fit(history.head(first))
    assert isinstance(forecaster, Forecaster)
    errors_model, errors_naive = [], []
    for day in range(7):
        index = first + day * steps_per_day
        start = datetime.fromtimestamp(float(history.times[index]), UTC)
        result = forecaster.predict(start, steps_per_day, recent=history.head(index))
        actual = history.values[index : index + steps_per_day]
        errors_model.append(np.abs(result.array() - actual))
        naive = history.values[index - 7 * steps_per_day : index - 6 * steps_per_day]
        errors_naive.append(np.abs(naive - actual))
    model_mae = float(np.mean(errors_model))
    naive_mae = float(np.mean(errors_naive))
    assert model_mae < 0.85 * naive_mae
    assert forecaster.selected == "profile"
    assert result.model == "profile"
    assert result.note is None


def test_one_day_of_history_falls_back_to_a_typical_profile_and_says_so() -> None:
    history = synthetic_home(local_midnight(2024, 5, 1), 1)
    forecaster = LoadForecaster()
    forecaster.fit(history)
    result = forecaster.predict(history.end, 48)
    assert result.model == "typical"
    assert result.note is not None
    assert "1.0 days of history" in result.note
    assert "typical" in result.note
    assert forecaster.skipped == {"profile": "short_history", "gbm": "short_history"}
    p50 = result.array()
    assert np.all(p50 > 0)
    # Scaled to the measured level, with an evening peak above the night.
    assert abs(p50[:24].mean() - np.mean(history.values)) < 0.25 * np.mean(history.values)
    assert p50[19] > p50[3]


def test_no_history_at_all_still_forecasts() -> None:
    empty = History.from_values(local_midnight(2024, 5, 1), timedelta(minutes=15), [])
    forecaster = LoadForecaster(fallback_mean=800.0)
    forecaster.fit(empty)
    result = forecaster.predict(local_midnight(2024, 5, 1), 96)
    assert result.note == "no history: typical household profile at a default level"
    assert result.array().mean() == pytest.approx(800.0, rel=0.05)


def test_a_few_days_of_history_say_that_the_profile_is_thin() -> None:
    history = synthetic_home(local_midnight(2024, 5, 1), 5)
    forecaster = LoadForecaster()
    forecaster.fit(history)
    result = forecaster.predict(history.end, 24)
    assert result.model == "profile"
    assert result.note is not None
    assert "5.0 days" in result.note
    assert forecaster.skipped.get("gbm") in {"short_history", "sklearn_missing"}


def test_gaps_and_dst_changes_do_not_break_it() -> None:
    step = timedelta(minutes=30)
    history = synthetic_home(local_midnight(2024, 3, 1), 70, step)
    values = history.values.copy()
    values[200:260] = np.nan  # a 30-h outage
    values[1500:1503] = np.nan
    values[3000:3100:7] = np.nan
    gappy = History(start=history.start, step=step, values=values, time_zone=PARIS)
    forecaster = LoadForecaster(models=("profile",))
    forecaster.fit(gappy.head(1440))  # to 2024-03-31 (spring forward)
    for start in (local_midnight(2024, 3, 31), local_midnight(2024, 4, 1)):
        result = forecaster.predict(start, 48, recent=gappy)
        assert len(result) == 48
        assert np.all(np.isfinite(result.array()))
    # The 23-h day: local 19:00 is still the evening peak.
    result = forecaster.predict(local_midnight(2024, 3, 31), 46, recent=gappy)
    evening = result.times.index(datetime(2024, 3, 31, 17, 0, tzinfo=UTC))  # 19:00 CEST
    night = result.times.index(datetime(2024, 3, 31, 1, 0, tzinfo=UTC))  # 03:00 CEST
    assert result.p50[evening] > result.p50[night] + 300
    # Autumn fall-back day (25 h).
    autumn = synthetic_home(local_midnight(2024, 9, 1), 56, step)
    forecaster.fit(autumn)
    result = forecaster.predict(local_midnight(2024, 10, 27), 50, recent=autumn)
    assert np.all(np.isfinite(result.array()))
    assert len(set(result.times)) == 50


def test_quantiles_are_ordered_and_cover_the_noise() -> None:
    history = synthetic_home(local_midnight(2024, 1, 1), 42, noise=150.0, seed=4)
    forecaster = LoadForecaster(models=("profile",))
    forecaster.fit(history.head(35 * 24))
    inside = total = 0
    for day in range(35, 42):
        index = day * 24
        start = datetime.fromtimestamp(float(history.times[index]), UTC)
        result = forecaster.predict(start, 24, recent=history.head(index))
        p10, p50, p90 = result.array("p10"), result.array("p50"), result.array("p90")
        assert np.all(p10 <= p50)
        assert np.all(p50 <= p90)
        actual = history.values[index : index + 24]
        inside += int(np.sum((actual >= p10) & (actual <= p90)))
        total += 24
    assert 0.6 <= inside / total <= 0.97


def test_temperature_forecast_moves_the_load() -> None:
    history = synthetic_home(local_midnight(2024, 6, 1), 60, temperature=True, noise=40.0)
    forecaster = LoadForecaster(models=("profile",))
    forecaster.fit(history)
    start = history.end
    times = epoch_grid(start, timedelta(hours=1), 24)
    hot = Weather(times=times, temperature=np.full(24, 33.0))
    mild = Weather(times=times, temperature=np.full(24, 16.0))
    hot_sum = sum(forecaster.predict(start, 24, weather=hot).p50)
    mild_sum = sum(forecaster.predict(start, 24, weather=mild).p50)
    assert hot_sum > mild_sum + 24 * 200


def test_json_round_trip_gives_identical_predictions() -> None:
    history = synthetic_home(local_midnight(2024, 1, 1), 30, temperature=True)
    for models in (("profile",), ("gbm",)):
        if models == ("gbm",) and sklearn_regressor() is None:
            continue
        forecaster = LoadForecaster(models=models, gbm_min_history_days=20)
        forecaster.fit(history)
        assert forecaster.selected == models[0]
        stored = json.loads(json.dumps(forecaster.to_dict()))
        restored = LoadForecaster.from_dict(stored)
        weather = Weather(times=history.times, temperature=history.temperature)
        for count in (24, 60):
            a = forecaster.predict(history.end, count, recent=history, weather=weather)
            b = restored.predict(history.end, count, recent=history, weather=weather)
            assert a == b
    if sklearn_regressor() is not None:  # a home without any weather
        plain = synthetic_home(local_midnight(2024, 1, 1), 30)
        gbm = LoadForecaster(models=("gbm",), gbm_min_history_days=20)
        gbm.fit(plain)
        again_gbm = LoadForecaster.from_dict(json.loads(json.dumps(gbm.to_dict())))
        assert again_gbm.predict(plain.end, 30, recent=plain) == gbm.predict(
            plain.end, 30, recent=plain
        )
    typical = LoadForecaster()
    typical.fit(history.head(20))
    again = LoadForecaster.from_dict(json.loads(json.dumps(typical.to_dict())))
    assert again.predict(history.end, 5) == typical.predict(history.end, 5)


def test_stored_state_is_plain_json_never_pickle() -> None:
    forecaster = LoadForecaster(models=("profile",))
    forecaster.fit(synthetic_home(local_midnight(2024, 1, 1), 10))
    text = json.dumps(forecaster.to_dict(), allow_nan=False)
    assert '"kind": "load"' in text
    with pytest.raises(ValueError, match="not a stored load forecaster"):
        LoadForecaster.from_dict({"version": 0})


@pytest.mark.skipif(sklearn_regressor() is None, reason="scikit-learn not installed")
def test_sklearn_candidate_is_trained_and_the_better_one_is_kept() -> None:
    history = synthetic_home(local_midnight(2024, 1, 1), 45, temperature=True, noise=60.0)
    forecaster = LoadForecaster(keep_candidates=True)
    forecaster.fit(history)
    assert set(forecaster.scores) == {"profile", "gbm"}
    assert set(forecaster.candidates) == {"profile", "gbm"}
    best = min(forecaster.scores, key=lambda name: forecaster.scores[name])
    assert forecaster.selected == best
    assert all(math.isfinite(score) for score in forecaster.scores.values())
    result = forecaster.predict(history.end, 72, recent=history)
    assert len(result) == 72
    assert np.all(np.isfinite(result.array()))


@pytest.mark.skipif(sklearn_regressor() is None, reason="scikit-learn not installed")
def test_exported_trees_predict_like_scikit_learn() -> None:
    regressor = sklearn_regressor()
    assert regressor is not None
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    x[::9, 1] = np.nan
    y = x[:, 0] * 2 + np.nan_to_num(x[:, 1]) + rng.normal(0, 0.1, 500)
    estimator = regressor(max_iter=20, random_state=0).fit(x, y)
    trees = TreeEnsemble.from_sklearn(estimator)
    np.testing.assert_allclose(trees.predict(x), estimator.predict(x), rtol=1e-9, atol=1e-9)
    copy = TreeEnsemble.from_dict(json.loads(json.dumps(trees.to_dict())))
    np.testing.assert_array_equal(copy.predict(x), trees.predict(x))


def test_without_scikit_learn_the_numpy_model_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # import now fails
    assert sklearn_regressor() is None
    assert not LoadForecaster.sklearn_available()
    forecaster = LoadForecaster()
    forecaster.fit(synthetic_home(local_midnight(2024, 1, 1), 45))
    assert forecaster.selected == "profile"
    assert forecaster.skipped == {"gbm": "sklearn_missing"}
    assert forecaster.scores == {}
    with pytest.raises(RuntimeError, match="scikit-learn"):
        GradientBoostingModel().fit(synthetic_home(local_midnight(2024, 1, 1), 3))
    only_gbm = LoadForecaster(models=("gbm",))
    only_gbm.fit(synthetic_home(local_midnight(2024, 1, 1), 10))
    assert only_gbm.selected == "profile"


def test_errors_are_reported_clearly() -> None:
    with pytest.raises(ValueError, match="unknown models"):
        LoadForecaster(models=("magic",))
    with pytest.raises(RuntimeError, match="fit the forecaster first"):
        LoadForecaster().predict(local_midnight(2024, 1, 1), 4)
    with pytest.raises(RuntimeError, match="not fitted"):
        ProfileModel().predict(local_midnight(2024, 1, 1), 4)
    with pytest.raises(NotImplementedError):
        load_module._Model().to_dict()
    with pytest.raises(ValueError, match="divide a day"):
        History.from_values(local_midnight(2024, 1, 1), timedelta(minutes=7), [1.0])
    with pytest.raises(ValueError, match="timezone-aware"):
        History.from_values(datetime(2024, 1, 1), timedelta(hours=1), [1.0])  # noqa: DTZ001
    with pytest.raises(ValueError, match="shape"):
        History.from_values(local_midnight(2024, 1, 1), timedelta(hours=1), [1.0], PARIS, [])


def test_day_ahead_score_with_no_midnight_is_infinite() -> None:
    history = synthetic_home(local_midnight(2024, 1, 1), 3)
    model = ProfileModel()
    model.fit(history)
    assert day_ahead_mae(model, history, history.values.size) == math.inf
    blank = History(
        start=history.start,
        step=history.step,
        values=np.full(history.values.size, np.nan),
        time_zone=PARIS,
    )
    assert day_ahead_mae(model, blank, 24) == math.inf
    empty = ProfileModel()
    empty.fit(History.from_values(local_midnight(2024, 1, 1), timedelta(hours=1), []))
    assert empty.profile.shape == (7, 24)
    typical = TypicalModel()
    typical.fit(history)
    assert typical.to_dict()["model"] == "typical"


def test_results_sum_and_order() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    one = make_result(
        start, step, np.array([3.0, -1]), np.array([1.0, 0]), np.array([2.0, 1]), model="a"
    )
    assert one.p10 == (1.0, 0.0)
    assert one.p90 == (3.0, 1.0)
    two = make_result(start, step, np.zeros(2), np.ones(2), np.ones(2), model="b", note="thin")
    total = sum_results([one, two])
    assert total.p50 == (3.0, 1.0)
    assert total.model == "a+b"
    assert total.note == "thin"
    assert total.as_dict()["step_seconds"] == 3600
    with pytest.raises(ValueError, match="nothing"):
        sum_results([])
    with pytest.raises(ValueError, match="share"):
        sum_results([one, make_result(start, step, *(np.zeros(3),) * 3, model="c")])
    with pytest.raises(ValueError, match="same length"):
        ForecastResult(start, step, (1.0,), (), (), "x")
    score = accuracy(np.array([1.0, 2.0, np.nan]), np.array([2.0, 2.0, 5.0]))
    assert (score.mae, score.bias, score.samples) == (0.5, -0.5, 2)
    assert accuracy(np.array([np.nan]), np.array([1.0])).samples == 0


def test_weather_points_are_interpolated() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    weather = Weather.from_points(
        [t0 + timedelta(hours=1), t0],
        temperature=[12.0, 10.0],
        cloud_coverage=[None, None],
    )
    temps = weather.at("temperature", np.array([t0.timestamp() + 1800]))
    assert temps is not None
    assert temps[0] == 11.0
    assert weather.at("cloud_coverage", np.array([t0.timestamp()])) is None
    assert weather.at("wind_speed", np.array([t0.timestamp()])) is None
    with pytest.raises(ValueError, match="one value per time"):
        Weather.from_points([t0], temperature=[1.0, 2.0])
    history = History.from_values(t0, timedelta(hours=1), [1.0, None, 3.0], "UTC", [1, 2, 3])
    assert history.observed_days() == pytest.approx(2 / 24)
    assert history.tail(2).values.tolist()[1] == 3.0
    assert history.tail(2).start == t0 + timedelta(hours=1)
