"""The mesh is where you stand: mesh.yaml marks the root, `mesh init` makes one, demo data only
where a mesh declares a generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mesh_platform.cli import app
from mesh_platform.meshfile import MeshFileError, NotInMeshError, load_mesh_file
from mesh_platform.scaffold import ScaffoldError
from mesh_platform.scaffold.mesh import init_mesh
from mesh_platform.settings import project_root
from typer.testing import CliRunner

from tests.support import REPO, env_with

MESH = [sys.executable, "-m", "mesh_platform.cli"]
GENERATOR = "tests.selfserve.test_init:fake_generator"


def fake_generator(landing: Path, scale: float, seed: int, progress=None):
    """A mesh's own generator: one landing file, so a test sees whether it ran."""
    (landing / "shop").mkdir(parents=True, exist_ok=True)
    (landing / "shop" / "orders.csv").write_text(f"order_id,scale,seed\n1,{scale},{seed}\n")
    return type("Summary", (), {"rows": {"orders": 1}, "seconds": 0.0})()


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in env_with(COLUMNS="200", **env).items() if k != "MESH_PROJECT_ROOT"}
    return subprocess.run([*MESH, *args], cwd=cwd, env=environ, capture_output=True, text=True)


@pytest.fixture
def outside(tmp_path, monkeypatch) -> Path:
    """A working directory in no mesh, with no MESH_PROJECT_ROOT."""
    monkeypatch.delenv("MESH_PROJECT_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_root_is_found_by_walking_up_and_the_override_wins(outside, monkeypatch):
    init_mesh(outside / "shop")
    (outside / "shop" / "domains" / "orders" / "dbt").mkdir(parents=True)
    monkeypatch.chdir(outside / "shop" / "domains" / "orders" / "dbt")
    assert project_root() == (outside / "shop").resolve()
    monkeypatch.setenv("MESH_PROJECT_ROOT", str(REPO))
    assert project_root() == REPO.resolve()


def test_outside_a_mesh_never_falls_back_to_the_package(outside):
    with pytest.raises(NotInMeshError, match="run `mesh init`"):
        project_root()
    proc = cli(outside, "validate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "not in a mesh" in proc.stderr and "mesh init" in proc.stderr


def test_the_demo_repository_is_a_mesh_from_any_subfolder():
    proc = cli(REPO / "domains" / "sales", "validate")
    assert proc.returncode == 0, proc.stderr
    assert load_mesh_file(REPO).demo is not None  # only the demo declares a generator


def test_invalid_mesh_yaml_names_file_and_field(tmp_path):
    (tmp_path / "mesh.yaml").write_text("name: shop\ndefaults: {scale: -1, sead: 3}\n")
    with pytest.raises(MeshFileError) as caught:
        load_mesh_file(tmp_path)
    assert {f for f, _ in caught.value.problems} == {"defaults.scale", "defaults.sead"}
    proc = cli(tmp_path, "validate")
    assert proc.returncode == 2 and "mesh.yaml: defaults.scale" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_init_makes_an_empty_mesh_that_validates_and_runs(outside, tmp_path):
    proc = cli(outside, "init", "new_mesh")
    assert proc.returncode == 0, proc.stderr
    root = outside / "new_mesh"
    for path in ("mesh.yaml", ".gitignore", "domains", "contracts",
                 "dagster_project/workspace.yaml", "dagster_project/dagster.yaml"):  # fmt: skip
        assert (root / path).exists(), path
    assert ".mesh" in (root / ".gitignore").read_text()
    assert load_mesh_file(root).name == "new_mesh" and load_mesh_file(root).demo is None
    assert cli(root, "validate").returncode == 0
    up = cli(root, "up", MESH_HOME=str(tmp_path / "home"))
    assert up.returncode == 0 and "nothing to build" in up.stdout, up.stdout + up.stderr
    with pytest.raises(ScaffoldError, match="is a mesh"):
        init_mesh(root)  # never over an existing mesh


def test_init_adopts_an_existing_repository(tmp_path):
    (tmp_path / "README.md").write_text("# ours\n")
    (tmp_path / ".gitignore").write_text("node_modules/\n.venv/")
    written = {str(p) for p in init_mesh(tmp_path, name="ours")}
    assert "mesh.yaml" in written and ".gitignore" in written and "README.md" not in written
    assert (tmp_path / "README.md").read_text() == "# ours\n"
    ignore = (tmp_path / ".gitignore").read_text().splitlines()
    assert ignore[:2] == ["node_modules/", ".venv/"] and ".mesh/" in ignore
    assert ignore.count(".venv/") == 1


def _mesh_with_domain(root: Path, generator: str | None) -> Path:
    init_mesh(root)
    if generator:
        with (root / "mesh.yaml").open("a") as fh:
            fh.write(f"demo:\n  generator: {generator}\n")
    (root / "domains" / "shop").mkdir()
    (root / "domains" / "shop" / "domain.yaml").write_text("name: shop\n")
    return root


@pytest.mark.parametrize("generator", [None, GENERATOR])
def test_only_a_mesh_with_a_generator_gets_data_in_mesh_up(
    generator, outside, mesh_home, monkeypatch
):
    import mesh_platform.orchestration.mesh_up as mesh_up

    monkeypatch.setattr(mesh_up, "run_mesh", lambda *a, **k: [])  # the build is not under test
    monkeypatch.chdir(_mesh_with_domain(outside / "m", generator))
    result = CliRunner().invoke(app, ["up", "--seed", "7"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps at 80 columns here
    landed = sorted(p.name for p in (mesh_home / "landing").rglob("*") if p.is_file())
    if generator:
        assert landed == ["orders.csv"] and "generated scale 1.0 seed 7" in output
        assert "1,1.0,7" in (mesh_home / "landing" / "shop" / "orders.csv").read_text()
    else:  # another mesh's empty landing zone stays empty
        assert landed == [] and "is empty: sources have delivered nothing" in output


def dated_generator(landing: Path, scale: float, seed: int, progress=None, end_date=None):
    """A generator that takes an end date: writes it down."""
    (landing / "shop").mkdir(parents=True, exist_ok=True)
    (landing / "shop" / "end.txt").write_text(str(end_date))
    return type("Summary", (), {"rows": {}, "seconds": 0.0, "end_date": str(end_date)})()


@pytest.mark.parametrize(
    ("generator", "args", "written"),
    [(f"{__name__}:dated_generator", ["--end-date", "2026-11-15"], "2026-11-15"),
     (f"{__name__}:dated_generator", [], "None"),  # not given: the generator's default
     (GENERATOR, [], None)],  # a generator without end_date is called as before
)  # fmt: skip
def test_generate_passes_the_end_date_only_when_given(
    generator, args, written, outside, mesh_home, monkeypatch
):
    monkeypatch.chdir(_mesh_with_domain(outside / "m", generator))
    monkeypatch.setenv("MESH_HOME", str(mesh_home))
    result = CliRunner().invoke(app, ["generate", *args])
    assert result.exit_code == 0, result.output
    end = mesh_home / "landing" / "shop" / "end.txt"
    assert (end.read_text() if end.exists() else None) == written
    if args:
        assert "ending 2026-11-15" in " ".join(result.output.split())


def test_generate_needs_a_declared_generator(outside, mesh_home):
    root = _mesh_with_domain(outside / "m", None)
    proc = cli(root, "generate", MESH_HOME=str(mesh_home))
    assert proc.returncode == 2 and "declares no demo.generator" in proc.stderr, proc.stderr
    assert not (mesh_home / "landing").exists() or not any((mesh_home / "landing").iterdir())


def test_an_unloadable_generator_is_a_one_line_error(outside, mesh_home):
    root = _mesh_with_domain(outside / "m", "no_such_package.gen:generate")
    proc = cli(root, "generate", MESH_HOME=str(mesh_home))
    assert proc.returncode == 2 and "mesh.yaml: demo.generator: cannot load" in proc.stderr
    assert "Traceback" not in proc.stderr
