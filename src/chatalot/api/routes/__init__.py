"""Route handlers, one module per resource (same nouns as services/ and repositories/)."""
