"""`python main.py demo`: the narrated tour of the chat server."""
