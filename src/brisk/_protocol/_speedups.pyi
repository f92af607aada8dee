# The C accelerator (_speedups.c): the common HTTP/1.1 response head, or None for the Python parser.
def parse_head(
    buffer: bytes, max_head_size: int, max_header_line: int, max_header_count: int, /
) -> tuple[int, int, str, bytes, int, bool] | None: ...
