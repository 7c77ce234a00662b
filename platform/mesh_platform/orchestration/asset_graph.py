"""The mesh's expected asset graph, read from every domain's Dagster Definitions."""

from __future__ import annotations

import dagster as dg

from mesh_platform.lineage.completeness import AssetGraph, CrossEdge
from mesh_platform.orchestration.factory import build_domain_definitions
from mesh_platform.settings import MeshPaths


def mesh_asset_graph(paths: MeshPaths) -> AssetGraph:
    """The asset graph of every domain under domains/, from its Dagster Definitions (slow)."""
    graph = AssetGraph()
    for domain_dir in sorted(d for d in paths.domains.iterdir() if (d / "domain.yaml").exists()):
        assets = build_domain_definitions(domain_dir).resolve_asset_graph()
        keys = graph.assets.setdefault(domain_dir.name, [])
        for key in sorted(assets.materializable_asset_keys):
            if key.path[0] != domain_dir.name:
                continue
            keys.append("/".join(key.path))
            for parent in assets.get(key).parent_entity_keys:
                if isinstance(parent, dg.AssetKey) and parent.path[0] != domain_dir.name:
                    graph.cross_edges.append(CrossEdge("/".join(parent.path), keys[-1]))
    return graph
