"""The profile switch: the instance's storage, the executor and the sensors follow MESH_PROFILE."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml
from mesh_platform.meshfile import MeshFileError
from mesh_platform.orchestration.profile import (
    BROKER_ENV,
    INSTANCE_DB_ENV,
    ProfileError,
    domain_executor,
    instance_config,
    require_endpoints,
)
from mesh_platform.settings import mesh_profile, sensor_status

from tests.support import REPO, run_mesh

PROJECT_YAML = REPO / "dagster_project" / "dagster.yaml"


def test_embedded_by_default_keeps_the_projects_instance_and_in_process_steps(monkeypatch):
    monkeypatch.delenv("MESH_PROFILE", raising=False)
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(REPO))
    assert mesh_profile() == "embedded"
    assert instance_config(PROJECT_YAML) == yaml.safe_load(PROJECT_YAML.read_text())
    assert domain_executor() is dg.in_process_executor


def test_distributed_puts_storage_on_postgres_named_by_variable_never_by_value(monkeypatch):
    monkeypatch.setenv("MESH_PROFILE", "distributed")
    monkeypatch.setenv(INSTANCE_DB_ENV, "postgresql://mesh:s3cret@127.0.0.1:1/dagster")
    config = instance_config(PROJECT_YAML)
    assert config["storage"] == {"postgres": {"postgres_url": {"env": INSTANCE_DB_ENV}}}
    assert "s3cret" not in yaml.safe_dump(config)
    # the run queue and its one-run-per-domain limit are the project's, unchanged
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "mesh/domain", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits


def test_distributed_steps_go_to_celery_configured_ahead(monkeypatch):
    monkeypatch.setenv("MESH_PROFILE", "distributed")
    monkeypatch.setenv(BROKER_ENV, "redis://127.0.0.1:1/0")
    executor = domain_executor()
    assert executor.name == "celery"
    # configured: a run needs no executor config (the broker is read from BROKER_ENV at run time)
    assert not executor.config_schema.as_field().is_required


def test_a_missing_endpoint_or_unknown_profile_is_named(monkeypatch):
    monkeypatch.setenv("MESH_PROFILE", "distributed")
    monkeypatch.delenv(INSTANCE_DB_ENV, raising=False)
    with pytest.raises(ProfileError, match=INSTANCE_DB_ENV):
        instance_config(PROJECT_YAML)
    monkeypatch.delenv(BROKER_ENV, raising=False)
    with pytest.raises(ProfileError, match=f"{INSTANCE_DB_ENV}, {BROKER_ENV}"):
        require_endpoints((INSTANCE_DB_ENV, BROKER_ENV))
    monkeypatch.setenv("MESH_PROFILE", "cluster")
    with pytest.raises(MeshFileError, match="MESH_PROFILE: 'cluster' is not one of"):
        mesh_profile()


def test_mesh_yaml_names_the_profile_and_rejects_others(tmp_path, monkeypatch):
    monkeypatch.delenv("MESH_PROFILE", raising=False)
    (tmp_path / "mesh.yaml").write_text("name: m\nprofile: distributed\n")
    assert mesh_profile(tmp_path) == "distributed"
    (tmp_path / "mesh.yaml").write_text("name: m\nprofile: cloud\n")
    with pytest.raises(MeshFileError, match="profile"):
        mesh_profile(tmp_path)


def test_automation_off_starts_run_launching_sensors_stopped(monkeypatch):
    monkeypatch.delenv("MESH_AUTOMATION", raising=False)
    assert sensor_status() == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv("MESH_AUTOMATION", "off")
    assert sensor_status() == dg.DefaultSensorStatus.STOPPED


def test_mesh_up_on_the_distributed_profile_names_the_missing_endpoints(tmp_path):
    env = {
        "MESH_PROFILE": "distributed",
        INSTANCE_DB_ENV: "",
        BROKER_ENV: "",
        "MESH_DAGSTER_URL": "",
    }
    proc = run_mesh(tmp_path / "home", "up", **env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{INSTANCE_DB_ENV}, {BROKER_ENV}, MESH_DAGSTER_URL" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "home" / "landing").exists()  # nothing generated or started
