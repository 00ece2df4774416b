"""A batch pipeline: extract from CSV, an HTTP API and a database, validate, quarantine, load."""
