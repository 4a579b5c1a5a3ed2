"""The base entity of the simulated home: fixed entity ids, pushed updates."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity

from . import SimulatedHomeHub


class SimEntity(Entity):
    """An entity that reads the simulated home and is refreshed by the hub.

    Entity ids are fixed (`<platform>.sim_<key>`) so that the development configuration and
    tests can rely on them.
    """

    _attr_should_poll = False
    _attr_has_entity_name = False

    def __init__(self, hub: SimulatedHomeHub, platform: str, key: str, name: str) -> None:
        """Name the entity and give it its fixed id."""
        self.hub = hub
        self.key = key
        self.entity_id = f"{platform}.sim_{key}"
        self._attr_unique_id = f"simulated_home_{key}"
        self._attr_name = name

    async def async_added_to_hass(self) -> None:
        """Follow the hub's ticks."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_listener(self._handle_hub_update))

    @callback
    def _handle_hub_update(self) -> None:
        self.async_write_ha_state()
