"""Alembic environment of the app database (DATABASE_URL): members and teams."""

from evolve.alembic_env import run
from evolve.models import Base

run(Base.metadata, "database_url")
