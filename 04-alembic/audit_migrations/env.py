"""Alembic environment of the audit database (AUDIT_DATABASE_URL): its own history."""

from evolve.alembic_env import run
from evolve.audit_models import AuditBase

run(AuditBase.metadata, "audit_database_url")
