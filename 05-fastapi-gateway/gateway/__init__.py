"""An API gateway: routing, API keys, rate limits, retries, balancing, composition."""
