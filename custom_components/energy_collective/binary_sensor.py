"""Binary sensors of Energy Collective: whether a device should run now."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agents.grid import GridAgent
from .collective import EnergyCollectiveConfigEntry
from .const import SUBENTRY_APPLIANCE, SUBENTRY_EV, SUBENTRY_INTERRUPTIBLE, SUBENTRY_THERMAL
from .entity import EnergyCollectiveEntity, ManagedDeviceEntity

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


class PeakNowSensor(EnergyCollectiveEntity[GridAgent], BinarySensorEntity):
    """On while the import price is in the upper quarter of the prices ahead."""

    @property
    def is_on(self) -> bool | None:
        """Whether now is a peak-price period (None while no price is known)."""
        return self.coordinator.data.peak_now
