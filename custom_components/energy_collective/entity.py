"""The base entities of Energy Collective."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .collective import EnergyCollectiveConfigEntry
from .const import DOMAIN, NAME

if TYPE_CHECKING:
    from .agents.devices import DeviceConfig, DeviceRuntime
    from .agents.planner import PlannerCoordinator

ROLE_PLANNER = "planner"


def agent_device_info(entry: EnergyCollectiveConfigEntry, role: str) -> DeviceInfo:
    """The service device of one agent role of a home ("<home> data collection", ...)."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_{role}")},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=NAME,
        model=role,
        translation_key=role,
        translation_placeholders={"home": entry.title},
    )


# Home Assistant 2026.8 links a device to its parent by the parent's device id
# (`via_device_id`) and deprecates the identifier form (`via_device`, gone in 2027.8); older
# releases accept only the identifier form.
VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__optional_keys__


def managed_device_info(entry: EnergyCollectiveConfigEntry, cfg: DeviceConfig) -> DeviceInfo:
    """The device of one device subentry (a battery, an EV charger, an appliance, ...).

    It hangs below the home's planner device, which setup registers before the platforms.
    """
    info = DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_{cfg.subentry_id}")},
        name=cfg.name,
        manufacturer=NAME,
        model=cfg.kind,
    )
    planner_device_id = entry.runtime_data.planner_device_id
    if VIA_DEVICE_ID and planner_device_id is not None:
        info["via_device_id"] = planner_device_id  # type: ignore[typeddict-unknown-key,unused-ignore]
    else:
        info["via_device"] = (DOMAIN, f"{entry.entry_id}_{ROLE_PLANNER}")  # type: ignore[typeddict-unknown-key,unused-ignore]
    return info


class EnergyCollectiveEntity[CoordinatorT: DataUpdateCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """An entity owned by one agent of a home."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CoordinatorT,
        entry: EnergyCollectiveConfigEntry,
        role: str,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its agent's device; its unique id is stable per home."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{role}_{description.key}"
        self._attr_device_info = agent_device_info(entry, role)


class ManagedDeviceEntity(CoordinatorEntity["PlannerCoordinator"]):
    """An entity of one device subentry, fed by the planner."""

    _attr_has_entity_name = True

    def __init__(
        self,
        planner: PlannerCoordinator,
        entry: EnergyCollectiveConfigEntry,
        cfg: DeviceConfig,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to the subentry's device."""
        super().__init__(planner)
        self.entity_description = description
        self.cfg = cfg
        self.subentry_id = cfg.subentry_id
        self._attr_unique_id = f"{entry.entry_id}_{cfg.subentry_id}_{description.key}"
        self._attr_device_info = managed_device_info(entry, cfg)

    @property
    def runtime(self) -> DeviceRuntime:
        """The planner's runtime of this device."""
        return self.coordinator.runtime[self.subentry_id]
