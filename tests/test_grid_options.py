"""The "grid" group of a home's options: demand charge, carbon and demand response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.energy_collective.const import (
    CONF_BILLING_PERIOD,
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DR_CALENDAR,
    CONF_DR_KEYWORDS,
    CONF_GRID_LIMIT_W,
    CONF_HOLIDAY_CALENDAR,
    CONF_OCTOPUS_SESSIONS,
    DEFAULT_DR_KEYWORDS,
)

from .common import make_entry

CARBON = "sensor.co2_intensity"
CALENDAR = "calendar.grid_operator"
HOLIDAYS = "calendar.holidays"
OCTOPUS = "event.octopus_energy_saving_session_events"


@pytest.fixture
def no_setup() -> Iterator[MagicMock]:
    """The home is not really started (the options flow reloads it)."""
    with (
        patch("custom_components.energy_collective.async_setup_entry", return_value=True) as setup,
        patch("custom_components.energy_collective.async_unload_entry", return_value=True),
    ):
        yield setup


@pytest.fixture
def sources(hass: HomeAssistant) -> None:
    """A carbon sensor, two calendars and an Octopus saving-session entity."""
    hass.states.async_set(CARBON, "210", {"unit_of_measurement": "gCO2eq/kWh"})
    hass.states.async_set(CALENDAR, "off")
    hass.states.async_set(HOLIDAYS, "off")
    hass.states.async_set(OCTOPUS, "unknown", {"joined_events": [], "available_events": []})


async def _grid_form(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"][:2] == ["limits", "grid"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "grid"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "grid"
    return dict(result)


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


FULL = {
    CONF_DEMAND_CHARGE_PER_KW: 12.5,
    CONF_BILLING_PERIOD: "day",
    CONF_CARBON_ENTITY: CARBON,
    CONF_CARBON_PRICE: 0.08,
    CONF_DR_CALENDAR: CALENDAR,
    CONF_DR_KEYWORDS: " Peak event,  flex  , peak EVENT ,",
    CONF_OCTOPUS_SESSIONS: OCTOPUS,
    CONF_HOLIDAY_CALENDAR: HOLIDAYS,
}


@pytest.mark.usefixtures("sources")
async def test_grid_options_saved_with_the_other_groups(
    hass: HomeAssistant, no_setup: MagicMock
) -> None:
    """Every field is saved (keywords tidied), the limits are kept, and the home reloads."""
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    result = await _grid_form(hass, entry.entry_id)
    suggested = _suggested(result)
    assert suggested[CONF_DEMAND_CHARGE_PER_KW] is None  # nothing chosen yet: the defaults
    calls = no_setup.call_count
    result = await hass.config_entries.options.async_configure(result["flow_id"], FULL)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_GRID_LIMIT_W] == 11000  # the limits group is kept
    assert entry.options[CONF_DEMAND_CHARGE_PER_KW] == 12.5
    assert entry.options[CONF_BILLING_PERIOD] == "day"
    assert entry.options[CONF_CARBON_ENTITY] == CARBON
    assert entry.options[CONF_CARBON_PRICE] == 0.08
    assert entry.options[CONF_DR_KEYWORDS] == "Peak event, flex"
    assert entry.options[CONF_OCTOPUS_SESSIONS] == OCTOPUS
    assert entry.options[CONF_HOLIDAY_CALENDAR] == HOLIDAYS
    assert no_setup.call_count == calls + 1  # reloaded

    # the form shows what is saved; clearing an entity forgets it
    result = await _grid_form(hass, entry.entry_id)
    suggested = _suggested(result)
    assert suggested[CONF_CARBON_ENTITY] == CARBON
    assert suggested[CONF_DR_KEYWORDS] == "Peak event, flex"
    cleared = {k: v for k, v in FULL.items() if k not in (CONF_CARBON_ENTITY, CONF_DR_CALENDAR)}
    result = await hass.config_entries.options.async_configure(result["flow_id"], cleared)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CARBON_ENTITY] is None
    assert entry.options[CONF_DR_CALENDAR] is None
    assert entry.options[CONF_HOLIDAY_CALENDAR] == HOLIDAYS


@pytest.mark.usefixtures("sources")
async def test_grid_options_defaults(hass: HomeAssistant, no_setup: MagicMock) -> None:
    """Submitting the untouched form gives no demand charge, monthly, default keywords."""
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    result = await _grid_form(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_DEMAND_CHARGE_PER_KW] == 0.0
    assert entry.options[CONF_BILLING_PERIOD] == "month"
    assert entry.options[CONF_DR_KEYWORDS] == DEFAULT_DR_KEYWORDS


@pytest.mark.usefixtures("sources")
@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({CONF_CARBON_ENTITY: "sensor.gone"}, CONF_CARBON_ENTITY, "entity_missing"),
        ({CONF_DR_KEYWORDS: " , ,"}, CONF_DR_KEYWORDS, "keywords_required"),
        ({CONF_HOLIDAY_CALENDAR: CALENDAR}, CONF_HOLIDAY_CALENDAR, "same_calendar"),
        ({CONF_DR_CALENDAR: "calendar.gone"}, CONF_DR_CALENDAR, "entity_missing"),
        ({CONF_OCTOPUS_SESSIONS: "event.doorbell"}, CONF_OCTOPUS_SESSIONS, "octopus_not_sessions"),
        ({CONF_CARBON_ENTITY: "sensor.text"}, CONF_CARBON_ENTITY, "carbon_not_numeric"),
    ],
)
async def test_grid_options_errors(
    hass: HomeAssistant,
    no_setup: MagicMock,
    changes: dict[str, Any],
    field: str,
    error: str,
) -> None:
    """A bad choice shows a translated error on its field and saves nothing."""
    hass.states.async_set("event.doorbell", "unknown", {"event_types": ["ring"]})
    hass.states.async_set("sensor.text", "windy")
    entry = make_entry(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    before = dict(entry.options)
    result = await _grid_form(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FULL, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert entry.options == before
    # the form keeps what was typed
    assert _suggested(dict(result))[field] == {**FULL, **changes}[field]
