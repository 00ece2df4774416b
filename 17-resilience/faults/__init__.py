"""A fault-injecting upstream service: the misbehaving dependency of the lesson."""
