"""manifest.json, hacs.json, strings.json, icons.json, quality_scale.yaml and the brand images
against what hassfest and HACS validate.

hassfest (`script/hassfest` of home-assistant/core) is not shipped in the homeassistant wheel, so
its rules for custom integrations are restated here: manifest schema and key order, translation
value rules, icon values and the quality scale rule list.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import string
import struct
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import homeassistant
import pytest
import voluptuous as vol
import yaml
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import __version__ as ha_version
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
INTEGRATION = ROOT / "custom_components" / "energy_collective"
TRANSLATION_FILES = [INTEGRATION / "strings.json", *sorted(INTEGRATION.glob("translations/*.json"))]
HA_PACKAGE = Path(homeassistant.__file__).parent

IOT_CLASSES = [
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
]
INTEGRATION_TYPES = ["device", "entity", "hardware", "helper", "hub", "service", "system"]
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]

# The quality scale rules of hassfest (script/hassfest/quality_scale.py), by tier
QUALITY_SCALE_RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}

# hassfest's translation rules (script/hassfest/translations.py)
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_SINGLE_QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_HTML = re.compile(r"<[a-z].*?>", re.IGNORECASE)
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "menu_options",
    "menu_option_descriptions",
    "submit",
    "sections",
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = _json(INTEGRATION / "manifest.json")
    return data


def _url(value: Any) -> str:
    parsed = urlparse(str(value))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise vol.Invalid(f"not a URL: {value}")
    return str(value)


def _version(value: Any) -> str:
    AwesomeVersion(str(value), ensure_strategy=VERSION_STRATEGIES)
    return str(value)


# -- manifest.json ---------------------------------------------------------------------------

MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        vol.Optional("mqtt"): [str],
        vol.Optional("zeroconf"): list,
        vol.Optional("ssdp"): list,
        vol.Optional("bluetooth"): list,
        vol.Optional("homekit"): dict,
        vol.Optional("dhcp"): list,
        vol.Optional("usb"): list,
        vol.Required("documentation"): _url,
        vol.Required("issue_tracker"): _url,  # optional for hassfest, required by HACS
        vol.Optional("quality_scale"): vol.In(["internal", "silver", "gold", "platinum"]),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [vol.Match(r"^@[A-Za-z0-9-]+(/[A-Za-z0-9-]+)?$")],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Required("iot_class"): vol.In(IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Required("version"): _version,  # required for custom integrations
        vol.Optional("import_executor"): bool,
    }
)


def test_manifest_schema() -> None:
    """The manifest has the keys and values hassfest and HACS accept for a custom integration."""
    manifest = _manifest()
    MANIFEST_SCHEMA(manifest)
    assert manifest["domain"] == INTEGRATION.name
    docs = urlparse(manifest["documentation"])
    assert docs.scheme == "https"
    assert docs.netloc != "www.home-assistant.io", "a custom integration documents itself"
    assert not (HA_PACKAGE / "components" / manifest["domain"]).exists(), "domain taken by core"


def test_manifest_keys_sorted() -> None:
    """hassfest: domain, name, then the other keys in alphabetical order."""
    keys = list(_manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_dependencies() -> None:
    """Every Home Assistant integration imported is a dependency, and none is listed twice."""
    manifest = _manifest()
    allowed = {
        *manifest.get("dependencies", []),
        *manifest.get("after_dependencies", []),
        *(path.stem for path in INTEGRATION.glob("*.py")),  # platforms of this integration
    }
    from homeassistant.const import Platform

    allowed |= {str(platform) for platform in Platform}
    used: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("homeassistant.components."):
                    used.add(node.module.split(".")[2])
                elif node.module == "homeassistant.components":
                    used |= {alias.name for alias in node.names}
    assert sorted(used - allowed) == []
    assert not set(manifest.get("dependencies", [])) & set(manifest.get("after_dependencies", []))


def _ha_pins() -> dict[str, Requirement]:
    """The packages Home Assistant pins (package_constraints.txt and its own requirements)."""
    lines = (HA_PACKAGE / "package_constraints.txt").read_text(encoding="utf-8").splitlines()
    lines += importlib.metadata.requires("homeassistant") or []
    pins: dict[str, Requirement] = {}
    for raw in lines:
        line = raw.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except ValueError:
            continue
        if requirement.marker is None or requirement.marker.evaluate():
            pins.setdefault(canonicalize_name(requirement.name), requirement)
    return pins


def test_requirements_pinned_and_compatible_with_home_assistant() -> None:
    """Own requirements are pinned (==); those Home Assistant pins are left to its pin.

    A requirement that Home Assistant constrains (numpy, ...) must accept the version Home
    Assistant pins, or installing the integration would fight Home Assistant's constraints.
    """
    pins = _ha_pins()
    for line in _manifest().get("requirements", []):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        pin = pins.get(name)
        if pin is not None:
            pinned = [spec.version for spec in pin.specifier if spec.operator == "=="]
            assert pinned, f"{name}: Home Assistant constrains it without pinning"
            assert requirement.specifier.contains(pinned[0], prereleases=True), (
                f"{line} excludes Home Assistant's {name}=={pinned[0]}"
            )
        else:
            operators = [spec.operator for spec in requirement.specifier]
            assert operators == ["=="], f"{line}: pin it with =="


def test_requirements_match_the_test_environment() -> None:
    """requirements_test.txt installs the versions the manifest asks for."""
    tested: dict[str, Requirement] = {}
    for raw in (ROOT / "requirements_test.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            tested[canonicalize_name(requirement.name)] = requirement
    for line in _manifest().get("requirements", []):
        requirement = Requirement(line)
        installed = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (
            f"{line}, installed {installed}"
        )
        test_pin = tested.get(canonicalize_name(requirement.name))
        if test_pin is not None and "==" in str(requirement.specifier):
            assert str(test_pin.specifier) == str(requirement.specifier), line


# -- hacs.json -------------------------------------------------------------------------------

HACS_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    },
    extra=vol.PREVENT_EXTRA,
)


def test_hacs_json() -> None:
    """hacs.json has only the keys HACS knows; its minimum Home Assistant is a real version."""
    hacs = _json(ROOT / "hacs.json")
    HACS_SCHEMA(hacs)
    assert hacs["name"] == _manifest()["name"]
    minimum = AwesomeVersion(hacs["homeassistant"], ensure_strategy=[AwesomeVersionStrategy.CALVER])
    # the tests run on a Home Assistant that is at least the minimum claimed
    assert minimum <= AwesomeVersion(ha_version), (hacs["homeassistant"], ha_version)
    assert minimum >= AwesomeVersion("2024.1.0")  # runtime_data, has_entity_name, ...


# -- brand images ----------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_brand_images() -> None:
    """brand/ has icon.png (256x256) and the optional images at the sizes the brands rules ask."""
    brand = INTEGRATION / "brand"
    images = sorted(brand.glob("*.png")) if brand.is_dir() else []
    if not images:
        pytest.skip("no brand images yet")
    names = {path.name for path in images}
    assert "icon.png" in names
    allowed = {
        f"{dark}{kind}{hidpi}.png"
        for dark in ("", "dark_")
        for kind in ("icon", "logo")
        for hidpi in ("", "@2x")
    }
    assert sorted(names - allowed) == []
    for path in images:
        width, height = _png_size(path)
        scale = 2 if "@2x" in path.name else 1
        if "icon" in path.name:
            assert (width, height) == (256 * scale, 256 * scale), path.name
        else:
            assert 128 * scale <= min(width, height) <= 256 * scale, path.name
            assert max(width, height) <= 1024 * scale, path.name


# -- strings.json and the translations -------------------------------------------------------


def _values(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        out = []
        for key, value in node.items():
            out += _values(value, (*path, key))
        return out
    return [(path, node)]


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda path: path.name)
def test_translation_values(path: Path) -> None:
    """hassfest's value rules: no HTML, URLs, outer spaces, quoted or invalid placeholders."""
    for where, value in _values(_json(path)):
        name = "::".join(where)
        assert isinstance(value, str), name
        assert value == value.strip(), f"{name}: leading or trailing spaces"
        assert not RE_HTML.search(value), f"{name}: HTML"
        assert not RE_URL.search(value), f"{name}: URL (use a description placeholder)"
        assert not RE_SINGLE_QUOTED_PLACEHOLDER.search(value), f"{name}: '{{placeholder}}'"
        assert not RE_COMBINED_REFERENCE.search(value), f"{name}: combined reference"
        fields = [field for _, field, _, _ in string.Formatter().parse(value) if field]
        assert all(field.isidentifier() for field in fields), name
        if "state_attributes" in where or (where[0] == "entity" and "state" in where):
            assert not fields, f"{name}: placeholders are not allowed here"


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda path: path.name)
def test_translation_structure(path: Path) -> None:
    """hassfest's structure rules: step keys, data_description within data, slug keys."""
    strings = _json(path)
    for section in ("config", "options"):
        flow = strings.get(section, {})
        assert set(flow) <= {"step", "error", "abort", "progress", "create_entry", "flow_title"}
        for step_id, step in flow.get("step", {}).items():
            assert set(step) <= STEP_KEYS, f"{section}.step.{step_id}"
            extra = set(step.get("data_description", {})) - set(step.get("data", {}))
            assert not extra, f"{section}.step.{step_id}: data_description keys not in data"
    assert "title" not in strings.get("config", {}), "config.title was removed"
    for selector in strings.get("selector", {}).values():
        for option in selector.get("options", {}):
            assert RE_TRANSLATION_KEY.match(option), option
    for platform in strings.get("entity", {}).values():
        for key, entity in platform.items():
            assert RE_TRANSLATION_KEY.match(key), key
            assert set(entity) <= {"name", "state", "state_attributes", "unit_of_measurement"}
            for attribute in entity.get("state_attributes", {}):
                assert RE_TRANSLATION_KEY.match(attribute), attribute
    for key in strings.get("device", {}):
        assert RE_TRANSLATION_KEY.match(key), key
    for key, issue in strings.get("issues", {}).items():
        assert "title" in issue, key
        assert ("description" in issue) != ("fix_flow" in issue), key


def test_icons_json() -> None:
    """Icons are `mdi:` names, keyed like the entity translations."""
    icons = _json(INTEGRATION / "icons.json")
    assert set(icons) <= {
        "entity",
        "entity_component",
        "services",
        "issues",
        "conditions",
        "triggers",
    }
    for where, value in _values(icons):
        assert re.fullmatch(r"mdi:[a-z0-9-]+", value), "::".join(where)
    for platform in icons.get("entity", {}).values():
        for key, icon in platform.items():
            assert RE_TRANSLATION_KEY.match(key), key
            assert set(icon) <= {"default", "state", "range", "state_attributes"}, key


# -- quality_scale.yaml ----------------------------------------------------------------------


def _quality_scale() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8")
    )
    rules: dict[str, Any] = data["rules"]
    return {
        name: value if isinstance(value, dict) else {"status": value}
        for name, value in rules.items()
    }


def test_quality_scale_lists_every_rule() -> None:
    """Every rule of every tier has a status; exempt and todo rules say why."""
    rules = _quality_scale()
    known = [rule for tier in QUALITY_SCALE_RULES.values() for rule in tier]
    assert sorted(set(rules) - set(known)) == [], "unknown rules"
    assert sorted(set(known) - set(rules)) == [], "rules without a status"
    for name, rule in rules.items():
        assert set(rule) <= {"status", "comment"}, name
        assert rule["status"] in {"done", "todo", "exempt"}, name
        if rule["status"] in {"exempt", "todo"}:
            assert isinstance(rule.get("comment"), str), f"{name}: say why"
            assert rule["comment"].strip(), name


def _source(name: str) -> str:
    return (INTEGRATION / name).read_text(encoding="utf-8")


def test_quality_scale_claims_hold() -> None:
    """The rules marked done that can be checked from the files are really done."""
    rules = _quality_scale()
    done = {name for name, rule in rules.items() if rule["status"] == "done"}
    manifest = _manifest()
    platforms = [
        path
        for path in INTEGRATION.glob("*.py")
        if re.search(r"^async def async_setup_entry", path.read_text(encoding="utf-8"), re.M)
        and path.name != "__init__.py"
    ]
    checks = {
        "config-flow": manifest.get("config_flow") is True
        and (INTEGRATION / "config_flow.py").is_file(),
        "runtime-data": "entry.runtime_data" in _source("__init__.py"),
        "config-entry-unloading": "async_unload_entry" in _source("__init__.py"),
        "diagnostics": (INTEGRATION / "diagnostics.py").is_file(),
        "reconfiguration-flow": "async_step_reconfigure" in _source("config_flow.py"),
        "has-entity-name": "_attr_has_entity_name = True" in _source("entity.py"),
        "icon-translations": (INTEGRATION / "icons.json").is_file(),
        "brands": (INTEGRATION / "brand" / "icon.png").is_file(),
        "integration-owner": bool(manifest.get("codeowners")),
        "parallel-updates": all("PARALLEL_UPDATES" in p.read_text() for p in platforms),
        "repair-issues": "async_create_issue"
        in "".join(p.read_text(encoding="utf-8") for p in INTEGRATION.rglob("*.py")),
        "reauthentication-flow": "async_step_reauth" in _source("config_flow.py"),
        "discovery": any(
            key in manifest for key in ("zeroconf", "ssdp", "dhcp", "usb", "bluetooth", "mqtt")
        ),
        "exception-translations": "translation_key=" in _source("__init__.py")
        or '"exceptions"' in _source("strings.json"),
    }
    wrong = sorted(name for name, holds in checks.items() if name in done and not holds)
    assert wrong == [], "marked done but not found in the files"
