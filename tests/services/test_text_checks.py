"""The services' own input checks and messages, called directly (the HTTP edge refuses NUL in
any JSON string before a service sees it, but the services are used from other paths too):
each message names what is actually wrong."""

from __future__ import annotations

import uuid

import pytest

from chatalot.context import Ctx
from chatalot.errors import Invalid, Unauthorized
from chatalot.ids import UserId
from chatalot.protocol.api.account import ProfileIn
from chatalot.protocol.api.auth import LoginIn, RecoverIn
from chatalot.services import accounts, auth, reports
from chatalot.services import totp as totp_service
from chatalot.services.actor import Actor, RequestMeta
from chatalot.services.admin import check_text
from chatalot.services.validation import validate_display_name, validate_image_url
from tests.support.auth import make_user

CONTROL = "must not contain control or invisible formatting characters"
UUID = "0190f3a2-7b7c-7d11-8a2b-0123456789ab"


def actor_for(user_id: uuid.UUID, username: str) -> Actor:
    return Actor(
        user_id=UserId(user_id),
        username=username,
        is_admin=False,
        is_owner=False,
        meta=RequestMeta(ip="203.0.113.1"),
    )


def message_of(exc: pytest.ExceptionInfo[Invalid]) -> str:
    return str(exc.value.message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bad\x00name", f"display name {CONTROL}"),
        ("right\u202eleft", f"display name {CONTROL}"),
        ("soft\u00adhyphen", f"display name {CONTROL}"),
        ("line\u2028break", f"display name {CONTROL}"),
        ("bell\x07", f"display name {CONTROL}"),
        (
            "a" + "\u0300" * 5,
            "display name must not stack more than 4 combining marks on one character",
        ),
        (
            "Z\u0336\u0337\u0338\u0335\u0334\u0333a\u0300lgo",
            "display name must not stack more than 4 combining marks on one character",
        ),
        ("\u0301abc", "display name must not start with a combining mark"),
        ("", "display name must be 1-64 characters"),
        (" \t ", "display name must be 1-64 characters"),
        ("x" * 65, "display name must be 1-64 characters"),
        ("\x00" + "x" * 70, f"display name {CONTROL}"),
    ],
)
def test_display_name_messages(value: str, message: str) -> None:
    """A NUL, a bidirectional override, stacked or leading combining marks and a bad length
    each get their own message; "1-64 characters" only for the length."""
    with pytest.raises(Invalid) as exc:
        validate_display_name(value)
    assert message_of(exc) == message


@pytest.mark.parametrize(
    "value",
    [
        "Zoë",
        "Nguyễn Thị Minh Khai",  # precomposed
        "Nguye\u0302\u0303n",  # decomposed: two marks on one letter
        "👩\u200d💻 coder",  # emoji joined with a zero-width joiner
        "1\ufe0f\u20e3 keycap",
        "é" * 32,
        "שָׁלוֹם",
        "  padded  ",
    ],
)
def test_display_name_accepts_real_names(value: str) -> None:
    """Accents (composed or not), scripts with marks, emoji sequences: accepted, trimmed."""
    assert validate_display_name(value) == value.strip()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ProfileIn(bio="a\x00b"), f"bio {CONTROL}"),
        (ProfileIn(bio="x" * 501), "bio must be at most 500 characters"),
        (
            ProfileIn(bio="é" * 251),
            "bio must be at most 500 bytes of UTF-8 text"
            " (accented letters, emoji and other non-ASCII characters take 2-4 bytes each)",
        ),
        (ProfileIn(custom_status="away\u200b"), f"custom status {CONTROL}"),
        (ProfileIn(pronouns="she\x00her"), f"pronouns {CONTROL}"),
        (ProfileIn(display_name="a\x00"), f"display name {CONTROL}"),
        (
            ProfileIn(avatar_url="https://x/\x00"),
            "avatar URL must not contain spaces or control characters",
        ),
    ],
)
async def test_profile_messages_name_the_problem(ctx: Ctx, body: ProfileIn, message: str) -> None:
    """update_profile itself names what is wrong with a field (NUL is not a length problem)."""
    user = await make_user(ctx)
    with pytest.raises(Invalid) as exc:
        await accounts.update_profile(ctx, actor_for(user.id, user.row.username), body)
    assert message_of(exc) == message


async def test_preferences_nul_message(ctx: Ctx) -> None:
    """update_preferences refuses NUL in keys and values with its own message."""
    user = await make_user(ctx)
    actor = actor_for(user.id, user.row.username)
    for prefs in ({"a": "x\x00"}, {"a\x00": 1}):
        with pytest.raises(Invalid) as exc:
            await accounts.update_preferences(ctx, actor, prefs)
        assert message_of(exc) == "preferences must not contain NUL characters"


def test_check_text_names_the_problem() -> None:
    """check_text: the length message for length, a NUL message naming the field for NUL."""
    with pytest.raises(Invalid) as exc:
        check_text("a\x00b", field="reason", limit=10, message="reason must be 1-10 characters")
    assert message_of(exc) == "reason must not contain NUL characters"
    with pytest.raises(Invalid) as exc:
        check_text("x" * 11, field="reason", limit=10, message="reason must be 1-10 characters")
    assert message_of(exc) == "reason must be 1-10 characters"


async def test_report_reason_with_nul(ctx: Ctx) -> None:
    """create_report refuses a NUL in the reason with a message saying so."""
    user = await make_user(ctx)
    with pytest.raises(Invalid) as exc:
        await reports.create_report(
            ctx,
            actor_for(user.id, user.row.username),
            report_type="user",
            target_id=user.id,
            reason="a\x00b",
        )
    assert message_of(exc) == "reason must not contain NUL characters"


async def test_login_and_recovery_with_nul_are_plain_failures(ctx: Ctx) -> None:
    """A NUL in a username or TOTP code is a wrong credential (401/400), never a database
    error, and is counted like any other failure."""
    user = await make_user(ctx, "nulled")
    meta = RequestMeta(ip="203.0.113.1")
    with pytest.raises(Unauthorized):
        await auth.login(ctx, LoginIn(username="nul\x00led", password="x"), meta)
    with pytest.raises(Invalid) as exc:
        await auth.recover(
            ctx,
            RecoverIn(
                username="nul\x00led",
                recovery_code="AAAA-BBBB-CCCC-DDDD",
                new_password="N3w-Password!",
            ),
            meta,
        )
    assert message_of(exc) == "invalid username or recovery code"
    await totp_service.setup_totp(ctx, actor_for(user.id, "nulled"))
    with pytest.raises(Invalid) as exc:
        await totp_service.verify_totp(ctx, actor_for(user.id, "nulled"), "12345\x00")
    assert message_of(exc) == "invalid TOTP code"


@pytest.mark.parametrize(
    ("value", "allow_external", "message"),
    [
        ("https://" + "a" * 2041, True, "avatar URL must be at most 2048 characters"),
        ("javascript:alert(1)", True, "avatar URL must be an HTTP(S) URL or /api/ path"),
        ("//evil.example/a.png", True, "avatar URL must be an HTTP(S) URL or /api/ path"),
        ("HTTPS://x/a.png", True, "avatar URL must be an HTTP(S) URL or /api/ path"),
        ("https://x/a\tb", True, "avatar URL must not contain spaces or control characters"),
        (
            "https://x/\u202egnp.exe",
            True,
            "avatar URL must not contain spaces or control characters",
        ),
        ("https://", True, "avatar URL must name a host (https://host/...)"),
        ("https://[::1/a.png", True, "avatar URL must name a host (https://host/...)"),
        ("/api/avatars/../../etc/passwd", True, "NOT_OWN"),
        ("/api/avatars/%2e%2e/%2e%2e/etc/passwd", True, "NOT_OWN"),
        (f"/api/avatars/{UUID}.png%3Fx", True, "NOT_OWN"),
        (f"/api/avatars/{UUID}.PNG", True, "NOT_OWN"),
        (f"/api/avatars/{UUID.upper()}.png", True, "NOT_OWN"),
        (f"/api/avatars/{UUID}.svg", True, "NOT_OWN"),
        (f"/api/avatars/{UUID}.png?v=1#frag", True, "NOT_OWN"),
        (f"/api/avatars//{UUID}.png", True, "NOT_OWN"),
        (f"/api/files/{UUID}", True, "NOT_OWN"),
        ("/api/", True, "NOT_OWN"),
        (
            "https://images.example.org/a.png",
            False,
            "avatar URL must be an image uploaded to this server"
            " (this server does not allow images from other sites)",
        ),
    ],
)
def test_image_url_messages(value: str, allow_external: bool, message: str) -> None:
    """validate_image_url: every problem has its own message; paths on this server must have
    the exact shape of an uploaded image's URL."""
    if message == "NOT_OWN":
        message = (
            "avatar URL must be the address of an image uploaded to this server"
            " (like /api/avatars/<id>.png)"
        )
    with pytest.raises(Invalid) as exc:
        validate_image_url(value, "avatar", allow_external=allow_external)
    assert message_of(exc) == message


@pytest.mark.parametrize("allow_external", [True, False])
def test_own_image_urls_are_always_accepted(allow_external: bool) -> None:
    """Own image URLs pass whether or not external images are allowed."""
    for url in (f"/api/avatars/{UUID}.png?v=1700000000", f"/api/avatars/{UUID}_voicebg.webp"):
        assert validate_image_url(url, "avatar", allow_external=allow_external) == url
