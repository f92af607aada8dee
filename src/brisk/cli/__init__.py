"""The ``brisk`` command: send one HTTP request from a terminal, or serve a local test server.

::

    brisk httpbin.org/get q==1                      # GET with a query parameter
    brisk POST :8000/post name=Ada age:=36          # JSON body {"name": "Ada", "age": 36}
    brisk -f :8000/post name=Ada report@q3.pdf      # multipart upload
    brisk -o big.iso --continue example.org/big.iso # download, resuming a partial file
    brisk --timing https://example.org/             # DNS, connect, TLS, first byte, total as bars
    brisk serve --tls --http2                       # a local httpbin-compatible server

Start-up time matters here (a GET should cost about what ``import brisk`` costs): this module imports
nothing at load time, options are parsed by a small parser of our own (argparse and its helpers cost
several milliseconds; it lays out ``--help`` only), and rich is imported only when colour is on (a
terminal, ``FORCE_COLOR`` or ``--pretty``), never for piped output.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    >>> main(["--version"])  # doctest: +SKIP
    brisk 0.1.0
    0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # the fast path: no option parsing at all
        from ..__version__ import __version__

        sys.stdout.write(f"brisk {__version__}\n")
        return 0
    try:
        if args and args[0] == "serve":
            from ._serve import serve_command

            return serve_command(args[1:])
        from ._command import run

        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # the reader went away (``brisk URL | head``): nothing more to say
        _discard_stdout()
        return 0
    except Exception as exc:  # never a traceback
        from ._command import error_line

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
