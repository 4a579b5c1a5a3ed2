"""Sensors of the simulated home: powers, energies, states of charge, prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import APPLIANCES, SimulatedHome, current_price, nordpool_attributes


@dataclass(frozen=True, kw_only=True)
class SimSensorDescription(SensorEntityDescription):
    """A sensor of the simulated home and how to read it."""

    value_fn: Callable[[SimulatedHome], float]


def _power(key: str, name: str, fn: Callable[[SimulatedHome], float]) -> SimSensorDescription:
    return SimSensorDescription(
        key=key,
        name=name,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda home: round(fn(home), 1),
    )


def _energy(counter: str, name: str) -> SimSensorDescription:
    return SimSensorDescription(
        key=f"{counter}_energy",
        name=name,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda home: round(home.state.energy_wh[counter] / 1000, 4),
    )


def _appliance_power(name: str) -> SimSensorDescription:
    label = name.replace("_", " ")
    return _power(f"{name}_power", f"Sim {label} power", lambda h: h.flows.appliances_w[name])


SENSORS: tuple[SimSensorDescription, ...] = (
    _power("grid_power", "Sim grid power", lambda h: h.flows.grid_w),
    _power("pv_power", "Sim PV power", lambda h: h.flows.pv_w),
    _power("house_load", "Sim house load", lambda h: h.flows.house_load_w),
    _power("battery_power", "Sim battery power", lambda h: h.flows.battery_w),
    _power("ev_charger_power", "Sim EV charger power", lambda h: h.flows.ev_w),
    *(_appliance_power(name) for name in APPLIANCES),
    SimSensorDescription(
        key="battery_soc",
        name="Sim battery state of charge",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        value_fn=lambda h: round(h.state.battery_soc, 2),
    ),
    SimSensorDescription(
        key="ev_soc",
        name="Sim EV state of charge",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        value_fn=lambda h: round(h.state.ev_soc, 2),
    ),
    SimSensorDescription(
        key="water_temperature",
        name="Sim water temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda h: round(h.state.water_temp_c, 2),
    ),
    _energy("grid_import", "Sim grid import energy"),
    _energy("grid_export", "Sim grid export energy"),
    _energy("pv", "Sim PV energy"),
    _energy("house_load", "Sim house load energy"),
    _energy("battery_charge", "Sim battery charge energy"),
    _energy("battery_discharge", "Sim battery discharge energy"),
    _energy("ev_charge", "Sim EV charge energy"),
    *(_energy(name, f"Sim {name.replace('_', ' ')} energy") for name in APPLIANCES),
)


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the sensors."""
    if discovery_info is None:
        return
    hub = hass.data[DATA_HUB]
    entities: list[SensorEntity] = [SimSensor(hub, d) for d in SENSORS]
    entities.append(PriceSensor(hub, "import", "nordpool_price", "Sim Nord Pool price"))
    entities.append(PriceSensor(hub, "export", "export_price", "Sim export price"))
    async_add_entities(entities)


class SimSensor(SimEntity, SensorEntity):
    """A number read from the simulated home."""

    entity_description: SimSensorDescription

    def __init__(self, hub: SimulatedHomeHub, description: SimSensorDescription) -> None:
        """Create the sensor described by `description`."""
        super().__init__(hub, Platform.SENSOR, description.key, str(description.name))
        self.entity_description = description

    @property
    def native_value(self) -> float:
        """The current value."""
        return self.entity_description.value_fn(self.hub.home)


class PriceSensor(SimEntity, SensorEntity):
    """A day-ahead price in the format of the custom-components/nordpool sensor."""

    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 3
    _attr_icon = "mdi:cash"

    def __init__(self, hub: SimulatedHomeHub, kind: str, key: str, name: str) -> None:
        """`kind` is "import" (what the home pays) or "export" (what it is paid)."""
        super().__init__(hub, Platform.SENSOR, key, name)
        self.kind = kind
        self._attr_native_unit_of_measurement = f"{hub.site.currency}/kWh"

    @property
    def native_value(self) -> float:
        """The price of the current market interval."""
        home = self.hub.home
        return current_price(home.site, home.state.time, self.kind)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Today's and (from the publication hour) tomorrow's prices."""
        home = self.hub.home
        return nordpool_attributes(home.site, home.state.time, self.kind)
