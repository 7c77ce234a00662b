"""The OpenLineage transport configured the standard way, bounded so a data run never waits."""

from __future__ import annotations

import logging
import os

from openlineage.client import OpenLineageClient
from openlineage.client.transport import Transport
from openlineage.client.transport.composite import CompositeTransport
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpTransport, TokenProvider
from requests.adapters import HTTPAdapter

from mesh_platform.access.tokens import LINEAGE, load_auth

CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 2.0


def _bounded(transport: Transport) -> Transport:
    """Short timeouts and no retries: the outbox retries later, a data run must not wait."""
    if isinstance(transport, HttpTransport):
        read = min(READ_TIMEOUT, float(transport.timeout))
        setattr(transport, "timeout", (CONNECT_TIMEOUT, read))  # noqa: B010 - requests takes a pair
        transport.session.mount(transport.url, HTTPAdapter(max_retries=0))
        _with_token(transport)
    elif isinstance(transport, CompositeTransport):
        for child in transport.transports:
            _bounded(child)
    elif transport.kind == "console":
        # The console transport logs at INFO; make sure a configured console is seen.
        console = logging.getLogger("openlineage.client.transport.console")
        if console.getEffectiveLevel() > logging.INFO:
            console.setLevel(logging.INFO)
        if not console.hasHandlers():
            console.addHandler(logging.StreamHandler())
    return transport


def _with_token(transport: HttpTransport) -> None:
    """Send the mesh's lineage token as the bearer, unless OpenLineage's config has its own auth.

    The token is the one `mesh lineage serve` requires (MESH_LINEAGE_TOKEN[_FILE], else
    MESH_API_TOKEN[_FILE]). An ``auth`` section (or OPENLINEAGE_API_KEY) wins: it was written
    for that backend.
    """
    if type(transport.config.auth) is not TokenProvider:  # the client's "no auth" provider
        return
    token = load_auth(LINEAGE).token
    if token is not None:
        transport.config.auth = ApiKeyTokenProvider({"apiKey": token})


def _config_present() -> bool:
    """Whether any standard OpenLineage configuration source is set (cheap, no client built)."""
    if os.environ.get("OPENLINEAGE_URL"):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT__") for key in os.environ):
        return True
    return OpenLineageClient._find_yaml_config_path() is not None


def configured_transport() -> Transport | None:
    """The transport configured the standard OpenLineage way, or None when nothing is.

    Sources, resolved by the client itself: ``openlineage.yml`` (``OPENLINEAGE_CONFIG``, the
    working directory, ``~/.openlineage``), ``OPENLINEAGE__TRANSPORT__*`` and ``OPENLINEAGE_URL``.
    The client would fall back to the console when none is set; the mesh then keeps its local log
    only. HTTP transports get short timeouts and no retries.

    Raises:
        ValueError: the configuration does not parse, or the lineage token is unusable.
    """
    if not _config_present():
        return None
    client = OpenLineageClient()
    transport_config = client.config.transport or {}
    if not transport_config.get("type") and not os.environ.get("OPENLINEAGE_URL"):
        return None  # a config file without a transport section
    if client.transport.kind == "noop":  # OPENLINEAGE_DISABLED=true
        return None
    return _bounded(client.transport)
