"""Built-in, parameterised policies a domain may add for itself in governance.yaml."""

from __future__ import annotations

from mesh_platform.governance.model import Finding, Policy


def build_added(domain: str, added, file: str, field: str) -> tuple[Policy | None, Finding | None]:  # noqa: ANN001
    """(being written)"""
    return None, None
