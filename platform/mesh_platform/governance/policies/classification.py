"""Policy: every contract column carries a known classification (public ... pii)."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.contracts.odcs import CLASSIFICATIONS
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import lint_owner

FIX = f"set classification to one of {', '.join(CLASSIFICATIONS)} (pii if it names a person)"


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Lint errors on ``classification`` fields, of port and source contracts alike."""
    for error in ctx.contract_errors:
        where = ctx.locate(error.file) or _source_domain(ctx, error.file)
        if where is None or lint_owner(error.field) != policy.id or not ctx.judged(where[0]):
            continue
        yield policy.finding(
            where[0],
            where[1],
            ctx.rel(error.file),
            error.field,
            f"column not classified: {error.message}",
            FIX,
        )
    for contract in ctx.contracts.values():  # loaded contracts passed lint; guard the model too
        if not ctx.judged(contract.domain):
            continue
        for i, prop in enumerate(contract.columns):
            if prop.classification not in CLASSIFICATIONS:
                yield policy.finding(
                    contract.domain,
                    None,
                    ctx.rel(contract.path),
                    f"schema[0].properties[{i}].classification",
                    f"column '{prop.name}' is not classified",
                    FIX,
                )


def _source_domain(ctx: MeshContext, file: object) -> tuple[str, None] | None:
    """contracts/<domain>/sources/<entity>.odcs.yaml belongs to the domain, no product."""
    parts = ctx.rel(str(file)).split("/")
    return (parts[1], None) if len(parts) == 4 and parts[2] == "sources" else None


POLICY = Policy(
    id="classification",
    severity=Severity.error,
    rationale="Access and masking rules need to know what every column holds.",
    check=check,
)
