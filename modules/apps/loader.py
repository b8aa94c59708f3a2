"""Reading app definitions from files: this is the only part of data-defined apps that touches
the file system (the engine core never does).

Two layouts are read:

- **a single file**, ``app.yaml`` / ``app.json`` in a folder of its own or ``<name>.app.yaml`` /
  ``<name>.app.json`` — Switchboard's format (``modules.apps.definition``);
- **a Make local-development folder**: a ``makecomapp.json`` naming the code files of the base,
  connections, modules, RPCs and webhooks (what Make's VS Code extension clones). Its files are
  JSON with comments. The app is named ``app#<appId>`` after its first origin, as Make's
  blueprints name custom apps' modules (``app#my-app-1a2b3c:getThing``).

``discover(folder)`` finds every app under a folder; ``apps_path()`` reads
``SWITCHBOARD_APPS_PATH`` (folders separated by ``os.pathsep``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modules.apps.definition import AppDefinition, AppDefinitionError, definition_error

APPS_PATH_VARIABLE = "SWITCHBOARD_APPS_PATH"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (ten times faster), else the pure-Python one."""
SINGLE_FILES = ("app.yaml", "app.yml", "app.json")
SINGLE_SUFFIXES = (".app.yaml", ".app.yml", ".app.json")
MAKE_PROJECT = "makecomapp.json"
MAX_FILE_BYTES = 5_000_000


def apps_path(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """The folders ``SWITCHBOARD_APPS_PATH`` names (none when it is unset)."""
    value = environ.get(APPS_PATH_VARIABLE, "")
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


def discover(folder: Path) -> Iterator[Path]:
    """Every app definition under ``folder``, in name order: single files and Make folders.

    Raises:
        AppDefinitionError: ``folder`` does not exist or is not a folder.
    """
    if not folder.is_dir():
        raise AppDefinitionError(folder, "", f"{APPS_PATH_VARIABLE} names no folder here")
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.name.endswith(SINGLE_SUFFIXES):
            yield entry
        elif entry.is_dir():
            found = _app_in(entry)
            if found is not None:
                yield found


def _app_in(folder: Path) -> Path | None:
    if (folder / MAKE_PROJECT).is_file():
        return folder
    for name in SINGLE_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def load_definition(source: Path) -> AppDefinition:
    """The app defined at ``source`` (a definition file or a Make local-development folder).

    Raises:
        AppDefinitionError: unreadable, not JSON/YAML, or not a valid definition; the message
            names the file, the JSON path and the field.
    """
    if source.is_dir():
        project = MakeProject(source)
        try:
            return _validated(source, project.definition())
        except AppDefinitionError as error:
            raise project.located(error) from None
    return _validated(source, read_document(source))


def _validated(source: Path, document: Any) -> AppDefinition:
    if not isinstance(document, dict):
        raise AppDefinitionError(source, "", "an app definition is a JSON/YAML object")
    try:
        return AppDefinition.model_validate(document)
    except ValidationError as error:
        raise definition_error(source, error) from None


def read_document(path: Path) -> Any:
    """A JSON, JSON-with-comments or YAML file's value.

    Raises:
        AppDefinitionError: the file cannot be read or parsed (with line and column).
    """
    text = _read_text(path)
    if path.suffix in (".yaml", ".yml"):
        try:
            return yaml.load(text, Loader=_YAML_LOADER)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            reason = getattr(error, "problem", None) or str(error)
            raise AppDefinitionError(path, where, f"not valid YAML: {reason}") from None
    try:
        return json.loads(strip_json_comments(text)) if text.strip() else None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise AppDefinitionError(path, where, f"not valid JSON: {error.msg}") from None


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AppDefinitionError(path, "", f"larger than {MAX_FILE_BYTES:,} bytes")
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise AppDefinitionError(path, "", f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise AppDefinitionError(path, "", "is not UTF-8 text") from None


_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)


def strip_json_comments(text: str) -> str:
    """JSON with ``//`` and ``/* */`` comments (Make's ``.iml.json`` files) as plain JSON;
    strings are left alone, so ``"https://x"`` keeps its ``//``."""
    return _JSONC_TOKEN.sub(lambda m: m.group() if m.group().startswith('"') else "", text)


# -- Make's local-development folders ---------------------------------------------------------

_COMPONENT_SECTIONS = {
    "connection": "connections",
    "module": "modules",
    "rpc": "rpcs",
    "webhook": "webhooks",
    "function": "functions",
}

_CODE_KEYS = {
    # code file key in makecomapp.json → the definition's key
    "communication": "communication",
    "params": "parameters",
    "staticParams": "parameters",
    "parameters": "parameters",
    "mappableParams": "expect",
    "interface": "interface",
    "samples": "samples",
    "scope": "scope",
    "epoch": "epoch",
    "attach": "attach",
    "detach": "detach",
    "update": "update",
    "defaultScope": "scope",
    "scopeList": "scopes",
    "common": "common",
    "code": "code",
}

_IGNORED_CODES = frozenset({"installSpec", "installDirectives", "requiredScope", "test", "readme"})
"""Code files that say nothing about running the app (install screens, tests, docs)."""


class MakeProject:
    """A Make local-development folder read into one definition document."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.project_file = folder / MAKE_PROJECT
        self.project = read_document(self.project_file)
        if not isinstance(self.project, dict):
            raise AppDefinitionError(self.project_file, "", "is not a JSON object")
        self.files: dict[str, Path] = {}
        """The code file each part of the definition came from, by its JSON path."""

    def located_after_load(self, error: AppDefinitionError) -> AppDefinitionError:
        """``located`` for a problem found after loading (a template that does not compile)."""
        self.definition()
        return self.located(error)

    def located(self, error: AppDefinitionError) -> AppDefinitionError:
        """``error`` (about the assembled definition) moved to the code file it comes from,
        with the JSON path inside that file (``modules/getForm/communication.iml.json: url``)."""
        if error.source != str(self.folder):
            return error
        for prefix, file in sorted(self.files.items(), key=lambda item: -len(item[0])):
            if error.path == prefix or error.path.startswith((prefix + ".", prefix + "[")):
                inner = error.path[len(prefix) :].lstrip(".")
                return AppDefinitionError(file, inner, error.reason)
        return AppDefinitionError(self.project_file, error.path, error.reason)

    def definition(self) -> dict[str, Any]:
        general = self.project.get("generalCodeFiles") or {}
        document: dict[str, Any] = {
            "name": self._name(),
            "label": self._label(),
            "base": self._code(general.get("base"), "generalCodeFiles.base", "base") or {},
            "common": self._code(general.get("common"), "generalCodeFiles.common", "common") or {},
        }
        components = self.project.get("components") or {}
        if not isinstance(components, dict):
            raise AppDefinitionError(self.project_file, "components", "is not an object")
        for component, section in _COMPONENT_SECTIONS.items():
            items = components.get(component) or {}
            if not isinstance(items, dict):
                raise AppDefinitionError(
                    self.project_file,
                    f"components.{component}",
                    "is not an object of components by name",
                )
            document[section] = {
                name: self._component(component, f"{section}.{name}", name, metadata)
                for name, metadata in items.items()
                if metadata is not None
            }
        return document

    def _name(self) -> str:
        origins = self.project.get("origins") or []
        app_id = origins[0].get("appId") if origins and isinstance(origins[0], dict) else None
        if not app_id:
            raise AppDefinitionError(
                self.project_file, "origins[0].appId", "names no app (Make's app id is needed)"
            )
        return f"app#{app_id}"

    def _label(self) -> str:
        origins = self.project.get("origins") or []
        return str((origins[0] or {}).get("label") or self._name()) if origins else self._name()

    def _component(self, component: str, path: str, name: str, metadata: Any) -> dict[str, Any]:
        where = f"components.{component}.{name}"
        if not isinstance(metadata, dict):
            raise AppDefinitionError(self.project_file, where, "is not an object")
        result = self._metadata(component, metadata)
        for code, file in (metadata.get("codeFiles") or {}).items():
            if code in _IGNORED_CODES or file is None:
                continue
            key = _CODE_KEYS.get(code)
            if key is None:
                raise AppDefinitionError(
                    self.project_file, f"{where}.codeFiles.{code}", "is not a code file Make has"
                )
            value = self._code(file, f"{where}.codeFiles.{code}", f"{path}.{key}")
            if value not in (None, {}, []) or key not in result:
                result[key] = value
        return result

    @staticmethod
    def _metadata(component: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if metadata.get("label") is not None:
            result["label"] = metadata["label"]
        if component == "module":
            result["type"] = metadata.get("moduleType")
            if metadata.get("actionCrud"):
                result["crud"] = metadata["actionCrud"]
            result["description"] = metadata.get("description") or ""
            result["connection"] = metadata.get("connection")
            if metadata.get("webhook"):
                result["webhook"] = metadata["webhook"]
        elif component == "connection":
            result["type"] = metadata.get("connectionType", "basic")
        elif component in ("rpc", "webhook"):
            result["connection"] = metadata.get("connection")
            if component == "webhook" and metadata.get("webhookType"):
                result["type"] = metadata["webhookType"]
        return result

    def _code(self, file: Any, where: str, part: str) -> Any:
        if file is None:
            return None
        path = (self.folder / str(file)).resolve()
        self.files[part] = self.folder / str(file)
        if self.folder.resolve() not in path.parents:
            raise AppDefinitionError(self.project_file, where, "points outside the app's folder")
        if not path.is_file():
            raise AppDefinitionError(self.project_file, where, f"names a missing file '{file}'")
        if path.suffix == ".js":
            return path.read_text(encoding="utf-8")
        return read_document(path)
