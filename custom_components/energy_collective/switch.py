"""Switches of Energy Collective: automatic control of the home and of each device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agents.grid import GridAgent
from .agents.planner import PlannerCoordinator
from .collective import EnergyCollectiveConfigEntry
from .entity import ROLE_PLANNER, EnergyCollectiveEntity, ManagedDeviceEntity

if TYPE_CHECKING:
    from .agents.market import MarketAgent

PARALLEL_UPDATES = 0
AUTOMATIC = SwitchEntityDescription(key="automatic_control", translation_key="automatic_control")
MANAGED = SwitchEntityDescription(
    key="managed", translation_key="managed", entity_category=EntityCategory.CONFIG
)
PARTICIPATION = SwitchEntityDescription(
    key="demand_response_participation", translation_key="demand_response_participation"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the master switch and one "managed" switch per device."""
    planner = entry.runtime_data.planner
    async_add_entities([AutomaticControlSwitch(planner, entry, ROLE_PLANNER, AUTOMATIC)])
    if (grid := entry.runtime_data.grid) is not None:
        async_add_entities([ParticipationSwitch(grid, entry, "grid", PARTICIPATION)])
    if (market := entry.runtime_data.market) is not None:
        async_add_entities([ParticipationSwitch(market, entry, "market", MARKET_PARTICIPATION)])
    for cfg in planner.configs.values():
        async_add_entities(
            [ManagedSwitch(planner, entry, cfg, MANAGED)], config_subentry_id=cfg.subentry_id
        )


class AutomaticControlSwitch(EnergyCollectiveEntity[PlannerCoordinator], SwitchEntity):
    """Off: advisory mode, the plan is published but nothing is commanded."""

    @property
    def is_on(self) -> bool:
        """Whether the home commands its devices."""
        return self.coordinator.automatic

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Command the devices from the plan."""
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Publish only."""
        await self._set(False)

    async def _set(self, on: bool) -> None:
        self.coordinator.automatic = on
        self.coordinator.async_save()
        self.coordinator.async_update_listeners()


class ManagedSwitch(ManagedDeviceEntity, SwitchEntity):
    """Off: the device is planned but never commanded."""

    @property
    def is_on(self) -> bool:
        """Whether the dispatcher may command this device."""
        return self.runtime.managed

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let the dispatcher command the device."""
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Leave the device alone."""
        await self._set(False)

    async def _set(self, on: bool) -> None:
        self.runtime.managed = on
        self.coordinator.async_save()
        self.coordinator.async_update_listeners()


class ParticipationSwitch(EnergyCollectiveEntity[Any], SwitchEntity):
    """Off: the home stays out of what its agent does.

    Demand response: the home opts out of the current and upcoming events (it re-plans).
    Market: open orders are withdrawn and no new ones placed (trades already made stand).
    """

    coordinator: GridAgent | MarketAgent

    @property
    def is_on(self) -> bool:
        """Whether the home takes part."""
        return self.coordinator.participating

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Take part again."""
        await self.coordinator.async_set_participating(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stay out."""
        await self.coordinator.async_set_participating(False)


MARKET_PARTICIPATION = SwitchEntityDescription(
    key="market_participation", translation_key="market_participation"
)
