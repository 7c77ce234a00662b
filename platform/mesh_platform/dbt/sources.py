"""dbt sources of a domain's input ports, derived from its product descriptors' ``input_ports``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import LANDING_SOURCE as LANDING_SOURCE
from mesh_platform.ports import PortRef

LANDING_SCHEMA = "raw"
PORT_META = "mesh_port"  # "<domain>/<product>" of the producer's output port
VERSION_META = "mesh_port_version"  # the major read
LANDING_META = "mesh_landing"  # the landing input a source table is (its raw table's name)
# The schema of the consumer's warehouse where each run's pinned input-port snapshots are views.
PORTS_SCHEMA = "mesh_ports"


def port_view(ref: PortRef) -> str:
    """The view a consumer's dbt reads a port through: ``mesh_ports."<d>__<p>_v<major>"``."""
    return f'{PORTS_SCHEMA}."{ref.domain}__{ref.product}_v{ref.version}"'


@dataclass
class SourceTable:
    """One generated dbt source table: where it lives and what the platform knows of it."""

    source: str
    table: str
    meta: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def schema(self) -> str | None:
        """The schema of a landed table; None for a port (read through external_location)."""
        return LANDING_SCHEMA if LANDING_META in self.meta else None


def _port_tables(domain: Domain) -> list[SourceTable]:
    reads = sorted({(i.product, i.version) for p in domain.products.values()
                    for i in p.input_ports if i.kind == "port" and i.product})  # fmt: skip
    majors: dict[str, int] = {}
    for port, _ in reads:
        majors[port] = majors.get(port, 0) + 1
    out = []
    for port, version in reads:
        producer, name = port.split("/")
        # Two majors of one port read side by side need two tables; one keeps the plain name.
        table = name if majors[port] == 1 else f"{name}_v{version}"
        # A subquery: dbt-duckdb quotes a location without "(" as a file path.
        location = f"(SELECT * FROM {port_view(PortRef(producer, name, version))})"
        meta = {PORT_META: port, VERSION_META: version, "external_location": location}
        out.append(
            SourceTable(
                producer, table, meta, f"{port} v{version}, the snapshot pinned at the run's start"
            )
        )
    return out


def _landing_tables(domain: Domain) -> list[SourceTable]:
    seen: dict[str, SourceTable] = {}
    for product in domain.products.values():
        for inp in product.input_ports:
            if inp.kind == "landing" and inp.name not in seen:
                text = f"Rows of landed {inp.name} files accepted by the ingestion boundary."
                meta = {LANDING_META: inp.name}
                seen[inp.name] = SourceTable(inp.source_name, inp.name, meta, text)
    return list(seen.values())


def input_tables(domain: Domain) -> list[SourceTable]:
    """Every dbt source table the domain's products read: landed tables, then other ports."""
    return [*_landing_tables(domain), *_port_tables(domain)]


def port_reads(domain: Domain) -> dict[tuple[str, str], str]:
    """(dbt source, table) -> "<domain>/<product>" for each port the domain reads."""
    return {
        (t.source, t.table): t.meta[PORT_META] for t in input_tables(domain) if PORT_META in t.meta
    }


def _merge_table(entry: dict[str, Any], table: SourceTable, source: dict[str, Any]) -> None:
    """Put the platform's facts into a table the team declared, keeping its docs and tests."""
    entry["meta"] = {**(entry.get("meta") or {}), **table.meta}
    config = entry.get("config")
    if isinstance(config, dict) and isinstance(config.get("meta"), dict):
        config["meta"] = {**config["meta"], **table.meta}  # meta under config wins in dbt 1.10+
    if table.schema:
        source["schema"] = table.schema
        source.pop("database", None)  # landed tables are in the domain's own warehouse
    entry.setdefault("description", table.description)


def inject_sources(docs: Iterable[dict[str, Any]], tables: list[SourceTable]) -> list[SourceTable]:
    """Merge generated tables into sources the domain's own .yml files declare.

    Args:
        docs: the parsed .yml documents of the domain's models (changed in place).
        tables: the tables to place.

    Returns:
        The tables no document declared (their source may exist: the table is appended to it).
    """
    wanted = {(t.source, t.table): t for t in tables}
    owners: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for source in doc.get("sources") or []:
            if not isinstance(source, dict):
                continue
            owners.setdefault(str(source.get("name")), source)
            for entry in source.get("tables") or []:
                found = wanted.pop((str(source.get("name")), str(entry.get("name"))), None)
                if found and isinstance(entry, dict):
                    _merge_table(entry, found, source)
    left = []
    for table in wanted.values():
        source = owners.get(table.source)
        if source is None:
            left.append(table)
            continue
        entry: dict[str, Any] = {"name": table.table}
        _merge_table(entry, table, source)
        source["tables"] = [*(source.get("tables") or []), entry]
    return left


def sources_doc(tables: list[SourceTable]) -> dict[str, Any]:
    """A dbt properties document declaring ``tables``, grouped by source."""
    sources: dict[str, dict[str, Any]] = {}
    for t in tables:
        source = sources.setdefault(t.source, {"name": t.source, "tables": []})
        if t.schema:
            source["schema"] = t.schema
        source["tables"].append({"name": t.table, "description": t.description, "meta": t.meta})
    return {"version": 2, "sources": list(sources.values())}


def mesh_port_macro(tables: list[SourceTable], domain: str) -> str:
    """The ``mesh_port('<domain>/<product>'[, major])`` macro: the source of a declared read."""
    reads: dict[str, list[tuple[int, str, str]]] = {}
    for t in tables:
        if PORT_META in t.meta:
            reads.setdefault(t.meta[PORT_META], []).append(
                (t.meta[VERSION_META], t.source, t.table)
            )
    entries = ", ".join(
        f"'{port}': {{{', '.join(f'{v}: [{s!r}, {n!r}]' for v, s, n in found)}}}"
        for port, found in sorted(reads.items())
    )
    return _MACRO.format(entries=entries, domain=domain)


_MACRO = """\
{{#- Rendered by the mesh platform from the input_ports of domain {domain}. -#}}
{{% macro mesh_port(port, major=none) -%}}
  {{%- set reads = {{{entries}}} -%}}
  {{%- set majors = reads.get(port, {{}}) -%}}
  {{%- if not majors -%}}
    {{{{ exceptions.raise_compiler_error("mesh_port('" ~ port ~ "'): not an input port of any "
       ~ "{domain} product; declare {{kind: port, product: " ~ port ~ "}} in its input_ports") }}}}
  {{%- endif -%}}
  {{%- set key = major if major is not none else (majors.keys() | max) -%}}
  {{%- if key not in majors -%}}
    {{{{ exceptions.raise_compiler_error("mesh_port('" ~ port ~ "', " ~ key ~ "): that major is "
       ~ "not declared in the input_ports of {domain}") }}}}
  {{%- endif -%}}
  {{{{ return(source(majors[key][0], majors[key][1])) }}}}
{{%- endmacro %}}
"""


def port_meta(props: Mapping[str, Any]) -> dict[str, Any]:
    """A dbt source node's meta, wherever dbt put it (source, table or config)."""
    config = props.get("config") or {}
    return {**(props.get("source_meta") or {}), **(config.get("meta") or {}),
            **(props.get("meta") or {})}  # fmt: skip
