"""Sensors of Energy Collective."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfMass,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agents.budget import PowerBudget
from .agents.collector import CollectorCoordinator
from .agents.forecaster import ForecastAccuracy, ForecasterCoordinator, ForecastSnapshot
from .agents.grid import GridAgent, GridState
from .agents.planner import PlannerCoordinator, PlanResult, plan_index
from .collective import EnergyCollectiveConfigEntry
from .const import (
    CHEAPEST_WINDOW,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)
from .engine.forecast import ForecastResult
from .engine.model import DevicePlan, HomeSnapshot, Plan
from .engine.windows import Window, extreme_window
from .entity import (
    ROLE_PLANNER,
    EnergyCollectiveEntity,
    ManagedDeviceEntity,
    agent_device_info,
)

if TYPE_CHECKING:
    from .agents.market import MarketAgent

PARALLEL_UPDATES = 0
ROLE_COLLECTOR = "collector"
ROLE_FORECASTER = "forecaster"
LOAD_MODELS = ["typical", "profile", "gbm"]


@dataclass(frozen=True, kw_only=True)
class CollectorSensorDescription(SensorEntityDescription):
    """How a collector sensor gets its value (and attributes) from the snapshot."""

    value: Callable[[HomeSnapshot], float | datetime | None]
    attributes: Callable[[HomeSnapshot], Mapping[str, Any]] | None = None
    price: bool = False


def _cheapest_start(snapshot: HomeSnapshot) -> datetime | None:
    if snapshot.import_prices is None:
        return None
    window = extreme_window(snapshot.import_prices, CHEAPEST_WINDOW, snapshot.time)
    return window.start if window else None


def _cheapest_attributes(snapshot: HomeSnapshot) -> Mapping[str, Any]:
    if snapshot.import_prices is None:
        return {}
    window = extreme_window(snapshot.import_prices, CHEAPEST_WINDOW, snapshot.time)
    if window is None:
        return {}
    return {"end": window.end.isoformat(), "average_price": round(window.average, 5)}


def _quality_attributes(snapshot: HomeSnapshot) -> Mapping[str, Any]:
    return {"stale_sources": list(snapshot.stale_sources)}


COLLECTOR_SENSORS: tuple[CollectorSensorDescription, ...] = (
    CollectorSensorDescription(
        key="house_load",
        translation_key="house_load",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: s.load_power_w,
    ),
    CollectorSensorDescription(
        key="import_price",
        translation_key="import_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value=lambda s: s.import_price,
        price=True,
    ),
    CollectorSensorDescription(
        key="export_price",
        translation_key="export_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value=lambda s: s.export_price,
        price=True,
    ),
    CollectorSensorDescription(
        key="next_cheapest_window",
        translation_key="next_cheapest_window",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=_cheapest_start,
        attributes=_cheapest_attributes,
    ),
    CollectorSensorDescription(
        key="data_quality",
        translation_key="data_quality",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value=lambda s: round(100.0 * s.data_quality, 1),
        attributes=_quality_attributes,
    ),
)


def _horizon(result: ForecastResult, quantile: str) -> list[dict[str, Any]]:
    values: tuple[float, ...] = getattr(result, quantile)
    return [
        {"time": when.isoformat(), "value": round(value, 1)}
        for when, value in zip(result.times, values, strict=True)
    ]


def _current(result: ForecastResult | None, now: datetime) -> float | None:
    if result is None:
        return None
    index = int((now - result.start) / result.step)
    return round(result.p50[index], 1) if 0 <= index < len(result) else None


def _forecast_attributes(result: ForecastResult | None) -> Mapping[str, Any]:
    if result is None:
        return {}
    return {
        "forecast": _horizon(result, "p50"),
        "forecast_p10": _horizon(result, "p10"),
        "forecast_p90": _horizon(result, "p90"),
        "model": result.model,
        "note": result.note,
    }


def _accuracy_attributes(accuracy: ForecastAccuracy) -> Mapping[str, Any]:
    return {"mae_w": accuracy.mae_w, "samples": accuracy.samples}


@dataclass(frozen=True, kw_only=True)
class ForecasterSensorDescription(SensorEntityDescription):
    """How a forecaster sensor gets its value (and attributes) from the forecast snapshot."""

    value: Callable[[ForecastSnapshot], float | str | None]
    attributes: Callable[[ForecastSnapshot], Mapping[str, Any]]
    exists: Callable[[ForecasterCoordinator], bool] = lambda _: True


FORECASTER_SENSORS: tuple[ForecasterSensorDescription, ...] = (
    ForecasterSensorDescription(
        key="load_forecast",
        translation_key="load_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.load, s.time),
        attributes=lambda s: _forecast_attributes(s.load),
    ),
    ForecasterSensorDescription(
        key="pv_forecast",
        translation_key="pv_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.pv, s.time),
        attributes=lambda s: _forecast_attributes(s.pv),
        exists=lambda c: c.has_pv,
    ),
    ForecasterSensorDescription(
        key="wind_forecast",
        translation_key="wind_forecast",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: _current(s.wind, s.time),
        attributes=lambda s: _forecast_attributes(s.wind),
        exists=lambda c: c.wind is not None,
    ),
    ForecasterSensorDescription(
        key="load_forecast_accuracy",
        translation_key="load_forecast_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value=lambda s: s.load_accuracy.nmae_pct,
        attributes=lambda s: _accuracy_attributes(s.load_accuracy),
    ),
    ForecasterSensorDescription(
        key="pv_forecast_accuracy",
        translation_key="pv_forecast_accuracy",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value=lambda s: s.pv_accuracy.nmae_pct,
        attributes=lambda s: _accuracy_attributes(s.pv_accuracy),
        exists=lambda c: c.has_pv,
    ),
    ForecasterSensorDescription(
        key="load_model",
        translation_key="load_model",
        device_class=SensorDeviceClass.ENUM,
        options=LOAD_MODELS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # which model won: for the curious
        value=lambda s: s.load.model,
        attributes=lambda s: {"note": s.load.note},
    ),
)


def _points(plan: Plan, values: Sequence[float], scale: float = 1.0) -> list[dict[str, Any]]:
    return [
        {"time": when.isoformat(), "value": round(value * scale, 1)}
        for when, value in zip(plan.times(), values, strict=True)
    ]


def _now_value(
    result: PlanResult, values: Sequence[float] | None, scale: float = 1.0
) -> float | None:
    if result.plan is None or values is None:
        return None
    index = plan_index(result.plan, dt_util.utcnow())
    return None if index is None else round(values[index] * scale, 1)


def _status(planner: PlannerCoordinator) -> str:
    result = planner.data
    if result.kept:
        return "kept"
    if result.plan is None:
        return "no_plan"
    return result.plan.status


def _status_attributes(planner: PlannerCoordinator) -> Mapping[str, Any]:
    result = planner.data
    plan = result.plan
    return {
        "explanations": [text.text for text in result.explanations],
        "recommendations": [text.text for text in result.recommendations],
        "error": result.error,
        "computed_at": result.computed_at.isoformat() if result.computed_at else None,
        "solver": plan.solver if plan else None,
        "solve_time_s": round(plan.solve_time_s, 2) if plan else None,
        "shortfalls": [
            {
                "device": s.device,
                "requirement": s.requirement,
                "amount": round(s.amount, 2),
                "unit": s.unit,
            }
            for s in (plan.shortfalls if plan else ())
        ],
        "advisory": not planner.automatic or planner.mode == "manual",
    }


def _grid_attributes(planner: PlannerCoordinator, which: str) -> Mapping[str, Any]:
    plan = planner.data.plan
    return {} if plan is None else {"forecast": _points(plan, getattr(plan, which))}


def _co2(planner: PlannerCoordinator) -> float | None:
    result = planner.data
    if result.plan is None or result.problem is None or result.problem.carbon_intensity is None:
        return None
    return round(result.plan.costs.emissions_kg, 2)


def _baseline(planner: PlannerCoordinator) -> float | None:
    plan = planner.data.plan
    if plan is None or plan.baseline_costs is None:
        return None
    return round(plan.baseline_costs.energy, 2)


def _savings(planner: PlannerCoordinator) -> float | None:
    plan = planner.data.plan
    return None if plan is None or plan.savings is None else round(plan.savings, 2)


@dataclass(frozen=True, kw_only=True)
class PlannerSensorDescription(SensorEntityDescription):
    """How a planner sensor gets its value from the planner."""

    value: Callable[[PlannerCoordinator], float | str | None]
    attributes: Callable[[PlannerCoordinator], Mapping[str, Any]] | None = None
    money: bool = False


PLAN_STATUSES = ["optimal", "feasible", "baseline", "fallback", "kept", "no_plan"]

PLANNER_SENSORS: tuple[PlannerSensorDescription, ...] = (
    PlannerSensorDescription(
        key="plan_status",
        translation_key="plan_status",
        device_class=SensorDeviceClass.ENUM,
        options=PLAN_STATUSES,
        value=_status,
        attributes=_status_attributes,
    ),
    PlannerSensorDescription(
        key="planned_grid_import",
        translation_key="planned_grid_import",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda p: _now_value(p.data, p.data.plan.import_w if p.data.plan else None),
        attributes=lambda p: _grid_attributes(p, "import_w"),
    ),
    PlannerSensorDescription(
        key="planned_grid_export",
        translation_key="planned_grid_export",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda p: _now_value(p.data, p.data.plan.export_w if p.data.plan else None),
        attributes=lambda p: _grid_attributes(p, "export_w"),
    ),
    PlannerSensorDescription(
        key="expected_cost_today",
        translation_key="expected_cost_today",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value=lambda p: p.expected_cost(0),
        money=True,
    ),
    PlannerSensorDescription(
        key="expected_cost_tomorrow",
        translation_key="expected_cost_tomorrow",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value=lambda p: p.expected_cost(1),
        money=True,
    ),
    PlannerSensorDescription(
        key="baseline_cost",
        translation_key="baseline_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value=_baseline,
        money=True,
    ),
    PlannerSensorDescription(
        key="savings",
        translation_key="savings",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value=_savings,
        money=True,
    ),
    PlannerSensorDescription(
        key="planned_co2",
        translation_key="planned_co2",
        device_class=SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfMass.KILOGRAMS,
        suggested_display_precision=2,
        value=_co2,
    ),
    PlannerSensorDescription(
        key="comfort_score",
        translation_key="comfort_score",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value=lambda p: p.comfort_score(),
    ),
)


def _action_at(dp: DevicePlan, index: int) -> str:
    power = dp.power_w[index]
    if dp.kind == "battery":
        return "charge" if power > 50 else "discharge" if power < -50 else "idle"
    return "on" if power > 1 else "off"


def next_action(result: PlanResult, subentry_id: str, now: datetime) -> tuple[str, datetime] | None:
    """The next change of a device in the plan: (action, time)."""
    found = result.device_plan_index(subentry_id, now)
    if found is None or result.plan is None:
        return None
    dp, index = found
    times = result.plan.times()
    if dp.kind == "appliance":
        if dp.start_step is not None and dp.start_step > index:
            return "start", times[dp.start_step]
        return None
    current = _action_at(dp, index)
    for step in range(index + 1, len(dp.power_w)):
        if (action := _action_at(dp, step)) != current:
            return action, times[step]
    return None


NEXT_ACTIONS = ["start", "on", "off", "charge", "discharge", "idle"]


@dataclass(frozen=True, kw_only=True)
class DeviceSensorDescription(SensorEntityDescription):
    """A sensor of a device subentry."""

    kinds: tuple[str, ...]
    value: Callable[[PlanResult, str, datetime], float | str | datetime | None]
    series: Callable[[DevicePlan], Sequence[float] | None] | None = None
    scale: float = 1.0


def _device_series(
    result: PlanResult,
    subentry_id: str,
    now: datetime,
    pick: Callable[[DevicePlan], Sequence[float] | None],
    scale: float,
) -> float | None:
    found = result.device_plan_index(subentry_id, now)
    if found is None:
        return None
    dp, index = found
    values = pick(dp)
    return None if values is None else round(values[index] * scale, 1)


ALL_KINDS = (
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_APPLIANCE,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)

DEVICE_SENSORS: tuple[DeviceSensorDescription, ...] = (
    DeviceSensorDescription(
        key="next_action",
        translation_key="next_action",
        device_class=SensorDeviceClass.ENUM,
        options=NEXT_ACTIONS,
        kinds=ALL_KINDS,
        value=lambda r, s, now: a[0] if (a := next_action(r, s, now)) else None,
    ),
    DeviceSensorDescription(
        key="next_action_time",
        translation_key="next_action_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        kinds=ALL_KINDS,
        value=lambda r, s, now: a[1] if (a := next_action(r, s, now)) else None,
    ),
    DeviceSensorDescription(
        key="planned_power",
        translation_key="planned_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        kinds=ALL_KINDS,
        value=lambda r, s, now: _device_series(r, s, now, lambda d: d.power_w, 1.0),
        series=lambda d: d.power_w,
    ),
    DeviceSensorDescription(
        key="planned_soc",
        translation_key="planned_soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        kinds=(SUBENTRY_BATTERY, SUBENTRY_EV),
        value=lambda r, s, now: _device_series(r, s, now, lambda d: d.soc, 100.0),
        series=lambda d: d.soc,
        scale=100.0,
    ),
    DeviceSensorDescription(
        key="planned_temperature",
        translation_key="planned_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        kinds=(SUBENTRY_THERMAL,),
        value=lambda r, s, now: _device_series(r, s, now, lambda d: d.temperature_c, 1.0),
        series=lambda d: d.temperature_c,
    ),
)


ROLE_GRID = "grid"


def _window_attributes(window: Window | None) -> Mapping[str, Any]:
    if window is None:
        return {}
    return {"end": window.end.isoformat(), "average_price": round(window.average, 5)}


def _event_attributes(state: GridState) -> Mapping[str, Any]:
    event = state.event
    if event is None:
        return {"participating": state.participating}
    return {
        "end": event.end.isoformat(),
        "import_cap_w": event.import_cap_w,
        "incentive_per_kwh": event.incentive_per_kwh,
        "source": event.source,
        "title": event.title,
        "active": event.active_at(state.time),
        "participating": state.participating and event.joined,
    }


def _last_attributes(state: GridState) -> Mapping[str, Any]:
    last = state.last
    if last is None:
        return {}
    return {
        "title": last.title,
        "source": last.source,
        "start": last.start.isoformat(),
        "end": last.end.isoformat(),
        "baseline_kwh": last.baseline_kwh,
        "measured_kwh": last.measured_kwh,
        "baseline_days": [day.isoformat() for day in last.baseline_days],
    }


@dataclass(frozen=True, kw_only=True)
class GridSensorDescription(SensorEntityDescription):
    """How a grid sensor gets its value (and attributes) from the grid agent's state."""

    value: Callable[[GridState], float | datetime | None]
    attributes: Callable[[GridState], Mapping[str, Any]] | None = None
    exists: Callable[[GridAgent], bool] = lambda _: True
    money: bool = False


GRID_SENSORS: tuple[GridSensorDescription, ...] = (
    GridSensorDescription(
        key="next_cheap_window",
        translation_key="next_cheap_window",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=lambda s: s.cheap.start if s.cheap else None,
        attributes=lambda s: _window_attributes(s.cheap),
    ),
    GridSensorDescription(
        key="next_expensive_window",
        translation_key="next_expensive_window",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=lambda s: s.expensive.start if s.expensive else None,
        attributes=lambda s: _window_attributes(s.expensive),
    ),
    GridSensorDescription(
        key="carbon_intensity",
        translation_key="carbon_intensity",
        native_unit_of_measurement="gCO2eq/kWh",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value=lambda s: s.carbon_g_per_kwh,
        exists=lambda g: g.carbon_entity is not None,
    ),
    GridSensorDescription(
        key="plan_emissions",
        translation_key="plan_emissions",
        device_class=SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfMass.KILOGRAMS,
        suggested_display_precision=2,
        value=lambda s: s.plan_emissions_kg,
        exists=lambda g: g.carbon_entity is not None,
    ),
    GridSensorDescription(
        key="demand_response_event",
        translation_key="demand_response_event",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=lambda s: s.event.start if s.event else None,
        attributes=_event_attributes,
    ),
    GridSensorDescription(
        key="last_event_energy_reduced",
        translation_key="last_event_energy_reduced",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value=lambda s: s.last.energy_reduced_kwh if s.last else None,
        attributes=_last_attributes,
    ),
    GridSensorDescription(
        key="last_event_reward",
        translation_key="last_event_reward",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value=lambda s: s.last.reward if s.last else None,
        money=True,
    ),
    GridSensorDescription(
        key="peak_import_this_period",
        translation_key="peak_import_this_period",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value=lambda s: s.peak_w,
        exists=lambda g: g.demand_charge_per_kw > 0,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCollectiveConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every agent of a home."""
    collector = entry.runtime_data.collector
    forecaster = entry.runtime_data.forecaster
    async_add_entities(
        CollectorSensor(collector, entry, description) for description in COLLECTOR_SENSORS
    )
    async_add_entities(
        ForecasterSensor(forecaster, entry, description)
        for description in FORECASTER_SENSORS
        if description.exists(forecaster)
    )
    planner = entry.runtime_data.planner
    async_add_entities(
        PlannerSensor(planner, entry, description) for description in PLANNER_SENSORS
    )
    if (budget := entry.runtime_data.budget) is not None:
        async_add_entities([GridHeadroomSensor(budget, entry)])
    if (grid := entry.runtime_data.grid) is not None:
        async_add_entities(
            GridSensor(grid, entry, description)
            for description in GRID_SENSORS
            if description.exists(grid)
        )
    if (market := entry.runtime_data.market) is not None:
        async_add_entities(MarketSensor(market, entry, d) for d in MARKET_SENSORS)
    for cfg in planner.configs.values():
        async_add_entities(
            (
                DeviceSensor(planner, entry, cfg, description)
                for description in DEVICE_SENSORS
                if cfg.kind in description.kinds
            ),
            config_subentry_id=cfg.subentry_id,
        )


class CollectorSensor(EnergyCollectiveEntity[CollectorCoordinator], SensorEntity):
    """A sensor of the data collection agent."""

    entity_description: CollectorSensorDescription

    def __init__(
        self,
        coordinator: CollectorCoordinator,
        entry: EnergyCollectiveConfigEntry,
        description: CollectorSensorDescription,
    ) -> None:
        """Attach the sensor to the collector's device."""
        super().__init__(coordinator, entry, ROLE_COLLECTOR, description)

    @property
    def native_value(self) -> float | datetime | None:
        """The value from the latest snapshot."""
        return self.entity_description.value(self.coordinator.data)

    @property
    def available(self) -> bool:
        """Unavailable while the agent fails or the source has gone stale."""
        return super().available and self.native_value is not None

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Prices are in the home's currency per kWh."""
        if self.entity_description.price:
            currency = self.coordinator.data.currency or self.hass.config.currency
            return f"{currency}/kWh"
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Attributes that explain the value, where the sensor has any."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator.data)


class ForecasterSensor(EnergyCollectiveEntity[ForecasterCoordinator], SensorEntity):
    """A sensor of the prediction agent."""

    entity_description: ForecasterSensorDescription
    # the whole horizon changes at every update: it is state for the moment, not history
    _unrecorded_attributes = frozenset({"forecast", "forecast_p10", "forecast_p90"})

    def __init__(
        self,
        coordinator: ForecasterCoordinator,
        entry: EnergyCollectiveConfigEntry,
        description: ForecasterSensorDescription,
    ) -> None:
        """Attach the sensor to the forecaster's device."""
        super().__init__(coordinator, entry, ROLE_FORECASTER, description)

    @property
    def native_value(self) -> float | str | None:
        """The value from the latest forecast."""
        return self.entity_description.value(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The horizon, or what explains the value."""
        return self.entity_description.attributes(self.coordinator.data)


class PlannerSensor(EnergyCollectiveEntity[PlannerCoordinator], SensorEntity):
    """A sensor of the planning agent."""

    entity_description: PlannerSensorDescription
    _unrecorded_attributes = frozenset(
        {"forecast", "explanations", "recommendations", "shortfalls"}
    )

    def __init__(
        self,
        coordinator: PlannerCoordinator,
        entry: EnergyCollectiveConfigEntry,
        description: PlannerSensorDescription,
    ) -> None:
        """Attach the sensor to the planner's device."""
        super().__init__(coordinator, entry, ROLE_PLANNER, description)

    @property
    def native_value(self) -> float | str | None:
        """The value from the latest plan."""
        return self.entity_description.value(self.coordinator)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Money is in the plan's currency."""
        if self.entity_description.money:
            problem = self.coordinator.data.problem
            return problem.currency if problem else self.hass.config.currency
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The horizon or the plan's explanations."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator)


class DeviceSensor(ManagedDeviceEntity, SensorEntity):
    """What the plan holds for one device."""

    entity_description: DeviceSensorDescription
    _unrecorded_attributes = frozenset({"forecast"})

    @property
    def native_value(self) -> float | str | datetime | None:
        """The value of the current step."""
        return self.entity_description.value(
            self.coordinator.data, self.subentry_id, dt_util.utcnow()
        )

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The planned horizon, in the forecaster's format."""
        pick = self.entity_description.series
        result = self.coordinator.data
        if pick is None:
            return None
        found = result.device_plan_index(self.subentry_id, dt_util.utcnow())
        if found is None or result.plan is None:
            return {"forecast": []}
        values = pick(found[0])
        if values is None:
            return {"forecast": []}
        return {"forecast": _points(result.plan, values, self.entity_description.scale)}


class GridSensor(EnergyCollectiveEntity[GridAgent], SensorEntity):
    """A sensor of the grid integration agent."""

    entity_description: GridSensorDescription

    def __init__(
        self,
        coordinator: GridAgent,
        entry: EnergyCollectiveConfigEntry,
        description: GridSensorDescription,
    ) -> None:
        """Attach the sensor to the grid agent's device."""
        super().__init__(coordinator, entry, ROLE_GRID, description)

    @property
    def native_value(self) -> float | datetime | None:
        """The value from the agent's latest state."""
        return self.entity_description.value(self.coordinator.data)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Rewards are in the currency of the event's reward (the home's)."""
        if self.entity_description.money:
            last = self.coordinator.data.last
            return (last.currency if last else None) or self.hass.config.currency
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """What explains the value, where the sensor has any."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator.data)


class GridHeadroomSensor(SensorEntity):
    """How far the measured grid import is under the limit (negative: over), W."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "grid_headroom"
    _attr_device_class = SensorDeviceClass.POWER
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfPower.WATT
    _attr_suggested_display_precision = 0

    def __init__(self, budget: PowerBudget, entry: EnergyCollectiveConfigEntry) -> None:
        """Attach the sensor to the planner's device; it follows every budget reaction."""
        self.budget = budget
        self._attr_unique_id = f"{entry.entry_id}_{ROLE_PLANNER}_grid_headroom"
        self._attr_device_info = agent_device_info(entry, ROLE_PLANNER)

    async def async_added_to_hass(self) -> None:
        """Write the state after every reaction of the budget."""
        await super().async_added_to_hass()
        self.async_on_remove(self.budget.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float | None:
        """The limit minus the import at the last reaction."""
        headroom = self.budget.headroom_w
        return None if headroom is None else round(headroom, 1)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The limit, where it comes from, and the devices currently shed."""
        return {
            "limit_w": self.budget.limit_w,
            "limit_source": self.budget.limit_source,
            "shed": self.budget.shed_devices,
        }


# -- market (agents/market.py): only while trading is enabled -----------------------------------

ROLE_MARKET = "market"


@dataclass(frozen=True, kw_only=True)
class MarketSensorDescription(SensorEntityDescription):
    """How a market sensor reads the market agent; `money`: unit is the home's currency."""

    value: Callable[[MarketAgent], float | str | None]
    attributes: Callable[[MarketAgent], Mapping[str, Any]] | None = None
    money: bool = False
    price: bool = False


MARKET_SENSORS: tuple[MarketSensorDescription, ...] = (
    MarketSensorDescription(
        key="market_energy_sold",
        translation_key="market_energy_sold",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value=lambda m: round(m.totals.sold_kwh, 6),
    ),
    MarketSensorDescription(
        key="market_energy_bought",
        translation_key="market_energy_bought",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value=lambda m: round(m.totals.bought_kwh, 6),
    ),
    MarketSensorDescription(
        key="market_revenue",
        translation_key="market_revenue",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value=lambda m: round(m.totals.revenue, 6),
        money=True,
    ),
    MarketSensorDescription(
        key="market_cost",
        translation_key="market_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value=lambda m: round(m.totals.cost, 6),
        money=True,
    ),
    MarketSensorDescription(
        key="market_clearing_price",
        translation_key="market_clearing_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value=lambda m: m.last_price,
        price=True,
    ),
    MarketSensorDescription(
        key="market_peers_online",
        translation_key="market_peers_online",
        state_class=SensorStateClass.MEASUREMENT,
        value=lambda m: len(m.peers_online()),
        attributes=lambda m: {"peers": m.peers_online(), "known": sorted(m.peer_names.values())},
    ),
    MarketSensorDescription(
        key="market_rejected_messages",
        translation_key="market_rejected_messages",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # for debugging a community, not every day
        value=lambda m: sum(m.rejected().values()),
        attributes=lambda m: m.rejected(),
    ),
    MarketSensorDescription(
        key="market_public_key",
        translation_key="market_public_key",
        entity_category=EntityCategory.DIAGNOSTIC,
        value=lambda m: m.keypair.public_key if m.keypair is not None else None,
        attributes=lambda m: {"home_id": m.home_id, "community": m.market_config.community},
    ),
)


class MarketSensor(EnergyCollectiveEntity["MarketAgent"], SensorEntity):
    """A sensor of the market agent."""

    entity_description: MarketSensorDescription

    def __init__(
        self,
        coordinator: MarketAgent,
        entry: EnergyCollectiveConfigEntry,
        description: MarketSensorDescription,
    ) -> None:
        """Attach the sensor to the market's device."""
        super().__init__(coordinator, entry, ROLE_MARKET, description)

    @property
    def native_value(self) -> float | str | None:
        """The agent's current figure."""
        return self.entity_description.value(self.coordinator)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Money in the home's currency, prices per kWh of it."""
        if self.entity_description.money or self.entity_description.price:
            snapshot = self.coordinator.collector.data
            currency = (snapshot.currency if snapshot else None) or self.hass.config.currency
            return f"{currency}/kWh" if self.entity_description.price else currency
        return super().native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Peers by name, rejections by reason, or this home's market id."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator)
