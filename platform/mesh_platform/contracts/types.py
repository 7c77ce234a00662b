"""DuckDB type names: one alias table, normalisation, and a contract column's required type."""

from __future__ import annotations

import re

# DuckDB's type aliases -> the canonical name DuckDB itself reports.
ALIASES = {
    "INT8": "BIGINT", "LONG": "BIGINT", "INT": "INTEGER", "INT4": "INTEGER", "SIGNED": "INTEGER",
    "INT2": "SMALLINT", "SHORT": "SMALLINT", "INT1": "TINYINT", "INT128": "HUGEINT",
    "FLOAT4": "FLOAT", "REAL": "FLOAT", "FLOAT8": "DOUBLE", "NUMERIC": "DECIMAL",
    "STRING": "VARCHAR", "TEXT": "VARCHAR", "CHAR": "VARCHAR", "BPCHAR": "VARCHAR",
    "NVARCHAR": "VARCHAR", "BOOL": "BOOLEAN", "LOGICAL": "BOOLEAN", "DATETIME": "TIMESTAMP",
    "TIMESTAMP_US": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "BYTEA": "BLOB", "BINARY": "BLOB", "VARBINARY": "BLOB",
}  # fmt: skip
_TYPE = re.compile(r"([A-Z0-9_ ]+?)(?:\((.*)\))?")


def normalize_type(text: str) -> str:
    """Canonical DuckDB spelling of a type: ``decimal(10, 2)`` -> ``DECIMAL(10,2)``, INT8 -> BIGINT.

    DECIMAL without precision is DuckDB's DECIMAL(18,3); nested types are compared as spelled.
    """
    spelled = re.sub(r"\s*([(),])\s*", r"\1", re.sub(r"\s+", " ", text.strip().upper()))
    if spelled.endswith("[]"):
        return normalize_type(spelled[:-2]) + "[]"
    match = _TYPE.fullmatch(spelled)
    if not match:
        return spelled
    base, params = ALIASES.get(match.group(1), match.group(1)), match.group(2)
    if base == "DECIMAL":
        params = params or "18,3"
        params = params if "," in params else f"{params},0"
    return f"{base}({params})" if params else base


def split_type(text: str) -> tuple[str, tuple[int, ...]]:
    """Normalised base name and numeric parameters: ``decimal(10, 2)`` -> (DECIMAL, (10, 2))."""
    normal = normalize_type(text)
    match = _TYPE.fullmatch(normal)
    if not match or not re.fullmatch(r"[\d,]*", match.group(2) or ""):
        return normal, ()
    params = tuple(int(p) for p in (match.group(2) or "").split(",") if p)
    return match.group(1), params


# Without a physicalType a column must have its logical type's usual DuckDB type.
LOGICAL_DEFAULTS = {"integer": "BIGINT", "number": "DOUBLE", "string": "VARCHAR", "date": "DATE",
                     "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}  # fmt: skip


def column_type(physical: str | None, logical: str | None) -> str:
    """The DuckDB type a column must have, normalised (``numeric(10, 2)`` -> ``DECIMAL(10,2)``).

    Args:
        physical: the contract's ``physicalType`` (a DuckDB type name or alias), if any.
        logical: the contract's ``logicalType``, used when there is no physical type.
    """
    if not physical:
        return LOGICAL_DEFAULTS.get((logical or "string").lower(), "VARCHAR")
    return normalize_type(physical)


# DuckDB types a port can hold: they survive the Parquet export and Iceberg's type system.
PORTABLE = {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR", "BLOB", "DATE", "TIME",
            "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "UUID",
            "JSON", "STRUCT", "MAP", "LIST"}  # fmt: skip
# DuckDB types Parquet or Iceberg cannot hold, with what to cast to (HUGEINT is what sum(int)
# gives: it reached Parquet as a floating-point number).
NOT_PORTABLE = {"HUGEINT": "BIGINT or DECIMAL(38,0)", "UHUGEINT": "DECIMAL(38,0)",
                "UBIGINT": "BIGINT or DECIMAL(20,0)", "INTERVAL": "BIGINT (seconds)",
                "TIMETZ": "TIME or TIMESTAMPTZ", "TIME WITH TIME ZONE": "TIME or TIMESTAMPTZ",
                "BIT": "BLOB or VARCHAR", "VARINT": "DECIMAL(38,0)", "BIGNUM": "DECIMAL(38,0)",
                "UNION": "STRUCT"}  # fmt: skip


def type_problem(text: str, port: bool = True) -> str | None:
    """Why a contract's ``physicalType`` cannot be held, or None when it can.

    Args:
        text: the type as the contract spells it.
        port: a public port's type (written to Parquet/Iceberg); else a landed source's (DuckDB).
    """
    base, params = split_type(text)
    if base.endswith("[]"):
        return type_problem(text.strip()[:-2], port)
    base = base.split("(")[0]
    if base in NOT_PORTABLE:
        if not port:
            return None
        return f"{base} cannot be held by a port (Parquet/Iceberg): cast it to {NOT_PORTABLE[base]}"
    if base not in PORTABLE:
        return f"'{text}' is not a DuckDB type the platform knows"
    if base == "DECIMAL" and params and params[0] > 38:
        return f"{text}: a port holds DECIMAL up to precision 38"
    return None
