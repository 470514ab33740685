"""Short-lived TURN credentials (the TURN REST scheme of coturn's ``use-auth-secret`` and
Synapse's ``turn_shared_secret``).

The server and the TURN server share ``TURN_SHARED_SECRET``. A signed-in user gets:

- ``username = "<unix expiry>:<user id>"`` (expiry = now + ``TURN_TTL_SECS``);
- ``credential = base64(HMAC-SHA1(secret, username))``.

The TURN server recomputes the HMAC from the username it is given and refuses the credential
once the expiry has passed, so nothing long-lived is handed out and the secret never leaves the
server. Without ``TURN_SHARED_SECRET`` / ``TURN_URIS`` there are no TURN credentials
(``turn_credentials`` raises NotFound; ``/api/auth/config`` simply lists none).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import msgspec

from chatalot.config import IceServer, TurnSettings
from chatalot.context import Ctx
from chatalot.errors import NotFound
from chatalot.ids import UserId

NOT_CONFIGURED = "TURN is not configured on this server"


class TurnCredentials(msgspec.Struct, frozen=True):
    username: str
    credential: str
    ttl: int  # seconds the credential stays valid from now
    uris: tuple[str, ...]

    def ice_server(self) -> IceServer:
        """The same credentials as an entry of ``ice_servers`` (RTCIceServer)."""
        return IceServer(urls=self.uris, username=self.username, credential=self.credential)


def sign(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username)), what coturn checks (RFC 7635's REST variant)."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def make_credentials(turn: TurnSettings, user_id: UserId, now: float) -> TurnCredentials:
    """Credentials for ``user_id`` valid until ``now`` (Unix seconds) + the TTL; no checks."""
    expiry = int(now) + turn.ttl_secs
    username = f"{expiry}:{user_id}"
    return TurnCredentials(
        username=username,
        credential=sign(turn.shared_secret, username),
        ttl=turn.ttl_secs,
        uris=turn.uris,
    )


def turn_configured(ctx: Ctx) -> bool:
    return ctx.settings.turn is not None


def turn_credentials(ctx: Ctx, user_id: UserId) -> TurnCredentials:
    """Fresh credentials for ``user_id`` (an authenticated caller). NotFound when TURN is not
    configured."""
    turn = ctx.settings.turn
    if turn is None:
        raise NotFound(NOT_CONFIGURED)
    return make_credentials(turn, user_id, ctx.clock.now().timestamp())
