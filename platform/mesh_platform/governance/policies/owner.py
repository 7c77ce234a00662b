"""Policy: every domain and product has real owners (no placeholders, valid form)."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import is_placeholder_text, owner_placeholder

FIX_OWNER = "name a real owner: team:<team> or the team's shared mailbox (name@company.tld)"


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Owners the loader refused, placeholder owners and team names, per domain and product."""
    judged = {ctx.rel(p) for p in ctx.domain_dirs().values()}
    for error in ctx.spec_errors:  # the loader refuses malformed owners: report them here
        file = ctx.rel(error.file)
        domain_dir = file.rsplit("/products/", 1)[0].removesuffix("/domain.yaml")
        if error.field.startswith("owners") and domain_dir in judged:
            product = (
                file.rsplit("/", 1)[-1].removesuffix(".yaml") if "/products/" in file else None
            )
            yield policy.finding(
                domain_dir.rsplit("/", 1)[-1],
                product,
                file,
                error.field,
                f"invalid owner: {error.message}",
                FIX_OWNER,
            )
    for domain in ctx.selected():
        file = ctx.domain_file(domain)
        if is_placeholder_text(domain.spec.team):
            yield policy.finding(
                domain.name,
                None,
                file,
                "team",
                f"team is a placeholder: {domain.spec.team!r}",
                "write the owning team's name",
            )
        yield from _owners(policy, domain.name, None, file, domain.spec.owners)
        for product in domain.products.values():
            if product.owners is not None:
                pfile = ctx.product_file(domain, product.name)
                yield from _owners(policy, domain.name, product.name, pfile, product.owners)


def _owners(
    policy: Policy, domain: str, product: str | None, file: str, owners: list[str]
) -> Iterator[Finding]:
    if not owners:
        yield policy.finding(domain, product, file, "owners", "no owner declared", FIX_OWNER)
    seen: set[str] = set()
    for i, owner in enumerate(owners):
        why = owner_placeholder(owner)
        if why:
            yield policy.finding(
                domain,
                product,
                file,
                f"owners[{i}]",
                f"owner '{owner}' is a placeholder: {why}",
                FIX_OWNER,
            )
        if owner in seen:
            yield policy.finding(
                domain,
                product,
                file,
                f"owners[{i}]",
                f"owner '{owner}' is listed twice",
                "remove the duplicate",
                severity=Severity.warning,
            )
        seen.add(owner)


POLICY = Policy(
    id="owner",
    severity=Severity.error,
    rationale="Every domain and product has an accountable owner someone can reach.",
    check=check,
)
