"""Lesson 03: asyncio patterns that a real backend uses every day."""
