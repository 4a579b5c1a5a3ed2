"""Generators of a home: PV arrays and wind turbines as config subentries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_AZIMUTH,
    CONF_CUT_IN_MS,
    CONF_CUT_OUT_MS,
    CONF_GENERATOR_KIND,
    CONF_HUB_HEIGHT_M,
    CONF_KWP,
    CONF_LOSSES_PCT,
    CONF_NAME,
    CONF_RATED_POWER_W,
    CONF_RATED_SPEED_MS,
    CONF_TILT,
    GENERATOR_PV_ARRAY,
    GENERATOR_WIND_TURBINE,
    SUBENTRY_GENERATOR,
)

from .common import GRID, PRICE, PV, make_entry, power_attrs

STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components" / "energy_collective" / "strings.json"
    ).read_text(encoding="utf-8")
)["config_subentries"][SUBENTRY_GENERATOR]

ROOF = {CONF_NAME: "South roof", CONF_KWP: 5, CONF_TILT: 35, CONF_AZIMUTH: 180, CONF_LOSSES_PCT: 14}
MAST = {
    CONF_NAME: "Mast",
    CONF_RATED_POWER_W: 1500,
    CONF_CUT_IN_MS: 3,
    CONF_RATED_SPEED_MS: 11,
    CONF_CUT_OUT_MS: 25,
    CONF_HUB_HEIGHT_M: 12,
}


@pytest.fixture
async def home(hass: HomeAssistant) -> MockConfigEntry:
    """A home that is set up, without generators."""
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.3", {"unit_of_measurement": "EUR/kWh"})
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _add(hass: HomeAssistant, entry: MockConfigEntry, kind: str, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_GENERATOR), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [GENERATOR_PV_ARRAY, GENERATOR_WIND_TURBINE]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


def _assert_translated(errors: dict[str, str]) -> None:
    for error in errors.values():
        assert error in STRINGS["error"], error


async def test_add_pv_array_reloads_the_home(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """A new PV array is stored as numbers; the home reloads and forecasts PV with it."""
    assert home.runtime_data.forecaster.arrays == []
    result = await _add(hass, home, GENERATOR_PV_ARRAY, ROOF)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "South roof"
    await hass.async_block_till_done()
    (subentry,) = home.subentries.values()
    assert subentry.subentry_type == SUBENTRY_GENERATOR
    assert dict(subentry.data) == {
        CONF_GENERATOR_KIND: GENERATOR_PV_ARRAY,
        CONF_KWP: 5.0,
        CONF_TILT: 35.0,
        CONF_AZIMUTH: 180.0,
        CONF_LOSSES_PCT: 14.0,
    }
    (array,) = home.runtime_data.forecaster.arrays
    assert array.kwp == 5.0
    assert array.losses == pytest.approx(0.14)
    assert hass.states.get("sensor.home_forecasting_pv_forecast") is not None


async def test_add_wind_turbine(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """A wind turbine with a sensible power curve is added."""
    result = await _add(hass, home, GENERATOR_WIND_TURBINE, MAST)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (turbine,) = home.runtime_data.forecaster.turbines
    assert (turbine.rated_power_w, turbine.rated_speed_ms, turbine.hub_height_m) == (
        1500.0,
        11.0,
        12.0,
    )
    assert hass.states.get("sensor.home_forecasting_wind_forecast") is not None


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_RATED_SPEED_MS: 3}, {CONF_RATED_SPEED_MS: "rated_below_cut_in"}),
        ({CONF_CUT_OUT_MS: 10}, {CONF_CUT_OUT_MS: "cut_out_below_rated"}),
        ({CONF_NAME: "  "}, {CONF_NAME: "name_empty"}),
    ],
)
async def test_wind_turbine_errors(
    hass: HomeAssistant, home: MockConfigEntry, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """An impossible power curve or an empty name is refused with a translated error."""
    result = await _add(hass, home, GENERATOR_WIND_TURBINE, MAST | changes)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    _assert_translated(result["errors"])
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], MAST)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_names_are_unique_per_home(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Two generators of a home cannot share a name (whatever its case)."""
    await _add(hass, home, GENERATOR_PV_ARRAY, ROOF)
    await hass.async_block_till_done()
    result = await _add(hass, home, GENERATOR_WIND_TURBINE, MAST | {CONF_NAME: "SOUTH ROOF"})
    assert result["errors"] == {CONF_NAME: "name_exists"}
    _assert_translated(result["errors"])


async def test_reconfigure_pv_array(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """The same form, filled in, changes the array; the home reloads with it."""
    await _add(hass, home, GENERATOR_PV_ARRAY, ROOF)
    await hass.async_block_till_done()
    (subentry_id,) = home.subentries
    result = await hass.config_entries.subentries.async_init(
        (home.entry_id, SUBENTRY_GENERATOR),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == GENERATOR_PV_ARRAY
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema}
    assert suggested[CONF_NAME] == "South roof"
    assert suggested[CONF_KWP] == 5.0

    # keeping its own name is fine
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], ROOF | {CONF_KWP: 7.5, CONF_TILT: 20}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert result["reason"] in STRINGS["abort"]
    await hass.async_block_till_done()
    assert home.subentries[subentry_id].data[CONF_KWP] == 7.5
    (array,) = home.runtime_data.forecaster.arrays
    assert (array.kwp, array.tilt) == (7.5, 20.0)


async def test_reconfigure_wind_turbine(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """A turbine opens the turbine form, and its errors are checked there too."""
    await _add(hass, home, GENERATOR_WIND_TURBINE, MAST)
    await hass.async_block_till_done()
    (subentry_id,) = home.subentries
    result = await hass.config_entries.subentries.async_init(
        (home.entry_id, SUBENTRY_GENERATOR),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == GENERATOR_WIND_TURBINE
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], MAST | {CONF_CUT_IN_MS: 12}
    )
    assert result["errors"] == {CONF_RATED_SPEED_MS: "rated_below_cut_in"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], MAST | {CONF_NAME: "Tall mast", CONF_HUB_HEIGHT_M: 20}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert home.subentries[subentry_id].title == "Tall mast"
    (turbine,) = home.runtime_data.forecaster.turbines
    assert turbine.hub_height_m == 20.0


async def test_removing_a_generator_reloads(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Without its last turbine the home forecasts no wind any more."""
    await _add(hass, home, GENERATOR_WIND_TURBINE, MAST)
    await hass.async_block_till_done()
    (subentry_id,) = home.subentries
    assert hass.config_entries.async_remove_subentry(home, subentry_id)
    await hass.async_block_till_done()
    assert home.runtime_data.forecaster.turbines == []
    # an unrelated change (the title) does not reload the home
    forecaster = home.runtime_data.forecaster
    hass.config_entries.async_update_entry(home, title="House")
    await hass.async_block_till_done()
    assert home.runtime_data.forecaster is forecaster


def test_every_subentry_string_is_there() -> None:
    """The menu, both forms and every error the validator can return are translated."""
    steps = STRINGS["step"]
    assert set(steps["user"]["menu_options"]) == {GENERATOR_PV_ARRAY, GENERATOR_WIND_TURBINE}
    assert set(steps[GENERATOR_PV_ARRAY]["data"]) == set(ROOF)
    assert set(steps[GENERATOR_WIND_TURBINE]["data"]) == set(MAST)
    assert set(STRINGS["error"]) == {
        "name_empty",
        "name_exists",
        "rated_below_cut_in",
        "cut_out_below_rated",
        "value_required",
    }


async def test_an_untouched_size_is_refused(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """A PV array left at 0 kWp, or a turbine at 0 W, is refused until sized."""
    result = await _add(hass, home, GENERATOR_PV_ARRAY, {**ROOF, CONF_KWP: 0})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_KWP: "value_required"}
    _assert_translated(result["errors"])
    result = await _add(hass, home, GENERATOR_WIND_TURBINE, {**MAST, CONF_RATED_POWER_W: 0})
    assert result["errors"] == {CONF_RATED_POWER_W: "value_required"}
    result = await _add(hass, home, GENERATOR_PV_ARRAY, ROOF)
    assert result["type"] is FlowResultType.CREATE_ENTRY
