"""Lint rules for ODCS v3 data contracts, each problem as a (field, message) pair."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from open_data_contract_standard.model import (
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
)
from pydantic import BaseModel

LOGICAL_TYPES = frozenset(
    {"string", "date", "timestamp", "time", "number", "integer", "object", "array", "boolean"}
)
# Least to most restricted: moving a column right is a breaking change for its consumers.
CLASSIFICATIONS = ("public", "internal", "pii-masked", "confidential", "pii")
OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
TABLE_METRICS = frozenset({"rowCount", "duplicateValues"})
COLUMN_METRICS = frozenset({"nullValues", "missingValues", "invalidValues", "duplicateValues"})
ID_PATTERN = re.compile(r"^urn:datacontract:([a-z][a-z0-9_]*):(?:(source):)?([a-z][a-z0-9_]*)$")
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
API_VERSION = re.compile(r"^v3\.\d+(\.\d+)?$")
HOURS_PER_UNIT = {"h": 1, "hr": 1, "hour": 1, "hours": 1, "d": 24, "day": 24, "days": 24}

Problems = list[tuple[str, str]]  # (field, message)


def sla_hours(value: Any, unit: str | None) -> float | None:
    """An SLA value in hours, or None unless it is a positive number in h or d units."""
    factor = HOURS_PER_UNIT.get((unit or "").lower())
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) * factor if factor and ok else None


def lint_contract(
    model: OpenDataContractStandard, raw: dict[str, Any], key: str | None, major: int | None
) -> Problems:
    """Every problem the ODCS model itself lets through.

    Args:
        model: the parsed contract.
        raw: the YAML mapping it was parsed from (for unknown keys).
        key: the key the file's place requires (``contract_key``), None to skip that check.
        major: the major the file's name requires (``file_major``), None for any.

    Returns:
        ``(field, message)`` pairs, empty for a good contract.

    """
    problems = _lint_header(model, key, major) + _lint_unknown_keys(raw)
    problems += _lint_schema(model) + _lint_custom(model)
    if not (model.id or "").count(":source:"):
        problems += _lint_sla(model)
    return problems


def _lint_header(model: OpenDataContractStandard, key: str | None, major: int | None) -> Problems:
    out: Problems = []
    if not API_VERSION.match(model.apiVersion or ""):
        out.append(("apiVersion", f"must be v3.x (ODCS 3), got {model.apiVersion!r}"))
    if model.kind != "DataContract":
        out.append(("kind", f"must be 'DataContract', got {model.kind!r}"))
    if not SEMVER.match(model.version or ""):
        out.append(("version", f"must be semantic MAJOR.MINOR.PATCH, got {model.version!r}"))
    match = ID_PATTERN.match(model.id or "")
    if not match:
        form = "urn:datacontract:<domain>:<product> or urn:datacontract:<domain>:source:<entity>"
        out.append(("id", f"must be {form}, got {model.id!r}"))
    elif key is not None and key != "/".join(match.group(0).split(":")[2:]):
        want = "urn:datacontract:" + key.replace("/", ":")
        out.append(("id", f"must be '{want}' to match the file's place, got {model.id!r}"))
    semver = SEMVER.match(model.version or "")
    if major and semver and int(semver.group(1)) != major:
        out.append(("version", f"must be {major}.x.y in a v{major} file, got {model.version!r}"))
    if match and model.domain and model.domain != match.group(1):
        out.append(("domain", f"'{model.domain}' differs from the id's domain '{match.group(1)}'"))
    return out


def _known(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _lint_unknown_keys(raw: dict[str, Any]) -> Problems:
    """Nested ODCS models ignore unknown keys, so a typo (``primarykey``) would pass silently."""
    nodes: list[tuple[str, Any, type[BaseModel]]] = []
    for i, table in enumerate(raw.get("schema") or []):
        nodes.append((f"schema[{i}]", table, SchemaObject))
        for j, prop in enumerate(table.get("properties") or []):
            nodes.append((f"schema[{i}].properties[{j}]", prop, SchemaProperty))
    for where, node, _ in list(nodes):
        for k, rule in enumerate(node.get("quality") or []):
            nodes.append((f"{where}.quality[{k}]", rule, DataQuality))
    unknown = ((where, key) for where, node, m in nodes for key in sorted(set(node) - _known(m)))
    return [(f"{where}.{key}", "unknown field (not in ODCS v3)") for where, key in unknown]


def _lint_schema(model: OpenDataContractStandard) -> Problems:
    tables = model.schema_ or []
    out: Problems = []
    if len(tables) != 1:
        out.append(("schema", f"must hold exactly one schema object, got {len(tables)}"))
    for i, table in enumerate(tables):
        for k, rule in enumerate(table.quality or []):
            out += _lint_rule(rule, f"schema[{i}].quality[{k}]", TABLE_METRICS)
        for j, prop in enumerate(table.properties or []):
            out += _lint_property(prop, f"schema[{i}].properties[{j}]")
        positions = [p.primaryKeyPosition for p in table.properties or [] if p.primaryKey]
        if None in positions or len(set(positions)) != len(positions):
            msg = "primary-key columns need distinct primaryKeyPosition values"
            out.append((f"schema[{i}].properties", msg))
    return out


def _lint_property(prop: SchemaProperty, where: str) -> Problems:
    out: Problems = []
    for name in ("name", "physicalType", "description"):
        if not getattr(prop, name):
            out.append((f"{where}.{name}", "is required"))
    if prop.logicalType not in LOGICAL_TYPES:
        allowed = ", ".join(sorted(LOGICAL_TYPES))
        out.append((f"{where}.logicalType", f"must be one of {allowed}, got {prop.logicalType!r}"))
    if prop.classification not in CLASSIFICATIONS:
        allowed = ", ".join(CLASSIFICATIONS)
        msg = f"must be one of {allowed}, got {prop.classification!r}"
        out.append((f"{where}.classification", msg))
    for k, rule in enumerate(prop.quality or []):
        out += _lint_rule(rule, f"{where}.quality[{k}]", COLUMN_METRICS)
    return out


def _lint_rule(rule: DataQuality, where: str, metrics: frozenset[str]) -> Problems:
    kind = rule.type or "library"
    if kind == "text":
        return [] if rule.description else [(f"{where}.description", "a text rule needs one")]
    out: Problems = []
    if not any(getattr(rule, op) is not None for op in OPERATORS):
        out.append((where, f"needs one of {', '.join(OPERATORS)}"))
    if kind == "sql":
        if "{object}" not in (rule.query or ""):
            out.append((f"{where}.query", "a sql rule needs a query over {object}"))
    elif kind != "library":
        out.append((f"{where}.type", f"must be library, sql or text, got {kind!r}"))
    elif (rule.metric or rule.rule) not in metrics:
        allowed = ", ".join(sorted(metrics))
        out.append((f"{where}.metric", f"must be one of {allowed} here, got {rule.metric!r}"))
    elif rule.metric == "invalidValues" and not {"validValues", "pattern"} & set(
        rule.arguments or {}
    ):
        out.append((f"{where}.arguments", "invalidValues needs validValues or pattern"))
    return out


def _lint_sla(model: OpenDataContractStandard) -> Problems:
    for i, sla in enumerate(model.slaProperties or []):
        if sla.property == "freshness":
            hours = sla_hours(sla.value, sla.unit)
            if hours is None:
                msg = f"freshness needs a positive value in h or d, got {sla.value!r} {sla.unit!r}"
                return [(f"slaProperties[{i}]", msg)]
            return _lint_sla_element(model, sla.element, hours, f"slaProperties[{i}].element")
    return [("slaProperties", "an output port's contract needs a 'freshness' property")]


TIME_TYPES = ("date", "timestamp")


def _lint_sla_element(
    model: OpenDataContractStandard, element: str | None, hours: float, where: str
) -> Problems:
    """A freshness element names a date or timestamp column; a date one needs at least 24 h.

    A DATE's newest value counts from that day's midnight (catalog.freshness), so under 24 h
    the port would be stale for most of every day however often it is refreshed.
    """
    if not element:
        return []
    column = element.split(",")[0].strip().split(".")[-1]
    props = [p for s in model.schema_ or [] for p in s.properties or []]
    found = next((p for p in props if p.name == column), None)
    if found is None:
        return [(where, f"names {element!r}, but the contract has no column {column!r}")]
    if (found.logicalType or "").lower() not in TIME_TYPES:
        msg = f"{column!r} is {found.logicalType!r}; freshness needs a date or timestamp column"
        return [(where, msg)]
    if (found.logicalType or "").lower() == "date" and hours < 24:
        msg = f"{column!r} is a date: an SLA of {hours:g} h on it is stale most of every day"
        return [(where, msg + "; promise at least 24 h")]
    return []


def _lint_custom(model: OpenDataContractStandard) -> Problems:
    out: Problems = []
    for i, prop in enumerate(model.customProperties or []):
        value = prop.value
        if prop.property == "portVersion" and not (
            isinstance(value, int) and not isinstance(value, bool) and value >= 1
        ):
            out.append((f"customProperties[{i}].value", f"portVersion must be >= 1: {value!r}"))
        if prop.property == "deprecationDate":
            try:
                date.fromisoformat(str(value))
            except ValueError:
                msg = f"deprecationDate must be an ISO date: {value!r}"
                out.append((f"customProperties[{i}].value", msg))
    return out
