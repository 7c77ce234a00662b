"""Load and lint ODCS v3 data contracts; every error names the file and the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import (
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
)
from pydantic import BaseModel, ValidationError

from mesh_platform.spec.errors import SpecError, SpecErrors
from mesh_platform.spec.loader import _field_path

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
SUFFIX = ".odcs.yaml"
# An older major still published beside the newest: <name>.v<major>.odcs.yaml, same id.
MAJOR_SUFFIX = re.compile(r"\.v([1-9]\d*)$")


@dataclass(frozen=True)
class Contract:
    """A linted ODCS contract: its file, the official model and the facts the platform uses."""

    path: Path
    model: OpenDataContractStandard

    @property
    def id(self) -> str:
        """``urn:datacontract:<domain>:<product>`` (or ``...:source:<entity>``)."""
        return self.model.id or ""

    @property
    def is_source(self) -> bool:
        """True for the contract of a landing-zone source, False for an output port's."""
        return ":source:" in self.id

    @property
    def domain(self) -> str:
        """Owning domain, from the id."""
        return self.id.split(":")[2]

    @property
    def product(self) -> str:
        """Output port (or source entity) the contract covers, from the id."""
        return self.id.split(":")[-1]

    @property
    def key(self) -> str:
        """``<domain>/<product>`` or ``<domain>/source/<entity>``."""
        return "/".join(self.id.split(":")[2:])

    @property
    def file_key(self) -> str:
        """Unique per file: ``key`` for the newest major, ``key@v<major>`` for an older one."""
        return file_key(self.path)

    @property
    def version(self) -> str:
        """Semantic version ``MAJOR.MINOR.PATCH``."""
        return self.model.version or ""

    @property
    def semver(self) -> tuple[int, int, int]:
        """The version as a comparable tuple."""
        major, minor, patch = self.version.split(".")
        return int(major), int(minor), int(patch)

    @property
    def major(self) -> int:
        """Major version: consumers pin it; a breaking change bumps it."""
        return self.semver[0]

    @property
    def port_version(self) -> int:
        """Version of the published port (customProperties portVersion, default the major)."""
        value = custom_property(self.model, "portVersion")
        return int(value) if value is not None else self.major

    @property
    def table(self) -> SchemaObject:
        """The single schema object."""
        return (self.model.schema_ or [])[0]

    @property
    def columns(self) -> list[SchemaProperty]:
        """The table's properties, in contract order."""
        return list(self.table.properties or [])

    @property
    def primary_key(self) -> list[str]:
        """Primary-key column names ordered by primaryKeyPosition."""
        keys = [c for c in self.columns if c.primaryKey]
        return [c.name or "" for c in sorted(keys, key=lambda c: c.primaryKeyPosition or 0)]

    @property
    def freshness_hours(self) -> float | None:
        """Maximum age of the data in hours promised by the freshness SLA, if any."""
        for sla in self.model.slaProperties or []:
            if sla.property == "freshness":
                return _hours(sla.value, sla.unit)
        return None

    @property
    def deprecation_date(self) -> date | None:
        """Date after which this major version is no longer published (customProperties)."""
        value = custom_property(self.model, "deprecationDate")
        return date.fromisoformat(str(value)) if value is not None else None


def custom_property(model: OpenDataContractStandard, name: str) -> Any:
    """Value of a top-level customProperties entry, or None."""
    return next((p.value for p in model.customProperties or [] if p.property == name), None)


def _hours(value: Any, unit: str | None) -> float | None:
    factor = HOURS_PER_UNIT.get((unit or "").lower())
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) * factor if factor and ok else None


def contract_key(path: Path) -> str:
    """The key a contract file must have from its place: ``<domain>/<product>`` or sources'.

    ``<name>.v<major>.odcs.yaml`` holds an older major of the same contract: same key.
    """
    name = MAJOR_SUFFIX.sub("", path.name.removesuffix(SUFFIX))
    if path.parent.name == "sources":
        return f"{path.parent.parent.name}/source/{name}"
    return f"{path.parent.name}/{name}"


def file_major(path: Path) -> int | None:
    """The major a ``<name>.v<major>.odcs.yaml`` file holds; None for ``<name>.odcs.yaml``."""
    match = MAJOR_SUFFIX.search(path.name.removesuffix(SUFFIX))
    return int(match.group(1)) if match else None


def file_key(path: Path) -> str:
    """``contract_key`` plus ``@v<major>`` for an older major's file: unique per contract file."""
    major = file_major(path)
    return contract_key(path) + (f"@v{major}" if major else "")


def port_contract_name(port: str, major: int, newest_major: int | None = None) -> str:
    """File name of a port major's contract: the newest major's is unversioned."""
    older = newest_major is not None and major < newest_major
    return f"{port}.v{major}{SUFFIX}" if older else f"{port}{SUFFIX}"


def _parse_yaml(path: Path, text: str | None) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8") if text is None else text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecErrors([SpecError(path, "", f"cannot read file: {exc}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        msg = f"not valid YAML: {getattr(exc, 'problem', exc)}"
        raise SpecErrors([SpecError(path, where, msg)]) from exc
    if not isinstance(data, dict):
        raise SpecErrors([SpecError(path, "", "expected a mapping at the top level")])
    return data


def load_contract(path: Path, *, text: str | None = None, check_path: bool = True) -> Contract:
    """Parse and lint one ODCS contract.

    Args:
        path: the contract file (named in errors; read unless ``text`` is given).
        text: the file's content when it does not come from disk (e.g. ``git show``).
        check_path: require the id to match the file's place under contracts/.

    Returns:
        The contract.

    Raises:
        SpecErrors: naming the file and field of every problem found.

    """
    path = Path(path)
    raw = _parse_yaml(path, text)
    try:
        model = OpenDataContractStandard.model_validate(raw)
    except ValidationError as exc:
        errors = [SpecError(path, _field_path(e["loc"]), e["msg"]) for e in exc.errors()]
        raise SpecErrors(errors) from exc
    problems = _lint_header(model, path, check_path) + _lint_unknown_keys(raw)
    problems += _lint_schema(model) + _lint_custom(model)
    if not (model.id or "").count(":source:"):
        problems += _lint_sla(model)
    if problems:
        raise SpecErrors([SpecError(path, field, msg) for field, msg in problems])
    return Contract(path=path, model=model)


def load_contracts(contracts_dir: Path) -> tuple[dict[str, Contract], list[SpecError]]:
    """Load every ``*.odcs.yaml`` under ``contracts_dir``.

    Returns:
        The valid contracts keyed by ``<domain>/<product>`` (sources ``<domain>/source/<entity>``;
        an older major's file ``<domain>/<product>@v<major>``) and every error found.

    """
    contracts: dict[str, Contract] = {}
    errors: list[SpecError] = []
    for path in sorted(Path(contracts_dir).rglob("*.y*ml")):
        if not path.name.endswith(SUFFIX):
            errors.append(SpecError(path, "", f"a contract file's name must end in {SUFFIX}"))
            continue
        try:
            contract = load_contract(path)
        except SpecErrors as exc:
            errors.extend(exc.errors)
            continue
        contracts[contract.file_key] = contract
    return contracts, errors


Problems = list[tuple[str, str]]  # (field, message)


def _lint_header(model: OpenDataContractStandard, path: Path, check_path: bool) -> Problems:
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
    elif check_path and contract_key(path) != "/".join(match.group(0).split(":")[2:]):
        want = "urn:datacontract:" + contract_key(path).replace("/", ":")
        out.append(("id", f"must be '{want}' to match the file's place, got {model.id!r}"))
    major, semver = file_major(path) if check_path else None, SEMVER.match(model.version or "")
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
            if _hours(sla.value, sla.unit) is None:
                msg = f"freshness needs a positive value in h or d, got {sla.value!r} {sla.unit!r}"
                return [(f"slaProperties[{i}]", msg)]
            return []
    return [("slaProperties", "an output port's contract needs a 'freshness' property")]


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
