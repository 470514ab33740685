"""/api/admin content tools: purges, files, storage stats, quarantine, the hash blocklist.
Ids that exist nowhere give admins a 404; plain users are refused before that (403)."""

from __future__ import annotations

from tests.api.authz import Case, admin_only

DIGEST = "ab" * 32

CASES = [
    Case(
        "POST",
        "/api/admin/purge/message/{message_id:str}",
        "/api/admin/purge/message/{random}",
        admin_only(404),
    ),
    Case(
        "POST",
        "/api/admin/purge/user/{user_id:str}/messages",
        "/api/admin/purge/user/{other}/messages",
        admin_only(200),
        note="'other' purging its own messages is refused as a plain user first",
    ),
    Case(
        "POST",
        "/api/admin/purge/user/{user_id:str}/messages",
        "/api/admin/purge/user/{owner}/messages",
        admin_only(403, owner=200),
        note="admins never act on the owner",
    ),
    Case(
        "POST",
        "/api/admin/purge/channel/{channel_id:str}",
        "/api/admin/purge/channel/{random}",
        admin_only(404),
    ),
    Case("GET", "/api/admin/files", "/api/admin/files", admin_only(200)),
    Case("DELETE", "/api/admin/files/{file_id:str}", "/api/admin/files/{random}", admin_only(404)),
    Case(
        "POST",
        "/api/admin/files/{file_id:str}/quarantine",
        "/api/admin/files/{random}/quarantine",
        admin_only(404),
    ),
    Case(
        "POST",
        "/api/admin/files/{file_id:str}/unquarantine",
        "/api/admin/files/{random}/unquarantine",
        admin_only(404),
    ),
    Case("GET", "/api/admin/storage-stats", "/api/admin/storage-stats", admin_only(200)),
    Case(
        "POST",
        "/api/admin/messages/{message_id:str}/quarantine",
        "/api/admin/messages/{random}/quarantine",
        admin_only(404),
    ),
    Case(
        "POST",
        "/api/admin/messages/{message_id:str}/unquarantine",
        "/api/admin/messages/{random}/unquarantine",
        admin_only(404),
    ),
    Case("GET", "/api/admin/blocked-hashes", "/api/admin/blocked-hashes", admin_only(200)),
    Case(
        "POST",
        "/api/admin/blocked-hashes",
        "/api/admin/blocked-hashes",
        admin_only(200),
        body={"hash": DIGEST, "reason": "matrix"},
    ),
    Case(
        "DELETE",
        "/api/admin/blocked-hashes/{hash_id:str}",
        "/api/admin/blocked-hashes/{random}",
        admin_only(404),
    ),
]
