"""Prediction agent: the load, PV and wind forecasts of a home, and how good they turned out.

It learns the house load from the recorder history the collector's sources left (loaded in the
recorder's executor, refitted once a day, kept in a `Store` as JSON between restarts). PV comes
from the configured forecast entity when there is one, else from the built-in model of the PV
array subentries (clouds from the weather entity's hourly forecast, calibrated on measured PV);
wind from the turbine subentries and the forecast wind speed. Forecasts are issued at every
5-minute mark, so at every planning step boundary. Each step's P50, as issued at least
`ACCURACY_LEAD` before the step began, is kept and compared with what was then measured.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from homeassistant.const import UnitOfSpeed, UnitOfTemperature
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import SpeedConverter, TemperatureConverter

from ..const import (
    ACCURACY_DAYS,
    ACCURACY_LEAD,
    CONF_AZIMUTH,
    CONF_CUT_IN_MS,
    CONF_CUT_OUT_MS,
    CONF_GENERATOR_KIND,
    CONF_HUB_HEIGHT_M,
    CONF_KWP,
    CONF_LOSSES_PCT,
    CONF_PV_FORECAST,
    CONF_RATED_POWER_W,
    CONF_RATED_SPEED_MS,
    CONF_TILT,
    CONF_WEATHER,
    DOMAIN,
    FORECAST_EVERY_MINUTES,
    FORECASTER_SAVE_DELAY_S,
    FORECASTER_STORE_VERSION,
    GENERATOR_PV_ARRAY,
    GENERATOR_WIND_TURBINE,
    HISTORY_DAYS,
    RECENT_DAYS,
    RETRAIN_INTERVAL,
    SUBENTRY_GENERATOR,
    WEATHER_REFRESH,
    store_key,
)
from ..engine.forecast import (
    ForecastResult,
    History,
    LoadForecaster,
    PVArray,
    SolarForecaster,
    Weather,
    WindForecaster,
    WindTurbine,
    accuracy,
)
from ..engine.model import Series
from .collector import CollectorCoordinator, home_config, planning_grid
from .history import async_load_history

if TYPE_CHECKING:
    from ..collective import EnergyCollectiveConfigEntry
from ..coordinator import AgentCoordinator

LOGGER = logging.getLogger(__package__)

PV_SOURCE_ENTITY = "entity"
PV_SOURCE_MODEL = "model"


@dataclass(frozen=True, slots=True)
class ForecastAccuracy:
    """Mean absolute error of the issued forecasts over the last days."""

    mae_w: float | None
    nmae_pct: float | None
    """MAE as a percentage of the mean measured value."""
    samples: int


@dataclass(frozen=True, slots=True)
class ForecastSnapshot:
    """What the prediction agent publishes at each update."""

    time: datetime
    load: ForecastResult
    pv: ForecastResult | None
    pv_source: str | None
    """``entity`` (the configured PV forecast), ``model`` (the built-in one) or None."""
    wind: ForecastResult | None
    load_accuracy: ForecastAccuracy
    pv_accuracy: ForecastAccuracy


def generators(entry: EnergyCollectiveConfigEntry) -> tuple[list[PVArray], list[WindTurbine]]:
    """The PV arrays and wind turbines configured as subentries of a home."""
    arrays: list[PVArray] = []
    turbines: list[WindTurbine] = []
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_GENERATOR:
            continue
        data = subentry.data
        try:
            if data[CONF_GENERATOR_KIND] == GENERATOR_PV_ARRAY:
                arrays.append(
                    PVArray(
                        kwp=float(data[CONF_KWP]),
                        tilt=float(data[CONF_TILT]),
                        azimuth=float(data[CONF_AZIMUTH]),
                        losses=float(data[CONF_LOSSES_PCT]) / 100.0,
                        name=subentry.title,
                    )
                )
            elif data[CONF_GENERATOR_KIND] == GENERATOR_WIND_TURBINE:
                turbines.append(
                    WindTurbine(
                        rated_power_w=float(data[CONF_RATED_POWER_W]),
                        cut_in_ms=float(data[CONF_CUT_IN_MS]),
                        rated_speed_ms=float(data[CONF_RATED_SPEED_MS]),
                        cut_out_ms=float(data[CONF_CUT_OUT_MS]),
                        hub_height_m=float(data[CONF_HUB_HEIGHT_M]),
                        name=subentry.title,
                    )
                )
        except (KeyError, ValueError) as err:
            LOGGER.warning("generator %s is not usable: %s", subentry.title, err)
    return arrays, turbines


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def weather_from_forecast(
    items: Sequence[Mapping[str, Any]], wind_speed_unit: str | None, temperature_unit: str | None
) -> Weather | None:
    """A `Weather` from the items of a `weather.get_forecasts` answer (speeds to m/s)."""
    times: list[datetime] = []
    clouds: list[float | None] = []
    temperatures: list[float | None] = []
    winds: list[float | None] = []
    for item in items:
        when = dt_util.parse_datetime(str(item.get("datetime", "")))
        if when is None:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt_util.get_default_time_zone())
        times.append(when)
        clouds.append(_number(item.get("cloud_coverage")))
        temperature = _number(item.get("temperature"))
        if temperature is not None and temperature_unit:
            temperature = TemperatureConverter.convert(
                temperature, temperature_unit, UnitOfTemperature.CELSIUS
            )
        temperatures.append(temperature)
        wind = _number(item.get("wind_speed"))
        if wind is not None and wind_speed_unit:
            wind = SpeedConverter.convert(wind, wind_speed_unit, UnitOfSpeed.METERS_PER_SECOND)
        winds.append(wind)
    if not times:
        return None

    def field(values: list[float | None]) -> list[float | None] | None:
        return values if any(v is not None for v in values) else None

    return Weather.from_points(
        times,
        cloud_coverage=field(clouds),
        temperature=field(temperatures),
        wind_speed=field(winds),
    )


def result_from_series(
    series: Series, start: datetime, step: timedelta, count: int
) -> ForecastResult:
    """A forecast entity's series on the forecaster's grid (no spread is known: P10 = P90)."""
    values = []
    for i in range(count):
        value = series.value_at(start + step * i)
        values.append(0.0 if value is None else max(0.0, value))
    p50 = tuple(values)
    return ForecastResult(start, step, p50, p50, p50, model=PV_SOURCE_ENTITY)


class _StepLog:
    """Values by planning step (epoch seconds of the step start), kept for a number of days."""

    def __init__(self, keep: timedelta) -> None:
        self.keep = keep
        self.sums: dict[int, float] = {}
        self.counts: dict[int, int] = {}

    def add(self, step_start: int, value: float) -> None:
        """One more sample of a step (measured values are averaged)."""
        self.sums[step_start] = self.sums.get(step_start, 0.0) + value
        self.counts[step_start] = self.counts.get(step_start, 0) + 1

    def put(self, step_start: int, value: float) -> None:
        """The value of a step, replacing what was there (issued forecasts)."""
        self.sums[step_start] = value
        self.counts[step_start] = 1

    def get(self, step_start: int) -> float | None:
        count = self.counts.get(step_start)
        return None if not count else self.sums[step_start] / count

    def prune(self, now: datetime) -> None:
        oldest = (now - self.keep).timestamp()
        for key in [k for k in self.sums if k < oldest]:
            del self.sums[key]
            del self.counts[key]

    def as_dict(self) -> dict[str, list[float]]:
        return {str(k): [self.sums[k], float(self.counts[k])] for k in sorted(self.sums)}

    def load(self, data: Mapping[str, Sequence[float]]) -> None:
        for key, (total, count) in data.items():
            if count > 0:
                self.sums[int(key)] = float(total)
                self.counts[int(key)] = int(count)


def _accuracy(issued: _StepLog, measured: _StepLog, now_start: datetime) -> ForecastAccuracy:
    """MAE and normalised MAE over the finished steps of the last days."""
    first = (now_start - timedelta(days=ACCURACY_DAYS)).timestamp()
    last = now_start.timestamp()
    keys = [k for k in issued.sums if first <= k < last and measured.get(k) is not None]
    if not keys:
        return ForecastAccuracy(None, None, 0)
    forecast = np.array([issued.get(k) for k in keys], dtype=np.float64)
    actual = np.array([measured.get(k) for k in keys], dtype=np.float64)
    result = accuracy(forecast, actual)
    mean = float(np.mean(actual))
    nmae = 100.0 * result.mae / mean if mean > 0 else None
    return ForecastAccuracy(
        round(result.mae, 1), None if nmae is None else round(nmae, 1), result.samples
    )


class ForecasterCoordinator(AgentCoordinator[ForecastSnapshot]):
    """The prediction agent of one home."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyCollectiveConfigEntry,
        collector: CollectorCoordinator,
    ) -> None:
        """Prepare the models of the home; nothing is loaded or fitted yet."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=f"{DOMAIN} forecaster", update_interval=None
        )
        self.collector = collector
        self.config = home_config(entry)
        self.step = collector.step
        self.time_zone = str(hass.config.time_zone)
        self.arrays, self.turbines = generators(entry)
        self.has_pv_entity = bool(self.config.get(CONF_PV_FORECAST))
        self.store: Store[dict[str, Any]] = Store(
            hass, FORECASTER_STORE_VERSION, store_key(entry.entry_id, "forecaster")
        )
        self.load_model: LoadForecaster | None = None
        self.solar: SolarForecaster | None = (
            SolarForecaster(hass.config.latitude, hass.config.longitude, self.arrays)
            if self.arrays
            else None
        )
        self.wind = WindForecaster(self.turbines) if self.turbines else None
        self.trained_at: datetime | None = None
        self.history_days = 0.0
        self.history_sources: dict[str, str] = {}
        keep = timedelta(days=max(ACCURACY_DAYS, RECENT_DAYS) + 1)
        self.measured = {"load": _StepLog(keep), "pv": _StepLog(keep)}
        self.issued = {"load": _StepLog(keep), "pv": _StepLog(keep)}
        self._weather: Weather | None = None
        self._weather_time: datetime | None = None

    @property
    def has_pv(self) -> bool:
        """Whether the home has a PV forecast: an entity or built-in arrays."""
        return self.has_pv_entity or self.solar is not None

    # -- lifecycle -------------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Restore the stored models and the issued forecasts."""
        stored = await self.store.async_load()
        if stored:
            self._restore(stored)

    def _restore(self, stored: Mapping[str, Any]) -> None:
        if (
            stored.get("step_seconds") != self.step.total_seconds()
            or stored.get("time_zone") != self.time_zone
        ):
            return  # kept for another grid: fit anew, start the logs afresh
        for name, log in self.issued.items():
            log.load(stored.get("issued", {}).get(name, {}))
        for name, log in self.measured.items():
            log.load(stored.get("measured", {}).get(name, {}))
        if not isinstance(stored.get("load"), Mapping) or (
            self.solar is not None and not isinstance(stored.get("solar"), Mapping)
        ):
            return  # nothing fitted yet, or an array was added since: fit anew
        try:
            load = LoadForecaster.from_dict(stored["load"])
            solar = None
            if self.solar is not None:
                solar = SolarForecaster.from_dict(stored["solar"])
                if (solar.to_dict()["arrays"], solar.latitude, solar.longitude) != (
                    self.solar.to_dict()["arrays"],
                    self.solar.latitude,
                    self.solar.longitude,
                ):
                    return  # the arrays or the location changed: calibrate anew
        except (KeyError, TypeError, ValueError) as err:
            LOGGER.warning("stored forecast models are not usable, fitting anew: %s", err)
            return
        self.load_model = load
        if solar is not None:
            self.solar = solar
        self.trained_at = dt_util.parse_datetime(str(stored.get("trained_at")))
        self.history_days = float(stored.get("history_days", 0.0))

    def _store_data(self) -> dict[str, Any]:
        return {
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
            "step_seconds": self.step.total_seconds(),
            "time_zone": self.time_zone,
            "history_days": self.history_days,
            "load": self.load_model.to_dict() if self.load_model else None,
            "solar": self.solar.to_dict() if self.solar else None,
            "issued": {name: log.as_dict() for name, log in self.issued.items()},
            "measured": {name: log.as_dict() for name, log in self.measured.items()},
        }

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Forecast at every 5-minute mark and sample the collector; returns the unsubscribe."""

        @callback
        def _tick(now: datetime) -> None:
            self.hass.async_create_task(self.async_refresh(), eager_start=True)

        unsubscribe_time = async_track_time_change(
            self.hass, _tick, minute=f"/{FORECAST_EVERY_MINUTES}", second=0
        )
        unsubscribe_collector = self.collector.async_add_listener(self._sample)

        @callback
        def _stop() -> None:
            unsubscribe_time()
            unsubscribe_collector()

        return _stop

    async def async_shutdown(self) -> None:
        """Write the issued forecasts and measurements before the home stops."""
        await super().async_shutdown()
        await self.store.async_save(self._store_data())

    @callback
    def _sample(self) -> None:
        """Keep the collector's live load and PV, averaged per planning step."""
        snapshot = self.collector.data
        step_start = self._step_start(snapshot.time)
        if snapshot.load_power_w is not None:
            self.measured["load"].add(step_start, snapshot.load_power_w)
        if snapshot.pv_power_w is not None:
            self.measured["pv"].add(step_start, snapshot.pv_power_w)

    def _step_start(self, moment: datetime) -> int:
        step_s = int(self.step.total_seconds())
        return int(moment.timestamp()) // step_s * step_s

    # -- learning --------------------------------------------------------------------------

    async def _async_train(self, now: datetime) -> None:
        """Load the history (recorder executor) and fit the models (executor)."""
        end = datetime.fromtimestamp(self._step_start(now), tz=dt_util.UTC)
        start = end - timedelta(days=HISTORY_DAYS)
        count = int((end - start) / self.step)
        load_values: Sequence[float | None] = (None,) * count
        pv_values: Sequence[float | None] | None = None
        if "recorder" in self.hass.config.components:
            try:
                history = await async_load_history(
                    self.hass, self.config, end, HISTORY_DAYS, self.step
                )
            except Exception:
                # the forecast must go on: without history it starts from a typical profile
                LOGGER.exception("the history of %s could not be read", self.config_entry.title)
            else:
                load_values = history.load_w.values
                pv_values = history.pv_w.values if history.pv_w is not None else None
                self.history_sources = dict(history.sources)
        load_history = History.from_values(start, self.step, load_values, self.time_zone)
        model = LoadForecaster()
        await self.hass.async_add_executor_job(model.fit, load_history)
        self.load_model = model
        self.history_days = round(load_history.observed_days(), 2)
        if pv_values is not None:
            pv_history = History.from_values(start, self.step, pv_values, self.time_zone)
            if self.solar is not None:
                await self.hass.async_add_executor_job(self.solar.fit, pv_history)
        self._seed_measured(start, load_values, pv_values)
        self.trained_at = now
        LOGGER.debug(
            "load model %s fitted on %.1f days: %s",
            model.selected,
            self.history_days,
            model.model.note if model.model else None,
        )
        await self.store.async_save(self._store_data())

    def _seed_measured(
        self,
        start: datetime,
        load: Sequence[float | None],
        pv: Sequence[float | None] | None,
    ) -> None:
        """History fills the steps the live samples do not cover (before a restart)."""
        first = len(load) - RECENT_DAYS * int(timedelta(days=1) / self.step)
        for name, values in (("load", load), ("pv", pv)):
            if values is None:
                continue
            log = self.measured[name]
            for i in range(max(first, 0), len(values)):
                value = values[i]
                key = int((start + self.step * i).timestamp())
                if value is not None and key not in log.sums:
                    log.put(key, value)

    # -- forecasting -----------------------------------------------------------------------

    async def _async_weather(self, now: datetime) -> Weather | None:
        """The weather entity's hourly forecast, asked again every half hour."""
        entity_id = self.config.get(CONF_WEATHER)
        if not entity_id:
            return None
        if self._weather_time is not None and now - self._weather_time < WEATHER_REFRESH:
            return self._weather
        state = self.hass.states.get(entity_id)
        if state is None or not self.hass.services.has_service("weather", "get_forecasts"):
            return self._weather
        try:
            response = await self.hass.services.async_call(
                "weather",
                "get_forecasts",
                {"entity_id": entity_id, "type": "hourly"},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            LOGGER.debug("no hourly forecast from %s: %s", entity_id, err)
            return self._weather
        answer = (response or {}).get(entity_id)
        items = answer.get("forecast") if isinstance(answer, Mapping) else None
        self._weather = weather_from_forecast(
            [item for item in items if isinstance(item, Mapping)]
            if isinstance(items, list)
            else [],
            state.attributes.get("wind_speed_unit"),
            state.attributes.get("temperature_unit"),
        )
        self._weather_time = now
        return self._weather

    def _recent(self, start: datetime) -> History:
        """The measured load of the last days up to `start`, for the model's lags."""
        count = RECENT_DAYS * int(timedelta(days=1) / self.step)
        first = start - self.step * count
        values = [
            self.measured["load"].get(int((first + self.step * i).timestamp()))
            for i in range(count)
        ]
        return History.from_values(first, self.step, values, self.time_zone)

    def _predict_job(
        self,
        start: datetime,
        count: int,
        recent: History,
        weather: Weather | None,
        use_solar: bool,
    ) -> tuple[ForecastResult, ForecastResult | None, ForecastResult | None]:
        """Load, PV and wind forecasts (numpy: runs in the executor)."""
        if self.load_model is None:  # pragma: no cover - trained before the first forecast
            raise RuntimeError("the load model is not fitted")
        load = self.load_model.predict(start, count, recent=recent, weather=weather)
        pv = (
            self.solar.predict(start, self.step, count, weather)
            if use_solar and self.solar is not None
            else None
        )
        wind = self.wind.predict(start, self.step, count, weather) if self.wind else None
        return load, pv, wind

    async def _async_update_data(self) -> ForecastSnapshot:
        now = dt_util.utcnow()
        if self.trained_at is None or now - self.trained_at >= RETRAIN_INTERVAL:
            await self._async_train(now)
        start, count = planning_grid(
            now, int(self.step.total_seconds() // 60), self.collector.horizon_hours
        )
        weather = await self._async_weather(now)
        entity_pv = None
        if self.has_pv_entity:
            series = self.collector.data.pv_forecast_w
            if series is not None:
                entity_pv = result_from_series(series, start, self.step, count)
        load, model_pv, wind = await self.hass.async_add_executor_job(
            self._predict_job, start, count, self._recent(start), weather, entity_pv is None
        )
        pv = entity_pv or model_pv
        pv_source = None
        if pv is not None:
            pv_source = PV_SOURCE_ENTITY if entity_pv is not None else PV_SOURCE_MODEL
        self._remember(now, load, pv)
        self.store.async_delay_save(self._store_data, FORECASTER_SAVE_DELAY_S)
        return ForecastSnapshot(
            time=now,
            load=load,
            pv=pv,
            pv_source=pv_source,
            wind=wind,
            load_accuracy=_accuracy(self.issued["load"], self.measured["load"], start),
            pv_accuracy=_accuracy(self.issued["pv"], self.measured["pv"], start),
        )

    def _remember(self, now: datetime, load: ForecastResult, pv: ForecastResult | None) -> None:
        """Keep each step's forecast as issued at least ACCURACY_LEAD ahead."""
        for name, result in (("load", load), ("pv", pv)):
            self.issued[name].prune(now)
            self.measured[name].prune(now)
            if result is None:
                continue
            for when, value in zip(result.times, result.p50, strict=True):
                if when - now >= ACCURACY_LEAD:
                    self.issued[name].put(int(when.timestamp()), value)

    # -- for diagnostics -------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The models in use and why (for diagnostics)."""
        model = self.load_model
        return {
            "load_model": model.selected if model else None,
            "load_note": model.model.note if model and model.model else None,
            "scores": dict(model.scores) if model else {},
            "skipped": dict(model.skipped) if model else {},
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
            "history_days": self.history_days,
            "history_sources": dict(self.history_sources),
            "pv_source": self.data.pv_source if self.data else None,
            "pv_arrays": len(self.arrays),
            "pv_calibration": self.solar.calibration_mode if self.solar else None,
            "wind_turbines": len(self.turbines),
        }
