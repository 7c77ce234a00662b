"""A real S3 server for tests: the platform's own (mesh_platform.stack.s3)."""

from mesh_platform.stack.procs import free_ports
from mesh_platform.stack.s3 import PORT_FLAGS, WEED, S3Endpoint, s3_server

__all__ = ["PORT_FLAGS", "WEED", "S3Endpoint", "free_ports", "s3_server"]
