"""Fixtures of the simulated-home tests.

Home Assistant's loader finds custom integrations in the directories of the
`custom_components` package. `tests/conftest.py` imports this repository's package first; here
the development instance's `config/custom_components` is appended to its search path for the
duration of each test, so `simulated_home` can be set up without copying or linking it.
"""

from __future__ import annotations

import pytest

import custom_components
from tests.sim import SIM_COMPONENTS


@pytest.fixture(autouse=True)
def simulated_home_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `custom_components.simulated_home` importable and discoverable."""
    paths = list(custom_components.__path__)
    if str(SIM_COMPONENTS) not in paths:
        paths.append(str(SIM_COMPONENTS))
    monkeypatch.setattr(custom_components, "__path__", paths)
