"""/api/legal/privacy and /api/legal/terms: the administrator's own markdown from the data
directory, else a default that names the instance."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from chatalot.context import Ctx

PAGES = [
    ("/api/legal/privacy", "Privacy Policy", "privacy-policy.md"),
    ("/api/legal/terms", "Terms of Service", "terms-of-service.md"),
]


@pytest.mark.parametrize(("path", "title", "filename"), PAGES)
async def test_default_document_names_this_instance(
    client: httpx.AsyncClient, path: str, title: str, filename: str
) -> None:
    """No file, no PUBLIC_URL: exactly {title, body}; the body is markdown that says
    'this Chatalot instance'; no Cache-Control; public."""
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "cache-control" not in response.headers
    body = response.json()
    assert set(body) == {"title", "body"}
    assert body["title"] == title
    assert body["body"].startswith(f"# {title}\n")
    assert "**this Chatalot instance**" in body["body"]


@pytest.mark.parametrize(("path", "title", "filename"), PAGES)
async def test_default_names_public_url(
    client: httpx.AsyncClient, ctx: Ctx, path: str, title: str, filename: str
) -> None:
    """With PUBLIC_URL set the default names it instead."""
    ctx.settings = dataclasses.replace(ctx.settings, public_url="https://chat.example.org")
    body = (await client.get(path)).json()["body"]
    assert "**https://chat.example.org**" in body
    assert "this Chatalot instance" not in body


async def test_blank_public_url_counts_as_unset(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """PUBLIC_URL="" (kept as empty by config) does not produce an empty bold name."""
    ctx.settings = dataclasses.replace(ctx.settings, public_url="  ")
    body = (await client.get("/api/legal/privacy")).json()["body"]
    assert "****" not in body
    assert "**this Chatalot instance**" in body


async def test_default_privacy_policy_covers_the_topics(client: httpx.AsyncClient) -> None:
    """Data stored, E2E encryption, a can/cannot-see table, retention, third parties, rights,
    responsibility."""
    body = (await client.get("/api/legal/privacy")).json()["body"]
    for heading in (
        "## What is stored",
        "## End-to-end encryption",
        "## What the server can and cannot see",
        "## How long data is kept",
        "## Other companies",
        "## Your choices and rights",
        "## Who is responsible",
    ):
        assert heading in body
    assert "| The server can see | The server cannot see |" in body
    assert "GitHub" not in body and "GIPHY" not in body


async def test_default_terms_cover_the_topics(client: httpx.AsyncClient) -> None:
    """Self-hosting notice, acceptance, user and host duties, no warranty, termination, trust,
    changes."""
    body = (await client.get("/api/legal/terms")).json()["body"]
    for heading in (
        "## A self-hosted service",
        "## Agreeing to these terms",
        "## What we expect from you",
        "## What the administrator takes care of",
        "## No warranty",
        "## Ending your account",
        "## Trust",
        "## Changes to these terms",
    ):
        assert heading in body


async def test_privacy_policy_mentions_configured_outside_services(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """GitHub forwarding and GIF search are disclosed only when configured."""
    ctx.settings = dataclasses.replace(
        ctx.settings,
        github_api_token="t",
        github_repo_owner="o",
        github_repo_name="r",
        giphy_api_key="g",
    )
    body = (await client.get("/api/legal/privacy")).json()["body"]
    assert "GitHub" in body and "GIPHY" in body
    assert "push service" not in body


@pytest.mark.parametrize(("path", "title", "filename"), PAGES)
async def test_file_in_data_dir_replaces_the_default(
    client: httpx.AsyncClient, ctx: Ctx, path: str, title: str, filename: str
) -> None:
    """<data dir>/<name>.md is served as it is (not trimmed), with the fixed title."""
    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    text = "# Our rules\n\nBe kind. Ünïcödé ✓ `<script>` stays text.\n"
    (ctx.settings.data_dir / filename).write_text(text, encoding="utf-8")
    response = await client.get(path)
    assert response.json() == {"title": title, "body": text}


@pytest.mark.parametrize("content", [b"", b"   \n\t\n"])
async def test_blank_file_means_default(
    client: httpx.AsyncClient, ctx: Ctx, content: bytes
) -> None:
    """An empty or whitespace-only file is ignored."""
    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    (ctx.settings.data_dir / "terms-of-service.md").write_bytes(content)
    body = (await client.get("/api/legal/terms")).json()["body"]
    assert body.startswith("# Terms of Service\n")


async def test_unreadable_or_odd_files_never_fail(client: httpx.AsyncClient, ctx: Ctx) -> None:
    """A directory in the file's place or an oversized file: the default; invalid UTF-8:
    served with replacement characters. Always 200."""
    data = ctx.settings.data_dir
    (data / "privacy-policy.md").mkdir(parents=True)
    response = await client.get("/api/legal/privacy")
    assert response.status_code == 200
    assert response.json()["body"].startswith("# Privacy Policy\n")

    (data / "terms-of-service.md").write_bytes(b"x" * (1024 * 1024 + 1))
    body = (await client.get("/api/legal/terms")).json()["body"]
    assert body.startswith("# Terms of Service\n")

    (data / "terms-of-service.md").write_bytes(b"Terms \xff\xfe here")
    body = (await client.get("/api/legal/terms")).json()["body"]
    assert body == "Terms \ufffd\ufffd here"


async def test_public_even_with_a_bad_token(client: httpx.AsyncClient) -> None:
    """Public pages ignore the Authorization header (a stale token is not a 401)."""
    response = await client.get(
        "/api/legal/privacy", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 200


async def test_other_methods_and_paths(client: httpx.AsyncClient) -> None:
    """POST is 405 and an unknown legal page is a JSON 404, both in the error shape."""
    response = await client.post("/api/legal/privacy", json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    response = await client.get("/api/legal/cookies")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
