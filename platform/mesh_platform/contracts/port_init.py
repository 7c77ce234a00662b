"""Draft an output port's ODCS contract from the built model's real types and its dbt docs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from mesh_platform import yamlio
from mesh_platform.contracts.infer import DECIDE, PORT_UNSAFE, Column, describe_table
from mesh_platform.contracts.lint import CLASSIFICATIONS, lint_contract
from mesh_platform.contracts.types import split_type
from mesh_platform.descriptors.errors import SpecError, SpecErrors

CLASSIFY = f"{DECIDE} one of {', '.join(CLASSIFICATIONS)}"


@dataclass(frozen=True)
class ModelDocs:
    """What a dbt project's .yml says about one model: description, column docs, key."""

    description: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    key: list[str] = field(default_factory=list)  # columns tested both unique and not_null


def _tests(column: dict[str, Any]) -> set[str]:
    tests = [*(column.get("data_tests") or []), *(column.get("tests") or [])]
    return {t if isinstance(t, str) else next(iter(t), "") for t in tests}


def model_docs(models_dir: Path, model: str) -> ModelDocs:
    """The first entry for ``model`` in any .yml under ``models_dir`` (empty docs if none).

    Raises:
        SpecErrors: a .yml that does not parse (file and reason).
    """
    for path in sorted(Path(models_dir).rglob("*.y*ml")):
        try:
            data = yamlio.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecErrors([SpecError(path, "", f"cannot read dbt properties: {exc}")]) from None
        entries = data.get("models") if isinstance(data, dict) else None
        for entry in entries or []:
            if isinstance(entry, dict) and entry.get("name") == model:
                cols = [c for c in entry.get("columns") or [] if isinstance(c, dict)]
                docs = {c["name"]: c["description"] for c in cols if c.get("description")}
                key = [c["name"] for c in cols if {"unique", "not_null"} <= _tests(c)]
                return ModelDocs(entry.get("description"), docs, key)
    return ModelDocs()


def _property(column: Column, docs: ModelDocs) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "name": column.name,
        "description": docs.columns.get(column.name) or f"{DECIDE} what {column.name} means",
        "logicalType": column.logical_type,
        "physicalType": column.physical_type,
        "required": not column.has_nulls,
    }
    if docs.key == [column.name]:  # a single column tested unique and not_null is the key
        prop |= {"primaryKey": True, "primaryKeyPosition": 1}
    prop["classification"] = CLASSIFY
    fits = PORT_UNSAFE.get(split_type(column.physical_type)[0])
    if fits:
        why = (f"{DECIDE} {column.physical_type} reaches Parquet as DOUBLE: cast it to {fits} "
               "in the model and declare that type here")  # fmt: skip
        prop["customProperties"] = [{"property": "typeDecision", "value": why}]
    return prop


def port_contract(
    domain: str,
    port: str,
    columns: list[Column],
    docs: ModelDocs,
    freshness_hours: float = 24,
    version: int = 1,
) -> dict[str, Any]:
    """A draft ODCS contract (YAML-ready mapping) of an output port; decisions left as TODOs.

    Args:
        domain: the producing domain.
        port: the output port (and contract) name.
        columns: the built model's columns as DuckDB reports them.
        docs: the model's dbt documentation (descriptions, key).
        freshness_hours: the freshness SLA (the product's SLO).
        version: the port's major.
    """
    about = docs.description or f"{DECIDE} what one row of {port} is"
    # No servers path and no portVersion: the port's major lives in the descriptor alone.
    return {
        "apiVersion": "v3.1.0", "kind": "DataContract", "id": f"urn:datacontract:{domain}:{port}",
        "name": port, "version": f"{version}.0.0", "status": "draft", "domain": domain,
        "dataProduct": port,
        "description": {"purpose": docs.description or f"{DECIDE} why {port} exists, for whom"},
        "schema": [{"name": port, "physicalName": port, "physicalType": "table",
                    "description": about,
                    "quality": [{"name": "not_empty", "metric": "rowCount",
                                 "mustBeGreaterThan": 0}],
                    "properties": [_property(c, docs) for c in columns]}],
        "slaProperties": [{"property": "freshness", "value": freshness_hours, "unit": "h"}],
    }  # fmt: skip


def undecided_problems(contract: dict[str, Any]) -> list[tuple[str, str]]:
    """Lint problems of a draft other than its undecided classifications (expected: none)."""
    model = OpenDataContractStandard.model_validate(contract)
    problems = lint_contract(model, contract, None, None)
    return [(f, m) for f, m in problems if not f.endswith(".classification")]


def draft_port_contract(
    warehouse: Path, models_dir: Path, domain: str, model: str, port: str | None = None, **kw: Any
) -> dict[str, Any]:
    """``port_contract`` for a dbt model built into ``warehouse`` and documented in ``models_dir``.

    Raises:
        SpecErrors: no warehouse or no built table (the message says to build first).
    """
    columns = describe_table(warehouse, model)
    return port_contract(domain, port or model, columns, model_docs(models_dir, model), **kw)


def dump(contract: dict[str, Any], header: str) -> str:
    """The contract as YAML text under a one-line comment header."""
    # A wide line: each TODO(decide) stays one line for a person to edit.
    return f"# {header}\n" + yaml.safe_dump(contract, sort_keys=False, width=1000)
