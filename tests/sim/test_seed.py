"""The development instance's storage seed (config/seed/seed.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt

from custom_components.energy_collective import const
from tests.sim import SIM_COMPONENTS

SEED_SCRIPT = SIM_COMPONENTS.parent / "seed" / "seed.py"


def _load_seed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_seed", SEED_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _storage(config: Path, key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((config / ".storage" / key).read_text())
    assert data["key"] == key
    return data


def test_seed_writes_a_ready_instance(tmp_path: Path) -> None:
    _load_seed().main(tmp_path)

    assert _storage(tmp_path, "onboarding")["data"]["done"] == [
        "user",
        "core_config",
        "analytics",
        "integration",
    ]
    core = _storage(tmp_path, "core.config")["data"]
    assert (core["time_zone"], core["currency"], core["unit_system_v2"]) == (
        "Europe/Berlin",
        "EUR",
        "metric",
    )

    auth = _storage(tmp_path, "auth")["data"]
    (owner,) = auth["users"]
    assert owner["is_owner"]
    assert owner["group_ids"] == ["system-admin"]
    (token,) = auth["refresh_tokens"]
    access = (tmp_path / "dev_token.txt").read_text().strip()
    claims = jwt.decode(access, token["jwt_key"], algorithms=["HS256"])
    assert claims["iss"] == token["id"]

    (entry,) = _storage(tmp_path, "core.config_entries")["data"]["entries"]
    assert entry["domain"] == const.DOMAIN
    assert entry["title"] == "Simulated home"
    assert (entry["version"], entry["minor_version"]) == (1, 1)
    assert entry["unique_id"] == "sensor.sim_grid_power"
    assert entry["data"] == {
        const.CONF_NAME: "Simulated home",
        const.CONF_GRID_MODE: const.GRID_MODE_SIGNED,
        const.CONF_GRID_POWER: "sensor.sim_grid_power",
        const.CONF_GRID_SIGN: const.GRID_SIGN_IMPORT_POSITIVE,
        const.CONF_IMPORT_PRICE_MODE: const.PRICE_MODE_ENTITY,
        const.CONF_IMPORT_PRICE_ENTITY: "sensor.sim_nordpool_price",
        const.CONF_EXPORT_PRICE_MODE: const.PRICE_MODE_ENTITY,
        const.CONF_EXPORT_PRICE_ENTITY: "sensor.sim_export_price",
        const.CONF_PV_POWER: "sensor.sim_pv_power",
        const.CONF_WEATHER: "weather.sim_weather",
        const.CONF_LOAD_POWER: "sensor.sim_house_load",
    }
    kinds = {sub["title"]: sub["subentry_type"] for sub in entry["subentries"]}
    assert kinds == {
        "Battery": const.SUBENTRY_BATTERY,
        "Car": const.SUBENTRY_EV,
        "Dishwasher": const.SUBENTRY_APPLIANCE,
        "Washing machine": const.SUBENTRY_APPLIANCE,
        "Pool pump": const.SUBENTRY_INTERRUPTIBLE,
        "Water heater": const.SUBENTRY_THERMAL,
    }
    assert entry["options"] == {
        const.CONF_GRID_LIMIT_W: 11000,
        const.CONF_STEP_MINUTES: 15,
        const.CONF_HORIZON_HOURS: 24,
    }

    for key in ("energy", "lovelace_dashboards", "lovelace.simulated_home"):
        _storage(tmp_path, key)


def test_seed_keeps_existing_files(tmp_path: Path) -> None:
    seed = _load_seed()
    seed.main(tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / ".storage").iterdir()}
    seed.main(tmp_path)
    assert {p.name: p.read_bytes() for p in (tmp_path / ".storage").iterdir()} == before
