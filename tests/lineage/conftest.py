"""Synthetic OpenLineage logs shaped like the platform's: per-asset runs under Dagster runs."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mesh_platform.lineage.log import append_events
from mesh_platform.lineage.naming import (
    DatasetName,
    job_name,
    job_namespace,
    landing_dataset,
    port_dataset,
    table_dataset,
)
from mesh_platform.settings import MeshPaths

PRODUCER = "https://example.com/mesh-tests"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_clock = itertools.count()

Lineage = dict[str, list[tuple[DatasetName, str]]]  # out column -> [(input dataset, column)]


def dataset(ds: DatasetName, columns: list[str], lineage: Lineage | None = None, version=None):
    """An input/output dataset with schema, column lineage and version facets."""
    facets: dict = {
        "schema": {
            "_producer": PRODUCER,
            "_schemaURL": "x",
            "fields": [{"name": c, "type": "VARCHAR"} for c in columns],
        }
    }
    if lineage:
        facets["columnLineage"] = {"_producer": PRODUCER, "_schemaURL": "x", "fields": {
            out: {"inputFields": [
                {"namespace": s.namespace, "name": s.name, "field": f,
                 "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}
                for s, f in sources]}
            for out, sources in lineage.items()}}  # fmt: skip
    if version:
        facets["datasetVersion"] = {"_producer": PRODUCER, "_schemaURL": "x",
                                    "datasetVersion": version}  # fmt: skip
    return {"namespace": ds.namespace, "name": ds.name, "facets": facets}


def asset_run(domain: str, asset: str, parent: str, inputs, outputs, status="COMPLETE"):
    """START + COMPLETE/FAIL of one asset execution inside Dagster run ``parent``."""
    run_id = str(uuid.uuid4())
    facets = {"parent": {"_producer": PRODUCER, "_schemaURL": "x",
                         "job": {"namespace": job_namespace(domain), "name": f"{domain}_job"},
                         "run": {"runId": parent}}}  # fmt: skip
    events = []
    for kind in ("START", status):
        tick = next(_clock)
        events.append({
            "eventType": kind, "eventTime": f"2026-11-21T{tick // 3600 % 24:02d}:"
            f"{tick // 60 % 60:02d}:{tick % 60:02d}+00:00", "producer": PRODUCER,
            "schemaURL": SCHEMA, "run": {"runId": run_id, "facets": facets},
            "job": {"namespace": job_namespace(domain), "name": job_name([domain, asset])},
            "inputs": inputs,
            "outputs": [] if kind == "START" else outputs,
        })  # fmt: skip
    return events


def same(ds: DatasetName, cols: list[str]) -> Lineage:
    """Identity column lineage from one dataset."""
    return {c: [(ds, c)] for c in cols}


@dataclass
class Mesh:
    """The names of the synthetic mesh's datasets and the events that built it."""

    paths: MeshPaths
    events: list[dict] = field(default_factory=list)
    ds: dict[str, DatasetName] = field(default_factory=dict)

    def source_chain(self, domain: str, entity: str, port: str, cols: list[str],
                     port_cols: dict[str, str], parent: str, version="snap-1") -> None:  # fmt: skip
        """landing -> raw.<entity> -> main.stg_<entity> -> main.<port> + its port dataset."""
        p = self.paths
        land = landing_dataset(p, f"{domain}/{entity}*.csv")
        raw = table_dataset(p, domain, "raw", entity)
        stg = table_dataset(p, domain, "main", f"stg_{entity}")
        mart = table_dataset(p, domain, "main", port)
        out = port_dataset(p, domain, port)
        self.ds |= {f"{domain}.landing": land, f"{domain}.raw": raw, f"{domain}.stg": stg,
                    f"{domain}.mart": mart, f"{domain}.port": out}  # fmt: skip
        pc = list(port_cols)
        self.events += asset_run(domain, f"raw_{entity}", parent, [dataset(land, cols)],
                                 [dataset(raw, cols, same(land, cols))])  # fmt: skip
        self.events += asset_run(domain, f"stg_{entity}", parent, [dataset(raw, cols)],
                                 [dataset(stg, cols, same(raw, cols))])  # fmt: skip
        lineage = {c: [(stg, src)] for c, src in port_cols.items()}
        self.events += asset_run(domain, port, parent, [dataset(stg, cols)], [
            dataset(mart, pc, lineage), dataset(out, pc, same(mart, pc), version)])  # fmt: skip


def build_mesh(paths: MeshPaths) -> Mesh:
    """customers and sales publish ports; personalization stages both and publishes features."""
    mesh = Mesh(paths)
    customers = ["customer_id", "first_name", "email", "birth_date", "city"]
    profile = {"customer_id": "customer_id", "email_sha256": "email",
               "birth_year": "birth_date", "city": "city"}  # fmt: skip
    mesh.source_chain(
        "customers", "crm_customers", "customer_profiles", customers, profile, "dr-c1"
    )
    lines = ["order_id", "customer_id", "product_id", "amount"]
    mesh.source_chain("sales", "erp_order_lines", "order_lines", lines,
                      {c: c for c in lines}, "dr-s1")  # fmt: skip
    p, d = paths, mesh.ds
    stg_c = table_dataset(p, "personalization", "main", "stg_customers__customer_profiles")
    stg_s = table_dataset(p, "personalization", "main", "stg_sales__order_lines")
    feats = table_dataset(p, "personalization", "main", "customer_features")
    fport = port_dataset(p, "personalization", "customer_features")
    d |= {"p.stg_c": stg_c, "p.stg_s": stg_s, "p.mart": feats, "p.port": fport}
    pcols, scols = list(profile), ["customer_id", "amount"]
    mesh.events += asset_run("personalization", "stg_customers__customer_profiles", "dr-p1",
                             [dataset(d["customers.port"], pcols)],
                             [dataset(stg_c, pcols, same(d["customers.port"], pcols))])  # fmt: skip
    mesh.events += asset_run("personalization", "stg_sales__order_lines", "dr-p1",
                             [dataset(d["sales.port"], scols)],
                             [dataset(stg_s, scols, same(d["sales.port"], scols))])  # fmt: skip
    fcols = {"customer_id": [(stg_c, "customer_id"), (stg_s, "customer_id")],
             "monetary": [(stg_s, "amount")], "birth_year": [(stg_c, "birth_year")],
             "email_sha256": [(stg_c, "email_sha256")]}  # fmt: skip
    mesh.events += asset_run(
        "personalization",
        "customer_features",
        "dr-p1",
        [dataset(stg_c, pcols), dataset(stg_s, scols)],
        [
            dataset(feats, list(fcols), fcols),
            dataset(fport, list(fcols), same(feats, list(fcols)), "f-1"),
        ],
    )
    return mesh


@pytest.fixture
def paths(mesh_home: Path, tmp_path: Path) -> MeshPaths:
    """Paths of a private mesh whose repo side (contracts, domains) is under tmp_path."""
    return MeshPaths(root=tmp_path / "repo", home=mesh_home)


@pytest.fixture
def mesh(paths: MeshPaths) -> Mesh:
    """The synthetic mesh, logged."""
    built = build_mesh(paths)
    append_events(paths.lineage, built.events)
    return built
