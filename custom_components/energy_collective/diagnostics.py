"""Diagnostics of a home: its configuration, the normalised snapshot and the parsed series."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .collective import EnergyCollectiveConfigEntry
from .const import CONF_NAME
from .engine.model import Series

TO_REDACT = {CONF_NAME, "title", "unique_id", "latitude", "longitude"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _series(series: Series | None) -> dict[str, Any] | None:
    if series is None:
        return None
    return {
        "start": series.start.isoformat(),
        "step_minutes": series.step.total_seconds() / 60,
        "coverage": round(series.coverage(), 4),
        "values": list(series.values),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyCollectiveConfigEntry
) -> dict[str, Any]:
    """What support needs to see, with the home's identity redacted."""
    collector = entry.runtime_data.collector
    snapshot = collector.data
    current = {
        key: _jsonable(value)
        for key, value in asdict(snapshot).items()
        if key not in ("import_prices", "export_prices", "pv_forecast_w")
    }
    return {
        "entry": async_redact_data(
            {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
            TO_REDACT,
        ),
        "snapshot": current,
        "series": {
            "import_prices": _series(snapshot.import_prices),
            "export_prices": _series(snapshot.export_prices),
            "pv_forecast_w": _series(snapshot.pv_forecast_w),
        },
        "price_formats": dict(collector.price_formats),
        "forecaster": entry.runtime_data.forecaster.summary(),
        "grid": entry.runtime_data.grid.summary() if entry.runtime_data.grid else None,
        "sources": {
            key: {
                "entity_id": source.entity_id,
                "down": source.down,
                "missing": source.missing,
                "last_value": source.last_value,
                "last_time": source.last_time.isoformat() if source.last_time else None,
            }
            for key, source in collector.sources.items()
        },
        # the market's public key and counters (never its private key)
        "market": market.diagnostics() if (market := entry.runtime_data.market) else None,
    }
