"""Policy documentation (being written)."""

from __future__ import annotations

from mesh_platform.governance.model import Policy, Severity

POLICY = Policy(
    id="documentation",
    severity=Severity.error,
    rationale="(being written)",
    check=lambda ctx, p: [],
)
