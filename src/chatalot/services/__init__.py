"""Business rules: permission checks, named transactions, events emitted after commit.
Services call repositories with ``tx.conn``; they never touch HTTP, sockets or Redis."""
