"""Group icon and banner uploads (POST /api/groups/{id}/icon|banner), group channel voice
backgrounds (POST /api/groups/{gid}/channels/{cid}/voice-background) and the public
GET /api/group-assets/{filename}."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.ids import ChannelId, CommunityId, GroupId
from chatalot.protocol.events import ChannelUpdated, GroupUpdated
from chatalot.services import images
from chatalot.services.audience import ChannelSubscribers, Users
from tests.api.test_community_assets import BOMB, GIF, JPEG, PNG, WEBP, error, image_bytes
from tests.conftest import RecordingSink
from tests.support.auth import TestUser, make_user
from tests.support.spaces import (
    add_community_member,
    add_group_member,
    make_channel,
    make_community,
    make_group,
)


@dataclass
class Space:
    owner: TestUser
    group_admin: TestUser
    member: TestUser
    community: CommunityId
    group: GroupId
    channel: ChannelId
    other_group: GroupId
    other_channel: ChannelId


async def make_space(ctx: Ctx) -> Space:
    owner, group_admin, member = await make_user(ctx), await make_user(ctx), await make_user(ctx)
    community = await make_community(ctx, owner.id)
    await add_community_member(ctx, community, group_admin.id, "member")
    await add_community_member(ctx, community, member.id, "admin")  # community admin, group member
    group = await make_group(ctx, community, owner.id)
    await add_group_member(ctx, group, group_admin.id, "admin")
    await add_group_member(ctx, group, member.id, "member")
    channel = await make_channel(ctx, group, owner.id, channel_type="voice")
    other_group = await make_group(ctx, community, owner.id)
    other_channel = await make_channel(ctx, other_group, owner.id)
    return Space(owner, group_admin, member, community, group, channel, other_group, other_channel)


async def upload(
    client: httpx.AsyncClient,
    user: TestUser,
    path: str,
    data: bytes,
    content_type: str = "image/png",
    field: str = "icon",
) -> httpx.Response:
    return await client.post(
        path, headers=user.headers, files={field: ("image.png", data, content_type)}
    )


async def stored(ctx: Ctx) -> list[str]:
    return sorted([b.key async for b in ctx.storage.iter_blobs("group_assets/")])


@pytest.mark.parametrize(
    ("data", "content_type", "ext"),
    [(PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"), (WEBP, "image/webp", "webp")],
)
@pytest.mark.parametrize("which", ["icon", "banner"])
async def test_group_image(
    client: httpx.AsyncClient,
    ctx: Ctx,
    sink: RecordingSink,
    which: str,
    data: bytes,
    content_type: str,
    ext: str,
) -> None:
    """A group admin stores group_assets/{gid}_{which}.{ext}; the GroupResponse points at it;
    the community's members get group_updated; the image is served publicly."""
    space = await make_space(ctx)
    assert isinstance(ctx.clock, FakeClock)
    response = await upload(
        client, space.group_admin, f"/api/groups/{space.group}/{which}", data, content_type, which
    )
    assert response.status_code == 200, response.text
    body = response.json()
    url = f"/api/group-assets/{space.group}_{which}.{ext}?v={int(ctx.clock.now().timestamp())}"
    assert body[f"{which}_url"] == url
    assert body["id"] == str(space.group)
    assert body["member_count"] == 3
    assert await stored(ctx) == [f"group_assets/{space.group}_{which}.{ext}"]
    served = await client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["cache-control"] == "public, max-age=3600"
    [emitted] = sink.published
    assert isinstance(emitted.event, GroupUpdated)
    assert getattr(emitted.event, f"{which}_url") == url
    assert emitted.audience == Users.of([space.owner.id, space.group_admin.id, space.member.id])


async def test_new_extension_removes_the_old_blob(client: httpx.AsyncClient, ctx: Ctx) -> None:
    space = await make_space(ctx)
    path = f"/api/groups/{space.group}/icon"
    assert (await upload(client, space.owner, path, PNG)).status_code == 200
    assert (await upload(client, space.owner, path, GIF, "image/gif")).status_code == 200
    assert await stored(ctx) == [f"group_assets/{space.group}_icon.gif"]


async def test_group_messages(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The group routes use the original's own wording."""
    space = await make_space(ctx)
    path = f"/api/groups/{space.group}/icon"
    big = PNG + b"\x00" * (images.MAX_IMAGE_BYTES + 1 - len(PNG))
    assert error(await upload(client, space.owner, path, big)) == (
        400,
        "file too large (max 10MB)",
    )
    assert error(await upload(client, space.owner, path, PNG, "image/bmp")) == (
        400,
        "invalid image type (allowed: png, jpeg, webp, gif)",
    )
    assert error(await upload(client, space.owner, path, PNG, field="banner")) == (
        400,
        "no icon field",
    )
    assert error(await upload(client, space.owner, path, b"MZ" + b"\x00" * 90)) == (
        400,
        "file content does not match declared image type",
    )
    assert error(await upload(client, space.owner, path, JPEG)) == (
        400,
        "file content does not match declared image type",
    )
    assert error(await upload(client, space.owner, path, BOMB)) == (
        400,
        "invalid file: image dimensions too large",
    )
    assert error(await upload(client, space.owner, path, image_bytes("PNG")[:30])) == (
        400,
        "invalid file: the image could not be decoded",
    )
    assert await stored(ctx) == []


async def test_who_may_upload_group_images(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Group members (even community admins) and outsiders: 403; unknown group: 403 (404 for
    the instance owner); malformed id: 400."""
    space = await make_space(ctx)
    outsider = await make_user(ctx)
    root = await make_user(ctx, is_admin=True, is_owner=True)
    path = f"/api/groups/{space.group}/banner"
    for user in (space.member, outsider):
        assert (await upload(client, user, path, PNG, field="banner")).status_code == 403
    assert await stored(ctx) == []
    missing = f"/api/groups/{uuid.uuid4()}/icon"
    assert (await upload(client, space.owner, missing, PNG)).status_code == 403
    assert error(await upload(client, root, missing, PNG)) == (404, "group not found")
    assert (await upload(client, root, path, PNG, field="banner")).status_code == 200
    bad = await upload(client, space.owner, "/api/groups/nope/icon", PNG)
    assert error(bad) == (400, "invalid group id")


# -- channel voice backgrounds ---------------------------------------------------------------


def voicebg(space: Space, channel: uuid.UUID | str | None = None) -> str:
    return f"/api/groups/{space.group}/channels/{channel or space.channel}/voice-background"


async def test_channel_voice_background(
    client: httpx.AsyncClient, ctx: Ctx, sink: RecordingSink
) -> None:
    """Stored as group_assets/{channel_id}_voicebg.{ext}; ChannelResponse; channel_updated to
    the channel's subscribers."""
    space = await make_space(ctx)
    response = await upload(
        client, space.group_admin, voicebg(space), WEBP, "image/webp", "background"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(space.channel)
    assert body["voice_background"].startswith(f"/api/group-assets/{space.channel}_voicebg.webp?v=")
    assert await stored(ctx) == [f"group_assets/{space.channel}_voicebg.webp"]
    [emitted] = sink.published
    assert isinstance(emitted.event, ChannelUpdated)
    assert emitted.event.voice_background == body["voice_background"]
    assert emitted.audience == ChannelSubscribers(space.channel)
    again = await upload(client, space.owner, voicebg(space), PNG, "image/png", "background")
    assert again.status_code == 200
    assert await stored(ctx) == [f"group_assets/{space.channel}_voicebg.png"]
    served = await client.get(again.json()["voice_background"])
    assert served.headers["content-type"] == "image/png"


async def test_channel_voice_background_refusals(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Another group's channel: 403; unknown channel: 404; a member: 403; bad images: 400;
    nothing stored."""
    space = await make_space(ctx)
    other = await upload(
        client, space.owner, voicebg(space, space.other_channel), PNG, field="background"
    )
    assert other.status_code == 403
    unknown = await upload(
        client, space.owner, voicebg(space, uuid.uuid4()), PNG, field="background"
    )
    assert error(unknown) == (404, "channel not found")
    member = await upload(client, space.member, voicebg(space), PNG, field="background")
    assert member.status_code == 403
    assert error(await upload(client, space.owner, voicebg(space), PNG, field="icon")) == (
        400,
        "no background field",
    )
    lying = await upload(client, space.owner, voicebg(space), GIF, "image/png", "background")
    assert error(lying) == (400, "file content does not match declared image type")
    bad = await upload(client, space.owner, voicebg(space, "x"), PNG, field="background")
    assert error(bad) == (400, "invalid channel id")
    assert await stored(ctx) == []


# -- serving -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..png", "a..b", "%2e%2e", "a%5Cb.png", "a%2Fb.png"])
async def test_serve_refuses_unsafe_names(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/api/group-assets/{name}")
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert response.json()["error"]["message"] == "invalid filename"


async def test_serve_missing_and_other_folders(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Unknown: 404 asset not found; a community asset is not served here."""
    await ctx.storage.put_bytes("community_assets/x_icon.png", PNG)
    for name in ("missing.png", "x_icon.png", "%2E"):
        response = await client.get(f"/api/group-assets/{name}")
        assert error(response) == (404, "asset not found")
