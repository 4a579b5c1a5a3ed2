"""Select entities of the simulated home."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import BATTERY_MODES


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the battery mode selector."""
    if discovery_info is None:
        return
    async_add_entities([BatteryModeSelect(hass.data[DATA_HUB])])


class BatteryModeSelect(SimEntity, SelectEntity):
    """How the battery decides its power: the command, the grid balance, or not at all."""

    _attr_icon = "mdi:home-battery"

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the selector."""
        super().__init__(hub, Platform.SELECT, "battery_mode", "Sim battery mode")
        self._attr_options = list(BATTERY_MODES)

    @property
    def current_option(self) -> str:
        """The battery's mode."""
        return self.hub.home.state.battery_mode

    async def async_select_option(self, option: str) -> None:
        """Change the battery's mode."""
        self.hub.async_command(lambda home: home.set_battery_mode(option))
