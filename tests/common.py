"""Helpers shared by the tests of the integration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_EXPORT_PRICE_MODE,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_GRID_LIMIT_W,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_NAME,
    CONF_PV_POWER,
    CONF_STEP_MINUTES,
    DOMAIN,
    GRID_MODE_SIGNED,
    GRID_SIGN_IMPORT_POSITIVE,
    PRICE_MODE_ENTITY,
    PRICE_MODE_SCHEDULE,
)

GRID = "sensor.grid_power"
PV = "sensor.pv_power"
PRICE = "sensor.nordpool_price"


def our_device(hass: HomeAssistant, entry_id: str, key: str) -> dr.DeviceEntry | None:
    """The registry's device of one home with the identifier `<entry id>_<key>`, if any.

    Looked up among the home's own devices: `DeviceRegistry.async_get_device` is deprecated
    from Home Assistant 2026.8 on (identifiers are unique per config entry only).
    """
    wanted = (DOMAIN, f"{entry_id}_{key}")
    found = [
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        if wanted in device.identifiers
    ]
    assert len(found) <= 1
    return found[0] if found else None


def power_attrs(unit: str = "W") -> dict[str, Any]:
    """Attributes of a typical power sensor."""
    return {"unit_of_measurement": unit, "device_class": "power", "state_class": "measurement"}


def nordpool_attrs(day: datetime, prices: list[float], unit: str = "EUR/kWh") -> dict[str, Any]:
    """Attributes in the Nord Pool custom integration's format for hourly prices from `day`."""
    raw = [
        {
            "start": (day + timedelta(hours=h)).isoformat(),
            "end": (day + timedelta(hours=h + 1)).isoformat(),
            "value": price,
        }
        for h, price in enumerate(prices[:24])
    ]
    raw_tomorrow = [
        {
            "start": (day + timedelta(hours=24 + h)).isoformat(),
            "end": (day + timedelta(hours=25 + h)).isoformat(),
            "value": price,
        }
        for h, price in enumerate(prices[24:48])
    ]
    return {
        "unit_of_measurement": unit,
        "unit": unit.rsplit("/", maxsplit=1)[-1],
        "currency": "EUR",
        "raw_today": raw,
        "raw_tomorrow": raw_tomorrow,
        "tomorrow_valid": bool(raw_tomorrow),
    }


def home_data(**overrides: Any) -> dict[str, Any]:
    """The data of a typical home entry: signed grid sensor, Nord Pool prices, flat export."""
    data: dict[str, Any] = {
        CONF_NAME: "Home",
        CONF_GRID_MODE: GRID_MODE_SIGNED,
        CONF_GRID_POWER: GRID,
        CONF_GRID_SIGN: GRID_SIGN_IMPORT_POSITIVE,
        CONF_IMPORT_PRICE_MODE: PRICE_MODE_ENTITY,
        CONF_IMPORT_PRICE_ENTITY: PRICE,
        CONF_EXPORT_PRICE_MODE: PRICE_MODE_SCHEDULE,
        CONF_EXPORT_PRICE_SCHEDULE: "0.08",
        CONF_PV_POWER: PV,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def home_options(**overrides: Any) -> dict[str, Any]:
    """The options of a typical home."""
    options = {CONF_GRID_LIMIT_W: 11000, CONF_STEP_MINUTES: 15, CONF_HORIZON_HOURS: 24}
    options.update(overrides)
    return options


def make_entry(
    hass: HomeAssistant, data: dict[str, Any] | None = None, **options: Any
) -> MockConfigEntry:
    """A home entry added to hass (not yet set up)."""
    data = data or home_data()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=data[CONF_NAME],
        data=data,
        options=home_options(**options),
        unique_id=data.get(CONF_GRID_POWER),
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    return entry


def import_hourly_means(
    hass: HomeAssistant, entity_id: str, start: datetime, means: list[float], unit: str = "W"
) -> None:
    """Hourly mean statistics of a power sensor from `start`, as the recorder would keep them."""
    from homeassistant.components.recorder.models import StatisticMeanType
    from homeassistant.components.recorder.statistics import async_import_statistics

    metadata = {
        "has_mean": True,
        "mean_type": StatisticMeanType.ARITHMETIC,
        "has_sum": False,
        "name": None,
        "source": "recorder",
        "statistic_id": entity_id,
        "unit_of_measurement": unit,
        "unit_class": "power",
    }
    rows = [
        {"start": start + timedelta(hours=h), "mean": mean, "min": mean, "max": mean}
        for h, mean in enumerate(means)
    ]
    async_import_statistics(hass, metadata, rows)  # type: ignore[arg-type]


def forecast_points(hass: HomeAssistant, entity_id: str) -> list[tuple[datetime, float]]:
    """The `forecast` attribute of a forecast sensor as (time, W) pairs."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    points = []
    for point in state.attributes["forecast"]:
        assert set(point) == {"time", "value"}
        points.append((datetime.fromisoformat(point["time"]), float(point["value"])))
    return points


def simulated_home_on_path(monkeypatch: Any) -> None:
    """Make the development instance's `simulated_home` discoverable (see tests/sim/conftest.py)."""
    import custom_components
    from tests.sim import SIM_COMPONENTS

    paths = list(custom_components.__path__)
    if str(SIM_COMPONENTS) not in paths:
        paths.append(str(SIM_COMPONENTS))
    monkeypatch.setattr(custom_components, "__path__", paths)


def exception_message(exc: Exception) -> tuple[str, str, dict[str, str]]:
    """The translation domain, key and placeholders of a translated Home Assistant error."""
    domain = getattr(exc, "translation_domain", None)
    key = getattr(exc, "translation_key", None)
    assert domain is not None, exc
    assert key is not None, exc
    return domain, key, dict(getattr(exc, "translation_placeholders", None) or {})
