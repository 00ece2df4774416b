"""JSON Web Tokens from the bytes up: anatomy, keys, issuing, verifying, refresh and revocation."""
