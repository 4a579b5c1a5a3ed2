"""Actions of Energy Collective: optimize, request_run, cancel_run and set_override."""

from __future__ import annotations

from datetime import datetime, timedelta

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .agents.dispatcher import Action
from .collective import EnergyCollectiveConfigEntry
from .const import (
    ATTR_CONFIG_ENTRY,
    ATTR_DEVICE_ID,
    ATTR_DURATION,
    ATTR_END,
    ATTR_FINISH_BY,
    ATTR_IMPORT_CAP_W,
    ATTR_INCENTIVE,
    ATTR_MINUTES,
    ATTR_START,
    ATTR_STATE,
    DOMAIN,
    SERVICE_CANCEL_RUN,
    SERVICE_DEMAND_RESPONSE,
    SERVICE_OPTIMIZE,
    SERVICE_REQUEST_RUN,
    SERVICE_SET_OVERRIDE,
    SUBENTRY_APPLIANCE,
    Schema,
)
from .engine.grid import DemandResponseError, action_event
from .engine.model import plan_to_dict

OPTIMIZE_SCHEMA: Schema = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY): cv.string})
REQUEST_RUN_SCHEMA: Schema = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_FINISH_BY): cv.datetime,
        vol.Optional(ATTR_DURATION): cv.positive_time_period,
    }
)
CANCEL_RUN_SCHEMA: Schema = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
SET_OVERRIDE_SCHEMA: Schema = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_MINUTES): vol.All(vol.Coerce(float), vol.Range(min=0, max=7 * 24 * 60)),
        vol.Optional(ATTR_STATE): cv.boolean,
    }
)

DEMAND_RESPONSE_SCHEMA: Schema = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_IMPORT_CAP_W): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(ATTR_INCENTIVE): vol.Coerce(float),
    }
)


def _entry(hass: HomeAssistant, entry_id: str) -> EnergyCollectiveConfigEntry:
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"entry": entry.title},
        )
    return entry


def _device(hass: HomeAssistant, device_id: str) -> tuple[EnergyCollectiveConfigEntry, str]:
    """The home entry and subentry id of a managed device.

    Found by the device's identifier (`<entry id>_<subentry id>`), which every Home
    Assistant release keeps, rather than by the registry's config-entry fields, whose
    shape changed in 2026.8.
    """
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        names = {ident for domain, ident in device.identifiers if domain == DOMAIN}
        for entry in hass.config_entries.async_entries(DOMAIN):
            for subentry_id in entry.subentries:
                if f"{entry.entry_id}_{subentry_id}" not in names:
                    continue
                home = _entry(hass, entry.entry_id)
                if subentry_id in home.runtime_data.planner.configs:
                    return home, subentry_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="device_not_found",
        translation_placeholders={"device": device_id},
    )


async def _optimize(call: ServiceCall) -> ServiceResponse:
    entry = _entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
    planner = entry.runtime_data.planner
    await planner.async_refresh()
    plan = planner.data.plan
    if plan is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_plan",
            translation_placeholders={"error": planner.data.error or ""},
        )
    return {
        "plan": plan_to_dict(plan),
        "kept": planner.data.kept,
        "explanations": [text.text for text in planner.data.explanations],
        "recommendations": [text.text for text in planner.data.recommendations],
    }


async def _request_run(call: ServiceCall) -> None:
    entry, subentry_id = _device(call.hass, call.data[ATTR_DEVICE_ID])
    planner = entry.runtime_data.planner
    cfg = planner.configs[subentry_id]
    if cfg.kind != SUBENTRY_APPLIANCE:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_an_appliance",
            translation_placeholders={"device": cfg.name},
        )
    now = dt_util.utcnow()
    # what the planner can honour: a finish within its horizon and a day, a cycle no longer
    # than a day or the horizon, and a finish that leaves the cycle time to run
    latest = now + timedelta(hours=planner.horizon_hours) + timedelta(days=1)
    longest = min(timedelta(days=1), timedelta(hours=planner.horizon_hours))
    finish_by: datetime | None = call.data.get(ATTR_FINISH_BY)
    if finish_by is not None:
        if finish_by.tzinfo is None:
            finish_by = finish_by.replace(tzinfo=dt_util.get_default_time_zone())
        if finish_by <= now:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="finish_in_past",
                translation_placeholders={"device": cfg.name},
            )
        if finish_by > latest:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="finish_too_late",
                translation_placeholders={
                    "device": cfg.name,
                    "latest": dt_util.as_local(latest).strftime("%Y-%m-%d %H:%M"),
                },
            )
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    if duration is not None and duration > longest:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="duration_too_long",
            translation_placeholders={
                "device": cfg.name,
                "hours": f"{longest.total_seconds() / 3600:g}",
            },
        )
    if duration is not None and finish_by is not None and finish_by < now + duration:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="finish_before_duration",
            translation_placeholders={
                "device": cfg.name,
                "minutes": f"{duration.total_seconds() / 60:g}",
            },
        )
    planner.request_run(subentry_id, finish_by, duration.total_seconds() / 60 if duration else None)
    await planner.async_refresh()


async def _cancel_run(call: ServiceCall) -> None:
    entry, subentry_id = _device(call.hass, call.data[ATTR_DEVICE_ID])
    planner = entry.runtime_data.planner
    cfg = planner.configs[subentry_id]
    if cfg.kind != SUBENTRY_APPLIANCE:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_an_appliance",
            translation_placeholders={"device": cfg.name},
        )
    planner.cancel_run(subentry_id)
    await planner.async_refresh()


async def _set_override(call: ServiceCall) -> None:
    entry, subentry_id = _device(call.hass, call.data[ATTR_DEVICE_ID])
    planner = entry.runtime_data.planner
    state: bool | None = call.data.get(ATTR_STATE)
    if state is not None:
        result = await entry.runtime_data.dispatcher.async_command(
            subentry_id, _override_action(entry, subentry_id, state), reason="override"
        )
        if not result.ok:  # the device failed, not the caller: no validation error
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={
                    "device": planner.configs[subentry_id].name,
                    "error": result.error or "; ".join(result.violations),
                },
            )
    planner.set_override(subentry_id, call.data[ATTR_MINUTES], state)
    await planner.async_refresh()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt_util.get_default_time_zone())


async def _demand_response(call: ServiceCall) -> None:
    entry = _entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
    grid = entry.runtime_data.grid
    if grid is None:  # pragma: no cover - every loaded home has its grid agent
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"entry": entry.title},
        )
    start, end = _aware(call.data[ATTR_START]), _aware(call.data[ATTR_END])
    try:
        event = action_event(
            start, end, call.data.get(ATTR_IMPORT_CAP_W), call.data.get(ATTR_INCENTIVE)
        )
    except DemandResponseError as err:
        if err.key == "event_empty":
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="dr_cap_or_incentive"
            ) from err
        if err.key == "event_time":
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="dr_end_before_start"
            ) from err
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="dr_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    if end <= dt_util.utcnow():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="dr_over",
            translation_placeholders={"end": dt_util.as_local(end).isoformat()},
        )
    await grid.async_add_event(event)


def _override_action(entry: EnergyCollectiveConfigEntry, subentry_id: str, on: bool) -> Action:
    from .agents.devices import nominal_power

    planner = entry.runtime_data.planner
    cfg = planner.configs[subentry_id]
    power = nominal_power(cfg, planner.runtime[subentry_id]) if on else 0.0
    return Action(on=on, power_w=power)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every home)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_OPTIMIZE,
        _optimize,
        schema=OPTIMIZE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_REQUEST_RUN, _request_run, schema=REQUEST_RUN_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_CANCEL_RUN, _cancel_run, schema=CANCEL_RUN_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_SET_OVERRIDE, _set_override, schema=SET_OVERRIDE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_DEMAND_RESPONSE, _demand_response, schema=DEMAND_RESPONSE_SCHEMA
    )


__all__ = ["async_setup_services"]
