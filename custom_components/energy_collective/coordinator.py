"""The common base of the agents' coordinators.

Each agent role of a home (data collection, forecasting, planning, grid, market) is one
`DataUpdateCoordinator` in its own module under `agents/`; they share this base, which types
their config entry as a home's (`entry.runtime_data` is the home's `Collective`). The power
budget and the dispatcher are not coordinators: they react to events and to the plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

if TYPE_CHECKING:
    from .collective import EnergyCollectiveConfigEntry


class AgentCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """The coordinator of one agent role of a home."""

    config_entry: EnergyCollectiveConfigEntry
