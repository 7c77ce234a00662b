"""Source contract -> what ingestion checks: column types, primary key and row-level rules."""

from __future__ import annotations

from pathlib import Path

from mesh_platform.contracts.odcs import Contract, load_contract
from mesh_platform.contracts.rules import compile_rules
from mesh_platform.ingest.loader import RowRule, SourceShape


def source_contract_path(contracts_dir: Path, domain: str, entity: str) -> Path:
    """Where the source contract of a landing input port lives."""
    return contracts_dir / domain / "sources" / f"{entity}.odcs.yaml"


def source_shape(contract: Contract, entity: str) -> SourceShape:
    """Compile a source contract for ingestion.

    Row-level rules (not null, ranges, enumerations, patterns) quarantine single rows; set-level
    rules such as uniqueness are the port contract's job, except the primary key, which ingestion
    enforces per row so a duplicate is quarantined instead of failing the whole file.
    """
    rules = compile_rules(contract.model, source=str(contract.path))
    row_rules = [
        RowRule(r.id, r.predicate, r.description)
        for r in rules.rules
        if r.row_level and r.predicate
    ]
    columns = {c.name: c.duckdb_type for c in rules.columns}
    return SourceShape(entity, columns, contract.primary_key, row_rules)


def load_source_shape(contracts_dir: Path, domain: str, entity: str) -> SourceShape:
    """Load and compile the source contract of ``<domain>/<entity>``."""
    return source_shape(load_contract(source_contract_path(contracts_dir, domain, entity)), entity)
