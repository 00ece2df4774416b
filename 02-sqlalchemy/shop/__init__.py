"""A small shop modelled with SQLAlchemy 2.0: models, sessions, queries, loading, pooling, async."""
