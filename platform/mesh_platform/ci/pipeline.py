"""`mesh ci`: lint, contract diffs against a base, governance, dbt build of changed domains."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mesh_platform.ci.state import build_changed, changed_domains, git


@dataclass
class Step:
    """One step's outcome: pass, fail or skip, and a line saying why."""

    name: str
    status: str
    detail: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """A skipped step does not fail CI."""
        return self.status != "fail"


@dataclass(frozen=True)
class Base:
    """The commit CI compares against, or why there is none."""

    ref: str
    sha: str | None
    head: str | None
    changed: list[str]  # files differing from the base (committed, staged, unstaged, untracked)

    @property
    def missing(self) -> str | None:
        """Why nothing can be compared against the base, or None."""
        if self.sha is None:
            return f"no base '{self.ref}' in this repository: nothing to compare against"
        if self.sha == self.head and not self.changed:
            return f"the base '{self.ref}' is the current commit and nothing changed"
        return None


def resolve_base(root: Path, ref: str) -> Base:
    """The base commit and the files changed since it (tracked changes and untracked files)."""
    rev = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    sha = rev.stdout.strip() if rev.returncode == 0 else None
    head = git(root, "rev-parse", "--verify", "--quiet", "HEAD").stdout.strip() or None
    if sha is None:
        return Base(ref, None, head, [])
    tracked = git(root, "diff", "--name-only", sha).stdout.split()
    untracked = git(root, "ls-files", "--others", "--exclude-standard").stdout.split()
    return Base(ref, sha, head, sorted(set(tracked + untracked)))


def lint_step(root: Path, base: Base) -> Step:
    """Descriptors, contracts and their agreement with dbt (what `mesh validate` checks)."""
    from mesh_platform.contracts.conformance import validate_mesh

    domains, errors = validate_mesh(root)
    if errors:
        return Step("lint", "fail", "; ".join(str(e) for e in errors))
    products = sum(len(d.products) for d in domains.values())
    return Step("lint", "pass", f"{len(domains)} domains, {products} products, contracts valid")


def _diff_one(root: Path, base: Base, rel: str) -> str | None:
    """Why the contract at ``rel`` is versioned wrongly against the base, or None."""
    from mesh_platform.contracts.diff import diff_contracts, verdict
    from mesh_platform.contracts.odcs import load_contract

    shown = git(root, "show", f"{base.sha}:{rel}")
    if shown.returncode != 0:
        return None  # new contract: nothing to be compatible with
    old = load_contract(Path(f"git:{base.ref}:{rel}"), text=shown.stdout, check_path=False)
    new = load_contract(root / rel, check_path=False)
    result = verdict(diff_contracts(old, new), old, new)
    return None if result.ok else f"{rel}: {result.message}"


def contracts_step(root: Path, base: Base) -> Step:
    """Every changed contract diffed against its base version (semver, breaking changes)."""
    from mesh_platform.descriptors.errors import SpecErrors

    if base.missing:
        return Step("contracts", "skip", base.missing)
    changed = [f for f in base.changed if f.startswith("contracts/") and f.endswith(".odcs.yaml")]
    present = [f for f in changed if (root / f).exists()]
    problems = []
    for rel in present:
        try:
            problem = _diff_one(root, base, rel)
        except SpecErrors as exc:
            problem = f"{rel}: {exc}"
        problems += [problem] if problem else []
    if problems:
        return Step("contracts", "fail", "; ".join(problems))
    return Step("contracts", "pass", f"{len(present)} changed contract(s) against {base.ref}")


def governance_step(root: Path, base: Base) -> Step:
    """The governance policies over the repository (what `mesh govern` runs)."""
    try:
        from mesh_platform.governance.engine import run_governance
    except ImportError:
        return Step("governance", "skip", "governance engine not installed")
    result = run_governance(root)
    errors = [f for f in result.findings if f.severity.name == "error"]
    detail = f"{len(result.findings)} finding(s), {len(errors)} error(s)"
    if errors:
        detail += ": " + "; ".join(str(f) for f in errors[:5])
    return Step("governance", "fail" if result.exit_code else "pass", detail)


def dbt_step(root: Path, base: Base) -> Step:
    """Build ``state:modified+`` with dbt in each domain changed against the base."""
    if base.missing or base.sha is None:
        return Step("dbt", "skip", base.missing or "no base")
    domains = changed_domains(root, base.changed)
    if not domains:
        return Step("dbt", "skip", f"no domain changed against {base.ref}")
    builds = []
    with tempfile.TemporaryDirectory(prefix="mesh-ci-") as tmp:
        for domain in domains:
            builds.append(build_changed(root, domain, base.sha, Path(tmp) / domain))
    detail = "; ".join(
        f"{b.domain}: {len(b.nodes)} node(s) {'ok' if b.ok else b.message}" for b in builds
    )
    return Step("dbt", "pass" if all(b.ok for b in builds) else "fail", detail)


STEPS: dict[str, Callable[[Path, Base], Step]] = {
    "lint": lint_step,
    "contracts": contracts_step,
    "governance": governance_step,
    "dbt": dbt_step,
}


def run_ci(
    root: Path,
    base_ref: str = "main",
    skip: tuple[str, ...] = (),
    on_step: Callable[[Step], None] | None = None,
) -> list[Step]:
    """Run every CI step in order; a failing step does not stop the later ones.

    Args:
        root: the repository root.
        base_ref: the git revision to compare against.
        skip: names of steps (keys of ``STEPS``) not to run.
        on_step: called with each step's outcome as it ends.

    Returns:
        One outcome per step.

    """
    base = resolve_base(root, base_ref)
    out = []
    for name, fn in STEPS.items():
        started = time.perf_counter()
        step = Step(name, "skip", "skipped (--skip)") if name in skip else fn(root, base)
        step.seconds = round(time.perf_counter() - started, 1)
        out.append(step)
        if on_step:
            on_step(step)
    return out
