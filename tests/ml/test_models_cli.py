"""`mesh models ...` on the MLflow registry: list, show, promote, rollback, unknown names."""

from __future__ import annotations

import json
import socket

import pytest
import typer
from mesh_platform.cli import models as models_cli
from mesh_platform.ml import registry
from typer.testing import CliRunner

from tests.ml.test_registry import _register


@pytest.fixture
def cli(mesh_home, fresh_registry):
    fresh_registry(mesh_home / "mlflow")
    app = typer.Typer()
    models_cli.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["models", *args])


def test_cli_list_show_promote_rollback(cli, mesh_home, model_file):
    root = mesh_home / "mlflow"
    for auc in (0.70, 0.72, 0.60):
        _register(root, model_file, auc)
    assert cli("promote", "churn", "1").exit_code == 0
    assert cli("promote", "churn", "2").exit_code == 0
    listed = json.loads(cli("list", "--format", "json").stdout)
    assert listed[0]["name"] == "churn" and listed[0]["champion"] == 2
    assert [v["status"] for v in listed[0]["versions"]] == ["retired", "champion", "challenger"]
    assert "roc_auc=0.72" in cli("list").stdout
    shown = json.loads(cli("show", "churn", "2", "--format", "json").stdout)
    assert shown["code_version"] == "abc123" and shown["model_uri"] == "models:/churn/2"
    assert cli("show", "churn").exit_code == 0
    refused = cli("promote", "churn", "3")
    assert refused.exit_code == 1 and "roc_auc >= 0.65" in refused.output
    assert cli("rollback", "churn").exit_code == 0
    assert registry.champion(root, "churn").version == 1  # type: ignore[union-attr]
    assert cli("rollback", "churn").exit_code == 1  # nothing left to roll back to


def test_cli_unknown_model_or_version_exits_2(cli, mesh_home, model_file):
    _register(mesh_home / "mlflow", model_file, 0.70)
    assert cli("show", "nope").exit_code == 2
    assert cli("show", "churn", "9").exit_code == 2
    assert cli("promote", "churn", "9").exit_code == 2
    assert cli("rollback", "nope").exit_code == 2
    assert cli("list").exit_code == 0


def test_mlflow_ui_explains_what_is_missing_and_serves_the_store(mesh_home, monkeypatch):
    from mesh_platform.cli import mlflow_ui
    from mesh_platform.settings import mesh_paths

    app = typer.Typer()
    mlflow_ui.register(app)
    with monkeypatch.context() as patch:
        patch.setattr(mlflow_ui, "full_mlflow_installed", lambda: False)
        missing = CliRunner().invoke(app, ["mlflow", "ui"])
    assert missing.exit_code == 2 and "mesh-platform[ui]" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = CliRunner().invoke(app, ["mlflow", "ui", "--port", str(taken.getsockname()[1])])
    assert busy.exit_code == 2 and "pass --port" in busy.output
    command = mlflow_ui.server_command(mesh_paths(), "127.0.0.1", 5001)
    assert command[1] == "server" and "127.0.0.1" in command
    assert f"sqlite:///{(mesh_home / 'mlflow').resolve()}/mlflow.db" in command
