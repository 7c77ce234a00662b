"""What `mesh serve` serves comes from a ``serving:`` block: loading, validation, selection."""

from __future__ import annotations

from pathlib import Path

import pytest
from mesh_platform.cli import app
from mesh_platform.cli.serve import _listen_and_product
from mesh_platform.contracts.conformance import validate_mesh
from mesh_platform.serving.binding import ServeSetupError, load_served
from mesh_platform.serving.config import ServeConfig

from tests.serving.conftest import FAST, SERVED
from tests.support import REPO, copy_mesh, edit_yaml, invoke

RECOMMENDER = "domains/personalization/products/recommender.yaml"
SALES = "domains/sales/products/daily_revenue.yaml"


@pytest.fixture
def mesh(tmp_path) -> Path:
    """A copy of the demo's descriptors and contracts to change."""
    return copy_mesh(tmp_path / "repo", ("mesh.yaml", "domains", "contracts"))


def serving_of(root: Path, rel: str = RECOMMENDER):
    """A function that applies ``change`` to the serving block of ``rel``."""
    return lambda change: edit_yaml(root / rel, lambda d: change(d["serving"]))


def errors_of(root: Path) -> list[str]:
    return [str(e) for e in validate_mesh(root)[1] if ".serving" in str(e) or "serving" in e.field]


def test_the_demo_serving_block_resolves_to_the_served_ports():
    served, window = load_served(REPO, None)
    assert served == SERVED and window == 30
    assert served.path_name == "recommendations"


def test_config_round_trips_to_worker_processes():
    assert ServeConfig.from_json(FAST.to_json()) == FAST


def test_the_demo_mesh_validates_with_its_serving_block(mesh):
    assert errors_of(mesh) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda s: s["predictions"].update(entity="shopper_id"), "serving.predictions.entity",
         "'shopper_id' is not a column of personalization/recommendations"),
        (lambda s: s["predictions"].update(port="nope"), "serving.predictions.port",
         "'nope' is not an output port of recommender"),
        (lambda s: s["catalogue"].update(port="catalog/nothing"), "serving.catalogue.port",
         "no output port 'catalog/nothing' in the mesh"),
        (lambda s: s["catalogue"].update(version=7), "serving.catalogue.version",
         "publishes no v7"),
        (lambda s: s["popularity"].update(time="when"), "serving.popularity.time",
         "'when' is not a column of sales/order_lines"),
        (lambda s: s["popularity"].update(exclude={"state": ["x"]}),
         "serving.popularity.exclude.state", "'state' is not a column"),
        (lambda s: s["events"].update(landing="nowhere"), "serving.events.landing",
         "no landing input reads nowhere/events_api-x.jsonl"),
    ],
)  # fmt: skip
def test_validate_names_the_file_and_field_of_a_bad_reference(mesh, change, field, words):
    serving_of(mesh)(change)
    errors = errors_of(mesh)
    assert len(errors) == 1, errors
    assert f"{RECOMMENDER.split('/')[-1]}: {field}: " in errors[0] and words in errors[0]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda s: s["predictions"].pop("item"), "serving.predictions.item", "Field required"),
        (lambda s: s["predictions"].update(colour="red"), "serving.predictions.colour",
         "Extra inputs are not permitted"),
        (lambda s: s["catalogue"].update(group="score"), "serving", "a key of the API's answer"),
        (lambda s: s["popularity"].update(port="order_lines"), "serving.popularity.port",
         "should match pattern"),
    ],
)  # fmt: skip
def test_a_malformed_block_is_a_descriptor_error(mesh, change, field, words):
    serving_of(mesh)(change)
    errors = [str(e) for e in validate_mesh(mesh)[1]]
    assert any(f"recommender.yaml: {field}: " in e and words in e for e in errors), errors
    with pytest.raises(ServeSetupError, match=field.replace(".", r"\.")):
        load_served(mesh, None)


def _second_block(root: Path) -> None:
    """daily_revenue declares a (nonsensical but well-formed) serving block too."""
    block = {"predictions": {"port": "daily_revenue", "entity": "order_date", "item": "revenue"}}
    edit_yaml(root / SALES, lambda d: d.update(serving=block))


def test_serve_picks_the_only_block_and_lists_several(mesh):
    assert load_served(mesh, None)[0] == SERVED
    _second_block(mesh)
    with pytest.raises(ServeSetupError) as exc:
        load_served(mesh, None)
    assert "personalization/recommender, sales/daily_revenue" in str(exc.value)
    assert "--product DOMAIN/PRODUCT" in str(exc.value)
    assert load_served(mesh, "personalization/recommender")[0] == SERVED
    with pytest.raises(ServeSetupError, match="product sales/orders does not exist or declares no"):
        load_served(mesh, "sales/orders")


def test_serve_without_any_block_says_what_to_add(mesh):
    edit_yaml(mesh / RECOMMENDER, lambda d: d.pop("serving"))
    with pytest.raises(ServeSetupError, match="no product declares 'serving:'"):
        load_served(mesh, None)


def test_the_chosen_products_errors_stop_serve_others_do_not(mesh):
    _second_block(mesh)  # its entity/item columns are not in its contract: its own problem
    assert load_served(mesh, "personalization/recommender")[0] == SERVED
    with pytest.raises(ServeSetupError, match=r"daily_revenue.yaml: serving\.predictions\.rank"):
        load_served(mesh, "sales/daily_revenue")


def test_port_option_takes_a_tcp_port_or_a_product():
    assert _listen_and_product("8123", None) == (8123, None)
    assert _listen_and_product("8123", "a/b") == (8123, "a/b")
    assert _listen_and_product("a/b", None) == (8000, "a/b")


def test_mesh_serve_exits_2_naming_the_choices(mesh, mesh_home):
    _second_block(mesh)
    result = invoke(app, "serve", MESH_PROJECT_ROOT=str(mesh))
    assert result.exit_code == 2, result.output
    assert "several products declare 'serving:'" in result.output
    bad = invoke(app, "serve", "--port", "x/y/z", MESH_PROJECT_ROOT=str(mesh))
    assert bad.exit_code == 2 and "neither a TCP port" in bad.output
    clash = invoke(app, "serve", "--port", "a/b", "--product", "c/d", MESH_PROJECT_ROOT=str(mesh))
    assert clash.exit_code == 2 and "give one" in clash.output
    unknown = invoke(app, "serve", "--port", "sales/orders", MESH_PROJECT_ROOT=str(mesh))
    assert unknown.exit_code == 2 and "product sales/orders does not exist" in unknown.output
