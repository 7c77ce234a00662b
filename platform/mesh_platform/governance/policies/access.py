"""Policy: a domain reads only public, declared ports of other domains (dbt, lineage)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mesh_platform.access import rules as access
from mesh_platform.descriptors.loader import Domain
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.lineage.naming import port_of

# Inputs of every run in the lineage store, with the namespace of the job (mesh.<domain>).
_INPUTS = """SELECT DISTINCT r.job_namespace, r.job_name, d.namespace, d.name
FROM dataset_io d JOIN run_events r ON r.run_id = d.run_id AND r.seq = d.seq
WHERE d.direction = 'input' AND r.job_namespace LIKE 'mesh.%'
ORDER BY ALL"""
_WAREHOUSE_NS = re.compile(r"^duckdb://.*/([A-Za-z0-9_.-]+)\.duckdb$")


def _declared(ctx: MeshContext, policy: Policy, domain: Domain) -> Iterator[Finding]:
    """Input ports a product declares that are private or not published by their producer."""
    for product in domain.products.values():
        for i, port in enumerate(product.input_ports):
            if port.kind != "port" or not port.product:
                continue
            problem = access.port_read_problem(domain, port.product, port.version, ctx.domains)
            if problem:
                yield policy.finding(domain.name, product.name,
                                     ctx.product_file(domain, product.name),
                                     f"input_ports[{i}].product",
                                     f"reads {port.product} v{port.version}: {problem[0]}",
                                     problem[1])  # fmt: skip


def _dbt(ctx: MeshContext, policy: Policy, domain: Domain) -> Iterator[Finding]:
    """The dbt sources, model SQL and profile reading past the domain's ports."""
    reads = [*access.yaml_reads(domain.dbt_dir), *access.profile_reads(domain.dbt_dir)]
    for v in access.violations(domain, reads, ctx.domains):
        file = ctx.rel(domain.dbt_dir / v.file.split("/dbt/", 1)[-1])
        yield policy.finding(domain.name, None, file, v.reader,
                             f"{v.reader} reads {v.target}: {v.reason}", v.fix)  # fmt: skip


def _lineage(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Runs whose lineage shows a read of a non-public port or another domain's warehouse."""
    store = ctx.runtime.lineage_store
    if store is None:
        return
    seen: set[tuple[str, str]] = set()
    for row in store.query(_INPUTS):
        consumer = ctx.domains.get(row["job_namespace"].removeprefix("mesh."))
        if consumer is None or not ctx.judged(consumer.name):
            continue
        target, problem = _lineage_problem(ctx, consumer, row["namespace"], row["name"])
        if problem is None or (consumer.name, target) in seen:
            continue
        seen.add((consumer.name, target))
        yield policy.finding(consumer.name, None, ctx.rel(ctx.paths.lineage / "events.jsonl"),
                             f"job {row['job_name']}",
                             f"lineage shows a read of {target}: {problem}",
                             "read the producer's public output port, and declare it")  # fmt: skip


def _lineage_problem(
    ctx: MeshContext, consumer: Domain, namespace: str, name: str
) -> tuple[str, str | None]:
    """(what was read, why it may not be) of one input dataset, or (name, None) when allowed."""
    found = _WAREHOUSE_NS.match(namespace)
    if found and found.group(1) != consumer.name:
        return f"warehouse {found.group(1)}.duckdb", "another domain's private warehouse"
    port = port_of(ctx.paths, namespace, name)
    if port and port[0] != consumer.name:
        ref, version = f"{port[0]}/{port[1]}", port[2]
        problem = access.port_read_problem(consumer, ref, version, ctx.domains)
        return f"port {ref} v{version}", problem[0] if problem else None
    return name, None


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Declared inputs, dbt reads and (when MESH_HOME has runs) lineage of every judged domain."""
    for domain in ctx.selected():
        yield from _declared(ctx, policy, domain)
        if Path(domain.dbt_dir).is_dir():
            yield from _dbt(ctx, policy, domain)
    yield from _lineage(ctx, policy)


POLICY = Policy(
    id="access",
    severity=Severity.error,
    rationale="Domains own their data: others read only its public ports, never its warehouse.",
    check=check,
)
