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
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .agents.budget import PowerBudget
from .agents.collector import CollectorCoordinator
from .agents.dispatcher import Dispatcher
from .agents.forecaster import ForecasterCoordinator
from .agents.grid import GridAgent
from .agents.planner import PlannerCoordinator
from .collective import Collective, EnergyCollectiveConfigEntry
from .const import (
    AGENT_STORES,
    CONF_KEEP_STATE_ON_UNLOAD,
    CONF_MARKET_ENABLED,
    DOMAIN,
    ISSUE_COMMAND_FAILED,
    store_key,
)
from .entity import ROLE_PLANNER, agent_device_info
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.DATETIME,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions of Energy Collective."""
    async_setup_services(hass)
    return True


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
    planner = PlannerCoordinator(hass, entry, collector, forecaster)
    grid = GridAgent(hass, entry, collector, planner)
    await grid.async_load()  # before the first plan, so that it carries the grid's signals
    market = None
    if entry.options.get(CONF_MARKET_ENABLED):
        # MQTT is needed only for trading: imported and waited for only then
        from .agents.market import MarketAgent

        market = MarketAgent(hass, entry, collector, planner)
        await market.async_load()  # before the first plan, so that it carries the trades
    await planner.async_config_entry_first_refresh()
    dispatcher = Dispatcher(hass, planner)
    entry.runtime_data = Collective(
        collector=collector, forecaster=forecaster, planner=planner, dispatcher=dispatcher
    )
    entry.async_on_unload(collector.async_start())
    entry.async_on_unload(forecaster.async_start())
    entry.async_on_unload(planner.async_start())
    entry.async_on_unload(dispatcher.async_start())
    budget = PowerBudget(hass, entry, dispatcher)
    await budget.async_load()
    entry.runtime_data.budget = budget
    entry.async_on_unload(budget.async_start())
    entry.runtime_data.grid = grid
    entry.async_on_unload(grid.async_start())
    if market is not None:
        entry.runtime_data.market = market
        entry.async_on_unload(market.async_start())

    # Generators and devices (subentries) are configuration: a home reloads when one is
    # added, changed or removed. Update listeners cannot serve here (the options flow
    # reloads by itself).
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
    # a device that is gone takes its "does not follow the plan" repair with it
    devices = {sid for home in hass.config_entries.async_entries(DOMAIN) for sid in home.subentries}
    for domain, name in list(ir.async_get(hass).issues):
        if (
            domain == DOMAIN
            and name.startswith(ISSUE_COMMAND_FAILED)
            and name.removeprefix(ISSUE_COMMAND_FAILED) not in devices
        ):
            ir.async_delete_issue(hass, DOMAIN, name)
    if market is None:
        # trading switched off: the market's device and its entities go (a stale device)
        registry = dr.async_get(hass)
        market_id = (DOMAIN, f"{entry.entry_id}_market")
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if market_id in device.identifiers:
                registry.async_remove_device(device.id)
    # the planner's device first: every device subentry's device hangs below it
    entry.runtime_data.planner_device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id, **agent_device_info(entry, ROLE_PLANNER)
        )
        .id
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    @callback
    def _first_dispatch(_hass: HomeAssistant) -> None:
        entry.async_create_task(hass, dispatcher.async_dispatch(), f"{DOMAIN} dispatch")

    # a saved plan is carried out once Home Assistant has started, when the devices'
    # entities exist, not while their integrations are still loading
    entry.async_on_unload(async_at_started(hass, _first_dispatch))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyCollectiveConfigEntry) -> bool:
    """Stop the agents of a home, handing its devices back at rest (docs/shedding.md)."""
    collective: Collective | None = getattr(entry, "runtime_data", None)
    if collective is None:
        return True  # nothing of this home was started
    await collective.dispatcher.async_release(
        keep=bool(entry.options.get(CONF_KEEP_STATE_ON_UNLOAD, False))
    )
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.planner.async_shutdown()
        if entry.runtime_data.grid is not None:
            await entry.runtime_data.grid.async_shutdown()
        if entry.runtime_data.market is not None:
            await entry.runtime_data.market.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Forget what the agents of a removed home kept: plans, models, keys, totals."""
    for agent in AGENT_STORES:
        await Store[Any](hass, 1, store_key(entry.entry_id, agent)).async_remove()
