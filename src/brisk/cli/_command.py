"""``brisk [METHOD] URL [ITEM ...]``: build the request, send it through a ``Session``, print the answer.

Every failure becomes one line on stderr (``brisk: error: ...``) and an exit status (see ``EXIT_CODES``).
"""

from __future__ import annotations

import os
import sys

from brisk.cli._args import EXIT_CODES, DownloadError, Options, UsageError, parse_command_line
from brisk.cli._items import ItemError, parse_items
from brisk.cli._output import Printer, colour_wanted
from brisk.exceptions import (
    InvalidHeader,
    InvalidSchema,
    InvalidURL,
    MissingSchema,
    RequestException,
    Timeout,
    TooManyRedirects,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.cli._items import RequestItems
    from brisk.models import Response
    from brisk.sessions import Session

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
    except BrokenPipeError:
        raise
    except OSError as exc:  # local files: uploads, downloads; or stdout itself (a full disk)
        where = f": {exc.filename}" if exc.filename else ""
        error_line(f"{exc.strerror or exc}{where}")
        _drop_unwritable_output()
        return EXIT_CODES["error"]


def _drop_unwritable_output() -> None:
    """After an error was reported: if stdout cannot take what is still buffered for it (the error was
    writing it), send that to /dev/null, so that the flush at exit does not report the same failure again.
    Unbuffered stdout (``PYTHONUNBUFFERED``) holds nothing back, and there the one line was always all."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        from brisk.cli import _discard_stdout

        _discard_stdout()


def _auth(opts: Options) -> Any:
    if opts.bearer:
        from brisk.auth import HTTPBearerAuth

        return HTTPBearerAuth(opts.bearer)
    if not opts.auth:
        return None
    user, sep, password = opts.auth.partition(":")
    if not sep:
        password = _ask_password(user, opts.url)
    if opts.auth_type == "digest":
        from brisk.auth import HTTPDigestAuth

        return HTTPDigestAuth(user, password)
    return (user, password)


def _ask_password(user: str, url: str) -> str:
    import getpass

    host = url.split("://", 1)[-1].split("/", 1)[0]
    try:
        return getpass.getpass(f"password for {user} at {host}: ")
    except EOFError:
        raise UsageError(f"--auth {user}: no password given") from None


def _session(opts: Options) -> Session:
    from brisk.sessions import Session

    settings: dict[str, Any] = {
        "http2": opts.http2,
        "verify": opts.verify,
        "max_redirects": opts.max_redirects,
    }
    if opts.http3:
        settings["http3"] = opts.http3
    if opts.cert:
        settings["cert"] = opts.cert
    if opts.proxies:
        settings["proxies"] = opts.proxies
    if opts.timeout is not None:
        settings["timeout"] = opts.timeout
    if opts.retries is not None:
        settings["retries"] = opts.retries
    settings.update(opts.network)
    if opts.cache:
        settings["cache"] = _cache_path(opts.cache)
    try:
        return Session(**settings)
    except (TypeError, ValueError) as exc:  # the options are checked already: this is a safety net
        raise UsageError(str(exc)) from None


def _cache_path(given: str | bool) -> str:
    """``--cache=PATH``, or ``--cache``: the user's cache directory ($XDG_CACHE_HOME or ~/.cache)/brisk."""
    if isinstance(given, str):
        return given
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "brisk")
    os.makedirs(directory, mode=0o700, exist_ok=True)  # private (XDG: new directories are 0700)
    return os.path.join(directory, "http-cache.sqlite")


def _run(argv: list[str]) -> int:
    tty = sys.stdout.isatty()
    opts = parse_command_line(argv, tty)
    if opts.help:
        from brisk.cli._args import help_text

        sys.stdout.write(help_text())
        return 0
    if opts.version:
        from brisk.__version__ import __version__

        sys.stdout.write(f"brisk {__version__}\n")
        return 0
    items = parse_items(opts.items)
    method = opts.method or ("POST" if items.has_body else "GET")
    headers: dict[str, str | None] = dict(items.headers)
    auth = _auth(opts)
    try:
        return _send(opts, items, method, headers, auth, tty)
    finally:
        items.close()


def _send(
    opts: Options,
    items: RequestItems,
    method: str,
    headers: dict[str, str | None],
    auth: Any,
    tty: bool,
) -> int:
    body = items.body_arguments(opts.form)
    colour, format_json = colour_wanted(opts.pretty, tty, os.environ)
    printer = Printer(colour=colour, format_json=format_json, tty=tty)
    what = opts.what.replace("b", "") if opts.output else opts.what
    with _session(opts) as session:
        if opts.output and method == "GET" and not body:
            return _download(session, opts, items, headers, auth, printer, what)
        if opts.resume:
            raise UsageError("--continue resumes GET downloads only")
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
            for hop in [*response.history, response] if ("H" in what or "B" in what) else [response]:
                _print_exchange(printer, hop, what)
            if opts.output:
                from brisk.cli._save import save_response

                printer.flush()
                _summary(opts, save_response(response, opts.output))
            elif "b" in what:
                printer.section_break()
                printer.response_body(response)
            elif opts.timing:
                for _ in response.iter_content(None):  # the timings end when the body does
                    pass
            printer.flush()
            _timing(opts, response)
            return _check_status(response, opts, "h" in what)
        finally:
            response.close()
            printer.flush()


def _print_exchange(printer: Printer, response: Response, what: str) -> None:
    """The request (H, B) and response (h) heads of one exchange, as ``what`` asks."""
    request = response.request
    if "H" in what and request is not None:
        printer.section_break()
        printer.request_head(request, response.http_version)
    if "B" in what and request is not None and request.body:
        printer.section_break()
        printer.request_body(request)
    if "h" in what:
        printer.section_break()
        printer.response_head(response)


def _download(
    session: Session,
    opts: Options,
    items: RequestItems,
    headers: dict[str, str | None],
    auth: Any,
    printer: Printer,
    what: str,
) -> int:
    """``-o FILE`` for a GET: ``Session.download`` does the work; heads are printed as responses arrive."""
    from brisk.cli._save import download

    assert opts.output is not None
    seen: list[Response] = []

    def on_response(response: Response, **kwargs: Any) -> None:
        seen.append(response)
        _print_exchange(printer, response, what)
        printer.flush()

    request_args: dict[str, Any] = {
        "headers": headers or None,
        "params": items.params or None,
        "auth": auth,
        "allow_redirects": opts.follow,
        "hooks": {"response": [on_response]},
    }
    summary = download(
        session, opts.url, opts.output, resume=opts.resume, quiet=opts.quiet, request_args=request_args
    )
    _summary(opts, summary)
    if seen:
        _timing(opts, seen[-1])
    return 0


def _summary(opts: Options, line: str) -> None:
    if not opts.quiet:
        sys.stderr.write(line + "\n")


def _timing(opts: Options, response: Response) -> None:
    if opts.timing:
        from brisk.cli._timing import render_timings

        hops = len(response.history) + 1
        sys.stderr.write(render_timings(response.timings, response.http_version, hops, response.cache_status))


def _check_status(response: Response, opts: Options, head_shown: bool) -> int:
    status = response.status_code
    code = 0
    if opts.check_status:
        if 300 <= status < 400 and not opts.follow:
            code = 3
        elif 400 <= status < 600:
            code = status // 100
    if code and not head_shown and not opts.quiet:
        from brisk.cli._output import reason_phrase

        error_line(f"HTTP {status} {reason_phrase(response)} ({response.url})", kind="warning")
    return code
