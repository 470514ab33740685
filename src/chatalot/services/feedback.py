"""In-app feedback: validate, keep it, and forward it to GitHub when that is configured.

Differences from the original, on purpose:
- every submission is stored in the ``feedback`` table, so feedback works on instances
  without a GitHub repository (the original answered 500 when GitHub was not configured);
- GitHub is called after the database commit, with a 10 s timeout; a GitHub failure is
  logged and does not fail the request (``issue_number`` is then null);
- the screenshot stays on this server (the issue says which feedback id holds it) instead of
  being published inside the issue as a data URI; it must be a PNG, JPEG, GIF or WebP image;
- at most 5 submissions per user per hour (429 ``rate_limited``);
- titles and descriptions with control characters (e.g. NUL) are refused with a 400.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from chatalot.context import Ctx
from chatalot.errors import Invalid, RateLimited
from chatalot.ids import uuid7
from chatalot.repositories import feedback as feedback_repo
from chatalot.repositories.feedback import FeedbackRow
from chatalot.services.actor import Actor
from chatalot.services.images import detect_image_type

log = logging.getLogger("chatalot_server")

MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024
MAX_TITLE_BYTES = 200
MAX_DESCRIPTION_BYTES = 5000
HOURLY_LIMIT = 5
LIMIT_WINDOW = timedelta(hours=1)
SUCCESS_MESSAGE = "Feedback submitted successfully. Thank you!"

# category -> (label in the issue title and body, GitHub label)
CATEGORIES: dict[str, tuple[str, str]] = {
    "bug": ("Bug Report", "bug"),
    "feature": ("Feature Request", "enhancement"),
    "ui": ("UI/UX", "ui"),
    "other": ("Other", "feedback"),
}

GITHUB_API = "https://api.github.com"
GITHUB_TIMEOUT_SECONDS = 10.0
# Tests replace this (httpx.MockTransport) to see what would be sent to GitHub.
github_transport: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True, slots=True)
class FeedbackSubmission:
    """The multipart form as received (missing text parts are empty strings; ``screenshot``
    may be longer than the limit, it is checked here)."""

    title: str
    description: str
    category: str
    screenshot: bytes | None = None


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    feedback_id: str
    issue_number: int | None


def _has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


@dataclass(frozen=True, slots=True)
class _Valid:
    title: str
    description: str
    category: str
    screenshot: bytes | None
    screenshot_type: str | None


def _validate(form: FeedbackSubmission) -> _Valid:
    """The original's checks and messages, in its order, then ours."""
    screenshot = form.screenshot or None
    if screenshot is not None and len(screenshot) > MAX_SCREENSHOT_BYTES:
        raise Invalid("screenshot must be under 5MB")
    title = form.title.strip()
    if not 1 <= len(title.encode()) <= MAX_TITLE_BYTES:
        raise Invalid(f"title must be 1-{MAX_TITLE_BYTES} characters")
    description = form.description.strip()
    if not 1 <= len(description.encode()) <= MAX_DESCRIPTION_BYTES:
        raise Invalid(f"description must be 1-{MAX_DESCRIPTION_BYTES} characters")
    category = form.category.strip()
    if category not in CATEGORIES:
        raise Invalid("category must be one of: bug, feature, ui, other")
    if _has_control(title):
        raise Invalid("title must not contain control characters")
    if _has_control(description, allowed="\n\r\t"):
        raise Invalid("description must not contain control characters")
    mime = None
    if screenshot is not None:
        mime = detect_image_type(screenshot)
        if mime is None:
            raise Invalid("screenshot must be a PNG, JPEG, GIF or WebP image")
    return _Valid(title, description, category, screenshot, mime)


async def submit_feedback(ctx: Ctx, actor: Actor, form: FeedbackSubmission) -> FeedbackResult:
    valid = _validate(form)
    now = ctx.clock.now()
    async with ctx.db.transaction("submit_feedback") as tx:
        await feedback_repo.lock_user_feedback(tx.conn, actor.user_id)
        recent = await feedback_repo.list_feedback_times_since(
            tx.conn, actor.user_id, now - LIMIT_WINDOW
        )
        if len(recent) >= HOURLY_LIMIT:
            frees_at = recent[-HOURLY_LIMIT] + LIMIT_WINDOW
            seconds = max(1, math.ceil((frees_at - now).total_seconds()))
            raise RateLimited(
                f"too many feedback submissions — try again in {seconds} seconds",
                retry_after=seconds,
            )
        row = await feedback_repo.insert_feedback(
            tx.conn,
            feedback_id=uuid7(),
            user_id=actor.user_id,
            category=valid.category,
            title=valid.title,
            description=valid.description,
            screenshot=valid.screenshot,
            screenshot_type=valid.screenshot_type,
            created_at=now,
        )
    issue_number = await _forward_to_github(ctx, row, actor.username)
    if issue_number is not None:
        async with ctx.db.transaction("feedback_issue_number") as tx:
            await feedback_repo.update_feedback_issue_number(tx.conn, row.id, issue_number)
    return FeedbackResult(feedback_id=str(row.id), issue_number=issue_number)


def _issue(row: FeedbackRow, username: str) -> dict[str, Any]:
    label, github_label = CATEGORIES[row.category]
    body = f"**Category:** {label}\n**Submitted by:** {username}\n\n---\n\n{row.description}"
    if row.screenshot_type is not None:
        body += f"\n\n---\n\n_Screenshot attached in Chatalot (feedback id {row.id})._"
    return {"title": f"[{label}] {row.title}", "body": body, "labels": [github_label]}


async def _forward_to_github(ctx: Ctx, row: FeedbackRow, username: str) -> int | None:
    """Opens a GitHub issue for the feedback; its number, or None when GitHub is not
    configured or the call fails (logged)."""
    settings = ctx.settings
    token, owner, repo = (
        settings.github_api_token,
        settings.github_repo_owner,
        settings.github_repo_name,
    )
    if not (token and owner and repo):
        return None
    url = f"{GITHUB_API}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "Chatalot",
    }
    try:
        async with httpx.AsyncClient(
            transport=github_transport, timeout=GITHUB_TIMEOUT_SECONDS, follow_redirects=False
        ) as client:
            response = await client.post(url, json=_issue(row, username), headers=headers)
    except httpx.HTTPError as err:
        log.warning("Feedback %s not forwarded: GitHub unreachable (%s)", row.id, err)
        return None
    if response.status_code not in (200, 201):
        log.warning(
            "Feedback %s not forwarded: GitHub answered %d %s",
            row.id,
            response.status_code,
            response.text[:200],
        )
        return None
    try:
        number = response.json().get("number")
    except (ValueError, AttributeError):
        number = None
    if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 2**31:
        return number
    log.warning("Feedback %s: GitHub's answer had no issue number", row.id)
    return None
