"""Two real browsers in one voice call through a real server: Chromium with fake camera and
microphone, the signalling of tests/browser/voice_harness.js over /ws, WebRTC between them on
loopback (host candidates, no STUN or TURN). A third member of the channel, not in the call,
cannot signal either of them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.realtime.conftest import recv_skipping_heartbeat
from tests.support.auth import register_body
from tests.support.pg import PgServer
from tests.support.process import ServerProcess, base_env, start_server

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).with_name("voice_harness.js")
CALL_TIMEOUT = 45.0  # seconds for both peer connections to connect
FORBIDDEN = {
    "type": "error",
    "code": "forbidden",
    "message": "target user not in your voice session",
}

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float, what: str
) -> T:
    """Polls ``probe`` until ``done`` holds for its value; fails with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout:.0f} s; last: {value!r}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def server(pg: PgServer, fresh_db: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """`chatalot serve` on its own database and folder, open registration, and a blank page at
    `/` to run the harness on (the server's origin, its headers and CSP included)."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>voice test</title>")
    env = base_env(
        DATABASE_URL=pg.url(fresh_db).dsn,
        CHATALOT_ENV="dev",
        CHATALOT_RATE_LIMITS="off",
        REGISTRATION_MODE="open",
        STATIC_FILES_PATH=str(static),
    )
    process = start_server(tmp_path, env)
    try:
        await asyncio.to_thread(process.wait_healthy)
        yield process
    finally:
        assert process.stop() == 0, process.log


class Member:
    def __init__(self, auth: dict[str, Any]) -> None:
        self.token: str = auth["access_token"]
        self.id: str = str(auth["user"]["id"])
        self.headers = {"Authorization": f"Bearer {self.token}"}


async def ok(response: Awaitable[httpx.Response]) -> Any:
    answer = await response
    assert answer.status_code == 200, (answer.request.url, answer.text)
    return answer.json() if answer.content else None


async def voice_channel(server: ServerProcess) -> tuple[Member, Member, Member, str]:
    """Three users over HTTP; the first (the instance owner) makes a community with a public
    group and a voice channel in it, the others join through an invite: all three are members
    of the channel."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        members = []
        for name in ("alice", "bob", "carol"):
            body = register_body(f"{name}{uuid.uuid4().hex[:6]}")
            members.append(Member(await ok(http.post("/api/auth/register", json=body))))
        alice, bob, carol = members
        community = await ok(
            http.post("/api/communities", json={"name": "Calls"}, headers=alice.headers)
        )
        group = await ok(
            http.post(
                "/api/groups",
                json={"community_id": community["id"], "name": "Voice", "visibility": "public"},
                headers=alice.headers,
            )
        )
        channel = await ok(
            http.post(
                f"/api/groups/{group['id']}/channels",
                json={"name": "lounge", "channel_type": "voice"},
                headers=alice.headers,
            )
        )
        assert channel["channel_type"] == "voice"
        invite = await ok(
            http.post(
                f"/api/communities/{community['id']}/invites",
                json={"max_uses": 5, "expires_in_hours": 1},
                headers=alice.headers,
            )
        )
        for member in (bob, carol):
            await ok(
                http.post(f"/api/community-invites/{invite['code']}/accept", headers=member.headers)
            )
            channels = await ok(http.get("/api/channels", headers=member.headers))
            assert channel["id"] in {c["id"] for c in channels}
    return alice, bob, carol, str(channel["id"])


async def open_call_page(browser: Any, server: ServerProcess, member: Member, channel: str) -> Any:
    """A fresh browser profile at the server's origin, in the call."""
    context = await browser.new_context()
    page = await context.new_page()
    page.on("pageerror", lambda err: print(f"page error ({member.id}): {err}"))  # noqa: T201
    await page.goto(f"{server.url}/")
    await page.add_script_tag(path=str(HARNESS))
    await page.evaluate(
        "args => window.voiceHarness.start(args)",
        {"token": member.token, "userId": member.id, "channelId": channel},
    )
    return page


async def summary(page: Any) -> dict[str, Any]:
    return dict(await page.evaluate("window.voiceHarness.summary()"))


async def frames(page: Any) -> list[dict[str, Any]]:
    return list(await page.evaluate("window.voiceHarness.frames"))


async def outsider_socket(server: ServerProcess, member: Member, channel: str) -> ClientConnection:
    """The third member on a plain WebSocket, authenticated and subscribed to the channel."""
    ws = await connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10)
    await ws.send(json.dumps({"type": "authenticate", "token": member.token}))
    assert (await recv_skipping_heartbeat(ws))["type"] == "authenticated"
    await ws.send(json.dumps({"type": "subscribe", "channel_ids": [channel]}))
    return ws


async def test_two_browsers_connect_and_an_outsider_cannot_signal(
    browser: Any, server: ServerProcess
) -> None:
    """Both peer connections reach `connected` and media flows both ways; the channel's third
    member, outside the call, gets `forbidden` for every offer and candidate aimed at the
    participants, and neither participant's page ever sees those frames."""
    alice, bob, carol, channel = await voice_channel(server)
    page_a = await open_call_page(browser, server, alice, channel)
    page_b = await open_call_page(browser, server, bob, channel)

    def connected(other: Member) -> Callable[[dict[str, Any]], bool]:
        return lambda s: s["states"].get(other.id) == "connected" or bool(s["errors"])

    state_a = await eventually(lambda: summary(page_a), connected(bob), CALL_TIMEOUT, "alice")
    state_b = await eventually(lambda: summary(page_b), connected(alice), CALL_TIMEOUT, "bob")
    assert state_a["errors"] == [] and state_b["errors"] == []
    assert state_a["states"] == {bob.id: "connected"}
    assert state_b["states"] == {alice.id: "connected"}
    for page, other in ((page_a, bob), (page_b, alice)):
        received = await eventually(
            lambda page=page: page.evaluate("window.voiceHarness.inboundBytes()"),
            lambda got, other=other: got.get(other.id, 0) > 0,
            15,
            "media from the other browser",
        )
        assert received[other.id] > 0

    # The participants saw each other in the authoritative participant list.
    updates = [f for f in await frames(page_a) if f["type"] == "voice_state_update"]
    assert set(updates[-1]["participants"]) == {alice.id, bob.id}

    ws = await outsider_socket(server, carol, channel)
    try:
        session = str(uuid.uuid4())
        for target in (alice, bob):
            await ws.send(
                json.dumps(
                    {
                        "type": "rtc_offer",
                        "target_user_id": target.id,
                        "session_id": session,
                        "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                    }
                )
            )
            await ws.send(
                json.dumps(
                    {
                        "type": "rtc_ice_candidate",
                        "target_user_id": target.id,
                        "session_id": session,
                        "candidate": json.dumps(
                            {
                                "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host",
                                "sdpMid": "0",
                                "sdpMLineIndex": 0,
                            }
                        ),
                    }
                )
            )
        errors = []
        while len(errors) < 4:
            frame = await recv_skipping_heartbeat(ws)
            if frame["type"] == "voice_state_update":  # the call in the channel it subscribed to
                assert set(frame["participants"]) == {alice.id, bob.id}
                continue
            errors.append(frame)
        assert errors == [FORBIDDEN] * 4

        # A barrier: carol's typing reaches both pages through the same relay path, after
        # anything her earlier frames could have produced.
        await ws.send(json.dumps({"type": "typing", "channel_id": channel}))
        for page in (page_a, page_b):
            await eventually(
                lambda page=page: frames(page),
                lambda got: any(
                    f["type"] == "user_typing" and f["user_id"] == carol.id for f in got
                ),
                15,
                "carol's typing on a participant's page",
            )
    finally:
        await ws.close()

    for page, other in ((page_a, bob), (page_b, alice)):
        received = await frames(page)
        rtc = [f for f in received if f["type"].startswith("rtc_")]
        assert rtc, "the call's own signalling was recorded"
        assert {f["from_user_id"] for f in rtc} == {other.id}, rtc
        assert all(carol.id not in json.dumps(f) for f in rtc)
        assert not [f for f in received if f["type"] == "error"], received
        state = await summary(page)
        assert state["states"] == {other.id: "connected"}
        assert state["errors"] == []
