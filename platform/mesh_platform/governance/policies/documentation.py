"""Policy: every domain, product and public column is documented (no blanks, no TODO markers)."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.contracts.odcs import Contract
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import OutputPort, ProductSpec
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import is_placeholder_text


def _why(text: str | None) -> str:
    return "still a TODO placeholder" if (text or "").strip() else "missing"


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Domain and product descriptions, then each public port's contract (else dbt model) docs."""
    for domain in ctx.selected():
        if is_placeholder_text(domain.spec.description):
            yield policy.finding(
                domain.name,
                None,
                ctx.domain_file(domain),
                "description",
                f"domain description is {_why(domain.spec.description)}",
                "say what the domain owns and for whom",
            )
        for product in domain.products.values():
            if is_placeholder_text(product.description):
                yield policy.finding(
                    domain.name,
                    product.name,
                    ctx.product_file(domain, product.name),
                    "description",
                    f"product description is {_why(product.description)}",
                    "say what the product holds, its grain and who it is for",
                )
            for port in product.output_ports:
                if port.visibility == "public":
                    contract = ctx.port_contract(domain.name, port.name, port.version)
                    if contract is None:  # a missing contract is port-contract's finding
                        yield from _dbt_docs(ctx, policy, domain, product, port)
                    else:  # the contract documents the columns; dbt's are derived from it
                        yield from _contract_docs(ctx, policy, domain, product, contract)


def _dbt_docs(
    ctx: MeshContext, policy: Policy, domain: Domain, product: ProductSpec, port: OutputPort
) -> Iterator[Finding]:
    if port.producer != "dbt" or not port.model:
        return  # a model's predictions are documented by their contract alone
    doc = ctx.dbt_models.get(domain.name, {}).get(port.model)
    if doc is None:
        yield policy.finding(
            domain.name,
            product.name,
            ctx.product_file(domain, product.name),
            "output_ports",
            f"dbt model '{port.model}' has no .yml documenting it",
            f"add models/.../{port.model}.yml with a description and columns",
        )
        return
    file, at = ctx.rel(doc.file), f"models[{doc.index}]"
    if is_placeholder_text(doc.description):
        yield policy.finding(
            domain.name,
            product.name,
            file,
            f"{at}.description",
            f"dbt model '{doc.name}' description is {_why(doc.description)}",
            "describe the model: one row per what, from which inputs",
        )
    for j, (column, text) in enumerate(doc.columns.items()):
        if is_placeholder_text(text):
            yield policy.finding(
                domain.name,
                product.name,
                file,
                f"{at}.columns[{j}].description",
                f"public column '{doc.name}.{column}' description is {_why(text)}",
                "describe the column: meaning, unit, how it is derived",
            )


def _contract_docs(
    ctx: MeshContext, policy: Policy, domain: Domain, product: ProductSpec, contract: Contract
) -> Iterator[Finding]:
    file = ctx.rel(contract.path)
    purpose = contract.model.description.purpose if contract.model.description else None
    if is_placeholder_text(purpose):
        yield policy.finding(
            domain.name,
            product.name,
            file,
            "description.purpose",
            f"contract purpose is {_why(purpose)}",
            "say what consumers can use the port for",
            Severity.error,
        )
    for i, prop in enumerate(contract.columns):
        if is_placeholder_text(prop.description):
            yield policy.finding(
                domain.name,
                product.name,
                file,
                f"schema[0].properties[{i}].description",
                f"public column '{prop.name}' description is {_why(prop.description)}",
                "describe the column in the contract (the dbt model's .yml takes it from there)",
            )


POLICY = Policy(
    id="documentation",
    severity=Severity.error,
    rationale="A product nobody can understand is not a product: describe it and its columns.",
    check=check,
)
