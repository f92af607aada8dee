"""Fuzz target: server-sent events (``brisk._response.sse.SSEDecoder``) and line
splitting (``brisk._response.content``).

Input layout: byte 0 chooses the mode, byte 1 the cut points, the rest is the stream.

SSE mode (bit 0 clear): the stream is fed whole, one byte at a time, and cut at arbitrary points (empty pieces
included). All three must give the same events, last event id and retry time, and those must equal what a
direct reading of the WHATWG "interpreting an event stream" algorithm over the whole stream gives.

Line mode (bit 0 set): ``LineSplitter`` over the same pieces, on bytes or (bit 1) on the stream decoded as
latin-1 text, without a delimiter or (bit 2) with one taken from the stream's first byte. The lines must not
depend on the cuts and must equal ``splitlines()`` (or ``split(delimiter)``) of the whole stream.
"""

from __future__ import annotations

from typing import Any

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._response.content import LineSplitter
    from brisk._response.sse import ServerSentEvent, SSEDecoder

from _fuzzutil import bytewise, cut, fuzz


def decode(pieces: list[bytes]) -> tuple[list[ServerSentEvent], str, int | None]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    events += decoder.close()
    return events, decoder.last_event_id, decoder.retry


def reference(stream: bytes) -> tuple[list[ServerSentEvent], str, int | None]:
    """The HTML standard's algorithm, read literally, over the whole stream."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines.pop()  # the text after the last line end is not a line: it is discarded at the end
    events: list[ServerSentEvent] = []
    data = ""
    event_type = ""
    last_id = ""
    retry: int | None = None
    for line in lines:
        if not line:
            if data:
                event = ServerSentEvent(event_type or "message", data.removesuffix("\n"), last_id, retry)
                events.append(event)
            data = event_type = ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value and all("0" <= c <= "9" for c in value):
            retry = int(value)
    return events, last_id, retry


def check_sse(stream: bytes, seed: int) -> None:
    whole = decode([stream])
    expected = reference(stream)
    assert whole == expected, f"{stream!r}:\n brisk:     {whole!r}\n reference: {expected!r}"
    for pieces in (bytewise(stream), cut(stream, seed)):
        split = decode(pieces)
        assert split == whole, f"{stream!r} cut as {pieces!r}:\n whole: {whole!r}\n split: {split!r}"


def split_lines(pieces: list[Any], delimiter: Any) -> list[Any]:
    splitter: LineSplitter[Any] = LineSplitter(delimiter)
    lines = [line for piece in pieces for line in splitter.push(piece)]
    return lines + splitter.finish()


def check_lines(control: int, stream: bytes, seed: int) -> None:
    pieces: list[Any] = cut(stream, seed)
    whole: Any = stream
    delimiter: Any = stream[:1] if control & 4 and stream else None
    if control & 2:
        pieces = [piece.decode("latin-1") for piece in pieces]
        whole = stream.decode("latin-1")
        delimiter = None if delimiter is None else delimiter.decode("latin-1")
    if delimiter is None:
        expected = whole.splitlines()
    else:
        expected = whole.split(delimiter)
        if expected[-1] == whole[:0]:
            expected.pop()  # a trailing delimiter ends the last line; it does not start an empty one
    got = split_lines(pieces, delimiter)
    assert got == expected, f"{whole!r} cut as {pieces!r} (delimiter {delimiter!r}):\n {got!r}\n {expected!r}"


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    control, seed, stream = data[0], data[1], data[2:]
    if control & 1:
        check_lines(control, stream, seed)
    else:
        check_sse(stream, seed)


if __name__ == "__main__":
    fuzz(test_one_input)
