"""Policy: every public port's contract compiles to at least one blocking check on the data."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.contracts.rules import ContractCompileError, compile_rules
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity

# Rules every contract gets from its column list: they check the shape, never the values.
SHAPE_ONLY = frozenset({"present", "type", "extra_columns"})
FIX = (
    "add a rule on the values: required/unique/primaryKey on a column, a logicalTypeOptions "
    "bound, or a quality rule (rowCount, sql)"
)


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Ports whose contract checks only the schema, or holds a rule the platform cannot run."""
    for domain, product in ctx.products():
        for port in product.output_ports:
            contract = ctx.port_contract(domain.name, port.name, port.version)
            if port.visibility != "public" or contract is None:
                continue
            file = ctx.rel(contract.path)
            try:
                rules = compile_rules(contract.model, source=file).rules
            except ContractCompileError as exc:
                yield policy.finding(
                    domain.name,
                    product.name,
                    file,
                    "schema[0].quality",
                    f"the contract cannot be compiled to checks: {exc}",
                    "use rules the platform supports (see docs/contracts)",
                )
                continue
            if not [r for r in rules if r.kind not in SHAPE_ONLY]:
                yield policy.finding(
                    domain.name,
                    product.name,
                    file,
                    "schema[0]",
                    f"port {domain.name}/{port.name} v{port.version} has no "
                    "blocking check on its data, only on its schema",
                    FIX,
                )


POLICY = Policy(
    id="blocking-check",
    severity=Severity.error,
    rationale="A port is published only after a check on its data passes (write-audit-publish).",
    check=check,
)
