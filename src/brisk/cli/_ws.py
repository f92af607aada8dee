"""``brisk ws URL``: a WebSocket session from a terminal or a pipe.

Each line read from stdin is sent as a text message; each message received is printed on its own line
(a binary message as ``<binary N bytes: hex...>``). At the end of the input (Ctrl-D, or the end of a pipe)
brisk waits ``--wait`` seconds for more messages, then closes the connection with 1000. A close by the
server ends the command: status 0 for 1000/1001, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["ws_command"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from brisk.cli._args import UsageError

        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="brisk ws", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="ws:// or wss:// URL (a bare host:port/path means ws://)")
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value' for the handshake")
    p.add_argument("-s", "--subprotocol", action="append", default=[], help="offer this subprotocol")
    p.add_argument("--verify", default=None, help="CA bundle for wss://; 'no' skips verification")
    p.add_argument("--timeout", type=float, default=30.0, help="handshake timeout in seconds (30)")
    p.add_argument(
        "--wait", type=float, default=1.0, help="seconds to wait for messages after the input ends"
    )
    p.add_argument("--no-compression", action="store_true", help="do not offer permessage-deflate")
    return p


def _show(message: str | bytes) -> str:
    if isinstance(message, str):
        return message
    shown = message[:32].hex()
    return f"<binary {len(message)} bytes: {shown}{'...' if len(message) > 32 else ''}>"


def ws_command(argv: list[str]) -> int:
    """Run ``brisk ws`` with ``argv``; return the exit status."""
    from brisk.cli._args import EXIT_CODES, UsageError
    from brisk.cli._command import error_line

    try:
        args = _parser().parse_args(argv)
        headers = {}
        for header in args.header:
            name, sep, value = header.partition(":")
            if not sep or not name.strip():
                raise UsageError(f"-H takes 'Name: value', not {header!r}")
            headers[name.strip()] = value.strip()
    except UsageError as exc:
        error_line(f"{exc} (see 'brisk ws --help')")
        return EXIT_CODES["usage"]
    url = args.url if "://" in args.url else "ws://" + args.url
    options: dict[str, Any] = {"headers": headers, "timeout": args.timeout}
    if args.subprotocol:
        options["subprotocols"] = args.subprotocol
    if args.verify is not None:
        options["verify"] = False if args.verify == "no" else args.verify
    if args.no_compression:
        options["compression"] = None
    import brisk

    try:
        with brisk.Session() as session, session.websocket(url, **options) as ws:
            return _converse(ws, args.wait)
    except brisk.RequestException as exc:
        error_line(str(exc))
        return EXIT_CODES["error"]


def _converse(ws: Any, wait: float) -> int:
    import brisk

    ended = threading.Event()
    failure: list[BaseException] = []

    def pump() -> None:
        try:
            for line in sys.stdin:
                ws.send(line.rstrip("\r\n"))
        except (brisk.RequestException, OSError, ValueError) as exc:
            failure.append(exc)
        finally:
            ended.set()

    threading.Thread(target=pump, name="brisk-ws-stdin", daemon=True).start()
    quiet_since: float | None = None
    while True:
        try:
            message = ws.receive(timeout=0.1)
        except brisk.ReadTimeout:
            if ended.is_set():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= wait:
                    return 0
            continue
        except brisk.WebSocketClosed as exc:
            if exc.code in (1000, 1001):
                return 0
            from brisk.cli._command import error_line

            error_line(str(exc))
            return 1
        quiet_since = None
        sys.stdout.write(_show(message) + "\n")
        sys.stdout.flush()
