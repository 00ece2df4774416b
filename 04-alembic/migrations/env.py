"""Alembic environment of the app database (DATABASE_URL): members and teams."""

from evolve.alembic_env import run
from evolve.models import Base
from evolve.settings import Settings

run(Base.metadata, Settings().database_url)
