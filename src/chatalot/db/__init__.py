"""Database plumbing: DSN handling, the embedded PostgreSQL, the pool and transactions, migrations.

May import asyncpg. Must not import services, api, realtime or protocol.
"""
