"""Sensors of Energy Collective."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agents.collector import CollectorCoordinator
from .agents.forecaster import ForecastAccuracy, ForecasterCoordinator, ForecastSnapshot
from .collective import EnergyCollectiveConfigEntry
from .const import CHEAPEST_WINDOW
from .engine.forecast import ForecastResult
from .engine.model import HomeSnapshot
from .engine.windows import extreme_window
from .entity import EnergyCollectiveEntity

PARALLEL_UPDATES = 0
ROLE_COLLECTOR = "collector"
ROLE_FORECASTER = "forecaster"
LOAD_MODELS = ["typical", "profile", "gbm"]


@dataclass(frozen=True, kw_only=True)
class CollectorSensorDescription(SensorEntityDescription):
    """How a collector sensor gets its value (and attributes) from the snapshot."""

    value: Callable[[HomeSnapshot], float | datetime | None]
    attributes: Callable[[HomeSnapshot], Mapping[str, Any]] | None = None
    price: bool = False


def _cheapest_start(snapshot: HomeSnapshot) -> datetime | None:
    if snapshot.import_prices is None:
        return None
    window = extreme_window(snapshot.import_prices, CHEAPEST_WINDOW, snapshot.time)
    return window.start if window else None


def _cheapest_attributes(snapshot: HomeSnapshot) -> Mapping[str, Any]:
    if snapshot.import_prices is None:
        return {}
    window = extreme_window(snapshot.import_prices, CHEAPEST_WINDOW, snapshot.time)
    if window is None:
        return {}
    return {"end": window.end.isoformat(), "average_price": round(window.average, 5)}


def _quality_attributes(snapshot: HomeSnapshot) -> Mapping[str, Any]:
    return {"stale_sources": list(snapshot.stale_sources)}


COLLECTOR_SENSORS: tuple[CollectorSensorDescription, ...] = (
    CollectorSensorDescription(
        key="house_load",
        translation_key="house_load",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: s.load_power_w,
    ),
    CollectorSensorDescription(
        key="import_price",
        translation_key="import_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value=lambda s: s.import_price,
        price=True,
    ),
    CollectorSensorDescription(
        key="export_price",
        translation_key="export_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value=lambda s: s.export_price,
        price=True,
    ),
    CollectorSensorDescription(
        key="next_cheapest_window",
        translation_key="next_cheapest_window",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=_cheapest_start,
        attributes=_cheapest_attributes,
    ),
    CollectorSensorDescription(
        key="data_quality",
        translation_key="data_quality",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value=lambda s: round(100.0 * s.data_quality, 1),
        attributes=_quality_attributes,
    ),
)


def _horizon(result: ForecastResult, quantile: str) -> list[dict[str, Any]]:
    values: tuple[float, ...] = getattr(result, quantile)
    return [
        {"time": when.isoformat(), "value": round(value, 1)}
        for when, value in zip(result.times, values, strict=True)
    ]


def _current(result: ForecastResult | None, now: datetime) -> float | None:
    if result is None:
        return None
    index = int((now - result.start) / result.step)
    return round(result.p50[index], 1) if 0 <= index < len(result) else None


def _forecast_attributes(result: ForecastResult | None) -> Mapping[str, Any]:
    if result is None:
        return {}
    return {
        "forecast": _horizon(result, "p50"),
        "forecast_p10": _horizon(result, "p10"),
        "forecast_p90": _horizon(result, "p90"),
        "model": result.model,
        "note": result.note,
    }


def _accuracy_attributes(accuracy: ForecastAccuracy) -> Mapping[str, Any]:
    return {"mae_w": accuracy.mae_w, "samples": accuracy.samples}


@dataclass(frozen=True, kw_only=True)
class ForecasterSensorDescription(SensorEntityDescription):
    """How a forecaster sensor gets its value (and attributes) from the forecast snapshot."""

    value: Callable[[ForecastSnapshot], float | str | None]
    attributes: Callable[[ForecastSnapshot], Mapping[str, Any]]
    exists: Callable[[ForecasterCoordinator], bool] = lambda _: True


FORECASTER_SENSORS: tuple[ForecasterSensorDescription, ...] = (
    ForecasterSensorDescription(
        key="load_forecast",
        translation_key="load_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.load, s.time),
        attributes=lambda s: _forecast_attributes(s.load),
    ),
    ForecasterSensorDescription(
        key="pv_forecast",
        translation_key="pv_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.pv, s.time),
        attributes=lambda s: _forecast_attributes(s.pv),
        exists=lambda c: c.has_pv,
    ),
    ForecasterSensorDescription(
        key="wind_forecast",
        translation_key="wind_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.wind, s.time),
        attributes=lambda s: _forecast_attributes(s.wind),
        exists=lambda c: c.wind is not None,
    ),
    ForecasterSensorDescription(
        key="load_forecast_accuracy",
        translation_key="load_forecast_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value=lambda s: s.load_accuracy.nmae_pct,
        attributes=lambda s: _accuracy_attributes(s.load_accuracy),
    ),
    ForecasterSensorDescription(
        key="pv_forecast_accuracy",
        translation_key="pv_forecast_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value=lambda s: s.pv_accuracy.nmae_pct,
        attributes=lambda s: _accuracy_attributes(s.pv_accuracy),
        exists=lambda c: c.has_pv,
    ),
    ForecasterSensorDescription(
        key="load_model",
        translation_key="load_model",
        device_class=SensorDeviceClass.ENUM,
        options=LOAD_MODELS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value=lambda s: s.load.model,
        attributes=lambda s: {"note": s.load.note},
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every agent of a home."""
    collector = entry.runtime_data.collector
    forecaster = entry.runtime_data.forecaster
    async_add_entities(
        CollectorSensor(collector, entry, description) for description in COLLECTOR_SENSORS
    )
    async_add_entities(
        ForecasterSensor(forecaster, entry, description)
        for description in FORECASTER_SENSORS
        if description.exists(forecaster)
    )


class CollectorSensor(EnergyCollectiveEntity[CollectorCoordinator], SensorEntity):
    """A sensor of the data collection agent."""

    entity_description: CollectorSensorDescription

    def __init__(
        self,
        coordinator: CollectorCoordinator,
        entry: EnergyCollectiveConfigEntry,
        description: CollectorSensorDescription,
    ) -> None:
        """Attach the sensor to the collector's device."""
        super().__init__(coordinator, entry, ROLE_COLLECTOR, description)

    @property
    def native_value(self) -> float | datetime | None:
        """The value from the latest snapshot."""
        return self.entity_description.value(self.coordinator.data)

    @property
    def available(self) -> bool:
        """Unavailable while the agent fails or the source has gone stale."""
        return super().available and self.native_value is not None

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Prices are in the home's currency per kWh."""
        if self.entity_description.price:
            currency = self.coordinator.data.currency or self.hass.config.currency
            return f"{currency}/kWh"
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Attributes that explain the value, where the sensor has any."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator.data)


class ForecasterSensor(EnergyCollectiveEntity[ForecasterCoordinator], SensorEntity):
    """A sensor of the prediction agent."""

    entity_description: ForecasterSensorDescription
    # the whole horizon changes at every update: it is state for the moment, not history
    _unrecorded_attributes = frozenset({"forecast", "forecast_p10", "forecast_p90"})

    def __init__(
        self,
        coordinator: ForecasterCoordinator,
        entry: EnergyCollectiveConfigEntry,
        description: ForecasterSensorDescription,
    ) -> None:
        """Attach the sensor to the forecaster's device."""
        super().__init__(coordinator, entry, ROLE_FORECASTER, description)

    @property
    def native_value(self) -> float | str | None:
        """The value from the latest forecast."""
        return self.entity_description.value(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The horizon, or what explains the value."""
        return self.entity_description.attributes(self.coordinator.data)
