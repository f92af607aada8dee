"""The ``brisk`` command: send one HTTP request from a terminal, or serve a local test server.

::

    brisk httpbin.org/get q==1                      # GET with a query parameter
    brisk POST :8000/post name=Ada age:=36          # JSON body {"name": "Ada", "age": 36}
    brisk -f :8000/post name=Ada report@q3.pdf      # multipart upload
    brisk -o big.iso --continue example.org/big.iso # download, resuming a partial file
    brisk --timing https://example.org/             # DNS, connect, TLS, first byte, total as bars
    brisk --resolve api.test:443:127.0.0.1 https://api.test/  # curl's --resolve (and --connect-to, -4, -6)
    brisk serve --tls --http2                       # a local httpbin-compatible server
    brisk bulk urls.txt -o results.jsonl --concurrency 200 --per-host 8   # many URLs, resumable
    brisk ws localhost:8000/ws/echo                 # WebSocket: lines in, messages out

Start-up time matters here (a GET should cost about what ``import brisk`` costs): this module imports
nothing at load time, options are parsed by a small parser of our own (argparse and its helpers cost
several milliseconds; it lays out ``--help`` only), and rich is imported only when colour is on (a
terminal, ``FORCE_COLOR`` or ``--pretty``), never for piped output.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["console", "main"]


def console() -> NoReturn:
    """The installed ``brisk`` executable (and ``python -m brisk.cli``): ``main()``, then a quick exit.

    The interpreter's teardown (two full garbage collections, then freeing some 200 modules one by one) costs
    5-10 ms, about a tenth of a whole ``brisk URL`` process, and nothing here needs it: ``main()`` has closed
    its session and files. So the process leaves with ``os._exit`` once atexit handlers have run and stdout
    and stderr are flushed. Whenever another thread is still alive, the normal exit (which waits for it) is
    taken instead.
    """
    status = main()
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(status)
    import atexit
    import os

    atexit._run_exitfuncs()
    status = _flush_output(status)
    os._exit(status)


def _flush_output(status: int) -> int:
    """Flush stdout and stderr as the interpreter would at exit; a failure to write becomes the status."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away: not an error (see main)
        pass
    except (OSError, ValueError) as exc:
        _stderr_line(f"brisk: error: could not write the output: {exc}")
        status = status or 1
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        status = status or 1
    return status


def _stderr_line(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    >>> main(["--version"])  # doctest: +SKIP
    brisk 0.1.0
    0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # the fast path: no option parsing at all
        from brisk.__version__ import __version__

        sys.stdout.write(f"brisk {__version__}\n")
        return 0
    try:
        if args and args[0] == "serve":
            from brisk.cli._serve import serve_command

            return serve_command(args[1:])
        if args and args[0] == "bulk":
            from brisk.cli._bulk import bulk_command

            return bulk_command(args[1:])
        if args and args[0] == "ws":
            from brisk.cli._ws import ws_command

            return ws_command(args[1:])
        from brisk.cli._command import run

        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # the reader went away (``brisk URL | head``): nothing more to say
        _discard_stdout()
        return 0
    except Exception as exc:  # never a traceback
        from brisk.cli._command import error_line

        error_line(f"unexpected {type(exc).__name__}: {exc}")
        return 1


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
