"""Planning agent: model-predictive re-planning of every device of a home.

At every step boundary, and debounced when something that matters changes (new prices, an EV
plugged in or out, a user request, a large forecast error), the planner builds an engine
`Problem` from the collector's snapshot, the forecaster's forecasts, the device subentries
and their live states, and solves it in the executor. A failed solve keeps the last good plan
(and says so). The plan, the device runtimes (cycles that started, overrides, requests) and
the user's settings are persisted, so a restart neither starts a running cycle again nor
switches what the plan did not intend.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any

from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_change
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from ..collective import EnergyCollectiveConfigEntry
from ..const import (
    COMFORT_DAYS,
    CONF_EV_SOC_ENTITY,
    CONF_FINISH_BY,
    CONF_GRID_LIMIT_W,
    CONF_HORIZON_HOURS,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_ENTITY,
    CONF_STEP_MINUTES,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TARGET_SOC,
    CONF_TEMPERATURE_ENTITY,
    DEFAULT_GRID_LIMIT_W,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_STEP_MINUTES,
    DOMAIN,
    ENGINE_MODE,
    FORECAST_ERROR_W,
    MODE_AUTO,
    PLANNER_SAVE_DELAY_S,
    PLANNER_STORE_VERSION,
    REPLAN_DEBOUNCE_S,
    SOLVE_MIP_GAP,
    SOLVE_TIME_LIMIT_S,
    SUBENTRY_APPLIANCE,
    SUBENTRY_EV,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
    store_key,
)
from ..coordinator import AgentCoordinator
from ..engine import milp
from ..engine.explain import TEMPLATES, step_values
from ..engine.model import (
    Device,
    Grid,
    Plan,
    Problem,
    ProblemError,
    plan_from_dict,
    plan_to_dict,
    problem_from_dict,
    problem_to_dict,
)
from .collector import CollectorCoordinator, planning_grid
from .devices import (
    DeviceConfig,
    DeviceRuntime,
    build_device,
    device_configs,
    next_time_of_day,
    nominal_power,
    state_on,
    state_value,
)
from .forecaster import ForecasterCoordinator

_LOGGER = logging.getLogger(__name__)

RECOMMEND_TEMPLATE = "Starting {device} at {start} instead of now saves {saving} {currency}"
KEPT_TEMPLATE = "The last good plan is kept: {error}"
MIN_SAVING = 0.01


@dataclass(frozen=True, slots=True)
class Text:
    """A text for users: a translation key, its parameters and the rendered text."""

    key: str
    params: Mapping[str, Any]
    text: str
    device: str | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What the planner publishes."""

    plan: Plan | None
    problem: Problem | None
    computed_at: datetime | None
    kept: bool = False
    error: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    """Subentry id -> the device's name in the plan (devices in the problem only)."""
    explanations: tuple[Text, ...] = ()
    recommendations: tuple[Text, ...] = ()
    restored: bool = False
    """True for the plan read back from the store at start, until the first re-plan."""

    def device_plan_index(self, subentry_id: str, when: datetime) -> tuple[Any, int] | None:
        """The device plan of a subentry and the index of the step holding `when`."""
        if self.plan is None or subentry_id not in self.names:
            return None
        index = plan_index(self.plan, when)
        if index is None:
            return None
        try:
            return self.plan.device(self.names[subentry_id]), index
        except KeyError:  # pragma: no cover - names are built from the plan's problem
            return None


def plan_index(plan: Plan, when: datetime) -> int | None:
    """Index of the plan step holding `when`, or None outside the plan."""
    if when < plan.start:
        return None
    index = int((when - plan.start) / plan.step)
    return index if index < plan.n_steps else None


def _render(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


class PlannerCoordinator(AgentCoordinator[PlanResult]):
    """Plans the devices of a home; the dispatcher carries the plan out."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyCollectiveConfigEntry,
        collector: CollectorCoordinator,
        forecaster: ForecasterCoordinator,
    ) -> None:
        """Plan for the home of `entry`."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} planner",
            update_interval=None,
            request_refresh_debouncer=Debouncer(
                hass, _LOGGER, cooldown=REPLAN_DEBOUNCE_S, immediate=False
            ),
        )
        self.collector = collector
        self.forecaster = forecaster
        options = {**entry.data, **entry.options}
        self.step_minutes = int(options.get(CONF_STEP_MINUTES, DEFAULT_STEP_MINUTES))
        self.horizon_hours = int(options.get(CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS))
        self.default_grid_limit_w = float(options.get(CONF_GRID_LIMIT_W, DEFAULT_GRID_LIMIT_W))
        self.configs: dict[str, DeviceConfig] = device_configs(entry)
        self.runtime: dict[str, DeviceRuntime] = {k: DeviceRuntime() for k in self.configs}
        self.automatic = True
        self.mode = MODE_AUTO
        self.grid_limit_w: float | None = None
        """The planning limit a user set with the number (None: the fuse option)."""
        self.comfort_log: list[tuple[str, bool]] = []
        self.realised: dict[str, float] = {}
        self.last_good: PlanResult | None = None
        self.solve_time_limit_s = SOLVE_TIME_LIMIT_S
        self.adjusters: list[Callable[[Problem, datetime], Problem]] = []
        """Other agents' changes to every problem (grid signals, market trades), in order."""
        self._price_end: datetime | None = None
        self._translations: dict[str, str] = {}
        self.store: Store[dict[str, Any]] = Store(
            hass, PLANNER_STORE_VERSION, store_key(entry.entry_id, "planner")
        )
        self.data = PlanResult(plan=None, problem=None, computed_at=None)
        self._use_restored = False
        self._last_sample: datetime | None = None
        self._planned_step: datetime | None = None
        """The step during which the last plan was made."""
        self._saved_digest: str | None = None
        """A digest of what was last handed to the store (nothing is written twice)."""

    @property
    def import_limit_w(self) -> float:
        """The import limit plans keep to: the planning-limit number, never above the fuse.

        A number set before the fuse option was lowered cannot lift the limit above the new
        fuse: the lower of the two holds (a demand-response cap, lower still, is the
        dispatcher's and the grid agent's).
        """
        fuse = self.default_grid_limit_w
        return min(fuse, self.grid_limit_w) if self.grid_limit_w else fuse

    # -- persistence ----------------------------------------------------------------------

    async def _async_setup(self) -> None:
        stored = await self.store.async_load() or {}
        self.automatic = bool(stored.get("automatic", True))
        self.mode = str(stored.get("mode", MODE_AUTO))
        limit = stored.get("grid_limit_w")
        self.grid_limit_w = float(limit) if limit is not None else None
        self.comfort_log = [(str(t), bool(ok)) for t, ok in stored.get("comfort", [])]
        self.realised = {str(k): float(v) for k, v in stored.get("realised", {}).items()}
        now = dt_util.utcnow()
        for subentry_id, data in stored.get("devices", {}).items():
            if subentry_id in self.configs:
                rt = DeviceRuntime.from_dict(data)
                if rt.finish_by is not None and rt.finish_by > now + timedelta(days=30):
                    # a request no action accepts any more (a finish in the year 9999 never
                    # closed its cycle): forgotten, so the appliance can be planned again
                    _LOGGER.warning("Forgot a request of %s to finish by %s", data, rt.finish_by)
                    rt.requested, rt.finish_by, rt.request_duration_min = False, None, None
                self.runtime[subentry_id] = rt
        try:
            self._translations = await async_get_translations(
                self.hass, self.hass.config.language, "exceptions", {DOMAIN}
            )
        except Exception:
            self._translations = {}
        self._restore(stored, dt_util.utcnow())

    def _restore(self, stored: Mapping[str, Any], now: datetime) -> None:
        """Take the saved plan back while it still covers now (the first update keeps it)."""
        if not stored.get("plan"):
            return
        try:
            plan = plan_from_dict(stored["plan"])
            problem = problem_from_dict(stored["problem"]) if stored.get("problem") else None
            computed = dt_util.parse_datetime(str(stored.get("computed_at") or ""))
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.debug("The saved plan is not read back: %s", err)
            return
        if plan_index(plan, now) is None:
            return
        planned = {d.name for d in plan.devices}
        names = {
            str(k): str(v)
            for k, v in stored.get("names", {}).items()
            if k in self.configs and v in planned
        }
        result = PlanResult(
            plan=plan,
            problem=problem,
            computed_at=computed,
            names=names,
            explanations=self._explanations(plan),
            recommendations=self._recommendations(problem, plan) if problem else (),
            restored=True,
        )
        self.data = result
        if plan.status != "fallback":
            self.last_good = result
        self._use_restored = True

    def _store_data(self) -> dict[str, Any]:
        return {
            "automatic": self.automatic,
            "mode": self.mode,
            "grid_limit_w": self.grid_limit_w,
            "comfort": self.comfort_log,
            "realised": self.realised,
            "devices": {k: rt.as_dict() for k, rt in self.runtime.items()},
            "plan": plan_to_dict(self.data.plan) if self.data.plan else None,
            "problem": problem_to_dict(self.data.problem) if self.data.problem else None,
            "names": dict(self.data.names),
            "computed_at": self.data.computed_at.isoformat() if self.data.computed_at else None,
        }

    @callback
    def async_save(self) -> None:
        """Persist soon (debounced), only when something kept has changed since the last write
        (an SD card is not written every minute for nothing)."""
        data = self._store_data()
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        if digest == self._saved_digest:
            return
        self._saved_digest = digest
        self.store.async_delay_save(self._store_data, PLANNER_SAVE_DELAY_S)

    async def async_shutdown(self) -> None:
        """Persist at once when the home stops."""
        await super().async_shutdown()
        await self.store.async_save(self._store_data())

    # -- timing ---------------------------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Sample every minute, re-plan at every step boundary and when things change."""
        unsubs: list[CALLBACK_TYPE] = [
            async_track_time_change(self.hass, self._async_minute, second=0),
            self.collector.async_add_listener(self._collector_updated),
        ]
        watched = [
            entity_id
            for cfg in self.configs.values()
            for entity_id in (cfg.entity(CONF_PLUGGED_ENTITY), cfg.entity(CONF_SWITCH))
            if entity_id
        ]
        if watched:
            unsubs.append(async_track_state_change_event(self.hass, watched, self._watched))
        if self.data.restored:
            # the sources may still be loading: re-plan a little later, not on half the data
            self.hass.async_create_task(self.async_request_refresh())

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()

        return _stop

    def _step_start(self, now: datetime) -> datetime:
        local = dt_util.as_local(now).replace(second=0, microsecond=0)
        return local - timedelta(minutes=(local.hour * 60 + local.minute) % self.step_minutes)

    async def _async_minute(self, _fired: datetime) -> None:
        # the clock, not the time the timer was due: a late timer (a busy loop) must neither
        # miss a step boundary nor re-plan at a stale one
        now = dt_util.utcnow()
        self.sample(now)
        if self._step_start(now) != self._planned_step:
            await self.async_refresh()

    @callback
    def _collector_updated(self) -> None:
        snapshot = self.collector.data
        prices = snapshot.import_prices
        end = prices.end if prices is not None else None
        if end is not None and self._price_end is not None and end > self._price_end:
            self.hass.async_create_task(self.async_request_refresh())
        elif self.data.plan is None and (prices is not None or snapshot.import_price is not None):
            # no plan yet (no price was known when Home Assistant started): plan now it is
            self.hass.async_create_task(self.async_request_refresh())
        self._price_end = end
        if self._forecast_error(snapshot.time, snapshot.load_power_w):
            self.hass.async_create_task(self.async_request_refresh())

    def _forecast_error(self, now: datetime, load_w: float | None) -> bool:
        problem = self.data.problem
        if load_w is None or problem is None or self.data.plan is None:
            return False
        index = plan_index(self.data.plan, now)
        if index is None:
            return False
        return abs(load_w - problem.base_load_w[index]) > FORECAST_ERROR_W

    @callback
    def _watched(self, event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None or old.state == new.state:
            return
        now = dt_util.utcnow()
        for subentry_id, cfg in self.configs.items():
            if event.data["entity_id"] == cfg.entity(CONF_PLUGGED_ENTITY):
                if old.state == "on" and new.state != "on":
                    self._ev_left(subentry_id, cfg, now)
                self.hass.async_create_task(self.async_request_refresh())
            elif event.data["entity_id"] == cfg.entity(CONF_SWITCH):
                self._switch_changed(subentry_id, cfg, new.state == "on", now)

    # -- bookkeeping ----------------------------------------------------------------------

    def _record(self, when: datetime, ok: bool) -> None:
        self.comfort_log.append((when.isoformat(), ok))
        horizon = when - timedelta(days=COMFORT_DAYS)
        self.comfort_log = [
            (t, v)
            for t, v in self.comfort_log
            if (moment := dt_util.parse_datetime(t)) is not None and moment >= horizon
        ]

    def comfort_score(self) -> float | None:
        """Share (%) of the user's requirements met over the last days."""
        if not self.comfort_log:
            return None
        return round(100.0 * sum(ok for _, ok in self.comfort_log) / len(self.comfort_log), 1)

    def _ev_left(self, subentry_id: str, cfg: DeviceConfig, now: datetime) -> None:
        rt = self.runtime[subentry_id]
        soc = state_value(self.hass, cfg.entity(CONF_EV_SOC_ENTITY))
        target = (
            rt.target_soc_pct if rt.target_soc_pct is not None else cfg.num(CONF_TARGET_SOC, 80)
        )
        if soc is not None:
            self._record(now, soc >= target - 1.0)
        rt.departure = None
        self.async_save()

    def _switch_changed(self, subentry_id: str, cfg: DeviceConfig, on: bool, now: datetime) -> None:
        rt = self.runtime[subentry_id]
        if rt.last_on != on:
            rt.last_on = on
            rt.last_change = now
        if cfg.kind != SUBENTRY_APPLIANCE:
            return
        if on and rt.started_at is None:
            rt.started_at = now
            rt.recording = []
            self.hass.async_create_task(self.async_request_refresh())
        elif not on and rt.started_at is not None:
            self._cycle_done(rt, now)
        self.async_save()

    def _cycle_done(self, rt: DeviceRuntime, now: datetime) -> None:
        if rt.requested:
            late = rt.finish_by is not None and now > rt.finish_by + timedelta(minutes=5)
            self._record(now, not late)
        if len(rt.recording) >= 2:
            # five-minute means of the minute samples of this cycle
            samples = rt.recording
            rt.profile_w = [
                round(sum(chunk) / len(chunk), 1)
                for chunk in (samples[i : i + 5] for i in range(0, len(samples), 5))
            ]
        rt.started_at = None
        rt.requested = False
        rt.finish_by = None
        rt.request_duration_min = None
        rt.recording = []

    def sample(self, now: datetime) -> None:
        """Once a minute: cycles, run time, comfort, realised cost and overrides."""
        snapshot = self.collector.data
        # the time since the last sample (a minute, unless the loop was late), at most a step
        elapsed = 60.0
        if self._last_sample is not None:
            gap = (now - self._last_sample).total_seconds()
            elapsed = min(max(gap, 0.0), self.step_minutes * 60.0)
        self._last_sample = now
        if snapshot.grid_power_w is not None:
            grid = snapshot.grid_power_w
            price = snapshot.import_price if grid > 0 else snapshot.export_price
            if price is not None:
                day = dt_util.as_local(now).date().isoformat()
                kwh = grid / 1000 * elapsed / 3600
                self.realised = {day: self.realised.get(day, 0.0) + kwh * price}
        on_step = (dt_util.as_local(now).minute % self.step_minutes) == 0
        for subentry_id, cfg in self.configs.items():
            rt = self.runtime[subentry_id]
            if rt.override_until is not None and now >= rt.override_until:
                rt.override_until = None
                rt.override_on = None
                self.hass.async_create_task(self.async_request_refresh())
            on = state_on(self.hass, cfg.entity(CONF_SWITCH))
            if on is not None and rt.last_on != on:
                # when the switch really changed, not when this sample noticed it (a first
                # sample after a start would otherwise restart every minimum off-time)
                switch = self.hass.states.get(cfg.entity(CONF_SWITCH) or "")
                changed = switch.last_changed if switch is not None else now
                self._switch_changed(subentry_id, cfg, on, min(changed, now))
            if cfg.kind == SUBENTRY_APPLIANCE and rt.started_at is not None:
                power = state_value(self.hass, cfg.entity(CONF_POWER_ENTITY))
                if power is not None:
                    rt.recording.append(power)
            elif cfg.kind == SUBENTRY_INTERRUPTIBLE and on:
                from .devices import window

                first, _ = window(now, cfg.data.get("window_start"), cfg.data.get("window_end"))
                if rt.window_start != first:
                    rt.window_start, rt.ran_s = first, 0.0
                rt.ran_s += elapsed
            elif cfg.kind == SUBENTRY_EV and rt.departure is not None and now >= rt.departure:
                self._ev_left(subentry_id, cfg, now)
            elif cfg.kind == SUBENTRY_THERMAL and on_step:
                temp = state_value(self.hass, cfg.entity(CONF_TEMPERATURE_ENTITY))
                if temp is not None:
                    low, high = cfg.num(CONF_T_MIN, 45), cfg.num(CONF_T_MAX, 60)
                    self._record(now, low - 1.0 <= temp <= high + 1.0)
        if on_step:
            # the running totals (run time, realised cost) are kept once per step; what
            # changes a decision (a cycle, an override, a request) is saved when it happens
            self.async_save()

    # -- user requests ----------------------------------------------------------------------

    def request_run(
        self, subentry_id: str, finish_by: datetime | None, duration_min: float | None
    ) -> None:
        """Ask for one cycle of an appliance, finished by `finish_by`."""
        rt = self.runtime[subentry_id]
        rt.requested = True
        if finish_by is None:
            default = self.configs[subentry_id].data.get(CONF_FINISH_BY)
            finish_by = next_time_of_day(dt_util.utcnow(), default, time(7))
        rt.finish_by = finish_by
        rt.request_duration_min = duration_min
        self.async_save()

    def cancel_run(self, subentry_id: str) -> None:
        """Forget a requested cycle (a running cycle is left to finish)."""
        rt = self.runtime[subentry_id]
        rt.requested = False
        rt.finish_by = None
        rt.request_duration_min = None
        self.async_save()

    def set_override(self, subentry_id: str, minutes: float, on: bool | None) -> None:
        """Hold a device as the user has it (or as `on` says) for `minutes`."""
        rt = self.runtime[subentry_id]
        rt.override_until = dt_util.utcnow() + timedelta(minutes=minutes)
        cfg = self.configs[subentry_id]
        rt.override_on = (
            on
            if on is not None
            else state_on(self.hass, cfg.control_entities[0] if cfg.control_entities else None)
        )
        self.async_save()

    # -- planning ---------------------------------------------------------------------------

    def build_problem(self, now: datetime) -> tuple[Problem, dict[str, str]]:
        """The planning problem of the home now, and subentry id -> device name."""
        snapshot = self.collector.data
        forecasts = self.forecaster.data
        start, n = planning_grid(dt_util.as_local(now), self.step_minutes, self.horizon_hours)
        step = timedelta(minutes=self.step_minutes)
        # steps in real time: added to a local time, a step would follow the wall clock and
        # skip (or repeat) an hour on the days the clocks change
        times = [dt_util.as_utc(start) + step * i for i in range(n)]
        if snapshot is None or (snapshot.import_prices is None and snapshot.import_price is None):
            raise ProblemError("no import price is known")

        def prices(series: Any, current: float | None) -> tuple[float, ...]:
            out: list[float] = []
            last = current
            for t in times:
                value = series.value_at(t) if series is not None else None
                if value is None:
                    value = last
                out.append(0.0 if value is None else float(value))
                last = value
            return tuple(out)

        def forecast(result: Any) -> tuple[float, ...]:
            if result is None:
                return (0.0,) * n
            out = []
            for t in times:
                k = int((t - result.start) / result.step) if t >= result.start else -1
                out.append(max(0.0, float(result.p50[k])) if 0 <= k < len(result.p50) else 0.0)
            return tuple(out)

        base = list(forecast(forecasts.load))
        devices: list[Device] = []
        names: dict[str, str] = {}
        for subentry_id, cfg in self.configs.items():
            rt = self.runtime[subentry_id]
            if rt.overridden(now):
                if rt.override_on:
                    held = min(n, max(1, int((rt.override_until - start) / step) + 1))  # type: ignore[operator]
                    power = nominal_power(cfg, rt)
                    for i in range(held):
                        base[i] += power
                continue
            device = build_device(self.hass, cfg, rt, now, n_steps=n, step=step)
            if device is not None:
                devices.append(device)
                names[subentry_id] = device.name
        limit = self.import_limit_w
        problem = Problem(
            start=start,
            step=step,
            n_steps=n,
            import_price=prices(snapshot.import_prices, snapshot.import_price),
            export_price=prices(snapshot.export_prices, snapshot.export_price),
            base_load_w=tuple(base),
            pv_w=forecast(forecasts.pv),
            wind_w=forecast(forecasts.wind),
            grid=Grid(import_limit_w=(limit,) * n, export_limit_w=(limit,) * n),
            devices=tuple(devices),
            mode=ENGINE_MODE.get(self.mode, "cost"),  # type: ignore[arg-type]
            currency=snapshot.currency or self.hass.config.currency,
            name=self.config_entry.title,
        )
        for adjust in self.adjusters:
            problem = adjust(problem, now)
        return problem, names

    async def _async_update_data(self) -> PlanResult:
        now = dt_util.utcnow()
        self._planned_step = self._step_start(now)
        if self._use_restored:
            # the first update after a restart publishes the saved plan as it was
            self._use_restored = False
            return self.data
        try:
            problem, names = self.build_problem(now)
        except ProblemError as err:
            return self._keep(now, str(err))
        plan = await self.hass.async_add_executor_job(
            partial(
                milp.solve,
                problem,
                time_limit_s=self.solve_time_limit_s,
                mip_gap=SOLVE_MIP_GAP,
            )
        )
        if plan.status == "fallback" and self._last_good_covers(now):
            return self._keep(now, plan.message or "the solver failed")
        result = PlanResult(
            plan=plan,
            problem=problem,
            computed_at=now,
            names=names,
            explanations=self._explanations(plan),
            recommendations=self._recommendations(problem, plan),
        )
        if plan.status != "fallback":
            self.last_good = result
        # the new plan is kept with the running totals at the next step boundary (sample):
        # a home re-plans every few minutes, and each would otherwise be a write
        return result

    def _last_good_covers(self, now: datetime) -> bool:
        good = self.last_good
        return good is not None and good.plan is not None and plan_index(good.plan, now) is not None

    def _keep(self, now: datetime, error: str) -> PlanResult:
        _LOGGER.warning("Planning failed, keeping the last good plan: %s", error)
        good = self.last_good if self._last_good_covers(now) else None
        base = good or self.data
        text = self._text("plan_kept", {"error": error}, KEPT_TEMPLATE)
        return replace(
            base,
            kept=good is not None,
            error=error,
            explanations=(text, *(good.explanations if good else ())),
        )

    def _template(self, key: str, default: str) -> str:
        return self._translations.get(f"component.{DOMAIN}.exceptions.{key}.message", default)

    def _text(
        self, key: str, params: Mapping[str, Any], default: str, device: str | None = None
    ) -> Text:
        return Text(key, params, _render(self._template(key, default), params), device)

    def _explanations(self, plan: Plan) -> tuple[Text, ...]:
        return tuple(
            self._text(f"explain_{e.key}", e.params, TEMPLATES.get(e.key, e.text), e.device)
            for e in plan.explanations
        )

    def _recommendations(self, problem: Problem, plan: Plan) -> tuple[Text, ...]:
        value = step_values(problem, plan)
        hours = problem.step_hours
        out: list[Text] = []
        for dp in plan.devices:
            if dp.kind != "appliance" or dp.start_step is None or dp.start_step == 0:
                continue
            running = [t for t, p in enumerate(dp.power_w) if p > 0]
            if not running:  # pragma: no cover - a started cycle has power
                continue
            shift = dp.start_step
            planned = sum(value[t] * dp.power_w[t] for t in running) * hours / 1000
            now_cost = sum(value[t - shift] * dp.power_w[t] for t in running) * hours / 1000
            saving = now_cost - planned
            if saving >= MIN_SAVING and dp.start is not None:
                params = {
                    "device": dp.name,
                    "start": dt_util.as_local(dp.start).strftime("%H:%M"),
                    "saving": round(saving, 2),
                    "currency": problem.currency,
                }
                out.append(self._text("recommend_wait", params, RECOMMEND_TEMPLATE, dp.name))
        return tuple(out)

    # -- figures for the sensors --------------------------------------------------------------

    def expected_cost(self, day_offset: int) -> float | None:
        """Expected energy cost of today (realised plus planned) or of tomorrow (planned)."""
        plan, problem = self.data.plan, self.data.problem
        if plan is None or problem is None:
            return None
        now = dt_util.now()
        day = (now + timedelta(days=day_offset)).date()
        total = self.realised.get(day.isoformat(), 0.0) if day_offset == 0 else 0.0
        hours = problem.step_hours
        for t, when in enumerate(plan.times()):
            local = dt_util.as_local(when)
            if local.date() != day or when + plan.step <= now:
                continue
            share = 1.0
            if when < now:
                share = (when + plan.step - now) / plan.step
            cost = (
                plan.import_w[t] * problem.import_price[t]
                - plan.export_w[t] * problem.export_price[t]
            )
            total += cost / 1000 * hours * share
        return round(total, 2)
