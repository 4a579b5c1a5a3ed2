"""Button of Energy Collective: re-plan now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agents.planner import PlannerCoordinator
from .collective import EnergyCollectiveConfigEntry
from .entity import ROLE_PLANNER, EnergyCollectiveEntity

PARALLEL_UPDATES = 1
REPLAN = ButtonEntityDescription(key="replan", translation_key="replan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the re-plan button."""
    async_add_entities([ReplanButton(entry.runtime_data.planner, entry, ROLE_PLANNER, REPLAN)])


class ReplanButton(EnergyCollectiveEntity[PlannerCoordinator], ButtonEntity):
    """Solve again at once."""

    async def async_press(self) -> None:
        """Re-plan now."""
        await self.coordinator.async_refresh()
