"""A real PostgreSQL server for tests: the platform's own (mesh_platform.stack.postgres)."""

from mesh_platform.stack.postgres import PgEndpoint, PostgresServer, postgres_server

__all__ = ["PgEndpoint", "PostgresServer", "postgres_server"]
