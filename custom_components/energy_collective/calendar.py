"""Calendar of Energy Collective: the planned runs and charging sessions."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agents.planner import PlannerCoordinator
from .collective import EnergyCollectiveConfigEntry
from .engine.model import step_time
from .entity import ROLE_PLANNER, EnergyCollectiveEntity

PARALLEL_UPDATES = 0
PLAN_CALENDAR = CalendarEntityDescription(key="plan", translation_key="plan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the plan calendar."""
    async_add_entities(
        [PlanCalendar(entry.runtime_data.planner, entry, ROLE_PLANNER, PLAN_CALENDAR)]
    )


def plan_events(planner: PlannerCoordinator) -> list[CalendarEvent]:
    """One event per block of consecutive running steps of every switched device."""
    plan = planner.data.plan
    if plan is None:
        return []
    times = [*plan.times(), step_time(plan.start, plan.step, plan.n_steps)]
    events: list[CalendarEvent] = []
    for dp in plan.devices:
        if dp.kind == "battery":
            continue
        first: int | None = None
        for step, power in enumerate([*dp.power_w, 0.0]):
            if power > 1.0 and first is None:
                first = step
            elif power <= 1.0 and first is not None:
                energy = sum(dp.power_w[first:step]) * plan.step.total_seconds() / 3.6e6
                events.append(
                    CalendarEvent(
                        start=dt_util.as_local(times[first]),
                        end=dt_util.as_local(times[step]),
                        summary=dp.name,
                        description=f"{energy:.2f} kWh",
                        uid=f"{dp.name}_{times[first].isoformat()}",
                    )
                )
                first = None
    return sorted(events, key=lambda e: e.start)


class PlanCalendar(EnergyCollectiveEntity[PlannerCoordinator], CalendarEntity):
    """Planned appliance runs, EV charging, pump runs and heating."""

    @property
    def event(self) -> CalendarEvent | None:
        """The current or next planned run."""
        now = dt_util.now()
        upcoming = [e for e in plan_events(self.coordinator) if e.end_datetime_local > now]
        return upcoming[0] if upcoming else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Planned runs between two moments."""
        return [
            e
            for e in plan_events(self.coordinator)
            if e.end_datetime_local > start_date and e.start_datetime_local < end_date
        ]
