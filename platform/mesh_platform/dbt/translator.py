"""Maps dbt resources to mesh asset keys, owners, tags and kinds; port sources to producer keys."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from mesh_platform.catalog.metadata import CODE_REFERENCES_KEY, port_attributes
from mesh_platform.contracts.checks import load_port_contract
from mesh_platform.contracts.odcs import Contract
from mesh_platform.dbt.sources import LANDING_META, LANDING_SOURCE, PORT_META, VERSION_META
from mesh_platform.dbt.sources import port_meta as _source_meta
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import Domain, load_domain
from mesh_platform.descriptors.models import OutputPort, ProductSpec
from mesh_platform.ingest.assets import raw_key

PORT_META_KEY = PORT_META  # source meta: "<domain>/<product>" of the producer's output port
PORT_VERSION_META_KEY = VERSION_META  # source meta: the major read (default 1)
RAW_SOURCE = LANDING_SOURCE  # tables loaded by the ingestion boundary (raw.<entity>)


def port_models(domain: Domain) -> dict[str, tuple[ProductSpec, OutputPort]]:
    """Dbt model name -> (product, output port) for every port the domain publishes."""
    return {
        port.model: (product, port)
        for product in domain.products.values()
        for port in product.output_ports
        if port.producer == "dbt" and port.model
    }


def source_port(props: Mapping[str, Any]) -> str | None:
    """The 'domain/product' port a dbt source reads, if it is a port and not a landing file."""
    return _source_meta(props).get(PORT_META_KEY)


def source_port_version(props: Mapping[str, Any]) -> int:
    """The major of the port a dbt source reads (meta mesh_port_version, default 1)."""
    return int(_source_meta(props).get(PORT_VERSION_META_KEY, 1))


class MeshTranslator(DagsterDbtTranslator):
    """Asset keys are [domain, name]; a port source maps to its producer's key across locations."""

    def __init__(self, domain: Domain, contracts_dir: Path | None = None):
        """Translate for ``domain``; with ``contracts_dir`` ports show their contracts' facts."""
        super().__init__(DagsterDbtTranslatorSettings(enable_code_references=True))
        self.domain = domain
        self.ports = port_models(domain)
        self.contracts: dict[str, Contract] = {}
        if contracts_dir is not None:
            for model, (_, port) in self.ports.items():
                found = load_port_contract(contracts_dir, domain.name, port.name, port.version)
                if found:
                    self.contracts[model] = found
        self._producers: dict[str, dict[tuple[str, int], OutputPort]] = {}

    def _producer_ports(self, producer: str) -> dict[tuple[str, int], OutputPort]:
        """(port, major) -> output port of a producing domain, read from its descriptors."""
        if producer not in self._producers:
            path = self.domain.path.parent / producer
            try:
                found = self.domain if producer == self.domain.name else load_domain(path, [])
            except SpecErrors:  # not beside this domain, or broken: mesh validate reports it
                found = None
            products = found.products.values() if found else []
            self._producers[producer] = {
                (p.name, p.version): p for prod in products for p in prod.output_ports
            }
        return self._producers[producer]

    def port_source_key(self, port: str, version: int = 1) -> dg.AssetKey:
        """The producer's asset for one major of a port: the dbt model building that major.

        Majors published side by side are built by different models, so the port name alone
        does not name the asset; without the producer's descriptors it falls back to the name.
        """
        producer, name = port.split("/")
        found = self._producer_ports(producer).get((name, version))
        # A dbt port is its model's asset; a model's predictions port is named after the port.
        return dg.AssetKey([producer, found.model if found and found.model else name])

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """[producer domain, product] for port sources, [domain, raw_<table>] for ingested."""
        if dbt_resource_props["resource_type"] == "source":
            port = source_port(dbt_resource_props)
            if port:
                return self.port_source_key(port, source_port_version(dbt_resource_props))
            landing = _source_meta(dbt_resource_props).get(LANDING_META)
            if landing:
                return raw_key(self.domain.name, landing)
            if dbt_resource_props["source_name"] == RAW_SOURCE:
                return raw_key(self.domain.name, dbt_resource_props["name"])
            raise ValueError(
                f"dbt source {dbt_resource_props['source_name']}.{dbt_resource_props['name']} in "
                f"{self.domain.name}: declare what it reads in input_ports (kind: landing, with "
                f"dbt_source for a source not named '{RAW_SOURCE}'; or kind: port)"
            )
        return dg.AssetKey([self.domain.name, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The domain is the group."""
        return self.domain.name

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        """Product owners for port models, domain owners otherwise."""
        found = self.ports.get(dbt_resource_props.get("name", ""))
        return self.domain.owners_of(found[0]) if found else list(self.domain.spec.owners)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The product descriptor's description for ports, dbt's otherwise."""
        found = self.ports.get(dbt_resource_props.get("name", ""))
        return found[0].description if found else super().get_description(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        """Domain and layer; ports get theirs (visibility, tier, classification) in the spec."""
        name = dbt_resource_props.get("name", "")
        tags = {"mesh/domain": self.domain.name,
                "mesh/layer": "staging" if name.startswith("stg_") else "mart"}  # fmt: skip
        return {**super().get_tags(dbt_resource_props), **tags}

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """Dbt's spec plus, for output ports, what a consumer needs (catalog.metadata)."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if project is not None and CODE_REFERENCES_KEY in spec.metadata:
            refs = _in_checkout(spec.metadata[CODE_REFERENCES_KEY], project, self.domain.dbt_dir)
            spec = spec.replace_attributes(metadata={**spec.metadata, CODE_REFERENCES_KEY: refs})
        model = manifest.get("nodes", {}).get(unique_id, {}).get("name", "")
        found = self.ports.get(model)
        if not found:
            return spec
        product, port = found
        attrs = port_attributes(self.domain, product, port, self.contracts.get(model),
                                spec.metadata.get(CODE_REFERENCES_KEY))  # fmt: skip
        # The contract's schema replaces dbt's: it is what consumers are promised.
        metadata = {**spec.metadata, **attrs.metadata}
        return spec.replace_attributes(
            metadata=metadata, tags={**spec.tags, **attrs.tags},
            kinds={*spec.kinds, *attrs.kinds}, freshness_policy=attrs.freshness_policy,
        )  # fmt: skip


def _in_checkout(refs: Any, project: DbtProject, dbt_dir: Path) -> Any:
    """Code references to the team's own files, not their copies in the prepared project."""
    prepared = str(Path(project.project_dir).resolve())
    out = []
    for ref in refs.code_references:
        path = getattr(ref, "file_path", "")
        own = dbt_dir / Path(path).relative_to(prepared) if path.startswith(prepared) else None
        if own is not None and own.exists():  # a generated file has no original: keep the copy
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dg.BetaWarning)
                ref = dg.LocalFileCodeReference(file_path=str(own), line_number=ref.line_number,
                                                label=ref.label)  # fmt: skip
        out.append(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.CodeReferencesMetadataValue(code_references=out)
