"""The guided tour of the lesson (python main.py demo)."""
