"""Shared fixtures.

`custom_components` is imported before the Home Assistant test plugin, which ships a package of
the same name that would otherwise shadow this repository's integration.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

import custom_components  # noqa: F401  (must precede the plugin, see module docstring)

pytest_plugins = "pytest_homeassistant_custom_component"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load this repository's integration in every test."""
    return
