"""`mesh defs check|list`: Dagster's dg on each domain, through a dg project under MESH_HOME."""

from __future__ import annotations

import json

import pytest
from mesh_platform.orchestration.dg_project import PACKAGE, domain_names, render_dg_project
from mesh_platform.settings import MeshPaths

from tests.support import run_mesh


def test_the_dg_project_is_rendered_under_mesh_home(mesh_copy, tmp_path):
    paths = MeshPaths(root=mesh_copy, home=tmp_path / "home")
    assert "catalog" in domain_names(paths)
    project = render_dg_project(paths, "catalog")
    assert project == tmp_path / "home" / "dg" / "catalog"
    assert 'code_location_name = "catalog"' in (project / "dg.toml").read_text()
    link = project / PACKAGE / "defs" / "catalog"
    assert link.resolve() == (mesh_copy / "domains" / "catalog").resolve()
    assert not list((mesh_copy / "domains" / "catalog").glob("dg.toml"))  # nothing in the domain
    with pytest.raises(FileNotFoundError, match="no domain 'nope'"):
        render_dg_project(paths, "nope")


@pytest.mark.slow
def test_dg_lists_and_checks_a_domain_and_names_a_bad_attribute(mesh_copy, tmp_path):
    home = tmp_path / "home"
    listed = run_mesh(home, "defs", "list", "catalog", "--json", root=mesh_copy)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    keys = {a["asset_key"] for a in json.loads(listed.stdout)["assets"]}
    assert {"catalog/products", "catalog/promotions"} <= keys

    ok = run_mesh(home, "defs", "check", "catalog", root=mesh_copy)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert "All definitions loaded successfully." in ok.stdout + ok.stderr

    defs_yaml = mesh_copy / "domains" / "catalog" / "defs.yaml"
    defs_yaml.write_text(defs_yaml.read_text() + "attributes:\n  bogus: 1\n")
    bad = run_mesh(home, "defs", "check", "catalog", root=mesh_copy)
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out[-3000:]
    assert "defs.yaml" in out and "attributes.bogus" in out, out[-3000:]
