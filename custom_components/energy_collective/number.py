"""Numbers of Energy Collective: grid import limit, battery reserve, EV target."""

from __future__ import annotations

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .agents.devices import battery_reserve_pct
from .agents.planner import PlannerCoordinator
from .collective import EnergyCollectiveConfigEntry
from .const import (
    CONF_TARGET_SOC,
    MAX_GRID_LIMIT_W,
    MIN_GRID_LIMIT_W,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
)
from .entity import ROLE_PLANNER, EnergyCollectiveEntity, ManagedDeviceEntity

PARALLEL_UPDATES = 0
GRID_LIMIT = NumberEntityDescription(
    key="grid_import_limit",
    translation_key="grid_import_limit",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.WATT,
    native_min_value=MIN_GRID_LIMIT_W,
    native_max_value=MAX_GRID_LIMIT_W,
    native_step=100,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)
RESERVE = NumberEntityDescription(
    key="battery_reserve",
    translation_key="battery_reserve",
    native_unit_of_measurement=PERCENTAGE,
    native_min_value=0,
    native_max_value=100,
    native_step=1,
    mode=NumberMode.SLIDER,
    entity_category=EntityCategory.CONFIG,
)
TARGET = NumberEntityDescription(
    key="ev_target_soc",
    translation_key="ev_target_soc",
    native_unit_of_measurement=PERCENTAGE,
    native_min_value=0,
    native_max_value=100,
    native_step=1,
    mode=NumberMode.SLIDER,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the grid limit, and a reserve per battery and a target per EV."""
    planner = entry.runtime_data.planner
    async_add_entities([GridLimitNumber(planner, entry, ROLE_PLANNER, GRID_LIMIT)])
    for cfg in planner.configs.values():
        if cfg.kind == SUBENTRY_BATTERY:
            entity: NumberEntity = DeviceNumber(planner, entry, cfg, RESERVE)
        elif cfg.kind == SUBENTRY_EV:
            entity = DeviceNumber(planner, entry, cfg, TARGET)
        else:
            continue
        async_add_entities([entity], config_subentry_id=cfg.subentry_id)


class GridLimitNumber(EnergyCollectiveEntity[PlannerCoordinator], NumberEntity):
    """The import limit the plan keeps to: at most the home's main fuse option."""

    @property
    def native_max_value(self) -> float:
        """The main fuse: a planning limit above it would only hide the fuse."""
        return self.coordinator.default_grid_limit_w

    @property
    def native_value(self) -> float:
        """The limit in W (the fuse while no lower one is set)."""
        return self.coordinator.import_limit_w

    async def async_set_native_value(self, value: float) -> None:
        """Change the limit and re-plan."""
        self.coordinator.grid_limit_w = value
        self.coordinator.async_save()
        await self.coordinator.async_refresh()


class DeviceNumber(ManagedDeviceEntity, NumberEntity):
    """A battery's reserve or an EV's target state of charge."""

    @property
    def native_value(self) -> float:
        """The user's value, or the configured default."""
        rt = self.runtime
        if self.entity_description.key == RESERVE.key:
            return battery_reserve_pct(self.cfg, rt)
        if rt.target_soc_pct is not None:
            return rt.target_soc_pct
        return self.cfg.num(CONF_TARGET_SOC, 80)

    async def async_set_native_value(self, value: float) -> None:
        """Change the value and re-plan."""
        if self.entity_description.key == RESERVE.key:
            self.runtime.reserve_pct = value
        else:
            self.runtime.target_soc_pct = value
        self.coordinator.async_save()
        await self.coordinator.async_refresh()
