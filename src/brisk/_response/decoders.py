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

Bounded steps
-------------
Every coding decodes in steps of bounded output, produced only when the caller takes them
(``ContentDecoder.iter_decode``): zlib with ``max_length``, brotli with ``output_buffer_limit`` (brotli lets
its buffer pass the limit once, so a step stays under twice ``_STEP``), and zstd by handing the decoder two
blocks at a time (a zstd block decodes to at most 128 KiB; the frame and block headers say where each block
ends). So reading a body in small pieces holds one step in memory however far one network read expands, and
whatever ratio the body had so far. ``decode`` joins the steps, for callers that want the whole body anyway.

Bomb protection
---------------
After each step the total output is compared with the compressed bytes *consumed so far* from the network:
once the output is above ``Limits.decompression_floor`` and above ``Limits.max_decompression_ratio`` times
that input, ``DecompressionBombError`` is raised. For chained codings every stage is checked against the
network input, so an intermediate stage cannot balloon either. The rule is cumulative on purpose: a body
that is legitimate as a whole (a random prefix, then a long run of zeros) is read in full, while a window
rule would refuse it half way. Streamed, what the ratio allows never turns into memory, because output is
produced one step at a time as it is taken; read whole (``content``), the body is held anyway, and a bomb
stops one step past the point where it crosses the floor and the ratio.

``brotli`` and ``zstandard`` are imported only when a response uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk.exceptions import ContentDecodingError, DecompressionBombError, TooManyContentEncodings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SUPPORTED_ENCODINGS", "ContentDecoder", "make_decoder", "supported_encodings"]

#: Largest output produced by one bounded decompression step.
_STEP = 256 * 1024
#: Input handed to zlib and brotli per call: consumption is known to this granularity, and zlib's copy of the
#: input it has not consumed yet (``unconsumed_tail``, made on every call) stays this small.
_SLICE = 16 * 1024
#: Largest output of one zstd block (RFC 8878: Block_Maximum_Size); a step feeds this many blocks at most.
_ZSTD_BLOCK_OUTPUT = 128 * 1024
_ZSTD_BLOCKS_PER_STEP = _STEP // _ZSTD_BLOCK_OUTPUT
#: Input slice for data whose zstd framing is not understood (a 4-byte RLE block expands to 128 KiB, so 128
#: bytes give at most 4 MiB); the decoder itself then decides whether it is valid.
_ZSTD_OPAQUE_SLICE = 128
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
        view = memoryview(data)
        for start in range(0, len(view), _SLICE):
            yield from self._inflate(view[start : start + _SLICE])
            if self._ignore_rest:
                self._account(max(len(view) - start - _SLICE, 0), b"")
                return

    def _inflate(self, buf: memoryview | bytes) -> Iterator[bytes]:
        zlib = self._zlib
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
            for start in range(0, len(view), _SLICE):
                piece = view[start : start + _SLICE]
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


# What _ZstdBlocks is reading; the size of each part is known when it starts.
_MAGIC, _FRAME_DESCRIPTOR, _FRAME_HEADER, _BLOCK_HEADER, _BLOCK, _CHECKSUM = range(6)
_SKIP_SIZE, _SKIPPED, _OPAQUE = range(6, 9)
_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # the low four bits are free


class _ZstdBlocks:
    """Follows the framing of a zstd stream (RFC 8878: frames of blocks, skippable frames) to find where
    blocks and frames end, so the decoder can be handed a few whole blocks at a time: output per call is then
    bounded by the blocks' maximum size, however much they expand.

    Only the framing is read; the decoder checks everything else, and where it says a frame ended, that is
    where the next one starts (``reset``). Bytes that do not start a frame this class knows are handed over
    in small slices (``_OPAQUE``) until the decoder ends its frame or refuses them.
    """

    __slots__ = ("_checksum", "_field", "_last", "_need", "_state")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start of a frame."""
        self._state = _MAGIC
        self._need = 4  # bytes left in the current part
        self._field = bytearray()  # the bytes of a header field, which may arrive split
        self._checksum = False
        self._last = False

    def cut(self, view: memoryview, pos: int, blocks: int) -> int:
        """Where to stop feeding ``view`` from ``pos``: after ``blocks`` whole blocks, at the end of a frame,
        or at the end of ``view``."""
        end = len(view)
        while True:
            state = self._state
            if state == _OPAQUE:
                return min(end, pos + _ZSTD_OPAQUE_SLICE)
            if self._need:  # parts of no bytes (an empty block) are passed at once, never left pending
                if pos == end:
                    return pos
                take = min(self._need, end - pos)
                if state in (_MAGIC, _FRAME_DESCRIPTOR, _BLOCK_HEADER, _SKIP_SIZE):
                    self._field += view[pos : pos + take]
                pos += take
                self._need -= take
                if self._need:
                    return pos
            if state == _BLOCK:
                blocks -= 1
            if self._next(state) or blocks <= 0:
                return pos

    def _next(self, state: int) -> bool:
        """Move past a finished part; True at the end of a frame."""
        value = int.from_bytes(self._field, "little")
        self._field.clear()
        if state == _MAGIC:
            if value == _ZSTD_MAGIC:
                self._state, self._need = _FRAME_DESCRIPTOR, 1
            elif value & ~0xF == _ZSTD_SKIPPABLE:
                self._state, self._need = _SKIP_SIZE, 4
            else:
                self._state = _OPAQUE
        elif state == _FRAME_DESCRIPTOR:
            single_segment = bool(value & 0x20)
            content_size = (1 if single_segment else 0, 2, 4, 8)[value >> 6]
            dictionary_id = (0, 1, 2, 4)[value & 3]
            self._checksum = bool(value & 4)
            window = 0 if single_segment else 1
            self._state, self._need = _FRAME_HEADER, window + dictionary_id + content_size
        elif state in (_FRAME_HEADER, _BLOCK):
            if state == _BLOCK and self._last:
                if not self._checksum:
                    self.reset()
                    return True
                self._state, self._need = _CHECKSUM, 4
            else:
                self._state, self._need = _BLOCK_HEADER, 3
        elif state == _BLOCK_HEADER:
            self._last = bool(value & 1)
            kind, size = value >> 1 & 3, value >> 3
            if kind == 3:  # reserved: the decoder will refuse it
                self._state = _OPAQUE
            else:
                self._state, self._need = _BLOCK, 1 if kind == 1 else size  # an RLE block stores one byte
        elif state == _SKIP_SIZE:
            self._state, self._need = _SKIPPED, value
        else:  # _CHECKSUM, _SKIPPED
            self.reset()
            return True
        return False


class _ZstdStage(_Stage):
    coding = "zstd"

    def __init__(self, budget: _Budget, outer: bool, module: Any) -> None:
        super().__init__(budget, outer)
        self._module = module
        self._dctx = module.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._blocks = _ZstdBlocks()
        self._in_frame = False  # bytes of an unfinished frame have been fed

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen_input = True
        view = memoryview(data)
        pos = 0
        try:
            while pos < len(view):
                piece = view[pos : self._blocks.cut(view, pos, _ZSTD_BLOCKS_PER_STEP)]
                out = self._obj.decompress(piece)
                used = len(piece)
                if self._obj.eof:  # one frame done; what follows it starts the next frame
                    used -= len(self._obj.unused_data)
                    self._blocks.reset()
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
        return b"".join(self.iter_decode(data))

    def iter_decode(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece of the body one bounded step at a time (each at most about ``_STEP`` bytes),
        each step decoded when it is taken. Take them all before the next call."""
        if not data:
            return iter(())
        if len(self._stages) == 1:
            return self._stages[0].feed(data)
        return self._pipe(0, data)

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
    try:  # importlib.machinery's PathFinder, from the module the interpreter loaded at start-up
        from _frozen_importlib_external import PathFinder
    except ImportError:  # (importlib itself loads warnings: a plain request loads neither)
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
