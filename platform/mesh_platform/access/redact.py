"""Secrets kept out of what is shown, logged or emitted: passwords and secret values in URIs."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_WORDS = ("secret", "password", "token", "credential", "key-id", "session")


def is_secret(key: str) -> bool:
    """Whether a property or query parameter named ``key`` holds a secret."""
    return any(w in key.lower() for w in SECRET_WORDS)


def masked_uri(uri: str) -> str:
    """``uri`` with its password (``user:password@host``) and secret query values as ``***``.

    libpq also takes ``?password=`` and ``?sslpassword=``, which SQLAlchemy's own masking keeps.
    """
    if "://" not in uri or ("@" not in uri and "?" not in uri):
        return uri
    try:
        url = make_url(uri)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: show no more than its scheme
        return uri.split("://", 1)[0] + "://***"
    url = url.update_query_dict({k: "***" for k in url.query if is_secret(k)})
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
