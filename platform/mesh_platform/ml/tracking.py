"""MLflow behind the registry: where the store is, one experiment per model, and a mesh lock.

The embedded default is a SQLite backend store ``<registry_root>/mlflow.db`` with artifacts under
``<registry_root>/artifacts`` (``registry_root`` is ``MESH_HOME/mlflow``). ``MLFLOW_TRACKING_URI``
and ``MLFLOW_REGISTRY_URI`` in the environment point the mesh at any other MLflow instead.
MLflow is imported here lazily: importing this module costs nothing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from mesh_platform.settings import mlflow_tracking_uri

if TYPE_CHECKING:
    from mlflow import MlflowClient

DB_FILE = "mlflow.db"
ARTIFACTS = "artifacts"
_process_lock = threading.RLock()  # fluent MLflow state (tracking URI, active run) is global
_ready: set[str] = set()
_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def tracking_uri(registry_root: Path) -> str:
    """The tracking URI: ``MLFLOW_TRACKING_URI`` or the embedded SQLite store."""
    return mlflow_tracking_uri(registry_root)


def registry_uri(registry_root: Path) -> str:
    """The model registry URI: ``MLFLOW_REGISTRY_URI`` or the tracking URI."""
    return os.environ.get("MLFLOW_REGISTRY_URI") or tracking_uri(registry_root)


def embedded(registry_root: Path) -> bool:
    """Whether the mesh uses its own SQLite store under ``registry_root``."""
    return not any(os.environ.get(variable) for variable in _URI_VARIABLES)


def artifact_root(registry_root: Path) -> str | None:
    """Where new experiments keep artifacts; None lets a tracking server decide.

    A store on this machine (the embedded one, or a SQLite/file URI) keeps them under
    ``registry_root``, not in MLflow's default ``./mlruns`` of the working directory.
    """
    if urlparse(tracking_uri(registry_root)).scheme not in ("sqlite", "file", ""):
        return None
    return (Path(registry_root).resolve() / ARTIFACTS).as_uri()


def store_exists(registry_root: Path) -> bool:
    """False when the embedded store was never created: nothing is registered yet."""
    return not embedded(registry_root) or (Path(registry_root) / DB_FILE).is_file()


def store_client(registry_root: Path) -> MlflowClient | None:
    """The client, or None while the embedded store was never created (nothing registered)."""
    return client(registry_root) if store_exists(registry_root) else None


def _missing(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def registered_model(mlflow_client: MlflowClient, name: str) -> Any:
    """The registered model ``name``, or None."""
    try:
        return mlflow_client.get_registered_model(name)
    except Exception as exc:
        if _missing(exc):
            return None
        raise


def model_version(mlflow_client: MlflowClient, name: str, version: int) -> Any:
    """Version ``version`` of model ``name``, or None."""
    try:
        return mlflow_client.get_model_version(name, str(version))
    except Exception as exc:
        if _missing(exc):
            return None
        raise


def local_artifacts(mlflow_client: MlflowClient, root: Path, run_id: str, cache: Path) -> Path:
    """The run's artifact folder when it is on this machine, else a copy under ``root/cache``.

    The copy is downloaded once into a hidden folder beside it and renamed into place.
    """
    parsed = urlparse(mlflow_client.get_run(run_id).info.artifact_uri)
    if parsed.scheme in ("", "file") and Path(unquote(parsed.path)).is_dir():
        return Path(unquote(parsed.path))
    target = Path(root) / cache
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".download-"))
        try:
            mlflow_client.download_artifacts(run_id, "", str(tmp))
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # another process won the rename: theirs is the same
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _quiet() -> None:
    """No telemetry (set before MLflow's import); no INFO notes on schema migrations."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow  # noqa: F401 - configures its loggers, which are set after it

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # "Failed to resolve installed pip version": we pass the requirements, pip is irrelevant.
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)


@contextmanager
def locked(registry_root: Path, name: str = "_store") -> Iterator[None]:
    """Hold the mesh's exclusive lock on one model (or the store): across threads and processes.

    Version numbers, aliases and their history change only under it, so SQLite sees one writer
    of a model at a time and a gate compares with the champion that is really current.
    """
    folder = Path(registry_root) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with _process_lock, open(folder / f"{name}.lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def client(registry_root: Path) -> MlflowClient:
    """An MLflow client on the mesh's store; the embedded store is created on first use."""
    _quiet()
    from mlflow import MlflowClient

    uri, reg = tracking_uri(registry_root), registry_uri(registry_root)
    if uri not in _ready:
        with locked(registry_root):  # one process creates and migrates the SQLite schema
            found = MlflowClient(uri, reg)
            found.search_experiments(max_results=1)
            _ready.add(uri)
        return found
    return MlflowClient(uri, reg)


def experiment_id(registry_root: Path, name: str) -> str:
    """The experiment of model ``name`` (created on first use, artifacts under the root)."""
    mlflow_client = client(registry_root)
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    with locked(registry_root):
        found = mlflow_client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        return mlflow_client.create_experiment(name, artifact_location=artifact_root(registry_root))


@contextmanager
def fluent(registry_root: Path) -> Iterator[None]:
    """Point MLflow's fluent API (``mlflow.start_run``, ``log_model``) at the mesh's store.

    ``mlflow.set_tracking_uri`` also exports ``MLFLOW_TRACKING_URI``; the environment is put back
    on exit so `embedded` keeps telling the mesh's own store from a configured one.
    """
    import mlflow

    uri, reg = tracking_uri(registry_root), registry_uri(registry_root)
    with _process_lock:
        saved = {k: os.environ.get(k) for k in _URI_VARIABLES}
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(reg)
        try:
            yield
        finally:
            for variable, value in saved.items():
                if value is None:
                    os.environ.pop(variable, None)
                else:
                    os.environ[variable] = value
