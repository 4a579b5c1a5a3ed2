"""Tests of the development instance's simulated home (config/custom_components/simulated_home).

The simulated home is not part of the shipped integration, so it is not importable as a
package of this repository: `load_model` loads its pure-Python physics module by file path,
and `conftest.py` makes the integration itself discoverable by Home Assistant's loader.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SIM_COMPONENTS = Path(__file__).resolve().parents[2] / "config" / "custom_components"
SIM_PACKAGE = SIM_COMPONENTS / "simulated_home"
_MODEL_NAME = "simulated_home_model"


def load_model() -> ModuleType:
    """The simulated home's `model.py`, imported on its own (no Home Assistant needed)."""
    if _MODEL_NAME in sys.modules:
        return sys.modules[_MODEL_NAME]
    spec = importlib.util.spec_from_file_location(_MODEL_NAME, SIM_PACKAGE / "model.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODEL_NAME] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module
