"""The code location of one domain: the working directory's defs.yaml (workspace.yaml sets it)."""

from pathlib import Path

from mesh_platform.orchestration.component import load_domain_defs

defs = load_domain_defs(Path.cwd())
