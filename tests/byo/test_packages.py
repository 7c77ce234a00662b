"""dbt packages: `dbt deps` when stale, local packages offline, clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from mesh_platform.dbt.packages import ensure_packages
from mesh_platform.descriptors.errors import SpecErrors


def _packages(project: Path, text: str) -> Path:
    (project / "packages.yml").write_text(text)
    return project / "packages.yml"


def test_no_packages_file_runs_nothing(projects: Path):
    (projects / "shop_a" / "packages.yml").unlink()
    assert ensure_packages(projects / "shop_a") is False


def test_missing_local_package_names_file_and_entry(projects: Path):
    file = _packages(projects / "shop_a", "packages:\n  - local: ../nowhere\n")
    with pytest.raises(SpecErrors) as exc:
        ensure_packages(projects / "shop_a")
    assert str(exc.value) == f"{file}: packages[0].local: local package '../nowhere' does not exist"


def test_unparseable_packages_file(projects: Path):
    file = _packages(projects / "shop_a", "packages: [\n")
    with pytest.raises(SpecErrors) as exc:
        ensure_packages(projects / "shop_a")
    assert exc.value.errors[0].file == file and "cannot read" in str(exc.value)


@pytest.mark.slow
def test_local_package_installs_offline_once(projects: Path):
    project = projects / "shop_b"  # dependencies.yml
    assert ensure_packages(project) is True
    assert (project / "dbt_packages" / "shop_macros" / "macros" / "cents_to_dollars.sql").exists()
    assert ensure_packages(project) is False  # current: no second `dbt deps`
    (project / "dependencies.yml").write_text("packages:\n  - local: ../shop_macros\n# changed\n")
    assert ensure_packages(project) is True


@pytest.mark.slow
def test_unfetchable_hub_and_git_packages_are_named(projects: Path):
    file = _packages(
        projects / "shop_a",
        "packages:\n  - local: ../shop_macros\n"
        "  - package: mesh-tests/no_such_package\n    version: 1.0.0\n",
    )
    with pytest.raises(SpecErrors) as exc:
        ensure_packages(projects / "shop_a")
    assert [(e.file, e.field) for e in exc.value.errors] == [(file, "packages[1]")]
    assert "cannot fetch 'mesh-tests/no_such_package'" in str(exc.value)
    assert "Traceback" not in str(exc.value) and len(str(exc.value).splitlines()) == 1
    _packages(projects / "shop_a", "packages:\n  - git: https://git.invalid/none.git\n")
    with pytest.raises(SpecErrors) as exc:
        ensure_packages(projects / "shop_a")
    assert exc.value.errors[0].field == "packages[0]"
    assert "'https://git.invalid/none.git'" in str(exc.value)
