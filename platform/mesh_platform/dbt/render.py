"""The prepared dbt project of a domain: its dbt files plus what the platform derives."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import yaml

from mesh_platform import yamlio
from mesh_platform.dbt.port_models import inject_contracts, models_doc, port_contracts
from mesh_platform.dbt.sources import inject_sources, input_tables, mesh_port_macro, sources_doc
from mesh_platform.descriptors.loader import Domain

COPIED_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "packages")
COPIED_FILES = ("packages.yml", "dependencies.yml", "package-lock.yml", "selectors.yml")
GENERATED = "models/_mesh"  # generated properties: sources and contracted models nobody declared
MACROS = "mesh_macros"  # the platform's macros (mesh_port), a macro path of the project
FINGERPRINT = "mesh_render.txt"  # changes whenever any rendered file does: the manifest is stale
PLUGIN_MODULE = "mesh_platform.dbt.sandbox_plugin"
_OWN = ("target", "logs", "dbt_packages")  # dbt's own output: never the platform's to prune
PROJECT_CONFIG = "project_config.yml"  # an imported project's dbt_project.yml config blocks
# Config blocks dbt scopes by project name (``models: {<project>: {...}}``).
_SCOPED = ("models", "snapshots", "data_tests", "tests", "seeds", "semantic-models",
           "saved-queries", "sources")  # fmt: skip


def prepared_dir(home: Path, domain: str) -> Path:
    """Where the prepared dbt project of ``domain`` lives under MESH_HOME."""
    return Path(home) / "dbt" / domain


def _dump(doc: dict[str, Any], origin: str) -> str:
    head = f"# Rendered by the mesh platform from {origin}: edit that, not this.\n"
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def imported_config(dbt_dir: Path, name: str) -> dict[str, Any]:
    """``project_config.yml`` (kept by `mesh import dbt`) as dbt_project.yml keys of ``name``.

    Its scoped blocks (``models:`` ...) go back under the project's name; ``{}`` without one.
    """
    file = Path(dbt_dir) / PROJECT_CONFIG
    config = yamlio.safe_load(file.read_text(encoding="utf-8")) if file.is_file() else None
    if not isinstance(config, dict):
        return {}
    return {k: {name: v} if k in _SCOPED else v for k, v in config.items()}


MODEL_VARS = "mesh_models"  # dbt var: ML product -> what its training SQL must agree with


def model_vars(domain: Domain) -> dict[str, dict[str, Any]]:
    """Each declared model's facts its dbt SQL needs, as ``var('mesh_models')[product]``.

    The label horizon is declared once, in the descriptor: the training table's SQL reads it
    (``var('mesh_models')['<product>']['horizon_days']``) instead of repeating it.
    """
    return {
        name: {"horizon_days": product.model.horizon_days, "as_of": product.model.as_of}
        for name, product in sorted(domain.products.items())
        if product.model is not None
    }


def _project_file(domain: Domain) -> dict[str, Any]:
    """The domain's own dbt_project.yml with what the platform needs, or the platform's default.

    The default takes an imported project's config (``project_config.yml``) over its layers.
    """
    own = domain.dbt_dir / "dbt_project.yml"
    if own.exists():
        project = yamlio.safe_load(own.read_text(encoding="utf-8")) or {}
        for key in ("target-path", "log-path", "packages-install-path"):
            project.pop(key, None)  # dbt's output belongs under MESH_HOME, beside the project
    else:
        layers = {"+materialized": "table", "staging": {"+materialized": "view"}}
        project = {"name": domain.name, "version": "1.0.0", "config-version": 2,
                   "models": {domain.name: layers}}  # fmt: skip
        project |= imported_config(domain.dbt_dir, domain.name)
    project["profile"] = domain.name
    models = model_vars(domain)
    if models:  # one fact, one place: the SQL reads the declared horizon, never restates it
        project["vars"] = {**(project.get("vars") or {}), MODEL_VARS: models}
    paths = list(project.get("macro-paths") or ["macros"])
    project["macro-paths"] = [*paths, MACROS] if MACROS not in paths else paths
    flags = project.setdefault("flags", {})
    flags.update(send_anonymous_usage_stats=False, version_check=False, partial_parse=True)
    return project


MEMORY_LIMIT = "{{ env_var('MESH_DUCKDB_MEMORY_LIMIT', '4GB') }}"  # rendered by dbt at run time


def _profiles(domain: str, home: Path) -> dict[str, Any]:
    """The domain's private DuckDB warehouse, with the sandbox plugin (``dbt.sandbox``)."""
    output = {"type": "duckdb", "path": str(home / "warehouse" / f"{domain}.duckdb"),
              "schema": "main", "threads": 2,
              # Sources name landing files and other domains' ports relative to MESH_HOME.
              # DuckDB takes 80% of RAM by default; a cap makes big joins spill to disk instead
              # (a scale-10 feature build peaked at 14.2 GiB uncapped, 3.0 GiB under 4GB).
              "settings": {"file_search_path": str(home), "memory_limit": MEMORY_LIMIT},
              "plugins": [{"module": PLUGIN_MODULE}]}  # fmt: skip
    return {domain: {"target": "local", "outputs": {"local": output}}}


def _copied(src: Path) -> list[Path]:
    """The domain's dbt files, relative to its dbt folder."""
    found = [Path(f) for f in COPIED_FILES if (src / f).is_file()]
    for folder in COPIED_DIRS:
        found += [p.relative_to(src) for p in sorted((src / folder).rglob("*")) if p.is_file()]
    return found


def _properties(src: Path, files: list[Path]) -> dict[Path, dict[str, Any]]:
    """The domain's model property documents (.yml under models/), parsed."""
    docs = {}
    for rel in files:
        if rel.parts[0] == "models" and rel.suffix in (".yml", ".yaml"):
            data = yamlio.safe_load((src / rel).read_text(encoding="utf-8"))
            docs[rel] = data if isinstance(data, dict) else {}
    return docs


def rendered_files(domain: Domain, contracts_dir: Path, home: Path) -> dict[Path, str | Path]:
    """Every file of the prepared project: generated text, or the domain file to copy.

    Args:
        domain: the loaded domain.
        contracts_dir: the mesh's contracts/ folder (port models take their columns from it).
        home: MESH_HOME (the profile's warehouse and file search path).
    """
    src = domain.dbt_dir
    files = _copied(src) if src.is_dir() else []
    docs = _properties(src, files)
    originals = {rel: yaml.safe_dump(d, sort_keys=False) for rel, d in docs.items()}
    tables = input_tables(domain)
    left_tables = inject_sources(docs.values(), tables)
    left_models = inject_contracts(docs.values(), port_contracts(domain, contracts_dir))
    out: dict[Path, str | Path] = {rel: src / rel for rel in files}
    for rel, doc in docs.items():
        if yaml.safe_dump(doc, sort_keys=False) != originals[rel]:
            out[rel] = _dump(doc, f"domains/{domain.name}/dbt/{rel}, input_ports and contracts")
    if left_tables:
        out[Path(GENERATED, "_mesh__sources.yml")] = _dump(sources_doc(left_tables), "input_ports")
    if left_models:
        out[Path(GENERATED, "_mesh__ports.yml")] = _dump(models_doc(left_models), "contracts")
    out[Path(MACROS, "mesh_port.sql")] = mesh_port_macro(tables, domain.name)
    out[Path("dbt_project.yml")] = _dump(_project_file(domain), f"domains/{domain.name}")
    out[Path("profiles.yml")] = _dump(_profiles(domain.name, home), "the platform")
    return out


def _write(dest: Path, rel: Path, content: str | Path) -> str:
    """Write one file when it differs; return its fingerprint line."""
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Path):
        stat = content.stat()
        have = target.stat() if target.exists() else None
        if have is None or (have.st_size, have.st_mtime) != (stat.st_size, stat.st_mtime):
            shutil.copy2(content, target)  # keeps the mtime: unchanged files compare equal
        return f"{rel} {stat.st_size} {stat.st_mtime_ns}"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return f"{rel} {hashlib.sha256(content.encode()).hexdigest()}"


def _prune(dest: Path, keep: set[Path]) -> None:
    """Remove files the domain no longer has (a deleted model must leave the project too)."""
    tops = [p for p in dest.iterdir() if p.name not in (*_OWN, FINGERPRINT)]
    found = [*tops, *(p for top in tops if top.is_dir() for p in top.rglob("*"))]
    for path in sorted(found, reverse=True):
        rel = path.relative_to(dest)
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def render_project(
    domain: Domain, contracts_dir: Path, home: Path, dest: Path | None = None
) -> Path:
    """Render the prepared dbt project of a domain, writing only files that changed.

    Args:
        domain: the loaded domain.
        contracts_dir: the mesh's contracts/ folder.
        home: MESH_HOME.
        dest: where to render (default ``<home>/dbt/<domain>``).

    Returns:
        The project folder; dbt's target/ and logs/ go there, nothing into the checkout.
    """
    home = Path(home).resolve()
    dest = Path(dest) if dest is not None else prepared_dir(home, domain.name)
    files = rendered_files(domain, contracts_dir, home)
    lines = [_write(dest, rel, content) for rel, content in sorted(files.items())]
    _prune(dest, set(files))
    text = "\n".join(lines) + "\n"
    marker = dest / FINGERPRINT
    if not marker.exists() or marker.read_text(encoding="utf-8") != text:
        marker.write_text(text, encoding="utf-8")
    return dest
