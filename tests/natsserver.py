"""A real NATS server with JetStream for tests: the platform's own (mesh_platform.stack.nats)."""

from mesh_platform.stack.nats import NATS_SERVER, NatsEndpoint, nats_server

__all__ = ["NATS_SERVER", "NatsEndpoint", "nats_server"]
