"""Seed the development instance's `.storage` so Home Assistant starts ready to use.

Run by `scripts/develop` with the project's virtual environment (it needs bcrypt and PyJWT,
which Home Assistant depends on). Each storage file is written only when it is absent:

* `core.config`, `onboarding`, `energy`, `lovelace_dashboards`, `lovelace.simulated_home`:
  copied from the templates next to this script (the last two: a "Simulated home" dashboard);
* `auth`, `auth_provider.homeassistant`: an owner "dev" with a random password (written to
  `dev_login.txt`) and a long-lived access token (written to `dev_token.txt`), so scripts can
  call the REST API; in the browser, loopback logins skip the password (trusted networks);
* `core.config_entries`: the Energy Collective entry of `energy_collective.entry.json`, whose
  keys name constants of the integration's `const.py`.

Usage: python config/seed/seed.py CONFIG_DIR
"""

from __future__ import annotations

import base64
import importlib.util
import json
import secrets
import sys
import uuid
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import bcrypt
import jwt

SEED = Path(__file__).resolve().parent
REPO = SEED.parents[1]
CONST = REPO / "custom_components" / "energy_collective" / "const.py"
COPIED = ("core.config", "onboarding", "energy", "lovelace_dashboards", "lovelace.simulated_home")
USERNAME = "dev"
TOKEN_DAYS = 3650


def _write(path: Path, data: dict[str, Any], *, private: bool = True) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if private:
        path.chmod(0o600)
    print(f"seed: wrote {path.name}")


def _envelope(key: str, data: dict[str, Any], minor_version: int = 1) -> dict[str, Any]:
    return {"version": 1, "minor_version": minor_version, "key": key, "data": data}


def _load_const() -> ModuleType:
    spec = importlib.util.spec_from_file_location("energy_collective_const", CONST)
    if spec is None or spec.loader is None:
        raise SystemExit(f"seed: cannot load {CONST}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_entry_data(
    template: dict[str, Any], const: ModuleType
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Resolve the template's constant names; split off what the flow stores as options."""
    data: dict[str, Any] = {}
    for name, raw in template["data"].items():
        value = raw
        if isinstance(raw, str) and raw.startswith("$"):
            value = getattr(const, raw[1:])
        data[getattr(const, name)] = value
    option_keys = set(getattr(const, "OPTION_KEYS", ()))
    options = {k: v for k, v in data.items() if k in option_keys}
    options.update(template.get("options", {}))
    return {k: v for k, v in data.items() if k not in option_keys}, options


def seed_config_entries(storage: Path, now: str) -> None:
    """Write core.config_entries with the Energy Collective entry."""
    template = json.loads((SEED / "energy_collective.entry.json").read_text(encoding="utf-8"))
    const = _load_const()
    data, options = config_entry_data(template, const)
    unique_id = template["unique_id"]
    if isinstance(unique_id, str) and unique_id.startswith("@"):
        unique_id = data[getattr(const, unique_id[1:])]
    entry = {
        "created_at": now,
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": const.DOMAIN,
        "entry_id": uuid.uuid4().hex.upper()[:26],
        "minor_version": template["minor_version"],
        "modified_at": now,
        "options": options,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": template["subentries"],
        "title": template["title"],
        "unique_id": unique_id,
        "version": template["version"],
    }
    _write(
        storage / "core.config_entries", _envelope("core.config_entries", {"entries": [entry]}, 5)
    )


def seed_auth(config: Path, storage: Path, now: datetime) -> None:
    """Write the owner, their password and a long-lived access token."""
    user_id = uuid.uuid4().hex
    password = secrets.token_urlsafe(12)
    password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12))
    token_id = uuid.uuid4().hex
    jwt_key = secrets.token_hex(64)
    expiration = timedelta(days=TOKEN_DAYS)
    auth = {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": "Developer",
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [
            {"id": "system-admin", "name": "Administrators"},
            {"id": "system-users", "name": "Users"},
            {"id": "system-read-only", "name": "Read Only"},
        ],
        "credentials": [
            {
                "id": uuid.uuid4().hex,
                "user_id": user_id,
                "auth_provider_type": "homeassistant",
                "auth_provider_id": None,
                "data": {"username": USERNAME},
            }
        ],
        "refresh_tokens": [
            {
                "id": token_id,
                "user_id": user_id,
                "client_id": None,
                "client_name": "scripts/develop",
                "client_icon": None,
                "token_type": "long_lived_access_token",
                "created_at": now.isoformat(),
                "access_token_expiration": expiration.total_seconds(),
                "token": secrets.token_hex(64),
                "jwt_key": jwt_key,
                "last_used_at": None,
                "last_used_ip": None,
                "expire_at": None,
                "credential_id": None,
                "version": metadata.version("homeassistant"),
            }
        ],
    }
    _write(storage / "auth", _envelope("auth", auth))
    provider = {
        "users": [{"username": USERNAME, "password": base64.b64encode(password_hash).decode()}]
    }
    _write(
        storage / "auth_provider.homeassistant", _envelope("auth_provider.homeassistant", provider)
    )

    issued = int(now.timestamp())
    token = jwt.encode(
        {"iss": token_id, "iat": issued, "exp": issued + int(expiration.total_seconds())},
        jwt_key,
        algorithm="HS256",
    )
    (config / "dev_login.txt").write_text(f"username: {USERNAME}\npassword: {password}\n")
    (config / "dev_token.txt").write_text(token + "\n")
    for name in ("dev_login.txt", "dev_token.txt"):
        (config / name).chmod(0o600)
    print("seed: wrote dev_login.txt and dev_token.txt")


def main(config: Path) -> None:
    """Seed every storage file that is missing."""
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    for key in COPIED:
        if not (storage / key).exists():
            _write(storage / key, json.loads((SEED / f"{key}.json").read_text(encoding="utf-8")))
    if not (storage / "auth").exists():
        seed_auth(config, storage, now)
    if not (storage / "core.config_entries").exists():
        seed_config_entries(storage, now.isoformat())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]).resolve())
