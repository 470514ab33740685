"""Cryptographic building blocks with no I/O of their own: access tokens (EdDSA JWT), refresh
and recovery secrets, password hashing (Argon2id, off the event loop), TOTP and its
encryption at rest. Services use them; they know nothing about HTTP or SQL."""
