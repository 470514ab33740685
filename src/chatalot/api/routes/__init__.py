"""Route handlers, one module per resource (same nouns as services/ and repositories/).

Every module here exports ``HANDLERS``, the list of its route handlers; ``all_handlers()``
collects them (the static/SPA catch-all last), so adding a module adds its routes."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def all_handlers() -> list[Any]:
    handlers: list[Any] = []
    last: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module_handlers = list(getattr(module, "HANDLERS", []))
        if info.name == "static":
            last.extend(module_handlers)
        else:
            handlers.extend(module_handlers)
    return [*handlers, *last]
