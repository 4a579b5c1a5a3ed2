"""Binary sensors of the simulated home."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the car's plug sensor."""
    if discovery_info is None:
        return
    async_add_entities([EvPluggedSensor(hass.data[DATA_HUB])])


class EvPluggedSensor(SimEntity, BinarySensorEntity):
    """Whether the car is home and plugged in."""

    _attr_device_class = BinarySensorDeviceClass.PLUG

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the sensor."""
        super().__init__(hub, Platform.BINARY_SENSOR, "ev_plugged", "Sim EV plugged")

    @property
    def is_on(self) -> bool:
        """True while the car is plugged in."""
        return self.hub.home.flows.ev_plugged
