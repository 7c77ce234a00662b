"""Dagster metadata of an output port asset: schema, tags, contract, freshness, code references."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from mesh_platform.catalog.freshness import freshness_hours, freshness_sla
from mesh_platform.contracts.odcs import CLASSIFICATIONS, Contract
from mesh_platform.descriptors.loader import Domain
from mesh_platform.descriptors.models import OutputPort, ProductSpec
from mesh_platform.ports import PortRef

CODE_REFERENCES_KEY = "dagster/code_references"
COLUMN_SCHEMA_KEY = "dagster/column_schema"
# Set MESH_GIT_URL (a repository's web address) to turn file links into links to the hosted file.
GIT_URL_ENV, GIT_BRANCH_ENV = "MESH_GIT_URL", "MESH_GIT_BRANCH"


@dataclass(frozen=True)
class PortAttributes:
    """What the platform adds to a port's AssetSpec (dbt) or @asset (ML)."""

    tags: dict[str, str]
    metadata: dict[str, Any]
    kinds: set[str] = field(default_factory=set)
    freshness_policy: dg.FreshnessPolicy | None = None


def highest_classification(contract: Contract) -> str | None:
    """The most restricted column classification of the contract (CLASSIFICATIONS' order)."""
    found = [c.classification for c in contract.columns if c.classification in CLASSIFICATIONS]
    return max(found, key=CLASSIFICATIONS.index) if found else None


def column_schema(contract: Contract) -> dg.TableSchema:
    """The contract's columns: type, description, nullability, keys and classification."""
    single_key = len(contract.primary_key) == 1
    columns = []
    for col in contract.columns:
        other = ["primary key"] if col.primaryKey else []
        columns.append(
            dg.TableColumn(
                name=col.name or "",
                type=col.physicalType or col.logicalType or "?",
                description=col.description,
                constraints=dg.TableColumnConstraints(
                    nullable=not col.required,
                    unique=bool(col.unique or (col.primaryKey and single_key)),
                    other=other,
                ),
                tags={"classification": col.classification} if col.classification else None,
            )
        )
    return dg.TableSchema(columns=columns)


def freshness_policy(product: ProductSpec, contract: Contract | None) -> dg.FreshnessPolicy | None:
    """Dagster's time-window policy, only for a port judged by its last publish.

    The policy knows nothing but materialisation times; for an SLA with an ``element`` it would
    disagree with the verdict, so such a port gets none and the platform's ``freshness`` asset
    check (``catalog.freshness_check``, the one verdict) speaks for it instead.
    """
    sla = freshness_sla(product, contract)
    if sla.element:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=sla.hours))


def port_tags(product: ProductSpec, port: OutputPort, contract: Contract | None) -> dict[str, str]:
    """Visibility, tier, product, highest classification, and the product's own tags as labels."""
    tags = {t: "" for t in product.tags}  # Dagster shows a tag with an empty value as a label
    tags |= {"mesh/port": port.visibility, "mesh/tier": product.tier, "mesh/product": product.name}
    highest = highest_classification(contract) if contract else None
    if highest:
        tags["mesh/classification"] = highest
    return tags


def descriptor_path(domain: Domain, product: ProductSpec) -> Path:
    """The product descriptor file (domains/<domain>/products/<product>.yaml)."""
    return domain.path / "products" / f"{product.name}.yaml"


def git_url(path: Path, root: Path) -> str | None:
    """The file's web address when MESH_GIT_URL names the hosted repository, else None."""
    base = os.environ.get(GIT_URL_ENV)
    if not base or not path.is_relative_to(root):
        return None
    branch = os.environ.get(GIT_BRANCH_ENV, "main")
    return f"{base.rstrip('/')}/blob/{branch}/{path.relative_to(root).as_posix()}"


def contract_metadata(contract: Contract, root: Path) -> dict[str, Any]:
    """Contract id, version and a link to its file (its web address when the repo is hosted)."""
    meta: dict[str, Any] = {
        "mesh/contract_id": dg.MetadataValue.text(contract.id),
        "mesh/contract_version": dg.MetadataValue.text(contract.version),
        "mesh/contract": dg.MetadataValue.path(str(contract.path.resolve())),
    }
    url = git_url(contract.path.resolve(), root)
    if url:
        meta["mesh/contract_url"] = dg.MetadataValue.url(url)
    return meta


def _file_ref(path: str, label: str, line: int | None = None) -> dg.LocalFileCodeReference:
    with warnings.catch_warnings():  # beta API that dagster-dbt itself uses: no need to warn
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.LocalFileCodeReference(file_path=path, line_number=line, label=label)


def code_references(
    existing: dg.CodeReferencesMetadataValue | None, files: dict[str, Path]
) -> dg.CodeReferencesMetadataValue:
    """Existing references (dbt's SQL, unlabelled) plus labelled files (descriptor, contract)."""
    refs = [
        _file_ref(r.file_path, r.label or "dbt model SQL", r.line_number)
        if isinstance(r, dg.LocalFileCodeReference) else r
        for r in (existing.code_references if existing else [])
    ]  # fmt: skip
    refs += [_file_ref(str(p.resolve()), label) for label, p in files.items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.CodeReferencesMetadataValue(code_references=refs)


def port_attributes(
    domain: Domain,
    product: ProductSpec,
    port: OutputPort,
    contract: Contract | None,
    existing: dg.CodeReferencesMetadataValue | None = None,
    code_files: dict[str, Path] | None = None,
) -> PortAttributes:
    """Everything a consumer needs to see of one port, in the metadata keys the UI understands.

    Args:
        domain: the producing domain.
        product: the product publishing the port.
        port: the output port.
        contract: its contract (None for an uncontracted private port).
        existing: code references the asset already has (dagster-dbt's SQL model).
        code_files: further files to link, by label (an ML port's feature SQL).

    Returns:
        Tags, metadata, kinds and the freshness policy to put on the port's asset.

    """
    root = domain.path.parent.parent
    files = {**(code_files or {}), "product descriptor": descriptor_path(domain, product)}
    ref = PortRef(domain.name, port.name, port.version)
    metadata: dict[str, Any] = {
        "mesh/port_table": dg.MetadataValue.text(ref.table),  # its Iceberg table
        "mesh/port_location": dg.MetadataValue.text(f"lake/{ref.relative_dir}"),
        "mesh/port_version": dg.MetadataValue.int(port.version),
        "mesh/freshness_hours": dg.MetadataValue.float(freshness_hours(product, contract)),
        "mesh/freshness_basis": dg.MetadataValue.text(freshness_sla(product, contract).basis),
    }
    if port.deprecation_date:  # an older major, published beside the newest until then
        metadata["mesh/deprecation_date"] = dg.MetadataValue.text(str(port.deprecation_date))
    kinds = {"parquet"}
    if contract:
        metadata |= contract_metadata(contract, root)
        metadata[COLUMN_SCHEMA_KEY] = column_schema(contract)
        files["data contract (ODCS)"] = contract.path
        kinds.add("pandera")  # the contract's blocking check
    metadata[CODE_REFERENCES_KEY] = code_references(existing, files)
    return PortAttributes(
        tags=port_tags(product, port, contract), metadata=metadata, kinds=kinds,
        freshness_policy=freshness_policy(product, contract),
    )  # fmt: skip
