"""Which broker, subject and consumer a feed uses, and which feeds a domain's sensor pulls."""

from __future__ import annotations

from mesh_platform.descriptors.loader import load_mesh
from mesh_platform.events.config import BusConfig, bus_config
from mesh_platform.ingest.bus import bus_feeds

from tests.support import REPO


def test_no_url_means_landing_files():
    assert bus_config({}) is None
    assert bus_config({"MESH_EVENTS_URL": " "}) is None
    config = bus_config({"MESH_EVENTS_URL": "nats://127.0.0.1:4222", "MESH_EVENTS_STREAM": "S"})
    assert config == BusConfig("nats://127.0.0.1:4222", "S", "mesh.events")


def test_subject_and_durable_names_are_valid_tokens():
    config = BusConfig("nats://x:1")
    assert config.subject("web") == "mesh.events.web"
    assert config.subject("a/b c") == "mesh.events.a.b.c"
    assert config.durable("web", "events_api") == "land_web_events_api"
    assert config.durable("a/b", "x.y") == "land_a_b_x_y"


def test_the_feed_goes_to_the_domain_whose_landing_glob_reads_it():
    domains, _ = load_mesh(REPO / "domains")
    readers = {name: bus_feeds(d, domains) for name, d in domains.items()}
    assert {n: f for n, f in readers.items() if f} == {"web": [("web", "events_api")]}
