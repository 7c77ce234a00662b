"""An imported domain's prepared dbt project: its config, local packages and package errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mesh_platform.dbt.project import prepare_manifest
from mesh_platform.dbt.render import render_project
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.scaffold.import_dbt import import_dbt
from mesh_platform.scaffold.mesh import init_mesh


@pytest.fixture
def shop(tmp_path: Path, projects: Path) -> tuple[Path, Path]:
    """shop_a imported into a new mesh (nothing built): the mesh root and its MESH_HOME."""
    root, home = tmp_path / "mesh", tmp_path / "home"
    init_mesh(root)
    import_dbt(root, home / "landing", projects / "shop_a", "shop", ["customers", "orders"])
    return root, home


def _render(root: Path, home: Path) -> Path:
    return render_project(load_domain(root / "domains" / "shop"), root / "contracts", home)


def test_import_lists_the_domain_as_a_component(shop: tuple[Path, Path]):
    root, _ = shop
    workspace = yaml.safe_load((root / "dagster_project" / "workspace.yaml").read_text())
    entry = workspace["load_from"][-1]["python_module"]
    assert (entry["attribute"], entry["location_name"]) == ("shop", "shop")
    defs = yaml.safe_load((root / "domains" / "shop" / "defs.yaml").read_text())
    assert defs["type"] == "mesh_platform.orchestration.component.DomainComponent"


def test_rendered_project_takes_the_imported_config_and_packages(shop: tuple[Path, Path]):
    project = _render(*shop)
    rendered = yaml.safe_load((project / "dbt_project.yml").read_text())
    assert rendered["name"] == "shop"
    assert rendered["models"] == {"shop": {"staging": {"+materialized": "view"},
                                           "marts": {"+materialized": "table"}}}  # fmt: skip
    assert (project / "packages" / "shop_macros" / "macros" / "cents_to_dollars.sql").is_file()
    assert yaml.safe_load((project / "packages.yml").read_text()) == {
        "packages": [{"local": "packages/shop_macros"}]
    }
    assert (project / "tests" / "assert_spend_not_negative.sql").is_file()


def test_missing_local_package_is_one_error_before_dbt(shop: tuple[Path, Path]):
    root, home = shop
    packages = root / "domains" / "shop" / "dbt" / "packages.yml"
    packages.write_text("packages:\n  - local: packages/nowhere\n")
    project = _render(root, home)
    with pytest.raises(SpecErrors) as exc:
        prepare_manifest(project, origin=packages.parent)
    assert str(exc.value) == (  # the team's file, not the rendered copy
        f"{packages}: packages[0].local: local package 'packages/nowhere' does not exist"
    )
    assert not (project / "target").exists()  # refused before dbt parsed anything
