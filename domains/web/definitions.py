"""Dagster code location of the web domain: everything is built from its descriptors."""

from mesh_platform.orchestration.factory import build_domain_definitions

defs = build_domain_definitions(__file__)
