"""Realtime delivery: the WebSocket endpoint (/ws, a raw ASGI app on uvicorn), the per-node hub of
connections with bounded per-connection queues, and the broker (in-process, or Redis for several
nodes). Receives events only from the broker, which gets them from committed transactions.
Arrives with the realtime issue; nothing here yet."""
