"""Tests for the README's exercises: deselected by default, they fail until the exercise is
done (pytest -m exercise)."""

from __future__ import annotations

import pytest

from auth.totp import code_at
from tests.conftest import PEOPLE, Clock, Factory, bearer_for

pytestmark = pytest.mark.exercise


def test_exercise_3_deleting_an_order_needs_a_fresh_second_factor(
    make_client: Factory, clock: Clock
) -> None:
    client = make_client()
    headers = bearer_for(client, "ada")
    secret = client.post("/mfa/enroll", headers=headers).json()["secret"]
    client.post("/mfa/confirm", json={"code": code_at(secret, clock())}, headers=headers)
    clock.advance(30)
    form = {"grant_type": "password", "username": "ada", "password": PEOPLE["ada"][0],
            "otp": code_at(secret, clock())}  # fmt: skip
    fresh = {"Authorization": f"Bearer {client.post('/token', data=form).json()['access_token']}"}
    order = client.post("/orders", json={"item": "ink", "quantity": 1}, headers=fresh).json()

    clock.advance(6 * 60)  # the second factor is now more than five minutes old
    stale = client.delete(f"/orders/{order['id']}", headers=fresh)
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "step_up_required"
