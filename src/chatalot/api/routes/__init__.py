"""Route handlers, one module per resource (same nouns as services/ and repositories/).

Every module here exports ``HANDLERS``, the list of its route handlers; ``all_handlers()``
collects them (the static/SPA catch-all last), so adding a module adds its routes.

Each path also gets an explicit ``OPTIONS`` handler whose ``Allow`` lists every method of that
path (``HEAD`` wherever ``GET`` is, see api/middleware.py). Litestar builds its own automatic
one from the first handler registered on a path and does not update it when another module
adds a method to the same path, so it would list only some of them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from litestar import HttpMethod, Response, route


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
    return [*options_handlers(handlers), *handlers, *last]


def options_handlers(handlers: list[Any]) -> list[Any]:
    """One OPTIONS handler per path of ``handlers`` (registered before them)."""
    methods: dict[str, set[str]] = {}
    for handler in handlers:
        for path in handler.paths:
            methods.setdefault(path, set()).update(handler.http_methods)
    return [_options_for(path, allowed) for path, allowed in methods.items()]


def _options_for(path: str, methods: set[str]) -> Any:
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    allow = ", ".join(sorted(allowed))

    async def options() -> Response[None]:
        return Response(content=None, status_code=204, headers={"Allow": allow})

    return route(
        path,
        http_method=[HttpMethod.OPTIONS],
        include_in_schema=False,
        name=f"options:{path}",
    )(options)
