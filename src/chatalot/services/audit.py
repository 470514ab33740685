"""Writing and reading the audit log. Every security-relevant action calls ``record_audit``
inside the transaction that performs it, so the entry exists exactly when the action happened."""

from __future__ import annotations

from typing import Any

from chatalot.db.database import Conn
from chatalot.ids import UserId, uuid7
from chatalot.repositories import audit as audit_repo
from chatalot.services.actor import RequestMeta


async def record_audit(
    conn: Conn,
    action: str,
    *,
    user_id: UserId | None,
    meta: RequestMeta | None = None,
    metadata: dict[str, Any] | None = None,
    raw_user_agent: bool = False,
) -> None:
    """Append one entry. ``user_agent`` holds the device name unless ``raw_user_agent``."""
    meta = meta or RequestMeta()
    await audit_repo.insert_audit(
        conn,
        entry_id=uuid7(),
        user_id=user_id,
        action=action,
        ip_address=meta.ip,
        user_agent=meta.user_agent if raw_user_agent else meta.device_name,
        metadata=metadata,
    )
