"""HTTP/2 framing (RFC 9113 sections 4-7): frame types, flags, error codes, the windows brisk advertises,
and how a frame is laid out. The connection state machine that uses them is ``http2.py``.

A frame is a 9-byte header (24-bit payload length, type, flags, 31-bit stream id) and its payload.
"""

from __future__ import annotations

from brisk.exceptions import RemoteProtocolError

__all__ = [
    "ACK",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECTION_WINDOW",
    "CONTINUATION",
    "DATA",
    "END_HEADERS",
    "END_STREAM",
    "ENHANCE_YOUR_CALM",
    "FLOW_CONTROL_ERROR",
    "FRAME_SIZE_ERROR",
    "GOAWAY",
    "HEADERS",
    "MAX_CONTINUATIONS",
    "MAX_FRAME_SIZE",
    "MAX_WINDOW",
    "NO_ERROR",
    "PADDED",
    "PING",
    "PREFACE",
    "PRIORITY",
    "PRIORITY_FLAG",
    "PROTOCOL_ERROR",
    "PUSH_PROMISE",
    "REFUSED_STREAM",
    "RST_STREAM",
    "SETTINGS",
    "STREAM_WINDOW",
    "WINDOW_UPDATE",
    "ConnectionFailure",
    "client_preface",
    "error_name",
    "frame",
    "protocol_error",
]

STREAM_WINDOW = 16 * 1024 * 1024  # per-stream receive window we advertise
CONNECTION_WINDOW = 64 * 1024 * 1024  # connection-level receive window
MAX_CONTINUATIONS = 64  # CONTINUATION frames after one HEADERS before it is a flood
MAX_FRAME_SIZE = 16384  # what we accept (the default: we never announce another)
MAX_WINDOW = 2**31 - 1  # the largest flow-control window, and the largest stream id
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # what a client sends before its first frame

# Frame types and flags (RFC 9113 section 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE = range(9)
CONTINUATION = 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

# Error codes (RFC 9113 section 7).
ERROR_NAMES = (
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
    "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
)  # fmt: skip
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL = 0, 1, 3, 6, 7, 8
COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 9, 11


def error_name(code: int) -> str:
    return ERROR_NAMES[code] if code < len(ERROR_NAMES) else f"0x{code:x}"


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One frame, header and payload, ready to write."""
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(4, "big") + payload


class ConnectionFailure(Exception):
    """Raised inside ``H2Connection.receive`` to end the connection with a GOAWAY carrying ``code``; the
    connection fails its streams with ``error``. Never leaves the protocol package."""

    def __init__(self, code: int, error: Exception) -> None:
        super().__init__(str(error))
        self.code = code
        self.error = error


def protocol_error(what: str, code: int = PROTOCOL_ERROR) -> ConnectionFailure:
    """A connection error: the server broke the protocol (``what``), answered with GOAWAY ``code``."""
    return ConnectionFailure(code, RemoteProtocolError(f"HTTP/2 protocol error from the server: {what}"))


def client_preface(max_header_list_size: int) -> bytes:
    """What a client sends first (RFC 9113 section 3.4): the preface string, its SETTINGS, and a
    WINDOW_UPDATE that opens the connection's receive window from the default 65,535 bytes to ours."""
    settings = b"".join(
        code.to_bytes(2, "big") + value.to_bytes(4, "big")
        for code, value in (
            (0x2, 0),  # ENABLE_PUSH
            (0x3, 1000),  # MAX_CONCURRENT_STREAMS (of pushed streams: none)
            (0x4, STREAM_WINDOW),  # INITIAL_WINDOW_SIZE
            (0x6, max_header_list_size),  # MAX_HEADER_LIST_SIZE
        )
    )
    return (
        PREFACE
        + frame(SETTINGS, 0, 0, settings)
        + frame(WINDOW_UPDATE, 0, 0, (CONNECTION_WINDOW - 65535).to_bytes(4, "big"))
    )
