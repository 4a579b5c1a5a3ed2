"""Trading settings of a home (options group "market") and its community peers (subentries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.const import (
    CONF_GRID_LIMIT_W,
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_ENABLED,
    CONF_MARKET_GATE_MINUTES,
    CONF_MARKET_HOME_ID,
    CONF_MARKET_MECHANISM,
    CONF_NAME,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    DOMAIN,
    SUBENTRY_PEER,
)
from custom_components.energy_collective.engine.market import Keypair

from .common import GRID, PRICE, PV, home_data, make_entry, power_attrs

STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components" / "energy_collective" / "strings.json"
    ).read_text(encoding="utf-8")
)
ANNA_KEY = Keypair.generate().public_key
BEN_KEY = Keypair.generate().public_key


@pytest.fixture
async def home(hass: HomeAssistant) -> MockConfigEntry:
    """A home called "Lime Cottage" that is set up, trading off."""
    hass.states.async_set(GRID, "500", power_attrs())
    hass.states.async_set(PV, "0", power_attrs())
    hass.states.async_set(PRICE, "0.3", {"unit_of_measurement": "EUR/kWh"})
    entry = make_entry(hass, home_data(name="Lime Cottage"))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _market_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "market" in result["menu_options"]
    assert "limits" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "market"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "market"
    return result


def _suggested(result: Any) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


def _market(**changes: Any) -> dict[str, Any]:
    data = {
        CONF_MARKET_ENABLED: True,
        CONF_MARKET_COMMUNITY: "lane-7",
        CONF_MARKET_HOME_ID: "lime_cottage",
        CONF_MARKET_MECHANISM: "sdr",
        CONF_MARKET_GATE_MINUTES: 10,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_MARKET_COMMUNITY: ""}, {CONF_MARKET_COMMUNITY: "community_invalid"}),
        ({CONF_MARKET_COMMUNITY: "lane 7"}, {CONF_MARKET_COMMUNITY: "community_invalid"}),
        ({CONF_MARKET_COMMUNITY: "street/#"}, {CONF_MARKET_COMMUNITY: "community_invalid"}),
        ({CONF_MARKET_HOME_ID: ""}, {CONF_MARKET_HOME_ID: "home_id_invalid"}),
        ({CONF_MARKET_HOME_ID: "x" * 65}, {CONF_MARKET_HOME_ID: "home_id_invalid"}),
        ({CONF_MARKET_HOME_ID: "anna"}, {CONF_MARKET_HOME_ID: "home_id_is_peer"}),
    ],
)
async def test_market_options_reject_bad_input(
    hass: HomeAssistant,
    home: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A bad community or home id is named, in a translated message, and nothing is saved."""
    hass.config_entries.async_add_subentry(
        home,
        _peer_subentry("Anna", "anna", ANNA_KEY),
    )
    await hass.async_block_till_done()
    result = await _market_form(hass, home)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _market(**changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    for key in errors.values():
        assert key in STRINGS["options"]["error"], key
    assert CONF_MARKET_ENABLED not in home.options


def _peer_subentry(title: str, home_id: str, key: str) -> ConfigSubentry:
    return ConfigSubentry(
        data={CONF_PEER_HOME_ID: home_id, CONF_PEER_PUBLIC_KEY: key},
        subentry_type=SUBENTRY_PEER,
        title=title,
        unique_id=None,
    )


async def test_market_options_enable_trading(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Trading is switched on; the other options stay; without MQTT a repair issue says so."""
    result = await _market_form(hass, home)
    suggested = _suggested(result)
    assert suggested[CONF_MARKET_HOME_ID] == "lime_cottage"  # from the home's name
    assert suggested[CONF_MARKET_ENABLED] is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _market(**{CONF_MARKET_COMMUNITY: " lane-7 "})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert home.options[CONF_MARKET_ENABLED] is True
    assert home.options[CONF_MARKET_COMMUNITY] == "lane-7"
    assert home.options[CONF_MARKET_MECHANISM] == "sdr"
    assert home.options[CONF_MARKET_GATE_MINUTES] == 10
    assert home.options[CONF_GRID_LIMIT_W] == 11000  # the limits group is kept

    # the home reloaded with trading on; MQTT is not set up: it says so and keeps working
    assert home.state is ConfigEntryState.LOADED
    market = home.runtime_data.market
    assert market is not None
    assert market.market_config.mechanism == "sdr"
    assert market.market_config.gate_closure_s == 600
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"market_mqtt_{home.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"home": "Lime Cottage"}

    # the form shows what was saved; switching trading off again needs no community
    result = await _market_form(hass, home)
    assert _suggested(result)[CONF_MARKET_COMMUNITY] == "lane-7"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _market(**{CONF_MARKET_ENABLED: False, CONF_MARKET_COMMUNITY: ""})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert home.runtime_data.market is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"market_mqtt_{home.entry_id}") is None
    # the market's device and its entities do not stay behind as stale ones
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), home.entry_id)
    assert not [d for d in devices if (DOMAIN, f"{home.entry_id}_market") in d.identifiers]
    entities = er.async_entries_for_config_entry(er.async_get(hass), home.entry_id)
    assert not [e for e in entities if "_market_" in e.unique_id]
    assert await hass.config_entries.async_unload(home.entry_id)


async def _add_peer(hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PEER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


def _peer(**changes: Any) -> dict[str, Any]:
    data = {CONF_NAME: "Anna", CONF_PEER_HOME_ID: "anna", CONF_PEER_PUBLIC_KEY: ANNA_KEY}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_NAME: "  "}, {CONF_NAME: "name_empty"}),
        ({CONF_PEER_HOME_ID: "an na"}, {CONF_PEER_HOME_ID: "home_id_invalid"}),
        ({CONF_PEER_HOME_ID: "lime_cottage"}, {CONF_PEER_HOME_ID: "home_id_own"}),
        ({CONF_PEER_PUBLIC_KEY: "not a key"}, {CONF_PEER_PUBLIC_KEY: "public_key_invalid"}),
        ({CONF_PEER_PUBLIC_KEY: ANNA_KEY[:-4]}, {CONF_PEER_PUBLIC_KEY: "public_key_invalid"}),
        (
            {CONF_PEER_HOME_ID: "", CONF_PEER_PUBLIC_KEY: ""},
            {CONF_PEER_HOME_ID: "home_id_invalid", CONF_PEER_PUBLIC_KEY: "public_key_invalid"},
        ),
    ],
)
async def test_peer_flow_rejects_bad_input(
    hass: HomeAssistant, home: MockConfigEntry, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """A peer with a bad name, id or key is not added, and the form says what is wrong."""
    result = await _add_peer(hass, home, _peer(**changes))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    for key in errors.values():
        assert key in STRINGS["config_subentries"][SUBENTRY_PEER]["error"], key
    assert not home.subentries


async def test_peer_flow_adds_and_reconfigures(hass: HomeAssistant, home: MockConfigEntry) -> None:
    """Peers are added once each (name and id unique) and take a new key on reconfigure."""
    result = await _add_peer(hass, home, _peer(**{CONF_PEER_PUBLIC_KEY: f" {ANNA_KEY}\n"}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry_id, anna), *_ = home.subentries.items()
    assert anna.title == "Anna"
    assert dict(anna.data) == {CONF_PEER_HOME_ID: "anna", CONF_PEER_PUBLIC_KEY: ANNA_KEY}

    result = await _add_peer(hass, home, _peer(**{CONF_PEER_HOME_ID: "anna2"}))
    assert result["errors"] == {CONF_NAME: "name_exists"}
    result = await _add_peer(hass, home, _peer(**{CONF_NAME: "Ben"}))
    assert result["errors"] == {CONF_PEER_HOME_ID: "home_id_exists"}
    result = await _add_peer(
        hass,
        home,
        _peer(**{CONF_NAME: "Ben", CONF_PEER_HOME_ID: "ben", CONF_PEER_PUBLIC_KEY: BEN_KEY}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    # Anna reinstalled her home: a new key, same id; the form starts with what is saved
    new_key = Keypair.generate().public_key
    result = await hass.config_entries.subentries.async_init(
        (home.entry_id, SUBENTRY_PEER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }
    assert suggested == {
        CONF_NAME: "Anna",
        CONF_PEER_HOME_ID: "anna",
        CONF_PEER_PUBLIC_KEY: ANNA_KEY,
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _peer(**{CONF_PEER_HOME_ID: "ben"})
    )
    assert result["errors"] == {CONF_PEER_HOME_ID: "home_id_exists"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _peer(**{CONF_PEER_PUBLIC_KEY: new_key})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert result["reason"] in STRINGS["config_subentries"][SUBENTRY_PEER]["abort"]
    await hass.async_block_till_done()
    assert home.subentries[subentry_id].data[CONF_PEER_PUBLIC_KEY] == new_key
    assert home.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(home.entry_id)
