"""The module `celery -A uploads.worker ...` loads: the app built from the environment's settings.

Workers, beat and Flower import this; the web app and the tests build their own with
`make_celery(settings)`, so they can run against another broker in the same process.
"""

from __future__ import annotations

from uploads.celery_app import make_celery
from uploads.settings import load_settings

app = make_celery(load_settings())
