"""Load and validate domain and data product descriptors."""

from mesh_platform.spec.errors import SpecError, SpecErrors
from mesh_platform.spec.loader import load_domain, load_mesh
from mesh_platform.spec.models import DomainSpec, InputPort, OutputPort, ProductSpec

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
