"""The collective of one home: its agents and how their outputs are wired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE

from .agents.collector import CollectorCoordinator
from .agents.forecaster import ForecasterCoordinator

if TYPE_CHECKING:
    from .agents.budget import PowerBudget
    from .agents.dispatcher import Dispatcher
    from .agents.grid import GridAgent
    from .agents.market import MarketAgent
    from .agents.planner import PlannerCoordinator


@dataclass
class Collective:
    """The runtime data of a home entry."""

    collector: CollectorCoordinator
    forecaster: ForecasterCoordinator
    planner: PlannerCoordinator
    dispatcher: Dispatcher
    grid: GridAgent | None = None
    """Tariffs, peaks, carbon and demand response (agents/grid.py)."""
    budget: PowerBudget | None = None
    """Real-time shedding under the import limit (agents/budget.py)."""
    market: MarketAgent | None = None
    """Neighbourhood trading over MQTT (agents/market.py); None while trading is off."""
    unsubscribe: list[CALLBACK_TYPE] = field(default_factory=list)
    planner_device_id: str | None = None
    """The device registry id of the planner's device, the parent of every managed device."""


type EnergyCollectiveConfigEntry = ConfigEntry[Collective]
