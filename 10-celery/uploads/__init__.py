"""Upload processing on Celery: the app, its tasks, and the web API that sends them."""
