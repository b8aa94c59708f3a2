"""Sync packs: a manifest (``pack.json``) and ordinary blueprints in ``scenarios/<pack>/``.

A pack pairs a CRM (side ``crm``) with an accounting system (side ``accounting``) module by
module (contacts ⇄ customers, products ⇄ items …). Each pair has one blueprint per direction
(``to_accounting``, ``to_crm``); the user picks per pair ``both``, one way, or ``off``. What the
setup page or ``switchboard pack install`` lets the user choose is written into the blueprints
here, in Make's own terms, so the generated scenarios stay ordinary scenarios the editor opens:

- **options** (an invoice number prefix, a status …) are the variables of the flow's
  "Pack settings" module (``util:SetVariables``), read by the other modules as ``{{N.name}}``;
- **field mapping** rows set one mapper key of the flow's create/update modules: a field of
  the record the flow reads (``{{1.Field}}``) or a static value;
- **record filters** become conditions of the flow's filter module (AND, in every OR group),
  so a record they stop is "Not Valid" in the sync log with the condition that stopped it;
- the **tax table** becomes a ``switch()`` on the line's tax name;
- the whole choice is kept in the blueprint's ``metadata.pack``, where the setup page reads it
  back.

Pure: reads the pack's files, returns blueprint text; the service stores and runs them
(``engine.service.packs``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.filters.operators import OPERATORS

PACKS_ROOT = Path(__file__).resolve().parents[1] / "scenarios"
"""Where the packs live: every folder of ``scenarios/`` holding a ``pack.json``."""

DIRECTIONS = ("both", "to_accounting", "to_crm", "off")
"""A pair's choices: both ways, CRM → accounting only, accounting → CRM only, not synced."""

FLOW_DIRECTIONS = ("to_accounting", "to_crm")
MAX_INTERVAL_MINUTES = 24 * 60


class PackError(ValueError):
    """A pack or a setup choice that cannot be used; the message names the place."""


@dataclass(frozen=True)
class Option:
    """A pack option: ``text`` (``max_length``), ``choice`` (``choices``) or ``bool``."""

    key: str
    label: str
    kind: str = "text"
    default: Any = ""
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    help: str = ""

    def check(self, value: Any) -> Any:
        """The value as the blueprint gets it. Raises ``PackError`` naming the option."""
        if self.kind == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        text = "" if value is None else str(value)
        if self.kind == "choice" and text not in self.choices:
            raise PackError(f"option {self.key}: {text!r} is not one of {', '.join(self.choices)}")
        if self.max_length is not None and len(text) > self.max_length:
            raise PackError(
                f"option {self.key}: {text!r} is longer than {self.max_length} characters"
            )
        return text


@dataclass(frozen=True)
class MappingRow:
    """One row of the field-mapping table: the target field (a mapper key, dotted for a
    nested one) of ``modules`` and its default source (a field of ``source_module``'s output,
    or a static value)."""

    field: str
    label: str
    modules: tuple[int, ...]
    source_module: int = 1
    default: str | None = None
    static: Any = None
    sources: tuple[str, ...] = ()

    def value(self, choice: Mapping[str, Any] | None) -> Any:
        """The mapper value of a choice ``{"source": F}`` / ``{"static": V}`` / ``{}``."""
        if choice is None:
            if self.default:
                return reference(self.source_module, self.default)
            return self.static
        if choice.get("static") not in (None, ""):
            return choice["static"]
        source = choice.get("source")
        if source in (None, ""):
            return None
        if not re.fullmatch(r"[A-Za-z_][\w.\[\]]*", str(source)):
            raise PackError(f"mapping {self.field}: {source!r} is not a field name")
        return reference(self.source_module, str(source))


@dataclass(frozen=True)
class Flow:
    """One blueprint of a pair, in one direction."""

    file: str
    direction: str
    settings_module: int | None = None
    filter_module: int | None = None
    source_module: int = 1
    mapping: tuple[MappingRow, ...] = ()
    taxes: Mapping[str, Any] | None = None
    filter_fields: tuple[str, ...] = ()
    interval_minutes: int | None = None  # its own schedule (a daily summary: 1440)


@dataclass(frozen=True)
class Pair:
    key: str
    label: str
    default: str
    flows: tuple[Flow, ...]

    def directions(self) -> tuple[str, ...]:
        """The choices this pair offers (a one-way pair has no ``both``)."""
        have = {flow.direction for flow in self.flows}
        if have == set(FLOW_DIRECTIONS):
            return DIRECTIONS
        return (*sorted(have), "off")


@dataclass(frozen=True)
class Pack:
    name: str
    title: str
    description: str
    path: Path
    crm: str
    accounting: str
    labels: Mapping[str, str]
    interval_minutes: int
    pairs: tuple[Pair, ...]
    options: tuple[Option, ...] = ()
    taxes: Mapping[str, Any] | None = None
    seeds: tuple[str, ...] = ()
    connected: tuple[str, ...] = ()

    @property
    def apps(self) -> tuple[str, str]:
        return (self.crm, self.accounting)

    @property
    def connection_apps(self) -> tuple[str, ...]:
        """The apps the pack needs a stored connection for (a CRM that only sends webhooks
        and receives HTTP requests needs none)."""
        return self.connected or self.apps

    def flows(self) -> list[tuple[Pair, Flow]]:
        return [(pair, flow) for pair in self.pairs for flow in pair.flows]

    def blueprint(self, flow: Flow) -> dict[str, Any]:
        return json.loads((self.path / flow.file).read_text(encoding="utf-8"))

    def flow_name(self, flow: Flow) -> str:
        """The scenario's name: the blueprint's own."""
        return str(self.blueprint(flow).get("name") or flow.file)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as the setup page shows it."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "apps": {"crm": self.crm, "accounting": self.accounting},
            "connections": list(self.connection_apps),
            "labels": dict(self.labels),
            "interval_minutes": self.interval_minutes,
            "seeds": list(self.seeds),
            "options": [
                {
                    "key": o.key,
                    "label": o.label,
                    "kind": o.kind,
                    "default": o.default,
                    "choices": list(o.choices),
                    "max_length": o.max_length,
                    "help": o.help,
                }
                for o in self.options
            ],
            "taxes": dict(self.taxes) if self.taxes else None,
            "pairs": [
                {
                    "key": pair.key,
                    "label": pair.label,
                    "default": pair.default,
                    "directions": list(pair.directions()),
                    "flows": [
                        {
                            "file": flow.file,
                            "name": self.flow_name(flow),
                            "direction": flow.direction,
                            "filter_fields": list(flow.filter_fields),
                            "mapping": [
                                {
                                    "field": row.field,
                                    "label": row.label,
                                    "default": row.default,
                                    "static": row.static,
                                    "sources": list(row.sources),
                                }
                                for row in flow.mapping
                            ],
                        }
                        for flow in pair.flows
                    ],
                }
                for pair in self.pairs
            ],
        }


def reference(module_id: int, name: str) -> str:
    """``{{1.Email}}``: a field of a module's output, in Make's mapping language."""
    return "{{" + f"{module_id}.{name}" + "}}"


# -- reading manifests --------------------------------------------------------------------------


def list_packs(root: Path = PACKS_ROOT) -> list[Pack]:
    return [load_pack(path.parent) for path in sorted(root.glob("*/pack.json"))]


def find_pack(name: str, root: Path = PACKS_ROOT) -> Pack:
    """The pack of that name. Raises ``PackError`` listing the packs there are."""
    path = root / name
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or not (path / "pack.json").is_file():
        known = ", ".join(p.name for p in list_packs(root)) or "none"
        raise PackError(f"no sync pack named {name!r} (packs: {known})")
    return load_pack(path)


def load_pack(path: Path) -> Pack:
    """Read ``path/pack.json``. Raises ``PackError`` naming the key that is wrong."""
    where = path / "pack.json"
    try:
        raw = json.loads(where.read_text(encoding="utf-8"))
        pairs = tuple(_pair(p, path) for p in raw["pairs"])
        return Pack(
            name=raw["name"],
            title=raw["title"],
            description=raw.get("description", ""),
            path=path,
            crm=raw["apps"]["crm"],
            accounting=raw["apps"]["accounting"],
            labels=raw.get("labels", {}),
            interval_minutes=int(raw.get("interval_minutes", 15)),
            pairs=pairs,
            options=tuple(_option(o) for o in raw.get("options", [])),
            taxes=raw.get("taxes"),
            seeds=tuple(raw.get("seeds", [])),
            connected=tuple(raw.get("connections", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PackError(f"{where}: {error!r}") from None


def _option(raw: Mapping[str, Any]) -> Option:
    return Option(
        key=raw["key"],
        label=raw.get("label", raw["key"]),
        kind=raw.get("kind", "text"),
        default=raw.get("default", ""),
        choices=tuple(raw.get("choices", ())),
        max_length=raw.get("max_length"),
        help=raw.get("help", ""),
    )


def _pair(raw: Mapping[str, Any], path: Path) -> Pair:
    flows = tuple(_flow(f) for f in raw["flows"])
    for flow in flows:
        if flow.direction not in FLOW_DIRECTIONS:
            raise ValueError(f"pair {raw['key']}: direction {flow.direction!r}")
        if not (path / flow.file).is_file():
            raise ValueError(f"pair {raw['key']}: no blueprint {flow.file}")
    pair = Pair(raw["key"], raw.get("label", raw["key"]), raw.get("default", "both"), flows)
    if pair.default not in pair.directions():
        raise ValueError(f"pair {pair.key}: default {pair.default!r}")
    return pair


def _flow(raw: Mapping[str, Any]) -> Flow:
    source = int(raw.get("source_module", 1))
    rows = tuple(
        MappingRow(
            field=row["field"],
            label=row.get("label", row["field"]),
            modules=tuple(row["modules"]),
            source_module=int(row.get("source_module", source)),
            default=row.get("default"),
            static=row.get("static"),
            sources=tuple(row.get("sources", ())),
        )
        for row in raw.get("mapping", [])
    )
    return Flow(
        file=raw["file"],
        direction=raw["direction"],
        settings_module=raw.get("settings_module"),
        filter_module=raw.get("filter_module"),
        source_module=source,
        mapping=rows,
        taxes=raw.get("taxes"),
        filter_fields=tuple(raw.get("filter_fields", ())),
        interval_minutes=raw.get("interval_minutes"),
    )


# -- the user's choices -------------------------------------------------------------------------


@dataclass
class PackSettings:
    """What the setup page sends (all optional; the manifest's defaults fill the rest)."""

    directions: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    filters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    taxes: dict[str, str] = field(default_factory=dict)
    interval_minutes: int | None = None
    tax_rates: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directions": self.directions,
            "options": self.options,
            "mapping": self.mapping,
            "filters": self.filters,
            "taxes": self.taxes,
            "tax_rates": self.tax_rates,
            "interval_minutes": self.interval_minutes,
        }


def settings_for(pack: Pack, given: Mapping[str, Any] | None) -> PackSettings:
    """The choices checked against the pack, defaults filled in.

    Raises:
        PackError: an unknown pair, direction, option, flow, mapping field, filter operator or
            tax, or a value an option refuses (a prefix longer than 4 characters …).
    """
    given = dict(given or {})
    unknown = set(given) - set(PackSettings().to_dict())
    if unknown:
        raise PackError(f"unknown setting {sorted(unknown)[0]!r}")
    pairs = {pair.key: pair for pair in pack.pairs}
    directions = {key: pair.default for key, pair in pairs.items()}
    for key, value in (given.get("directions") or {}).items():
        if key not in pairs:
            raise PackError(f"directions: no pair {key!r} (pairs: {', '.join(pairs)})")
        if value not in pairs[key].directions():
            choices = ", ".join(pairs[key].directions())
            raise PackError(f"directions.{key}: {value!r} is not one of {choices}")
        directions[key] = value
    options = {o.key: o.check(o.default) for o in pack.options}
    known_options = {o.key: o for o in pack.options}
    for key, value in (given.get("options") or {}).items():
        if key not in known_options:
            raise PackError(f"options: no option {key!r}")
        options[key] = known_options[key].check(value)
    flows = {flow.file: flow for _, flow in pack.flows()}
    mapping: dict[str, dict[str, dict[str, Any]]] = {}
    for file, rows in (given.get("mapping") or {}).items():
        if file not in flows:
            raise PackError(f"mapping: no flow {file!r}")
        fields = {row.field: row for row in flows[file].mapping}
        for name, choice in (rows or {}).items():
            if name not in fields:
                raise PackError(f"mapping.{file}: no mappable field {name!r}")
            fields[name].value(choice)  # checks the source
        mapping[file] = {k: dict(v or {}) for k, v in (rows or {}).items()}
    filters: dict[str, list[dict[str, Any]]] = {}
    for file, rules in (given.get("filters") or {}).items():
        if file not in flows:
            raise PackError(f"filters: no flow {file!r}")
        filters[file] = [_rule(file, i, r) for i, r in enumerate(rules or [])]
    taxes = {str(k): str(v) for k, v in (given.get("taxes") or {}).items() if k and v}
    if taxes and not pack.taxes:
        raise PackError("taxes: this pack maps no taxes")
    try:
        rates = {str(k): float(v) for k, v in (given.get("tax_rates") or {}).items()}
    except (TypeError, ValueError):
        raise PackError("tax_rates: every rate is a number (a percentage)") from None
    interval = given.get("interval_minutes")
    if interval not in (None, ""):
        interval = int(interval)
        if not 1 <= interval <= MAX_INTERVAL_MINUTES:
            raise PackError(f"interval_minutes: {interval} is not 1 to {MAX_INTERVAL_MINUTES}")
    return PackSettings(directions, options, mapping, filters, taxes, interval or None, rates)


def _rule(file: str, index: int, rule: Mapping[str, Any]) -> dict[str, Any]:
    where = f"filters.{file}[{index}]"
    name = str(rule.get("field") or "")
    if not re.fullmatch(r"[A-Za-z_][\w.]*", name):
        raise PackError(f"{where}: {name!r} is not a field name")
    operator = str(rule.get("operator") or "")
    if operator not in OPERATORS:
        raise PackError(f"{where}: unknown operator {operator!r}")
    return {"field": name, "operator": operator, "value": rule.get("value")}


def enabled(pair: Pair, flow: Flow, settings: PackSettings) -> bool:
    """Whether the user's direction for the pair runs this flow."""
    chosen = settings.directions.get(pair.key, pair.default)
    return chosen == "both" or chosen == flow.direction


# -- writing blueprints -------------------------------------------------------------------------


def generate(pack: Pack, flow: Flow, settings: PackSettings) -> str:
    """The flow's blueprint with the choices written in (see the module docstring)."""
    blueprint = copy.deepcopy(pack.blueprint(flow))
    modules = {m["id"]: m for m in walk(blueprint["flow"])}
    if flow.settings_module is not None:
        _write_options(_module(modules, flow, flow.settings_module), pack, settings)
    for row in flow.mapping:
        value = row.value(settings.mapping.get(flow.file, {}).get(row.field))
        for module_id in row.modules:
            _set_path(_module(modules, flow, module_id).setdefault("mapper", {}), row.field, value)
    rules = settings.filters.get(flow.file) or []
    if rules and flow.filter_module is not None:
        _add_filter(_module(modules, flow, flow.filter_module), flow, rules)
    if flow.taxes:
        _write_taxes(_module(modules, flow, int(flow.taxes["module"])), pack, flow, settings)
    metadata = blueprint.setdefault("metadata", {})
    metadata["pack"] = {"name": pack.name, "flow": flow.file, "settings": settings.to_dict()}
    return json.dumps(blueprint, indent=4, ensure_ascii=False) + "\n"


def walk(flow: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every module of a flow, routes and error handlers included."""
    found: list[dict[str, Any]] = []
    for module in flow:
        found.append(module)  # type: ignore[arg-type]
        for route in module.get("routes") or []:
            found.extend(walk(route.get("flow") or []))
        found.extend(walk(module.get("onerror") or []))
    return found


def _module(modules: Mapping[int, dict[str, Any]], flow: Flow, module_id: int) -> dict[str, Any]:
    if module_id not in modules:
        raise PackError(f"{flow.file}: no module {module_id}")
    return modules[module_id]


def _write_options(module: dict[str, Any], pack: Pack, settings: PackSettings) -> None:
    mapper = module.setdefault("mapper", {})
    mapper["variables"] = [
        {"name": o.key, "value": settings.options.get(o.key, o.default)} for o in pack.options
    ]
    mapper.setdefault("scope", "roundtrip")


def _set_path(mapper: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``Line.0.TaxCodeRef``-style paths (a number picks an element of a list)."""
    *parents, last = dotted.split(".")
    target: Any = mapper
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    if value in (None, ""):
        target.pop(last, None)
    else:
        target[last] = value


def _add_filter(module: dict[str, Any], flow: Flow, rules: list[dict[str, Any]]) -> None:
    conditions = [
        {
            "a": reference(flow.source_module, rule["field"]),
            "o": rule["operator"],
            **({"b": rule["value"]} if rule["value"] not in (None, "") else {}),
        }
        for rule in rules
    ]
    existing = module.get("filter") or {"name": "Record filter", "conditions": [[]]}
    groups = existing.get("conditions") or [[]]
    existing["conditions"] = [[*group, *conditions] for group in groups]
    module["filter"] = existing


def tax_table(pack: Pack, settings: PackSettings) -> dict[str, str]:
    """CRM tax name → accounting tax code: the pack's defaults, then the user's rows."""
    return {**(pack.taxes or {}).get("default", {}), **settings.taxes}


def _write_taxes(module: dict[str, Any], pack: Pack, flow: Flow, settings: PackSettings) -> None:
    """``code`` (CRM → accounting): the line's tax name to a code. ``crm_line_tax``
    (accounting → CRM): the line's code to a Zoho line tax, name and percentage (the rates the
    pack knows, or the ones the setup page read from the CRM)."""
    taxes = flow.taxes or {}
    table = tax_table(pack, settings)
    subject, kind = taxes["subject"], taxes.get("kind", "code")
    if kind == "code":
        value: Any = tax_expression(subject, table, taxes.get("otherwise"))
    else:
        rates = {**(pack.taxes or {}).get("rates", {}), **settings.tax_rates}
        names = {code: name for name, code in sorted(table.items(), reverse=True)}
        percentages = {code: str(rates.get(name, 0)) for code, name in names.items()}
        value = [
            {
                "name": tax_expression(subject, names, ""),
                "percentage": tax_expression(subject, percentages, "0"),
            }
        ]
    _set_path(module.setdefault("mapper", {}), taxes["key"], value)


def tax_expression(subject: str, table: Mapping[str, str], otherwise: str | None = "") -> str:
    """``{{switch(subject; "GST"; "4"; …; otherwise)}}`` — a line's tax name to a code;
    ``otherwise`` ``None`` leaves an unmapped tax empty (``null``), for the flow to refuse."""
    pairs = "".join(f"; {_quoted(k)}; {_quoted(v)}" for k, v in sorted(table.items()))
    fallback = "null" if otherwise is None else _quoted(otherwise)
    return "{{" + f"switch({subject}{pairs}; {fallback})" + "}}"


def _quoted(text: str) -> str:
    if '"' in text or "{" in text or "}" in text:
        raise PackError(f"tax table: {text!r} may not hold quotes or braces")
    return f'"{text}"'


def settings_of(blueprint_text: str) -> dict[str, Any] | None:
    """The choices a generated blueprint was made with (``None`` for another blueprint)."""
    try:
        metadata = json.loads(blueprint_text).get("metadata") or {}
    except (ValueError, AttributeError):
        return None
    pack = metadata.get("pack")
    return pack if isinstance(pack, dict) else None
