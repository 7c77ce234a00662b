"""`mesh deploy render`: a Dockerfile per workspace location and Helm values, from the workspace."""

from __future__ import annotations

import json

import yaml
from mesh_platform.cli import app
from mesh_platform.orchestration.code_servers import read_locations
from mesh_platform.orchestration.deploy_render import GRPC_PORT, Target, render

from tests.support import copy_mesh, edit_yaml, invoke, workspace_locations


def _cmd(dockerfile: str) -> list[str]:
    line = next(x for x in dockerfile.splitlines() if x.startswith("CMD "))
    return json.loads(line.removeprefix("CMD "))


def test_one_deployment_and_one_dockerfile_per_location(tmp_path):
    root = copy_mesh(tmp_path / "mesh")
    out = tmp_path / "out"
    render(root, out, Target(registry="reg.test/team", tag="v1"))
    expected = workspace_locations(root)
    every = yaml.safe_load((out / "helm" / "user-deployments.yaml").read_text())["deployments"]
    assert len(every) == len(expected)
    assert {d["dagsterApiGrpcArgs"][-1] for d in every} == expected
    for deployment in every:
        assert deployment["port"] == GRPC_PORT
        assert deployment["image"] == {"repository": f"reg.test/team/{deployment['name']}",
                                       "tag": "v1", "pullPolicy": "Always"}  # fmt: skip
    servers = yaml.safe_load((out / "helm" / "dagster.yaml").read_text())
    assert servers["dagster-user-deployments"]["enableSubchart"] is False
    listed = servers["dagsterWebserver"]["workspace"]["servers"]
    assert {s["name"] for s in listed} == expected
    assert {s["host"] for s in listed} == {d["name"] for d in every}
    for location in expected:
        alone = yaml.safe_load((out / "helm" / f"{location}.yaml").read_text())["deployments"]
        assert len(alone) == 1 and alone[0]["dagsterApiGrpcArgs"][-1] == location
        cmd = _cmd((out / location / "Dockerfile").read_text())
        assert cmd[:3] == ["dagster", "api", "grpc"]
        assert cmd[cmd.index("--location-name") + 1] == location


def test_a_domain_image_holds_its_own_domain_only(tmp_path):
    root = copy_mesh(tmp_path / "mesh")
    out = tmp_path / "out"
    render(root, out, Target())
    domain = next(loc for loc in read_locations(root / "dagster_project" / "workspace.yaml")
                  if loc.attribute and (root / "domains" / loc.attribute).is_dir())  # fmt: skip
    text = (out / domain.name / "Dockerfile").read_text()
    copies = [line for line in text.splitlines() if line.startswith("COPY domains/")]
    assert copies == [f"COPY domains/{domain.attribute}/ domains/{domain.attribute}/"]


def test_a_new_workspace_entry_gets_its_own_deployment(tmp_path):
    """Derived from workspace.yaml: nothing about the demo's locations is built in."""
    root = copy_mesh(tmp_path / "mesh")
    spec = {"module_name": "pkg.defs", "attribute": "defs", "working_directory": "..",
            "location_name": "Billing_Ops"}  # fmt: skip
    entry = {"python_module": spec}
    edit_yaml(root / "dagster_project" / "workspace.yaml", lambda w: w["load_from"].append(entry))
    result = invoke(app, "deploy", "render", "--output", str(tmp_path / "out"),
                    "--server", "code-server", MESH_PROJECT_ROOT=str(root))  # fmt: skip
    assert result.exit_code == 0, result.output
    values = yaml.safe_load((tmp_path / "out" / "helm" / "Billing_Ops.yaml").read_text())
    (deployment,) = values["deployments"]
    assert deployment["name"] == "mesh-billing-ops"  # a valid Kubernetes name
    assert deployment["codeServerArgs"] == ["-m", "pkg.defs", "-d", "/opt/mesh", "-a", "defs",
                                            "--location-name", "Billing_Ops"]  # fmt: skip
    cmd = _cmd((tmp_path / "out" / "Billing_Ops" / "Dockerfile").read_text())
    assert cmd[:3] == ["dagster", "code-server", "start"] and "domains/" not in cmd
