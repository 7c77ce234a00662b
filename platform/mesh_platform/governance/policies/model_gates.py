"""Policy: every ML model declares gates and drift monitoring; its champion meets the gates."""

from __future__ import annotations

from collections.abc import Iterator

from mesh_platform.governance.context import MeshContext
from mesh_platform.governance.model import Finding, Policy, Severity
from mesh_platform.ml.gates import check_gates, parse_gates

FIX_GATES = "declare model.gates as {metric: '>= value'}, the primary metric included"


def check(ctx: MeshContext, policy: Policy) -> Iterator[Finding]:
    """Spec: gates parse, drift is declared. Runtime: the registry's champion meets the gates."""
    for error in ctx.spec_errors:  # the loader refuses empty gates or an ungated primary metric
        where = ctx.locate(error.file)
        if where and error.field.startswith("model") and ctx.judged(where[0]):
            yield policy.finding(
                where[0], where[1], ctx.rel(error.file), error.field, error.message, FIX_GATES
            )
    for domain, product in ctx.products():
        if product.model is None:
            continue
        file = ctx.product_file(domain, product.name)
        if "drift" not in product.model.model_fields_set:
            yield policy.finding(
                domain.name,
                product.name,
                file,
                "model.drift",
                "no drift monitoring declared: the defaults would apply unseen",
                "declare model.drift: {psi: 0.2, ks_pvalue: 0.01} (thresholds the team has chosen)",
            )
        try:
            parse_gates(product.model.gates)
        except ValueError as exc:
            yield policy.finding(
                domain.name, product.name, file, "model.gates", str(exc), FIX_GATES
            )
            continue
        yield from _champion(ctx, policy, domain.name, product.name, file, product.model.gates)


def _champion(
    ctx: MeshContext, policy: Policy, domain: str, product: str, file: str, gates: dict[str, str]
) -> Iterator[Finding]:
    from mesh_platform.ml import registry

    if product not in registry.list_models(ctx.runtime.registry):
        yield policy.finding(
            domain,
            product,
            file,
            "model",
            "no run recorded yet: no model registered in MESH_HOME",
            "nothing to do before the first run",
            Severity.info,
        )
        return
    try:
        champ = registry.champion(ctx.runtime.registry, product)
    except registry.RegistryError as exc:
        champ, problem = None, str(exc)
    else:
        problem = "no champion: no version has passed its gates"
    if champ is None:
        yield policy.finding(
            domain,
            product,
            file,
            "model",
            problem,
            "train a model that meets the gates (mesh up / the model asset)",
        )
        return
    failed = check_gates(champ.gate_metrics, gates)
    if failed:
        yield policy.finding(
            domain,
            product,
            file,
            "model.gates",
            f"champion v{champ.version} fails its gates: {'; '.join(failed)}",
            "retrain, or roll back to a version that meets the gates",
        )


POLICY = Policy(
    id="model-gates",
    severity=Severity.error,
    rationale="A model serves decisions only while it meets agreed gates and is watched for drift.",
    check=check,
    runtime=True,
)
