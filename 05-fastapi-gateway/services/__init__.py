"""Three small REST services (users, orders, catalog) that the gateway sits in front of.

Each module exposes ``create_app(settings)``; they share only the helpers in ``common``.
"""
