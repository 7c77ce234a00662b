"""A domain as a Dagster component: `domains/<d>/defs.yaml` names DomainComponent."""

from __future__ import annotations

import importlib
from pathlib import Path

import dagster as dg

from mesh_platform import yamlio
from mesh_platform.orchestration.factory import build_domain_definitions

DEFS_FILE = "defs.yaml"


class DomainComponent(dg.Component, dg.Model, dg.Resolvable):
    """A domain folder whose descriptors and dbt SQL the platform turns into definitions.

    Attributes:
        path: the domain folder (default: the folder holding defs.yaml).
    """

    path: str | None = None

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The domain's dbt, ingestion and ML assets, jobs, sensors and governance checks."""
        return build_domain_definitions(Path(self.path or context.path))


def _component_class(type_name: str) -> type[dg.Component]:
    module, _, name = type_name.rpartition(".")
    found = getattr(importlib.import_module(module), name, None)
    if not (isinstance(found, type) and issubclass(found, dg.Component)):
        raise TypeError(f"{type_name} is not a dagster Component class")
    return found


def load_domain_defs(domain_dir: Path) -> dg.Definitions:
    """Load a domain folder's defs.yaml (``type`` and ``attributes``) into Definitions.

    The domains folder is not a Python package, so Dagster's defs-folder loader (which imports
    the folder as a module) cannot walk it: the platform reads the one file itself.
    """
    folder = Path(domain_dir).resolve()
    decl = yamlio.safe_load((folder / DEFS_FILE).read_text(encoding="utf-8")) or {}
    cls = _component_class(str(decl.get("type", "")))
    attributes = dict(decl.get("attributes") or {})
    if cls is DomainComponent or issubclass(cls, DomainComponent):
        attributes["path"] = str(folder / attributes.get("path", "."))
    component = cls.from_attributes_dict(attributes=attributes)
    return dg.build_defs_for_component(component)
