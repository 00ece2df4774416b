"""Protecting a service from its callers and from its dependencies: rate limits, retries,
backoff, deadlines, bulkheads, adaptive throttling and load shedding."""
