"""Acting agent: the one path from a plan (or any other agent) to device commands.

`async_command` checks a command against `engine/safety.py`, sends it through Home
Assistant service calls, reads the entities back, retries with backoff, raises a repair issue
naming the device when it keeps failing, and writes the reason to the logbook. After every
new plan, `async_dispatch` commands what the plan wants now, unless the home is advisory
(automatic control off, or the manual mode), a device is not managed, or a user's manual
change holds it (an override, detected here from state changes that were not ours).

The power budget (`agents/budget.py`) sends its shedding through `async_shed`, which maps an
`engine.dispatch` action onto the same commands. Plan dispatch respects the budget: a device
it has shed is not raised again by the plan, and a start obeys its conflict rules
(`engine.dispatch.may_start`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.logbook import async_log_entry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_EV_SOC_ENTITY,
    CONF_MAX_CHARGE_W,
    CONF_MAX_DISCHARGE_W,
    CONF_MIN_CURRENT_A,
    CONF_MIN_OFF_MIN,
    CONF_MIN_ON_MIN,
    CONF_MODE_SELECT,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_OVERRIDE_MINUTES,
    CONF_PHASES,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_NUMBER,
    CONF_SOC_ENTITY,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_THERMAL_ENTITY,
    CONF_VOLTAGE_V,
    DEFAULT_OVERRIDE_MINUTES,
    DOMAIN,
    ISSUE_COMMAND_FAILED,
    LIMIT_SOURCE_DEMAND_RESPONSE,
    LIMIT_SOURCE_FUSE,
    MODE_MANUAL,
    RETRY_DELAYS_S,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_THERMAL,
)
from ..engine import dispatch as shedding
from ..engine.answers import settles_near
from ..engine.follow import battery_setpoint
from ..engine.meter import MeterReading
from ..engine.model import Device
from ..engine.safety import DeviceState, check_command
from ..engine.timeseries import parse_number
from .devices import (
    SOC_MARGIN_PCT,
    DeviceConfig,
    battery_mode_power,
    battery_number_factor,
    battery_reserve_pct,
    battery_setpoint_w,
    build_device,
    comfort_setpoint,
    from_celsius,
    managed_device,
    nominal_power,
    state_on,
    state_value,
)
from .planner import PlannerCoordinator, plan_index

if TYPE_CHECKING:
    from .budget import PowerBudget

_LOGGER = logging.getLogger(__name__)
IDLE_W = 50.0
"""Battery power below this is idle."""
FOLLOW_DEADBAND_W = 100.0
"""A battery following the home keeps its setpoint while the new one is this close to it: no
command, and no logbook entry, for every small wobble of the load."""
FOLLOW_SETTLE = timedelta(seconds=20)
"""A grid reading is used to correct the battery only when the meter reported it this long
after the last command: it must show that command, else the same error would be corrected
twice (a meter that stopped reporting would drive the battery to its limit)."""


def _direction(power_w: float) -> int:
    """A battery's direction: 1 charging, -1 discharging, 0 idle."""
    return 0 if abs(power_w) < IDLE_W else 1 if power_w > 0 else -1


@dataclass(frozen=True, slots=True)
class Action:
    """What a device should do: on/off and, where it has a level, its power (W).

    `setpoint_c`: for a heat pump or water heater, the target to set instead of the comfort
    band's edge (the power budget lowers it by an offset).
    """

    on: bool
    power_w: float = 0.0
    setpoint_c: float | None = None


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The outcome of one command."""

    ok: bool
    sent: bool
    attempts: int = 0
    error: str | None = None
    violations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Call:
    domain: str
    service: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict)
    expect: Any = None
    attribute: str | None = None


class Dispatcher:
    """Carries out the plan of a home through service calls."""

    def __init__(self, hass: HomeAssistant, planner: PlannerCoordinator) -> None:
        """Dispatch for `planner`'s home."""
        self.hass = hass
        self.planner = planner
        entry = planner.config_entry
        self.override_minutes = float(
            entry.options.get(CONF_OVERRIDE_MINUTES, DEFAULT_OVERRIDE_MINUTES)
        )
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS_S
        self._contexts: set[str] = set()
        self._commanded: dict[str, tuple[Any, str | None]] = {}
        """Entity id -> the value (of the attribute, if any) last commanded."""
        self._answered: dict[str, Any] = {}
        """Entity id -> what the device showed after our last command to it (a charger told
        15 A may settle at 13 A): while it still shows that, the command is carried out."""
        self._sending: set[str] = set()
        """Subentry ids of the devices a command is going out to: what their entities report
        meanwhile is the device answering us (a battery's mode select following its power)."""
        self._switched: dict[str, datetime] = {}
        """Subentry id -> when the dispatcher last switched the device on or off."""
        self._last_command: datetime | None = None
        """When the last command to any device went out (the meter shows it a little later)."""
        self._follow_basis: dict[str, float] = {}
        """Subentry id -> the planned power the battery's last correction started from."""
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        """Set when the home unloads: pending retries end at once, nothing new is planned."""
        self.last_results: dict[str, CommandResult] = {}
        self.budget: PowerBudget | None = None
        """The power budget of the home, once it runs; plan dispatch respects its shedding."""

    # -- wiring ----------------------------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Dispatch after every new plan; watch the controlled entities for manual changes."""
        unsubs = [
            self.planner.async_add_listener(self._plan_updated),
            # once a minute too: a command refused a moment ago (no headroom, a minimum
            # on/off time) is tried again without waiting for the next plan
            async_track_time_change(self.hass, self._minute, second=30),
        ]
        controlled = [e for cfg in self.planner.configs.values() for e in cfg.control_entities]
        if controlled:
            unsubs.append(async_track_state_change_event(self.hass, controlled, self._changed))

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()

        return _stop

    @property
    def advisory(self) -> bool:
        """True when the home publishes its plan but commands nothing."""
        return not self.planner.automatic or self.planner.mode == MODE_MANUAL

    def limit(self, now: datetime) -> tuple[float, str]:
        """The import limit that holds now (W) and where it comes from.

        The main fuse, or the grid agent's demand-response cap while one is lower.
        """
        fuse = self.planner.import_limit_w
        collective = getattr(self.planner.config_entry, "runtime_data", None)
        grid = getattr(collective, "grid", None)
        cap_of = getattr(grid, "import_cap_w", None)
        cap = cap_of(now) if callable(cap_of) else None
        if cap is not None and float(cap) < fuse:
            return float(cap), LIMIT_SOURCE_DEMAND_RESPONSE
        return float(fuse), LIMIT_SOURCE_FUSE

    def last_switch(self, subentry_id: str) -> datetime | None:
        """When the device last went on or off, as far as the dispatcher and planner saw."""
        changes = [when for when in [self._switched.get(subentry_id)] if when is not None]
        if (last := self.planner.runtime[subentry_id].last_change) is not None:
            changes.append(last)
        return max(changes) if changes else None

    @callback
    def _minute(self, _now: datetime) -> None:
        self._plan_updated()

    @callback
    def _plan_updated(self) -> None:
        self.planner.config_entry.async_create_task(
            self.hass, self.async_dispatch(), f"{DOMAIN} dispatch"
        )

    def _owner(self, entity_id: str) -> tuple[str, DeviceConfig] | None:
        """The device (not an appliance: its cycles are the planner's) an entity controls."""
        for subentry_id, cfg in self.planner.configs.items():
            if entity_id in cfg.control_entities and cfg.kind != SUBENTRY_APPLIANCE:
                return subentry_id, cfg
        return None

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        """Take a change of a controlled entity that nobody here commanded for the owner's.

        Not the owner's: a change in one of our commands' contexts (or caused by one); what
        the device's entities report while our command to it is under way (a battery's mode
        select following its power number); a setting that settles near our command or is
        clamped by the device (`engine.answers.settles_near`), or that passed and shows our
        command again by the time the change is handled; a change of attributes only.
        Everything else is, from the first change after a start on (no earlier command is
        needed): the device is left alone for the override time.
        """
        new, old = event.data["new_state"], event.data["old_state"]
        entity_id = event.data["entity_id"]
        if new is None or old is None:
            return
        if new.context.id in self._contexts or new.context.parent_id in self._contexts:
            return
        if new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN) or old.state in (
            STATE_UNAVAILABLE,
            STATE_UNKNOWN,
        ):
            return
        owner = self._owner(entity_id)
        if owner is None:
            return
        subentry_id, cfg = owner
        if subentry_id in self._sending:
            return  # the device answering the command going out to it
        commanded = self._commanded.get(entity_id)
        if commanded is not None:
            expect, attribute = commanded
            if self._state_matches(new, expect, attribute, answered=True) or self._matches(
                entity_id, expect, attribute
            ):
                return  # near our command, or passing: the entity shows it again now
        else:
            attribute = _SETPOINT_ATTRIBUTE if entity_id.split(".")[0] in _SETPOINTS else None
            if _reading(old, attribute) == _reading(new, attribute):
                return  # attributes only (a temperature reading, a friendly name)
        rt = self.planner.runtime[subentry_id]
        if not rt.managed:
            return
        rt.override_until = dt_util.utcnow() + timedelta(minutes=self.override_minutes)
        rt.override_on = state_on(self.hass, entity_id)
        if rt.override_on is None:
            rt.override_on = (state_value(self.hass, entity_id) or 0.0) > 0
        self._commanded.pop(entity_id, None)
        self._answered.pop(entity_id, None)
        who = "by a user" if new.context.user_id else "outside Energy Collective"
        async_log_entry(
            self.hass,
            cfg.name,
            f"manual change of {entity_id} ({who}): left alone for {self.override_minutes:g} min",
            DOMAIN,
            entity_id,
        )
        self.planner.async_save()
        self.planner.config_entry.async_create_task(
            self.hass, self.planner.async_request_refresh(), f"{DOMAIN} re-plan"
        )

    # -- the plan ----------------------------------------------------------------------------

    def wanted(self, subentry_id: str, now: datetime) -> Action | None:
        """What the current plan wants of a device now (None: nothing to do)."""
        found = self.planner.data.device_plan_index(subentry_id, now)
        if found is None:
            return None
        dp, index = found
        power = float(dp.power_w[index])
        cfg = self.planner.configs[subentry_id]
        if cfg.kind == SUBENTRY_APPLIANCE:
            rt = self.planner.runtime[subentry_id]
            if rt.started_at is not None or not rt.requested or dp.start_step is None:
                return None
            return Action(on=True, power_w=power) if index >= dp.start_step and power > 0 else None
        if cfg.kind == SUBENTRY_BATTERY:
            return Action(on=abs(power) >= IDLE_W, power_w=power)
        return Action(on=power > 1.0, power_w=power)

    async def async_release(self, *, keep: bool) -> None:
        """The home unloads (or is removed): end pending retries and hand the devices back.

        Unless `keep`, what the power budget shed is restored to what it was before (newest
        first) and every battery this home commanded is set idle, so that nothing is left
        discharging, charging or switched off by a home that no longer watches it.
        """
        self._stopping.set()
        if keep:
            return
        budget = self.budget
        by_name = {cfg.name: sid for sid, cfg in self.planner.configs.items()}
        if budget is not None and budget.state.shed:
            restored: list[str] = []
            for record in reversed(budget.state.shed):
                subentry_id = by_name.get(record.device)
                if subentry_id is None:
                    continue
                restore = shedding.Action(
                    record.device, "restore", "unload", {**record.original, "saved_w": 0.0}
                )
                result = await self.async_shed(
                    subentry_id, restore, log="restored: Energy Collective stops for this home"
                )
                if result is None or result.ok:
                    restored.append(record.device)
                    continue
                # the safety check forbids it now (the fuse, a minimum off-time): it stays as
                # it is, recorded, and the owner is told
                async_log_entry(
                    self.hass,
                    record.device,
                    "left as the power budget set it: "
                    + "; ".join(result.violations or (result.error or "",)),
                    DOMAIN,
                    self.planner.configs[subentry_id].entity(CONF_SWITCH),
                )
            budget.release(restored)
        for subentry_id, cfg in self.planner.configs.items():
            if cfg.kind != SUBENTRY_BATTERY:
                continue
            if not any(entity in self._commanded for entity in cfg.control_entities):
                continue  # never commanded by this home: left as its owner set it
            await self.async_command(
                subentry_id,
                Action(on=False, power_w=0.0),
                reason="Energy Collective stops for this home",
                retry=False,
            )

    async def async_dispatch(self) -> None:
        """Command every managed device as the plan wants it now.

        Commands that lower the home's import (a battery discharging, a load switched off) go
        first, so that the import headroom the later ones are checked against includes them.
        Batteries are decided last: the one that follows the home counts what the other
        commands of this round will change (the meter does not show them yet).
        """
        if self.advisory or self.planner.data.plan is None or self._stopping.is_set():
            return
        now = dt_util.utcnow()
        async with self._lock:
            todo: list[tuple[float, str, Action, bool]] = []
            wanted = [
                (subentry_id, cfg, self.wanted(subentry_id, now))
                for subentry_id, cfg in list(self.planner.configs.items())
                if self.planner.runtime[subentry_id].managed
                and not self.planner.runtime[subentry_id].overridden(now)
            ]
            wanted.sort(key=lambda item: item[1].kind == SUBENTRY_BATTERY)
            for subentry_id, cfg, planned in wanted:
                action, quiet = planned, False
                if planned is not None and cfg.kind == SUBENTRY_BATTERY:
                    pending = sum(item[0] for item in todo)
                    action, quiet = self._follow(subentry_id, cfg, planned, now, pending)
                if action is None or self._in_state(cfg, action):
                    continue
                if self._held(subentry_id, cfg, action.on, now):
                    continue
                raised = (action.power_w if action.on else 0.0) - self._draw(cfg)
                if self._budget_forbids(subentry_id, cfg, action, raised, now):
                    continue
                todo.append((raised, subentry_id, action, quiet))
            for raised, subentry_id, action, quiet in sorted(todo, key=lambda item: item[0]):
                cfg = self.planner.configs[subentry_id]
                if self._budget_forbids(subentry_id, cfg, action, raised, now):
                    continue  # shed by the budget while the earlier commands went out
                await self.async_command(subentry_id, action, reason="plan", logbook=not quiet)

    def _follower(self, now: datetime) -> str | None:
        """The battery that follows the home: the first configured one that has a power number,
        is managed, not held by a manual change and in the plan (two would each correct the
        same error)."""
        for subentry_id, cfg in self.planner.configs.items():
            if cfg.kind != SUBENTRY_BATTERY or not cfg.entity(CONF_POWER_NUMBER):
                continue
            rt = self.planner.runtime[subentry_id]
            if rt.managed and not rt.overridden(now) and subentry_id in self.planner.data.names:
                return subentry_id
        return None

    def _follow(
        self,
        subentry_id: str,
        cfg: DeviceConfig,
        action: Action,
        now: datetime,
        pending_w: float = 0.0,
    ) -> tuple[Action, bool]:
        """The plan's battery power corrected for what the home draws now (engine/follow.py).

        The grid is read live; the battery's own part of it is its setpoint now. The plan's
        power is sent as it is when there is nothing to correct by: no power number (a battery
        run by a mode select alone cannot be set to a power), another battery follows, the
        power budget holds this one, or the grid reading, the state of charge, the setpoint now
        or the plan step is unknown. Until the meter has reported FOLLOW_SETTLE after the last
        command (to any device), its reading does not show that command yet: a new planned
        power goes out as planned, else the setpoint stays. A change smaller than
        FOLLOW_DEADBAND_W is not sent. `pending_w`: what the other commands of this round add
        to the import. Returns the action and whether it is a correction (sent without a
        logbook entry unless it changes the battery's direction).
        """
        plan = self.planner.data.plan
        budget = self.budget
        if (
            plan is None
            or self._follower(now) != subentry_id
            or (budget is not None and budget.state.is_shed(cfg.name))
        ):
            return action, False
        collector = self.planner.collector
        index = plan_index(plan, now)
        reading = self.meter(now)
        grid = reading.value_w
        reported = collector.grid_reported_at()
        soc = state_value(self.hass, cfg.entity(CONF_SOC_ENTITY))
        current = battery_setpoint_w(self.hass, cfg)
        if index is None or grid is None or reported is None or soc is None or current is None:
            return action, False
        keep = Action(on=abs(current) >= IDLE_W, power_w=current)
        basis = self._follow_basis.get(subentry_id)
        self._follow_basis[subentry_id] = action.power_w
        if self._last_command is not None and reported < self._last_command + FOLLOW_SETTLE:
            return (action, False) if action.power_w != basis else (keep, True)
        rt = self.planner.runtime[subentry_id]
        reserve = battery_reserve_pct(cfg, rt)
        full = soc >= 100 - SOC_MARGIN_PCT
        empty = soc <= reserve + SOC_MARGIN_PCT
        target = battery_setpoint(
            action.power_w,
            plan.import_w[index] - plan.export_w[index],
            grid + pending_w - current + action.power_w,
            max_charge_w=max(0.0, action.power_w) if full else cfg.num(CONF_MAX_CHARGE_W, 3000.0),
            max_discharge_w=max(0.0, -action.power_w)
            if empty
            else cfg.num(CONF_MAX_DISCHARGE_W, 3000.0),
        )
        target = float(round(target))
        if abs(target - current) < FOLLOW_DEADBAND_W:
            return keep, True
        return Action(on=abs(target) >= IDLE_W, power_w=target), True

    def _budget_forbids(
        self, subentry_id: str, cfg: DeviceConfig, action: Action, raised: float, now: datetime
    ) -> bool:
        """True when the power budget holds the device back from what the plan wants.

        A device the budget has shed is not raised again by the plan (the budget restores it),
        and a device that the plan switches on must pass the conflict rules.
        """
        budget = self.budget
        if budget is None:
            return False
        # a lowered setpoint may leave a heat pump drawing as much as the plan wants: any
        # heating command would undo the budget's reduction
        raising = raised > 0 or (action.on and cfg.kind == SUBENTRY_THERMAL)
        if raising and budget.state.is_shed(cfg.name):
            _LOGGER.debug("%s is shed by the power budget: the plan waits", cfg.name)
            return True
        if raised <= 0:
            return False
        current = state_on(self.hass, cfg.control_entities[0] if cfg.control_entities else None)
        if not action.on or current or cfg.kind == SUBENTRY_BATTERY:
            return False
        permission = budget.may_start(subentry_id, action, now)
        if not permission:
            _LOGGER.debug("%s may not start now: %s", cfg.name, permission.reason)
        return not permission

    def _draw(self, cfg: DeviceConfig) -> float:
        """What a device draws from the home now, as far as its entities tell, W.

        The same estimate as the power budget's (`managed_device`): a charger's current times
        phases times voltage, a heat pump's power while it heats, a load's power while on.
        Where it is not known, the lower estimate: what a command adds is never understated.
        """
        if cfg.kind == SUBENTRY_BATTERY:
            if cfg.entity(CONF_POWER_NUMBER) is None:  # run by its mode select alone
                return battery_mode_power(self.hass, cfg) or 0.0
            return battery_setpoint_w(self.hass, cfg) or 0.0
        rt = self.planner.runtime[cfg.subentry_id]
        device = managed_device(self.hass, cfg, rt, last_switch=None)
        if device is not None:
            return max(0.0, device.power_w)
        if cfg.kind == SUBENTRY_EV:
            # whether the car is plugged in is unknown: it counts as drawing what its charger
            # is set to now (taken for its full power, a command up to it was no raise and
            # went out with no meter and no fuse check; a lower current is still no raise)
            switch = cfg.entity(CONF_CHARGE_SWITCH)
            if switch is not None and not state_on(self.hass, switch):
                return 0.0
            amps = state_value(self.hass, cfg.entity(CONF_CURRENT_NUMBER)) or 0.0
            return max(0.0, amps) * cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
        if state_on(self.hass, cfg.control_entities[0] if cfg.control_entities else None):
            return nominal_power(cfg, rt)
        return 0.0

    def _held(self, subentry_id: str, cfg: DeviceConfig, on: bool, now: datetime) -> bool:
        """True while the device's minimum on or off time forbids switching it to `on`.

        The dispatcher keeps its own timer (the last switching it sent, and the last change
        the planner saw): a plan that flip-flops never toggles a device faster than allowed,
        whatever the safety check is told.
        """
        if cfg.kind in (SUBENTRY_BATTERY, SUBENTRY_APPLIANCE):
            return False
        current = state_on(self.hass, cfg.control_entities[0] if cfg.control_entities else None)
        if current is None or current == on:
            return False
        last = self.last_switch(subentry_id)
        if last is None:
            return False
        since = now - last
        minimum = cfg.num(CONF_MIN_ON_MIN) if current else cfg.num(CONF_MIN_OFF_MIN)
        if since < timedelta(minutes=minimum):
            _LOGGER.debug(
                "%s stays %s: switched %s ago, minimum %g min",
                cfg.name,
                "on" if current else "off",
                since,
                minimum,
            )
            return True
        return False

    # -- commands ----------------------------------------------------------------------------

    def _calls(self, cfg: DeviceConfig, action: Action) -> list[_Call]:
        calls: list[_Call] = []
        data = cfg.data
        if cfg.kind == SUBENTRY_BATTERY:
            power = 0.0 if abs(action.power_w) < IDLE_W else float(round(action.power_w))
            if number := cfg.entity(CONF_POWER_NUMBER):
                value = power / battery_number_factor(self.hass, cfg)  # in the number's unit
                value = float(round(value, 3))
                calls.append(_Call("number", "set_value", number, {"value": value}, value))
            if select := cfg.entity(CONF_MODE_SELECT):
                key = (
                    CONF_OPTION_CHARGE
                    if power > 0
                    else CONF_OPTION_DISCHARGE
                    if power < 0
                    else CONF_OPTION_IDLE
                )
                if option := data.get(key):
                    calls.append(
                        _Call("select", "select_option", select, {"option": option}, option)
                    )
            return calls
        if cfg.kind == SUBENTRY_EV:
            if action.on and (number := cfg.entity(CONF_CURRENT_NUMBER)):
                unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
                amps = float(round(action.power_w / unit))
                calls.append(_Call("number", "set_value", number, {"value": amps}, amps))
            if switch := cfg.entity(CONF_CHARGE_SWITCH):
                service = "turn_on" if action.on else "turn_off"
                calls.append(_Call("switch", service, switch, {}, "on" if action.on else "off"))
            elif not action.on and (number := cfg.entity(CONF_CURRENT_NUMBER)):
                # no switch: a charger is stopped by its current (the form makes sure the
                # number goes to 0 A)
                calls.append(_Call("number", "set_value", number, {"value": 0.0}, 0.0))
            return calls
        entity_id = cfg.entity(CONF_SWITCH) or cfg.entity(CONF_THERMAL_ENTITY)
        if entity_id is None:  # pragma: no cover - the flow requires one
            return calls
        domain = entity_id.split(".")[0]
        if domain in ("climate", "water_heater"):
            target = cfg.num(CONF_T_MAX, 60) if action.on else cfg.num(CONF_T_MIN, 45)
            if action.setpoint_c is not None:
                target = action.setpoint_c
            target = self._setpoint(entity_id, target)
            calls.append(
                _Call(
                    domain,
                    "set_temperature",
                    entity_id,
                    {"temperature": target},
                    target,
                    attribute="temperature",
                )
            )
            return calls
        service = "turn_on" if action.on else "turn_off"
        calls.append(_Call(domain, service, entity_id, {}, "on" if action.on else "off"))
        return calls

    def _setpoint(self, entity_id: str, celsius: float) -> float:
        """A setpoint entered in °C, in the unit the entity takes (Home Assistant's unit
        system: a US-customary home sets °F) and within the entity's own range."""
        value = from_celsius(celsius, self.hass.config.units.temperature_unit)
        state = self.hass.states.get(entity_id)
        if state is not None:
            low = parse_number(state.attributes.get("min_temp"))
            high = parse_number(state.attributes.get("max_temp"))
            if high is not None:
                value = min(value, high)
            if low is not None:
                value = max(value, low)
        return round(value, 1)

    def _matches(self, entity_id: str, expect: Any, attribute: str | None = None) -> bool:
        """True when the entity shows `expect` now, or still shows how it answered the same
        command (a charger that settled at 13 A when told 15 A is not told again)."""
        state = self.hass.states.get(entity_id)
        if state is None:
            return False
        if self._state_matches(state, expect, attribute):
            return True
        return (
            self._commanded.get(entity_id) == (expect, attribute)
            and entity_id in self._answered
            and _reading(state, attribute) == self._answered[entity_id]
        )

    @staticmethod
    def _state_matches(
        state: State, expect: Any, attribute: str | None, *, answered: bool = False
    ) -> bool:
        """True when `state` shows `expect`; with `answered`, also a value the device may show
        after being set to `expect` (near it, clamped to its range, or limited below it)."""
        value = _reading(state, attribute)
        if isinstance(expect, float):
            try:
                number = float(value)
            except (TypeError, ValueError):
                return False
            if not answered:
                return abs(number - expect) < 0.51
            attrs = state.attributes
            return settles_near(
                expect,
                number,
                step=parse_number(attrs.get("step")),
                minimum=parse_number(attrs.get("min", attrs.get("min_temp"))),
                maximum=parse_number(attrs.get("max", attrs.get("max_temp"))),
            )
        return bool(value == expect)

    def _in_state(self, cfg: DeviceConfig, action: Action) -> bool:
        return all(
            self._matches(c.entity_id, c.expect, c.attribute) for c in self._calls(cfg, action)
        )

    def _device(self, subentry_id: str, cfg: DeviceConfig) -> Device | None:
        names = self.planner.data.names
        problem = self.planner.data.problem
        if problem is not None and subentry_id in names:
            for device in problem.devices:
                if device.name == names[subentry_id]:
                    return device
        rt = self.planner.runtime[subentry_id]
        return build_device(self.hass, cfg, rt, dt_util.utcnow(), n_steps=1)

    def _state(self, subentry_id: str, cfg: DeviceConfig) -> DeviceState:
        rt = self.planner.runtime[subentry_id]
        soc = state_value(self.hass, cfg.entity(CONF_SOC_ENTITY) or cfg.entity(CONF_EV_SOC_ENTITY))
        on = state_on(self.hass, cfg.control_entities[0]) if cfg.control_entities else None
        since = dt_util.utcnow() - rt.last_change if rt.last_change else None
        plugged = state_on(self.hass, cfg.entity(CONF_PLUGGED_ENTITY))
        return DeviceState(
            soc=None if soc is None else soc / 100,
            on=on if cfg.kind != SUBENTRY_BATTERY else None,
            since=since,
            plugged=plugged if cfg.kind == SUBENTRY_EV else None,
        )

    def meter(self, now: datetime) -> MeterReading:
        """The live grid reading and whether it may be acted on (engine/meter.py)."""
        return self.planner.collector.grid_reading(now, self.planner.default_grid_limit_w)

    def _headroom(self, cfg: DeviceConfig, reading: MeterReading) -> float:
        """How much more this device may draw before the home imports beyond its limit, W.

        The grid is read live (not from the last snapshot), so the commands sent a moment ago
        count; an export (a discharging battery, PV) adds to the headroom, as it does on the
        meter. Without a fresh, plausible reading there is no headroom at all.
        """
        if not reading.ok or reading.value_w is None:
            return 0.0
        limit, _ = self.limit(dt_util.utcnow())
        return limit - reading.value_w + self._draw(cfg)

    def _fit(self, cfg: DeviceConfig, action: Action, headroom: float) -> Action | None:
        """The largest command within the import headroom, or None when none is useful."""
        if cfg.kind == SUBENTRY_BATTERY and action.power_w > 0:
            power = float(int(max(0.0, headroom)))
            return Action(on=power >= IDLE_W, power_w=power)
        if cfg.kind == SUBENTRY_EV and cfg.entity(CONF_CURRENT_NUMBER):
            unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
            amps = int(headroom // unit)
            if amps >= cfg.num(CONF_MIN_CURRENT_A, 6):
                return Action(on=True, power_w=amps * unit)
        return None

    def _check(
        self, subentry_id: str, cfg: DeviceConfig, action: Action, *, fit: bool = True
    ) -> tuple[Action, tuple[str, ...]]:
        """The command to send (reduced to the import headroom if need be and `fit`) and what
        is wrong."""
        commanded = action.power_w if action.on or cfg.kind == SUBENTRY_BATTERY else 0.0
        if not action.on and cfg.kind != SUBENTRY_BATTERY:
            commanded = 0.0
        elif cfg.kind != SUBENTRY_BATTERY and commanded <= 0.0 and action.setpoint_c is None:
            # switched on with no power given: it draws what it draws when on
            commanded = nominal_power(cfg, self.planner.runtime[subentry_id])
        headroom: float | None = None  # a command that draws no more than now adds no import
        if commanded > self._draw(cfg) + 1.0:
            reading = self.meter(dt_util.utcnow())
            if not reading.ok:
                return action, (self._untrusted(reading),)
            headroom = self._headroom(cfg, reading)
        device = self._device(subentry_id, cfg)
        if device is None:
            # no model of the device now (an appliance with no run requested, a car whose
            # state is unknown): the fuse is still checked, with what it draws when on
            if headroom is not None and commanded - self._draw(cfg) > headroom:
                return action, (
                    f"{cfg.name}: {commanded:.0f} W would take the import over the limit "
                    f"({headroom:.0f} W of headroom)",
                )
            return action, ()
        state = self._state(subentry_id, cfg)

        def violations(act: Action) -> list[Any]:
            power = act.power_w if act.on or cfg.kind == SUBENTRY_BATTERY else 0.0
            if act.on and cfg.kind != SUBENTRY_BATTERY and power <= 0.0 and act.setpoint_c is None:
                power = commanded  # switched on: it draws what it draws when on
            return check_command(device, power, state, import_headroom_w=headroom)

        found = violations(action)
        if fit and found and headroom is not None and all(v.rule == "import_limit" for v in found):
            reduced = self._fit(cfg, action, headroom)
            if reduced is not None and not violations(reduced):
                _LOGGER.debug(
                    "%s: %.0f W reduced to %.0f W for the import limit",
                    cfg.name,
                    action.power_w,
                    reduced.power_w,
                )
                return reduced, ()
        return action, tuple(v.message for v in found)

    def _untrusted(self, reading: MeterReading) -> str:
        """Why a command that raises consumption waits: the meter cannot be trusted."""
        budget = self.budget
        if budget is not None:
            return budget.meter_text(reading)
        return f"no fresh, plausible grid reading ({reading.status})"

    async def async_command(
        self,
        subentry_id: str,
        action: Action,
        *,
        reason: str,
        log: str | None = None,
        retry: bool = True,
        logbook: bool = True,
        fit: bool = True,
    ) -> CommandResult:
        """Check, send and verify one command to a device; the single path to devices.

        `log` replaces the logbook's default text (state, power and `reason`). Without `retry`
        a failed command is reported at once (the power budget tries again at its next
        reaction rather than hold back every other device for seconds).
        Without `logbook` a successful command leaves no logbook entry (a failure always does).
        Without `fit` a command beyond the import headroom is refused rather than reduced (a
        restore that does not fit is no restore).
        """
        cfg = self.planner.configs[subentry_id]
        action, messages = self._check(subentry_id, cfg, action, fit=fit)
        if messages:
            _LOGGER.info("Command to %s refused by the safety check: %s", cfg.name, messages)
            result = CommandResult(ok=False, sent=False, violations=messages)
            self.last_results[subentry_id] = result
            return result
        calls = self._calls(cfg, action)
        if missing := [c.entity_id for c in calls if self.hass.states.get(c.entity_id) is None]:
            # its integration has not loaded it yet (Home Assistant is starting) or it is
            # gone: nothing is sent to an entity that does not exist; the next round tries
            _LOGGER.debug("Command to %s waits for %s", cfg.name, missing)
            result = CommandResult(
                ok=False, sent=False, violations=(f"{', '.join(missing)} does not exist (yet)",)
            )
            self.last_results[subentry_id] = result
            return result
        before = state_on(self.hass, cfg.control_entities[0] if cfg.control_entities else None)
        before_power = self._draw(cfg)
        reading_before = self.meter(dt_util.utcnow())
        error: str | None = None
        attempts = 0
        for delay in (*(self.retry_delays if retry else ()), None):
            attempts += 1
            error = await self._send(calls, subentry_id)
            if error is None:
                break
            if delay is not None:
                try:  # a retry waits, unless the home unloads meanwhile
                    await asyncio.wait_for(self._stopping.wait(), delay)
                except TimeoutError:
                    continue
                break
        issue_id = f"{ISSUE_COMMAND_FAILED}{subentry_id}"
        if error is not None:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="command_failed",
                translation_placeholders={"device": cfg.name, "error": error},
            )
            result = CommandResult(ok=False, sent=True, attempts=attempts, error=error)
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            result = CommandResult(ok=True, sent=True, attempts=attempts)
            # a command that should move the meter by more than a kilowatt is watched on it
            after_power = action.power_w if action.on or cfg.kind == SUBENTRY_BATTERY else 0.0
            self.planner.collector.meter_watch.expect(
                dt_util.utcnow(), reading_before.value_w, after_power - before_power
            )
            if cfg.kind not in (SUBENTRY_BATTERY, SUBENTRY_APPLIANCE) and before != action.on:
                self._switched[subentry_id] = dt_util.utcnow()
            if cfg.kind == SUBENTRY_APPLIANCE and action.on:
                rt = self.planner.runtime[subentry_id]
                if not before and self.budget is not None:
                    self.budget.record_start(cfg.name)  # a cycle this command started
                rt.started_at = rt.started_at or dt_util.utcnow()
                self.planner.async_save()
        self._last_command = dt_util.utcnow()
        if not logbook and cfg.kind == SUBENTRY_BATTERY:
            # a battery's change between charging, discharging and idle is always recorded
            logbook = _direction(action.power_w) != _direction(before_power)
        state = "on" if action.on else "off"
        text = log if log is not None else f"{state}, {action.power_w:.0f} W ({reason})"
        if logbook or error is not None:
            async_log_entry(
                self.hass,
                cfg.name,
                text + ("" if error is None else f": failed, {error}"),
                DOMAIN,
                calls[0].entity_id if calls else None,
            )
        self.last_results[subentry_id] = result
        return result

    def shed_command(self, subentry_id: str, shed: shedding.Action) -> Action | None:
        """The command that carries out one action of the power budget (None: nothing to send).

        ``defer`` holds an appliance that has not started (nothing to send: the plan waits);
        ``switch_off`` switches off; ``reduce_to`` and ``restore`` set the charging current,
        the battery's power or the heat pump's setpoint they carry, and a ``restore`` without a
        setting switches the device back on (an appliance is left to the plan to start).
        """
        cfg = self.planner.configs[subentry_id]
        params = shed.params
        unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
        if shed.action == "defer":
            return None
        if shed.action == "switch_off":
            return Action(on=False)
        if "current_a" in params:
            return Action(on=True, power_w=params["current_a"] * unit)
        if "battery_power_w" in params:
            power = params["battery_power_w"]
            if cfg.entity(CONF_POWER_NUMBER) is None and shed.action != "restore":
                # a mode select charges or discharges at full power: a reduction goes down
                # to the next mode that draws no more than asked (charging -> idle)
                if power < -IDLE_W:
                    power = -cfg.num(CONF_MAX_DISCHARGE_W, 3000.0)
                elif power < cfg.num(CONF_MAX_CHARGE_W, 3000.0):
                    power = 0.0
            return Action(on=abs(power) >= IDLE_W, power_w=power)
        if "setpoint_offset_k" in params:
            target = comfort_setpoint(cfg) + params["setpoint_offset_k"]
            restoring = shed.action == "restore"
            power = nominal_power(cfg, self.planner.runtime[subentry_id]) if restoring else 0.0
            return Action(on=True, power_w=power, setpoint_c=target)
        if cfg.kind == SUBENTRY_APPLIANCE:
            return None
        if cfg.kind == SUBENTRY_EV and (number := cfg.entity(CONF_CURRENT_NUMBER)):
            current = state_value(self.hass, number) or cfg.num(CONF_MIN_CURRENT_A, 6)
            return Action(on=True, power_w=current * unit)
        return Action(on=True, power_w=nominal_power(cfg, self.planner.runtime[subentry_id]))

    async def async_shed(
        self, subentry_id: str, shed: shedding.Action, *, log: str
    ) -> CommandResult | None:
        """Carry out one action of the power budget through `async_command` (None: no command).

        A hold (an appliance kept from starting) and a restore that hands a device back to the
        plan send nothing; they are still written to the logbook.
        """
        cfg = self.planner.configs[subentry_id]
        action = self.shed_command(subentry_id, shed)
        if action is None:
            async_log_entry(self.hass, cfg.name, log, DOMAIN, cfg.entity(CONF_SWITCH))
            if shed.action == "restore":
                self._plan_updated()
            return None
        return await self.async_command(
            subentry_id,
            action,
            reason="budget",
            log=log,
            retry=False,
            fit=shed.action != "restore",
        )

    async def _send(self, calls: list[_Call], subentry_id: str) -> str | None:
        """Send the calls in order; the first error, or None. While they go out, what the
        device's entities report is its answer to them."""
        self._sending.add(subentry_id)
        try:
            return await self._send_calls(calls)
        finally:
            self._sending.discard(subentry_id)

    async def _send_calls(self, calls: list[_Call]) -> str | None:
        for call in calls:
            context = Context()
            self._contexts.add(context.id)
            if len(self._contexts) > 200:
                self._contexts = set(list(self._contexts)[-100:])
            self._commanded[call.entity_id] = (call.expect, call.attribute)
            try:
                await self.hass.services.async_call(
                    call.domain,
                    call.service,
                    {"entity_id": call.entity_id, **call.data},
                    blocking=True,
                    context=context,
                )
            except (HomeAssistantError, ValueError) as err:
                return f"{call.entity_id}: {err}"
            state = self.hass.states.get(call.entity_id)
            if state is None or not self._state_matches(
                state, call.expect, call.attribute, answered=True
            ):
                return f"{call.entity_id} reads {state.state if state else 'nothing'}"
            self._answered[call.entity_id] = _reading(state, call.attribute)
        return None


_SETPOINTS = ("climate", "water_heater")
_SETPOINT_ATTRIBUTE = "temperature"


def _reading(state: State, attribute: str | None) -> Any:
    """What an entity shows: its state, or one attribute of it."""
    return state.attributes.get(attribute) if attribute else state.state


def current_step(planner: PlannerCoordinator, now: datetime) -> int | None:
    """Index of the plan step holding `now`."""
    plan = planner.data.plan
    return None if plan is None else plan_index(plan, now)
