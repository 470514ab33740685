"""Helpers for the real-browser tests of the built-in web client: a server that can be
restarted on the same port, accounts and communities made over REST, a WebSocket test client,
browser pages signed in without the UI, and a watch on page errors."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect
from websockets.asyncio.client import ClientConnection, connect

from tests.support.auth import PASSWORD, register_body
from tests.support.process import ServerProcess, base_env, start_server

REPO = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("CHATALOT_TEST_ARTIFACTS") or REPO / "test-artifacts" / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshot(page: Any, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 0
    return path


class Server:
    """`chatalot serve` with the built-in client (STATIC_FILES_PATH is an empty folder)."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        static = tmp_path / "static-empty"
        static.mkdir(exist_ok=True)
        self.cwd = tmp_path
        self.env = base_env(
            DATABASE_URL=database_url,
            CHATALOT_ENV="dev",
            CHATALOT_RATE_LIMITS="off",
            REGISTRATION_MODE="open",
            STATIC_FILES_PATH=str(static),
        )
        self.process: ServerProcess | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = start_server(self.cwd, self.env, port=self.port)
        self.port = self.process.port
        await asyncio.to_thread(self.process.wait_healthy)

    async def stop(self) -> None:
        assert self.process is not None
        code = await asyncio.to_thread(self.process.stop)
        assert code == 0, self.process.log


@dataclass
class Member:
    username: str
    token: str
    refresh_token: str
    id: str
    user: dict[str, Any]
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 204), (str(response.request.url), response.text)
    return response.json() if response.content else None


async def register(http: httpx.AsyncClient, name: str, **overrides: Any) -> Member:
    username = f"{name}{uuid.uuid4().hex[:5]}"
    body = register_body(username, **overrides)
    auth = await ok(await http.post("/api/auth/register", json=body))
    return Member(
        username=username,
        token=auth["access_token"],
        refresh_token=auth["refresh_token"],
        id=str(auth["user"]["id"]),
        user=auth["user"],
    )


async def e2e_off(http: httpx.AsyncClient, owner: Member) -> None:
    await ok(
        await http.put("/api/admin/settings", json={"e2e_enabled": "false"}, headers=owner.headers)
    )


@dataclass
class Space:
    owner: Member
    others: list[Member]
    community_id: str
    group_id: str
    channel_id: str
    channel: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_path(self) -> str:
        return f"/channels/{self.community_id}/{self.channel_id}"


async def community_with(
    http: httpx.AsyncClient, names: list[str], *, encryption_off: bool = True
) -> Space:
    """The first name registers first (the instance owner), makes a community with a public
    group "General" (whose text channel everyone joins); the others join through an invite."""
    owner = await register(http, names[0])
    if encryption_off:
        await e2e_off(http, owner)
    others = [await register(http, name) for name in names[1:]]
    community = await ok(
        await http.post("/api/communities", json={"name": "Testers"}, headers=owner.headers)
    )
    group = await ok(
        await http.post(
            "/api/groups",
            json={"community_id": community["id"], "name": "General", "visibility": "public"},
            headers=owner.headers,
        )
    )
    channels = await ok(
        await http.get(f"/api/groups/{group['id']}/channels", headers=owner.headers)
    )
    text = [c for c in channels if c["channel_type"] == "text"]
    if not text:
        text = [
            await ok(
                await http.post(
                    f"/api/groups/{group['id']}/channels",
                    json={"name": "general", "channel_type": "text"},
                    headers=owner.headers,
                )
            )
        ]
    invite = await ok(
        await http.post(
            f"/api/communities/{community['id']}/invites",
            json={"max_uses": None, "expires_in_hours": 24},
            headers=owner.headers,
        )
    )
    for member in others:
        await ok(
            await http.post(
                f"/api/community-invites/{invite['code']}/accept", headers=member.headers
            )
        )
        await http.post(f"/api/groups/{group['id']}/join", headers=member.headers)
        mine = await ok(await http.get("/api/channels", headers=member.headers))
        assert text[0]["id"] in {c["id"] for c in mine}, mine
    return Space(owner, others, str(community["id"]), str(group["id"]), str(text[0]["id"]), text[0])


class WsClient:
    """A test client on /ws: authenticated, subscribed, sends plain-text messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base_url: str, member: Member, channels: list[str]) -> WsClient:
        ws = await connect(base_url.replace("http://", "ws://") + "/ws", max_size=None)
        await ws.send(json.dumps({"type": "authenticate", "token": member.token}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "authenticated":
                break
            assert frame["type"] != "error", frame
        client = cls(ws)
        await ws.send(json.dumps({"type": "subscribe", "channel_ids": channels}))
        return client

    async def send(self, channel_id: str, text: str, message_type: str = "text") -> dict[str, Any]:
        await self.ws.send(
            json.dumps(
                {
                    "type": "send_message",
                    "channel_id": channel_id,
                    "ciphertext": list(text.encode()),
                    "nonce": list(secrets.token_bytes(12)),
                    "message_type": message_type,
                    "reply_to": None,
                    "sender_key_id": None,
                }
            )
        )
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if frame["type"] == "message_sent":
                return dict(frame)
            assert frame["type"] != "error", frame

    async def close(self) -> None:
        await self.ws.close()


class PageWatch:
    """Console errors and uncaught exceptions of a page; `check()` fails on any pageerror."""

    def __init__(self, page: Any, label: str) -> None:
        self.label = label
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.console.append(message.text) if message.type == "error" else None,
        )

    def check(self) -> None:
        assert not self.errors, (
            f"page errors in {self.label}: {self.errors}; console: {self.console}"
        )


async def new_page(
    browser: Any,
    label: str,
    watches: list[PageWatch],
    member: Member | None = None,
    theme: str | None = None,
    **context_options: Any,
) -> Any:
    """A fresh browser profile; with `member`, already signed in (tokens in localStorage)."""
    context = await browser.new_context(**context_options)
    values: dict[str, str] = {}
    if member is not None:
        values["chatalot.access_token"] = member.token
        values["chatalot.refresh_token"] = member.refresh_token
        values["chatalot.user"] = json.dumps(member.user)
    if theme is not None:
        values["chatalot.theme"] = theme
    if values:
        await context.add_init_script(
            "(() => { if (sessionStorage.getItem('test.seeded')) return;"
            " sessionStorage.setItem('test.seeded', '1');"
            f" const values = {json.dumps(values)};"
            " for (const [k, v] of Object.entries(values)) localStorage.setItem(k, v); })();"
        )
    page = await context.new_page()
    watches.append(PageWatch(page, label))
    return page


# the web client on screen --------------------------------------------------------------------


def rows(page: Any, text: str) -> Any:
    return page.locator("ol.messages li.message", has_text=text)


async def wait_ready(page: Any) -> None:
    """The channel view with a usable composer, and the WebSocket authenticated (the client's
    subscriptions are sent as it authenticates, so live events reach the page from then on)."""
    await expect(page.locator("#composer-input")).to_be_enabled(timeout=15_000)
    await expect(page.locator("html")).to_have_attribute("data-connection", "open", timeout=15_000)
    await expect(page.locator(".connection-banner")).to_have_count(0, timeout=15_000)


async def send_ui(page: Any, text: str) -> None:
    box = page.locator("#composer-input")
    await box.fill(text)
    await box.press("Enter")
    await expect(rows(page, text)).to_have_count(1)
    await expect(rows(page, text).locator(".pending")).to_have_count(0)
    await expect(page.locator("ol.messages li.message.pending")).to_have_count(0)


async def until_live(page: Any, text: str) -> None:
    """The server never acknowledges a subscription, but it handles one socket's frames in
    order: once a message this page sends is confirmed, the subscriptions it sent before (as it
    authenticated) are in place, and other people's messages reach it live."""
    await send_ui(page, text)
