"""Energy Collective: a collective of agents that runs a home's energy."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .agents.collector import CollectorCoordinator
from .agents.forecaster import ForecasterCoordinator
from .collective import Collective, EnergyCollectiveConfigEntry

PLATFORMS: list[Platform] = [Platform.SENSOR]


def _subentries(entry: ConfigEntry) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        subentry_id: (subentry.subentry_type, subentry.title, dict(subentry.data))
        for subentry_id, subentry in entry.subentries.items()
    }


async def async_setup_entry(hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> bool:
    """Start the agents of a home."""
    collector = CollectorCoordinator(hass, entry)
    await collector.async_config_entry_first_refresh()
    forecaster = ForecasterCoordinator(hass, entry, collector)
    await forecaster.async_config_entry_first_refresh()
    entry.runtime_data = Collective(collector=collector, forecaster=forecaster)
    entry.async_on_unload(collector.async_start())
    entry.async_on_unload(forecaster.async_start())

    # Generators (subentries) are configuration: a home reloads when one is added, changed
    # or removed. Update listeners cannot serve here (the options flow reloads by itself).
    configured = _subentries(entry)

    @callback
    def _changed(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        if (
            change is ConfigEntryChange.UPDATED
            and changed.entry_id == entry.entry_id
            and _subentries(changed) != configured
        ):
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _changed))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> bool:
    """Stop the agents of a home."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
