"""The collective of one home: its agents and how their outputs are wired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE

from .agents.collector import CollectorCoordinator
from .agents.forecaster import ForecasterCoordinator

if TYPE_CHECKING:
    from .agents.dispatcher import Dispatcher
    from .agents.planner import PlannerCoordinator


@dataclass
class Collective:
    """The runtime data of a home entry."""

    collector: CollectorCoordinator
    forecaster: ForecasterCoordinator
    planner: PlannerCoordinator
    dispatcher: Dispatcher
    unsubscribe: list[CALLBACK_TYPE] = field(default_factory=list)


type EnergyCollectiveConfigEntry = ConfigEntry[Collective]
