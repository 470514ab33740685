"""uvicorn's WebSocket protocol (``websockets-sansio``) with a fast path for our frames.

Delivering one event to many sessions was dominated by per-recipient work in the ASGI
``send``: encoding the text, websockets' frame serialisation, one ``write()`` system call per
frame, and waking each session's writer task (docs/benchmarks.md, "Where the time goes"). A
server text frame is unmasked and, without compression, the same bytes for every recipient, so
the realtime layer builds it once per event (``realtime/hub.py`` ``text_message``: the message
carries the ready frame under ``FRAME_KEY`` next to its ``text``), and this protocol:

- writes such a frame straight to the transport when ``send`` is given one (also several
  frames joined, which the session's writer does with what is queued: one ``write()``);
- offers ``direct_write`` to the session through the scope's extensions (``DIRECT_WRITE``): the
  hub writes a frame synchronously while the session has nothing queued and the socket accepts
  data, without waking a task. When the transport's buffer is full (a slow reader: uvicorn's
  flow control), ``direct_write`` refuses and frames wait in the session's bounded queue, which
  ends in ``out_of_sync`` as before.

Frames built this way are always complete, unfragmented text frames without RSV bits, valid
whether or not permessage-deflate was negotiated. Any other message goes through uvicorn's own
path, and an ASGI server without this protocol (tests may use plain uvicorn) simply sends the
``text``.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol, State

FRAME_KEY = "chatalot.frame"
DIRECT_WRITE = "chatalot.direct_write"
ABORT = "chatalot.abort"  # drop the connection at once (a client that stopped reading)


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked WebSocket text frame (FIN, opcode 1) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65_536:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class FastWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the handshake went ahead (not refused)
            scope["extensions"][DIRECT_WRITE] = self.direct_write
            scope["extensions"][ABORT] = self.transport.abort
            self._restart_parser()

    def _restart_parser(self) -> None:
        """websockets' handshake parser keeps the request (headers and all, ~3 KB) alive as a
        local variable of its generator for the connection's whole life. The handshake is
        parsed and the client cannot send frames before our answer, so a fresh frame parser
        (the generator the handshake one delegates to) takes over with nothing lost."""
        conn = self.conn
        if conn.reader.buffer:  # bytes after the request (a pipelining client): leave it be
            return
        parser = Protocol.parse(conn)
        next(parser)
        conn.parser = parser

    def _open(self) -> bool:
        return (
            self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
            and self.conn.state is State.OPEN
            and not self.transport.is_closing()
        )

    def direct_write(self, frame: bytes) -> bool:
        """Writes ``frame`` now if the socket is open and not applying back-pressure. (Called
        for every recipient of every event: the cheapest checks first.)"""
        if self.close_sent or not self.writable.is_set() or self.conn.state is not State.OPEN:
            return False
        transport = self.transport
        if transport.is_closing() or not self.handshake_complete:
            return False
        transport.write(frame)
        return True

    async def send(self, message: Any) -> None:
        frame = message.get(FRAME_KEY) if message["type"] == "websocket.send" else None
        if frame is None or not self.handshake_complete:
            await super().send(message)
            if message["type"] == "websocket.accept" and self.handshake_complete:
                # The handshake's request and response (headers and all) are not used again:
                # about 3 KB per connection for its whole life otherwise.
                self.request = None  # type: ignore[assignment]
                self.response = None  # type: ignore[assignment]
            return
        await self.writable.wait()
        if not self._open():  # closing or closed, as uvicorn's own send would find it
            raise ClientDisconnected()
        self.transport.write(frame)
