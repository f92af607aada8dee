# The C accelerator (_speedups.c, see accelerator.py): None where the Python code must do the job.
from collections.abc import Callable
from typing import Any, TypeAlias, overload

API: int  # the version of these signatures (accelerator.py uses a module whose API it knows)

# (head_end, status, reason, block, content_length or -1, close, missing)
_Head: TypeAlias = tuple[int, int, str, bytes, int, bool, frozenset[str]]

def parse_head(
    buffer: bytes, max_head_size: int, max_header_line: int, max_header_count: int, /
) -> _Head | None: ...
def encode_head(method: str, target: str, headers: object, /) -> bytes | None: ...
@overload
def exchange(  # not on Windows
    fd: int,
    head: bytes,
    recv_size: int,
    busy_poll: float,
    max_head_size: int,
    max_header_line: int,
    max_header_count: int,
    /,
) -> tuple[int, int, float, int, bytes, _Head | None] | None: ...
@overload
def exchange(  # ``between(*between_args)`` once the head is sent; its result (None: the send failed) last
    fd: int,
    head: bytes,
    recv_size: int,
    busy_poll: float,
    max_head_size: int,
    max_header_line: int,
    max_header_count: int,
    between: Callable[..., Any],
    /,
    *between_args: Any,
) -> tuple[int, int, float, int, bytes, _Head | None, Any] | None: ...
