"""Where things live: the mesh root, MESH_HOME and the environment dbt and Dagster need."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mesh_platform.meshfile import (
    MESH_FILE,
    MeshFileError,
    NotInMeshError,
    find_root,
    load_mesh_file,
)

# dbt asks the package registry for its latest version and sends usage stats unless told not to;
# both cost seconds per invocation and fail offline.
_QUIET_DBT_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


PROFILE_ENV = "MESH_PROFILE"
PROFILES = ("embedded", "distributed")


def mesh_profile(root: Path | None = None) -> str:
    """The profile the mesh runs on: ``MESH_PROFILE``, else mesh.yaml's ``profile``, else embedded.

    Raises:
        MeshFileError: MESH_PROFILE names no profile (the message names the variable).

    """
    named = os.environ.get(PROFILE_ENV, "").strip().lower()
    if named:
        if named not in PROFILES:
            problem = f"'{named}' is not one of {', '.join(PROFILES)}"
            raise MeshFileError(Path("environment"), [(PROFILE_ENV, problem)])
        return named
    return load_mesh_file(root or project_root()).profile


AUTOMATION_ENV = "MESH_AUTOMATION"


def automation_on() -> bool:
    """False when ``MESH_AUTOMATION=off``: the sensors and schedules that launch runs start stopped.

    A session that drives the runs itself (`mesh stack` running `mesh up` through the queue)
    would otherwise race them; they can be turned on in the UI.
    """
    return os.environ.get(AUTOMATION_ENV, "on").lower() not in ("off", "0", "false")


def sensor_status():
    """The default status of a sensor that launches runs (RUNNING unless MESH_AUTOMATION=off)."""
    import dagster as dg  # here, not at the top: most users of the settings never need Dagster

    on = automation_on()
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED


def schedule_status():
    """The default status of a schedule (RUNNING unless MESH_AUTOMATION=off)."""
    import dagster as dg

    on = automation_on()
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


def mlflow_tracking_uri(registry_root: Path) -> str:
    """`MLFLOW_TRACKING_URI` when set, else the embedded SQLite store under ``registry_root``."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{Path(registry_root).resolve()}/mlflow.db"
    )


@dataclass(frozen=True)
class MeshPaths:
    """The filesystem layout of one mesh: the repo (code) and MESH_HOME (runtime state)."""

    root: Path
    home: Path

    @property
    def mesh_file(self) -> Path:
        """The mesh.yaml that marks the root (absent only under MESH_PROJECT_ROOT)."""
        return self.root / MESH_FILE

    @property
    def domains(self) -> Path:
        """Folder with one sub-folder per domain."""
        return self.root / "domains"

    @property
    def contracts(self) -> Path:
        """Folder of ODCS contracts, one sub-folder per domain."""
        return self.root / "contracts"

    @property
    def dagster_project(self) -> Path:
        """Folder with workspace.yaml and dagster.yaml."""
        return self.root / "dagster_project"

    @property
    def landing(self) -> Path:
        """Landing zone where source systems drop their files."""
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        """Folder of the private per-domain DuckDB files."""
        return self.home / "warehouse"

    @property
    def lake(self) -> Path:
        """Root of the published output ports."""
        return self.home / "lake"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME: the Dagster instance (runs, event log)."""
        return self.home / "dagster"

    @property
    def lineage(self) -> Path:
        """OpenLineage events and the lineage store."""
        return self.home / "lineage"

    @property
    def column_lineage_cache(self) -> Path:
        """Column lineage traced from compiled SQL, kept for the next runs (safe to delete)."""
        return self.home / "cache" / "column_lineage"

    @property
    def registry(self) -> Path:
        """The embedded MLflow store: `mlflow.db` (runs, registry) and `artifacts/`."""
        return self.home / "mlflow"

    def warehouse_file(self, domain: str) -> Path:
        """The private DuckDB file of one domain."""
        return self.warehouse / f"{domain}.duckdb"


def project_root() -> Path:
    """The root of the mesh the user stands in: the nearest folder above with a mesh.yaml.

    ``MESH_PROJECT_ROOT`` names it instead (tests use copies of a mesh). Never the platform
    package's own location: the platform is installed, the mesh is where you work.

    Raises:
        NotInMeshError: no mesh.yaml here or above, and no MESH_PROJECT_ROOT.

    """
    override = os.environ.get("MESH_PROJECT_ROOT")
    if override:
        root = Path(override).resolve()
        if not root.is_dir():
            raise NotInMeshError(root, [("", "MESH_PROJECT_ROOT names no folder")])
        return root
    here = Path.cwd()
    root = find_root(here)
    if root is None:
        msg = f"not in a mesh: no {MESH_FILE} here or above; run `mesh init` to create one"
        raise NotInMeshError(here, [("", msg)])
    return root


def mesh_paths() -> MeshPaths:
    """Resolve the current mesh paths from the environment and export them for child processes."""
    root = project_root()
    home = Path(os.environ.get("MESH_HOME") or root / ".mesh").resolve()
    configure_environment(home)
    return MeshPaths(root=root, home=home)


def configure_environment(home: Path) -> None:
    """Export MESH_HOME, DAGSTER_HOME and dbt's quiet flags so every child process agrees."""
    os.environ["MESH_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")  # all runtime state lives in MESH_HOME
    for key, value in _QUIET_DBT_ENV.items():
        os.environ.setdefault(key, value)
