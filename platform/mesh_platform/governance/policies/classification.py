"""Policy classification (being written)."""

from __future__ import annotations

from mesh_platform.governance.model import Policy, Severity

POLICY = Policy(
    id="classification",
    severity=Severity.error,
    rationale="(being written)",
    check=lambda ctx, p: [],
)
