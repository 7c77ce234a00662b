"""Run every effective policy over the mesh and gather one verdict."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_platform import yamlio
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.federation import EffectivePolicy, federate
from mesh_platform.governance.model import Finding, Severity
from mesh_platform.settings import MeshPaths


@dataclass
class GovernanceResult:
    """Findings of one governance run and the policies each domain was judged by."""

    findings: list[Finding]
    effective: dict[str, list[EffectivePolicy]]  # domain -> policies after federation
    domain_filter: str | None = None
    spec_errors: list[str] = field(default_factory=list)  # descriptor errors no policy reported

    @property
    def exit_code(self) -> int:
        """1 when any finding is an error, else 0."""
        return 1 if any(f.severity is Severity.error for f in self.findings) else 0

    def for_domain(self, domain: str) -> list[Finding]:
        """Findings about one domain (its products included)."""
        return [f for f in self.findings if f.domain == domain]

    def for_product(self, domain: str, product: str) -> list[Finding]:
        """Findings about one product of one domain."""
        return [f for f in self.findings if f.domain == domain and f.product == product]

    def scorecard(self) -> dict[str, dict[str, Any]]:
        """Per domain: policies passed and failed (a warning or error finding fails a policy)."""
        cards: dict[str, dict[str, Any]] = {}
        for domain, policies in sorted(self.effective.items()):
            own = self.for_domain(domain)
            failed = sorted({f.policy for f in own if f.severity >= Severity.warning})
            counts = Counter(f.severity.name for f in own)
            cards[domain] = {
                "passed": sorted({p.id for p in policies} - set(failed)),
                "failed": failed,
                "counts": {s.name: counts.get(s.name, 0) for s in Severity},
            }
        return cards

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: exit code, scorecard, effective policies and findings."""
        return {
            "exit_code": self.exit_code,
            "domain": self.domain_filter,
            "scorecard": self.scorecard(),
            "policies": {d: [p.to_dict() for p in ps] for d, ps in sorted(self.effective.items())},
            "findings": [f.to_dict() for f in self.findings],
        }


def run_governance(
    root: Path,
    *,
    domain: str | None = None,
    paths: MeshPaths | None = None,
    context: MeshContext | None = None,
) -> GovernanceResult:
    """Judge the mesh at ``root`` (or only one domain) against global and domain policies.

    Args:
        root: the repository root (holds domains/ and contracts/).
        domain: judge only this domain (the whole mesh is still loaded for cross-domain checks).
        paths: the mesh paths (MESH_HOME for runtime policies); default ``root`` with its
            default home ``root/.mesh``. A home with no runs leaves runtime policies with notes.
        context: an already loaded context (tests, the Dagster asset checks).

    Returns:
        Findings sorted by domain, product, severity (worst first) and policy.

    Raises:
        KeyError: ``domain`` is not a domain of the mesh.

    """
    paths = paths or MeshPaths(root=Path(root), home=Path(root) / ".mesh")
    with yamlio.shared_texts():
        ctx = context or MeshContext.load(paths, domain)
        try:
            return _judge(ctx, domain)
        finally:
            if "runtime" in ctx.__dict__:
                ctx.runtime.close()


def _judge(ctx: MeshContext, domain: str | None) -> GovernanceResult:
    paths = ctx.paths
    if domain is not None and domain not in ctx.domains:
        raise KeyError(f"no domain '{domain}' under {paths.domains}: known {sorted(ctx.domains)}")
    effective, fed_findings = federate(ctx)
    findings = list(fed_findings)
    for policy in _distinct(effective):
        for finding in policy.policy.run(ctx):
            raised = _severity_for(effective, finding)
            if raised is not None:
                findings.append(finding.with_severity(raised))
    findings.sort(key=lambda f: (f.domain, f.product or "", -f.severity, f.policy, f.file, f.field))
    return GovernanceResult(findings, effective, domain, _unclaimed(ctx, findings))


def _unclaimed(ctx: MeshContext, findings: list[Finding]) -> list[str]:
    """Descriptor errors of the judged domains that no policy reported as a finding.

    A descriptor that does not load cannot be judged: ``mesh govern`` exits 2 on these.
    """
    claimed = {(f.file, f.field) for f in findings}
    judged = {ctx.rel(p) for p in ctx.domain_dirs().values()} if ctx.domain_filter else None
    out = []
    for error in [*ctx.spec_errors, *ctx.dbt_errors]:
        file = ctx.rel(error.file)
        if (file, error.field) in claimed:
            continue
        if judged is not None and not any(file.startswith(j + "/") for j in judged):
            continue
        out.append(
            f"{file}: {error.field}: {error.message}" if error.field else f"{file}: {error.message}"
        )
    return out


def _distinct(effective: dict[str, list[EffectivePolicy]]) -> list[EffectivePolicy]:
    """Each policy once (global policies are shared by every domain's list)."""
    seen: dict[int, EffectivePolicy] = {}
    for policies in effective.values():
        for p in policies:
            seen.setdefault(id(p.policy), p)
    return list(seen.values())


def _severity_for(effective: dict[str, list[EffectivePolicy]], finding: Finding) -> Severity | None:
    """A finding's severity in its domain (raised by federation), None if the domain is not judged.

    Info notes stay info: raising a policy makes its failures worse, not its notes.
    """
    policies = effective.get(finding.domain)
    if policies is None:
        return None
    match = next((p for p in policies if p.id == finding.policy), None)
    if match is None or finding.severity is Severity.info or match.origin != "raised":
        return finding.severity
    return max(finding.severity, match.severity)
