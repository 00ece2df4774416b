"""Lesson 16: who the user is and what they may do - passwords, OAuth2, sessions, RBAC, TOTP."""
