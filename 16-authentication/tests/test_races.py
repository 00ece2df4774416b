"""Two requests at once with the same secret: exactly one wins, on SQLite and on PostgreSQL.
The guarantees rest on conditional UPDATEs (compare-and-set), which only a real database with
real concurrent transactions can prove."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy.orm import Session, sessionmaker

from auth.db import Base, make_engine, make_sessions
from auth.mfa import Mfa
from auth.oauth import CodeRefused, Codes, new_verifier, s256
from auth.passwords import Argon2Params, Passwords
from auth.totp import code_at
from auth.users import Users

RACERS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_database")
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    yield make_sessions(engine)
    engine.dispose()


def race(attempt: Callable[[], bool]) -> list[bool]:
    """Run ``attempt`` in RACERS threads released together by a barrier."""
    barrier = Barrier(RACERS)

    def go() -> bool:
        barrier.wait()
        return attempt()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(lambda _: go(), range(RACERS)))


def make_user(db: sessionmaker[Session]) -> int:
    users = Users(db, Passwords(Argon2Params(64, 1, 1), 4))
    users.ensure_roles()
    return users.create("bob", "bob-battery-staple", ["clerk"]).id


def test_one_code_exchanged_by_eight_requests_at_once_buys_one_token(
    db: sessionmaker[Session],
) -> None:
    codes, verifier = Codes(db, 60), new_verifier()
    code = codes.issue("app", "http://127.0.0.1/cb", make_user(db), s256(verifier), 1000.0)

    def exchange() -> bool:
        try:
            codes.redeem(code, "app", "http://127.0.0.1/cb", verifier, 1001.0)
        except CodeRefused:
            return False
        return True

    assert sorted(race(exchange)) == [False] * (RACERS - 1) + [True]


def test_one_totp_code_sent_eight_times_at_once_logs_in_once(db: sessionmaker[Session]) -> None:
    mfa, user_id, now = Mfa(db), make_user(db), 1_700_000_000.0
    secret = mfa.start_enrolment(user_id)
    assert mfa.confirm(user_id, code_at(secret, now), now) is not None
    later = now + 30
    code = code_at(secret, later)
    assert sorted(race(lambda: mfa.verify(user_id, code, later))) == [False] * (RACERS - 1) + [True]


def test_one_recovery_code_spent_eight_times_at_once_works_once(
    db: sessionmaker[Session],
) -> None:
    mfa, user_id, now = Mfa(db), make_user(db), 1_700_000_000.0
    secret = mfa.start_enrolment(user_id)
    recovery = mfa.confirm(user_id, code_at(secret, now), now)
    assert recovery is not None
    spent = race(lambda: mfa.use_recovery_code(user_id, recovery[0], now))
    assert spent.count(True) == 1 and mfa.recovery_codes_left(user_id) == 9
