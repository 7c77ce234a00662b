"""dbt packages: run `dbt deps` when packages.yml/dependencies.yml changed; clear errors offline."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from mesh_platform import yamlio
from mesh_platform.descriptors.errors import SpecError, SpecErrors

PACKAGE_FILES = ("packages.yml", "dependencies.yml")  # dbt reads the first one present
STAMP = ".mesh-deps"  # in the install folder: the packages file's hash it was installed from
QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}


def packages_file(project_dir: Path) -> Path | None:
    """The project's packages.yml (or dependencies.yml), None when it declares no packages."""
    return next((p for f in PACKAGE_FILES if (p := Path(project_dir) / f).is_file()), None)


def _entries(file: Path) -> list[dict[str, Any]]:
    try:
        data = yamlio.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SpecErrors([SpecError(file, "", f"cannot read: {exc}")]) from None
    entries = data.get("packages") if isinstance(data, dict) else None
    if entries is not None and not isinstance(entries, list):
        raise SpecErrors([SpecError(file, "packages", "must be a list of packages")])
    return [e if isinstance(e, dict) else {} for e in entries or []]


def _label(entry: dict[str, Any]) -> str:
    return str(entry.get("package") or entry.get("git") or entry.get("local") or entry)


def _install_dir(project_dir: Path) -> Path:
    """Where dbt installs packages: ``packages-install-path`` of dbt_project.yml or dbt_packages."""
    project = Path(project_dir) / "dbt_project.yml"
    data = yamlio.safe_load(project.read_text(encoding="utf-8")) if project.is_file() else None
    folder = (data or {}).get("packages-install-path") or "dbt_packages"
    return Path(project_dir) / folder


def _check_locals(file: Path, entries: list[dict[str, Any]]) -> None:
    """A local package must exist: said before dbt runs, naming the entry."""
    errors = [
        SpecError(file, f"packages[{i}].local", f"local package '{e['local']}' does not exist")
        for i, e in enumerate(entries)
        if "local" in e and not (file.parent / str(e["local"])).is_dir()
    ]
    if errors:
        raise SpecErrors(errors)


def _reason(output: str) -> str:
    """The cause dbt gave in one line: a host it could not reach, git's fatal line or its last."""
    host = re.search(r"(?:resolve host|Failed to resolve) '?([\w.-]+)", output)
    if host:
        return f"cannot reach {host.group(1)} (offline?)"
    fatal = re.search(r"^\s*fatal: (.+)$", output, re.M)
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return fatal.group(1) if fatal else (lines[-1] if lines else "dbt deps failed")


def _failed(file: Path, entries: list[dict[str, Any]], output: str) -> SpecErrors:
    """Name the remote package(s) dbt could not fetch: the ones its output names, else all."""
    remote = [(i, e) for i, e in enumerate(entries) if "local" not in e]
    named = [(i, e) for i, e in remote if _label(e) in output] or remote
    if any("package" in e for _, e in remote) and "hub.getdbt.com" in output:
        named = [(i, e) for i, e in remote if "package" in e]  # the hub index failed: all of them
    why = _reason(output)
    if not named:
        return SpecErrors([SpecError(file, "packages", f"dbt deps failed: {why}")])
    return SpecErrors(
        [SpecError(file, f"packages[{i}]", f"cannot fetch '{_label(e)}': {why}") for i, e in named]
    )


def ensure_packages(project_dir: Path, force: bool = False) -> bool:
    """Run `dbt deps` when the project declares packages and its installed ones are stale.

    Stale: the install folder is missing or was installed from another packages file text. Local
    packages install offline; hub and git packages need their server.

    Args:
        project_dir: the dbt project (the folder with dbt_project.yml).
        force: run `dbt deps` even when the installed packages are current.

    Returns:
        True when `dbt deps` ran.

    Raises:
        SpecErrors: a missing local package, or a package dbt could not fetch, naming the
            packages file and the entry.
    """
    file = packages_file(project_dir)
    if file is None:
        return False
    entries = _entries(file)
    _check_locals(file, entries)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    stamp = _install_dir(project_dir) / STAMP
    if not force and stamp.is_file() and stamp.read_text() == digest:
        return False
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), "deps", "--project-dir", str(project_dir)],
        capture_output=True, text=True, cwd=project_dir, env={**os.environ, **QUIET_ENV},
    )  # fmt: skip
    if proc.returncode != 0:
        raise _failed(file, entries, proc.stdout + proc.stderr)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    return True
