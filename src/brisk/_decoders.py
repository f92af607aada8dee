"""Incremental Content-Encoding decoding with decompression-bomb protection.

``make_decoder(headers["Content-Encoding"], limits)`` returns a ``ContentDecoder`` (or ``None`` when the body
is not encoded); feed it the body as it arrives with ``decode()`` and call ``flush()`` at the end.

Rules
-----
- Codings are listed in the order they were applied (``gzip, br`` = gzip first, then br), so they are undone
  right to left. Names are case-insensitive, blanks and ``identity`` are skipped, ``x-gzip`` means ``gzip``.
- More codings than ``Limits.max_content_encodings`` raise ``TooManyContentEncodings``.
- **Unknown codings pass the body through.** If any listed coding is one brisk cannot decode (an unknown name,
  or ``br``/``zstd`` whose library is not installed), ``make_decoder`` returns ``None`` and the body is handed
  over exactly as received, as requests and httpx do. Nothing is half-decoded.
- Corrupt data raises ``ContentDecodingError`` naming the coding, with the library's error as ``__cause__``.
  A body that ends inside a compressed stream raises it from ``flush()``. An empty body is accepted (servers
  label empty bodies ``gzip`` often enough). Bytes after the end of a gzip or deflate stream that do not start
  a new gzip member are ignored, as gzip(1) does; br and zstd are strict.
- zstd frames may not ask for a window above 8 MiB (RFC 9659's limit for HTTP, also what browsers enforce), so
  a frame cannot make the decoder reserve more memory than that.

Bomb protection
---------------
Every coding decodes in bounded steps: zlib with ``max_length``, brotli with ``output_buffer_limit``, zstd by
feeding slices of input no larger than what could legitimately expand into the remaining allowance (a zstd
block of 4 bytes can expand to 128 KiB, so the worst case per input byte is known). After each step the total
output is compared with the compressed bytes *consumed so far* from the network: once the output is above
``Limits.decompression_floor`` and above ``Limits.max_decompression_ratio`` times that input,
``DecompressionBombError`` is raised. For chained codings every stage is checked against the network input,
so an intermediate stage cannot balloon either. Memory therefore stays near the floor (plus one step) however
the bomb is fed, whole or in pieces.

``brotli`` and ``zstandard`` are imported only when a response uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from ._config import DEFAULT_LIMITS, Limits
from .exceptions import ContentDecodingError, DecompressionBombError, TooManyContentEncodings

__all__ = ["SUPPORTED_ENCODINGS", "ContentDecoder", "make_decoder", "supported_encodings"]

#: Largest output produced by one bounded decompression step.
_STEP = 256 * 1024
#: Input handed to brotli per call, so consumption is known to this granularity.
_BR_SLICE = 16 * 1024
#: A zstd RLE block is 4 bytes and expands to at most 128 KiB: the worst case per input byte.
_ZSTD_MAX_EXPANSION = 32 * 1024
#: Smallest zstd input slice (worst case 4 MiB of output); larger slices are used when the allowance permits.
_ZSTD_MIN_SLICE = 128
#: RFC 9659: zstd as an HTTP content coding uses windows of at most 8 MiB.
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024

SUPPORTED_ENCODINGS: str  # computed on first access, see __getattr__ below


class _Budget:
    """Shared accounting for one body: network bytes consumed and the limits they allow."""

    __slots__ = ("floor", "max_ratio", "received")

    def __init__(self, limits: Limits) -> None:
        self.received = 0
        self.floor = limits.decompression_floor
        self.max_ratio = limits.max_decompression_ratio

    def allowance(self) -> int:
        """Output (per stage) allowed with what was received so far."""
        return max(self.floor, self.max_ratio * self.received)

    def check(self, produced: int, coding: str) -> None:
        if produced > self.floor and produced > self.max_ratio * self.received:
            ratio = produced / max(self.received, 1)
            raise DecompressionBombError(
                f"the {coding}-encoded response body expanded to {produced:,} bytes from {self.received:,} "
                f"received bytes (ratio {ratio:,.0f}:1), above the limit of {self.max_ratio}:1 that applies "
                f"past {self.floor:,} decoded bytes; decoding stopped (a decompression bomb?). If the server "
                f"is trusted, raise the limit with Limits(max_decompression_ratio=...)"
            )


class _Stage:
    """One coding in the chain. ``feed`` yields bounded pieces of output."""

    coding = ""

    def __init__(self, budget: _Budget, outer: bool) -> None:
        self._budget = budget
        self._outer = outer  # only the outermost stage counts network input
        self._produced = 0
        self._seen_input = False

    def _account(self, consumed: int, out: bytes) -> None:
        if self._outer:
            self._budget.received += consumed
        self._produced += len(out)
        self._budget.check(self._produced, self.coding)

    def _error(self, exc: Exception) -> ContentDecodingError:
        return ContentDecodingError(f"invalid {self.coding} data: {exc}")

    def _truncated(self) -> ContentDecodingError:
        return ContentDecodingError(
            f"truncated {self.coding} data: the body ended before the end of the compressed stream"
        )

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def finish(self) -> None:
        """Raise ``ContentDecodingError`` if the input ended inside a compressed stream."""
        raise NotImplementedError


class _ZlibStage(_Stage):
    """gzip (multi-member) and deflate (zlib-wrapped, or raw deflate as some servers send)."""

    def __init__(self, budget: _Budget, outer: bool, coding: str) -> None:
        import zlib  # not at module level: every session imports this module; plain bodies need no zlib

        super().__init__(budget, outer)
        self.coding = coding
        self._zlib = zlib
        self._obj: Any = zlib.decompressobj(zlib.MAX_WBITS | 16) if coding == "gzip" else None
        self._head = b""  # deflate: first bytes held until the wrapper can be recognised
        self._ignore_rest = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        zlib = self._zlib
        self._seen_input = True
        if self._ignore_rest:
            self._account(len(data), b"")
            return
        if self._obj is None:  # deflate, format not known yet
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            cmf, flg = data[0], data[1]
            zlib_wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        buf = data
        while True:
            obj = self._obj
            if obj.eof:
                # A complete stream lies behind us: a gzip member may follow; anything else is ignored.
                if self.coding == "gzip" and buf[:1] == b"\x1f":
                    obj = self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    self._ignore_rest = True
                    self._account(len(buf), b"")
                    return
            try:
                out = obj.decompress(buf, _STEP)
            except zlib.error as exc:
                raise self._error(exc) from exc
            rest = obj.unused_data if obj.eof else obj.unconsumed_tail
            if not out and len(rest) == len(buf):  # no progress at all: never loop on it
                if not buf:  # the full step before had drained zlib exactly: nothing was pending
                    return
                raise self._error(ValueError("the decompressor made no progress"))
            self._account(len(buf) - len(rest), out)
            if out:
                yield out
            buf = rest
            # A full step may leave output pending inside zlib even when all input was consumed.
            if not buf and (len(out) < _STEP or obj.eof):
                return

    def finish(self) -> None:
        if not self._seen_input or self._ignore_rest:
            return
        if self._obj is None or not self._obj.eof:
            raise self._truncated()


class _BrotliStage(_Stage):
    coding = "br"

    def __init__(self, budget: _Budget, outer: bool, module: Any) -> None:
        super().__init__(budget, outer)
        self._module = module
        self._obj = module.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen_input = True
        obj = self._obj
        view = memoryview(data)
        try:
            for start in range(0, len(view), _BR_SLICE):
                piece = view[start : start + _BR_SLICE]
                out = obj.process(piece, output_buffer_limit=_STEP)
                self._account(len(piece), out)
                if out:
                    yield out
                # A capped call leaves input or output inside the decoder: drain it before handing it more.
                # can_accept_more_data() alone is not enough (brotli 1.2 can report True with output
                # still pending), so a call that filled its buffer is also followed by another.
                while not obj.can_accept_more_data() or len(out) >= _STEP:
                    out = obj.process(b"", output_buffer_limit=_STEP)
                    self._account(0, out)
                    if out:
                        yield out
        except self._module.error as exc:
            raise self._error(exc) from exc

    def finish(self) -> None:
        if self._seen_input and not self._obj.is_finished():
            raise self._truncated()


class _ZstdStage(_Stage):
    coding = "zstd"

    def __init__(self, budget: _Budget, outer: bool, module: Any) -> None:
        super().__init__(budget, outer)
        self._module = module
        self._dctx = module.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._in_frame = False  # bytes of an unfinished frame have been fed

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen_input = True
        view = memoryview(data)
        pos = 0
        try:
            while pos < len(view):
                # Feed no more than could expand into what is still allowed, so one call stays bounded.
                room = self._budget.allowance() - self._produced
                size = max(_ZSTD_MIN_SLICE, room // _ZSTD_MAX_EXPANSION)
                piece = view[pos : pos + size]
                out = self._obj.decompress(piece)
                used = len(piece)
                if self._obj.eof:  # one frame done; what follows it starts the next frame
                    used -= len(self._obj.unused_data)
                    self._obj = self._dctx.decompressobj()
                    self._in_frame = False
                else:
                    self._in_frame = True
                if used <= 0 and not out:  # no progress at all: never loop on it
                    raise self._error(ValueError("the decompressor made no progress"))
                pos += used
                self._account(used, out)
                if out:
                    yield out
        except self._module.ZstdError as exc:
            raise self._error(exc) from exc

    def finish(self) -> None:
        if self._in_frame:
            raise self._truncated()


@lru_cache(maxsize=1)
def _brotli() -> Any | None:
    """The brotli module, if one is installed that can bound its output per call (>= 1.2)."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        if hasattr(module.Decompressor, "can_accept_more_data"):
            return module
    return None


@lru_cache(maxsize=1)
def _zstandard() -> Any | None:
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard


def _stage_factory(coding: str) -> Callable[[_Budget, bool], _Stage] | None:
    if coding in ("gzip", "deflate"):
        return lambda budget, outer: _ZlibStage(budget, outer, coding)
    if coding == "br":
        br = _brotli()
        return None if br is None else (lambda budget, outer: _BrotliStage(budget, outer, br))
    if coding == "zstd":
        zstd = _zstandard()
        return None if zstd is None else (lambda budget, outer: _ZstdStage(budget, outer, zstd))
    return None


class ContentDecoder:
    """Decodes one response body incrementally through its chain of content codings."""

    def __init__(self, factories: list[Callable[[_Budget, bool], _Stage]], limits: Limits) -> None:
        self._budget = _Budget(limits)
        # factories are outermost first (the last coding applied is undone first)
        self._stages = [factory(self._budget, i == 0) for i, factory in enumerate(factories)]

    def decode(self, data: bytes) -> bytes:
        """Decode the next piece of the body; may return ``b""`` while the decoder needs more input."""
        if not data:
            return b""
        if len(self._stages) == 1:
            return b"".join(self._stages[0].feed(data))
        return b"".join(self._pipe(0, data))

    def _pipe(self, index: int, data: bytes) -> Iterator[bytes]:
        # Each piece is pushed through the later stages before the next one is produced: bounded memory.
        if index == len(self._stages) - 1:
            yield from self._stages[index].feed(data)
            return
        for piece in self._stages[index].feed(data):
            yield from self._pipe(index + 1, piece)

    def flush(self) -> bytes:
        """Finish the body; raises ``ContentDecodingError`` if it ended inside a compressed stream."""
        # Every step drains its output, so nothing is held back; only completeness is left to check.
        for stage in self._stages:
            stage.finish()
        return b""


@lru_cache(maxsize=64)
def _parse(content_encoding: str) -> tuple[str, ...]:
    codings = []
    for item in content_encoding.split(","):
        name = item.strip().lower()
        if name and name != "identity":
            codings.append("gzip" if name == "x-gzip" else name)
    return tuple(codings)


def make_decoder(content_encoding: str | None, limits: Limits = DEFAULT_LIMITS) -> ContentDecoder | None:
    """A decoder for a ``Content-Encoding`` value, or ``None`` when the body is to be used as received.

    ``None`` means either nothing to decode (absent, empty, ``identity``) or a coding brisk cannot decode
    (see the module docstring). Raises ``TooManyContentEncodings`` past ``limits.max_content_encodings``.
    """
    if not content_encoding:
        return None
    codings = _parse(content_encoding)
    if not codings:
        return None
    if len(codings) > limits.max_content_encodings:
        raise TooManyContentEncodings(
            f"the response declares {len(codings)} chained content codings ({content_encoding!r}); at most "
            f"{limits.max_content_encodings} are accepted (raise it with Limits(max_content_encodings=...))"
        )
    factories = []
    for coding in reversed(codings):
        factory = _stage_factory(coding)
        if factory is None:
            return None
        factories.append(factory)
    return ContentDecoder(factories, limits)


@lru_cache(maxsize=1)
def supported_encodings() -> str:
    """The ``Accept-Encoding`` value for the codings brisk can decode, e.g. ``gzip, deflate, br, zstd``."""
    from importlib.machinery import PathFinder

    names = ["gzip", "deflate"]
    if _brotli() is not None:
        names.append("br")
    # zstandard takes ~10 ms to import: only look for it here; it is imported when a response needs it.
    if PathFinder.find_spec("zstandard") is not None:
        names.append("zstd")
    return ", ".join(names)


def __getattr__(name: str) -> str:
    # SUPPORTED_ENCODINGS is computed on first use so that importing brisk never touches the libraries.
    if name == "SUPPORTED_ENCODINGS":
        return supported_encodings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
