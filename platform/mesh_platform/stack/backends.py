"""The servers below Dagster: PostgreSQL, Redis, NATS and S3, and the variables naming them."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from mesh_platform.access.redact import masked_uri
from mesh_platform.orchestration.profile import BROKER_ENV, INSTANCE_DB_ENV
from mesh_platform.settings import PROFILE_ENV
from mesh_platform.stack.nats import nats_server
from mesh_platform.stack.postgres import PostgresServer
from mesh_platform.stack.redis import start_redis
from mesh_platform.stack.s3 import S3Endpoint, s3_server

EVENTS_ENV = "MESH_EVENTS_URL"  # the serving API's and the landing sensors' broker
CATALOG_PREFIX = "PYICEBERG_CATALOG__MESH__"  # pyiceberg's variables for the catalog "mesh"
DATABASES = ("dagster", "catalog")  # Dagster's instance; the Iceberg catalog


@dataclass
class Service:
    """One running service as the stack prints it."""

    name: str
    where: str
    pids: list[int] = field(default_factory=list)


def catalog_env(catalog_url: str, s3: S3Endpoint) -> dict[str, str]:
    """The pyiceberg variables of the SQL catalog at ``catalog_url``, the warehouse on ``s3``.

    pyiceberg reads ``__`` as ``.`` and ``_`` as ``-`` after the catalog's name:
    ``..._S3__ACCESS_KEY_ID`` is the property ``s3.access-key-id``.
    """
    env = {CATALOG_PREFIX + "URI": catalog_url,
           CATALOG_PREFIX + "WAREHOUSE": f"s3://{s3.bucket}/lake"}  # fmt: skip
    for key, value in s3.iceberg_properties().items():
        env[CATALOG_PREFIX + key.replace(".", "__").replace("-", "_").upper()] = value
    return env


def start_backends(
    exits: ExitStack, state: Path
) -> tuple[dict[str, str], list[Service], PostgresServer]:
    """Start PostgreSQL, Redis, NATS and S3 under ``state``; stopped when ``exits`` closes.

    Returns:
        The environment of the distributed profile (every endpoint), the services, and the
        PostgreSQL server (restartable on its data).
    """
    pg = PostgresServer(secrets.token_urlsafe(16), DATABASES)
    exits.callback(pg.remove)
    pg.init()
    pg.start()
    pg.create_databases()
    redis = start_redis(state / "redis")
    exits.callback(redis.stop)
    nats = exits.enter_context(nats_server(state / "nats" / "jetstream"))
    s3 = exits.enter_context(s3_server(state / "s3"))
    dagster_db = pg.endpoint(
        "dagster"
    ).url()  # SQLAlchemy 2.1 would pick psycopg 3 for "postgresql:"
    catalog_db = pg.endpoint("catalog").url()
    env = {
        PROFILE_ENV: "distributed",
        INSTANCE_DB_ENV: dagster_db,
        BROKER_ENV: redis.url,
        "CELERY_BROKER_URL": redis.url,  # the workers' broker and result backend
        "CELERY_RESULT_BACKEND": redis.url,
        EVENTS_ENV: nats.url,
        **catalog_env(catalog_db, s3),
    }
    services = [
        Service("postgresql (dagster)", masked_uri(dagster_db), [pg.endpoint().pid]),
        Service("postgresql (iceberg catalog)", masked_uri(catalog_db), [pg.endpoint().pid]),
        Service("redis (celery broker)", redis.url, [redis.proc.pid]),
        Service("nats (jetstream)", nats.url, [nats.pid]),
        Service("s3 (seaweedfs)", f"{s3.endpoint_url} bucket {s3.bucket}", [s3.pid]),
    ]
    return env, services, pg
