"""Credentials from ~/.netrc (or the file named by $NETRC), looked up by host name only.

Only the parsed host name of the URL is used for the lookup (requests CVE-2024-47081: a crafted URL must not
make another host's entry match), and the flow never carries an entry to a redirect on another host.
The file is parsed once and re-read only when it changes.
"""

from __future__ import annotations

import os
import threading

__all__ = ["netrc_auth"]

_cache: dict[str, tuple[float, dict[str, tuple[str, str]]]] = {}
_lock = threading.Lock()


def _netrc_path() -> str | None:
    explicit = os.environ.get("NETRC")
    if explicit:
        return os.path.expanduser(explicit)
    home = os.path.expanduser("~")
    for name in (".netrc", "_netrc"):
        path = os.path.join(home, name)
        if os.path.isfile(path):
            return path
    return None


def netrc_auth(host: str) -> tuple[str, str] | None:
    """(login, password) for ``host``, or None."""
    path = _netrc_path()
    if path is None:
        return None
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    with _lock:
        cached = _cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = _cache[path] = (mtime, _parse(path))
    entries = cached[1]
    return entries.get(host.lower().rstrip(".")) or entries.get("")


def _parse(path: str) -> dict[str, tuple[str, str]]:
    import netrc

    try:
        parsed = netrc.netrc(path)
    except (netrc.NetrcParseError, OSError):
        return {}
    entries = {
        host.lower(): (login or "", password or "") for host, (login, _, password) in parsed.hosts.items()
    }
    if "default" in entries:
        entries[""] = entries.pop("default")
    return entries
