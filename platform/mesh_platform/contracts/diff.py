"""Compatibility diff of two versions of a contract: what changed and whether it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from open_data_contract_standard.model import DataQuality, SchemaProperty

from mesh_platform.contracts.odcs import CLASSIFICATIONS, Contract
from mesh_platform.contracts.types import split_type

_INT_RANGES = {
    name: (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    for name, bits in (("TINYINT", 8), ("SMALLINT", 16), ("INTEGER", 32), ("BIGINT", 64),
                       ("HUGEINT", 128))
} | {
    name: (0, 2**bits - 1)
    for name, bits in (("UTINYINT", 8), ("USMALLINT", 16), ("UINTEGER", 32), ("UBIGINT", 64),
                       ("UHUGEINT", 128))
}  # fmt: skip
_MANTISSA_BITS = {"FLOAT": 24, "DOUBLE": 53}
# Bounds where a higher value is stricter; the upper ones are stricter when lower. mustBe counts
# violating rows in practice (mustBe: 0), so it behaves as an upper bound.
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems",
          "mustBeGreaterThan", "mustBeGreaterOrEqualTo")  # fmt: skip
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems",
          "mustBe", "mustBeLessThan", "mustBeLessOrEqualTo")  # fmt: skip
# Rule fields that document but do not change what the rule accepts.
_TEXT_ONLY = {"id", "name", "description", "businessImpact", "dimension", "tags", "severity",
              "schedule", "scheduler", "customProperties", "authoritativeDefinitions"}  # fmt: skip
_FLAG_KINDS = {"required": ("newly_required", "no_longer_required"),
               "unique": ("rule_tightened", "rule_loosened")}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One difference between two contract versions."""

    kind: str
    column: str | None
    detail: str
    breaking: bool


@dataclass(frozen=True)
class Verdict:
    """Whether the new version may be published as it is versioned."""

    ok: bool
    message: str


def widens(old: str, new: str) -> bool:
    """True when DuckDB type ``new`` holds every value of ``old`` exactly."""
    (ob, op), (nb, np_) = split_type(old), split_type(new)
    if ob in _INT_RANGES:
        lo, hi = _INT_RANGES[ob]
        if nb in _INT_RANGES:
            return _INT_RANGES[nb][0] <= lo and _INT_RANGES[nb][1] >= hi
        if nb in _MANTISSA_BITS:
            return max(hi, -lo).bit_length() <= _MANTISSA_BITS[nb]
        return nb == "DECIMAL" and np_[0] - np_[1] >= len(str(max(hi, -lo)))
    if (ob, nb) == ("FLOAT", "DOUBLE"):
        return True
    if ob == nb == "DECIMAL":
        return np_[1] >= op[1] and np_[0] - np_[1] >= op[0] - op[1]
    if ob == nb == "VARCHAR":
        return not np_ or bool(op) and np_[0] >= op[0]
    return False


def _type_change(old: SchemaProperty, new: SchemaProperty, column: str) -> list[Change]:
    logical = (old.logicalType, new.logicalType)
    if logical[0] != logical[1] and logical != ("integer", "number"):
        return [Change("type_changed", column, f"logicalType {logical[0]} -> {logical[1]}", True)]
    before, after = old.physicalType or "", new.physicalType or ""
    if split_type(before) == split_type(after):
        return []
    if widens(before, after):
        return [Change("type_widened", column, f"{before} -> {after}", False)]
    return [Change("type_narrowed", column, f"{before} -> {after}", True)]


def _bound(key: str, old: Any, new: Any) -> tuple[bool, str]:
    """(tightened, detail) for one changed bound or option."""
    if new is None:
        return False, f"{key} {old!r} removed"
    if old is None:
        return True, f"{key} {new!r} added"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    if numbers and key in _LOWER + _UPPER:
        return (new > old) if key in _LOWER else (new < old), f"{key} {old!r} -> {new!r}"
    if key in ("validValues", "mustBeBetween") and isinstance(old, list) and isinstance(new, list):
        return _range_or_set(key, old, new), f"{key} {old!r} -> {new!r}"
    return True, f"{key} {old!r} -> {new!r}"  # cannot tell: assume consumers may break


def _range_or_set(key: str, old: list[Any], new: list[Any]) -> bool:
    if key == "mustBeBetween":
        return new[0] > old[0] or new[1] < old[1]
    return not set(map(str, old)) <= set(map(str, new))


def _options(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[bool, str]]:
    keys = sorted(set(old) | set(new))
    return [_bound(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def _rule_change(key: str, old: DataQuality, new: DataQuality, column: str | None) -> list[Change]:
    before, after = old.model_dump(exclude_none=True), new.model_dump(exclude_none=True)
    out = [Change("description", column, f"rule '{key}' text changed", False)] if any(
        before.get(k) != after.get(k) for k in _TEXT_ONLY
    ) else []  # fmt: skip
    before_args, after_args = before.pop("arguments", {}), after.pop("arguments", {})
    semantic = {k: v for k, v in before.items() if k not in _TEXT_ONLY}
    moved = _options(semantic, {k: v for k, v in after.items() if k not in _TEXT_ONLY})
    moved += _options(before_args, after_args)
    return out + _verdict_of(moved, column, f"rule '{key}'")


def _verdict_of(moved: list[tuple[bool, str]], column: str | None, what: str) -> list[Change]:
    if not moved:
        return []
    detail = f"{what}: " + "; ".join(d for _, d in moved)
    tightened = any(t for t, _ in moved)
    return [Change("rule_tightened" if tightened else "rule_loosened", column, detail, tightened)]


def _rules(old: list[DataQuality], new: list[DataQuality], column: str | None) -> list[Change]:
    def keyed(rules: list[DataQuality]) -> dict[str, DataQuality]:
        return {r.name or f"{r.metric or r.type or 'rule'}#{i}": r for i, r in enumerate(rules)}

    before, after = keyed(old), keyed(new)
    out = [Change("rule_added", column, f"new rule '{k}'", True) for k in after if k not in before]
    out += [Change("rule_removed", column, f"rule '{k}' removed", False) for k in before
            if k not in after]  # fmt: skip
    for key in (k for k in before if k in after):
        out += _rule_change(key, before[key], after[key], column)
    return out


def _flag(old: bool | None, new: bool | None, name: str, column: str) -> list[Change]:
    if bool(old) == bool(new):
        return []
    kind = _FLAG_KINDS[name][0 if new else 1]
    return [Change(kind, column, f"{name} {bool(old)} -> {bool(new)}", bool(new))]


def _column(old: SchemaProperty, new: SchemaProperty, column: str) -> list[Change]:
    out = _type_change(old, new, column)
    out += _flag(old.required, new.required, "required", column)
    out += _flag(old.unique, new.unique, "unique", column)
    moved = _options(old.logicalTypeOptions or {}, new.logicalTypeOptions or {})
    out += _verdict_of(moved, column, "logicalTypeOptions")
    out += _rules(old.quality or [], new.quality or [], column)
    if old.classification != new.classification:
        ranks = [
            CLASSIFICATIONS.index(c or "public") for c in (old.classification, new.classification)
        ]
        detail = f"classification {old.classification} -> {new.classification}"
        out.append(Change("classification", column, detail, ranks[1] > ranks[0]))
    if old.description != new.description:
        out.append(Change("description", column, "description changed", False))
    return out


def _renames(old: list[SchemaProperty], new: list[SchemaProperty]) -> dict[str, str]:
    """Removed -> added column pairs at the same position with the same types."""
    old_names, new_names = [c.name for c in old], [c.name for c in new]
    pairs = {}
    for i, col in enumerate(old):
        if col.name in new_names or i >= len(new) or new[i].name in old_names:
            continue
        same = (col.logicalType, split_type(col.physicalType or ""))
        if same == (new[i].logicalType, split_type(new[i].physicalType or "")):
            pairs[col.name or ""] = new[i].name or ""
    return pairs


def _columns(old: Contract, new: Contract) -> list[Change]:
    before = {c.name or "": c for c in old.columns}
    after = {c.name or "": c for c in new.columns}
    renames = _renames(old.columns, new.columns)
    out: list[Change] = []
    for name, col in before.items():
        if name in renames:
            out.append(Change("renamed", name, f"renamed to '{renames[name]}'", True))
            out += _column(col, after[renames[name]], renames[name])
        elif name not in after:
            out.append(Change("removed", name, "column removed", True))
        else:
            out += _column(col, after[name], name)
    for name, col in after.items():
        if name not in before and name not in renames.values():
            what = "required" if col.required else "optional"
            kind = "added_required" if col.required else "added"
            out.append(Change(kind, name, f"new {what} column", bool(col.required)))
    return out


def diff_contracts(old: Contract, new: Contract) -> list[Change]:
    """Every change from ``old`` to ``new``, each marked breaking or not.

    Breaking: removed or renamed column, narrowed or changed type, newly required column,
    tightened rule or option, new rule, stricter classification, changed primary key.
    """
    out = _columns(old, new)
    out += _rules(old.table.quality or [], new.table.quality or [], None)
    if old.primary_key != new.primary_key:
        out.append(Change("primary_key", None, f"{old.primary_key} -> {new.primary_key}", True))
    if old.table.name != new.table.name:
        out.append(Change("table_renamed", None, f"{old.table.name} -> {new.table.name}", True))
    if old.freshness_hours != new.freshness_hours:
        detail = f"freshness {old.freshness_hours} h -> {new.freshness_hours} h"
        out.append(Change("sla", None, detail, False))
    if old.freshness_element != new.freshness_element:
        detail = f"freshness element {old.freshness_element} -> {new.freshness_element}"
        out.append(Change("sla", None, detail, False))
    return out


def verdict(changes: list[Change], old: Contract, new: Contract) -> Verdict:
    """Whether ``new`` is versioned correctly for its changes.

    Fails when the contracts differ in id, the version went down, anything changed without a
    version increase, a breaking change comes without a major bump, or a major bump keeps the old
    port version (the new major must be published side by side with the old one).
    """
    breaking = [c for c in changes if c.breaking]
    span = f"{old.version} -> {new.version}"
    if old.id != new.id:
        return Verdict(False, f"not the same contract: {old.id} vs {new.id}")
    if new.semver < old.semver or (changes and new.semver == old.semver):
        return Verdict(False, f"version {span}: a changed contract needs a higher version")
    if breaking and new.major <= old.major:
        msg = f"{len(breaking)} breaking change(s) need a major version bump ({span})"
        return Verdict(False, msg)
    if new.major > old.major and new.port_version <= old.port_version:
        msg = f"major bump {span} keeps port version {new.port_version}: publish a new port version"
        return Verdict(False, msg)
    return Verdict(True, f"{len(changes)} change(s), {len(breaking)} breaking, version {span}: ok")
