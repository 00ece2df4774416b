"""The outside world the pipeline reads: sample data with seeded defects, and a source API."""
