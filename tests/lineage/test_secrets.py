"""No secret leaves through logs, lineage events or access logs: catalog password, API tokens."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import requests
from mesh_platform.access.redact import masked_uri
from mesh_platform.descriptors.models import OutputPort
from mesh_platform.lineage.emit import DagsterRun, asset_events, emit, now
from mesh_platform.lineage.ml_events import training_events
from mesh_platform.lineage.naming import table_dataset
from mesh_platform.lineage.publication import publication

from tests.lineage.test_delivery import SERVE, http_backend
from tests.lineage.test_server import (  # noqa: F401 - ol_env is a fixture
    ol_env,
    paths_at,
    run_event,
    stored,
)
from tests.support import env_with, free_port, wait_for

pytestmark = pytest.mark.usefixtures("ol_env")
PASSWORD = "pw-Secret-7731"
TOKEN = "lineage-secret-token-0123456789"
CATALOG_URI = f"postgresql+psycopg2://u:{PASSWORD}@h/db"
MLFLOW_URI = f"postgresql://ml:{PASSWORD}@mlflow-db/mlflow?sslpassword={PASSWORD}"


@contextmanager
def lineage_api(home, port: int, log):
    """`mesh lineage serve` as an operator runs it: its own process, uvicorn's access log on."""
    cmd = [sys.executable, "-c", SERVE, "serve", "--port", str(port)]
    env = env_with(MESH_HOME=str(home), MESH_LINEAGE_TOKEN=TOKEN)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: _up(proc, port), timeout=30, step=0.1)
            yield
        finally:
            proc.terminate()
            proc.wait(10)


def _up(proc: subprocess.Popen, port: int) -> bool:
    assert proc.poll() is None, "mesh lineage serve exited"
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok
    except requests.ConnectionError:
        return False


def port_publish_events(paths) -> list[dict]:
    """The COMPLETE event of a port publish, built by the platform's own code paths."""
    port = OutputPort(name="order_lines", model="order_lines")
    snapshot = SimpleNamespace(snapshot_id="4242", rows=3)
    pub = publication(paths, "sales", port, ["team:sales"], "order lines", None, None,
                      {"columns": {"order_id": {"data_type": "bigint"}}}, snapshot)  # fmt: skip
    dbt_event = run_event(
        "dbt", outputs=[{"namespace": "duckdb", "name": "sales.main.order_lines"}]
    )
    run = DagsterRun("sales", "sales_job", "11111111-1111-4111-8111-111111111111")
    return asset_events(paths, run, [dbt_event], {"order_lines": pub}, ["team:sales"], "/code")


def training_run_events(paths) -> list[dict]:
    """The events of a model's training, which name the MLflow store the version lives in."""
    run = DagsterRun("sales", "train_job", "22222222-2222-4222-8222-222222222222")
    table = table_dataset(paths, "sales", "main", "order_training")
    return training_events(paths, run, "basket", 1, {"x": "double"}, table, {}, ["team"], now())


def test_no_secret_in_logs_events_or_access_logs(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("PYICEBERG_CATALOG__MESH__URI", CATALOG_URI)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", MLFLOW_URI)
    monkeypatch.setenv("MESH_LINEAGE_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)  # every library at its most verbose: openlineage, urllib3
    paths, port = paths_at(tmp_path, "mesh"), free_port()
    http_backend(monkeypatch, port)
    access_log = tmp_path / "lineage-serve.log"
    with lineage_api(tmp_path / "backend", port, access_log):
        events = port_publish_events(paths) + training_run_events(paths)
        emit(paths, events)  # local log, outbox, and the HTTP transport with the token
        requests.post(f"http://127.0.0.1:{port}/api/v1/lineage", json=run_event("x"),
                      headers={"Authorization": "Bearer not-it-0123456789"}, timeout=5)  # fmt: skip
    received = stored(paths_at(tmp_path, "backend"))
    assert len(received) == 3, access_log.read_text()  # delivered: the token was sent
    facets = received[0]["outputs"][-1]["facets"]  # the port, after the dbt model
    assert facets["catalog"]["metadataUri"] == "postgresql+psycopg2://u:***@h/db"
    assert facets["symlinks"]["identifiers"][0]["namespace"] == "postgresql+psycopg2://u:***@h/db"
    model = received[-1]["outputs"][0]
    assert model["namespace"] == "postgresql://ml:***@mlflow-db/mlflow?sslpassword=***"
    texts = {
        "logs": caplog.text,
        "access log": access_log.read_text(),
        "local lineage log": (paths.lineage / "events.jsonl").read_text(),
        "outbox": "".join(p.read_text() for p in (paths.lineage / "outbox").glob("*.jsonl")),
        "received events": json.dumps(received),
    }
    assert '"POST /api/v1/lineage HTTP/1.1" 201' in texts["access log"]
    assert '"POST /api/v1/lineage HTTP/1.1" 401' in texts["access log"]
    for where, text in texts.items():
        assert PASSWORD not in text and TOKEN not in text, where


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (CATALOG_URI, "postgresql+psycopg2://u:***@h/db"),
        (f"postgresql://h/db?password={PASSWORD}&sslmode=require",
         "postgresql://h/db?password=***&sslmode=require"),
        (f"https://u:{PASSWORD}@rest.example/api", "https://u:***@rest.example/api"),
        (f"weird://u:{PASSWORD}@h:1:2", "weird://***"),  # unparseable: only the scheme
        ("sqlite:////home/me/.mesh/iceberg/catalog.db", "sqlite:////home/me/.mesh/iceberg/catalog.db"),
    ],
)  # fmt: skip
def test_catalog_uris_are_masked(uri, shown):
    assert masked_uri(uri) == shown
