"""The Energy dashboard's solar forecast: the prediction agent's PV forecast in Wh per hour."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .collective import EnergyCollectiveConfigEntry
from .const import DOMAIN


async def async_get_solar_forecast(
    hass: HomeAssistant, config_entry_id: str
) -> dict[str, dict[str, float | int]] | None:
    """Expected PV energy of each hour of the horizon, `{"wh_hours": {iso hour: Wh}}`."""
    entry: EnergyCollectiveConfigEntry | None = hass.config_entries.async_get_entry(config_entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    snapshot = entry.runtime_data.forecaster.data
    if snapshot is None or snapshot.pv is None:
        return None
    pv = snapshot.pv
    hours_per_step = pv.step.total_seconds() / 3600.0
    wh_hours: dict[str, float | int] = {}
    for when, watts in zip(pv.times, pv.p50, strict=True):
        hour = when.replace(minute=0, second=0, microsecond=0)
        key = hour.isoformat()
        wh_hours[key] = wh_hours.get(key, 0.0) + watts * hours_per_step
    return {"wh_hours": {key: round(value, 1) for key, value in wh_hours.items()}}
