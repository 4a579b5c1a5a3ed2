"""Binary sensors of Energy Collective: whether a device should run now."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agents.budget import PowerBudget
from .agents.grid import GridAgent
from .collective import EnergyCollectiveConfigEntry
from .const import SUBENTRY_APPLIANCE, SUBENTRY_EV, SUBENTRY_INTERRUPTIBLE, SUBENTRY_THERMAL
from .entity import (
    ROLE_PLANNER,
    EnergyCollectiveEntity,
    ManagedDeviceEntity,
    agent_device_info,
)

PARALLEL_UPDATES = 0
SHOULD_RUN = BinarySensorEntityDescription(key="should_run", translation_key="should_run")
RUNNING_KINDS = (SUBENTRY_APPLIANCE, SUBENTRY_EV, SUBENTRY_INTERRUPTIBLE, SUBENTRY_THERMAL)
PEAK_NOW = BinarySensorEntityDescription(key="peak_now", translation_key="peak_now")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a "should run now" sensor per switched device, for users' own automations."""
    planner = entry.runtime_data.planner
    if (budget := entry.runtime_data.budget) is not None:
        async_add_entities([GridMeterOkSensor(budget, entry)])
    if (grid := entry.runtime_data.grid) is not None:
        async_add_entities([PeakNowSensor(grid, entry, "grid", PEAK_NOW)])
    for cfg in planner.configs.values():
        if cfg.kind in RUNNING_KINDS:
            async_add_entities(
                [ShouldRunSensor(planner, entry, cfg, SHOULD_RUN)],
                config_subentry_id=cfg.subentry_id,
            )


class ShouldRunSensor(ManagedDeviceEntity, BinarySensorEntity):
    """On while the plan has the device consume power."""

    @property
    def is_on(self) -> bool | None:
        """Whether the current step of the plan runs the device."""
        found = self.coordinator.data.device_plan_index(self.subentry_id, dt_util.utcnow())
        if found is None:
            return False if self.coordinator.data.plan is not None else None
        plan, index = found
        return bool(plan.power_w[index] > 1.0)


class GridMeterOkSensor(BinarySensorEntity):
    """On while the grid meter gives a fresh, plausible reading that commands may rely on.

    Off: nothing that raises consumption is switched on, and a repair issue says why.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "grid_meter_ok"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, budget: PowerBudget, entry: EnergyCollectiveConfigEntry) -> None:
        """Attach the sensor to the planner's device; it follows every budget reaction."""
        self.budget = budget
        self._attr_unique_id = f"{entry.entry_id}_{ROLE_PLANNER}_grid_meter_ok"
        self._attr_device_info = agent_device_info(entry, ROLE_PLANNER)

    async def async_added_to_hass(self) -> None:
        """Write the state after every reaction of the budget."""
        await super().async_added_to_hass()
        self.async_on_remove(self.budget.async_add_listener(self.async_write_ha_state))

    @property
    def is_on(self) -> bool | None:
        """Whether the last reading could be trusted (None before the first one)."""
        return self.budget.meter_ok

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why not, and how old the last report was."""
        reading = self.budget.meter_reading
        return {
            "status": None if reading is None else reading.status,
            "age_s": None if reading is None or reading.age_s is None else round(reading.age_s),
        }


class PeakNowSensor(EnergyCollectiveEntity[GridAgent], BinarySensorEntity):
    """On while the import price is in the upper quarter of the prices ahead."""

    @property
    def is_on(self) -> bool | None:
        """Whether now is a peak-price period (None while no price is known)."""
        return self.coordinator.data.peak_now
