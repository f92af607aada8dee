"""Fuzz target: brisk's HTTP/1.1 response framing against llhttp's (differential).

Input layout: byte 0 chooses the request method (bit 0: HEAD, else GET), raw mode (bit 1), the number of
interim responses (bits 2-3) and whether brisk is fed inside an ``except`` block (bit 4); byte 1 the cut
points; the rest is either the stream itself (raw mode) or the
fields a stream is built from (a status line and header fields per response, a raw or chunked body, then
nothing, a second response or stray bytes): ``_framing_oracle.build``.

brisk's ``ResponseParser`` reads the stream cut into pieces; a plain ``httptools.HttpResponseParser``
(llhttp, strict) reads it whole. Both must accept it with the same final status, the same end of the final
response (byte offset into the stream) and the same body, or both refuse it; brisk may refuse what llhttp
accepts only by one of its documented rules. ``fuzz/_framing_oracle.py`` says how each reading is taken,
which differences are allowed and why. Any other outcome raises ``FramingDisagreement``.
"""

from __future__ import annotations

import atheris

# The oracle module is instrumented too: its branches (which reader refused, which rule allowed it, which
# field the stream was built from) give libFuzzer features that brisk's code alone does not show, llhttp
# being C.
with atheris.instrument_imports(include=["brisk", "_framing_oracle"]):
    from _framing_oracle import check

from _fuzzutil import fuzz


def test_one_input(data: bytes) -> None:
    check(data)


if __name__ == "__main__":
    fuzz(test_one_input)
