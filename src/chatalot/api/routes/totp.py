"""`/api/totp/*`: two-factor authentication for the signed-in user."""

from __future__ import annotations

from litestar import post
from litestar.params import JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import errors
from chatalot.protocol.api.totp import (
    BackupCodesOut,
    TotpCodeIn,
    TotpDisableOut,
    TotpEnableOut,
    TotpSetupOut,
)
from chatalot.services import totp as totp_service


@post("/api/totp/setup", status_code=200, responses=errors(404, 409))
async def post_totp_setup(ctx: CtxDep, actor: ActorDep) -> TotpSetupOut:
    """The client sends ``{}``; any body is ignored."""
    setup = await totp_service.setup_totp(ctx, actor)
    return TotpSetupOut(otpauth_url=setup.otpauth_url, secret=setup.secret)


@post("/api/totp/verify", status_code=200, responses=errors(404))
async def post_totp_verify(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[TotpCodeIn]
) -> TotpEnableOut:
    backup_codes = await totp_service.verify_totp(ctx, actor, data.code)
    return TotpEnableOut(enabled=True, backup_codes=backup_codes)


@post("/api/totp/disable", status_code=200, responses=errors(404))
async def post_totp_disable(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[TotpCodeIn]
) -> TotpDisableOut:
    await totp_service.disable_totp(ctx, actor, data.code)
    return TotpDisableOut(enabled=False)


@post("/api/totp/regenerate-backup-codes", status_code=200, responses=errors(404))
async def post_totp_regenerate_backup_codes(
    ctx: CtxDep, actor: ActorDep, data: JSONBody[TotpCodeIn]
) -> BackupCodesOut:
    backup_codes = await totp_service.regenerate_backup_codes(ctx, actor, data.code)
    return BackupCodesOut(backup_codes=backup_codes)


HANDLERS = [
    post_totp_setup,
    post_totp_verify,
    post_totp_disable,
    post_totp_regenerate_backup_codes,
]
