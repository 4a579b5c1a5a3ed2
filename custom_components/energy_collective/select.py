"""Select of Energy Collective: the planning mode of the home."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agents.planner import PlannerCoordinator
from .collective import EnergyCollectiveConfigEntry
from .const import MODES
from .entity import ROLE_PLANNER, EnergyCollectiveEntity

PARALLEL_UPDATES = 0
MODE = SelectEntityDescription(key="mode", translation_key="mode", options=list(MODES))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the mode select."""
    async_add_entities([ModeSelect(entry.runtime_data.planner, entry, ROLE_PLANNER, MODE)])


class ModeSelect(EnergyCollectiveEntity[PlannerCoordinator], SelectEntity):
    """auto (cheapest), eco (also low carbon), comfort, away, or manual (advisory only)."""

    @property
    def current_option(self) -> str:
        """The planning mode."""
        return self.coordinator.mode

    async def async_select_option(self, option: str) -> None:
        """Change the mode and re-plan."""
        self.coordinator.mode = option
        self.coordinator.async_save()
        await self.coordinator.async_refresh()
