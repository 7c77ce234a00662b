"""Policy: no PII in a public port unless masked or published for a permitted purpose."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.access.masking import PII, pii_verdict
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import ProductSpec
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.pii_scan import scan_files

MASK_FIX = (
    "hash or coarsen it in the dbt model and classify it pii-masked, or declare "
    "pii_purpose {columns, purpose, approved_by} in the product descriptor"
)


def _public_contracts(ctx: MeshContext, domain: Domain, product: ProductSpec):
    for port in product.output_ports:
        contract = ctx.port_contract(domain.name, port.name, port.version)
        if port.visibility == "public" and contract is not None:
            yield port, contract


def _static(ctx: MeshContext, policy: Policy, domain: Domain, product: ProductSpec):
    """Contract-classified PII in public ports, and purposes that name no PII column."""
    allowed = set(product.pii_purpose.columns) if product.pii_purpose else set()
    classified: set[str] = set()
    for port, contract in _public_contracts(ctx, domain, product):
        for i, col in enumerate(contract.columns):
            if col.classification != PII or not col.name:
                continue
            classified.add(col.name)
            field = f"schema[0].properties[{i}].classification"
            where = (domain.name, product.name, ctx.rel(contract.path), field)
            verdict = pii_verdict(col.classification, col.name, allowed)
            if verdict.permitted and product.pii_purpose:
                msg = (f"{port.name}.{col.name} is published unmasked for "
                       f"'{product.pii_purpose.purpose}' (approved by "
                       f"{product.pii_purpose.approved_by})")  # fmt: skip
                yield policy.finding(*where, msg, "none needed", Severity.info)
            else:  # masked, but by the platform: the domain should own it in its SQL
                msg = f"{port.name}.{col.name} is classified pii in a public port: {verdict.reason}"
                yield policy.finding(*where, msg, MASK_FIX, Severity.warning)
    for i, name in enumerate(product.pii_purpose.columns if product.pii_purpose else []):
        if name not in classified:
            file = ctx.product_file(domain, product.name)
            msg = f"'{name}' is not classified pii in a public port's contract"
            fix = "name only columns the port's contract classifies pii"
            yield policy.finding(domain.name, product.name, file, f"pii_purpose.columns[{i}]",
                                 msg, fix)  # fmt: skip


def _sampled(ctx: MeshContext, policy: Policy, domain: Domain, product: ProductSpec):
    """E-mail-like or phone-like values in the published snapshots of the public ports."""
    allowed = set(product.pii_purpose.columns) if product.pii_purpose else set()
    for port in product.output_ports:
        snap = ctx.runtime.snapshots.get((domain.name, port.name, port.version))
        if port.visibility != "public" or snap is None:
            continue
        contract = ctx.port_contract(domain.name, port.name, port.version)
        file = ctx.rel(contract.path) if contract else ctx.product_file(domain, product.name)
        for hit in scan_files(snap.files, skip=allowed, home=ctx.paths.home):
            yield policy.finding(
                domain.name, product.name, file, hit.column,
                f"{hit.matches} of {hit.sampled} sampled values of {port.name}.{hit.column} in "
                f"snapshot {snap.snapshot_id} look like {hit.kind} (e.g. {hit.example})",
                MASK_FIX,
            )  # fmt: skip


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Static contract check of every judged product; the sample scan when ports are published."""
    for domain, product in ctx.products():
        yield from _static(ctx, policy, domain, product)
        if ctx.runtime.snapshots:
            yield from _sampled(ctx, policy, domain, product)


POLICY = Policy(
    id="pii",
    severity=Severity.error,
    rationale="Personal data stays in its domain unless masked or published for an approved use.",
    check=check,
)
