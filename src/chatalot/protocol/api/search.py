"""Message search over REST: ``GET /api/channels/{id}/messages/search`` and
``GET /api/messages/search`` answer a list of these."""

from __future__ import annotations

from chatalot.protocol.api.messages import MessageOut


class MessageSearchOut(MessageOut, omit_defaults=True):
    """The history's MessageResponse plus ``highlight`` (ours, omitted when there is none): a
    short snippet of the message, HTML-escaped, with the matches inside ``<mark>`` and
    ``</mark>`` (the only markup in it)."""

    highlight: str | None = None
