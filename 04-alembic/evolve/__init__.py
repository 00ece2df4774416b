"""Schema evolution with Alembic: models, the migration runner and the batched backfill."""
