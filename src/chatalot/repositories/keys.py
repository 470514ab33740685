"""SQL for end-to-end key material: identity keys, signed prekeys, one-time prekeys.
The server stores opaque public keys; it never sees private keys or plaintext."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatalot.db.database import Conn
from chatalot.ids import UserId, uuid7


@dataclass(frozen=True, slots=True)
class SignedPrekeyRow:
    key_id: int
    public_key: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class OneTimePrekeyRow:
    key_id: int
    public_key: bytes


async def lock_user_keys(conn: Conn, user_id: UserId) -> None:
    """Serialises this user's key uploads until the transaction ends (so the per-user caps hold
    across server processes). Bundle fetches do not take it."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatalot:keys:' || $1::uuid::text, 0))",
        user_id,
    )


async def select_identity_key(conn: Conn, user_id: UserId) -> bytes | None:
    key: bytes | None = await conn.fetchval(
        "SELECT identity_key FROM identity_keys WHERE user_id = $1", user_id
    )
    return key


async def select_latest_signed_prekey(conn: Conn, user_id: UserId) -> SignedPrekeyRow | None:
    """The user's most recently created (or re-uploaded) signed prekey."""
    record = await conn.fetchrow(
        """
        SELECT key_id, public_key, signature
          FROM signed_prekeys
         WHERE user_id = $1
         ORDER BY created_at DESC, id DESC
         LIMIT 1
        """,
        user_id,
    )
    return SignedPrekeyRow(**dict(record)) if record else None


async def delete_old_signed_prekeys(conn: Conn, user_id: UserId, *, keep: int) -> None:
    """Deletes all but the user's ``keep`` newest signed prekeys (only the newest is ever
    served; the rest would pile up with every rotation)."""
    await conn.execute(
        """
        DELETE FROM signed_prekeys
         WHERE user_id = $1
           AND id NOT IN (SELECT id FROM signed_prekeys WHERE user_id = $1
                           ORDER BY created_at DESC, id DESC LIMIT $2)
        """,
        user_id,
        keep,
    )


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
    """Bulk insert; a key_id the user already has is skipped. Ids increase in list order (so
    bundles hand out a batch in the order it was uploaded)."""
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
        sorted(uuid7() for _ in prekeys),
        [key_id for key_id, _ in prekeys],
        [public_key for _, public_key in prekeys],
    )


async def delete_one_time_prekeys(conn: Conn, user_id: UserId) -> None:
    """Every one-time prekey of the user, used or not (a full key reset)."""
    await conn.execute("DELETE FROM one_time_prekeys WHERE user_id = $1", user_id)


async def claim_one_time_prekey(conn: Conn, user_id: UserId) -> OneTimePrekeyRow | None:
    """Marks the user's oldest unused one-time prekey used and returns it (None when none is
    left). Concurrent claims never get the same key: a row another transaction is claiming is
    skipped, not waited for."""
    record = await conn.fetchrow(
        """
        UPDATE one_time_prekeys
           SET used = TRUE
         WHERE id = (SELECT id
                       FROM one_time_prekeys
                      WHERE user_id = $1 AND NOT used
                      ORDER BY created_at, id
                      LIMIT 1
                        FOR UPDATE SKIP LOCKED)
        RETURNING key_id, public_key
        """,
        user_id,
    )
    return OneTimePrekeyRow(**dict(record)) if record else None


async def count_unused_one_time_prekeys(conn: Conn, user_id: UserId) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM one_time_prekeys WHERE user_id = $1 AND NOT used", user_id
    )
    return count


async def delete_used_one_time_prekeys(conn: Conn, cutoff: datetime) -> int:
    """One-time prekeys already handed out and uploaded before ``cutoff`` (never served again;
    kept a while only as a record); returns how many."""
    status = await conn.execute(
        "DELETE FROM one_time_prekeys WHERE used AND created_at < $1", cutoff
    )
    return int(status.split()[-1])
