"""ODCS v3 contract -> engine-neutral rule IR that the Pandera and SQL back-ends compile."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from open_data_contract_standard.model import DataQuality, OpenDataContractStandard, SchemaProperty

from mesh_platform.contracts.types import column_type

# Deliberately simple and anchored: catches the usual defects (no @, spaces, no dot in the domain)
# and reads the same in DuckDB's RE2 and in polars' Rust regex.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
EXPECTATIONS = ("mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo",
                "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween",
                "mustNotBeBetween")  # fmt: skip
# (option, kind, SQL operator that marks a violating row, pandera check, what is required)
BOUNDS = (("minimum", "minimum", "<", "ge", ">="), ("maximum", "maximum", ">", "le", "<="),
          ("exclusiveMinimum", "exclusive_minimum", "<=", "gt", ">"),
          ("exclusiveMaximum", "exclusive_maximum", ">=", "lt", "<"))  # fmt: skip


class ContractCompileError(ValueError):
    """The contract uses a construct the platform cannot execute (never silently skipped)."""


@dataclass(frozen=True)
class Rule:
    """One executable check; ``predicate`` is DuckDB SQL that is TRUE for a violating row."""

    id: str
    column: str | None
    kind: str
    description: str
    row_level: bool
    predicate: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    query: str | None = None
    expect: tuple[str, Any] = ("mustBe", 0)

    @property
    def level(self) -> str:
        """``row``, ``set`` or ``schema``."""
        if self.row_level:
            return "row"
        return "schema" if self.kind in ("present", "type", "extra_columns") else "set"


@dataclass(frozen=True)
class ColumnSpec:
    """A contract column: name, expected DuckDB type and nullability."""

    name: str
    duckdb_type: str
    logical_type: str | None
    required: bool


@dataclass(frozen=True)
class ContractRules:
    """Every rule of one contract table, with the identity used in messages."""

    contract_id: str
    version: str
    source: str
    table: str
    columns: list[ColumnSpec]
    rules: list[Rule]

    @property
    def label(self) -> str:
        """``<contract id> v<version>`` for messages."""
        return f"{self.contract_id} v{self.version}"

    def of_level(self, level: str) -> list[Rule]:
        """Rules of one level: ``row``, ``set`` or ``schema``."""
        return [r for r in self.rules if r.level == level]

    @property
    def key_rules(self) -> list[Rule]:
        """Uniqueness rules (unique columns and the primary key)."""
        return [r for r in self.rules if r.kind in ("unique", "primary_key")]


def expectation(item: DataQuality | None) -> tuple[str, Any]:
    """The first ``mustBe...`` of a quality item; ``mustBe 0`` when none is given."""
    for name in EXPECTATIONS:
        value = getattr(item, name, None) if item is not None else None
        if value is not None:
            return name, value
    return "mustBe", 0


def expectation_met(expect: tuple[str, Any], value: float) -> bool:
    """Whether a measured value satisfies an expectation such as ``("mustBeLessThan", 5)``."""
    op, arg = expect
    tests = {
        "mustBe": lambda: value == arg, "mustNotBe": lambda: value != arg,
        "mustBeGreaterThan": lambda: value > arg, "mustBeGreaterOrEqualTo": lambda: value >= arg,
        "mustBeLessThan": lambda: value < arg, "mustBeLessOrEqualTo": lambda: value <= arg,
        "mustBeBetween": lambda: arg[0] <= value <= arg[1],
        "mustNotBeBetween": lambda: not arg[0] <= value <= arg[1],
    }  # fmt: skip
    return bool(tests[op]())


def compile_rules(
    contract: OpenDataContractStandard, source: str | None = None, table: str | None = None
) -> ContractRules:
    """Compile one table of a parsed ODCS contract into rules.

    Args:
        contract: the parsed contract.
        source: display name for messages (e.g. the contract file); defaults to the contract id.
        table: the schema object to compile; required when the contract has several.

    Returns:
        The table's columns and rules, schema-level rules first.

    Raises:
        ContractCompileError: no such table, or a check the platform cannot execute.

    """
    objects = contract.schema_ or []
    chosen = [o for o in objects if table is None or o.name == table]
    if len(chosen) != 1:
        names = [o.name for o in objects]
        raise ContractCompileError(f"{contract.id}: choose one table of {names} (got {table!r})")
    obj = chosen[0]
    name = obj.name or "table"
    props = [p for p in obj.properties or [] if p.name]
    columns = [ColumnSpec(p.name or "", column_type(p.physicalType, p.logicalType),
                          p.logicalType, bool(p.required)) for p in props]  # fmt: skip
    rules = [Rule(f"{name}.{c.name}.present", c.name, "present", f"column {c.name} must exist",
                  False) for c in columns]  # fmt: skip
    rules += [Rule(f"{name}.{c.name}.type", c.name, "type", f"{c.name} must be {c.duckdb_type}",
                   False, params={"type": c.duckdb_type}) for c in columns]  # fmt: skip
    rules.append(Rule(f"{name}.no_extra_columns", None, "extra_columns",
                      "no column may be outside the contract", False))  # fmt: skip
    for prop, spec in zip(props, columns, strict=True):
        rules += _property_rules(name, prop, spec)
    rules += _primary_key(name, props)
    rules += [_table_quality(name, item) for item in obj.quality or [] if item.type != "text"]
    cid = contract.id or name
    return ContractRules(cid, contract.version or "0", source or cid, name, columns,
                         _dedupe(rules))  # fmt: skip


def _property_rules(table: str, prop: SchemaProperty, spec: ColumnSpec) -> list[Rule]:
    col, c, base = spec.name, q(spec.name), f"{table}.{spec.name}"
    rules = []
    if prop.required:
        rules.append(Rule(f"{base}.required", col, "not_null", f"{col} must not be null", True,
                          predicate=f"{c} IS NULL"))  # fmt: skip
    if prop.unique:
        rules.append(_unique(f"{base}.unique", "unique", (col,)))
    opts = prop.logicalTypeOptions or {}
    for option, kind, op, check, required in BOUNDS:
        if opts.get(option) is not None:
            value = opts[option]
            rules.append(Rule(f"{base}.{kind}", col, kind, f"{col} must be {required} {value}",
                              True, predicate=f"{c} {op} {sql_literal(value, spec.duckdb_type)}",
                              params={"check": check, "value": value}))  # fmt: skip
    if opts.get("pattern"):
        rules.append(_pattern(f"{base}.pattern", col, opts["pattern"], "pattern"))
    if opts.get("format") == "email":
        email = _pattern(f"{base}.format_email", col, EMAIL_PATTERN, "email")
        rules.append(replace(email, description=f"{col} must be an e-mail address"))
    for option, kind, op in (("minLength", "min_length", "<"), ("maxLength", "max_length", ">")):
        if opts.get(option) is not None:
            n, need = int(opts[option]), ">=" if op == "<" else "<="
            rules.append(Rule(f"{base}.{kind}", col, kind, f"length of {col} must be {need} {n}",
                              True,
                              predicate=f"length({c}) {op} {n}", params={"value": n}))  # fmt: skip
    rules += [_property_quality(base, spec, item) for item in prop.quality or []
              if item.type != "text"]  # fmt: skip
    return rules


def _pattern(rule_id: str, col: str, pattern: str, kind: str) -> Rule:
    return Rule(rule_id, col, kind, f"{col} must match {pattern}", True,
                predicate=f"NOT regexp_matches({q(col)}, {sql_literal(pattern)})",
                params={"pattern": pattern})  # fmt: skip


def _unique(rule_id: str, kind: str, cols: tuple[str, ...]) -> Rule:
    return Rule(rule_id, ", ".join(cols), kind, f"({', '.join(cols)}) must be unique", False,
                columns=cols)  # fmt: skip


def _property_quality(base: str, spec: ColumnSpec, item: DataQuality) -> Rule:
    metric, args = item.metric or item.rule, item.arguments or {}
    col, c = spec.name, q(spec.name)
    rule_id, expect = f"{base}.{item.name or metric}", expectation(item)
    if item.type == "sql" and item.query:
        query = item.query.replace("{property}", c).replace("{column}", c)
        return Rule(rule_id, col, "sql", item.description or query, False, query=query,
                    expect=expect)  # fmt: skip
    if metric == "invalidValues" and "validValues" in args:
        values = list(args["validValues"])
        listed = ", ".join(sql_literal(v, spec.duckdb_type) for v in values)
        return Rule(rule_id, col, "valid_values", f"{col} must be one of {values}", True,
                    predicate=f"{c} NOT IN ({listed})", params={"values": values},
                    expect=expect)  # fmt: skip
    if metric == "invalidValues" and "pattern" in args:
        return replace(_pattern(rule_id, col, args["pattern"], "pattern"), expect=expect)
    if metric in ("nullValues", "missingValues"):
        missing = list(args.get("missingValues", []))
        extra = f" OR {c} IN ({', '.join(sql_literal(v) for v in missing)})" if missing else ""
        return Rule(rule_id, col, "not_null", f"{col} must not be missing", True,
                    predicate=f"{c} IS NULL{extra}", params={"missing": missing},
                    expect=expect)  # fmt: skip
    if metric == "duplicateValues":
        return _unique(rule_id, "unique", (col,))
    raise ContractCompileError(f"{base}: unsupported quality check {item.model_dump()}")


def _primary_key(table: str, props: list[SchemaProperty]) -> list[Rule]:
    keys = sorted((p for p in props if p.primaryKey), key=lambda p: p.primaryKeyPosition or 0)
    if not keys:
        return []
    rules = [_unique(f"{table}.primary_key", "primary_key", tuple(p.name or "" for p in keys))]
    return rules + [Rule(f"{table}.{p.name}.required", p.name, "not_null",
                         f"{p.name} must not be null (primary key)", True,
                         predicate=f"{q(p.name or '')} IS NULL")
                    for p in keys if not p.required]  # fmt: skip


def _table_quality(table: str, item: DataQuality) -> Rule:
    metric, args = item.metric or item.rule, item.arguments or {}
    rule_id, expect = f"{table}.{item.name or metric or item.type}", expectation(item)
    if item.type == "sql" and item.query:
        return Rule(rule_id, None, "sql", item.description or item.query, False,
                    query=item.query, expect=expect)  # fmt: skip
    if metric == "rowCount":
        return Rule(rule_id, None, "row_count", item.description or "row count", False,
                    expect=expect)  # fmt: skip
    if metric == "duplicateValues" and args.get("properties"):
        return _unique(rule_id, "unique", tuple(args["properties"]))
    raise ContractCompileError(f"{table}: unsupported quality check {item.model_dump()}")


def _dedupe(rules: list[Rule]) -> list[Rule]:
    """Keep ids unique: a second rule with the same id gets a numeric suffix."""
    seen: dict[str, int] = {}
    out = []
    for rule in rules:
        n = seen[rule.id] = seen.get(rule.id, 0) + 1
        out.append(rule if n == 1 else replace(rule, id=f"{rule.id}_{n}"))
    return out


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any, duckdb_type: str = "") -> str:
    """A SQL literal; strings compared with DATE/TIMESTAMP columns become typed literals."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    text = "'" + str(value).replace("'", "''") + "'"
    return f"{duckdb_type} {text}" if duckdb_type in ("DATE", "TIMESTAMP") else text
