"""The one base entity of Energy Collective."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .collective import EnergyCollectiveConfigEntry
from .const import DOMAIN, NAME


def agent_device_info(entry: EnergyCollectiveConfigEntry, role: str) -> DeviceInfo:
    """The service device of one agent role of a home ("<home> data collection", ...)."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_{role}")},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=NAME,
        model=role,
        translation_key=role,
        translation_placeholders={"home": entry.title},
    )


class EnergyCollectiveEntity[CoordinatorT: DataUpdateCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """An entity owned by one agent of a home."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CoordinatorT,
        entry: EnergyCollectiveConfigEntry,
        role: str,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its agent's device; its unique id is stable per home."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{role}_{description.key}"
        self._attr_device_info = agent_device_info(entry, role)
