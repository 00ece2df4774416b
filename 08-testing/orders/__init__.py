"""A small orders service, written to be tested at every level.

The layers and their seams:

- ``domain``: pure business rules (pricing, discounts, stock). No I/O, so unit tests are instant.
- ``service``: the use cases. It talks to the outside world only through the interfaces it
  is given: a repository, a payment gateway, a clock and a notifier.
- ``repository`` / ``db``: SQLAlchemy adapters (SQLite by default, PostgreSQL via DATABASE_URL).
- ``payments``: an httpx client for an external payment provider; ``sandbox`` is a local stand-in.
- ``api``: the FastAPI entrypoint that wires real adapters together.
"""
