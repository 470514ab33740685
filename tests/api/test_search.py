"""GET /api/channels/{id}/messages/search and GET /api/messages/search: matching (words,
phrases, parts of words, any case, Unicode), filters, limits, order, highlights, who sees what,
encrypted messages, and bad input (always a 4xx in the error shape, never a 500)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatalot.app import create_app
from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.ids import ChannelId
from chatalot.protocol.time import rfc3339
from chatalot.repositories import search as search_repo
from chatalot.repositories.search import InChannel, InChannels, SearchFilters
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys
from chatalot.services import messages as messages_service
from chatalot.services.actor import Actor
from chatalot.services.messages import SendRequest
from chatalot.services.search import substring_highlight
from tests.conftest import RecordingSink, build_ctx, settings_in
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_channel_member,
    add_community_member,
    make_channel,
    make_community,
    room,
    sql,
)

KEYS = {
    "id",
    "channel_id",
    "sender_id",
    "ciphertext",
    "nonce",
    "message_type",
    "reply_to_id",
    "sender_key_id",
    "edited_at",
    "created_at",
    "highlight",
}


def actor(user: TestUser) -> Actor:
    return Actor(user_id=user.id, username=user.row.username, is_admin=False, is_owner=False)


async def send(
    ctx: Ctx,
    user: TestUser,
    channel: ChannelId,
    content: str | bytes,
    *,
    message_type: str = "text",
    thread_id: uuid.UUID | None = None,
) -> str:
    """Sends like the WebSocket ``send_message`` frame does (one second after the previous
    message); returns the message id."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    clock.advance(1)
    row = await messages_service.send_message(
        ctx,
        actor(user),
        SendRequest(
            channel_id=channel,
            ciphertext=content.encode() if isinstance(content, str) else content,
            nonce=bytes(12),
            message_type=message_type,
            thread_id=thread_id,
        ),
    )
    return str(row.id)


async def search(
    client: httpx.AsyncClient,
    user: TestUser,
    q: str | None,
    channel: Any = None,
    **params: Any,
) -> httpx.Response:
    path = "/api/messages/search" if channel is None else f"/api/channels/{channel}/messages/search"
    query = {"q": q, **params} if q is not None else params
    return await client.get(path, params=query, headers=user.headers)


async def found(
    client: httpx.AsyncClient, user: TestUser, q: str, channel: Any = None, **params: Any
) -> list[str]:
    """The ids a search answers (asserting a 200)."""
    response = await search(client, user, q, channel, **params)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()]


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# -- matching ----------------------------------------------------------------------------------


async def test_word_match_and_no_match(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A word finds the messages holding it, in both routes, with the history's shape plus a
    highlight; a word no message holds finds nothing."""
    owner, member, channel = await room(ctx)
    hit = await send(ctx, owner, channel, "Deploying the new release tonight")
    await send(ctx, member, channel, "nothing to see here")
    response = await search(client, member, "release", channel)
    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == KEYS
    assert item["id"] == hit and item["channel_id"] == str(channel)
    assert item["sender_id"] == str(owner.id)
    assert bytes(item["ciphertext"]) == b"Deploying the new release tonight"
    assert item["nonce"] == [0] * 12 and item["message_type"] == "text"
    assert item["created_at"] == rfc3339(ctx.clock.now() - timedelta(seconds=1))
    assert item["highlight"] == "Deploying the new <mark>release</mark> tonight"
    assert await found(client, member, "release") == [hit]
    assert await found(client, member, "zeppelin", channel) == []
    assert await found(client, member, "zeppelin") == []


async def test_phrase_matches_words_in_order(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A "quoted phrase" needs its words next to each other and in that order; unquoted words
    each need to be there in any order."""
    owner, _, channel = await room(ctx)
    adjacent = await send(ctx, owner, channel, "the quick brown fox")
    apart = await send(ctx, owner, channel, "brown and then quick")
    assert await found(client, owner, '"quick brown"', channel) == [adjacent]
    assert await found(client, owner, "quick brown", channel) == [apart, adjacent]
    highlight = (await search(client, owner, '"quick brown"', channel)).json()[0]["highlight"]
    assert "<mark>quick</mark> <mark>brown</mark>" in highlight


async def test_partial_words_and_prefixes(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Any part of the text matches: a prefix, the middle of a word, across a space."""
    owner, _, channel = await room(ctx)
    message = await send(ctx, owner, channel, "The xylophone orchestra")
    other = await send(ctx, owner, channel, "a saxophone")
    for q in ("xylo", "lopho", "phone orch", "ne or"):
        assert await found(client, owner, q, channel) == [message], q
    assert await found(client, owner, "ophone", channel) == [other, message]
    highlight = (await search(client, owner, "lopho", channel)).json()[0]["highlight"]
    assert highlight == "The xy<mark>lopho</mark>ne orchestra"


async def test_any_case(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Case does not matter, for ASCII and for other scripts alike (whatever the database's
    locale: the server folds both sides)."""
    owner, _, channel = await room(ctx)
    message = await send(ctx, owner, channel, "HeLLo Wörld ÜBER ΣΟΦΊΑ")
    for q in ("hello", "HELLO", "wÖrld", "über", "Über", "σοφία", "ΣΟΦΊΑ", "lo wö"):
        assert await found(client, owner, q, channel) == [message], q


async def test_unicode_and_emoji(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Non-Latin scripts, emoji and compatibility forms are found, also as parts of words."""
    owner, _, channel = await room(ctx)
    tokyo = await send(ctx, owner, channel, "東京タワーで会いましょう 🎉🎉")
    strasse = await send(ctx, owner, channel, "Treffen in der Hauptstraße")
    accent = await send(ctx, owner, channel, "cafe\u0301 au lait")  # e + combining accent
    assert await found(client, owner, "東京", channel) == [tokyo]
    assert await found(client, owner, "タワー", channel) == [tokyo]
    assert await found(client, owner, "🎉🎉", channel) == [tokyo]
    assert await found(client, owner, "HAUPTSTRASSE", channel) == [strasse]
    assert await found(client, owner, "café", channel) == [accent]  # precomposed é
    highlight = (await search(client, owner, "東京", channel)).json()[0]["highlight"]
    assert "<mark>東京</mark>" in highlight


# -- filters, limit, order -----------------------------------------------------------------------


async def test_sender_filter(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``sender``: the sender's username contains it, any case; ``%`` and ``_`` are literal."""
    alice = await make_user(ctx, "alice_search")
    bob = await make_user(ctx, "bobsearch")
    channel = await make_channel(ctx, None, alice.id)
    await add_channel_member(ctx, channel, bob.id)
    from_alice = await send(ctx, alice, channel, "status update")
    from_bob = await send(ctx, bob, channel, "status update")
    assert await found(client, bob, "status", channel, sender="ALICE") == [from_alice]
    assert await found(client, bob, "status", sender="bobs") == [from_bob]
    assert await found(client, bob, "status", channel, sender="e_s") == [from_alice]
    assert await found(client, bob, "status", channel, sender="%") == []
    assert await found(client, bob, "status", channel, sender="") == [from_bob, from_alice]


async def test_before_and_after_are_inclusive(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``after`` / ``before`` bound created_at, both inclusive, in any RFC 3339 offset."""
    owner, _, channel = await room(ctx)
    ids = [await send(ctx, owner, channel, f"report {n}") for n in range(3)]
    rows = await sql(ctx, "SELECT id, created_at FROM messages WHERE channel_id = $1", channel)
    times = {str(r["id"]): r["created_at"] for r in rows}
    middle = times[ids[1]]
    assert await found(client, owner, "report", channel, after=rfc3339(middle)) == ids[:0:-1]
    assert await found(client, owner, "report", channel, before=rfc3339(middle)) == ids[1::-1]
    both = {"after": rfc3339(middle), "before": rfc3339(middle)}
    assert await found(client, owner, "report", **both) == [ids[1]]
    zulu = middle.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert await found(client, owner, "report", channel, after=zulu) == ids[:0:-1]
    shifted = (middle + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    assert await found(client, owner, "report", channel, before=shifted) == ids[1::-1]
    spaced = shifted.replace("+", " ")  # an unencoded "+" arrives as a space
    assert await found(client, owner, "report", channel, before=spaced) == ids[1::-1]


async def test_has_file(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``has_file=true``: only file messages; ``false`` or empty: all."""
    owner, _, channel = await room(ctx)
    text = await send(ctx, owner, channel, "quarterly numbers")
    attached = await send(ctx, owner, channel, "quarterly-numbers.pdf", message_type="file")
    assert await found(client, owner, "quarterly", channel, has_file="true") == [attached]
    assert await found(client, owner, "quarterly", has_file="TRUE") == [attached]
    assert await found(client, owner, "quarterly", channel, has_file="false") == [attached, text]
    assert await found(client, owner, "quarterly", channel, has_file="") == [attached, text]


async def test_limit_default_cap_and_order(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Newest first; 20 by default; ``limit`` 1-50, larger values give 50."""
    owner, _, channel = await room(ctx)
    ids = [await send(ctx, owner, channel, f"ping {n}") for n in range(55)]
    newest_first = ids[::-1]
    assert await found(client, owner, "ping", channel) == newest_first[:20]
    assert await found(client, owner, "ping", channel, limit="3") == newest_first[:3]
    assert await found(client, owner, "ping", channel, limit="50") == newest_first[:50]
    assert await found(client, owner, "ping", limit="51") == newest_first[:50]
    assert await found(client, owner, "ping", channel, limit="1000000") == newest_first[:50]


async def test_equal_timestamps_are_ordered_by_id(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Messages sent in the same instant come newest id first, as in the history."""
    owner, _, channel = await room(ctx)
    ids = []
    for n in range(4):
        row = await messages_service.send_message(
            ctx,
            actor(owner),
            SendRequest(channel, f"tick {n}".encode(), bytes(12), "text"),
        )
        ids.append(str(row.id))
    assert await found(client, owner, "tick", channel) == sorted(ids, reverse=True)


async def test_results_carry_reactions_and_thread_fields(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Like the history: reactions grouped per emoji, thread counts on roots, thread_id on
    replies."""
    owner, member, channel = await room(ctx)
    root = await send(ctx, owner, channel, "design review root")
    reply = await send(ctx, member, channel, "design review reply", thread_id=uuid.UUID(root))
    await sql(
        ctx,
        "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, '👍')",
        uuid.UUID(root),
        member.id,
    )
    by_id = {m["id"]: m for m in (await search(client, owner, "design", channel)).json()}
    assert by_id[root]["reactions"] == [{"emoji": "👍", "user_ids": [str(member.id)]}]
    assert by_id[root]["thread_reply_count"] == 1
    assert by_id[reply]["thread_id"] == root
    assert "reactions" not in by_id[reply]


async def test_the_newest_window_then_the_index_give_the_same_answer(ctx: Ctx) -> None:
    """A search reads the newest messages in order, then (when that window is full) looks
    further back through the GIN index: whatever the window and the limit, the answer is the
    same as reading everything, without duplicates or gaps, in one channel or several."""
    owner, _, first = await room(ctx)
    second = await make_channel(ctx, None, owner.id)
    for n in range(30):
        words = ["beta"] + (["alpha"] if n in (2, 10, 11, 25) else [])
        await send(ctx, owner, first if n % 3 else second, " ".join([*words, f"m{n}"]))
    async with ctx.db.connection() as conn:
        for scope in (InChannel(first), InChannels([first, second])):
            for q in ("alpha", "beta", "m1", "zeta"):
                full = await search_repo.list_matching_messages(
                    conn,
                    scope,
                    query=q,
                    language="simple",
                    filters=SearchFilters(),
                    now=ctx.clock.now(),
                    limit=50,
                    window=1000,
                )
                assert q == "zeta" or full, q
                for window in (1, 2, 3, 7, 20, 29, 30, 31):
                    for limit in (1, 2, 3, 5, 50):
                        got = await search_repo.list_matching_messages(
                            conn,
                            scope,
                            query=q,
                            language="simple",
                            filters=SearchFilters(),
                            now=ctx.clock.now(),
                            limit=limit,
                            window=window,
                        )
                        assert [r.id for r in got] == [r.id for r in full[:limit]], (
                            scope,
                            q,
                            window,
                            limit,
                        )


# -- highlights ---------------------------------------------------------------------------------


async def test_highlight_is_escaped_html(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """The highlight is HTML-escaped; only the <mark> tags are markup."""
    owner, _, channel = await room(ctx)
    await send(ctx, owner, channel, 'Tom & Jerry: 3<4 "payload" <script>alert(1)</script>')
    [word] = (await search(client, owner, "payload", channel)).json()
    assert word["highlight"] == (
        "Tom &amp; Jerry: 3&lt;4 &quot;<mark>payload</mark>&quot;"
        " &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    [part] = (await search(client, owner, "ipt>al", channel)).json()
    assert part["highlight"] == (
        "Tom &amp; Jerry: 3&lt;4 &quot;payload&quot; &lt;scr<mark>ipt&gt;al</mark>ert(1)"
        "&lt;/script&gt;"
    )


async def test_highlight_of_a_long_message_is_a_snippet(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Long messages give a short excerpt around the match."""
    owner, _, channel = await room(ctx)
    filler = " ".join(["lorem"] * 2000)
    await send(ctx, owner, channel, f"{filler} needle {filler} hayneedlestack {filler}")
    [word] = (await search(client, owner, "needle", channel)).json()
    assert "<mark>needle</mark>" in word["highlight"] and len(word["highlight"]) < 400
    [part] = (await search(client, owner, "needlesta", channel)).json()
    assert part["highlight"].startswith("…") and part["highlight"].endswith("…")
    assert "hay<mark>needlesta</mark>ck" in part["highlight"]
    assert len(part["highlight"]) < 300


def test_substring_highlight_maps_folded_matches_back() -> None:
    """Matches found in the folded text are marked on the original characters."""
    assert substring_highlight("Die STRASSE und die Straße", "straße") is None
    assert substring_highlight("Die STRASSE und die Straße", "strasse") == (
        "Die <mark>STRASSE</mark> und die <mark>Straße</mark>"
    )
    assert substring_highlight("abc", "zz") is None


# -- who sees what ----------------------------------------------------------------------------


async def test_channel_search_is_for_members(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Someone outside the channel gets 403 (also for a channel that does not exist) and finds
    nothing of it in the global search."""
    owner, _, channel = await room(ctx)
    outsider = await make_user(ctx)
    await send(ctx, owner, channel, "secret plans")
    assert error(await search(client, outsider, "secret", channel))[:2] == (403, "forbidden")
    assert error(await search(client, outsider, "secret", uuid.uuid4()))[:2] == (403, "forbidden")
    assert await found(client, outsider, "secret") == []
    assert error(await search(client, outsider, "secret", "not-a-uuid"))[:2] == (
        400,
        "validation_error",
    )


async def test_global_search_only_covers_member_channels(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Across channels: the caller's channels and DMs, nothing else, newest first."""
    owner, member, mine = await room(ctx)
    elsewhere = await make_channel(ctx, None, owner.id)
    dm = await make_channel(ctx, None, owner.id, name=None, channel_type="dm")
    await add_channel_member(ctx, dm, member.id)
    community = await make_community(ctx, owner.id)  # DMs need a shared community
    await add_community_member(ctx, community, member.id)
    first = await send(ctx, owner, mine, "lunch at noon?")
    await send(ctx, owner, elsewhere, "lunch without the member")
    in_dm = await send(ctx, owner, dm, "lunch, just us")
    assert await found(client, member, "lunch") == [in_dm, first]
    assert len(await found(client, owner, "lunch")) == 3


async def test_left_and_banned_channels_are_not_searched(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """After leaving a channel, or being banned from it, its messages are no longer found,
    globally or in the channel (403)."""
    owner, member, left = await room(ctx)
    banned = await make_channel(ctx, None, owner.id)
    await add_channel_member(ctx, banned, member.id)
    await send(ctx, owner, left, "budget draft one")
    await send(ctx, owner, banned, "budget draft two")
    assert len(await found(client, member, "budget")) == 2
    response = await client.post(f"/api/channels/{left}/leave", headers=member.headers)
    assert response.status_code == 200, response.text
    response = await client.post(
        f"/api/channels/{banned}/members/{member.id}/ban",
        json={"reason": "spam"},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert await found(client, member, "budget") == []
    for channel in (left, banned):
        assert error(await search(client, member, "budget", channel))[0] == 403


async def test_deleted_expired_and_quarantined_are_not_found(
    ctx: Ctx, client: httpx.AsyncClient
) -> None:
    """Soft-deleted, quarantined and expired messages are never found."""
    owner, _, channel = await room(ctx)
    kept = await send(ctx, owner, channel, "invoice kept")
    deleted = await send(ctx, owner, channel, "invoice deleted")
    expired = await send(ctx, owner, channel, "invoice expired")
    quarantined = await send(ctx, owner, channel, "invoice quarantined")
    later = await send(ctx, owner, channel, "invoice expires later")
    await messages_service.delete_message(ctx, actor(owner), uuid.UUID(deleted))
    now = ctx.clock.now()
    await sql(
        ctx,
        "UPDATE messages SET expires_at = $2 WHERE id = $1",
        uuid.UUID(expired),
        now - timedelta(seconds=1),
    )
    await sql(
        ctx,
        "UPDATE messages SET expires_at = $2 WHERE id = $1",
        uuid.UUID(later),
        now + timedelta(hours=1),
    )
    await sql(
        ctx, "UPDATE messages SET quarantined_at = now() WHERE id = $1", uuid.UUID(quarantined)
    )
    assert await found(client, owner, "invoice", channel) == [later, kept]
    assert await found(client, owner, "invoice") == [later, kept]


# -- encrypted messages --------------------------------------------------------------------------


def wire_messages(rng: random.Random) -> list[bytes]:
    """End-to-end messages as the web client puts them in ``ciphertext``: a first DM (X3DH),
    a DM follow-up, a Sender Keys channel message (e2e-protocol.md)."""

    def nums(n: int) -> list[int]:
        return [rng.randrange(256) for _ in range(n)]

    header = {"ratchet_key": nums(32), "previous_chain_length": 0, "message_number": 0}
    first = {
        "v": 1,
        "x3dh": {
            "identity_key": nums(32),
            "ephemeral_key": nums(32),
            "signed_prekey_id": 1,
            "one_time_prekey_id": 4,
        },
        "header": header,
        "ciphertext": nums(45),
        "nonce": nums(12),
    }
    followup = {"v": 1, "header": header, "ciphertext": nums(30), "nonce": nums(12)}
    group = {
        "v": 1,
        "sk": True,
        "message": {"chain_id": 12345, "iteration": 2, "ciphertext": nums(28), "nonce": nums(12)},
    }
    return [json.dumps(w, separators=(",", ":")).encode() for w in (first, followup, group)]


async def test_encrypted_messages_are_never_found(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Wire messages and raw ciphertext bytes are stored unindexed; searching a channel that
    holds only those answers [] (no 500), whatever is searched, and plaintext next to them is
    still found."""
    owner, member, channel = await room(ctx)
    rng = random.Random(9)
    encrypted = [*wire_messages(rng), b"\xff" + bytes(rng.randrange(256) for _ in range(64))]
    for payload in encrypted:
        await send(ctx, owner, channel, payload)
    for q in ('"v":1', "ciphertext", "header", "sk", "nonce", "12345", "\ufffd\ufffd"):
        assert await found(client, member, q, channel) == [], q
        assert await found(client, member, q) == [], q
    rows = await sql(
        ctx, "SELECT search_text, search_config FROM messages WHERE channel_id = $1", channel
    )
    assert [tuple(r) for r in rows] == [(None, "")] * len(encrypted)
    plain = await send(ctx, member, channel, "plaintext next to ciphertext")
    assert await found(client, member, "ciphertext", channel) == [plain]


async def test_edit_reindexes(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """An edit replaces what the message is found by; an edit to an encrypted payload removes
    it from search."""
    owner, _, channel = await room(ctx)
    message = await send(ctx, owner, channel, "meeting on monday")
    await messages_service.edit_message(
        ctx, actor(owner), uuid.UUID(message), b"meeting on tuesday", bytes(12)
    )
    assert await found(client, owner, "monday", channel) == []
    assert await found(client, owner, "tuesday", channel) == [message]
    [wire] = wire_messages(random.Random(1))[1:2]
    await messages_service.edit_message(ctx, actor(owner), uuid.UUID(message), wire, bytes(12))
    assert await found(client, owner, "tuesday", channel) == []
    assert await found(client, owner, "header", channel) == []


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [None, "", "a", "é", "🎉", "x" * 257, "é" * 257])
async def test_query_length_is_checked(ctx: Ctx, client: httpx.AsyncClient, q: str | None) -> None:
    """``q`` must be 2-256 characters (not bytes): 400 with the spec's message."""
    owner, _, channel = await room(ctx)
    for where in (channel, None):
        assert error(await search(client, owner, q, where)) == (
            400,
            "validation_error",
            "search query must be 2-256 characters",
        )


async def test_query_length_bounds_are_accepted(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """2 and 256 characters (256 two-byte characters too) are fine."""
    owner, _, channel = await room(ctx)
    long = await send(ctx, owner, channel, "é" * 300)
    assert await found(client, owner, "ok", channel) == []
    assert await found(client, owner, "é" * 256, channel) == [long]
    assert await found(client, owner, "É" * 2) == [long]


@pytest.mark.parametrize(
    ("q", "matches"),
    [
        ("100%", ["100% sure"]),
        ("snake_case", ["snake_case"]),
        ("back\\slash", ["back\\slash"]),
        ("it's", ["it's fine"]),
        ("a&b", ["a&b|c!d"]),
        ("b|c!d", ["a&b|c!d"]),
        ("(x):*", ["f(x):* = 1"]),
        ("!!", ["wow!!"]),
        ("&|!():*\\'", []),
        ("%_", []),
        ("'; DROP TABLE messages; --", []),
        ("...", ["wait..."]),
        ("?!", []),
    ],
)
async def test_metacharacters_are_literal(
    ctx: Ctx, client: httpx.AsyncClient, q: str, matches: list[str]
) -> None:
    """SQL LIKE wildcards and tsquery operators in ``q`` are plain characters: no error, and
    ``%`` / ``_`` / ``\\`` match only themselves."""
    owner, _, channel = await room(ctx)
    texts = ["100% sure", "1000 sure", "snake_case", "snakeXcase", "back\\slash", "backslash"]
    texts += ["it's fine", "a&b|c!d", "f(x):* = 1", "wow!!", "wait...", "nothing here"]
    ids = {await send(ctx, owner, channel, text): text for text in texts}
    for where in (channel, None):
        response = await search(client, owner, q, where)
        assert response.status_code == 200, response.text
        assert sorted(ids[m["id"]] for m in response.json()) == sorted(matches)
    assert len(await sql(ctx, "SELECT id FROM messages WHERE channel_id = $1", channel)) == 12


async def test_only_punctuation_or_stop_words(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A query with no word in it still works (PostgreSQL finds no lexeme: no error); it
    matches as a substring."""
    owner, _, channel = await room(ctx)
    message = await send(ctx, owner, channel, "what?! -- really...")
    assert await found(client, owner, "?!", channel) == [message]
    assert await found(client, owner, "--", channel) == [message]
    assert await found(client, owner, "@#", channel) == []
    assert await found(client, owner, "the and of", channel) == []


@pytest.fixture
async def english(
    db_conn: Any, tmp_path: Path, sink: RecordingSink, passwords: PasswordHasher, jwt_keys: JwtKeys
) -> tuple[Ctx, httpx.AsyncClient]:
    """A server with SEARCH_LANGUAGE=english (stemming, English stop words)."""
    settings = settings_in(tmp_path, SEARCH_LANGUAGE="english")
    ctx = build_ctx(Database.single_connection(db_conn, sink=sink), settings, passwords, jwt_keys)
    transport = httpx.ASGITransport(app=create_app(ctx))
    return ctx, httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_english_stems_and_stop_words(english: tuple[Ctx, httpx.AsyncClient]) -> None:
    """With SEARCH_LANGUAGE=english, other forms of a word match and a query of stop words
    only is no error (it still matches as a substring)."""
    ctx, client = english
    async with client:
        owner, _, channel = await room(ctx)
        running = await send(ctx, owner, channel, "The servers were running hot")
        await send(ctx, owner, channel, "nothing relevant")
        assert await found(client, owner, "runs", channel) == [running]
        assert await found(client, owner, "server", channel) == [running]
        highlight = (await search(client, owner, "runs", channel)).json()[0]["highlight"]
        assert "<mark>running</mark>" in highlight
        assert await found(client, owner, "the were", channel) == []
        assert await found(client, owner, "were", channel) == [running]


async def test_nul_is_refused_at_the_edge(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``%00`` in the query string: 400 before the route runs."""
    owner, _, channel = await room(ctx)
    for path in (f"/api/channels/{channel}/messages/search", "/api/messages/search"):
        response = await client.get(f"{path}?q=ab%00cd", headers=owner.headers)
        assert error(response)[:2] == (400, "validation_error")
        response = await client.get(f"{path}?q=abcd&sender=x%00", headers=owner.headers)
        assert error(response)[:2] == (400, "validation_error")


@pytest.mark.parametrize("limit", ["0", "-1", "-100", "abc", "1.5", "2e3", "9" * 200])
async def test_bad_limit(ctx: Ctx, client: httpx.AsyncClient, limit: str) -> None:
    """Zero, negative and non-integer limits are a 400 naming ``limit``."""
    owner, _, channel = await room(ctx)
    if limit.startswith("9"):  # a huge positive number is just "more than 50"
        assert await found(client, owner, "abc", channel, limit=limit) == []
        return
    for where in (channel, None):
        status, code, message = error(await search(client, owner, "abc", where, limit=limit))
        assert (status, code) == (400, "validation_error")
        assert message.startswith("limit must be")


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-01-01", "2026-01-01T10:00:00", "2026-13-01T00:00:00Z", "1700000000", "x"],
)
async def test_bad_before_and_after(ctx: Ctx, client: httpx.AsyncClient, value: str) -> None:
    """A time that is not RFC 3339 (with its offset) is a 400 naming the parameter (the
    original ignored it, silently searching without the bound)."""
    owner, _, channel = await room(ctx)
    for name in ("before", "after"):
        status, code, message = error(await search(client, owner, "abc", channel, **{name: value}))
        assert (status, code) == (400, "validation_error")
        assert message.startswith(f"{name} must be an RFC 3339 date-time")


async def test_edge_values_of_before_and_after(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """Leap seconds, lower-case separators, many fraction digits and far dates are accepted."""
    owner, _, channel = await room(ctx)
    message = await send(ctx, owner, channel, "timeless")
    for after in (
        "1970-01-01t00:00:00z",
        "2016-12-31T23:59:60Z",
        "0001-01-01T00:00:00+14:00",
        "0000-01-01T00:00:00Z",
    ):
        assert await found(client, owner, "timeless", channel, after=after) == [message], after
    before = "9999-12-31T23:59:59.123456789-12:00"
    assert await found(client, owner, "timeless", channel, before=before) == [message]
    assert await found(client, owner, "timeless", channel, before="2000-01-01T00:00:00Z") == []


async def test_bad_has_file(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """``has_file`` other than true/false is a 400 naming it."""
    owner, _, channel = await room(ctx)
    assert error(await search(client, owner, "abc", channel, has_file="yes")) == (
        400,
        "validation_error",
        "has_file must be true or false",
    )


async def test_over_long_sender(ctx: Ctx, client: httpx.AsyncClient) -> None:
    """A ``sender`` filter over 256 characters is a 400."""
    owner, _, channel = await room(ctx)
    status, code, _ = error(await search(client, owner, "abc", channel, sender="x" * 257))
    assert (status, code) == (400, "validation_error")


async def test_unauthenticated(client: httpx.AsyncClient) -> None:
    """Both routes need a valid token (401)."""
    for path in (
        "/api/messages/search?q=abc",
        f"/api/channels/{uuid.uuid4()}/messages/search?q=abc",
    ):
        response = await client.get(path)
        assert error(response)[:2] == (401, "unauthorized")
