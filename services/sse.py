"""An incremental Server-Sent Events decoder: bytes as they arrive -> complete events.

For services that stream SSE over plain HTTP (MiniMax T2A); it follows the WHATWG rules
that matter here: events end at a blank line, `data:` lines join with newlines, a comment
line starts with `:`, and CRLF, CR and LF all end a line.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EVENT_BYTES = 16 << 20  # one event larger than this is a broken stream, not audio


@dataclass(frozen=True)
class SSEvent:
    event: str
    data: str


class SSEDecoder:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # no line ends before this offset of the buffer
        self._data: list[str] = []
        self._event = "message"

    def feed(self, chunk: bytes) -> list[SSEvent]:
        self._buffer += chunk
        if len(self._buffer) > MAX_EVENT_BYTES:
            raise ValueError("an SSE event is larger than 16 MiB")
        events: list[SSEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            if event := self._line(line):
                events.append(event)

    def _next_line(self) -> tuple[bytes, bool]:
        ends = [i for i in (self._buffer.find(b"\n", self._scanned), self._buffer.find(b"\r", self._scanned)) if i >= 0]
        if not ends:
            self._scanned = len(self._buffer)  # a long line arriving in pieces is scanned once
            return b"", False
        index = min(ends)
        if self._buffer[index] == 0x0D and index + 1 == len(self._buffer):
            self._scanned = index  # a CR at the end may be the first half of CRLF
            return b"", False
        skip = 2 if self._buffer[index : index + 2] == b"\r\n" else 1
        line = bytes(self._buffer[:index])
        del self._buffer[: index + skip]
        self._scanned = 0
        return line, True

    def _line(self, raw: bytes) -> SSEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if not line:
            if not self._data:
                return None
            event = SSEvent(self._event, "\n".join(self._data))
            self._data, self._event = [], "message"
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None
