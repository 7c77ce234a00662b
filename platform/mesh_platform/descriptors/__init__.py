"""Load and validate domain and data product descriptors."""

from mesh_platform.descriptors.errors import SpecError, SpecErrors
from mesh_platform.descriptors.loader import load_domain, load_mesh
from mesh_platform.descriptors.models import DomainSpec, InputPort, OutputPort, ProductSpec

__all__ = [
    "DomainSpec",
    "InputPort",
    "OutputPort",
    "ProductSpec",
    "SpecError",
    "SpecErrors",
    "load_domain",
    "load_mesh",
]
