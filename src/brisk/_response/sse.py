"""Server-sent events (``text/event-stream``): a sans-IO parser that follows the WHATWG HTML standard.

Bytes go in with ``feed``; complete events come out. ``Response.iter_events`` and ``aiter_events`` are
loops over the body that do nothing else, so the sync and async readers cannot disagree.

The rules, from "Interpreting an event stream" in the HTML standard:

- The stream is UTF-8; one byte-order mark at the very start is dropped; invalid bytes become U+FFFD.
- Lines end with CRLF, LF or CR. A CR that ends a chunk may be the first half of a CRLF, so the parser
  remembers it and swallows an LF that starts the next chunk.
- A blank line dispatches the event being built. With no ``data`` line at all nothing is dispatched (the
  event name is forgotten, the id and the retry time are not: they belong to the stream, not the event).
- A line starting with ``:`` is a comment. Otherwise the field name runs up to the first ``:`` (the whole
  line when there is none) and the value follows, minus one leading space.
- ``event`` names the event (``message`` when empty); each ``data`` line adds the value plus LF (the last LF
  is removed at dispatch); ``id`` sets the last event id unless the value contains NUL (an empty value
  clears it); ``retry`` sets the reconnection time in milliseconds when the value is all ASCII digits;
  other fields are ignored.
- An event still being built when the stream ends is discarded.

The standard sets no size limit; brisk does, so that a server that never ends a line or an event cannot
grow memory without bound: an unfinished line plus the data of the event being built may hold at most
``max_event_size`` bytes (16 MiB by default), past which ``ContentDecodingError`` is raised.
"""

from __future__ import annotations

from typing import NamedTuple

from brisk.exceptions import ContentDecodingError

__all__ = ["MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

MAX_EVENT_SIZE = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent(NamedTuple):
    """One dispatched server-sent event.

    ``id`` is the stream's last event id when the event was dispatched (ids persist until a later ``id``
    field changes them, as in browsers; send it back as ``Last-Event-ID`` when reconnecting), and ``retry``
    the reconnection time in milliseconds the stream had set by then, or None.

    >>> for event in response.iter_events():
    ...     print(event.event, event.id, event.json())
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def json(self) -> object:
        """``data`` parsed as JSON."""
        import json

        return json.loads(self.data)


class SSEDecoder:
    """Incremental ``text/event-stream`` parser: ``feed(bytes) -> [ServerSentEvent, ...]``.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b"event: greet\\ndata: hello\\ndata: world\\n\\n")
    [ServerSentEvent(event='greet', data='hello\\nworld', id='', retry=None)]
    """

    __slots__ = (
        "_buffer", "_data", "_event", "_last_id", "_max_size", "_size", "_skip_lf", "_started", "retry"
    )  # fmt: skip

    def __init__(self, max_event_size: int | None = None) -> None:
        self._max_size = MAX_EVENT_SIZE if max_event_size is None else max_event_size
        self._size = 0  # bytes of data lines in the event being built
        self._buffer = bytearray()  # bytes of an unfinished line
        self._started = False  # past the place where a BOM may be
        self._skip_lf = False  # the last chunk ended with CR: an LF that starts the next one is its pair
        self._event = ""
        self._data: list[str] = []
        self._last_id = ""
        #: The reconnection time (ms) the stream set with ``retry:``, or None.
        self.retry: int | None = None

    @property
    def last_event_id(self) -> str:
        """The last event id seen so far (what to send as ``Last-Event-ID`` when reconnecting)."""
        return self._last_id

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Parse the next piece of the stream; returns the events it completed, in order."""
        if not data:  # an empty piece must not end a pending CR's wait for its LF
            return []
        if self._skip_lf:
            self._skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
        buffer = self._buffer
        buffer += data
        if not self._started:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                return []  # maybe the start of a byte-order mark: wait for more
            self._started = True
            if buffer.startswith(_BOM):
                del buffer[: len(_BOM)]
        elif b"\n" not in data and b"\r" not in data:
            if len(buffer) + self._size > self._max_size:
                self._too_large()
            return []  # the line goes on
        lines = bytes(buffer).splitlines(keepends=True)  # bytes split on CR, LF and CRLF only
        buffer.clear()
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            buffer += lines.pop()  # an unfinished line waits for the next chunk
            if len(buffer) > self._max_size:
                self._too_large()
        elif lines and lines[-1].endswith(b"\r"):
            self._skip_lf = True
        events: list[ServerSentEvent] = []
        for raw in lines:
            event = self._line(raw)
            if event is not None:
                events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._size += len(raw)
            if self._size > self._max_size:
                self._too_large()
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():  # isdigit() is False for ""
            self.retry = int(value)
        return None

    def _too_large(self) -> None:
        self.close()
        raise ContentDecodingError(
            f"a server-sent event is larger than {self._max_size} bytes (an unfinished line or event; "
            "iter_events(max_event_size=...) raises the limit)"
        )

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data = []
        self._size = 0
        self._event = ""
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self._last_id, self.retry)

    def close(self) -> list[ServerSentEvent]:
        """The stream ended: an event not yet closed by a blank line is discarded (no events returned)."""
        self._buffer.clear()
        self._data = []
        self._size = 0
        self._event = ""
        return []
