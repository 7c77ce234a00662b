"""Policy: no contract keeps a ``TODO(decide)`` that `mesh contracts init` left for a person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mesh_platform.contracts.infer import DECIDE
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity

# Judged by the documentation and classification policies already: one finding per problem.
OTHERS = ("description", "purpose", "usage", "limitations", "classification")


def _marked(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(field path, text) of every string under ``node`` that carries the marker."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _marked(value, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _marked(value, f"{where}[{i}]")
    elif isinstance(node, str) and DECIDE in node:
        yield where, node


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Every marked field of every loaded contract outside the other policies' fields."""
    for contract in ctx.contracts.values():
        if not ctx.judged(contract.domain):
            continue
        where = ctx.locate(contract.path)
        raw = contract.model.model_dump(by_alias=True, exclude_none=True, mode="json")
        for field, text in _marked(raw, ""):
            if field.rsplit(".", 1)[-1] in OTHERS:
                continue
            yield policy.finding(
                contract.domain,
                where[1] if where else None,
                ctx.rel(contract.path),
                field,
                f"undecided: {text.split(DECIDE, 1)[1].strip()}",
                "make the decision the marker asks for, then remove the marker",
            )


POLICY = Policy(
    id="decisions",
    severity=Severity.error,
    rationale="A generated contract is not a promise until a person made the decisions it left.",
    check=check,
)
