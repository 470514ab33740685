"""The wire contract as pure data: REST request/response models and WebSocket frames.
No I/O, no database, no framework imports beyond msgspec."""
