"""The water heater of the simulated home as a `water_heater` entity.

Operation modes: `electric` (the thermostat heats the tank to the target temperature with the
element's power) and `off`. It is the same heater as `switch.sim_water_heater`: switching
one switches the other.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.water_heater import (
    STATE_ELECTRIC,
    WaterHeaterEntity,
    WaterHeaterEntityFeature,
)
from homeassistant.const import ATTR_TEMPERATURE, STATE_OFF, Platform, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import WATER_TARGET_MAX_C, WATER_TARGET_MIN_C


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the water heater."""
    if discovery_info is None:
        return
    async_add_entities([SimWaterHeater(hass.data[DATA_HUB])])


class SimWaterHeater(SimEntity, WaterHeaterEntity):
    """The 3 kW heater of the 200 l tank, with its thermostat."""

    _attr_icon = "mdi:water-boiler"
    _attr_supported_features = (
        WaterHeaterEntityFeature.TARGET_TEMPERATURE
        | WaterHeaterEntityFeature.OPERATION_MODE
        | WaterHeaterEntityFeature.ON_OFF
    )
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_min_temp = WATER_TARGET_MIN_C
    _attr_max_temp = WATER_TARGET_MAX_C
    _attr_target_temperature_step = 0.5

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the entity."""
        super().__init__(hub, Platform.WATER_HEATER, "water_heater", "Sim water heater")
        self._attr_operation_list = [STATE_ELECTRIC, STATE_OFF]

    @property
    def current_operation(self) -> str:
        """`electric` while the heater is enabled, else `off`."""
        return STATE_ELECTRIC if self.hub.home.state.water_heater_enabled else STATE_OFF

    @property
    def current_temperature(self) -> float:
        """The tank's temperature."""
        return round(self.hub.home.state.water_temp_c, 1)

    @property
    def target_temperature(self) -> float:
        """The thermostat's target."""
        return self.hub.home.water_target_c

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Whether the element heats now, and its power."""
        heating = self.hub.home.state.water_heating
        return {"heating": heating, "power": self.hub.site.water_heater_w if heating else 0.0}

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the target (and, when given, the operation mode)."""
        if (mode := kwargs.get("operation_mode")) is not None:
            await self.async_set_operation_mode(mode)
        if (target := kwargs.get(ATTR_TEMPERATURE)) is not None:
            self.hub.async_command(lambda home: home.set_water_target(float(target)))

    async def async_set_operation_mode(self, operation_mode: str) -> None:
        """`electric` enables the heater, `off` disables it."""
        on = operation_mode != STATE_OFF
        self.hub.async_command(lambda home: home.set_appliance("water_heater", on))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable the heater."""
        await self.async_set_operation_mode(STATE_ELECTRIC)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Disable the heater."""
        await self.async_set_operation_mode(STATE_OFF)
