"""Helpers shared by the fuzz targets: cutting an input into pieces and starting atheris.

A target is a script: ``python fuzz/fuzz_sse.py [libFuzzer flags] [corpus dirs or files]``. Given files, it
runs each once (that is how a saved crash is reproduced); given directories, it fuzzes. ``fuzz/run.py``
runs every target for a bounded time.
"""

from __future__ import annotations

import os
import random
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def cut(data: bytes, seed: int, most: int = 8) -> list[bytes]:
    """``data`` cut at up to ``most`` points chosen by ``seed``; repeated points give empty pieces."""
    rng = random.Random(seed)
    points = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randrange(most + 1)))
    edges = [0, *points, len(data)]
    return [data[edges[i] : edges[i + 1]] for i in range(len(edges) - 1)]


def bytewise(data: bytes) -> list[bytes]:
    """``data`` one byte at a time."""
    return [data[i : i + 1] for i in range(len(data))]


class Reader:
    """Takes the fields a target needs from the front of its input, one after another (b"\0" once used up).

    Every field is one length or choice byte and then its bytes, so seeds are easy to write by hand
    (``fuzz/make_seeds.py``) and a mutation of one byte changes one field.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def byte(self) -> int:
        pos = self._pos
        self._pos += 1
        return self._data[pos] if pos < len(self._data) else 0

    def flag(self) -> bool:
        return bool(self.byte() & 1)

    def number(self, low: int, high: int) -> int:
        """An int in [low, high] (one byte, or two when the range is wider than 256)."""
        span = high - low + 1
        value = self.byte() if span <= 256 else self.byte() << 8 | self.byte()
        return low + value % span

    def pick(self, options: Sequence[T]) -> T:
        return options[self.byte() % len(options)]

    def raw(self, most: int) -> bytes:
        """A length byte (taken modulo ``most + 1``), then that many bytes."""
        size = self.byte() % (most + 1)
        start = self._pos
        self._pos += size
        return self._data[start : self._pos]

    def text(self, most: int) -> str:
        """Text of up to ``most`` bytes: latin-1 (kind 0), UTF-8 with replacement (1), or any code points,
        lone surrogates included, three bytes each (2)."""
        kind = self.byte() % 3
        data = self.raw(most)
        if kind == 0:
            return data.decode("latin-1")
        if kind == 1:
            return data.decode("utf-8", "replace")
        return "".join(
            chr(int.from_bytes(data[i : i + 3], "little") % 0x110000) for i in range(0, len(data), 3)
        )


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Hand ``test_one_input`` to libFuzzer with the command line's flags and corpus."""
    import atheris

    # libFuzzer re-runs argv[0] through the shell for -minimize_crash, -merge and -fork: make it the
    # command that runs this script with this Python.
    command = " ".join(shlex.quote(part) for part in (sys.executable, os.path.abspath(sys.argv[0])))
    atheris.Setup([command, *sys.argv[1:]], test_one_input)
    atheris.Fuzz()
