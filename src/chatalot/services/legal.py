"""The instance's privacy policy and terms of service.

An administrator customises them by writing markdown to ``privacy-policy.md`` and
``terms-of-service.md`` in the data directory (CHATALOT_DATA_DIR, by default ``./data``, which
is where the original looked: ``data/`` under the working directory). A missing, blank or
unreadable file means the built-in default from services/legal_texts.py. Files are read off the
event loop, on every request, so an edit shows at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from chatalot.context import Ctx
from chatalot.services import legal_texts
from chatalot.services.legal_texts import InstanceFacts

log = logging.getLogger("chatalot_server")

PRIVACY_FILE = "privacy-policy.md"
TERMS_FILE = "terms-of-service.md"
MAX_DOCUMENT_BYTES = 1024 * 1024  # a larger file is a mistake, not a policy


@dataclass(frozen=True, slots=True)
class LegalDocument:
    title: str
    body: str  # markdown


def _read_document(path: Path) -> str | None:
    """The file's text, or None when it is missing, blank, too large or unreadable."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        log.warning("Cannot read %s (%s): serving the default text", path, err.strerror or err)
        return None
    if len(raw) > MAX_DOCUMENT_BYTES:
        log.warning("%s is larger than 1 MiB: serving the default text", path)
        return None
    text = raw.decode("utf-8", errors="replace")
    return text if text.strip() else None


def _facts(ctx: Ctx) -> InstanceFacts:
    settings = ctx.settings
    public_url = (settings.public_url or "").strip()
    return InstanceFacts(
        name=public_url or legal_texts.DEFAULT_INSTANCE_NAME,
        feedback_to_github=bool(
            settings.github_api_token and settings.github_repo_owner and settings.github_repo_name
        ),
        gif_search=bool(settings.giphy_api_key),
        web_push=bool(settings.vapid_public_key and settings.vapid_private_key),
    )


async def privacy_policy(ctx: Ctx) -> LegalDocument:
    body = await asyncio.to_thread(_read_document, ctx.settings.data_dir / PRIVACY_FILE)
    return LegalDocument("Privacy Policy", body or legal_texts.privacy_policy(_facts(ctx)))


async def terms_of_service(ctx: Ctx) -> LegalDocument:
    body = await asyncio.to_thread(_read_document, ctx.settings.data_dir / TERMS_FILE)
    return LegalDocument("Terms of Service", body or legal_texts.terms_of_service(_facts(ctx)))
