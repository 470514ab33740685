"""A username is exactly its allowed characters: Python's ``$`` also matches before a final
newline, which let "name\\n" register as a second account that looks like "name"."""

from __future__ import annotations

import httpx

from chatalot.context import Ctx
from chatalot.services.instance_settings import InstanceValues
from tests.support.auth import register, register_body


async def test_username_with_a_trailing_newline_is_refused(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """ "alice\\n" is a 400 naming the allowed characters, even when "alice" exists."""
    ctx.instance.values = InstanceValues(registration_mode="open")
    await register(client, "alice")
    response = await client.post(
        "/api/auth/register", json=register_body("alice\n", email="alice2@example.com")
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "username may only contain letters, numbers, underscores, hyphens, and dots",
    }
