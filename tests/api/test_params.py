"""Query-parameter parsing (api/params.py): messages name the real range."""

from __future__ import annotations

import httpx
import pytest

from chatalot.api.params import parse_int
from chatalot.context import Ctx
from chatalot.errors import Invalid
from tests.support.auth import make_user


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ten", "limit must be a whole number between 1 and 100"),
        ("1.5", "limit must be a whole number between 1 and 100"),
        ("1_000", "limit must be a whole number between 1 and 100"),
        ("٣", "limit must be a whole number between 1 and 100"),  # an Arabic-Indic digit
        ("0x10", "limit must be a whole number between 1 and 100"),
        ("0", "limit must be between 1 and 100"),
        ("101", "limit must be between 1 and 100"),
        ("9" * 5000, "limit must be between 1 and 100"),
        ("-" + "9" * 5000, "limit must be between 1 and 100"),
    ],
)
def test_parse_int_messages_name_the_range(value: str, message: str) -> None:
    """Not a whole number, or out of range: a 400 naming the actual range."""
    with pytest.raises(Invalid) as exc:
        parse_int(value, "limit", default=50, low=1, high=100)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 50), ("", 50), (" 7 ", 7), ("+7", 7), ("-5", 1), ("0", 1), ("1000", 100)],
)
def test_parse_int_clamps_when_asked(value: str | None, expected: int) -> None:
    """With clamp, out-of-range whole numbers become the nearest bound (of any size)."""
    assert parse_int(value, "limit", default=50, low=1, high=100, clamp=True) == expected
    assert parse_int("9" * 5000, "limit", default=50, low=1, high=100, clamp=True) == 100


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("limit=99999999999999999999", 200, None),
        ("limit=-99999999999999999999", 200, None),
        ("limit=abc", 400, "limit must be a whole number between 1 and 100"),
    ],
)
async def test_admin_users_limit_message(
    client: httpx.AsyncClient, ctx: Ctx, query: str, status: int, message: str | None
) -> None:
    """GET /api/admin/users clamps any whole-number limit to 1..100; a non-number is a 400 that
    names 1..100 (not the internal +-2**62 bounds)."""
    owner = await make_user(ctx, "boss", is_admin=True, is_owner=True)
    response = await client.get(f"/api/admin/users?{query}", headers=owner.headers)
    assert response.status_code == status, response.text
    if message is not None:
        assert response.json()["error"]["message"] == message
