"""A shop's database on PostgreSQL: schema, generated data, and the demos the lesson runs on it."""
