"""The translations agree with strings.json, and strings.json with what the code can show.

Everything the code uses is read from the sources with `ast` (and constant names are resolved
through the imported modules), so the tests follow new steps, errors, entities and repair
issues without a list to keep up to date here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import string
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from homeassistant.const import Platform

PACKAGE = "custom_components.energy_collective"
INTEGRATION = Path(__file__).parents[1] / "custom_components" / "energy_collective"
STRINGS = INTEGRATION / "strings.json"
TRANSLATIONS = sorted((INTEGRATION / "translations").glob("*.json"))
PLATFORMS = {str(platform) for platform in Platform}

# Helpers of ConfigFlow that abort with a fixed reason
ABORTING_HELPERS = {
    "_abort_if_unique_id_configured": "already_configured",
    "async_update_reload_and_abort": "reconfigure_successful",
    "_abort_if_unique_id_mismatch": "unique_id_mismatch",
}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


# -- reading ---------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def _strings() -> dict[str, Any]:
    return _load(STRINGS)


def _flatten(node: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    if isinstance(node, dict):
        out: dict[tuple[str, ...], str] = {}
        for key, value in node.items():
            out.update(_flatten(value, (*prefix, key)))
        return out
    return {prefix: node}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _code_spans(text: str) -> list[str]:
    return sorted(re.findall(r"`[^`]*`", text))


def _python_files() -> list[Path]:
    return sorted(INTEGRATION.rglob("*.py"))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module(path: Path) -> ModuleType:
    relative = path.relative_to(INTEGRATION).with_suffix("")
    parts = [part for part in relative.parts if part != "__init__"]
    return importlib.import_module(".".join([PACKAGE, *parts]))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing(node: ast.AST, parents: dict[ast.AST, ast.AST], kind: Any) -> Any:
    while node in parents:
        node = parents[node]
        if isinstance(node, kind):
            return node
    return None


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _string_values(node: ast.expr) -> set[str]:
    """The strings an expression can evaluate to: a constant, or the branches of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _string_values(node.body) | _string_values(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*(_string_values(value) for value in node.values))
    return set()


def _local_namespace(func: FunctionNode | None, namespace: dict[str, Any]) -> dict[str, Any]:
    """The module namespace plus the simple local assignments of a function."""
    local = dict(namespace)
    if func is None:
        return local
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    local[target.id] = _evaluate(node.value, local)
                except Exception:  # not a constant expression
                    continue
    return local


def _evaluate(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """The value of a constant expression of the source (names from the module)."""
    code = compile(ast.Expression(body=node), "<source>", "eval")
    return eval(code, {"__builtins__": {"str": str, "int": int}}, namespace)


def _functions(tree: ast.Module) -> dict[str, FunctionNode]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


# -- what the config flow can show -----------------------------------------------------------


def _returned_keys(name: str, functions: dict[str, FunctionNode], seen: set[str]) -> set[str]:
    """The string constants a module function returns, following `return other(...)`."""
    if name in seen or name not in functions:
        return set()
    seen.add(name)
    keys: set[str] = set()
    for node in ast.walk(functions[name]):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            keys.add(value.value)
        elif isinstance(value, ast.Call):
            keys |= _returned_keys(_call_name(value), functions, seen)
    return keys


def _exception_keys(class_name: str) -> set[str]:
    """The `key` arguments every `raise ClassName(key, ...)` of the package can carry."""
    default: set[str] = set()
    keys: set[str] = set()
    for path in _python_files():
        tree = _tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        args = item.args.args[1:]
                        defaults = dict(
                            zip(
                                [a.arg for a in args][-len(item.args.defaults) :]
                                if item.args.defaults
                                else [],
                                item.args.defaults,
                                strict=True,
                            )
                        )
                        if "key" in defaults:
                            default |= _string_values(defaults["key"])
        parents = _parents(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _call_name(node) == class_name):
                continue
            arg = _keyword(node, "key") or (node.args[0] if node.args else None)
            if arg is None:
                keys |= default
            elif isinstance(arg, ast.Constant | ast.IfExp):
                keys |= _string_values(arg)
            elif isinstance(arg, ast.Name):
                func = _enclosing(node, parents, ast.FunctionDef | ast.AsyncFunctionDef)
                bound = [
                    assign.value
                    for assign in ast.walk(func)
                    if isinstance(assign, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == arg.id for t in assign.targets)
                ]
                assert bound, f"{path.name}:{node.lineno}: cannot tell what `{arg.id}` holds"
                for value in bound:
                    values = _string_values(value)
                    assert values, f"{path.name}:{value.lineno}: `{arg.id}` is not a literal"
                    keys |= values
            else:
                pytest.fail(f"{path.name}:{node.lineno}: key of {class_name} is not readable")
    return keys


def _flow_errors_by_function() -> dict[str, set[str]]:
    """The error keys each function of config_flow.py can put into `errors[...]`."""
    tree = _tree(INTEGRATION / "config_flow.py")
    functions = _functions(tree)
    parents = _parents(tree)
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) for t in node.targets
            )
            and any(
                isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "errors"
                for t in node.targets
            )
        ):
            continue
        func = _enclosing(node, parents, ast.FunctionDef | ast.AsyncFunctionDef)
        keys = found.setdefault(func.name, set())
        value = node.value
        where = f"config_flow.py:{node.lineno}"
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            keys.add(value.value)
        elif isinstance(value, ast.Name):
            calls = [
                bound.value
                for bound in ast.walk(func)
                if isinstance(bound, ast.NamedExpr | ast.Assign)
                and isinstance(bound.value, ast.Call)
                and any(
                    isinstance(t, ast.Name) and t.id == value.id
                    for t in (bound.targets if isinstance(bound, ast.Assign) else [bound.target])
                )
            ]
            assert calls, f"{where}: cannot tell where `{value.id}` comes from"
            for call in calls:
                returned = _returned_keys(_call_name(call), functions, set())
                assert returned, f"{where}: {_call_name(call)}() returns no error key"
                keys |= returned
        elif isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
            handler = _enclosing(node, parents, ast.ExceptHandler)
            assert handler is not None, f"{where}: `{value.value.id}.{value.attr}` outside except"
            assert handler.name == value.value.id, f"{where}: not the caught exception"
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            for exc in types:
                name = exc.id if isinstance(exc, ast.Name) else getattr(exc, "attr", "")
                exception_keys = _exception_keys(name)
                assert exception_keys, f"{where}: no key found for {name}"
                keys |= exception_keys
        else:
            pytest.fail(f"{where}: an error key the test cannot read: {ast.unparse(value)}")
    return found


def _flow_classes() -> Iterator[tuple[str, ast.ClassDef]]:
    """("config" or "options", class) for each flow class of config_flow.py."""
    for node in _tree(INTEGRATION / "config_flow.py").body:
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base) for base in node.bases}
            if any("OptionsFlow" in base for base in bases):
                yield "options", node
            elif any("ConfigFlow" in base for base in bases) or node.keywords:
                yield "config", node


def _shown_forms() -> Iterator[tuple[str, str, FunctionNode, ast.Call]]:
    """(section, step_id, method, call) of every `async_show_form` of the flows."""
    for section, cls in _flow_classes():
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(method):
                if isinstance(node, ast.Call) and _call_name(node) == "async_show_form":
                    step = _keyword(node, "step_id")
                    assert isinstance(step, ast.Constant), f"step_id in {method.name} not a literal"
                    yield section, str(step.value), method, node


def _schema_fields(data_schema: ast.expr) -> set[str]:
    """The keys of the voluptuous schema built by the module functions a form calls."""
    tree = _tree(INTEGRATION / "config_flow.py")
    functions = _functions(tree)
    namespace = vars(_module(INTEGRATION / "config_flow.py"))
    fields: set[str] = set()
    builders = [
        functions[_call_name(node)]
        for node in ast.walk(data_schema)
        if isinstance(node, ast.Call) and _call_name(node) in functions
    ]
    for builder in builders:
        local = _local_namespace(builder, namespace)
        for node in ast.walk(builder):
            if (
                isinstance(node, ast.Call)
                and _call_name(node) in {"Required", "Optional"}
                and node.args
            ):
                fields.add(str(_evaluate(node.args[0], local)))
    return fields


def _selectors() -> dict[str, set[str]]:
    """Translation key -> options of every SelectSelector of config_flow.py."""
    path = INTEGRATION / "config_flow.py"
    tree = _tree(path)
    parents = _parents(tree)
    namespace = vars(_module(path))
    selectors: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _call_name(node) == "SelectSelectorConfig"):
            continue
        key, options = _keyword(node, "translation_key"), _keyword(node, "options")
        if key is None:
            continue
        func = _enclosing(node, parents, ast.FunctionDef | ast.AsyncFunctionDef)
        params = [a.arg for a in func.args.args] if func else []
        uses: list[tuple[ast.expr, ast.expr | None, FunctionNode | None]] = []
        if isinstance(key, ast.Name) and key.id in params:
            # a helper such as _select(options, key): read the arguments of its calls
            for call in ast.walk(tree):
                if not (isinstance(call, ast.Call) and _call_name(call) == func.name):
                    continue
                arguments = dict(zip(params, call.args, strict=False))
                arguments |= {kw.arg: kw.value for kw in call.keywords if kw.arg}
                option_node = (
                    arguments.get(options.id)
                    if isinstance(options, ast.Name) and options.id in params
                    else options
                )
                caller = _enclosing(call, parents, ast.FunctionDef | ast.AsyncFunctionDef)
                uses.append((arguments[key.id], option_node, caller))
        else:
            uses.append((key, options, func))
        for key_node, option_node, scope in uses:
            local = _local_namespace(scope, namespace)
            values = selectors.setdefault(str(_evaluate(key_node, local)), set())
            if option_node is not None:
                values |= {str(option) for option in _evaluate(option_node, local)}
    return selectors


# -- (a) and (b): the translation files ------------------------------------------------------


def test_en_is_a_copy_of_strings() -> None:
    """translations/en.json is strings.json, byte for byte in content."""
    assert _load(INTEGRATION / "translations" / "en.json") == _strings()


def test_there_are_translations() -> None:
    """English and the other languages are shipped."""
    assert {path.stem for path in TRANSLATIONS} >= {"en", "de", "fr", "nl"}


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda path: path.name)
def test_same_keys_as_strings(path: Path) -> None:
    """Every translation has exactly the keys of strings.json: none missing, none left over."""
    source, translated = _flatten(_strings()), _flatten(_load(path))
    assert sorted(set(source) - set(translated)) == [], "missing"
    assert sorted(set(translated) - set(source)) == [], "not in strings.json"


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda path: path.name)
def test_same_placeholders_and_code(path: Path) -> None:
    """Placeholders, `code` (schedule examples), bold markers and line breaks are kept."""
    translated = _flatten(_load(path))
    for key, text in _flatten(_strings()).items():
        other = translated.get(key)
        if other is None:
            continue  # reported by test_same_keys_as_strings
        where = "::".join(key)
        assert isinstance(other, str), where
        assert _placeholders(other) == _placeholders(text), where
        assert _code_spans(other) == _code_spans(text), where
        assert other.count("**") == text.count("**"), where
        assert other.count("\n") == text.count("\n"), where


@pytest.mark.parametrize(
    "path", [p for p in TRANSLATIONS if p.stem != "en"], ids=lambda path: path.name
)
def test_translated(path: Path) -> None:
    """A translation is not English left in place (a few words such as "Name" may match)."""
    source, translated = _flatten(_strings()), _flatten(_load(path))
    same = [key for key, text in source.items() if translated.get(key) == text]
    assert len(same) <= len(source) // 10, ["::".join(key) for key in same]


# -- (c) every error the flow can show -------------------------------------------------------


def test_every_flow_error_is_translated() -> None:
    """Every key the flow can put into `errors` (literal, check_*(), ScheduleError.key)."""
    produced = set().union(*_flow_errors_by_function().values())
    assert produced, "no error key found: the analysis no longer reads config_flow.py"
    missing = produced - set(_strings()["config"].get("error", {}))
    assert sorted(missing) == []


def test_no_stale_error_strings() -> None:
    """Every error in strings.json can still be shown."""
    produced = set().union(*_flow_errors_by_function().values())
    assert sorted(set(_strings()["config"].get("error", {})) - produced) == []


def test_error_placeholders_are_passed() -> None:
    """A step that can show an error with {placeholders} passes them to the form."""
    errors = _strings()["config"].get("error", {})
    by_function = _flow_errors_by_function()
    for _, step_id, method, call in _shown_forms():
        needed = set().union(
            *(_placeholders(errors.get(key, "")) for key in by_function.get(method.name, ()))
        )
        if not needed:
            continue
        passed = _keyword(call, "description_placeholders")
        assert passed is not None, f"step {step_id} shows {needed} but passes no placeholders"
        if isinstance(passed, ast.Name):
            dicts = [
                node.value
                for node in ast.walk(method)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == passed.id for t in node.targets)
            ]
        else:
            dicts = [passed]
        for literal in dicts:
            assert isinstance(literal, ast.Dict), f"step {step_id}: placeholders not a dict"
            given = {str(k.value) for k in literal.keys if isinstance(k, ast.Constant)}
            assert needed <= given, f"step {step_id}: {sorted(needed - given)} not passed"


def test_every_abort_reason_is_translated() -> None:
    """async_abort(reason=...) and the helpers that abort have their message."""
    reasons: set[str] = set()
    for node in ast.walk(_tree(INTEGRATION / "config_flow.py")):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name == "async_abort":
                reasons |= _string_values(_keyword(node, "reason") or node.args[0])
            elif name in ABORTING_HELPERS:
                reason = _keyword(node, "reason")
                reasons |= _string_values(reason) if reason else {ABORTING_HELPERS[name]}
    assert sorted(reasons - set(_strings()["config"].get("abort", {}))) == []


def test_every_form_field_has_a_label() -> None:
    """The fields of every step have a label, and strings.json has no label nor step left over."""
    steps: dict[str, set[str]] = {"config": set(), "options": set()}
    for section, step_id, _, call in _shown_forms():
        steps[section].add(step_id)
        data_schema = _keyword(call, "data_schema")
        fields = _schema_fields(data_schema) if data_schema is not None else set()
        step = _strings()[section]["step"].get(step_id)
        assert step is not None, f"{section} step {step_id} has no strings"
        labels = set(step.get("data", {}))
        assert fields == labels, f"{section} step {step_id}"
    for section, cls in _flow_classes():
        flow = getattr(_module(INTEGRATION / "config_flow.py"), cls.name)
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and _call_name(node) == "async_show_menu":
                step = _keyword(node, "step_id")
                assert isinstance(step, ast.Constant), f"menu step_id of {cls.name} not a literal"
                steps[section].add(str(step.value))
                labels = _strings()[section]["step"].get(str(step.value), {})
                # a menu of a home flow lists the class's MENU; each item needs its label
                assert set(labels.get("menu_options", {})) == set(flow.MENU), cls.name
    for section, shown in steps.items():
        if shown:
            assert set(_strings()[section]["step"]) == shown, section


# -- (d) entities, devices and selectors -----------------------------------------------------


def _entity_translation_keys() -> dict[str, set[str]]:
    """Platform -> translation keys of the entities of that platform module."""
    keys: dict[str, set[str]] = {}
    for path in _python_files():
        if path.parent != INTEGRATION or path.stem not in PLATFORMS:
            continue
        namespace = vars(_module(path))
        found = keys.setdefault(path.stem, set())
        for node in ast.walk(_tree(path)):
            value: ast.expr | None = None
            if isinstance(node, ast.Call) and "Description" in _call_name(node):
                value = _keyword(node, "translation_key")
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_attr_translation_key" for t in node.targets
            ):
                value = node.value
            if value is not None:
                found.add(str(_evaluate(value, namespace)))
    return keys


def test_entities_have_names_and_icons() -> None:
    """Each entity translation_key has a name in strings.json and an icon in icons.json."""
    icons = _load(INTEGRATION / "icons.json")
    used = _entity_translation_keys()
    assert any(used.values()), "no entity translation_key found"
    for platform, keys in used.items():
        for key in keys:
            entry = _strings().get("entity", {}).get(platform, {}).get(key, {})
            assert entry.get("name"), f"entity.{platform}.{key}.name"
            icon = icons.get("entity", {}).get(platform, {}).get(key, {})
            assert icon.get("default") or icon.get("state"), f"icons: entity.{platform}.{key}"


def test_no_stale_entity_strings_or_icons() -> None:
    """strings.json and icons.json describe no entity that no longer exists."""
    used = _entity_translation_keys()
    icons = _load(INTEGRATION / "icons.json")
    for source in (_strings(), icons):
        for platform, entries in source.get("entity", {}).items():
            assert sorted(set(entries) - used.get(platform, set())) == [], platform


def test_devices_have_names() -> None:
    """Every agent role (ROLE_* constant) has a device name using the placeholders given."""
    roles: set[str] = set()
    given: set[str] = set()
    for path in _python_files():
        tree = _tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("ROLE_"):
                        roles |= _string_values(node.value)
            if isinstance(node, ast.Call) and _call_name(node) == "DeviceInfo":
                placeholders = _keyword(node, "translation_placeholders")
                if isinstance(placeholders, ast.Dict):
                    given |= {
                        str(k.value) for k in placeholders.keys if isinstance(k, ast.Constant)
                    }
    assert roles, "no ROLE_* constant found"
    devices = _strings().get("device", {})
    for role in roles:
        assert devices.get(role, {}).get("name"), f"device.{role}.name"
        assert _placeholders(devices[role]["name"]) <= given, f"device.{role}.name"


def test_selectors_have_their_options_translated() -> None:
    """Every SelectSelector translation_key has every one of its options translated."""
    selectors = _selectors()
    assert selectors, "no SelectSelector with a translation_key found"
    translated = _strings().get("selector", {})
    for key, options in selectors.items():
        assert key in translated, f"selector.{key}"
        assert sorted(options - set(translated[key].get("options", {}))) == [], key
    assert sorted(set(translated) - set(selectors)) == [], "selectors nobody uses"


# -- (e) repair issues -----------------------------------------------------------------------


def _issues() -> list[tuple[str, str, set[str] | None]]:
    """(where, translation_key, placeholder names or None) of every issue the package creates."""
    found = []
    for path in _python_files():
        tree = _tree(path)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and _call_name(node) in {"async_create_issue", "create_issue"}
            ):
                continue
            where = f"{path.relative_to(INTEGRATION)}:{node.lineno}"
            key = _keyword(node, "translation_key")
            assert key is not None, f"{where}: issue without translation_key"
            value = str(_evaluate(key, vars(_module(path))))
            placeholders = _keyword(node, "translation_placeholders")
            names = (
                {str(k.value) for k in placeholders.keys if isinstance(k, ast.Constant)}
                if isinstance(placeholders, ast.Dict)
                else None
            )
            found.append((where, value, names))
    return found


def test_repair_issues_are_translated() -> None:
    """Every issue created has a title and description using exactly the placeholders given."""
    issues = _strings().get("issues", {})
    for where, key, names in _issues():
        assert key in issues, f"{where}: issues.{key}"
        used = _placeholders(issues[key]["title"]) | _placeholders(
            issues[key].get("description", "")
        )
        if names is not None:
            assert used == names, f"{where}: issues.{key} uses {used}, code gives {names}"
    assert sorted(set(issues) - {key for _, key, _ in _issues()}) == [], "issues never raised"


# -- (f) config subentries -------------------------------------------------------------------


def _config_flow_class() -> type:
    module = _module(INTEGRATION / "config_flow.py")
    for section, node in _flow_classes():
        if section == "config" and node.keywords:
            cls: type = getattr(module, node.name)
            return cls
    raise AssertionError("no ConfigFlow class in config_flow.py")


def _subentry_flows() -> dict[str, type]:
    """Subentry type -> flow class, as the config flow declares them (read at run time)."""
    flows: dict[str, type] = _config_flow_class().async_get_supported_subentry_types(None)  # type: ignore[attr-defined]
    assert flows, "the config flow declares no subentry types"
    return flows


def _class_sources(cls: type) -> list[tuple[ast.ClassDef, dict[str, Any], dict[str, FunctionNode]]]:
    """(class node, module namespace, module functions) of a class and its bases in the package."""
    found = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith(PACKAGE):
            continue
        module = sys.modules[klass.__module__]
        path = Path(inspect.getsourcefile(module) or "")
        tree = _tree(path)
        node = next(
            n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == klass.__name__
        )
        found.append((node, vars(module), _functions(tree)))
    return found


def _kinds_of_branch(
    node: ast.AST, parents: dict[ast.AST, ast.AST], namespace: dict[str, Any]
) -> set[str] | None:
    """The `kind` values under which `node` runs (`if kind == X:` bodies), None if any."""
    kinds: set[str] | None = None
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.If) and child in parent.body:
            for compare in ast.walk(parent.test):
                if (
                    isinstance(compare, ast.Compare)
                    and isinstance(compare.left, ast.Name)
                    and compare.left.id == "kind"
                    and isinstance(compare.ops[0], ast.Eq)
                ):
                    value = {str(_evaluate(compare.comparators[0], namespace))}
                    kinds = value if kinds is None else kinds & value
        child, parent = parent, parents.get(parent)
    return kinds


def _keys_put_in_dicts(
    func: FunctionNode,
    kind: str | None,
    namespace: dict[str, Any],
    functions: dict[str, FunctionNode],
    name: str | None = None,
) -> set[str]:
    """Error keys a function stores in a dict (`name`, or any dict), for a flow of `kind`."""
    parents = _parents(func)
    keys: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Assign):
            continue
        targets = [
            t
            for t in node.targets
            if isinstance(t, ast.Subscript)
            and isinstance(t.value, ast.Name)
            and (name is None or t.value.id == name)
        ]
        if not targets:
            continue
        kinds = _kinds_of_branch(node, parents, namespace)
        if kind is not None and kinds is not None and kind not in kinds:
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            keys.add(value.value)
            continue
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
            # `err.key` of a caught exception: every key that exception can carry
            handler = _enclosing(node, parents, ast.ExceptHandler)
            assert handler is not None, f"{func.name}: `{ast.unparse(value)}` outside except"
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            for exc in types:
                keys |= _exception_keys(exc.id if isinstance(exc, ast.Name) else exc.attr)
            continue
        assert isinstance(value, ast.Name), f"{func.name}: unreadable error {ast.unparse(value)}"
        calls = [
            bound.value
            for bound in ast.walk(func)
            if isinstance(bound, ast.NamedExpr)
            and isinstance(bound.value, ast.Call)
            and bound.target.id == value.id
        ]
        assert calls, f"{func.name}: cannot tell where `{value.id}` comes from"
        for call in calls:
            returned = _returned_keys(_call_name(call), functions, set())
            assert returned, f"{func.name}: {_call_name(call)}() returns no error key"
            keys |= returned
    return keys


def _call_bindings(
    method: FunctionNode, classes: list[ast.ClassDef], namespace: dict[str, Any]
) -> list[dict[str, Any]]:
    """The constant arguments each `self.method(...)` of the class passes, by parameter."""
    params = [a.arg for a in method.args.args[1:]]
    bindings = []
    for cls_node in classes:
        for call in ast.walk(cls_node):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == method.name
            ):
                continue
            pairs = list(zip(params, call.args, strict=False))
            pairs += [(kw.arg, kw.value) for kw in call.keywords if kw.arg]
            bound: dict[str, Any] = {}
            for param, arg in pairs:
                try:
                    bound[param] = _evaluate(arg, namespace)
                except Exception:  # a variable such as user_input
                    continue
            bindings.append(bound)
    return bindings or [{}]


def _subentry_flow_facts(cls: type) -> dict[str, Any]:
    """Steps (with their fields), menus, error keys and abort reasons of a subentry flow."""
    sources = _class_sources(cls)
    classes = [node for node, _, _ in sources]
    kind = getattr(cls, "kind", None)
    steps: dict[str, set[str]] = {}
    menus: dict[str, set[str]] = {}
    errors: set[str] = set()
    aborts: set[str] = set()
    for cls_node, namespace, functions in sources:
        for method in cls_node.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(method):
                if not isinstance(call, ast.Call):
                    continue
                name = _call_name(call)
                if name == "async_update_and_abort":
                    aborts.add("reconfigure_successful")
                elif name == "async_abort":
                    aborts |= _string_values(_keyword(call, "reason") or call.args[0])
                elif name == "async_show_menu":
                    step = _keyword(call, "step_id")
                    options = _keyword(call, "menu_options")
                    assert step is not None
                    assert options is not None
                    for step_id in _string_values(step):
                        menus[step_id] = set(_evaluate(options, namespace))
                elif name == "async_show_form":
                    errors |= _form_errors(call, method, kind, namespace, functions)
                    for bound in _call_bindings(method, classes, namespace):
                        local = _local_namespace(method, {**namespace, "self": cls, **bound})
                        step = _keyword(call, "step_id")
                        assert step is not None
                        step_ids = _string_values(step) or {str(_evaluate(step, local))}
                        schema_node = _keyword(call, "data_schema")
                        fields: set[str] = set()
                        if schema_node is not None:
                            if (
                                isinstance(schema_node, ast.Call)
                                and _call_name(schema_node) == "add_suggested_values_to_schema"
                            ):
                                schema_node = schema_node.args[0]
                            fields = {str(key) for key in _evaluate(schema_node, local).schema}
                        for step_id in step_ids:
                            steps[step_id] = fields
    return {"steps": steps, "menus": menus, "errors": errors, "aborts": aborts}


def _form_errors(
    call: ast.Call,
    method: FunctionNode,
    kind: str | None,
    namespace: dict[str, Any],
    functions: dict[str, FunctionNode],
) -> set[str]:
    """The keys the `errors=` dict of a form can hold, whatever the dict is called."""
    passed = _keyword(call, "errors")
    if passed is None:
        return set()
    assert isinstance(passed, ast.Name), f"{method.name}: errors= is not a variable"
    keys = _keys_put_in_dicts(method, kind, namespace, functions, passed.id)
    for node in ast.walk(method):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == passed.id for t in node.targets)
            and isinstance(node.value, ast.Call)
            and _call_name(node.value) in functions
        ):
            keys |= _keys_put_in_dicts(
                functions[_call_name(node.value)], kind, namespace, functions
            )
    return keys


@pytest.mark.parametrize("subentry_type", sorted(_subentry_flows()))
def test_subentry_flow_is_translated(subentry_type: str) -> None:
    """Every step, menu, field, error and abort reason of a subentry flow has its string."""
    cls = _subentry_flows()[subentry_type]
    facts = _subentry_flow_facts(cls)
    strings = _strings()["config_subentries"].get(subentry_type)
    assert strings is not None, f"config_subentries.{subentry_type}"
    assert strings.get("entry_type"), f"config_subentries.{subentry_type}.entry_type"
    initiate = {"user"} | ({"reconfigure"} if hasattr(cls, "async_step_reconfigure") else set())
    assert set(strings.get("initiate_flow", {})) == initiate
    shown = set(facts["steps"]) | set(facts["menus"])
    assert shown, f"no step found in {cls.__name__}"
    assert set(strings["step"]) == shown
    for step_id, fields in facts["steps"].items():
        step = strings["step"][step_id]
        assert step.get("title"), f"{subentry_type}.{step_id}.title"
        assert set(step.get("data", {})) == fields, f"{subentry_type} step {step_id}"
        assert set(step.get("data_description", {})) <= fields, f"{subentry_type} step {step_id}"
    for step_id, options in facts["menus"].items():
        assert set(strings["step"][step_id].get("menu_options", {})) == options, step_id
    assert facts["errors"], f"no error key found in {cls.__name__}"
    assert sorted(facts["errors"] - set(strings.get("error", {}))) == [], "untranslated"
    assert sorted(set(strings.get("error", {})) - facts["errors"]) == [], "never shown"
    assert sorted(facts["aborts"] - set(strings.get("abort", {}))) == []


def test_no_stale_subentry_types() -> None:
    """strings.json describes no subentry type the config flow does not offer."""
    assert set(_strings()["config_subentries"]) == set(_subentry_flows())


# -- (g) exceptions raised for users ---------------------------------------------------------

TRANSLATED_ERRORS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ConfigEntryError",
    "ConfigEntryNotReady",
    "ConfigEntryAuthFailed",
    "UpdateFailed",
}


def _raised_translations() -> list[tuple[str, str, set[str] | None]]:
    """(where, translation_key, placeholder names or None) of every translated error raised."""
    found = []
    for path in _python_files():
        for node in ast.walk(_tree(path)):
            if not (isinstance(node, ast.Call) and _call_name(node) in TRANSLATED_ERRORS):
                continue
            key = _keyword(node, "translation_key")
            if key is None:
                continue
            where = f"{path.relative_to(INTEGRATION)}:{node.lineno}"
            namespace = vars(_module(path))
            domain = _keyword(node, "translation_domain")
            assert domain is not None, f"{where}: translation_key without translation_domain"
            assert _evaluate(domain, namespace) == _strings_domain(), where
            placeholders = _keyword(node, "translation_placeholders")
            names = (
                {str(k.value) for k in placeholders.keys if isinstance(k, ast.Constant)}
                if isinstance(placeholders, ast.Dict)
                else None
            )
            found.append((where, str(_evaluate(key, namespace)), names))
    return found


def _strings_domain() -> str:
    return str(_load(INTEGRATION / "manifest.json")["domain"])


def test_raised_errors_are_translated() -> None:
    """Every translation_key raised exists under `exceptions` and uses the placeholders given."""
    raised = _raised_translations()
    assert raised, "no translated error found in the package"
    exceptions = _strings().get("exceptions", {})
    for where, key, names in raised:
        assert key in exceptions, f"{where}: exceptions.{key}"
        message = exceptions[key].get("message")
        assert message, f"{where}: exceptions.{key}.message"
        if names is not None:
            used = _placeholders(message)
            assert used == names, f"{where}: exceptions.{key} uses {used}, code gives {names}"


# -- (h) actions -----------------------------------------------------------------------------


def _services_yaml() -> dict[str, Any]:
    from homeassistant.util.yaml import load_yaml_dict

    return dict(load_yaml_dict(str(INTEGRATION / "services.yaml")))


def _registered_services() -> set[str]:
    """The actions the package registers (`hass.services.async_register(DOMAIN, NAME, ...)`)."""
    names: set[str] = set()
    for path in _python_files():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and _call_name(node) == "async_register":
                names.add(str(_evaluate(node.args[1], vars(_module(path)))))
    return names


def test_services_are_described() -> None:
    """Every action is in services.yaml, named and described with its fields, and has an icon."""
    described = _services_yaml()
    assert set(described) == _registered_services()
    strings = _strings().get("services", {})
    icons = _load(INTEGRATION / "icons.json").get("services", {})
    assert set(strings) == set(described), "services in strings.json"
    assert set(icons) == set(described), "services in icons.json"
    for service, spec in described.items():
        text = strings[service]
        assert text.get("name"), f"services.{service}.name"
        assert text.get("description"), f"services.{service}.description"
        fields = set((spec or {}).get("fields", {}))
        assert set(text.get("fields", {})) == fields, f"services.{service}.fields"
        for field in fields:
            assert text["fields"][field].get("name"), f"services.{service}.fields.{field}.name"
            assert text["fields"][field].get("description"), f"{service}.{field}.description"
        assert icons[service].get("service"), f"icons: services.{service}"
