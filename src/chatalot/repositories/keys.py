"""SQL for end-to-end key material: identity keys, signed prekeys, one-time prekeys.
The server stores opaque public keys; it never sees private keys or plaintext."""

from __future__ import annotations

from chatalot.db.database import Conn
from chatalot.ids import UserId, uuid7


async def upsert_identity_key(
    conn: Conn, *, user_id: UserId, identity_key: bytes, fingerprint: str
) -> None:
    await conn.execute(
        """
        INSERT INTO identity_keys (user_id, identity_key, fingerprint) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE
              SET identity_key = EXCLUDED.identity_key, fingerprint = EXCLUDED.fingerprint,
                  rotated_at = now()
        """,
        user_id,
        identity_key,
        fingerprint,
    )


async def upsert_signed_prekey(
    conn: Conn, *, user_id: UserId, key_id: int, public_key: bytes, signature: bytes
) -> None:
    await conn.execute(
        """
        INSERT INTO signed_prekeys (id, user_id, key_id, public_key, signature)
             VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, key_id) DO UPDATE
              SET public_key = EXCLUDED.public_key, signature = EXCLUDED.signature,
                  created_at = now()
        """,
        uuid7(),
        user_id,
        key_id,
        public_key,
        signature,
    )


async def insert_one_time_prekeys(
    conn: Conn, *, user_id: UserId, prekeys: list[tuple[int, bytes]]
) -> None:
    """Bulk insert; a key_id the user already has is skipped."""
    if not prekeys:
        return
    await conn.execute(
        """
        INSERT INTO one_time_prekeys (id, user_id, key_id, public_key)
             SELECT k.id, $1, k.key_id, k.public_key
               FROM unnest($2::uuid[], $3::int[], $4::bytea[]) AS k(id, key_id, public_key)
        ON CONFLICT (user_id, key_id) DO NOTHING
        """,
        user_id,
        [uuid7() for _ in prekeys],
        [key_id for key_id, _ in prekeys],
        [public_key for _, public_key in prekeys],
    )
