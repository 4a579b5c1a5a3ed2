"""Energy Collective: a collective of agents that runs a home's energy."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .agents.collector import CollectorCoordinator
from .collective import Collective, EnergyCollectiveConfigEntry

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> bool:
    """Start the agents of a home."""
    collector = CollectorCoordinator(hass, entry)
    await collector.async_config_entry_first_refresh()
    collective = Collective(collector=collector)
    entry.runtime_data = collective
    entry.async_on_unload(collector.async_start())
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> bool:
    """Stop the agents of a home."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
