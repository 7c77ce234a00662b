"""Access enforcement: a domain reads declared public ports of other domains, never warehouses.

The platform's port reader: every read a domain's dbt project declares (its sources, model SQL
and profile) is judged here before dbt runs, and a refused read fails the build with a message
naming the consumer, the port and why. The same judgement backs the ``access`` policies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mesh_platform import yamlio
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import Domain, load_domain
from mesh_platform.descriptors.models import OutputPort

# A port's location below MESH_HOME (ports.PortRef.relative_dir), however the path is spelled.
PORT_PATH = re.compile(r"lake/([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)/v(\d+)")
# Any DuckDB database file named in SQL, a source or a profile.
DUCKDB_FILE = re.compile(r"([A-Za-z0-9_.-]+)\.duckdb\b")
ATTACH = re.compile(r"\battach\b\s*(?::|'|\"|database\b|if\b)", re.IGNORECASE)


@dataclass(frozen=True)
class SourceRead:
    """What one dbt source (or model) of a consumer reads, as written in its project."""

    name: str  # "source billing.invoices" or "model stg_x"
    file: str  # relative to the domain folder
    text: str  # external_location, database or SQL: where the read goes
    mesh_port: str | None = None
    version: int = 1
    database: str | None = None


@dataclass(frozen=True)
class Violation:
    """One refused read: who reads what, why, and how to fix it."""

    consumer: str
    reader: str
    target: str
    reason: str
    file: str
    fix: str

    def __str__(self) -> str:
        return f"{self.consumer}: {self.reader} ({self.file}) reads {self.target}: {self.reason}"


class AccessDenied(RuntimeError):
    """A domain's project reads something it may not; nothing was built."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        lines = [f"- {v} (fix: {v.fix})" for v in violations]
        super().__init__("access refused by the mesh platform's port reader:\n" + "\n".join(lines))


@cache
def _producer_ports(
    domains_dir: Path, producer: str, stamp: tuple[float, ...]
) -> dict[tuple[str, int], OutputPort]:
    try:
        found = load_domain(domains_dir / producer, [])
    except (SpecErrors, OSError):
        return {}
    return {(p.name, p.version): p for prod in found.products.values() for p in prod.output_ports}


def _stamp(domain_dir: Path) -> tuple[float, ...]:
    """Modification times of a domain's descriptors: a changed descriptor is read again."""
    files = [domain_dir / "domain.yaml", *sorted((domain_dir / "products").glob("*.yaml"))]
    return tuple(f.stat().st_mtime for f in files if f.exists())


def producer_port(
    domains_dir: Path, producer: str, name: str, version: int,
    loaded: Mapping[str, Domain] | None = None,
) -> OutputPort | None:  # fmt: skip
    """The output port a producing domain declares, or None when it declares no such port.

    ``loaded`` are domains already loaded (governance); others are read from ``domains_dir``.
    """
    if loaded is not None and producer in loaded:
        ports = (p for prod in loaded[producer].products.values() for p in prod.output_ports)
        return next((p for p in ports if (p.name, p.version) == (name, version)), None)
    domains_dir = Path(domains_dir).resolve()
    ports = _producer_ports(domains_dir, producer, _stamp(domains_dir / producer))
    return ports.get((name, version))


def declared_inputs(domain: Domain) -> set[tuple[str, int]]:
    """('domain/product', major) of every port input the domain's products declare."""
    return {
        (port.product, port.version)
        for product in domain.products.values()
        for port in product.input_ports
        if port.kind == "port" and port.product
    }


def port_read_problem(
    consumer: Domain, port: str, version: int, loaded: Mapping[str, Domain] | None = None
) -> tuple[str, str] | None:
    """Why ``consumer`` may not read one major of a port, with the fix; None when it may.

    A domain may read its own ports; another domain's port must exist, be public and be
    declared as an input port of one of the consumer's products.
    """
    producer, _, name = port.partition("/")
    if producer == consumer.name:
        return None
    where = f"domains/{consumer.name}/products/*.yaml"
    found = producer_port(consumer.path.parent, producer, name, version, loaded)
    if found is None:
        return (f"undeclared port: {producer} publishes no output port '{name}' v{version}",
                f"read a port that domains/{producer}/products declares")  # fmt: skip
    if found.visibility != "public":
        return (f"port is {found.visibility} to {producer}: other domains may read public ports",
                f"ask {producer} to publish a public port, or drop the read")  # fmt: skip
    if (port, version) not in declared_inputs(consumer):
        return (f"not an input port of any {consumer.name} product",
                f"declare {{kind: port, product: {port}, version: {version}}} in input_ports "
                f"of {where}")  # fmt: skip
    return None


def _meta(node: Mapping[str, Any]) -> dict[str, Any]:
    config = node.get("config") or {}
    return {**(node.get("source_meta") or {}), **(config.get("meta") or {}),
            **(node.get("meta") or {})}  # fmt: skip


def _source_read(name: str, file: str, meta: Mapping[str, Any], database: str | None) -> SourceRead:
    location = str(meta.get("external_location") or "")
    port = meta.get("mesh_port")
    version = int(meta.get("mesh_port_version", 1))
    return SourceRead(name, file, location, port, version, database)


def manifest_reads(manifest: Mapping[str, Any]) -> Iterator[SourceRead]:
    """The sources and model SQL of a parsed dbt project (its manifest.json)."""
    for node in manifest.get("sources", {}).values():
        name = f"source {node['source_name']}.{node['name']}"
        yield _source_read(name, node.get("original_file_path", ""), _meta(node),
                           node.get("database"))  # fmt: skip
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") in ("model", "snapshot", "seed", "operation"):
            name = f"{node['resource_type']} {node['name']}"
            yield SourceRead(name, node.get("original_file_path", ""), node.get("raw_code") or "")


def yaml_reads(dbt_dir: Path) -> Iterator[SourceRead]:
    """The same reads from the project files, without a dbt parse (for `mesh govern`)."""
    for path in sorted(Path(dbt_dir).glob("models/**/*.yml")):
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        rel = str(path.relative_to(dbt_dir))
        for source in data.get("sources") or []:
            for table in source.get("tables") or []:
                meta = {**_meta(source), **_meta(table)}
                yield _source_read(f"source {source['name']}.{table['name']}", rel, meta,
                                   table.get("database") or source.get("database"))  # fmt: skip
    for path in sorted(Path(dbt_dir).glob("models/**/*.sql")):
        yield SourceRead(f"model {path.stem}", str(path.relative_to(dbt_dir)), path.read_text())


def _judge(
    consumer: Domain, read: SourceRead, loaded: Mapping[str, Domain] | None
) -> Iterator[Violation]:
    file = f"domains/{consumer.name}/dbt/{read.file}"

    def refuse(target: str, reason: str, fix: str) -> Violation:
        return Violation(consumer.name, read.name, target, reason, file, fix)

    ports = {(f"{d}/{p}", int(v)) for d, p, v in PORT_PATH.findall(read.text)}
    if read.mesh_port:
        ports.add((read.mesh_port, read.version))
    for port, version in sorted(ports):
        if read.name.startswith("model") and not port.startswith(f"{consumer.name}/"):
            fix = "declare it in input_ports; read it with {{ mesh_port('<d>/<p>') }}"
            yield refuse(f"port {port} v{version}", "a port read straight from model SQL", fix)
            continue
        problem = port_read_problem(consumer, port, version, loaded)
        if problem:
            yield refuse(f"port {port} v{version}", *problem)
    for stem in sorted(set(DUCKDB_FILE.findall(read.text))):
        if stem != consumer.name:
            yield refuse(f"warehouse {stem}.duckdb", "another domain's private warehouse",
                         "read the producer's public output port instead")  # fmt: skip
    if ATTACH.search(read.text):
        yield refuse("an attached database", "ATTACH reaches past the domain's own warehouse",
                     "read other domains through their ports")  # fmt: skip
    if read.database and read.database != consumer.name and not read.text:
        yield refuse(f"database {read.database}", "not the domain's own warehouse",
                     "read the producer's public output port instead")  # fmt: skip


def profile_reads(dbt_dir: Path) -> Iterator[SourceRead]:
    """The dbt profile's attachments and database paths (``attach:`` entries, ``path``)."""
    path = Path(dbt_dir) / "profiles.yml"
    if path.exists():
        yield SourceRead("profile", "profiles.yml", path.read_text(encoding="utf-8"))


def violations(
    consumer: Domain, reads: Iterable[SourceRead], loaded: Mapping[str, Domain] | None = None
) -> list[Violation]:
    """Every refused read among a consumer's reads (``loaded``: domains already loaded)."""
    return [v for read in reads for v in _judge(consumer, read, loaded)]


def enforce(consumer: Domain, manifest: Mapping[str, Any]) -> None:
    """Refuse the build when the consumer's dbt project reads anything it may not.

    Raises:
        AccessDenied: naming each reader, what it reads and why it may not.
    """
    found = violations(consumer, [*manifest_reads(manifest), *profile_reads(consumer.dbt_dir)])
    if found:
        raise AccessDenied(found)


def allowed_directories(consumer: Domain, lake: Path | str) -> list[str]:
    """Warehouse folders a consumer's dbt run may open: its own ports and allowed input ports.

    Args:
        consumer: The consumer domain.
        lake: The warehouse root: a local folder, or an object store's ``s3://bucket/prefix``.

    Returns:
        The folders, spelled under ``lake`` as given (no trailing slash).
    """
    root = str(lake).rstrip("/")
    dirs = [f"{root}/{consumer.name}"]
    for port, version in sorted(declared_inputs(consumer)):
        if port_read_problem(consumer, port, version) is None:
            dirs.append(f"{root}/{port}/v{version}")
    return dirs
