"""`mesh new`: scaffold a domain or a data product that loads and builds at once."""

from mesh_platform.scaffold.domain import new_domain
from mesh_platform.scaffold.errors import ScaffoldError
from mesh_platform.scaffold.product import new_product

__all__ = ["ScaffoldError", "new_domain", "new_product"]
