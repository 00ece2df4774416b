"""Lesson 14: caching, pub/sub, streams and AMQP routing - what each broker promises."""
