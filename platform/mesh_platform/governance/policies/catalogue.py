"""Built-in, parameterised policies a domain may add for itself in its governance.yaml.

Kept small on purpose: each answers a rule real domain teams set for themselves.

| use | params | a product fails when |
|---|---|---|
| min_tier | tier: bronze/silver/gold | its tier is below ``tier`` |
| max_freshness_hours | hours: number | its freshness (contract, else slos) is above ``hours`` |
| require_availability_slo | min: percent (optional) | no availability, or below min |
| required_tags | tags: [names] | it lacks one of ``tags`` |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mesh_platform.descriptors.loader import Domain, _field_path
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.domain_config import FEDERATION, AddedPolicy
from mesh_platform.governance.model import Finding, Policy, Severity

TIERS = ("bronze", "silver", "gold")
# (file or None for the product's descriptor, field, message, fix) when a product breaks the rule.
Broken = tuple[str | None, str, str, str] | None
Rule = Callable[[MeshContext, Domain, ProductSpec, Any], Broken]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinTier(_Params):
    """Every product at least this tier."""

    tier: str = Field(pattern="^(bronze|silver|gold)$")


class MaxFreshness(_Params):
    """Every product fresh within this many hours."""

    hours: float = Field(gt=0)


class Availability(_Params):
    """Every product declares an availability SLO (at least ``min`` percent)."""

    min: float | None = Field(default=None, gt=0, le=100)


class RequiredTags(_Params):
    """Every product carries these tags."""

    tags: list[str] = Field(min_length=1)


def _min_tier(ctx: MeshContext, dom: Domain, p: ProductSpec, params: MinTier) -> Broken:
    if TIERS.index(p.tier) >= TIERS.index(params.tier):
        return None
    return (
        None,
        "tier",
        f"tier {p.tier} is below this domain's minimum {params.tier}",
        (f"raise the product to {params.tier} (its SLOs and checks with it)"),
    )


def _max_freshness(ctx: MeshContext, dom: Domain, p: ProductSpec, params: MaxFreshness) -> Broken:
    hours, file, field = ctx.freshness(dom, p)
    if hours is None or hours <= params.hours:
        return None
    return (
        file,
        field,
        f"{hours:g} h is above this domain's maximum {params.hours:g} h",
        (f"refresh at least every {params.hours:g} h and declare it"),
    )


def _availability(ctx: MeshContext, dom: Domain, p: ProductSpec, params: Availability) -> Broken:
    have = p.slos.availability
    if have is None:
        fix = "declare slos.availability (%)"
        return None, "slos.availability", "no availability SLO declared", fix
    if params.min is not None and have < params.min:
        return (
            None,
            "slos.availability",
            f"availability {have:g}% is below the domain's {params.min:g}%",
            (f"commit to at least {params.min:g}%"),
        )
    return None


def _tags(ctx: MeshContext, dom: Domain, p: ProductSpec, params: RequiredTags) -> Broken:
    missing = [t for t in params.tags if t not in p.tags]
    if not missing:
        return None
    return None, "tags", f"missing required tag(s): {', '.join(missing)}", f"add {missing} to tags"


CATALOGUE: dict[str, tuple[type[_Params], Rule, str]] = {
    "min_tier": (MinTier, _min_tier, "The domain's products are held to a minimum tier."),
    "max_freshness_hours": (
        MaxFreshness,
        _max_freshness,
        "The domain's products are refreshed at least this often.",
    ),
    "require_availability_slo": (
        Availability,
        _availability,
        "The domain's products promise an availability.",
    ),
    "required_tags": (RequiredTags, _tags, "The domain's products carry the tags it relies on."),
}


def build_added(
    domain: str, added: AddedPolicy, file: str, field: str
) -> tuple[Policy | None, Finding | None]:
    """The policy a governance.yaml entry turns on, or the federation finding explaining why not."""
    entry = CATALOGUE.get(added.use)
    if entry is None:
        msg = f"no built-in domain policy '{added.use}'"
        return None, FEDERATION.finding(
            domain, None, file, f"{field}.use", msg, f"use one of: {', '.join(CATALOGUE)}"
        )
    params_model, rule, rationale = entry
    try:
        params = params_model.model_validate(added.params)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f"{field}.params.{_field_path(err['loc'])}".rstrip(".")
        return None, FEDERATION.finding(
            domain, None, file, where, err["msg"], f"see governance docs for '{added.use}' params"
        )
    pid = added.use.replace("_", "-")

    def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
        dom = ctx.domains.get(domain)
        if dom is None:
            return
        for product in dom.products.values():
            broken = rule(ctx, dom, product, params)
            if broken:
                file, field, message, fix = broken
                where = file or ctx.product_file(dom, product.name)
                yield policy.finding(domain, product.name, where, field, message, fix)

    return Policy(pid, Severity.parse(added.severity), rationale, check), None
