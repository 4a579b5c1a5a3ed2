"""Shared fixtures.

`custom_components` is imported before the Home Assistant test plugin, which ships a package of
the same name that would otherwise shadow this repository's integration.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

import custom_components  # noqa: F401  (must precede the plugin, see module docstring)
from custom_components.energy_collective.const import DOMAIN

pytest_plugins = "pytest_homeassistant_custom_component"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load this repository's integration in every test."""
    return


# What Home Assistant logs when an integration uses something it will remove, in the words of
# helpers/frame.py ("... This will stop working in Home Assistant 2027.8.0 ...") and of the
# deprecation helpers ("... is a deprecated ...", "... was deprecated ...").
_DEPRECATION_WORDS = ("will stop working", "deprecated")


@pytest.fixture(autouse=True)
def fail_on_deprecations_of_ours(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """A test fails when Home Assistant reports a deprecated use naming this integration.

    Home Assistant only warns custom integrations about what it will remove; the warning is
    turned into a failure here so that a deprecation is fixed while both the oldest and the
    newest supported versions are tested, not when a release breaks users.
    """
    yield
    ours = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.WARNING
        and "energy_collective" in record.getMessage()
        and any(word in record.getMessage().lower() for word in _DEPRECATION_WORDS)
    ]
    if ours:
        pytest.fail("Home Assistant reports a deprecated use:\n" + "\n".join(ours), pytrace=False)


@pytest.fixture(autouse=True)
async def unload_homes_at_the_end(
    auto_enable_custom_integrations: None, hass: HomeAssistant
) -> AsyncGenerator[None]:
    """Unload every home still loaded when a test ends, as a user removing it would.

    Home Assistant's test teardown stops it without unloading entries; a home left running
    would leave its debounced refreshes and minute timers behind. Unloading here also checks,
    after every test, that a home unloads cleanly whatever state the test left it in.
    """
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create the entities that are disabled by default as enabled (as Home Assistant core's
    tests do), for the tests that read them."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield
