"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS by run_schemathesis.py).

Authentication: the fuzzing identity (FUZZ_USERNAME, FUZZ_PASSWORD at FUZZ_BASE_URL) signs in
again whenever a request gets a 401, and the request is retried: the fuzzer may end its own
session (POST /api/account/logout-all, or DELETE /api/account/sessions/{id} with an id from
GET /api/account/sessions), which revokes the access token at once. It signs in from another
loopback address (X-Forwarded-For 127.0.0.2; the server trusts 127.0.0.1 as a proxy), because
fuzzing POST /api/auth/login with its own username (which the fuzzer learns from responses)
locks that username out for the fuzzer's own address after 10 wrong passwords.

They supply what a JSON schema cannot express, so that valid requests really are valid:

- images: the upload routes and the feedback screenshot get real PNG, JPEG, WebP and GIF files
  for the media types the document names (random bytes are never an image);
- registration: the E2E keys must be a real Ed25519 identity key whose signature over the
  signed prekey verifies; positive cases get a fresh identity that signs the generated prekey.

And one repair: schemathesis 4.32's coverage phase fills the other required parts of a
multipart body that has a file part with "" whatever their schema says (coverage/_operation.py,
``_generate_multipart_body_from_custom_strategies``), so such positive feedback cases get
schema-valid text parts.

And one guard: to name a filtered strategy, hypothesis parses the filter lambda's source with
``ast``, which on CPython 3.11 can fail deep in a recursion with ``SystemError: AST constructor
recursion depth mismatch``; schemathesis then reports a "Runtime Error" for the operation although
nothing was sent (seen once in CI, on GET /api/admin/communities). The name is only cosmetic, so
such a lambda gets a plain one.
"""

from __future__ import annotations

import copy
import io
import os
from typing import Any

import httpx
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import strategies as st
from PIL import Image


@schemathesis.auth()
class SignIn:
    def get(self, case: Any, context: Any) -> str:
        response = httpx.post(
            f"{os.environ['FUZZ_BASE_URL']}/api/auth/login",
            json={
                "username": os.environ["FUZZ_USERNAME"],
                "password": os.environ["FUZZ_PASSWORD"],
            },
            headers={"X-Forwarded-For": "127.0.0.2"},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _image(fmt: str, size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def _images(fmt: str) -> st.SearchStrategy[bytes]:
    return st.builds(
        _image,
        st.just(fmt),
        st.tuples(st.integers(1, 64), st.integers(1, 64)),
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    )


for _media_type, _format in (
    ("image/png", "PNG"),
    ("image/jpeg", "JPEG"),
    ("image/webp", "WEBP"),
    ("image/gif", "GIF"),
):
    schemathesis.openapi.media_type(_media_type, _images(_format))


def _signed(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` (generated bodies can share nested objects) with a real identity key
    that signs the signed prekey."""
    body = copy.deepcopy(body)
    identity = Ed25519PrivateKey.generate()
    body["identity_key"] = list(identity.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    prekey = body.get("signed_prekey")
    if isinstance(prekey, dict) and isinstance(prekey.get("public_key"), list):
        prekey["signature"] = list(identity.sign(bytes(int(b) for b in prekey["public_key"])))
    return body


_FEEDBACK_TEXT = {"title": "Fuzzed title", "description": "Fuzzed description", "category": "bug"}


def _repaired_feedback(body: dict[str, Any]) -> dict[str, Any]:
    return {k: _FEEDBACK_TEXT[k] if k in _FEEDBACK_TEXT and v == "" else v for k, v in body.items()}


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    route = (case.method.upper(), case.operation.path)
    if route == ("POST", "/api/auth/register"):
        case.body = _signed(case.body)
    elif route == ("POST", "/api/feedback"):
        case.body = _repaired_feedback(case.body)
    return case


def _guard_lambda_names() -> None:
    from hypothesis.internal import lambda_sources

    describe = lambda_sources.lambda_description

    def safe_description(f: Any) -> str:
        try:
            return str(describe(f))
        except SystemError:  # CPython 3.11 ast recursion bookkeeping, see the module docstring
            return "lambda ...: <source not parsed>"

    lambda_sources.lambda_description = safe_description  # type: ignore[assignment]


_guard_lambda_names()
