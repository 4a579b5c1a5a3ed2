"""Date/time entities of Energy Collective: EV departure and appliance finish-by."""

from __future__ import annotations

from datetime import datetime, time

from homeassistant.components.datetime import DateTimeEntity, DateTimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agents.devices import next_time_of_day
from .collective import EnergyCollectiveConfigEntry
from .const import CONF_DEPARTURE, DOMAIN, SUBENTRY_APPLIANCE, SUBENTRY_EV
from .entity import ManagedDeviceEntity

PARALLEL_UPDATES = 0
DEPARTURE = DateTimeEntityDescription(key="departure", translation_key="departure")
FINISH_BY = DateTimeEntityDescription(key="finish_by", translation_key="finish_by")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a departure per EV and a finish-by per appliance."""
    planner = entry.runtime_data.planner
    for cfg in planner.configs.values():
        if cfg.kind == SUBENTRY_EV:
            entity = DeviceDateTime(planner, entry, cfg, DEPARTURE)
        elif cfg.kind == SUBENTRY_APPLIANCE:
            entity = DeviceDateTime(planner, entry, cfg, FINISH_BY)
        else:
            continue
        async_add_entities([entity], config_subentry_id=cfg.subentry_id)


class DeviceDateTime(ManagedDeviceEntity, DateTimeEntity):
    """When the EV leaves, or when the requested cycle must be done."""

    @property
    def native_value(self) -> datetime | None:
        """The next departure (the configured time by default), or the cycle's deadline."""
        rt = self.runtime
        now = dt_util.utcnow()
        if self.entity_description.key == DEPARTURE.key:
            if rt.departure is not None and rt.departure > now:
                return rt.departure
            return next_time_of_day(now, self.cfg.data.get(CONF_DEPARTURE), time(7))
        return rt.finish_by

    async def async_set_value(self, value: datetime) -> None:
        """Set the departure, or request a cycle finished by `value`; then re-plan."""
        if self.entity_description.key == DEPARTURE.key:
            self.runtime.departure = value
            self.coordinator.async_save()
        else:
            if value <= dt_util.utcnow():
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="finish_in_past",
                    translation_placeholders={"device": self.cfg.name},
                )
            self.coordinator.request_run(self.subentry_id, value, None)
        await self.coordinator.async_refresh()
