"""What `mesh up` would refuse for a declaration reason, found by `mesh validate` before any run.

Source naming, undeclared or private reads (the port reader's own rules, ``access.rules``) and
contract types a port cannot hold; a public port without a contract is ``majors.uncovered``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from mesh_platform.access.rules import profile_reads, violations, yaml_reads
from mesh_platform.contracts.odcs import Contract
from mesh_platform.contracts.types import type_problem
from mesh_platform.descriptors.errors import SpecError
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import LANDING_SOURCE

SOURCE_CALL = re.compile(r"""\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)""")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _allowed_sources(domain: Domain, port_sources: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(source, table) pairs a domain's models may select from, by its declared input ports."""
    allowed = set(port_sources)
    for product in domain.products.values():
        for port in product.input_ports:
            if port.kind == "landing":
                allowed.add((port.source_name, port.name))
            elif port.product:  # the producer's domain and port, as dbt sources name them
                producer, _, name = port.product.partition("/")
                allowed |= {(producer, name), (producer, port.name)}
    return allowed


def source_naming_errors(domain: Domain) -> list[SpecError]:
    """Each ``source()`` a model selects from that is neither a landing input nor an input port."""
    # A source declared with meta.mesh_port is a port read: the access rules judge that port.
    named = [r.name.removeprefix("source ").partition(".") for r in yaml_reads(domain.dbt_dir)
             if r.name.startswith("source ") and r.mesh_port]  # fmt: skip
    port_sources = {(source, table) for source, _, table in named}
    allowed = _allowed_sources(domain, port_sources)
    errors = []
    for sql in sorted((domain.dbt_dir / "models").rglob("*.sql")):
        text = sql.read_text(encoding="utf-8")
        for match in SOURCE_CALL.finditer(text):
            if (match.group(1), match.group(2)) in allowed:
                continue
            msg = (
                f"selects from dbt source {match.group(1)}.{match.group(2)}, which is neither a "
                f"landing input (source '{LANDING_SOURCE}' or the input's dbt_source, table named "
                "after the landing input port) nor an input port; declare it in input_ports of "
                f"domains/{domain.name}/products/*.yaml"
            )
            errors.append(SpecError(sql, f"line {_line_of(text, match.start())}: "
                                         f"{match.group(0)}", msg))  # fmt: skip
    return errors


def read_errors(domain: Domain, loaded: Mapping[str, Domain]) -> list[SpecError]:
    """The port reader's refusals (undeclared, private, warehouse reads) as file and field."""
    reads = [*yaml_reads(domain.dbt_dir), *profile_reads(domain.dbt_dir)]
    return [
        SpecError(
            domain.dbt_dir / v.file.removeprefix(f"domains/{domain.name}/dbt/"),
            v.reader,
            f"reads {v.target}: {v.reason} (fix: {v.fix})",
        )  # fmt: skip
        for v in violations(domain, reads, loaded)
    ]


def type_errors(contracts: Mapping[str, Contract]) -> Iterator[SpecError]:
    """Column types a contract declares that the platform cannot hold (ports: Parquet, Iceberg)."""
    for contract in sorted(contracts.values(), key=lambda c: c.file_key):
        for i, col in enumerate(contract.columns):
            problem = col.physicalType and type_problem(col.physicalType, not contract.is_source)
            if problem:
                where = f"schema[0].properties[{i}].physicalType"
                yield SpecError(contract.path, where, f"column '{col.name}': {problem}")


def preflight(domains: Mapping[str, Domain], contracts: Mapping[str, Contract]) -> list[SpecError]:
    """Every declaration `mesh up` would refuse, each naming its file and field.

    Args:
        domains: the loaded mesh.
        contracts: the valid contracts, as ``load_contracts`` returns them.

    Returns:
        Source naming, access and contract type errors; empty when a run would start.
    """
    errors: list[SpecError] = []
    for name in sorted(domains):
        domain = domains[name]
        if Path(domain.dbt_dir / "models").is_dir():
            errors += source_naming_errors(domain) + read_errors(domain, domains)
    return errors + list(type_errors(contracts))
