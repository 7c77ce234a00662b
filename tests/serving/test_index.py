"""The index and the re-ranker on hand-made data."""

from __future__ import annotations

import json

from mesh_platform.serving.index import (
    MODEL,
    POPULARITY,
    SESSION,
    ApiNames,
    Item,
    ModelInfo,
    RecIndex,
)
from mesh_platform.serving.rerank import SessionStore, rerank


def index() -> RecIndex:
    own = (Item(1, 0.9, "toys", MODEL), Item(2, 0.8, "books", MODEL))  # shorter than k
    cats = {5: "garden", 6: "toys", 7: "garden", 8: "books"}
    popular = tuple(Item(p, 0.1, c, POPULARITY) for p, c in cats.items())
    by_cat = {"garden": tuple(i for i in popular if i.group == "garden")}
    return RecIndex(ModelInfo("recommender", 3, "snap", "2026-10-31"), {10: own}, popular,
                    by_cat, {}, default_k=4,
                    names=ApiNames("customer_id", "product_id", "category"))  # fmt: skip


def test_default_k_answer_is_padded_and_cached():
    ix = index()
    first = ix.body(10, 4)
    body = json.loads(first)
    assert [i["product_id"] for i in body["items"]] == [1, 2, 5, 6]
    assert [i["source"] for i in body["items"]] == [MODEL, MODEL, POPULARITY, POPULARITY]
    assert ix.body(10, 4) is first  # rendered once, then a lookup
    assert json.loads(ix.body(10, 1))["items"][0]["product_id"] == 1


def test_rerank_lifts_the_session_category_and_brings_its_best_sellers():
    ix = index()
    items, personalised = rerank(ix, 10, 3, {"garden": 1.0}, boost=1.0)
    assert personalised
    # Base order 1, 2, (5 topped up) scores 1, 2/3, 1/3; garden adds 1 to 5 and to 7, a garden
    # best seller the session brings in (position score 0).
    assert [(i.item_id, i.source) for i in items] == [(5, POPULARITY), (1, MODEL),
                                                         (7, SESSION)]  # fmt: skip
    assert [i.score for i in items] == [round(4 / 3, 6), 1.0, 1.0]


def test_session_interest_decays_and_expires():
    now = [1000.0]
    store = SessionStore(ttl_s=600, max_entities=2, clock=lambda: now[0])
    store.add(1, "toys", 1.0)
    store.add(1, "garden", 3.0)
    assert store.interest(1) == {"garden": 1.0, "toys": 1 / 3}
    now[0] += 601
    assert store.interest(1) == {} and 1 not in store
    store.add(2, "toys", 1.0)
    store.add(3, "toys", 1.0)
    store.add(4, "toys", 1.0)
    assert len(store) == 2 and 2 not in store  # least recently active dropped
