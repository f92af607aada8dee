"""``--timing``: where the time of the request went, as a waterfall of bars (like a browser's network tab).

``response.timings`` holds durations for ``dns``, ``connect`` and ``tls`` (0 on a reused connection) and
offsets from the start of the attempt for ``request_sent``, ``first_byte`` and ``total``; each phase below
is drawn from where the previous one ended.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._transport.base import Timings

__all__ = ["render_timings"]

BAR_WIDTH = 40


def _phases(t: Timings, http_version: str = "") -> list[tuple[str, float, float]]:
    """``(name, start, duration)`` of each phase, in seconds from the start of the attempt. Over HTTP/3 the
    connection is made by one QUIC handshake (TLS 1.3 inside it): it shows as ``quic+tls``, and ``tls``
    as 0."""
    connected = t.dns + t.connect + t.tls
    sent = max(t.request_sent, connected)
    first = max(t.first_byte, sent)
    total = max(t.total, first)
    return [
        ("dns", 0.0, t.dns),
        ("quic+tls" if http_version == "HTTP/3" else "connect", t.dns, t.connect),
        ("tls", t.dns + t.connect, t.tls),
        ("send", connected, sent - connected),
        ("first byte", sent, first - sent),
        ("download", first, total - first),
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


def render_timings(
    timings: Timings | None, http_version: str, hops: int = 1, cache_status: str | None = None
) -> str:
    """The breakdown as text: one line per phase with its duration and a bar placed on a common time axis,
    then the total. A response the cache served (``--cache``) says so, with the time the lookup took."""
    if cache_status in ("hit", "stale") and timings is not None:
        head = f"timing (cache {cache_status}: served from the cache, no network I/O)"
        return f"{head}\n  {'total':<11}{_ms(timings.total)}\n"
    if timings is None:
        return "timing: not available for this response (it did not come from a network transport)\n"
    phases = _phases(timings, http_version)
    total = max(timings.total, phases[-1][1] + phases[-1][2])
    scale = BAR_WIDTH / total if total > 0 else 0.0
    connection = "reused connection" if timings.reused else "new connection"
    after = f", last of {hops} responses" if hops > 1 else ""
    if cache_status == "revalidated":
        after += ", cache revalidated: 304, body from the cache"
    lines = [f"timing ({http_version}, {connection}{after})"]
    for name, start, duration in phases:
        offset = min(BAR_WIDTH - 1, int(start * scale))
        length = round(duration * scale)
        if duration > 0 and length == 0:
            length = 1
        length = min(length, BAR_WIDTH - offset)
        bar = " " * offset + "█" * length
        lines.append(f"  {name:<11}{_ms(duration)}  ▕{bar:<{BAR_WIDTH}}▏")
    lines.append(f"  {'total':<11}{_ms(total)}")
    return "\n".join(lines) + "\n"
