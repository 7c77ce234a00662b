"""A domain's governance.yaml as declared, and the federation policy that judges it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity

GOVERNANCE_FILE = "governance.yaml"
SeverityName = Literal["info", "warning", "error"]


def _no_findings(ctx: MeshContext, policy: Policy) -> list[Finding]:
    return []  # federation's findings come from reading governance.yaml, see federate()


FEDERATION = Policy(
    id="federation",
    severity=Severity.error,
    rationale="Domains may tighten global governance for themselves, never loosen it.",
    check=_no_findings,
)


class AddedPolicy(BaseModel):
    """A built-in, parameterised policy a domain turns on for itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    use: str = Field(description="name of a built-in domain policy (see domain_policies.CATALOGUE)")
    severity: SeverityName = "error"
    params: dict[str, Any] = Field(default_factory=dict)


class GovernanceConfig(BaseModel):
    """``domains/<domain>/governance.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severities: dict[str, SeverityName] = Field(
        default_factory=dict,
        description="global policy id -> severity for this domain (raise only)",
    )
    disable: list[str] = Field(
        default_factory=list, description="never allowed: listed so the attempt is reported"
    )
    policies: list[AddedPolicy] = Field(default_factory=list)
