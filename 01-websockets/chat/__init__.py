"""A real-time chat server: rooms, presence, history, heartbeats and a pub/sub backplane."""
