"""Federation: a domain's governance.yaml raises global policies and adds built-in ones.

A domain may make governance stricter for itself, never weaker. Lowering a severity or disabling a
global policy is not applied: it is an error finding of the ``federation`` policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from mesh_platform import yamlio
from mesh_platform.descriptors.loader import _field_path
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.domain_config import (
    FEDERATION,
    GOVERNANCE_FILE,
    GovernanceConfig,
)
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies import GLOBAL_POLICIES
from mesh_platform.governance.policies.catalogue import build_added


@dataclass(frozen=True)
class EffectivePolicy:
    """A policy as it applies to one domain: its severity there and where it comes from."""

    policy: Policy
    severity: Severity
    origin: Literal["global", "raised", "domain"]

    @property
    def id(self) -> str:
        """The policy id."""
        return self.policy.id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "severity": self.severity.name,
            "origin": self.origin,
            "rationale": self.policy.rationale,
        }


def load_config(
    domain: str, domain_dir: Path, ctx: MeshContext
) -> tuple[GovernanceConfig, list[Finding]]:
    """Read a domain's governance.yaml (an empty config when absent); problems as findings."""
    path = domain_dir / GOVERNANCE_FILE
    if not path.exists():
        return GovernanceConfig(), []
    file = ctx.rel(path)

    def bad(field: str, msg: str, fix: str) -> Finding:
        return FEDERATION.finding(domain, None, file, field, msg, fix)

    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        return GovernanceConfig.model_validate(raw), []
    except yaml.YAMLError as exc:
        return GovernanceConfig(), [bad("", f"not valid YAML: {exc}", "fix the YAML syntax")]
    except ValidationError as exc:
        fix = "allowed keys: severities (id: info|warning|error), policies (use, severity, params)"
        found = [bad(_field_path(e["loc"]), e["msg"], fix) for e in exc.errors()]
        return GovernanceConfig(), found


def federate(ctx: MeshContext) -> tuple[dict[str, list[EffectivePolicy]], list[Finding]]:
    """The policies each judged domain is held to, and the federation findings.

    Returns:
        ``{domain: [effective policies]}`` and the findings of every governance.yaml.

    """
    base = {p.id: p for p in [*GLOBAL_POLICIES, FEDERATION]}
    effective: dict[str, list[EffectivePolicy]] = {}
    findings: list[Finding] = []
    for name, domain_dir in ctx.domain_dirs().items():  # also domains whose descriptor is broken
        config, problems = load_config(name, domain_dir, ctx)
        findings += problems
        file = ctx.rel(domain_dir / GOVERNANCE_FILE)
        own, more = _raise(name, file, config, base)
        findings += more
        for i, added in enumerate(config.policies):
            policy, problem = build_added(name, added, file, f"policies[{i}]")
            if problem:
                findings.append(problem)
            elif policy:
                own.append(EffectivePolicy(policy, Severity.parse(added.severity), "domain"))
        effective[name] = own
    return effective, findings


def _raise(
    domain: str, file: str, config: GovernanceConfig, base: dict[str, Policy]
) -> tuple[list[EffectivePolicy], list[Finding]]:
    """Global policies at this domain's severities; weakening attempts become findings."""
    findings = []
    chosen: dict[str, Severity] = {}
    for pid, name in config.severities.items():
        field = f"severities.{pid}"
        policy = base.get(pid)
        if policy is None:
            known = ", ".join(sorted(base))
            msg, fix = f"no global policy '{pid}'", f"use one of: {known}"
        elif Severity.parse(name) < policy.severity:
            msg = (
                f"lowers global policy '{pid}' from {policy.severity} to {name}: "
                "a domain may only raise severities"
            )
            fix = f"remove '{pid}' or set it to {policy.severity} or higher"
        else:
            chosen[pid] = Severity.parse(name)
            continue
        findings.append(FEDERATION.finding(domain, None, file, field, msg, fix))
    for i, pid in enumerate(config.disable):
        msg = f"tries to disable global policy '{pid}': global policies apply to every domain"
        fix = "remove the entry; fix the findings, or ask the platform team to change the policy"
        findings.append(FEDERATION.finding(domain, None, file, f"disable[{i}]", msg, fix))
    own = [
        EffectivePolicy(p, chosen.get(p.id, p.severity), "raised" if p.id in chosen else "global")
        for p in base.values()
    ]
    return own, findings


def config_path(domain_dir: Path) -> Path:
    """Where a domain's governance.yaml lives."""
    return Path(domain_dir) / GOVERNANCE_FILE
