"""Validate events offline against the official OpenLineage JSON Schema and our facet schemas."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mesh_platform.settings import project_root

OWN_SCHEMAS = Path(__file__).resolve().parent / "schemas"


def spec_dir() -> Path:
    """The official spec: ``OPENLINEAGE_SPEC_DIR``, else ``../shared/openlineage-spec``."""
    override = os.environ.get("OPENLINEAGE_SPEC_DIR")
    return Path(override) if override else project_root().parent / "shared" / "openlineage-spec"


def _registry() -> tuple[Registry, str]:
    return _registry_at(spec_dir())


@lru_cache(maxsize=4)
def _registry_at(spec: Path) -> tuple[Registry, str]:
    """Every schema registered under its ``$id``: core, facets, registry, and ours."""
    if not (spec / "OpenLineage.json").exists():
        raise FileNotFoundError(
            f"OpenLineage spec not found at {spec}: set OPENLINEAGE_SPEC_DIR to its spec/ folder"
        )
    files = [*spec.rglob("*.json"), *OWN_SCHEMAS.glob("*.json")]
    registry: Registry = Registry()
    core_id = ""
    for path in files:
        schema = json.loads(path.read_text())
        if "$id" not in schema:
            continue
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
        if path.name == "OpenLineage.json":
            core_id = schema["$id"]
    return registry, core_id


def _validator(url: str) -> Draft202012Validator:
    registry, _ = _registry()
    # format checking on: "uuid" and "date-time" are part of what a valid event must be.
    return Draft202012Validator(
        {"$ref": url}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"run.facets.{k}", v) for k, v in event.get("run", {}).get("facets", {}).items()]
    found += [(f"job.facets.{k}", v) for k, v in event.get("job", {}).get("facets", {}).items()]
    for side in ("inputs", "outputs"):
        for i, dataset in enumerate(event.get(side, [])):
            for group in ("facets", "inputFacets", "outputFacets"):
                found += [
                    (f"{side}[{i}].{group}.{k}", v) for k, v in (dataset.get(group) or {}).items()
                ]
    return found


def validate_event(event: dict[str, Any]) -> list[str]:
    """Every schema violation of one event: the core schema, then each facet against its _schemaURL.

    Returns:
        Messages naming where in the event each violation is; empty when valid.
    """
    registry, core_id = _registry()
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<event>'}: {e.message}"
              for e in _validator(f"{core_id}#/$defs/RunEvent").iter_errors(event)]  # fmt: skip
    for where, facet in _facets(event):
        url = facet.get("_schemaURL", "")
        base = url.split("#")[0]
        try:
            registry.get_or_retrieve(base)
        except Exception:  # noqa: BLE001 - any lookup failure means the schema is unknown offline
            errors.append(f"{where}: _schemaURL {url!r} is not a known schema")
            continue
        errors += [f"{where}: {e.message}" for e in _validator(url).iter_errors(facet)]
    return errors
