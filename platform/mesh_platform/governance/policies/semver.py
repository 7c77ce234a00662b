"""Policy: a changed contract's version follows semantic versioning against the published one.

"Published" is the contract as it is on the base branch (``MESH_GOVERN_BASE``, default ``main``):
that is what consumers were promised when it merged. Port snapshots do not keep a contract copy.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from mesh_platform.contracts.diff import diff_contracts, verdict
from mesh_platform.contracts.odcs import SUFFIX, Contract, load_contract
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity

BASE_ENV = "MESH_GOVERN_BASE"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def base_ref(root: Path) -> str | None:
    """The base branch to compare with, or None when there is none (no git, no such branch)."""
    ref = os.environ.get(BASE_ENV, "main")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return ref if found.returncode == 0 else None


def _changed(root: Path, ref: str) -> list[str]:
    """Contract files that differ from ``ref`` in the working tree, relative to the repo root."""
    shown = _git(root, "diff", "--name-only", "--relative", ref, "--", "contracts")
    new = _git(root, "ls-files", "--others", "--exclude-standard", "--", "contracts")
    return sorted({*shown.stdout.split(), *new.stdout.split()})


def _published(root: Path, ref: str, rel: str) -> str | None:
    shown = _git(root, "show", f"{ref}:./{rel}")
    return shown.stdout if shown.returncode == 0 else None


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Every changed port contract judged by ``contracts.diff`` against its published version."""
    ref = base_ref(ctx.root)
    if ref is None:
        for domain in ctx.selected():
            yield policy.finding(
                domain.name,
                None,
                ctx.rel(ctx.paths.contracts / domain.name),
                "",
                "nothing published yet: no base branch to compare with "
                f"(set {BASE_ENV} or create 'main')",
                "nothing to do",
                Severity.info,
            )
        return
    by_file = {ctx.rel(c.path): c for c in ctx.contracts.values() if not c.is_source}
    for rel in _changed(ctx.root, ref):
        new = by_file.get(rel)
        if new is None or not rel.endswith(SUFFIX) or not ctx.judged(new.domain):
            continue  # deleted, invalid (port-contract reports it) or a source contract
        old = _old(ctx.root, ref, rel, new)
        if old is None:
            continue  # a brand-new contract: any version may start it
        result = verdict(diff_contracts(old, new), old, new)
        if not result.ok:
            product = ctx.port_products.get((new.domain, new.product))
            yield policy.finding(
                new.domain,
                product,
                rel,
                "version",
                f"against {ref}: {result.message}",
                f"see `mesh contracts diff git:{ref}:{rel} {rel}`; bump the "
                "version (major for breaking changes, with a new port version)",
            )


def _old(root: Path, ref: str, rel: str, new: Contract) -> Contract | None:
    """The published version of a contract file (an older major moved out keeps its history)."""
    text = _published(root, ref, rel)
    if text is None and ".v" in Path(rel).name.removesuffix(SUFFIX):
        newest = str(Path(rel).parent / f"{new.product}{SUFFIX}")
        text = _published(root, ref, newest)
    if text is None:
        return None
    try:
        old = load_contract(root / rel, text=text, check_path=False)
    except SpecErrors:
        return None  # the published file was invalid: nothing reliable to compare with
    return old if old.major == new.major or not Path(rel).name.count(".v") else None


POLICY = Policy(
    id="semver",
    severity=Severity.error,
    rationale="Consumers pin a major version; a breaking change without a new major breaks them.",
    check=check,
)
