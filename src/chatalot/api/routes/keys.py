"""The end-to-end key directory: `POST /api/keys/register`, `GET /api/keys/{user_id}/bundle`,
`POST /api/keys/prekeys/signed`, `POST /api/keys/prekeys/one-time` (a top-level JSON array) and
`GET /api/keys/prekeys/count`."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.api.params import parse_uuid
from chatalot.api.responses import empty
from chatalot.ids import UserId
from chatalot.protocol.api.keys import (
    KeyBundleOut,
    KeysRegisterIn,
    OneTimePrekeyOut,
    OneTimePrekeysIn,
    PrekeyCountOut,
    SignedPrekeyIn,
    SignedPrekeyOut,
)
from chatalot.protocol.bytes import to_list
from chatalot.services import keys as keys_service


@post("/api/keys/register", status_code=200)
async def post_register_keys(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[KeysRegisterIn]
) -> Response[bytes]:
    await keys_service.register_keys(ctx, actor, data)
    return empty()


@get("/api/keys/{user_id:str}/bundle", responses=errors(404))
async def get_key_bundle(ctx: CtxDep, actor: ActorDep, user_id: FromPath[str]) -> KeyBundleOut:
    bundle = await keys_service.fetch_bundle(ctx, actor, UserId(parse_uuid(user_id, "user id")))
    signed = bundle.signed_prekey
    one_time = bundle.one_time_prekey
    return KeyBundleOut(
        identity_key=to_list(bundle.identity_key),
        signed_prekey=SignedPrekeyOut(
            key_id=signed.key_id,
            public_key=to_list(signed.public_key),
            signature=to_list(signed.signature),
        ),
        one_time_prekey=OneTimePrekeyOut(
            key_id=one_time.key_id, public_key=to_list(one_time.public_key)
        )
        if one_time is not None
        else None,
    )


@post("/api/keys/prekeys/signed", status_code=200)
async def post_signed_prekey(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[SignedPrekeyIn]
) -> Response[bytes]:
    await keys_service.upload_signed_prekey(ctx, actor, data)
    return empty()


@post("/api/keys/prekeys/one-time", status_code=200)
async def post_one_time_prekeys(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[OneTimePrekeysIn]
) -> Response[bytes]:
    await keys_service.upload_one_time_prekeys(ctx, actor, data)
    return empty()


@get("/api/keys/prekeys/count")
async def get_prekey_count(ctx: CtxDep, actor: ActorDep) -> PrekeyCountOut:
    return PrekeyCountOut(count=await keys_service.count_one_time_prekeys(ctx, actor))


HANDLERS = [
    post_register_keys,
    get_key_bundle,
    post_signed_prekey,
    post_one_time_prekeys,
    get_prekey_count,
]
