"""REST models, one module per resource (XIn / XOut)."""
