"""The retry-storm model: repeatable, conserving clients, and showing what jitter does."""

from __future__ import annotations

from tools.storm import Scenario, served, simulate, simulate_all

SMALL = Scenario(clients=300, capacity=6)


def test_a_seed_gives_the_same_run() -> None:
    assert simulate("full", SMALL) == simulate("full", SMALL)
    assert simulate("full", SMALL) != simulate("full", Scenario(clients=300, capacity=6, seed=2))


def test_every_client_either_succeeds_or_gives_up() -> None:
    for run in simulate_all(SMALL).values():
        assert run.succeeded + run.gave_up == SMALL.clients
        assert run.calls == sum(run.load)


def test_nothing_succeeds_during_the_outage_and_never_above_capacity() -> None:
    run = simulate("exponential", SMALL)
    outage_ticks = int(SMALL.outage_s / SMALL.tick_s)
    assert run.last_success_s > SMALL.outage_s
    assert run.succeeded <= sum(min(a, SMALL.capacity) for a in run.load[outage_ticks:])
    assert served(10_000, SMALL) == 0  # a flood eats the whole capacity


def test_no_backoff_floods_the_server_and_gives_up_before_it_recovers() -> None:
    run = simulate("none", SMALL)
    assert max(run.load) == SMALL.clients  # everyone, every tick
    assert run.succeeded == 0 and run.calls == SMALL.clients * SMALL.max_attempts


def test_full_jitter_finishes_everyone_where_synchronised_backoff_does_not() -> None:
    runs = simulate_all(SMALL)
    exponential, full = runs["exponential"], runs["full"]
    assert full.all_done and not exponential.all_done
    after = SMALL.outage_s
    assert full.peak_after(after, SMALL.tick_s) < exponential.peak_after(after, SMALL.tick_s)
    assert full.calls < exponential.calls
