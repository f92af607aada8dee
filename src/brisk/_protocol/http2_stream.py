"""One HTTP/2 stream: its state (``H2Stream``), and the header fields it carries (RFC 9113 sections
8.2-8.3): request headers turned into fields, and the checks that make a response head malformed. A
malformed head is a stream error: the connection (``http2.py``) resets that stream and carries on. HPACK
(``hpack.py``) encodes and decodes the fields.

Both directions keep the fields they have validated, with their converted form: a session sends the same
headers on every request, and a server answers with the same fields on every response. Fields that may carry
secrets are never kept (as in the HTTP/1.1 line cache), so a credential does not outlive its request.
"""

from __future__ import annotations

import re

from brisk._protocol.http2_frames import STREAM_WINDOW
from brisk._protocol.http11 import SECRET_FIELDS, check_header
from brisk.exceptions import RemoteProtocolError, ResponseHeadersTooLarge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.config import Limits

__all__ = [
    "REQUEST_FIELDS",
    "UNCACHED",
    "VALID_FIELDS",
    "H2Stream",
    "StreamReset",
    "bad_status",
    "check_fields",
    "request_field",
    "response_headers",
    "status_of",
]

# Headers HTTP/2 does not carry: connection-specific ones (RFC 9113 section 8.2.2), and Host, which
# becomes :authority.
_SKIP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"})
_CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)

REQUEST_FIELDS: dict[tuple[str, str], tuple[bytes, bytes] | tuple[()]] = {}  # validated request fields
# Fields that may carry secrets are not kept past their request (as in http11's line cache).
UNCACHED = frozenset(name.encode() for name in SECRET_FIELDS)

# Regular response fields already found valid, with their str form: most heads repeat the last one's.
VALID_FIELDS: dict[tuple[bytes, bytes], tuple[str, str]] = {}
_BAD_NAME = re.compile(rb"[^!#$%&'*+\-.^_`|~0-9a-z]")  # a token, lower-case (RFC 9113 section 8.2.1)
_BAD_VALUE = re.compile(rb"[\0\r\n]|\A[ \t]|[ \t]\Z")  # no CR, LF, NUL; no space at either end


class StreamReset(RemoteProtocolError):
    """The server reset this stream (RST_STREAM); other streams of the connection are unaffected."""


class H2Stream:
    """One request/response exchange on an HTTP/2 connection."""

    __slots__ = (
        "body", "complete", "consumed", "content_length", "error", "headers", "id", "informational",
        "no_body", "received", "recv_window", "send_window", "sent_end", "status", "trailers", "unacked",
        "unprocessed",
    )  # fmt: skip

    def __init__(self, stream_id: int, send_window: int, no_body: bool) -> None:
        self.id = stream_id
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.trailers: list[tuple[str, str]] | None = None  # the trailing HEADERS' fields, if any
        self.informational: list[int] = []
        self.body: list[bytes] = []
        self.unacked = 0  # flow-controlled bytes received, not yet handed to the reader
        self.complete = False  # the server ended the stream (END_STREAM)
        self.error: Exception | None = None
        self.unprocessed = False  # GOAWAY or REFUSED_STREAM: the server never processed this stream
        self.send_window = send_window
        self.recv_window = STREAM_WINDOW  # what the server may still send before a WINDOW_UPDATE
        self.consumed = 0  # taken by the reader, not yet given back with a WINDOW_UPDATE
        self.sent_end = False  # we sent END_STREAM (or the stream is reset): nothing more to send
        self.no_body = no_body  # a HEAD request: any Content-Length describes a body that is not sent
        self.content_length: int | None = None
        self.received = 0  # body bytes, to check against Content-Length

    def has_body_data(self) -> bool:
        return bool(self.body)


def request_field(name: str, value: str) -> tuple[bytes, bytes] | tuple[()]:
    """A request header as an HTTP/2 field (validated, name lower-cased), or () when HTTP/2 leaves it out."""
    lower = name.lower()
    if lower in _SKIP or (lower == "te" and value.strip().lower() != "trailers"):
        return ()
    return lower.encode("latin-1"), check_header(name, value).encode("latin-1")


def check_fields(fields: list[tuple[bytes, bytes]], trailers: bool) -> str | None:
    """What makes a response head (or trailer section) malformed (RFC 9113 section 8.2-8.3), or None."""
    regular = False
    statuses = 0
    valid = VALID_FIELDS
    for field in fields:
        if field in valid:
            regular = True
            continue
        name, value = field
        if name[0] == 0x3A:  # a pseudo-header: only :status, once, before the regular fields
            if name != b":status" or trailers or regular:
                return f"pseudo-header {name[:40]!r} not allowed here"
            statuses += 1
            continue
        regular = True
        if _BAD_NAME.search(name):
            return f"invalid header name {name[:40]!r}"
        if name in _CONNECTION_SPECIFIC or (name == b"te" and value != b"trailers"):
            return f"connection-specific header {name.decode('latin-1')!r}"
        if _BAD_VALUE.search(value):
            return f"invalid value for header {name[:40]!r}"
        if name != b"set-cookie":  # values that may be secrets are not kept past the response
            if len(valid) >= 1024:
                valid.clear()
            valid[field] = (name.decode("latin-1"), value.decode("latin-1"))
    if statuses > 1:
        return "more than one :status"
    return None


def status_of(fields: list[tuple[bytes, bytes]]) -> int | None:
    """The ``:status`` of a response head if it is three ASCII digits (RFC 9113 section 8.3.2), else None.
    (``int()`` alone would take ``+200``, ``2_00`` or `` 200`` and raise ValueError on anything else.)"""
    for name, value in fields:
        if name == b":status":
            return int(value) if len(value) == 3 and value.isdigit() else None
    return None


def bad_status(fields: list[tuple[bytes, bytes]]) -> str:
    value = next((value for name, value in fields if name == b":status"), None)
    shown = "missing" if value is None else repr(value[:20])
    return f"invalid HTTP/2 response: status {shown} (expected three digits, 100-999)"


def response_headers(
    fields: list[tuple[bytes, bytes]], limits: Limits
) -> tuple[list[tuple[str, str]], set[bytes]]:
    """The regular fields of a response head (checked by ``check_fields``) as str pairs, and the values of
    its Content-Length fields. Raises ResponseHeadersTooLarge for a field longer than
    ``Limits.max_header_line`` or more fields than ``Limits.max_header_count``."""
    headers = []
    lengths: set[bytes] = set()
    valid = VALID_FIELDS
    for field in fields:
        name, value = field
        if name[0] == 0x3A:  # ":"
            continue
        if len(name) + len(value) + 4 > limits.max_header_line:
            raise ResponseHeadersTooLarge(
                f"a response header ({name[:40]!r}...) is longer than {limits.max_header_line} "
                "bytes (Limits.max_header_line)"
            )
        if name == b"content-length":
            lengths.update(part.strip(b" \t") for part in value.split(b","))  # only SP/HTAB, not VT or FF
        pair = valid.get(field)
        headers.append(pair if pair is not None else (name.decode("latin-1"), value.decode("latin-1")))
    if len(headers) > limits.max_header_count:
        raise ResponseHeadersTooLarge(
            f"the response has more than {limits.max_header_count} header fields (Limits.max_header_count)"
        )
    return headers, lengths
