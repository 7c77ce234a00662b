"""Policy: every port promises freshness (contract, else descriptor); a published one keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from mesh_platform.catalog.freshness import STALE, port_verdict
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import lint_owner
from mesh_platform.ports import PortRef


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Contract freshness missing or invalid; a promise missing, or written twice and different."""
    for error in ctx.contract_errors:
        where = ctx.locate(error.file)
        if where and lint_owner(error.field) == policy.id and ctx.judged(where[0]):
            yield policy.finding(
                where[0],
                where[1],
                ctx.rel(error.file),
                error.field,
                error.message,
                "add slaProperties: [{property: freshness, value: <hours>, unit: h}]",
            )
    for domain, product in ctx.products():
        hours = product.slos.freshness_hours
        for port in product.output_ports:
            contract = ctx.port_contract(domain.name, port.name, port.version)
            if contract is None and hours is None:
                yield policy.finding(
                    domain.name, product.name, ctx.product_file(domain, product.name),
                    "slos.freshness_hours", f"port '{port.name}' has no contract and the product "
                    "no freshness SLO", "declare slos.freshness_hours, or give the port a contract",
                )  # fmt: skip
            if port.visibility != "public" or contract is None:
                continue
            promised = contract.freshness_hours
            if promised is not None and hours is not None and promised != hours:
                yield policy.finding(
                    domain.name,
                    product.name,
                    ctx.rel(contract.path),
                    "slaProperties.freshness",
                    f"contract promises {promised:g} h but {ctx.product_file(domain, product.name)}"
                    f" slos.freshness_hours is {hours:g} h",
                    "write it once, in the contract: drop slos.freshness_hours",
                )
    yield from _stale_ports(ctx, policy)


def _stale_ports(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """A published port whose verdict (catalog.freshness, the catalog's and Dagster's) is stale.

    A warning: the promise is broken by the data, not by a file in the repo, so it shows in
    ``mesh govern`` and the report without failing CI; a port never published is not judged.
    """
    if not ctx.runtime.snapshots:
        return
    now = datetime.now(UTC)
    for domain, product in ctx.products():
        for port in product.output_ports:
            ref = PortRef(domain.name, port.name, port.version)
            if (ref.domain, ref.product, ref.version) not in ctx.runtime.snapshots:
                continue
            contract = ctx.port_contract(domain.name, port.name, port.version)
            verdict = port_verdict(ctx.paths.home, ref, product, contract, now)
            if verdict.status == STALE:
                file = ctx.product_file(domain, product.name)
                where = ctx.rel(contract.path) if contract else file
                yield policy.finding(
                    domain.name, product.name, where, "slaProperties.freshness",
                    f"port {ref.relative_dir} is {verdict.describe()}",
                    "re-run the producer (`mesh up`), or find why its data stopped moving",
                    severity=Severity.warning,
                )  # fmt: skip


POLICY = Policy(
    id="freshness",
    severity=Severity.error,
    rationale="Consumers must know how stale a port may get before they build on it.",
    check=check,
)
