"""JSONB operators on the tiny shop's four products (see tests/conftest.py)."""

from __future__ import annotations

import psycopg
import pytest

from shopdb import jsonb

pytestmark = pytest.mark.postgres


def test_containment_matches_nested_objects_and_array_elements(shop: psycopg.Connection) -> None:
    assert jsonb.find(shop, {"color": "red"}) == [2, 4]
    assert jsonb.find(shop, {"tags": ["eco"]}) == [2, 4]
    assert jsonb.find(shop, {"brand": "Acme", "specs": {"wireless": True}}) == [1, 3]
    assert jsonb.find(shop, {"tags": ["eco", "gift"]}) == [4]


def test_extracted_fields_group_like_columns(shop: psycopg.Connection) -> None:
    assert jsonb.brands_by_color(shop, "red") == [("Globex", 1), ("Hooli", 1)]


def test_jsonpath_filter_returns_matching_values(shop: psycopg.Connection) -> None:
    # Wireless: products 1 (250 g) and 3 (1400 g); only 1 is light enough.
    assert jsonb.light_wireless(shop, 1000) == [(1, 250)]
    assert jsonb.light_wireless(shop, 2000) == [(1, 250), (3, 1400)]


def test_array_elements_come_back_in_order(shop: psycopg.Connection) -> None:
    assert jsonb.tags(shop, 3) == ["new", "refurbished"]


def test_set_spec_changes_one_nested_key_and_keeps_the_rest(shop: psycopg.Connection) -> None:
    after = jsonb.set_spec(shop, 2, "weight_g", 280)

    assert after == {
        "brand": "Globex",
        "color": "red",
        "specs": {"weight_g": 280, "wireless": False},
        "tags": ["eco", "new"],
    }


def test_set_spec_adds_a_missing_key(shop: psycopg.Connection) -> None:
    after = jsonb.set_spec(shop, 4, "burr", "conical")

    assert after["specs"] == {"weight_g": 800, "wireless": False, "burr": "conical"}


def test_remove_tag(shop: psycopg.Connection) -> None:
    assert jsonb.remove_tag(shop, 4, "eco") == ["gift"]
    assert jsonb.find(shop, {"tags": ["eco"]}) == [2]


def test_unknown_product_is_an_error_not_a_silent_no_op(shop: psycopg.Connection) -> None:
    with pytest.raises(LookupError, match="no product 99"):
        jsonb.set_spec(shop, 99, "weight_g", 1)
