"""Fuzz target: the URL parser (``brisk._core.url.URL``): parse, join, with_params, copy_with.

Input layout: byte 0 chooses the operation, the rest is read field by field (``_fuzzutil.Reader``) into its
arguments: text as latin-1, as UTF-8 with replacements, or as any code points including lone surrogates.

Every operation either raises a documented error (MissingSchema, InvalidSchema, InvalidURL) or returns a URL
that keeps the parser's promises: ``str(url)`` parses back to an equal URL with the same string and hash;
``str(url)``, ``target`` and ``host_header`` are printable ASCII without spaces or control characters;
``target`` starts with ``/`` and never holds the fragment; a port is within 1-65535; parsing the result is
a fixed point.
"""

from __future__ import annotations

from typing import Any

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._core.url import URL
    from brisk.exceptions import InvalidSchema, InvalidURL, MissingSchema

from _fuzzutil import Reader, fuzz

DOCUMENTED = (InvalidURL, MissingSchema, InvalidSchema)
UNSAFE = frozenset(map(chr, range(0x21))) | {"\x7f"}
PREFIXES = (
    "http://",
    "https://",
    "HTTP://",
    "socks5h://",
    "file://",
    "http:",
    "",
    "ws://",
    "//",
    "wss://u:p@",
)
BASES = (
    "http://user:pw@a.example:8080/b/c/d;p?q#f",
    "https://example.com",
    "http://[::1]:8080/x/",
    "socks5h://proxy:1080",
    "file:///etc/x",
)


def text(reader: Reader, most: int = 60) -> str:
    """Fuzzed text, or (odd choice byte) a common prefix followed by fuzzed text."""
    if reader.flag():
        return reader.pick(PREFIXES) + reader.text(most)
    return reader.text(most)


def check(url: URL) -> None:
    """The invariants every URL keeps."""
    rendered = str(url)
    again = URL.parse(rendered)
    assert again == url, (rendered, str(again))
    assert str(again) == rendered, (rendered, str(again))
    assert hash(again) == hash(url)
    for value in (rendered, url.target, url.host_header):
        assert value.isascii(), (rendered, value)
        assert not set(value) & UNSAFE, (rendered, value)
    assert "#" not in url.target, url.target
    assert url.target.startswith("/"), url.target
    if url.port is not None:
        assert 0 < url.port <= 65535, url.port
    assert url.scheme == url.scheme.lower(), rendered
    assert rendered.startswith(url.scheme + "://"), rendered


def params(reader: Reader) -> Any:
    kind = reader.byte() % 4
    if kind == 0:
        return text(reader, 30)
    if kind == 1:
        return reader.raw(30)
    pairs = []
    for _ in range(reader.number(0, 4)):
        key = text(reader, 8)
        choice = reader.byte() % 5
        value: Any
        if choice == 0:
            value = None
        elif choice == 1:
            value = reader.number(-(2**15), 2**15)
        elif choice == 2:
            value = [text(reader, 6), text(reader, 6)]
        elif choice == 3:
            value = reader.raw(8)
        else:
            value = text(reader, 8)
        pairs.append((key, value))
    return dict(pairs) if kind == 2 else pairs


def copy_changes(reader: Reader) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("username", "password", "host", "path", "query", "fragment", "port", "scheme"):
        choice = reader.byte() % 4
        if choice == 0:
            continue
        if name == "port":
            changes[name] = None if choice == 1 else reader.number(-5, 70_000)
        elif name in ("password", "query", "fragment") and choice == 1:
            changes[name] = None
        else:
            changes[name] = text(reader, 20)
    return changes


def test_one_input(data: bytes) -> None:
    if not data:
        return
    operation = data[0] % 4
    reader = Reader(data[1:])
    try:
        if operation == 0:
            url = URL.parse(text(reader, 250))
        else:
            choice = reader.byte()
            base = URL.parse(BASES[choice % len(BASES)] if choice & 0x80 else text(reader, 60))
            check(base)
            if operation == 1:
                url = base.join(text(reader, 120))
            elif operation == 2:
                url = base.with_params(params(reader))
            else:
                url = base.copy_with(**copy_changes(reader))
    except DOCUMENTED:
        return
    check(url)


if __name__ == "__main__":
    fuzz(test_one_input)
