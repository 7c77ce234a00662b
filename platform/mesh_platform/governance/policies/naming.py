"""Policy: names follow the mesh's conventions (snake_case, dbt layers, contract ids and files)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mesh_platform.descriptors.loader import Domain
from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.governance.policies._util import SNAKE

STAGING = re.compile(r"^stg_[a-z][a-z0-9]*(_[a-z0-9]+)*__[a-z][a-z0-9]*(_[a-z0-9]+)*$")
LAYER_PREFIXES = ("stg_", "int_", "base_", "tmp_")  # marts (ports) are named for consumers
FIX_SNAKE = "rename to snake_case: lower-case words joined by single underscores"


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Descriptor names, contract column names and dbt model files of each judged domain."""
    for domain in ctx.selected():
        yield from _descriptors(ctx, policy, domain)
        yield from _dbt_files(ctx, policy, domain)
    for contract in ctx.contracts.values():
        if not ctx.judged(contract.domain):
            continue
        product = ctx.port_products.get((contract.domain, contract.product))
        for i, prop in enumerate(contract.columns):
            if not SNAKE.match(prop.name or ""):
                yield policy.finding(
                    contract.domain,
                    product,
                    ctx.rel(contract.path),
                    f"schema[0].properties[{i}].name",
                    f"column '{prop.name}' is not snake_case",
                    FIX_SNAKE,
                )


def _descriptors(ctx: MeshContext, policy: Policy, domain: Domain) -> Iterator[Finding]:
    if not SNAKE.match(domain.name):
        yield policy.finding(
            domain.name,
            None,
            ctx.domain_file(domain),
            "name",
            f"domain '{domain.name}' is not snake_case",
            FIX_SNAKE,
        )
    for product in domain.products.values():
        file = ctx.product_file(domain, product.name)
        if not SNAKE.match(product.name):
            yield policy.finding(
                domain.name,
                product.name,
                file,
                "name",
                f"product '{product.name}' is not snake_case",
                FIX_SNAKE,
            )
        for i, port in enumerate(product.output_ports):
            if not SNAKE.match(port.name):
                yield policy.finding(
                    domain.name,
                    product.name,
                    file,
                    f"output_ports[{i}].name",
                    f"port '{port.name}' is not snake_case",
                    FIX_SNAKE,
                )
            if port.model and port.model.startswith(LAYER_PREFIXES):
                yield policy.finding(
                    domain.name,
                    product.name,
                    file,
                    f"output_ports[{i}].model",
                    f"port model '{port.model}' carries a layer prefix; "
                    "a published mart is named for its consumers",
                    "build the port in an unprefixed mart model (marts/)",
                )


def _dbt_files(ctx: MeshContext, policy: Policy, domain: Domain) -> Iterator[Finding]:
    models = domain.dbt_dir / "models"
    if not models.is_dir():
        return
    for sql in sorted(models.rglob("*.sql")):
        name, layer = sql.stem, sql.relative_to(models).parts[0]
        problem = _model_problem(name, layer)
        if problem:
            yield policy.finding(domain.name, None, ctx.rel(sql), "", problem[0], problem[1])
    sql_names = {p.stem for p in models.rglob("*.sql")}
    for yml in sorted(models.rglob("*.yml")):
        if not yml.name.startswith("_") and yml.stem not in sql_names:
            yield policy.finding(
                domain.name,
                None,
                ctx.rel(yml),
                "",
                f"'{yml.name}' documents no model of that name",
                "name a model's .yml after its .sql; shared files start with "
                "'_' (_<source>__sources.yml)",
                Severity.warning,
            )


def _model_problem(name: str, layer: str) -> tuple[str, str] | None:
    """(message, fix) when a dbt model's name breaks the layer convention."""
    if layer == "staging" and not STAGING.match(name):
        return (
            f"staging model '{name}' is not stg_<source>__<entity>",
            "rename it stg_<source>__<entity>, e.g. stg_crm__accounts",
        )
    if layer != "staging" and name.startswith("stg_"):
        return (f"staging model '{name}' lives in {layer}/", "move it to models/staging/")
    if layer == "marts" and (name.startswith(LAYER_PREFIXES) or not SNAKE.match(name)):
        return (
            f"mart '{name}' must be an unprefixed snake_case name",
            "name the mart for what it holds, e.g. monthly_invoices",
        )
    if not SNAKE.match(name.replace("__", "_")):
        return f"model '{name}' is not snake_case", FIX_SNAKE
    return None


POLICY = Policy(
    id="naming",
    severity=Severity.warning,
    rationale="Shared naming lets anyone find a product, its model and its contract by name.",
    check=check,
)
