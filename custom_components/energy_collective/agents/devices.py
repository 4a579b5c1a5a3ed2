"""Device subentries and live states -> the engine's devices.

Each device subentry of a home (battery, EV charger, appliance, interruptible load, thermal
load) is read into a `DeviceConfig`; its runtime (`DeviceRuntime`: user settings, requests,
the cycle that runs, an override) is kept by the planner and persisted. `build_device`
combines both with the live states into the `engine.model` device the planner solves for;
`managed_device` combines them into the `engine.dispatch` device the power budget sheds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from ..const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_EFFICIENCY,
    CONF_CHARGE_SWITCH,
    CONF_COP,
    CONF_CURRENT_NUMBER,
    CONF_DEPARTURE,
    CONF_DISCHARGE_EFFICIENCY,
    CONF_DURATION_MIN,
    CONF_EV_SOC_ENTITY,
    CONF_HEAT_DEMAND_W,
    CONF_LOSS_W_PER_K,
    CONF_MAX_CHARGE_W,
    CONF_MAX_CURRENT_A,
    CONF_MAX_DISCHARGE_W,
    CONF_MIN_CURRENT_A,
    CONF_MIN_OFF_MIN,
    CONF_MIN_ON_MIN,
    CONF_MODE_SELECT,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_PHASES,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_ENTITY,
    CONF_POWER_NUMBER,
    CONF_POWER_W,
    CONF_PRIORITY,
    CONF_RESERVE_PCT,
    CONF_RUN_HOURS,
    CONF_SESSION_KWH,
    CONF_SOC_ENTITY,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TARGET_SOC,
    CONF_TEMPERATURE_ENTITY,
    CONF_THERMAL_ENTITY,
    CONF_VOLTAGE_V,
    CONF_VOLUME_L,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DEFAULT_PRIORITY,
    DEVICE_SUBENTRIES,
    PRIORITIES,
    PRIORITY_MEDIUM,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)
from ..engine.dispatch import (
    BatteryControl,
    EVControl,
    HeatPumpControl,
    ManagedDevice,
    Priority,
)
from ..engine.model import (
    Battery,
    Device,
    EVCharger,
    EVSession,
    InterruptibleLoad,
    ShiftableAppliance,
    ThermalLoad,
)

WATER_KWH_PER_K_PER_LITRE = 4.186 / 3600
PROFILE_STEP = timedelta(minutes=5)
AMBIENT_C = 20.0
HEAT_STEP_K = 0.5
"""A heat pump's or water heater's setpoint goes down in steps of this many kelvin."""
SOC_MARGIN_PCT = 1.0
"""A battery this close to its reserve is not asked to discharge more."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One device subentry of a home."""

    subentry_id: str
    kind: str
    name: str
    data: Mapping[str, Any]

    def num(self, key: str, default: float = 0.0) -> float:
        """A number of the configuration."""
        value = self.data.get(key)
        return default if value is None else float(value)

    def entity(self, key: str) -> str | None:
        """An entity id of the configuration, or None."""
        value = self.data.get(key)
        return str(value) if value else None

    @property
    def control_entities(self) -> list[str]:
        """The entities the dispatcher commands for this device."""
        keys = {
            SUBENTRY_BATTERY: (CONF_POWER_NUMBER, CONF_MODE_SELECT),
            SUBENTRY_EV: (CONF_CHARGE_SWITCH, CONF_CURRENT_NUMBER),
            SUBENTRY_APPLIANCE: (CONF_SWITCH,),
            SUBENTRY_INTERRUPTIBLE: (CONF_SWITCH,),
            SUBENTRY_THERMAL: (CONF_THERMAL_ENTITY,),
        }[self.kind]
        return [e for k in keys if (e := self.entity(k))]


@dataclass(slots=True)
class DeviceRuntime:
    """What the planner remembers of a device between plans and restarts."""

    managed: bool = True
    reserve_pct: float | None = None
    target_soc_pct: float | None = None
    departure: datetime | None = None
    finish_by: datetime | None = None
    requested: bool = False
    request_duration_min: float | None = None
    started_at: datetime | None = None
    override_until: datetime | None = None
    override_on: bool | None = None
    window_start: datetime | None = None
    ran_s: float = 0.0
    last_on: bool | None = None
    last_change: datetime | None = None
    profile_w: list[float] | None = None
    recording: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceRuntime:
        """Inverse of `as_dict`; unknown keys are ignored."""
        runtime = cls()
        for name in cls.__slots__:
            if name not in data:
                continue
            value = data[name]
            if isinstance(getattr(runtime, name), datetime) or name in _TIMES:
                value = dt_util.parse_datetime(value) if isinstance(value, str) else None
            setattr(runtime, name, value)
        return runtime

    def overridden(self, now: datetime) -> bool:
        """True while a user's choice holds the device."""
        return self.override_until is not None and now < self.override_until


_TIMES = {"departure", "finish_by", "started_at", "override_until", "window_start", "last_change"}


def device_configs(entry: ConfigEntry) -> dict[str, DeviceConfig]:
    """The device subentries of a home, by subentry id."""
    return {
        subentry_id: DeviceConfig(subentry_id, sub.subentry_type, sub.title, dict(sub.data))
        for subentry_id, sub in entry.subentries.items()
        if sub.subentry_type in DEVICE_SUBENTRIES
    }


def state_value(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """The numeric state of an entity, or None."""
    if not entity_id or (state := hass.states.get(entity_id)) is None:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def state_on(hass: HomeAssistant, entity_id: str | None) -> bool | None:
    """True/False for an on/off entity (a climate or water heater is on unless 'off')."""
    if not entity_id or (state := hass.states.get(entity_id)) is None:
        return None
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    if entity_id.split(".")[0] in ("climate", "water_heater"):
        return state.state != "off"
    if entity_id.split(".")[0] == "sensor":
        return state.state.lower() in ("charging", "connected", "plugged", "on", "ready")
    return state.state == STATE_ON


def next_time_of_day(now: datetime, value: str | None, default: time) -> datetime:
    """The next moment (after now) at the local time of day `value` ("HH:MM[:SS]")."""
    parsed = dt_util.parse_time(value) if value else None
    at = parsed or default
    local = dt_util.as_local(now)
    candidate = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def window(now: datetime, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The current (or else the next) daily window [start, end) in local time."""
    local = dt_util.as_local(now)
    s = dt_util.parse_time(start or "00:00") or time(0)
    e = dt_util.parse_time(end or "00:00") or time(0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in (-1, 0, 1):
        first = (day + timedelta(days=offset)).replace(hour=s.hour, minute=s.minute)
        last = (day + timedelta(days=offset)).replace(hour=e.hour, minute=e.minute)
        if last <= first:
            last += timedelta(days=1)
        if local < last:
            return first, last
    raise AssertionError("unreachable")  # pragma: no cover


def appliance_profile(cfg: DeviceConfig, rt: DeviceRuntime) -> tuple[tuple[float, ...], timedelta]:
    """The cycle's power profile: learned from its power sensor when it has one, else flat."""
    if rt.request_duration_min:
        power = cfg.num(CONF_POWER_W, 1000.0)
        if rt.profile_w:
            power = max(1.0, sum(rt.profile_w) / len(rt.profile_w))
        steps = max(1, round(rt.request_duration_min / 5))
        return (power,) * steps, PROFILE_STEP
    if rt.profile_w:
        return tuple(rt.profile_w), PROFILE_STEP
    steps = max(1, round(cfg.num(CONF_DURATION_MIN, 60.0) / 5))
    return (cfg.num(CONF_POWER_W, 1000.0),) * steps, PROFILE_STEP


def battery_reserve_pct(cfg: DeviceConfig, rt: DeviceRuntime) -> float:
    """The battery's reserve (%): the one set for now (the reserve number), else its form's."""
    return rt.reserve_pct if rt.reserve_pct is not None else cfg.num(CONF_RESERVE_PCT)


def nominal_power(cfg: DeviceConfig, rt: DeviceRuntime) -> float:
    """What a device draws while on, W."""
    if cfg.kind == SUBENTRY_APPLIANCE:
        profile, _ = appliance_profile(cfg, rt)
        return max(profile)
    if cfg.kind == SUBENTRY_EV:
        return (
            cfg.num(CONF_MAX_CURRENT_A, 16) * cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
        )
    return cfg.num(CONF_POWER_W, 1000.0)


def build_device(
    hass: HomeAssistant,
    cfg: DeviceConfig,
    rt: DeviceRuntime,
    now: datetime,
    *,
    n_steps: int,
    step: timedelta | None = None,
) -> Device | None:
    """The engine device for one subentry now, or None when it has nothing to plan.

    With `step` given, a car is planned to be ready one step before it leaves whenever there is
    time for that: a plan made late in a step, or a step that charges less than planned, still
    leaves a step to catch up in before departure.
    """
    if cfg.kind == SUBENTRY_BATTERY:
        soc = state_value(hass, cfg.entity(CONF_SOC_ENTITY))
        if soc is None:
            return None
        reserve = battery_reserve_pct(cfg, rt)
        return Battery(
            name=cfg.name,
            capacity_kwh=cfg.num(CONF_CAPACITY_KWH, 10.0),
            max_charge_w=cfg.num(CONF_MAX_CHARGE_W, 3000.0),
            max_discharge_w=cfg.num(CONF_MAX_DISCHARGE_W, 3000.0),
            soc_initial=min(1.0, max(0.0, soc / 100)),
            soc_min=min(1.0, max(0.0, reserve / 100)),
            charge_efficiency=cfg.num(CONF_CHARGE_EFFICIENCY, 95) / 100,
            discharge_efficiency=cfg.num(CONF_DISCHARGE_EFFICIENCY, 95) / 100,
        )
    if cfg.kind == SUBENTRY_EV:
        unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
        capacity = cfg.num(CONF_CAPACITY_KWH, 0.0) or None
        soc = state_value(hass, cfg.entity(CONF_EV_SOC_ENTITY))
        sessions: tuple[EVSession, ...] = ()
        if state_on(hass, cfg.entity(CONF_PLUGGED_ENTITY)):
            departure = rt.departure
            if departure is None or departure <= now:
                departure = next_time_of_day(now, cfg.data.get(CONF_DEPARTURE), time(7))
            target = (
                rt.target_soc_pct if rt.target_soc_pct is not None else cfg.num(CONF_TARGET_SOC, 80)
            )
            if soc is not None and capacity:
                need = max(0.0, (target - soc) / 100 * capacity)
            else:
                need = cfg.num(CONF_SESSION_KWH, 10.0)
            ready_by = departure
            if step is not None and departure - step > now + step:
                ready_by = departure - step
            sessions = (EVSession(plug_in=now, departure=ready_by, energy_kwh=need),)
        has_current = cfg.entity(CONF_CURRENT_NUMBER) is not None
        max_w = cfg.num(CONF_MAX_CURRENT_A, 16) * unit
        return EVCharger(
            name=cfg.name,
            max_power_w=max_w,
            min_power_w=cfg.num(CONF_MIN_CURRENT_A, 6) * unit if has_current else max_w,
            power_step_w=unit if has_current else None,
            sessions=sessions,
            efficiency=0.9,
            capacity_kwh=capacity,
            soc_initial=None if soc is None else min(1.0, max(0.0, soc / 100)),
        )
    if cfg.kind == SUBENTRY_APPLIANCE:
        if not rt.requested and rt.started_at is None:
            return None
        profile, step = appliance_profile(cfg, rt)
        return ShiftableAppliance(
            name=cfg.name,
            profile_w=profile,
            profile_step=step,
            latest_finish=rt.finish_by,
            started_at=rt.started_at,
        )
    if cfg.kind == SUBENTRY_INTERRUPTIBLE:
        first, last = window(now, cfg.data.get(CONF_WINDOW_START), cfg.data.get(CONF_WINDOW_END))
        ran = rt.ran_s if rt.window_start == first else 0.0
        need_h = max(0.0, cfg.num(CONF_RUN_HOURS, 4.0) - ran / 3600)
        return InterruptibleLoad(
            name=cfg.name,
            power_w=cfg.num(CONF_POWER_W, 1000.0),
            run_hours=need_h,
            window_start=first,
            window_end=last,
            min_on=timedelta(minutes=cfg.num(CONF_MIN_ON_MIN)),
            min_off=timedelta(minutes=cfg.num(CONF_MIN_OFF_MIN)),
        )
    temperature = state_value(hass, cfg.entity(CONF_TEMPERATURE_ENTITY))
    if temperature is None:
        return None
    t_min = cfg.num(CONF_T_MIN, 45)
    t_max = max(t_min, cfg.num(CONF_T_MAX, 60))
    return ThermalLoad(
        name=cfg.name,
        max_power_w=cfg.num(CONF_POWER_W, 2000.0),
        heat_capacity_kwh_per_k=max(1e-3, cfg.num(CONF_VOLUME_L, 200) * WATER_KWH_PER_K_PER_LITRE),
        loss_w_per_k=cfg.num(CONF_LOSS_W_PER_K, 2.0),
        t_initial_c=temperature,
        t_min_c=(t_min,) * n_steps,
        t_max_c=(t_max,) * n_steps,
        ambient_c=(AMBIENT_C,) * n_steps,
        heat_demand_w=(cfg.num(CONF_HEAT_DEMAND_W, 100.0),) * n_steps,
        efficiency=(cfg.num(CONF_COP, 1.0),) * n_steps,
    )


def priority(cfg: DeviceConfig) -> Priority:
    """The device's shedding priority (its kind's default when not configured)."""
    value = str(cfg.data.get(CONF_PRIORITY) or DEFAULT_PRIORITY.get(cfg.kind, PRIORITY_MEDIUM))
    return value if value in PRIORITIES else PRIORITY_MEDIUM  # type: ignore[return-value]


def _attribute_value(hass: HomeAssistant, entity_id: str, attribute: str) -> float | None:
    state = hass.states.get(entity_id)
    if state is None:
        return None
    try:
        value = float(state.attributes.get(attribute))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def comfort_setpoint(cfg: DeviceConfig) -> float:
    """The setpoint a heat pump or water heater is given when the plan heats, °C."""
    return max(cfg.num(CONF_T_MIN, 45), cfg.num(CONF_T_MAX, 60))


def battery_number_factor(hass: HomeAssistant, cfg: DeviceConfig) -> float:
    """Watts per unit of a battery's power number: 1000 for a number in kW, else 1."""
    state = hass.states.get(cfg.entity(CONF_POWER_NUMBER) or "")
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state is not None else None
    return 1000.0 if unit == UnitOfPower.KILO_WATT else 1.0


def battery_setpoint_w(hass: HomeAssistant, cfg: DeviceConfig) -> float | None:
    """A battery's power number now, in W (+ charge), whatever unit the number is in."""
    value = state_value(hass, cfg.entity(CONF_POWER_NUMBER))
    return None if value is None else value * battery_number_factor(hass, cfg)


def to_celsius(value: float | None, unit: Any) -> float | None:
    """A temperature in °C from the unit it is given in (°F, K or °C)."""
    if value is None or unit not in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
        return value
    return TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS)


def from_celsius(value: float, unit: Any) -> float:
    """A temperature given in °C, in `unit` (°F, K or °C)."""
    if unit not in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
        return value
    return TemperatureConverter.convert(value, UnitOfTemperature.CELSIUS, unit)


def battery_mode_power(hass: HomeAssistant, cfg: DeviceConfig) -> float | None:
    """What a battery run by a mode select alone draws, as far as its mode tells (W, + charge):
    its full charge power while charging, its full discharge while discharging, 0 idle; None
    while the mode is unknown or none of the three options."""
    select = cfg.entity(CONF_MODE_SELECT)
    state = hass.states.get(select) if select else None
    if state is None:
        return None
    if state.state == cfg.data.get(CONF_OPTION_CHARGE):
        return cfg.num(CONF_MAX_CHARGE_W, 3000.0)
    if state.state == cfg.data.get(CONF_OPTION_DISCHARGE):
        return -cfg.num(CONF_MAX_DISCHARGE_W, 3000.0)
    if state.state == cfg.data.get(CONF_OPTION_IDLE):
        return 0.0
    return None


def managed_device(
    hass: HomeAssistant,
    cfg: DeviceConfig,
    rt: DeviceRuntime,
    *,
    last_switch: datetime | None,
    pending: bool = False,
) -> ManagedDevice | None:
    """The device as the power budget sees it now, or None when its entities cannot tell.

    Estimates, from the configuration and the live states: an EV charger draws its current
    times phases times voltage while it charges; a heat pump or water heater its power while it
    heats (a `power` attribute when it has one); a switched load its configured power while on;
    an appliance the power sensor's value (or its nominal power) while its cycle runs.
    """
    name, prio = cfg.name, priority(cfg)
    common: dict[str, Any] = {"name": name, "priority": prio, "last_switch": last_switch}
    if cfg.kind == SUBENTRY_BATTERY:
        setpoint = battery_setpoint_w(hass, cfg)
        if cfg.entity(CONF_POWER_NUMBER) is None:
            setpoint = battery_mode_power(hass, cfg)
        soc = state_value(hass, cfg.entity(CONF_SOC_ENTITY))
        if setpoint is None or soc is None:
            return None
        reserve = battery_reserve_pct(cfg, rt)
        room = cfg.num(CONF_MAX_DISCHARGE_W, 3000.0) if soc > reserve + SOC_MARGIN_PCT else 0.0
        battery = BatteryControl(power_w=setpoint, max_discharge_w=room)
        return ManagedDevice(**common, kind="controllable", on=True, control=battery)
    if cfg.kind == SUBENTRY_EV:
        unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
        plugged = state_on(hass, cfg.entity(CONF_PLUGGED_ENTITY))
        switch = cfg.entity(CONF_CHARGE_SWITCH)
        current = state_value(hass, cfg.entity(CONF_CURRENT_NUMBER))
        on = state_on(hass, switch) if switch else (current or 0.0) > 0
        if plugged is None or on is None:
            return None
        on = on and plugged
        if cfg.entity(CONF_CURRENT_NUMBER) is None or current is None or not on:
            # no current to turn down (or nothing to turn down): a switched load
            power = (current or cfg.num(CONF_MAX_CURRENT_A, 16)) * unit if on else 0.0
            return ManagedDevice(**common, kind="interruptible", on=on, power_w=power)
        low = min(cfg.num(CONF_MIN_CURRENT_A, 6), cfg.num(CONF_MAX_CURRENT_A, 16))
        control = EVControl(
            current_a=current,
            min_a=low,
            max_a=max(low, cfg.num(CONF_MAX_CURRENT_A, 16), current),
            watts_per_a=unit,
        )
        return ManagedDevice(
            **common,
            kind="controllable",
            on=True,
            power_w=current * unit,
            control=control,
            off_allowed=switch is not None,
        )
    if cfg.kind == SUBENTRY_APPLIANCE:
        on = state_on(hass, cfg.entity(CONF_SWITCH))
        if on is None:
            return None
        running = on or rt.started_at is not None
        measured = state_value(hass, cfg.entity(CONF_POWER_ENTITY))
        rated = nominal_power(cfg, rt)
        power = (measured if measured is not None else rated) if running else 0.0
        return ManagedDevice(
            **common,
            kind="deferrable",
            on=on,
            power_w=power,
            rated_power_w=rated,
            uninterruptible=True,
            cycle_running=running,
            pending=pending and not running,
        )
    if cfg.kind == SUBENTRY_INTERRUPTIBLE:
        on = state_on(hass, cfg.entity(CONF_SWITCH))
        if on is None:
            return None
        return ManagedDevice(
            **common,
            kind="interruptible",
            on=on,
            power_w=cfg.num(CONF_POWER_W, 1000.0) if on else 0.0,
            rated_power_w=cfg.num(CONF_POWER_W, 1000.0),
            min_on=timedelta(minutes=cfg.num(CONF_MIN_ON_MIN)),
            min_off=timedelta(minutes=cfg.num(CONF_MIN_OFF_MIN)),
        )
    return _thermal(hass, cfg, common)


def _thermal(
    hass: HomeAssistant, cfg: DeviceConfig, common: dict[str, Any]
) -> ManagedDevice | None:
    """A thermal load: a heat pump (climate) turns down in steps; a thermostat is switched.

    A climate entity is taken as a modulating heat pump: its power falls in proportion as its
    setpoint comes down towards the room's temperature. A water heater's thermostat is on or
    off: it is "switched off" by setting the bottom of the comfort band, and a plain switch is
    switched off.
    """
    entity_id = cfg.entity(CONF_THERMAL_ENTITY)
    on = state_on(hass, entity_id)
    if entity_id is None or on is None:
        return None
    nominal = cfg.num(CONF_POWER_W, 2000.0)
    domain = entity_id.split(".")[0]
    if domain not in ("climate", "water_heater"):
        power = nominal if on else 0.0
        return ManagedDevice(
            **common, kind="interruptible", on=on, power_w=power, rated_power_w=nominal
        )
    # a climate or water heater shows its temperatures in the home's unit (°F in a
    # US-customary home); the comfort band is entered in °C: compare in °C
    home_unit = hass.config.units.temperature_unit
    target = to_celsius(_attribute_value(hass, entity_id, "temperature"), home_unit)
    if target is None:
        return None
    sensor = cfg.entity(CONF_TEMPERATURE_ENTITY)
    sensor_state = hass.states.get(sensor) if sensor else None
    current = to_celsius(
        state_value(hass, sensor),
        sensor_state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if sensor_state else None,
    )
    if current is None:
        current = to_celsius(_attribute_value(hass, entity_id, "current_temperature"), home_unit)
    measured = _attribute_value(hass, entity_id, "power")
    if measured is not None:
        power = max(0.0, measured)
    else:
        state = hass.states.get(entity_id)
        attributes = state.attributes if state is not None else {}
        if "hvac_action" in attributes or "heating" in attributes:
            heating = attributes.get("hvac_action") in ("heating", "preheating") or bool(
                attributes.get("heating")
            )
        else:
            heating = current is not None and current < target
        power = nominal if heating and on else 0.0
    if domain == "water_heater":
        return ManagedDevice(
            **common, kind="interruptible", on=power > 0, power_w=power, rated_power_w=nominal
        )
    comfort = comfort_setpoint(cfg)
    band = comfort - min(cfg.num(CONF_T_MIN, 45), cfg.num(CONF_T_MAX, 60))
    # the heating stops when the setpoint reaches the room's temperature
    gap = max(HEAT_STEP_K, target - current) if current is not None else max(1.0, band)
    control = HeatPumpControl(
        offset_k=target - comfort,
        max_offset_k=max(0.0, band),
        watts_per_k=power / gap,
        step_k=HEAT_STEP_K,
    )
    return ManagedDevice(
        **common,
        kind="controllable",
        on=on,
        power_w=power,
        rated_power_w=nominal,
        control=control,
    )
