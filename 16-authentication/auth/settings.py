"""Every setting of the lesson, from the environment or .env (see .env.example).

Odd values are refused in one line by ``load_settings`` (a ``SettingsError``), never with a
traceback, and a password inside a URL never appears in that line.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LESSON = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = f"sqlite:///{LESSON / 'var' / 'auth.db'}"
# A public client (a single-page app or a CLI) and the only URIs it may get codes at.
DEFAULT_CLIENTS = {"demo-client": ["http://127.0.0.1:8765/callback"]}


class SettingsError(ValueError):
    """A setting that cannot work: one line for the user, exit 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=LESSON / ".env", extra="ignore")

    # Users, roles, orders, authorization codes - and the sessions when there is no Redis.
    database_url: str = DEFAULT_DATABASE
    # Sessions and login throttling in Redis; unset keeps sessions in the database above and
    # the throttle in this process's memory.
    redis_url: str | None = None
    redis_prefix: str = Field(default="auth16:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")

    # argon2id cost: OWASP's minimum (19 MiB, 2 passes, 1 lane). Raising any of them makes
    # every stored hash "need a rehash", done at that user's next good login.
    argon2_memory_kib: int = Field(default=19_456, ge=8, le=4_194_304)
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    # Cost of the legacy bcrypt scheme (only old hashes use it; new ones are argon2id).
    bcrypt_rounds: int = Field(default=12, ge=4, le=20)
    # Longer passwords are refused: hashing megabytes per guess would be a cheap DoS.
    max_password_bytes: int = Field(default=1024, ge=72, le=65_536)

    # The session cookie. Secure=false only for plain http on a host other than localhost.
    session_cookie: str = Field(default="sid", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    cookie_secure: bool = True
    session_idle_s: int = Field(default=1800, ge=10, le=30 * 86_400)
    session_absolute_s: int = Field(default=12 * 3600, ge=60, le=90 * 86_400)
    # An authorization code is exchanged within seconds by a real client.
    auth_code_ttl_s: int = Field(default=60, ge=5, le=600)
    oauth_clients: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_CLIENTS))

    # Login throttling: failures allowed before delays start, the first delay, its cap (no
    # permanent lock-out an attacker could use against a user) and how long failures count.
    throttle_free_failures: int = Field(default=3, ge=1, le=100)
    throttle_ip_free_failures: int = Field(default=20, ge=1, le=10_000)
    throttle_base_delay_s: float = Field(default=1.0, gt=0, le=60)
    throttle_max_delay_s: float = Field(default=60.0, gt=0, le=3600)
    throttle_window_s: int = Field(default=900, ge=10, le=86_400)

    totp_issuer: str = Field(default="Lesson 16", min_length=1, max_length=64)
    max_body_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        return check_database_url(value).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _usable_redis(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://HOST:PORT/DB (or rediss:// for TLS)")
        return value

    @field_validator("oauth_clients")
    @classmethod
    def _exact_uris(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for client, uris in value.items():
            for uri in uris:
                # Registered URIs are compared character for character: no wildcards.
                if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                    raise ValueError(f"{client}: {uri!r} must be https (or http on loopback)")
                if "*" in uri or "#" in uri:
                    raise ValueError(f"{client}: {uri!r} has a wildcard or a fragment")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.session_idle_s > self.session_absolute_s:
            raise ValueError("SESSION_IDLE_S must not exceed SESSION_ABSOLUTE_S")
        if self.throttle_base_delay_s > self.throttle_max_delay_s:
            raise ValueError("THROTTLE_BASE_DELAY_S must not exceed THROTTLE_MAX_DELAY_S")
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError("ARGON2_MEMORY_KIB must be at least 8 x ARGON2_PARALLELISM")
        return self


def check_database_url(raw: str) -> URL:
    """Accept the URL forms this lesson can use; refuse the rest with a reason."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("not a database URL (e.g. sqlite:///var/auth.db)") from None
    except ValueError:  # int() of the port
        raise ValueError("the port is not a number") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise ValueError(f"driver {driver!r}: use postgresql+psycopg://user:pass@host:5432/db")
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver:
            raise ValueError(f"driver {driver!r}: use sqlite:///path/to/auth.db")
        if url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database forgets every user: use a file")
        path = Path(url.database)
        if not path.is_absolute():  # relative to the lesson, wherever it is started from
            url = url.set(database=str(LESSON / path))
        return url
    raise ValueError(f"{backend!r} is not supported: use sqlite or postgresql")


def safe_url(url: URL | str) -> str:
    """The URL with its password masked, for messages and logs."""
    if isinstance(url, str) and url.startswith(("redis://", "rediss://")):
        head, sep, tail = url.partition("@")
        if not sep:
            return url
        scheme, _, userinfo = head.partition("://")
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user + ':' if user else ':'}***@{tail}"
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; any invalid value becomes one SettingsError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{field}: {message}") from None
    except PydanticSettingsError as exc:  # a complex value (OAUTH_CLIENTS) that is not JSON
        field = str(exc).split('"')[1].upper() if '"' in str(exc) else "settings"
        raise SettingsError(f"{field}: not valid JSON") from None
