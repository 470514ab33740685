"""/api/feedback: multipart validation with the original's messages, storage of every
submission, optional forwarding to GitHub after commit, and the hourly limit."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any

import httpx
import pytest

from chatalot.clock import FakeClock
from chatalot.context import Ctx
from chatalot.services import feedback as feedback_service
from tests.support.auth import TestUser, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
SUCCESS = "Feedback submitted successfully. Thank you!"


def form(
    title: Any = "Crash on login",
    description: Any = "The app crashes when I press the button.",
    category: Any = "bug",
    screenshot: tuple[str, bytes, str] | None = None,
) -> dict[str, Any]:
    """Multipart parts as httpx `files` (text parts have no filename); None leaves a part out."""
    parts: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("category", category)):
        if value is not None:
            parts[name] = (None, value)
    if screenshot is not None:
        parts["screenshot"] = screenshot
    return parts


async def post(client: httpx.AsyncClient, user: TestUser, **kwargs: Any) -> httpx.Response:
    files = kwargs.pop("files", None)
    if files is None and "content" not in kwargs and "data" not in kwargs:
        files = form()
    return await client.post("/api/feedback", headers=user.headers, files=files, **kwargs)


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


async def stored(ctx: Ctx) -> list[dict[str, Any]]:
    async with ctx.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, user_id, category, title, description, screenshot, screenshot_type,"
            " github_issue_number, created_at FROM feedback ORDER BY created_at, id"
        )
    return [dict(r) for r in rows]


class FakeGitHub:
    """An httpx.MockTransport that records requests and answers as told."""

    def __init__(self, status: int = 201, body: Any = None, exc: Exception | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = (
            {"number": 42, "html_url": "https://github.com/o/r/issues/42"} if body is None else body
        )
        self.exc = exc
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.exc is not None:
            raise self.exc
        content = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        return httpx.Response(self.status, content=content)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, ctx: Ctx) -> FakeGitHub:
    """GitHub forwarding configured, talking to a fake."""
    fake = FakeGitHub()
    monkeypatch.setattr(feedback_service, "github_transport", fake.transport)
    ctx.settings = dataclasses.replace(
        ctx.settings,
        github_api_token="ghp_secret",
        github_repo_owner="chatalot-org",
        github_repo_name="feedback",
    )
    return fake


# -- success -------------------------------------------------------------------------------


async def test_feedback_is_stored_without_github(
    client: httpx.AsyncClient, ctx: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not configured: no outbound call; 200 with issue_number null; row kept (trimmed)."""
    never = FakeGitHub()
    monkeypatch.setattr(feedback_service, "github_transport", never.transport)
    user = await make_user(ctx)
    response = await post(
        client, user, files=form(title="  Crash  ", description="\n It broke.\n", category=" ui ")
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "issue_number": None, "message": SUCCESS}
    assert never.requests == []
    [row] = await stored(ctx)
    assert row["user_id"] == user.id
    assert (row["title"], row["description"], row["category"]) == ("Crash", "It broke.", "ui")
    assert row["screenshot"] is None and row["screenshot_type"] is None
    assert row["github_issue_number"] is None
    assert row["created_at"] == ctx.clock.now()
    assert row["id"].version == 7


@pytest.mark.parametrize(
    ("data", "mime"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
async def test_screenshot_is_kept_with_its_real_type(
    client: httpx.AsyncClient, ctx: Ctx, data: bytes, mime: str
) -> None:
    """The image type comes from the bytes, not from the client's content type or name."""
    user = await make_user(ctx)
    response = await post(
        client, user, files=form(screenshot=("shot.txt", data, "application/octet-stream"))
    )
    assert response.status_code == 200, response.text
    [row] = await stored(ctx)
    assert bytes(row["screenshot"]) == data
    assert row["screenshot_type"] == mime


async def test_empty_screenshot_part_is_ignored(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """An empty file part counts as no screenshot (the client may send one)."""
    user = await make_user(ctx)
    response = await post(client, user, files=form(screenshot=("s.png", b"", "image/png")))
    assert response.status_code == 200, response.text
    [row] = await stored(ctx)
    assert row["screenshot"] is None


async def test_exactly_5_mib_screenshot_is_accepted(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """5 MiB is the largest screenshot allowed."""
    user = await make_user(ctx)
    data = PNG + b"\x00" * (5 * 1024 * 1024 - len(PNG))
    response = await post(client, user, files=form(screenshot=("s.png", data, "image/png")))
    assert response.status_code == 200, response.text
    [row] = await stored(ctx)
    assert len(row["screenshot"]) == 5 * 1024 * 1024


async def test_sql_metacharacters_are_stored_verbatim(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Quotes, semicolons and comments are just text."""
    user = await make_user(ctx)
    title = "'; DROP TABLE feedback; --"
    description = "Robert'); DELETE FROM users WHERE ('1'='1 /* */ \\ %_"
    response = await post(client, user, files=form(title=title, description=description))
    assert response.status_code == 200
    [row] = await stored(ctx)
    assert (row["title"], row["description"]) == (title, description)


# -- GitHub --------------------------------------------------------------------------------


async def test_forwarded_to_github_after_commit(
    client: httpx.AsyncClient, ctx: Ctx, github: FakeGitHub
) -> None:
    """The issue: right URL, token, title, label and body (username, description, a note instead
    of the screenshot); its number is returned and stored."""
    user = await make_user(ctx, "reporter")
    response = await post(
        client,
        user,
        files=form(description="Steps:\n1. open\n2. crash", screenshot=("s.png", PNG, "image/png")),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "issue_number": 42, "message": SUCCESS}
    [request] = github.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.github.com/repos/chatalot-org/feedback/issues"
    assert request.headers["authorization"] == "Bearer ghp_secret"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["user-agent"] == "Chatalot"
    payload = json.loads(request.content)
    [row] = await stored(ctx)
    assert payload == {
        "title": "[Bug Report] Crash on login",
        "labels": ["bug"],
        "body": "**Category:** Bug Report\n**Submitted by:** reporter\n\n---\n\n"
        "Steps:\n1. open\n2. crash\n\n---\n\n"
        f"_Screenshot attached in Chatalot (feedback id {row['id']})._",
    }
    assert "base64" not in request.content.decode()
    assert row["github_issue_number"] == 42


@pytest.mark.parametrize(
    ("category", "label", "github_label"),
    [
        ("bug", "Bug Report", "bug"),
        ("feature", "Feature Request", "enhancement"),
        ("ui", "UI/UX", "ui"),
        ("other", "Other", "feedback"),
    ],
)
async def test_category_labels(
    client: httpx.AsyncClient,
    ctx: Ctx,
    github: FakeGitHub,
    category: str,
    label: str,
    github_label: str,
) -> None:
    """Each category maps to its title label and GitHub label; no screenshot, no note."""
    user = await make_user(ctx)
    response = await post(client, user, files=form(title="Idea", category=category))
    assert response.status_code == 200
    payload = json.loads(github.requests[0].content)
    assert payload["title"] == f"[{label}] Idea"
    assert payload["labels"] == [github_label]
    assert payload["body"].startswith(f"**Category:** {label}\n")
    assert "Screenshot" not in payload["body"]


async def test_owner_and_repo_are_escaped_in_the_url(
    client: httpx.AsyncClient, ctx: Ctx, github: FakeGitHub
) -> None:
    """Odd characters in GITHUB_REPO_OWNER/NAME cannot change the request path."""
    ctx.settings = dataclasses.replace(
        ctx.settings, github_repo_owner="a/../b", github_repo_name="c?d"
    )
    user = await make_user(ctx)
    assert (await post(client, user)).status_code == 200
    assert github.requests[0].url.raw_path == b"/repos/a%2F..%2Fb/c%3Fd/issues"


@pytest.mark.parametrize(
    "fake",
    [
        FakeGitHub(status=500, body={"message": "boom"}),
        FakeGitHub(status=401, body={"message": "Bad credentials"}),
        FakeGitHub(status=201, body=b"not json"),
        FakeGitHub(status=201, body={"no": "number"}),
        FakeGitHub(status=201, body=[1, 2]),
        FakeGitHub(status=201, body={"number": True}),
        FakeGitHub(exc=httpx.ConnectError("no route")),
        FakeGitHub(exc=httpx.ReadTimeout("slow")),
    ],
    ids=["500", "401", "not-json", "no-number", "list", "bool", "connect", "timeout"],
)
async def test_github_failure_does_not_fail_the_request(
    client: httpx.AsyncClient,
    ctx: Ctx,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fake: FakeGitHub,
) -> None:
    """Whatever goes wrong with GitHub: 200, issue_number null, row kept, a warning logged."""
    fake.requests = []
    monkeypatch.setattr(feedback_service, "github_transport", fake.transport)
    ctx.settings = dataclasses.replace(
        ctx.settings, github_api_token="t", github_repo_owner="o", github_repo_name="r"
    )
    user = await make_user(ctx)
    with caplog.at_level(logging.WARNING, logger="chatalot_server"):
        response = await post(client, user)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "issue_number": None, "message": SUCCESS}
    assert len(fake.requests) == 1
    [row] = await stored(ctx)
    assert row["github_issue_number"] is None
    assert any(
        "not forwarded" in r.getMessage() or "no issue number" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize("missing", ["github_api_token", "github_repo_owner", "github_repo_name"])
async def test_partial_github_config_means_no_forwarding(
    client: httpx.AsyncClient, ctx: Ctx, github: FakeGitHub, missing: str
) -> None:
    """All three GitHub settings are needed; with one missing nothing is sent."""
    unset: dict[str, Any] = {missing: None}
    ctx.settings = dataclasses.replace(ctx.settings, **unset)
    user = await make_user(ctx)
    response = await post(client, user)
    assert response.json()["issue_number"] is None
    assert github.requests == []


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (form(title=""), "title must be 1-200 characters"),
        (form(title=" \t\n "), "title must be 1-200 characters"),
        (form(title=None), "title must be 1-200 characters"),
        (form(title="x" * 201), "title must be 1-200 characters"),
        (form(title="é" * 101), "title must be 1-200 characters"),
        (form(description=""), "description must be 1-5000 characters"),
        (form(description=None), "description must be 1-5000 characters"),
        (form(description="d" * 5001), "description must be 1-5000 characters"),
        (form(description="€" * 1667), "description must be 1-5000 characters"),
        (form(category=""), "category must be one of: bug, feature, ui, other"),
        (form(category=None), "category must be one of: bug, feature, ui, other"),
        (form(category="BUG"), "category must be one of: bug, feature, ui, other"),
        (form(category="bug'; --"), "category must be one of: bug, feature, ui, other"),
        (form(title="a\x00b"), "title must not contain control characters"),
        (form(title="two\nlines"), "title must not contain control characters"),
        (form(description="nul \x00 here"), "description must not contain control characters"),
        (
            form(screenshot=("s.png", b"not an image at all", "image/png")),
            "screenshot must be a PNG, JPEG, GIF or WebP image",
        ),
        (
            form(title="", screenshot=("s.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")),
            "screenshot must be under 5MB",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_validation_messages(
    client: httpx.AsyncClient, ctx: Ctx, parts: dict[str, Any], message: str
) -> None:
    """Bad parts: 400 with the original's message (or ours for the new checks); nothing stored."""
    user = await make_user(ctx)
    response = await post(client, user, files=parts)
    assert error(response) == (400, "validation_error", message)
    assert await stored(ctx) == []


async def test_limits_are_in_bytes_and_inclusive(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A 200-byte title and a 5000-byte description (multi-byte characters) are accepted; tabs
    and newlines are fine inside a description."""
    user = await make_user(ctx)
    title = "é" * 100
    description = "line1\n" + "€" * 1664 + "\tb"
    assert (len(title.encode()), len(description.encode())) == (200, 5000)
    response = await post(client, user, files=form(title=title, description=description))
    assert response.status_code == 200, response.text
    [row] = await stored(ctx)
    assert (row["title"], row["description"]) == (title, description)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"json": {"title": "t", "description": "d", "category": "bug"}}, "multipart"),
        ({"data": {"title": "t", "description": "d", "category": "bug"}}, "multipart"),
        ({"content": b""}, "multipart"),
        (
            {"content": b"--x\r\n", "headers": {"content-type": "multipart/form-data"}},
            "boundary",
        ),
        (
            {
                "content": b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello',
                "headers": {"content-type": "multipart/form-data; boundary=b"},
            },
            "",
        ),
        (
            {
                "content": b"garbage without any boundary",
                "headers": {"content-type": "multipart/form-data; boundary=b"},
            },
            "",
        ),
        (
            {
                "content": b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
                b"\xff\xfe\r\n--b--\r\n",
                "headers": {"content-type": "multipart/form-data; boundary=b"},
            },
            "UTF-8",
        ),
    ],
    ids=["json", "urlencoded", "no-body", "no-boundary", "truncated", "garbage", "not-utf8"],
)
async def test_broken_requests_are_invalid_form_data(
    client: httpx.AsyncClient, ctx: Ctx, kwargs: dict[str, Any], fragment: str
) -> None:
    """Not multipart, no boundary, truncated or garbage multipart, non-UTF-8 text: 400
    `invalid form data: ...`, never a 500."""
    user = await make_user(ctx)
    headers = {**user.headers, **kwargs.pop("headers", {})}
    response = await client.post("/api/feedback", headers=headers, **kwargs)
    status, code, message = error(response)
    assert (status, code) == (400, "validation_error"), response.text
    assert message.startswith("invalid form data: ")
    assert fragment in message
    assert await stored(ctx) == []


async def test_text_part_sent_as_a_file_or_twice(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A title uploaded as a file, or two title parts: 400 invalid form data."""
    user = await make_user(ctx)
    parts = form()
    parts["title"] = ("title.txt", b"hello", "text/plain")
    response = await post(client, user, files=parts)
    assert error(response)[2] == "invalid form data: title must be a text part"
    response = await post(
        client,
        user,
        files=[("title", (None, "a")), ("title", (None, "b")), *form(title=None).items()],
    )
    assert error(response)[2] == "invalid form data: more than one title part"
    response = await post(
        client,
        user,
        files=[
            *form().items(),
            ("screenshot", ("a.png", PNG, "image/png")),
            ("screenshot", ("b.png", PNG, "image/png")),
        ],
    )
    assert error(response)[2] == "invalid form data: more than one screenshot part"
    assert await stored(ctx) == []


async def test_unknown_parts_are_ignored(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Extra parts (text or file) do not matter, as in the original."""
    user = await make_user(ctx)
    parts = {**form(), "extra": (None, "x"), "attachment": ("a.bin", b"\x00\x01", "application/x")}
    response = await post(client, user, files=parts)
    assert response.status_code == 200, response.text


async def test_oversized_body_is_413(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A body over 8 MiB is refused before it is read: 413 in the error shape."""
    user = await make_user(ctx)
    big = PNG + b"\x00" * (8 * 1024 * 1024)
    response = await post(client, user, files=form(screenshot=("s.png", big, "image/png")))
    status, code, _ = error(response)
    assert (status, code) == (413, "payload_too_large")
    assert await stored(ctx) == []


async def test_requires_a_signed_in_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """No token or a suspended user: 401, nothing stored."""
    response = await client.post("/api/feedback", files=form())
    assert response.status_code == 401
    suspended = await make_user(ctx, suspended=True)
    assert (await post(client, suspended)).status_code == 401
    assert await stored(ctx) == []


# -- rate limit ----------------------------------------------------------------------------


async def test_five_per_hour_per_user(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """The 6th submission within an hour is 429 with Retry-After; other users are not
    affected; an hour after the first, one more is allowed."""
    assert isinstance(ctx.clock, FakeClock)
    user = await make_user(ctx)
    other = await make_user(ctx)
    for _ in range(5):
        assert (await post(client, user)).status_code == 200
        ctx.clock.advance(60)
    response = await post(client, user)
    status, code, message = error(response)
    assert (status, code) == (429, "rate_limited")
    match = re.fullmatch(r"too many feedback submissions — try again in (\d+) seconds", message)
    assert match is not None, message
    assert int(match.group(1)) == 3600 - 5 * 60
    assert response.headers["retry-after"] == match.group(1)
    assert (await post(client, other)).status_code == 200
    ctx.clock.advance(3600 - 5 * 60 + 1)
    user.token = ctx.tokens.issue_access_token(  # the first token has expired by now
        user_id=user.id, username=user.row.username, is_admin=False, is_owner=False
    )
    assert (await post(client, user)).status_code == 200
    assert (await post(client, user)).status_code == 429
    assert len(await stored(ctx)) == 7


async def test_refused_submissions_do_not_count(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """Invalid submissions are not stored and do not use up the hourly allowance."""
    user = await make_user(ctx)
    for _ in range(6):
        assert (await post(client, user, files=form(title=""))).status_code == 400
    for _ in range(5):
        assert (await post(client, user)).status_code == 200
