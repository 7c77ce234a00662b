"""Policy: every public output port major has a contract that loads, lints and matches the port."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.contracts.conformance import check_ports
from mesh_platform.contracts.odcs import SUFFIX, file_key
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import lint_owner


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Contract load and lint errors, ports without a contract, drift against port and dbt."""
    covered = {file_key(p) for p in ctx.paths.contracts.rglob(f"*{SUFFIX}")}
    errors = [*ctx.contract_errors, *check_ports(ctx.contracts, ctx.domains, covered=covered)]
    for error in errors:
        where = ctx.locate(error.file)
        if where is None or lint_owner(error.field) is not None:  # reported by that policy
            continue
        domain, product = where
        if ctx.judged(domain):
            yield policy.finding(
                domain,
                product,
                ctx.rel(error.file),
                error.field,
                error.message,
                _fix(error.field, error.message),
            )


def _fix(field: str, message: str) -> str:
    """How to repair the most common contract problems."""
    if "has no contract" in message:
        return "write the contract (copy a sibling's), or make the port private"
    if field in ("version", "customProperties.portVersion"):
        return "make the contract's major and portVersion equal the port's version"
    if "dbt model" in message or "data_type" in field:
        return "make the contract's columns and types match the dbt model's .yml"
    if "not valid YAML" in message or "cannot read" in message:
        return "fix the file so it parses"
    return "fix the contract field (`mesh contracts lint` shows every problem)"


POLICY = Policy(
    id="port-contract",
    severity=Severity.error,
    rationale="Consumers rely on a published, machine-checked promise for every public port.",
    check=check,
)
