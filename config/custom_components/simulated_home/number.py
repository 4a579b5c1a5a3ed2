"""Number entities of the simulated home: battery setpoint, charging current, extra load."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import Platform, UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import EXTRA_LOAD_MAX_W


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the battery setpoint, the charging current and the extra load."""
    if discovery_info is None:
        return
    hub = hass.data[DATA_HUB]
    async_add_entities([BatteryPowerNumber(hub), EvCurrentNumber(hub), ExtraLoadNumber(hub)])


class BatteryPowerNumber(SimEntity, NumberEntity):
    """Commanded battery power, W (+ charge / - discharge); setting it selects manual mode."""

    _attr_device_class = NumberDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.WATT
    _attr_native_step = 100.0
    _attr_mode = NumberMode.BOX

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the setpoint with the battery's limits."""
        super().__init__(hub, Platform.NUMBER, "battery_power", "Sim battery power setpoint")
        self._attr_native_min_value = -hub.site.battery_max_discharge_w
        self._attr_native_max_value = hub.site.battery_max_charge_w

    @property
    def native_value(self) -> float:
        """The commanded power."""
        return self.hub.home.state.battery_command_w

    async def async_set_native_value(self, value: float) -> None:
        """Command the battery."""
        self.hub.async_command(lambda home: home.set_battery_power(value))


class EvCurrentNumber(SimEntity, NumberEntity):
    """Charging current per phase, A."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_step = 1.0
    _attr_mode = NumberMode.SLIDER

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the current setting with the charger's range."""
        super().__init__(hub, Platform.NUMBER, "ev_current", "Sim EV charging current")
        self._attr_native_min_value = hub.site.ev_min_current
        self._attr_native_max_value = hub.site.ev_max_current

    @property
    def native_value(self) -> float:
        """The current setting."""
        return self.hub.home.state.ev_current_a

    async def async_set_native_value(self, value: float) -> None:
        """Change the current."""
        self.hub.async_command(lambda home: home.set_ev_current(value))


class ExtraLoadNumber(SimEntity, NumberEntity):
    """A load switched on by hand on top of the household's, W: the knob for load spikes."""

    _attr_device_class = NumberDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.WATT
    _attr_native_min_value = 0.0
    _attr_native_max_value = EXTRA_LOAD_MAX_W
    _attr_native_step = 100.0
    _attr_mode = NumberMode.BOX
    _attr_icon = "mdi:stove"

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the knob."""
        super().__init__(hub, Platform.NUMBER, "extra_load", "Sim extra load")

    @property
    def native_value(self) -> float:
        """The extra load now."""
        return self.hub.home.state.extra_load_w

    async def async_set_native_value(self, value: float) -> None:
        """Switch the extra load to `value` W (it shows in the house load and the grid)."""
        self.hub.async_command(lambda home: home.set_extra_load(value))
