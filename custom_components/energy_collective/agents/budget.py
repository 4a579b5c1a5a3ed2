"""Power budget agent: keeps the measured grid import under the limit, in real time.

Between planning steps the grid can still go over the main fuse (or a demand-response cap):
an oven and a kettle switched on while the car charges. This agent reacts to every state
change of the grid power sensor(s) (and, every 30 s, to the clock, so that loads come back
when the sensor is quiet). Each reaction reads the live import, the limit that holds now, and
the home's devices as they are, asks `engine.dispatch.decide` what to do and sends every
action through the dispatcher's single command path (safety check, retries, logbook).

What it remembers (what it shed, in which order, recent cycle starts) is a `DispatchState`,
saved as JSON. The "Grid headroom" sensor shows the limit minus the import after each
reaction, with the devices currently shed; a repair issue says when shedding everything it may
touch still leaves the home over the limit.

In an advisory home (automatic control off, or the manual mode) the agent commands nothing:
it still measures, so the headroom sensor stays current.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from ..collective import EnergyCollectiveConfigEntry
from ..const import (
    BUDGET_CHECK_INTERVAL,
    BUDGET_SAVE_DELAY_S,
    BUDGET_STORE_VERSION,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_POWER,
    CONF_HIGH_POWER_W,
    CONF_MAX_HIGH_POWER,
    CONF_MIN_CURRENT_A,
    CONF_PHASES,
    CONF_RESTORE_HYSTERESIS_W,
    CONF_VOLTAGE_V,
    DEFAULT_HIGH_POWER_W,
    DEFAULT_MAX_HIGH_POWER,
    DEFAULT_RESTORE_HYSTERESIS_W,
    DOMAIN,
    LIMIT_SOURCE_FUSE,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    store_key,
)
from ..engine.dispatch import (
    Action as ShedAction,
)
from ..engine.dispatch import (
    DispatchConfig,
    DispatchError,
    DispatchState,
    ManagedDevice,
    Permission,
    decide,
    may_start,
    record_start,
)
from ..engine.meter import MeterReading
from .collector import home_config
from .devices import managed_device
from .dispatcher import Action, Dispatcher

_LOGGER = logging.getLogger(__name__)

ISSUE_OVER_LIMIT = "over_limit"
ISSUE_METER = "grid_meter_untrusted"
MINUTE = timedelta(minutes=1)
TEXTS: Mapping[str, str] = {
    "budget_defer": (
        "held back: the grid import of {import_w} W is {over_w} W over the {source} ({limit_w} W)"
    ),
    "budget_reduce": (
        "reduced to {setting}, about {saved_w} W less: the grid import of {import_w} W is "
        "{over_w} W over the {source} ({limit_w} W)"
    ),
    "budget_switch_off": (
        "switched off, about {saved_w} W less: the grid import of {import_w} W is {over_w} W "
        "over the {source} ({limit_w} W)"
    ),
    "budget_restore": (
        "restored ({setting}): the grid import of {import_w} W is {headroom_w} W under the "
        "{source} ({limit_w} W)"
    ),
    "budget_limit_fuse": "main fuse",
    "budget_limit_demand_response": "demand-response cap",
    "meter_missing": "it gives no value",
    "meter_stale": "its last report is {age} s old",
    "meter_implausible": "it reads a value the connection cannot carry",
    "meter_not_moving": (
        "it did not move after a command that should have moved it by more than 1 kW"
    ),
    "meter_untrusted": (
        "No fresh, plausible grid reading ({reason}): nothing that raises consumption is sent"
    ),
}
"""English defaults of the logbook texts (translated under `exceptions`)."""


def _w(value: float) -> str:
    return f"{value:.0f}"


class PowerBudget:
    """The power budget of one home (set as `entry.runtime_data.budget`)."""

    def __init__(
        self, hass: HomeAssistant, entry: EnergyCollectiveConfigEntry, dispatcher: Dispatcher
    ) -> None:
        """Shed for the home of `entry`, through `dispatcher`."""
        self.hass = hass
        self.entry = entry
        self.dispatcher = dispatcher
        self.planner = dispatcher.planner
        options = home_config(entry)
        self.config = DispatchConfig(
            hysteresis_w=float(
                options.get(CONF_RESTORE_HYSTERESIS_W, DEFAULT_RESTORE_HYSTERESIS_W)
            ),
            max_high_power=max(1, int(options.get(CONF_MAX_HIGH_POWER, DEFAULT_MAX_HIGH_POWER))),
            high_power_w=float(options.get(CONF_HIGH_POWER_W, DEFAULT_HIGH_POWER_W)),
        )
        self.grid_entities = [
            str(options[key])
            for key in (CONF_GRID_POWER, CONF_GRID_IMPORT_POWER, CONF_GRID_EXPORT_POWER)
            if options.get(key)
        ]
        self.state = DispatchState()
        self.import_w: float | None = None
        self.limit_w: float | None = None
        self.limit_source = LIMIT_SOURCE_FUSE
        self.residual_w = 0.0
        self.reactions = 0
        self.meter_reading: MeterReading | None = None
        """The grid reading of the last reaction and whether it could be trusted."""
        self.store: Store[dict[str, Any]] = Store(
            hass, BUDGET_STORE_VERSION, store_key(entry.entry_id, "budget")
        )
        self._listeners: list[Callable[[], None]] = []
        self._running = False
        self._again = False
        self._texts: dict[str, str] = {}

    # -- persistence and wiring ------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the saved state back (a broken one is forgotten) and the logbook texts."""
        stored = await self.store.async_load()
        if stored:
            try:
                self.state = DispatchState.from_dict(stored)
            except DispatchError as err:
                _LOGGER.warning("The saved shedding state is not read back: %s", err)
        try:
            self._texts = await async_get_translations(
                self.hass, self.hass.config.language, "exceptions", {DOMAIN}
            )
        except Exception:  # the English texts serve
            self._texts = {}

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """React to the grid sensor(s), and to the clock; returns the stop callback."""
        self.dispatcher.budget = self
        unsubs = [async_track_time_interval(self.hass, self._tick, BUDGET_CHECK_INTERVAL)]
        if self.grid_entities:
            unsubs.append(
                async_track_state_change_event(self.hass, self.grid_entities, self._grid_changed)
            )

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()
            if self.dispatcher.budget is self:
                self.dispatcher.budget = None
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_OVER_LIMIT}_{self.entry.entry_id}")
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_METER}_{self.entry.entry_id}")
            self.hass.async_create_task(self.store.async_save(self.state.to_dict()))

        return _stop

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every reaction; returns the remove callback."""
        self._listeners.append(listener)

        @callback
        def _remove() -> None:
            self._listeners.remove(listener)

        return _remove

    @callback
    def _grid_changed(self, event: Event[EventStateChangedData]) -> None:
        self.request()

    @callback
    def _tick(self, _now: datetime) -> None:
        self.request()

    @callback
    def request(self) -> None:
        """React now (or right after the reaction under way)."""
        if self._running:
            self._again = True
            return
        self.entry.async_create_task(self.hass, self.async_react(), f"{DOMAIN} budget")

    # -- the reaction ----------------------------------------------------------------------

    @property
    def headroom_w(self) -> float | None:
        """The limit minus the measured import at the last reaction, W."""
        if self.import_w is None or self.limit_w is None:
            return None
        return self.limit_w - self.import_w

    @property
    def shed_devices(self) -> list[str]:
        """The names of the devices currently shed, in the order they were shed."""
        names: list[str] = []
        for record in self.state.shed:
            if record.device not in names:
                names.append(record.device)
        return names

    async def async_react(self) -> None:
        """One reaction, and again while the grid changed during it."""
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            while True:
                self._again = False
                await self._react(dt_util.utcnow())
                if not self._again:
                    break
                await asyncio.sleep(0)
        finally:
            self._running = False

    def devices(self, now: datetime) -> dict[str, tuple[str, ManagedDevice]]:
        """Device name -> (subentry id, the device as the budget sees it now).

        Devices that are not managed count as critical: they are measured, never touched. A
        device held by the owner's manual change may still be reduced to protect the fuse.
        """
        out: dict[str, tuple[str, ManagedDevice]] = {}
        for subentry_id, cfg in self.planner.configs.items():
            rt = self.planner.runtime[subentry_id]
            pending = False
            if cfg.kind == SUBENTRY_APPLIANCE and self.planner.data.plan is not None:
                wanted = self.dispatcher.wanted(subentry_id, now)
                pending = wanted is not None and wanted.on
            device = managed_device(
                self.hass,
                cfg,
                rt,
                last_switch=self.dispatcher.last_switch(subentry_id),
                pending=pending,
            )
            if device is None:
                continue
            if not rt.managed:
                device = replace(device, priority="critical")
            # a device the owner changed by hand keeps its priority: the plan leaves it alone,
            # but the fuse comes first (the budget restores the owner's setting afterwards)
            out[device.name] = (subentry_id, device)
        return out

    def release(self, devices: list[str]) -> None:
        """Forget the shedding of `devices`: the dispatcher gave them back as the home unloads.

        What could not be given back (the fuse would not allow it) stays recorded, and is
        restored by the budget once the home runs again.
        """
        self.state = replace(
            self.state, shed=tuple(r for r in self.state.shed if r.device not in devices)
        )
        self._notify()

    @property
    def meter_ok(self) -> bool | None:
        """Whether the last reaction had a fresh, plausible grid reading (None: no reaction)."""
        return None if self.meter_reading is None else self.meter_reading.ok

    def meter_text(self, reading: MeterReading) -> str:
        """Why a reading is not trusted, in the user's language."""
        reason = self._text(f"meter_{reading.status}", age=f"{reading.age_s or 0:.0f}")
        return self._text("meter_untrusted", reason=reason)

    def _meter_issue(self, reading: MeterReading) -> None:
        """Raise the repair that says why the meter is not trusted, or clear it."""
        issue_id = f"{ISSUE_METER}_{self.entry.entry_id}"
        if reading.ok:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="grid_meter_untrusted",
            translation_placeholders={
                "home": self.entry.title,
                "entity": ", ".join(self.grid_entities),
                "reason": self._text(f"meter_{reading.status}", age=f"{reading.age_s or 0:.0f}"),
            },
        )

    async def _react(self, now: datetime) -> None:
        reading = self.dispatcher.meter(now)
        changed = self.meter_reading is None or self.meter_reading.status != reading.status
        self.meter_reading = reading
        if changed:
            self._meter_issue(reading)
        if not reading.ok or reading.value_w is None:
            # nothing is shed on the word of a meter we cannot trust, and nothing raised: the
            # devices keep their state until it reports a fresh, plausible value again
            self.import_w = None
            self._notify()
            return
        grid = reading.value_w
        limit, source = self.dispatcher.limit(now)
        self.import_w, self.limit_w, self.limit_source = grid, limit, source
        self.reactions += 1
        if self.dispatcher.advisory:
            self._alert(0.0, limit, source)  # nothing is shed in an advisory home
            self._notify()
            return
        found = self.devices(now)
        decision = decide(
            now,
            grid,
            limit,
            [device for _, device in found.values()],
            self.state,
            config=self.config,
        )
        self.state = decision.state
        for action in decision.actions:
            subentry_id, device = found[action.device]
            await self._apply(subentry_id, device, action, now)
        self._alert(decision.residual_w, limit, source)
        if decision.actions:
            self.store.async_delay_save(self.state.to_dict, BUDGET_SAVE_DELAY_S)
        self._notify()

    async def _apply(
        self, subentry_id: str, device: ManagedDevice, action: ShedAction, now: datetime
    ) -> None:
        if action.action == "restore" and not self._restore_wanted(subentry_id, action, now):
            return
        text = self._describe(subentry_id, action)
        result = await self.dispatcher.async_shed(subentry_id, action, log=text)
        if result is None or result.ok or action.action in ("reduce_to", "restore"):
            return
        # a switch that did not happen: forget it, so that nothing is restored for it later
        self.state = replace(
            self.state,
            shed=tuple(
                r
                for r in self.state.shed
                if not (r.device == device.name and r.at == now and r.action == action.action)
            ),
        )

    def _restore_wanted(self, subentry_id: str, action: ShedAction, now: datetime) -> bool:
        """Whether to send a restore: not when the plan wants the device off by now."""
        if self.planner.configs[subentry_id].kind == SUBENTRY_BATTERY:
            return True
        if self.planner.data.plan is None:
            return True
        wanted = self.dispatcher.wanted(subentry_id, now)
        return wanted is None or wanted.on

    def _alert(self, residual_w: float, limit: float, source: str) -> None:
        issue_id = f"{ISSUE_OVER_LIMIT}_{self.entry.entry_id}"
        if residual_w > 0:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_OVER_LIMIT,
                translation_placeholders={
                    "home": self.entry.title,
                    "limit_w": _w(limit),
                    "residual_w": _w(residual_w),
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- texts -----------------------------------------------------------------------------

    def _text(self, key: str, **params: str) -> str:
        template = self._texts.get(f"component.{DOMAIN}.exceptions.{key}.message", TEXTS[key])
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return TEXTS[key].format(**params)

    def _setting(self, subentry_id: str, action: ShedAction) -> str:
        params = action.params
        if "current_a" in params:
            return f"{params['current_a']:g} A"
        if "battery_power_w" in params:
            return f"{params['battery_power_w']:.0f} W"
        if "setpoint_offset_k" in params:
            command = self.dispatcher.shed_command(subentry_id, action)
            target = command.setpoint_c if command is not None else None
            return f"{target:g} °C" if target is not None else f"{params['setpoint_offset_k']:g} K"
        return "on"

    def _describe(self, subentry_id: str, action: ShedAction) -> str:
        """The logbook text of an action: which limit, how far over (or under), what was done."""
        limit = self.limit_w or 0.0
        grid = self.import_w or 0.0
        source = self._text(f"budget_limit_{self.limit_source}")
        common = {"import_w": _w(grid), "limit_w": _w(limit), "source": source}
        saved = _w(abs(action.params.get("saved_w", 0.0)))
        if action.action == "restore":
            setting = self._setting(subentry_id, action)
            return self._text(
                "budget_restore", setting=setting, headroom_w=_w(limit - grid), **common
            )
        over = _w(grid - limit)
        if action.action == "defer":
            return self._text("budget_defer", over_w=over, **common)
        if action.action == "switch_off":
            return self._text("budget_switch_off", over_w=over, saved_w=saved, **common)
        setting = self._setting(subentry_id, action)
        return self._text("budget_reduce", setting=setting, over_w=over, saved_w=saved, **common)

    # -- for the plan dispatcher -----------------------------------------------------------

    def may_start(self, subentry_id: str, action: Action, now: datetime) -> Permission:
        """Whether the plan may switch a device on now (`engine.dispatch.may_start`).

        The headroom is judged on the live import; a car charger is judged at its lowest
        current (the dispatcher fits the current to the headroom).
        """
        cfg = self.planner.configs[subentry_id]
        device = managed_device(
            self.hass,
            cfg,
            self.planner.runtime[subentry_id],
            last_switch=self.dispatcher.last_switch(subentry_id),
        )
        if device is None:
            return Permission(True, "allowed")
        rated = action.power_w
        if cfg.kind == SUBENTRY_EV:
            unit = cfg.num(CONF_PHASES, 3) * cfg.num(CONF_VOLTAGE_V, 230)
            rated = min(rated, unit * cfg.num(CONF_MIN_CURRENT_A, 6))
        device = replace(device, on=False, rated_power_w=max(0.0, rated))
        grid = self.planner.collector.grid_power_w(now)
        limit, _ = self.dispatcher.limit(now)
        state = self.state
        if grid is not None:
            state = replace(state, import_w=grid, limit_w=limit)
        return may_start(device, now, state, self.config)

    def record_start(self, device: str) -> None:
        """Register an uninterruptible cycle that the dispatcher just started."""
        now = dt_util.utcnow()
        if any(n == device and now - t < MINUTE for n, t in self.state.cycle_starts):
            return  # already registered: the restore that let it start counted it
        self.state = record_start(self.state, device, now)
        self.store.async_delay_save(self.state.to_dict, BUDGET_SAVE_DELAY_S)
