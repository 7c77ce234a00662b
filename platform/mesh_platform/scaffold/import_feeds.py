"""The landing feeds of an imported dbt project: its seeds and data files, and their contracts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_platform.contracts.infer import source_contract
from mesh_platform.contracts.port_init import dump
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.scaffold.dbt_scan import DbtProject
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.landing_product import INGESTED


@dataclass(frozen=True)
class Feed:
    """A landing feed: a data file of the project (or a source table without one)."""

    name: str
    file: Path | None
    location: str
    dbt_source: str | None = None

    def input_port(self) -> dict[str, Any]:
        """The landing input port declaring it, mapped onto the project's source name."""
        port = {"name": self.name, "kind": "landing", "location": self.location}
        return port | ({"dbt_source": self.dbt_source} if self.dbt_source else {})


def snake(text: str) -> str:
    """A lower snake case name from a file stem or folder: ``Raw-Orders 24`` -> raw_orders_24."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return name if re.match(r"[a-z]", name) else f"f_{name}"


def feeds(project: DbtProject, domain: str, steps: list[str]) -> dict[str, Feed]:
    """One feed per seed and data file; each source table maps onto the feed of its name."""
    files = {**project.data_files, **project.seeds}
    out: dict[str, Feed] = {}
    sourced = {table: source for source, table in project.sources}
    for stem, path in files.items():
        name = snake(stem)
        out[name] = Feed(name, path, f"{domain}/{path.name}", sourced.get(stem))
    for source, table in project.sources:
        if snake(table) not in out:
            out[snake(table)] = Feed(snake(table), None, f"{domain}/{table}.*", source)
            steps.append(f"source '{source}.{table}' has no data file in the project: land its "
                         f"files as landing/{domain}/{table}.<csv|parquet|jsonl> and run "
                         f"`mesh contracts infer` on one")  # fmt: skip
    for name, feed in out.items():
        if feed.dbt_source is None and feed.file not in read_seeds(project).values():
            steps.append(f"'{name}' is read by no dbt source: read it as source('raw', '{name}')")
    return out


def read_seeds(project: DbtProject) -> dict[str, Path]:
    """Seeds the models read with ref(): each becomes a model of its name over its feed."""
    refs = {r[1] for reads in project.reads.values() for r in reads if r[0] == "ref"}
    return {name: path for name, path in project.seeds.items() if name in refs}


def seed_models(project: DbtProject, models: Path) -> dict[Path, str]:
    """A model named as each ref()'d seed, reading its feed: the SQL keeps ``ref('<seed>')``."""
    out: dict[Path, str] = {}
    for seed in read_seeds(project):
        project.reads[seed] = {("source", INGESTED, seed)}  # its product reads the feed
        out[models / "seeds" / f"{seed}.sql"] = (
            f"-- Seed {seed}, now a landing feed: ref('{seed}') reads it unchanged.\n"
            f"select * from {{{{ source('{INGESTED}', '{snake(seed)}') }}}}\n"
        )
    return out


def contracts(
    project: DbtProject, found: dict[str, Feed], domain: str, root: Path, steps: list[str]
) -> dict[Path, str]:
    """A source contract per feed with a file; a data file DuckDB cannot read is left out.

    Raises:
        ScaffoldError: a seed DuckDB cannot read (its file and why, in one line).
    """
    out: dict[Path, str] = {}
    for feed in list(found.values()):
        if feed.file is None:
            continue
        try:
            contract = source_contract(feed.file, domain, feed.name, feed.location)
        except SpecErrors as exc:
            if feed.file in project.seeds.values():
                raise ScaffoldError(str(exc.errors[0])) from None
            del found[feed.name]  # e.g. a JSON config file: not data, not a feed
            steps.append(f"not imported as a feed: {exc.errors[0]}")
            continue
        path = root / "contracts" / domain / "sources" / f"{feed.name}.odcs.yaml"
        out[path] = dump(contract, f"Source contract of {feed.name}, from {feed.file.name}.")
    return out
