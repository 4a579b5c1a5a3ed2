"""Switches of the simulated home: the appliances and the car charger."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import APPLIANCES

_ICONS = {
    "dishwasher": "mdi:dishwasher",
    "washing_machine": "mdi:washing-machine",
    "pool_pump": "mdi:pump",
    "water_heater": "mdi:water-boiler",
}


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add one switch per appliance and the charger's switch."""
    if discovery_info is None:
        return
    hub = hass.data[DATA_HUB]
    entities: list[SwitchEntity] = [ApplianceSwitch(hub, name) for name in APPLIANCES]
    entities.append(EvChargingSwitch(hub))
    async_add_entities(entities)


class ApplianceSwitch(SimEntity, SwitchEntity):
    """An appliance: the dishwasher and washing machine run a programme and switch off."""

    _attr_device_class = SwitchDeviceClass.SWITCH

    def __init__(self, hub: SimulatedHomeHub, appliance: str) -> None:
        """Create the switch of `appliance`."""
        label = appliance.replace("_", " ")
        super().__init__(hub, Platform.SWITCH, appliance, f"Sim {label}")
        self.appliance = appliance
        self._attr_icon = _ICONS[appliance]

    @property
    def is_on(self) -> bool:
        """True while the programme runs (or the pump/heater is switched on)."""
        return self.hub.home.appliance_on(self.appliance)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the programme or switch on."""
        self.hub.async_command(lambda home: home.set_appliance(self.appliance, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Abort the programme or switch off."""
        self.hub.async_command(lambda home: home.set_appliance(self.appliance, False))


class EvChargingSwitch(SimEntity, SwitchEntity):
    """Allows the charger to charge the car (it does while the car is plugged in)."""

    _attr_icon = "mdi:ev-station"

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the switch."""
        super().__init__(hub, Platform.SWITCH, "ev_charging", "Sim EV charging")

    @property
    def is_on(self) -> bool:
        """True when charging is allowed."""
        return self.hub.home.state.ev_charging

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow charging."""
        self.hub.async_command(lambda home: home.set_ev_charging(True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        self.hub.async_command(lambda home: home.set_ev_charging(False))
