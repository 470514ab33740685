"""Typed dependency markers for route handlers. Values are built once in app.py and injected
by name as they are (they are our own objects, not client input)."""

from __future__ import annotations

from litestar.di import NamedDependency

from chatalot.api.static import StaticSite
from chatalot.context import Ctx

CtxDep = NamedDependency[Ctx]
SiteDep = NamedDependency[StaticSite]

from chatalot.services.actor import Actor, RequestMeta  # noqa: E402

ActorDep = NamedDependency[Actor]
MetaDep = NamedDependency[RequestMeta]
