"""The Marquez-compatible lineage API, driven by the real openlineage-python HTTP client."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from datetime import UTC, datetime

import pytest
import requests
from mesh_platform.lineage.log import read_events, verify
from mesh_platform.lineage.server import running
from mesh_platform.settings import MeshPaths
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport

from tests.support import REPO

PRODUCER = "https://example.com/mesh-tests"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@pytest.fixture
def ol_env(monkeypatch, tmp_path):
    """No OpenLineage configuration from the machine: no env vars, no openlineage.yml."""
    before = {k for k in os.environ if k.startswith("OPENLINEAGE")}
    for key in before:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(REPO))  # the mesh, named: cwd is outside it now
    monkeypatch.setenv("HOME", str(tmp_path))
    yield monkeypatch
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        del os.environ[key]  # the client aliases OPENLINEAGE_URL into more variables


def paths_at(tmp_path, name: str) -> MeshPaths:
    return MeshPaths(root=REPO, home=tmp_path / name)


def ds(namespace: str, name: str, fields=(), lineage=None) -> dict:
    facets: dict = {}
    if fields:
        facets["schema"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
            "fields": [{"name": f, "type": "VARCHAR"} for f in fields],
        }
    if lineage:
        facets["columnLineage"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
            "fields": {
                out: {
                    "inputFields": [
                        {"namespace": s_ns, "name": s_name, "field": s_field,
                         "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}
                        for s_ns, s_name, s_field in sources
                    ]
                }
                for out, sources in lineage.items()
            },
        }  # fmt: skip
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(job: str, inputs=(), outputs=(), state: str = "COMPLETE", ns="mesh.test") -> dict:
    """A minimal valid OpenLineage RunEvent as a dict."""
    return {
        "eventType": state,
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": ns, "name": job, "facets": {}},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def chain() -> list[dict]:
    """landing -> sales.orders -> port -> marketing.segments, with column lineage."""
    landing = ds("file", "/landing/orders.csv", ["id", "amount"])
    orders = ds("file", "/lake/sales/orders/v1", ["order_id", "total"],
                {"order_id": [("file", "/landing/orders.csv", "id")],
                 "total": [("file", "/landing/orders.csv", "amount")]})  # fmt: skip
    segments = ds("file", "/lake/marketing/segments/v1", ["spend"],
                  {"spend": [("file", "/lake/sales/orders/v1", "total")]})  # fmt: skip
    return [
        run_event("sales.orders", [landing], [orders], ns="mesh.sales"),
        run_event("marketing.segments", [orders], [segments], ns="mesh.marketing"),
    ]


@pytest.fixture
def api(tmp_path):
    """The API over a fresh lineage folder; yields (base url, paths)."""
    paths = paths_at(tmp_path, "backend")
    with running(paths) as url:
        yield url, paths


def stored(paths: MeshPaths) -> list[dict]:
    return [item.event for item in read_events(paths.lineage)]


def test_health(api):
    url, _ = api
    reply = requests.get(f"{url}/api/v1/health", timeout=5)
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


def test_real_client_posts_are_logged_once(api):
    url, paths = api
    client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=url)))
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="mesh.sales", name="sales.orders"),
        producer=PRODUCER,
        inputs=[InputDataset(namespace="file", name="/landing/orders.csv")],
        outputs=[OutputDataset(namespace="file", name="/lake/sales/orders/v1")],
    )
    client.emit(event)
    client.emit(event)  # the client repeats, e.g. after a timeout it could not see through
    logged = stored(paths)
    assert len(logged) == 1
    assert logged[0]["run"]["runId"] == event.run.runId
    assert logged[0]["outputs"][0]["name"] == "/lake/sales/orders/v1"
    assert verify(paths.lineage) == []  # appended through the hash chain


def test_client_configured_the_standard_way_and_gzip(api):
    url, paths = api
    config = {"transport": {"type": "http", "url": url, "compression": "gzip"}}
    client = OpenLineageClient(config=config)
    event = RunEvent(
        eventType=RunState.START,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="mesh.sales", name="sales.orders"),
        producer=PRODUCER,
    )
    client.emit(event)
    assert [e["run"]["runId"] for e in stored(paths)] == [event.run.runId]


def test_duplicate_raw_posts_are_stored_once_and_answer_201(api):
    url, paths = api
    event = run_event("sales.orders")
    replies = [requests.post(f"{url}/api/v1/lineage", json=event, timeout=5) for _ in range(3)]
    assert [r.status_code for r in replies] == [201, 201, 201]
    assert [r.json()["stored"] for r in replies] == [True, False, False]
    assert stored(paths) == [event]
    health = requests.get(f"{url}/api/v1/health", timeout=5).json()
    assert (health["received"], health["stored"]) == (3, 1)


def test_events_already_in_the_log_are_not_stored_again(tmp_path):
    paths = paths_at(tmp_path, "backend")
    event = run_event("sales.orders")
    with running(paths) as url:
        requests.post(f"{url}/api/v1/lineage", json=event, timeout=5)
    with running(paths) as url:  # a restart indexes the log it finds
        reply = requests.post(f"{url}/api/v1/lineage", json=event, timeout=5)
    assert reply.status_code == 201 and reply.json()["stored"] is False
    assert len(stored(paths)) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "a JSON object"),
        (json.dumps({"eventTime": "2024-01-01T00:00:00Z"}).encode(), "run.runId is required"),
        (json.dumps({**run_event("x"), "eventTime": "yesterday"}).encode(), "eventTime"),
        (json.dumps({**run_event("x"), "job": {"namespace": "n"}}).encode(), "job.name"),
        # mtime=0: the test id holds these bytes, and every xdist worker must collect the same ids.
        (gzip.compress(b"{broken", mtime=0), "not valid JSON"),
    ],
)
def test_malformed_events_are_refused_with_400(api, body, message):
    url, paths = api
    headers = {"Content-Type": "application/json"}
    if body.startswith(b"\x1f\x8b"):
        headers["Content-Encoding"] = "gzip"
    reply = requests.post(f"{url}/api/v1/lineage", data=body, headers=headers, timeout=5)
    assert reply.status_code == 400
    assert message in json.dumps(reply.json())
    assert stored(paths) == []


def get(url: str, path: str, **params) -> requests.Response:
    return requests.get(f"{url}/api/v1/{path}", params=params, timeout=30)


def node_id(kind: str, ds, field: str | None = None) -> str:
    return f"{kind}:{ds.namespace}:{ds.name}" + (f":{field}" if field else "")


def assert_marquez_graph(graph: list[dict], kinds: set[str]) -> dict[str, dict]:
    """Node keys, edge ends and in/out symmetry as Marquez's Lineage model has them."""
    by_id = {n["id"]: n for n in graph}
    assert len(by_id) == len(graph)
    for n in graph:
        assert list(n) == ["id", "type", "data", "inEdges", "outEdges"]
        assert n["type"] in kinds and n["id"].split(":")[0] in {"dataset", "job", "datasetField"}
        for edge in n["inEdges"] + n["outEdges"]:
            assert set(edge) == {"origin", "destination"}
    return by_id


@pytest.fixture
def mesh_api(mesh):
    """The API over the synthetic mesh's log (fixture of tests/lineage/conftest.py)."""
    with running(mesh.paths) as url:
        yield url, mesh


def test_lineage_graph_alternates_datasets_and_jobs(mesh_api):
    url, mesh = mesh_api
    port = mesh.ds["sales.port"]
    reply = get(url, "lineage", nodeId=node_id("dataset", port), depth=1)
    assert reply.status_code == 200
    nodes = assert_marquez_graph(reply.json()["graph"], {"DATASET", "JOB"})
    assert set(nodes) == {
        node_id("dataset", mesh.ds["sales.mart"]),
        node_id("dataset", port),
        node_id("dataset", mesh.ds["p.stg_s"]),
        "job:mesh.sales:sales.order_lines",
        "job:mesh.personalization:personalization.stg_sales__order_lines",
    }
    for n in nodes.values():  # every edge joins a dataset and a job, both ends listed
        for e in n["outEdges"]:
            assert e["origin"] == n["id"]
            assert e in nodes[e["destination"]]["inEdges"]
            assert {e["origin"][:3], e["destination"][:3]} == {"dat", "job"}
    data = nodes[node_id("dataset", port)]["data"]
    assert data["id"] == {"namespace": port.namespace, "name": port.name}
    assert data["type"] == "DB_TABLE" and data["namespace"] == port.namespace
    # the store keeps the latest schema facet seen: here the consumer's (two columns) read
    assert {"name": "amount", "type": "VARCHAR", "tags": [], "description": None} in data["fields"]
    job = nodes["job:mesh.sales:sales.order_lines"]["data"]
    assert job["id"] == {"namespace": "mesh.sales", "name": "sales.order_lines"}
    assert {"namespace": port.namespace, "name": port.name} in job["outputs"]
    assert job["latestRun"]["state"] == "COMPLETED"


def test_lineage_depth_and_job_nodes(mesh_api):
    url, mesh = mesh_api
    port = mesh.ds["sales.port"]
    deep = {n["id"] for n in get(url, "lineage", nodeId=node_id("dataset", port)).json()["graph"]}
    assert node_id("dataset", mesh.ds["sales.landing"]) in deep  # default depth: whole chain
    assert node_id("dataset", mesh.ds["p.port"]) in deep
    around_job = get(url, "lineage", nodeId="job:mesh.sales:sales.order_lines", depth=1)
    assert around_job.status_code == 200
    assert "job:mesh.sales:sales.order_lines" in {n["id"] for n in around_job.json()["graph"]}


def test_lineage_errors(mesh_api):
    url, _ = mesh_api
    assert get(url, "lineage", nodeId="dataset:file:/nowhere").status_code == 404
    assert get(url, "lineage", nodeId="job:mesh.x:unknown").status_code == 404
    bad = get(url, "lineage", nodeId="table:x")
    assert bad.status_code == 400 and "nodeId" in bad.json()["message"]
    assert get(url, "lineage", nodeId="dataset:file:/x", depth="deep").status_code == 400
    assert get(url, "column-lineage", nodeId="datasetField:file:/nowhere:x").status_code == 404


def test_column_lineage_of_one_field(mesh_api):
    url, mesh = mesh_api
    port = mesh.ds["p.port"]
    reply = get(url, "column-lineage", nodeId=node_id("datasetField", port, "monetary"))
    assert reply.status_code == 200
    nodes = assert_marquez_graph(reply.json()["graph"], {"DATASET_FIELD"})
    root = nodes[node_id("datasetField", port, "monetary")]
    assert set(root["data"]) == {"namespace", "dataset", "field", "fieldType",
                                 "transformationDescription", "transformationType",
                                 "inputFields"}  # fmt: skip
    mart = mesh.ds["p.mart"]
    assert root["data"]["inputFields"] == [
        {"namespace": mart.namespace, "dataset": mart.name, "field": "monetary",
         "transformationDescription": None, "transformationType": "DIRECT/IDENTITY"}
    ]  # fmt: skip
    # Marquez's column graph: a node is the origin of its in-edges, pointing at its inputs
    assert root["inEdges"] == [
        {"origin": root["id"], "destination": node_id("datasetField", mart, "monetary")}
    ]
    landing = node_id("datasetField", mesh.ds["sales.landing"], "amount")
    assert landing in nodes and nodes[landing]["data"]["inputFields"] == []  # upstream to source
    assert node_id("datasetField", port, "birth_year") not in nodes


def test_column_lineage_of_a_dataset_and_downstream(mesh_api):
    url, mesh = mesh_api
    port = mesh.ds["sales.port"]
    whole = get(url, "column-lineage", nodeId=node_id("dataset", port)).json()["graph"]
    fields = {n["data"]["field"] for n in whole if n["data"]["dataset"] == port.name}
    assert fields == {"order_id", "customer_id", "product_id", "amount"}
    field = node_id("datasetField", port, "amount")
    down = get(url, "column-lineage", nodeId=field, depth=1, withDownstream="true").json()
    ids = {n["id"] for n in down["graph"]}
    assert node_id("datasetField", mesh.ds["p.stg_s"], "amount") in ids
    assert node_id("datasetField", mesh.ds["sales.mart"], "amount") in ids
    assert node_id("datasetField", mesh.ds["sales.stg"], "amount") not in ids  # depth 1


def test_posted_events_are_queryable(api):
    url, _ = api
    client = OpenLineageClient(config={"transport": {"type": "http", "url": url}})
    for event in chain():
        client.transport.emit(event)  # dicts straight through the real HTTP transport
    segments = "dataset:file:/lake/marketing/segments/v1"
    graph = get(url, "lineage", nodeId=segments).json()["graph"]
    assert {n["id"] for n in graph} == {
        "dataset:file:/landing/orders.csv", "dataset:file:/lake/sales/orders/v1", segments,
        "job:mesh.sales:sales.orders", "job:mesh.marketing:marketing.segments",
    }  # fmt: skip
    spend = get(url, "column-lineage", nodeId="datasetField:file:/lake/marketing/segments/v1:spend")
    ids = {n["id"] for n in spend.json()["graph"]}
    assert "datasetField:file:/landing/orders.csv:amount" in ids
