"""Custom emoji: POST /api/communities/{id}/emojis (multipart ``file`` + ``shortcode``),
DELETE /api/communities/{id}/emojis/{emoji_id}, the public GET /api/emojis/{emoji_id}, and the
list a member sees (GET /api/communities/{id}/emojis). Races on a real pool: the 50-emoji cap
and unique shortcodes hold under concurrent uploads."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from PIL import Image

from chatalot.context import Ctx
from chatalot.ids import CommunityId, uuid7
from chatalot.services import emojis as emojis_service
from tests.api.test_community_assets import BOMB, GIF, JPEG, PNG, WEBP, error, image_bytes
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import add_community_member, make_community


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    community: uuid.UUID | str,
    data: bytes | None = PNG,
    content_type: str = "image/png",
    shortcode: str | None = "party",
) -> httpx.Response:
    files: dict[str, Any] = {}
    if data is not None:
        files["file"] = ("emoji.png", data, content_type)
    if shortcode is not None:
        files["shortcode"] = (None, shortcode.encode())
    if not files:
        files["other"] = (None, b"x")
    return await client.post(
        f"/api/communities/{community}/emojis", headers=user.headers, files=files
    )


async def stored(ctx: Ctx) -> list[str]:
    return sorted([b.key async for b in ctx.storage.iter_blobs("emojis/")])


async def insert_emojis(ctx: Ctx, community: CommunityId, by: TestUser, count: int) -> None:
    """``count`` emoji rows (no images) straight into the table."""
    async with ctx.db.transaction("test_emojis") as tx:
        for i in range(count):
            emoji_id = uuid7()
            await tx.conn.execute(
                "INSERT INTO custom_emojis (id, community_id, shortcode, file_path,"
                " content_type, uploaded_by) VALUES ($1, $2, $3, $4, 'image/png', $5)",
                emoji_id,
                community,
                f"pre_{i}",
                f"emojis/{emoji_id}.png",
                by.id,
            )


async def space(ctx: Ctx) -> tuple[TestUser, TestUser, TestUser, CommunityId]:
    owner, moderator, member = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, moderator.id, "moderator")
    await add_community_member(ctx, community, member.id, "member")
    return owner, moderator, member, community


@pytest.mark.parametrize(
    ("data", "content_type"), [(PNG, "image/png"), (GIF, "image/gif"), (WEBP, "image/webp")]
)
async def test_upload_list_serve_delete(
    client: httpx.AsyncClient, ctx: Ctx, data: bytes, content_type: str
) -> None:
    """The emoji is stored as emojis/{id}.{ext}, answered as a CustomEmojiResponse, listed for
    members, served to anyone byte for byte, and deleting it removes row and image."""
    owner, _, member, community = await space(ctx)
    response = await upload(client, owner, community, data, content_type, "  party_1  ")
    assert response.status_code == 200, response.text
    body = response.json()
    emoji_id = body["id"]
    assert body == {
        "id": emoji_id,
        "community_id": str(community),
        "shortcode": "party_1",
        "url": f"/api/emojis/{emoji_id}",
        "content_type": content_type,
        "uploaded_by": str(owner.id),
        "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("+00:00")
    ext = {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}[content_type]
    assert await stored(ctx) == [f"emojis/{emoji_id}.{ext}"]
    listed = await client.get(f"/api/communities/{community}/emojis", headers=member.headers)
    assert listed.json() == [body]
    served = await client.get(body["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == content_type
    assert served.headers["cache-control"] == "public, max-age=86400"
    deleted = await client.delete(
        f"/api/communities/{community}/emojis/{emoji_id}", headers=owner.headers
    )
    assert deleted.status_code == 200
    assert deleted.content == b""
    assert await stored(ctx) == []
    assert error(await client.get(body["url"])) == (404, "emoji not found")
    listed = await client.get(f"/api/communities/{community}/emojis", headers=member.headers)
    assert listed.json() == []


BIG = PNG + b"\x00" * (emojis_service.MAX_EMOJI_BYTES + 1 - len(PNG))
EXACT = PNG + b"\x00" * (emojis_service.MAX_EMOJI_BYTES - len(PNG))


@pytest.mark.parametrize(
    ("data", "content_type", "shortcode", "message"),
    [
        (None, "image/png", "party", "no file field"),
        (PNG, "image/png", None, "shortcode is required"),
        (BIG, "image/png", "party", "emoji too large (max 256KB)"),
        (BIG, "image/png", None, "emoji too large (max 256KB)"),
        (JPEG, "image/jpeg", "party", "invalid image type (allowed: png, gif, webp)"),
        (PNG, "text/plain", "party", "invalid image type (allowed: png, gif, webp)"),
        (b"<svg/>", "image/svg+xml", "party", "invalid image type (allowed: png, gif, webp)"),
        (PNG, "image/png", "a", "shortcode must be 2-32 alphanumeric/underscore characters"),
        (PNG, "image/png", "x" * 33, "shortcode must be 2-32 alphanumeric/underscore characters"),
        (PNG, "image/png", "", "shortcode must be 2-32 alphanumeric/underscore characters"),
        (PNG, "image/png", "par-ty", "shortcode must be 2-32 alphanumeric/underscore characters"),
        (PNG, "image/png", "pärty", "shortcode must be 2-32 alphanumeric/underscore characters"),
        (PNG, "image/png", "a" * 5000, "shortcode must be 2-32 alphanumeric/underscore characters"),
        (JPEG, "image/png", "party", "file content does not match declared image type"),
        (GIF, "image/webp", "party", "file content does not match declared image type"),
        (
            b"MZ\x90\x00" + b"\x00" * 64,
            "image/png",
            "party",
            "file content does not match declared image type",
        ),
        (
            b"\x7fELF\x02\x01",
            "image/gif",
            "party",
            "file content does not match declared image type",
        ),
        (b"", "image/png", "party", "invalid file: empty file"),
        (PNG[:24], "image/png", "party", "invalid file: the image could not be decoded"),
        (
            b"GIF89a" + b"\x00" * 10,
            "image/gif",
            "party",
            "invalid file: the image could not be decoded",
        ),
        (BOMB, "image/png", "party", "invalid file: image dimensions too large"),
        (
            image_bytes("PNG", (5000, 5000)),
            "image/png",
            "party",
            "invalid file: image dimensions too large",
        ),
    ],
)
async def test_bad_uploads(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    data: bytes | None,
    content_type: str,
    shortcode: str | None,
    message: str,
) -> None:
    """Every bad part: 400 with the message, no row, no image."""
    owner, _, _, community = await space(ctx)
    response = await upload(client, owner, community, data, content_type, shortcode)
    assert error(response) == (400, message)
    assert await stored(ctx) == []
    listed = await client.get(f"/api/communities/{community}/emojis", headers=owner.headers)
    assert listed.json() == []


async def test_exactly_256_kib_and_missing_content_type(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    owner, _, _, community = await space(ctx)
    assert (await upload(client, owner, community, EXACT)).status_code == 200
    body = (
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        + PNG
        + b'\r\n--b0\r\nContent-Disposition: form-data; name="shortcode"\r\n\r\nxy\r\n--b0--\r\n'
    )
    response = await client.post(
        f"/api/communities/{community}/emojis",
        headers={**owner.headers, "Content-Type": "multipart/form-data; boundary=b0"},
        content=body,
    )
    assert error(response) == (400, "missing content type")


async def test_animated_gif_with_a_broken_frame_is_refused(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """Every frame is decoded: a GIF cut inside its second frame is refused; a whole
    animated GIF is accepted byte for byte."""
    owner, _, _, community = await space(ctx)
    frames = [Image.new("P", (16, 16), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    whole = out.getvalue()
    ok = await upload(client, owner, community, whole, "image/gif", "anim")
    assert ok.status_code == 200
    assert (await client.get(ok.json()["url"])).content == whole
    cut = await upload(client, owner, community, whole[: len(whole) - 30], "image/gif", "cut")
    assert cut.status_code == 400
    assert cut.json()["error"]["message"].startswith("invalid file: ")


async def test_duplicate_shortcode_is_a_conflict(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Same shortcode twice in one community: 409; another community may use it; the failed
    upload leaves no image."""
    owner, _, _, community = await space(ctx)
    other_community = await make_community(ctx, owner.id)
    assert (await upload(client, owner, community, PNG, shortcode="dup")).status_code == 200
    again = await upload(client, owner, community, GIF, "image/gif", "dup")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "conflict",
        "message": emojis_service.DUPLICATE_MESSAGE,
    }
    assert (await upload(client, owner, other_community, PNG, shortcode="dup")).status_code == 200
    assert len(await stored(ctx)) == 2


async def test_fifty_first_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """With 50 emoji, another upload (even a broken body) is 400 maximum 50 emojis per
    community; with 49 one more fits."""
    owner, _, _, community = await space(ctx)
    await insert_emojis(ctx, community, owner, 49)
    assert (await upload(client, owner, community, shortcode="fiftieth")).status_code == 200
    refused = await upload(client, owner, community, shortcode="fiftyfirst")
    assert error(refused) == (400, "maximum 50 emojis per community")
    broken = await client.post(
        f"/api/communities/{community}/emojis",
        headers={**owner.headers, "Content-Type": "application/json"},
        content=b"{}",
    )
    assert error(broken) == (400, "maximum 50 emojis per community")
    assert len(await stored(ctx)) == 1


async def test_who_may_manage_emoji(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Moderators, members, outsiders: 403 for upload and delete; an instance admin may."""
    owner, moderator, member, community = await space(ctx)
    outsider = await make_user(ctx)
    staff = await make_user(ctx, is_admin=True)
    made = (await upload(client, owner, community)).json()
    for user in (moderator, member, outsider):
        assert (await upload(client, user, community, shortcode="nope")).status_code == 403
        deleted = await client.delete(
            f"/api/communities/{community}/emojis/{made['id']}", headers=user.headers
        )
        assert deleted.status_code == 403
    assert (await upload(client, staff, community, shortcode="staff")).status_code == 200
    deleted = await client.delete(
        f"/api/communities/{community}/emojis/{made['id']}", headers=staff.headers
    )
    assert deleted.status_code == 200


async def test_deleting_another_communitys_emoji(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A manager of community A cannot delete B's emoji through A: 404, and it stays."""
    owner_a, _, _, community_a = await space(ctx)
    owner_b, _, _, community_b = await space(ctx)
    theirs = (await upload(client, owner_b, community_b)).json()
    response = await client.delete(
        f"/api/communities/{community_a}/emojis/{theirs['id']}", headers=owner_a.headers
    )
    assert error(response) == (404, "emoji not found")
    through_b = await client.delete(
        f"/api/communities/{community_b}/emojis/{theirs['id']}", headers=owner_a.headers
    )
    assert through_b.status_code == 403
    assert (await client.get(theirs["url"])).status_code == 200
    assert len(await stored(ctx)) == 1
    unknown = await client.delete(
        f"/api/communities/{community_a}/emojis/{uuid.uuid4()}", headers=owner_a.headers
    )
    assert error(unknown) == (404, "emoji not found")
    malformed = await client.delete(
        f"/api/communities/{community_a}/emojis/nope", headers=owner_a.headers
    )
    assert error(malformed) == (400, "invalid emoji ID")


async def test_serving_errors(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Malformed id: 400; unknown: 404 emoji not found; a row whose image is gone: 404 emoji
    file not found."""
    owner, _, _, community = await space(ctx)
    assert error(await client.get("/api/emojis/not-a-uuid")) == (400, "invalid emoji ID")
    assert error(await client.get(f"/api/emojis/{uuid.uuid4()}")) == (404, "emoji not found")
    made = (await upload(client, owner, community)).json()
    await ctx.storage.delete(f"emojis/{made['id']}.png")
    assert error(await client.get(made["url"])) == (404, "emoji file not found")


# -- races on a real pool ------------------------------------------------------------------


async def test_concurrent_uploads_stop_at_fifty(
    pooled: tuple[Any, Ctx, httpx.AsyncClient],
) -> None:
    """47 emoji, then 8 uploads with different shortcodes at once: exactly 3 succeed, 5 get
    400 maximum 50 emojis per community; 50 rows, 3 images."""
    pool, ctx, client = pooled
    owner = await make_user(ctx, "emojirace")
    community = await make_community(ctx, owner.id)
    await insert_emojis(ctx, community, owner, 47)
    responses = await asyncio.gather(
        *(upload(client, owner, community, shortcode=f"race_{i}") for i in range(8))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 3, 400: 5}, [r.text for r in responses]
    refused = {r.json()["error"]["message"] for r in responses if r.status_code == 400}
    assert refused == {"maximum 50 emojis per community"}
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM custom_emojis") == 50
    assert len(await stored(ctx)) == 3


async def test_concurrent_same_shortcode(pooled: tuple[Any, Ctx, httpx.AsyncClient]) -> None:
    """Six uploads of one shortcode at once: one 200, five 409, one image stored."""
    pool, ctx, client = pooled
    owner = await make_user(ctx, "emojidup")
    community = await make_community(ctx, owner.id)
    responses = await asyncio.gather(
        *(upload(client, owner, community, shortcode="same") for _ in range(6))
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 5}
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM custom_emojis") == 1
    assert len(await stored(ctx)) == 1
