"""``python -m brisk.demo`` (``make demo``): the cheat-sheet tasks, run against a local test server.

It starts brisk's own httpbin-compatible server on 127.0.0.1 (plain HTTP and HTTPS with a throwaway CA),
sends the requests people learn first, prints what came back, and stops the server. Nothing leaves the
machine.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Callable

import brisk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WIDTH = 78


def _title(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, _WIDTH - len(text) - 4))


def _show(label: str, value: Any) -> None:
    print(f"   {label:<22} {value}")


def _step(title: str, action: Callable[[], None]) -> bool:
    _title(title)
    try:
        action()
    except Exception as exc:  # a demo step failing must not hide the others
        print(f"   !! {type(exc).__name__}: {exc}")
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def run(base: str, secure_base: str, ca_bundle: str) -> bool:
    ok = True

    def get_with_params() -> None:
        r = brisk.get(f"{base}/get", params={"q": "brisk", "page": 2}, timeout=10)
        _show("status", f"{r.status_code} {r.reason}".strip())
        _show("final URL", r.url)
        _show("server saw args", r.json()["args"])

    def post_json() -> None:
        r = brisk.post(f"{base}/post", json={"name": "brisk", "fast": True}, timeout=10)
        _show("status", r.status_code)
        _show("server saw JSON", r.json()["json"])
        _show("Content-Type sent", r.json()["headers"].get("Content-Type"))

    def post_form() -> None:
        r = brisk.post(f"{base}/post", data={"user": "ada", "lang": "python"}, timeout=10)
        _show("server saw form", r.json()["form"])

    def session() -> None:
        with brisk.Session() as s:
            s.headers["Authorization"] = "Bearer demo-token"
            s.get(f"{base}/cookies/set", params={"session_id": "abc123"}, timeout=10)
            r = s.get(f"{base}/bearer", timeout=10)
            _show("bearer accepted", f"{r.status_code} {r.json()}")
            _show("cookie jar", dict(s.cookies))
            r = s.get(f"{base}/cookies", timeout=10)
            _show("cookies sent back", r.json()["cookies"])
            start = time.perf_counter()
            for _ in range(200):
                s.get(f"{base}/get", timeout=10)
            elapsed = time.perf_counter() - start
            _show(
                "200 keep-alive GETs", f"{elapsed * 1000:.0f} ms ({200 / elapsed:.0f} req/s, one connection)"
            )

    def https() -> None:
        r = brisk.get(f"{secure_base}/get", verify=ca_bundle, timeout=10)
        _show("status over TLS", f"{r.status_code} ({r.http_version}, verified against the demo CA)")
        try:
            brisk.get(f"{secure_base}/get", timeout=10)  # the system trust store does not know the demo CA
        except brisk.exceptions.SSLError as exc:
            _show("without the CA", f"SSLError: {str(exc)[:60]}...")

    def http_error() -> None:
        r = brisk.get(f"{base}/status/500", timeout=10)
        try:
            r.raise_for_status()
        except brisk.exceptions.HTTPError as exc:
            _show("HTTPError", exc)

    def timeout() -> None:
        try:
            brisk.get(f"{base}/delay/3", timeout=0.5)
        except brisk.exceptions.Timeout as exc:
            _show(type(exc).__name__, exc)

    def refused() -> None:
        port = _free_port()
        try:
            brisk.get(f"http://127.0.0.1:{port}/", timeout=2, retries=0)
        except brisk.exceptions.RequestException as exc:
            _show(type(exc).__name__, exc)

    def concurrent() -> None:
        async def main() -> None:
            async with brisk.AsyncSession() as s:
                start = time.perf_counter()
                responses = await asyncio.gather(*(s.get(f"{base}/get", params={"i": i}) for i in range(100)))
                elapsed = time.perf_counter() - start
            ok_count = sum(r.ok for r in responses)
            _show("100 concurrent GETs", f"{ok_count} ok in {elapsed * 1000:.0f} ms (AsyncSession)")

        asyncio.run(main())

    steps: list[tuple[str, Callable[[], None]]] = [
        ("GET with query parameters", get_with_params),
        ("POST a JSON body", post_json),
        ("POST a form", post_form),
        ("A session keeping a bearer header and cookies", session),
        ("HTTPS with certificate verification", https),
        ("A 500 turned into HTTPError by raise_for_status()", http_error),
        ("A timeout", timeout),
        ("A refused port", refused),
        ("The same API in async", concurrent),
    ]
    for title, action in steps:
        ok = _step(title, action) and ok
    return ok


def main() -> int:
    try:
        from brisk.testing.server import ServerThread
    except ImportError:  # pragma: no cover - the server extra is missing
        print("the demo needs the test server: pip install 'brisk[server]'", file=sys.stderr)
        return 2
    print(f"brisk {brisk.__version__}: starting a local test server (hypercorn) ...")
    with ServerThread() as plain, ServerThread(tls=True) as secure:
        print(f"serving {plain.url} and {secure.url}")
        ok = run(plain.url, secure.url, str(secure.ca_bundle))
    print("\nserver stopped." + ("" if ok else " Some steps failed (see '!!' above)."))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
