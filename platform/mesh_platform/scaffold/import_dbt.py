"""`mesh import dbt`: an existing dbt project becomes a domain of declarations and its dbt files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mesh_platform.contracts.infer import DECIDE
from mesh_platform.contracts.port_init import model_docs
from mesh_platform.scaffold.dbt_scan import DbtProject, scan_project
from mesh_platform.scaffold.domain import (
    WORKSPACE,
    add_workspace_entry,
    check_name,
    workspace_locations,
)
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.import_feeds import INGESTED, Feed, contracts, feeds, seed_models, snake
from mesh_platform.scaffold.import_files import dbt_files, package_files, project_config
from mesh_platform.scaffold.render import render, write_all


@dataclass
class Imported:
    """What an import wrote (relative to the mesh root) and what is left to do."""

    written: list[Path] = field(default_factory=list)
    landed: list[Path] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def _product(name: str, description: str, inputs: list[Feed], ports: list[dict]) -> dict:
    return {
        "name": name, "kind": "source-aligned", "description": description, "tier": "silver",
        "input_ports": [f.input_port() for f in inputs], "output_ports": ports,
        "slos": {"freshness_hours": 24},
    }  # fmt: skip


def products(
    project: DbtProject, domain: str, public: list[str], all_feeds: dict[str, Feed]
) -> dict[str, dict]:
    """One product per public model (reading the feeds upstream of it), one for the rest."""
    by_table = {(f.dbt_source or INGESTED, f.name): f for f in all_feeds.values()}
    out: dict[str, dict] = {}
    used: set[str] = set()
    for model in public:
        reads = [by_table[s, snake(t)] for s, t in project.upstream_sources(model)
                 if (s, snake(t)) in by_table]  # fmt: skip
        inputs = sorted(reads, key=lambda f: f.name) or list(all_feeds.values())
        used |= {f.name for f in inputs}
        port = {"name": model, "model": model, "visibility": "public", "version": 1}
        docs = (model_docs(folder, model) for folder in project.folders("model-paths"))
        about = next((d.description for d in docs if d.description), None)
        out[model] = _product(model, about or f"{DECIDE} what {model} holds", inputs, [port])
    rest = [f for f in all_feeds.values() if f.name not in used]
    referenced = {r[1] for reads in project.reads.values() for r in reads if r[0] == "ref"}
    leaves = [m for m in project.models if m not in referenced and m not in public]
    if rest and leaves:
        ports = [{"name": m, "model": m, "visibility": "private", "version": 1} for m in leaves]
        out[domain] = _product(domain, f"{DECIDE} what {domain}'s other models are", rest, ports)
    elif rest and out:  # nothing private to publish: the first public product reads them too
        first = next(iter(out.values()))
        first["input_ports"] += [f.input_port() for f in rest]
    elif not out:
        msg = "a product needs a --public or leaf model and a seed, data file or source to read"
        raise ScaffoldError(f"{project.path}: nothing to declare: {msg}")
    return out


def _domain_yaml(name: str, owners: list[str] | None) -> str:
    spec = {
        "name": name, "team": f"{DECIDE} the team that owns {name}",
        "owners": owners or ["team:todo"],
        "description": f"{DECIDE} what the {name} domain owns, and for whom",
        "kind": "source-aligned",
    }  # fmt: skip
    note = "" if owners else f"# {DECIDE} owners: team:<name> or the team's mailbox (--owner)\n"
    return f"# Domain {name}, imported by `mesh import dbt`.\n{note}" + _yaml(spec)


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True)


def _check(project: DbtProject, domain: str, public: list[str], root: Path) -> None:
    check_name(domain, "domain")
    if (root / "domains" / domain).exists():
        raise ScaffoldError(f"domain '{domain}' exists already at {root / 'domains' / domain}")
    if not (root / WORKSPACE).is_file():
        raise ScaffoldError(f"{root / WORKSPACE}: not found: is {root} a mesh? (`mesh init`)")
    if domain in workspace_locations(root / WORKSPACE):
        raise ScaffoldError(f"{root / WORKSPACE}: location '{domain}' is already listed")
    for model in public:
        if model not in project.models:
            have = ", ".join(sorted(project.models)) or "none"
            raise ScaffoldError(f"{project.path}: --public: no model '{model}' (models: {have})")


def import_dbt(
    root: Path, landing: Path, path: Path, domain: str, public: list[str],
    owners: list[str] | None = None,
) -> Imported:  # fmt: skip
    """Turn the dbt project at ``path`` into ``domains/<domain>/`` of the mesh at ``root``.

    Args:
        root: the mesh root.
        landing: the landing zone (``MESH_HOME/landing``): data files are copied under it.
        path: the dbt project folder.
        domain: the new domain's name.
        public: models published as public output ports.
        owners: the domain's owners (else a placeholder `mesh govern` refuses).

    Returns:
        The files written and landed, and the steps left to a person.

    Raises:
        ScaffoldError: not a dbt project, unknown --public model, unreadable file; nothing
            is written then.
    """
    project = scan_project(path)
    _check(project, domain, public, root)
    result = Imported()
    all_feeds = feeds(project, domain, result.next_steps)
    sources = contracts(project, all_feeds, domain, root, result.next_steps)
    home = root / "domains" / domain
    files = {home / "domain.yaml": _domain_yaml(domain, owners),
             home / "defs.yaml": render("domain/defs.yaml.j2", name=domain)}  # fmt: skip
    files |= seed_models(project, home / "dbt" / "models")  # before products: adds their reads
    files |= sources
    for name, spec in products(project, domain, public, all_feeds).items():
        header = f"# Data product {name}, imported by `mesh import dbt` from {project.name}.\n"
        files[home / "products" / f"{name}.yaml"] = header + _yaml(spec)
    files |= dbt_files(project, home / "dbt")
    files |= package_files(project, home / "dbt", result.next_steps)
    config = project_config(project)
    if config:
        note = "# dbt_project.yml config of the imported project, for the platform's rendering.\n"
        files[home / "dbt" / "project_config.yml"] = note + _yaml(config)
    result.written = write_all(files, root)
    add_workspace_entry(root / WORKSPACE, domain)  # its code location, as `mesh new domain` adds
    result.written.append(WORKSPACE)
    for feed in all_feeds.values():
        if feed.file is not None:
            target = landing / feed.location
            target.parent.mkdir(parents=True, exist_ok=True)
            result.landed.append(Path(shutil.copy2(feed.file, target)))
    result.next_steps += [f"after the first build, `mesh contracts init {domain}/{m}`"
                          for m in public]  # fmt: skip
    return result
