"""Printing requests and responses: plain bytes when piped, colour and indented JSON on a terminal.

Everything goes to ``sys.stdout.buffer`` as bytes, so a piped body is exactly what the server sent (after
content decoding) and text and body never interleave out of order. Colour comes from ``_pretty`` (rich),
which is imported only when colour is on.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from brisk.models import PreparedRequest, Response

__all__ = ["Printer", "colour_wanted", "reason_phrase"]

BINARY_NOTE = "[binary data not shown on a terminal: use -o FILE or a pipe]"


def colour_wanted(pretty: bool | None, tty: bool, environ: dict[str, str] | Any) -> tuple[bool, bool]:
    """``(colour, format)``: colour on a terminal, with FORCE_COLOR or with --pretty, never with NO_COLOR
    or --no-pretty; JSON is indented whenever colour is on, on a terminal, or with --pretty."""
    if pretty is False:
        return False, False
    forced = bool(environ.get("FORCE_COLOR"))
    colour = (tty or forced or pretty is True) and not environ.get("NO_COLOR")
    return colour, colour or tty or pretty is True


def _netloc(url: str) -> str:
    rest = url.split("://", 1)[-1]
    for end in "/?#":
        rest = rest.split(end, 1)[0]
    return rest.rsplit("@", 1)[-1]


def reason_phrase(response: Response) -> str:
    """The reason phrase sent, or the standard one for the status (HTTP/2 and many servers send none)."""
    if response.reason:
        return response.reason
    from http import HTTPStatus

    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def _format_json(data: bytes) -> str | None:
    import json

    try:
        return json.dumps(json.loads(data), indent=4, ensure_ascii=False) + "\n"
    except (ValueError, RecursionError):
        return None


_BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/octet-stream", "application/zip",
                 "application/gzip", "application/pdf")  # fmt: skip


def looks_binary(data: bytes, content_type: str | None) -> bool:
    """True for bodies a terminal should not print: a binary media type, a NUL byte, or (without another
    declared charset) bytes that are not UTF-8."""
    value = (content_type or "").lower()
    if value.startswith(_BINARY_TYPES) or b"\0" in data:
        return True
    if "charset=" in value and "utf-8" not in value and "utf8" not in value:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data) - 3  # a character cut at the end of a piece is not evidence
    return False


def _is_json(content_type: str | None) -> bool:
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value.endswith(("/json", "+json")) or value == "application/x-json"


class Printer:
    """Writes heads and bodies to stdout in the chosen style."""

    def __init__(self, *, colour: bool, format_json: bool, tty: bool, out: BinaryIO | None = None) -> None:
        self.colour = colour
        self.format_json = format_json
        self.tty = tty
        self.out: BinaryIO = out if out is not None else sys.stdout.buffer
        self.wrote_any = False
        self._ends_with_newline = True

    def write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.wrote_any = True
            self._ends_with_newline = data.endswith(b"\n")

    def text(self, value: str) -> None:
        self.write(value.encode("utf-8", "replace"))

    def flush(self) -> None:
        self.out.flush()

    def section_break(self) -> None:
        """A blank line between sections (heads and bodies)."""
        if self.wrote_any:
            if not self._ends_with_newline:
                self.write(b"\n")
            self.write(b"\n")

    # -- heads -------------------------------------------------------------------------------------------

    def _head(self, start_line: str, headers: list[tuple[str, str]], status: int | None) -> None:
        if self.colour:
            from brisk.cli._pretty import colour_head

            self.text(colour_head(start_line, headers, status))
        else:
            self.text(start_line + "\n" + "".join(f"{name}: {value}\n" for name, value in headers))

    def request_head(self, request: PreparedRequest, http_version: str) -> None:
        headers = [("Host", _netloc(request.url or ""))]
        headers += [(name, value) for name, value in request.headers.multi_items() if name.lower() != "host"]
        self._head(f"{request.method} {request.path_url} {http_version}", headers, None)

    def response_head(self, response: Response) -> None:
        raw = response._raw_headers
        if raw is None:
            headers = list(response.headers.multi_items())
        else:  # in wire order
            headers = list(raw) if isinstance(raw, list) else list(raw.headers)
        start = f"{response.http_version} {response.status_code} {reason_phrase(response)}".rstrip()
        self._head(start, headers, response.status_code)

    # -- bodies ------------------------------------------------------------------------------------------

    def request_body(self, request: PreparedRequest) -> None:
        """Print the request body if it is in memory; a streamed one (file upload) is described instead."""
        body = request.body
        if not body:
            return
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            size = request.headers.get("content-length")
            self.note(f"[streamed body{f' of {size} bytes' if size else ''}, not shown]")
            return
        self._body_bytes(body, request.headers.get("content-type"))

    def note(self, message: str) -> None:
        if self.colour:
            from brisk.cli._pretty import colour_note

            self.text(colour_note(message) + "\n")
        else:
            self.text(message + "\n")

    def _json(self, formatted: str) -> None:
        if self.colour:
            from brisk.cli._pretty import colour_json

            self.text(colour_json(formatted))
        else:
            self.text(formatted)

    def _body_bytes(self, data: bytes, content_type: str | None) -> None:
        if self.format_json and _is_json(content_type):
            formatted = _format_json(data)
            if formatted is not None:
                self._json(formatted)
                return
        if self.tty and looks_binary(data, content_type):
            self.note(BINARY_NOTE)
            return
        self.write(data)

    def response_body(self, response: Response) -> None:
        """The body, decoded: indented when it is JSON and formatting is on; otherwise written as it
        arrives (so event streams show live)."""
        if response.request is not None and response.request.method == "HEAD":
            return
        content_type = response.headers.get("content-type")
        if self.format_json and _is_json(content_type):
            self._body_bytes(response.content, content_type)
        else:
            first = True
            for chunk in response.iter_content(None):
                if first and self.tty and looks_binary(chunk, content_type):
                    self.note(BINARY_NOTE)
                    response.close()
                    return
                first = False
                self.write(chunk)
                self.flush()
        if self.tty and not self._ends_with_newline:
            self.write(b"\n")
