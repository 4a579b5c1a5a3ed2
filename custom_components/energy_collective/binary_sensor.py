"""Binary sensors of Energy Collective: whether a device should run now."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .collective import EnergyCollectiveConfigEntry
from .const import SUBENTRY_APPLIANCE, SUBENTRY_EV, SUBENTRY_INTERRUPTIBLE, SUBENTRY_THERMAL
from .entity import ManagedDeviceEntity

PARALLEL_UPDATES = 0
SHOULD_RUN = BinarySensorEntityDescription(key="should_run", translation_key="should_run")
RUNNING_KINDS = (SUBENTRY_APPLIANCE, SUBENTRY_EV, SUBENTRY_INTERRUPTIBLE, SUBENTRY_THERMAL)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a "should run now" sensor per switched device, for users' own automations."""
    planner = entry.runtime_data.planner
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
