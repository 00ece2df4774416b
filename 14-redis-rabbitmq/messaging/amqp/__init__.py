"""RabbitMQ with aio-pika: routing, quorum queues, confirms, acks, retries and parking."""
