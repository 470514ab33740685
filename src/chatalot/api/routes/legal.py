"""`/api/legal/*`: the instance's privacy policy and terms of service (public)."""

from __future__ import annotations

from litestar import get

from chatalot.api.deps import CtxDep
from chatalot.protocol.api.legal import LegalDocumentOut
from chatalot.services import legal as legal_service


@get("/api/legal/privacy")
async def get_privacy_policy(ctx: CtxDep) -> LegalDocumentOut:
    document = await legal_service.privacy_policy(ctx)
    return LegalDocumentOut(title=document.title, body=document.body)


@get("/api/legal/terms")
async def get_terms_of_service(ctx: CtxDep) -> LegalDocumentOut:
    document = await legal_service.terms_of_service(ctx)
    return LegalDocumentOut(title=document.title, body=document.body)


HANDLERS = [get_privacy_policy, get_terms_of_service]
