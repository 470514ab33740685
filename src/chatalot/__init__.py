"""Chatalot: a self-hosted chat server, wire-compatible with the Chatalot web and desktop clients.

Package map (see docs/architecture.md):
    config        environment -> frozen Settings (read once, passed down)
    app / server  composition root (create_app) and the process runner (run_server)
    db/           pool, transactions, migrations, embedded PostgreSQL, DSN handling
    repositories/ SQL only
    services/     business rules, permissions, transactions, events
    api/          HTTP edge (Litestar routes, error shape, middleware)
    realtime/     WebSocket hub and broker
    protocol/     wire models, pure data
"""

__version__ = "0.1.0"
