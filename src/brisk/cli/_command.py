"""``brisk [METHOD] URL [ITEM ...]``: build the request, send it through a ``Session``, print the answer.

Every failure becomes one line on stderr (``brisk: error: ...``) and an exit status (see ``EXIT_CODES``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..exceptions import (
    InvalidHeader,
    InvalidSchema,
    InvalidURL,
    MissingSchema,
    RequestException,
    Timeout,
    TooManyRedirects,
)
from ._args import EXIT_CODES, DownloadError, Options, UsageError, parse_command_line
from ._items import ItemError, parse_items
from ._output import Printer, colour_wanted

__all__ = ["error_line", "run"]


def error_line(message: str, kind: str = "error") -> None:
    """Print ``brisk: error: <message>`` to stderr, on one line whatever the message holds."""
    text = " ".join(str(message).split())
    sys.stderr.write(f"brisk: {kind}: {text}\n")
    sys.stderr.flush()


def run(argv: list[str]) -> int:
    """Run one request command line; return the exit status."""
    try:
        return _run(argv)
    except (UsageError, ItemError) as exc:
        error_line(f"{exc} (see 'brisk --help')")
        return EXIT_CODES["usage"]
    except DownloadError as exc:
        error_line(str(exc))
        return exc.status
    except Timeout as exc:
        error_line(str(exc) or "timed out")
        return EXIT_CODES["timeout"]
    except TooManyRedirects as exc:
        error_line(f"{exc} Raise --max-redirects to follow more.")
        return EXIT_CODES["redirects"]
    except (InvalidURL, MissingSchema, InvalidSchema, InvalidHeader) as exc:
        error_line(str(exc))
        return EXIT_CODES["usage"]
    except RequestException as exc:
        error_line(str(exc) or type(exc).__name__)
        return EXIT_CODES["error"]


def _auth(opts: Options) -> Any:
    if opts.bearer:
        from ..auth import HTTPBearerAuth

        return HTTPBearerAuth(opts.bearer)
    if not opts.auth:
        return None
    user, sep, password = opts.auth.partition(":")
    if not sep:
        password = _ask_password(user, opts.url)
    if opts.auth_type == "digest":
        from ..auth import HTTPDigestAuth

        return HTTPDigestAuth(user, password)
    return (user, password)


def _ask_password(user: str, url: str) -> str:
    import getpass

    host = url.split("://", 1)[-1].split("/", 1)[0]
    try:
        return getpass.getpass(f"password for {user} at {host}: ")
    except EOFError:
        raise UsageError(f"--auth {user}: no password given") from None


def _session(opts: Options) -> Any:
    from ..sessions import Session

    settings: dict[str, Any] = {
        "http2": opts.http2,
        "verify": opts.verify,
        "max_redirects": opts.max_redirects,
    }
    if opts.cert:
        settings["cert"] = opts.cert
    if opts.proxies:
        settings["proxies"] = opts.proxies
    if opts.timeout is not None:
        settings["timeout"] = opts.timeout
    if opts.retries is not None:
        settings["retries"] = opts.retries
    return Session(**settings)


def _run(argv: list[str]) -> int:
    tty = sys.stdout.isatty()
    opts = parse_command_line(argv, tty)
    if opts.help:
        from ._args import help_text

        sys.stdout.write(help_text())
        return 0
    if opts.version:
        from ..__version__ import __version__

        sys.stdout.write(f"brisk {__version__}\n")
        return 0
    items = parse_items(opts.items)
    method = opts.method or ("POST" if items.has_body else "GET")
    headers: dict[str, str | None] = dict(items.headers)
    offset = 0
    if opts.output:
        from ._save import prepare_download

        offset = prepare_download(opts.output, opts.resume, headers)
    auth = _auth(opts)
    body = items.body_arguments(opts.form)
    colour, format_json = colour_wanted(opts.pretty, tty, os.environ)
    printer = Printer(colour=colour, format_json=format_json, tty=tty)
    with _session(opts) as session:
        response = session.request(
            method,
            opts.url,
            params=items.params or None,
            headers=headers or None,
            auth=auth,
            allow_redirects=opts.follow,
            stream=True,
            **body,
        )
        try:
            return _show(response, opts, printer, offset)
        finally:
            response.close()
            printer.flush()


def _show(response: Any, opts: Options, printer: Printer, offset: int) -> int:
    what = opts.what.replace("b", "") if opts.output else opts.what
    hops = [*response.history, response] if ("H" in what or "B" in what) else [response]
    for hop in hops:
        if "H" in what:
            printer.section_break()
            printer.request_head(hop.request, hop.http_version)
        if "B" in what:
            printer.section_break()
            printer.request_body(hop.request)
        if "h" in what:
            printer.section_break()
            printer.response_head(hop)
    if opts.output:
        printer.flush()
        _download(response, opts, offset)
    elif "b" in what:
        printer.section_break()
        printer.response_body(response)
    elif opts.timing:
        for _ in response.iter_content(None):  # the timings end when the body does
            pass
    printer.flush()
    if opts.timing:
        from ._timing import render_timings

        sys.stderr.write(render_timings(response.timings, response.http_version, len(response.history) + 1))
    return _check_status(response, opts, "h" in what)


def _download(response: Any, opts: Options, offset: int) -> None:
    from ._save import save_body

    assert opts.output is not None
    show_progress = not opts.quiet and sys.stderr.isatty()
    summary = save_body(response, opts.output, offset, sys.stderr if show_progress else None)
    if not opts.quiet:
        sys.stderr.write(summary + "\n")


def _check_status(response: Any, opts: Options, head_shown: bool) -> int:
    status = response.status_code
    code = 0
    if opts.check_status:
        if 300 <= status < 400 and not opts.follow:
            code = 3
        elif 400 <= status < 600:
            code = status // 100
    if code and not head_shown and not opts.quiet:
        reason = f" {response.reason}" if response.reason else ""
        error_line(f"HTTP {status}{reason} ({response.url})", kind="warning")
    return code
