"""Governance vocabulary: severities, findings and policies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mesh_platform.governance.context import MeshContext


class Severity(IntEnum):
    """How much a finding matters; ordered so ``max()`` and ``>=`` work (info < warning < error)."""

    info = 0
    warning = 1
    error = 2

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """A severity from its name ("info", "warning", "error").

        Raises:
            ValueError: naming the accepted names.

        """
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).lower()]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown severity '{value}': use one of {names}") from None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Finding:
    """One governance result: which policy, how severe, where (domain, product, file, field), why.

    ``product`` is None for findings about a domain as a whole. ``file`` is relative to the repo
    root where possible, so findings read the same on every machine.
    """

    policy: str
    severity: Severity
    domain: str
    product: str | None
    file: str
    field: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (severity by name)."""
        out = asdict(self)
        out["severity"] = self.severity.name
        return out

    def with_severity(self, severity: Severity) -> Finding:
        """The same finding at another severity (federation raises severities per domain)."""
        return Finding(**{**asdict(self), "severity": severity})

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"[{self.severity.name}] {self.policy}: {where}: {self.message} (fix: {self.fix})"


CheckFn = Callable[["MeshContext", "Policy"], Iterable[Finding]]


@dataclass(frozen=True)
class Policy:
    """A global (or domain-added) governance policy.

    ``check(ctx, policy)`` yields findings for the whole mesh (or only ``ctx.domain_filter``);
    it builds them with ``policy.finding(...)`` so id and severity come from the policy.
    """

    id: str
    severity: Severity
    rationale: str
    check: CheckFn
    runtime: bool = False  # reads MESH_HOME (lineage, ports, registry) rather than only the repo

    def run(self, ctx: MeshContext) -> list[Finding]:
        """Every finding of this policy over the context."""
        return list(self.check(ctx, self))

    def finding(
        self,
        domain: str,
        product: str | None,
        file: str | Path,
        field: str,
        message: str,
        fix: str,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this policy, at its severity unless one is given (e.g. info notes)."""
        return Finding(
            policy=self.id,
            severity=self.severity if severity is None else severity,
            domain=domain,
            product=product,
            file=str(file),
            field=field,
            message=message,
            fix=fix,
        )
