# The C accelerator (_speedups.c, see accelerator.py): None where the Python code must do the job.
from typing import TypeAlias

# (head_end, status, reason, block, content_length or -1, close, missing)
_Head: TypeAlias = tuple[int, int, str, bytes, int, bool, frozenset[str]]

def parse_head(
    buffer: bytes, max_head_size: int, max_header_line: int, max_header_count: int, /
) -> _Head | None: ...
def encode_head(method: str, target: str, headers: object, /) -> bytes | None: ...
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
