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
from .collective import EnergyCollectiveConfigEntry
from .const import CHEAPEST_WINDOW
from .engine.model import HomeSnapshot
from .engine.windows import extreme_window
from .entity import EnergyCollectiveEntity

PARALLEL_UPDATES = 0
ROLE_COLLECTOR = "collector"


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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every agent of a home."""
    collector = entry.runtime_data.collector
    async_add_entities(
        CollectorSensor(collector, entry, description) for description in COLLECTOR_SENSORS
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
