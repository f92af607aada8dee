"""The command line of ``brisk [METHOD] URL [ITEM ...]``: argparse, and the checks argparse cannot make."""

from __future__ import annotations

import argparse
import os
from typing import NoReturn

from ._items import looks_like_item

__all__ = ["EXIT_CODES", "Options", "UsageError", "parse_command_line"]

USAGE = """brisk [METHOD] URL [ITEM ...] [options]
       brisk serve [--port N] [--host ADDR] [--tls] [--http2]"""

DESCRIPTION = """\
Send one HTTP request and print the response: colours and indented JSON on a terminal, the bare body
when piped. METHOD defaults to GET, or POST when the items carry data. A URL without a scheme gets
http:// (":8000/get" means http://localhost:8000/get).

request items:
  q==brisk          query parameter
  name=Ada          data field: a JSON string (a form field with --form)
  age:=36           data field with a raw JSON value ('tags:=["a","b"]', 'ok:=true')
  bio=@bio.txt      data field read from a file (age:=@n.json: raw JSON from a file)
  report@q3.pdf     file upload: makes the body multipart (report@a.png;type=image/png)
  X-Token:abc       request header ("User-Agent:" removes one, "X-Empty;" sends it empty)
  A backslash makes the next character of a key literal: 'a\\:b=c' is the field "a:b".

'brisk serve --help' describes the local test server."""

EXIT_STATUSES = """\
exit status:
  0  success (any HTTP status, unless --check-status)
  1  the request failed (connection refused, DNS, TLS, protocol error, I/O error)
  2  usage error (bad option, item or URL)
  3  --check-status: a 3xx response that was not followed
  4  --check-status: a 4xx response          5  --check-status: a 5xx response
  6  timed out                               7  more redirects than --max-redirects
  130  interrupted (Ctrl-C)"""

#: What each kind of outcome exits with (httpie's 3/4/5 for --check-status; 2 stays argparse's usage code).
EXIT_CODES = {"ok": 0, "error": 1, "usage": 2, "timeout": 6, "redirects": 7, "interrupted": 130}

KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"))
PRINT_LETTERS = frozenset("HBhb")


class UsageError(Exception):
    """The command line cannot be used as given (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="brisk",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = p.add_argument
    add("parts", nargs="*", metavar="[METHOD] URL [ITEM ...]", help=argparse.SUPPRESS)
    add("-f", "--form", action="store_true", help="send data fields as a form (multipart when files)")
    add("-a", "--auth", metavar="USER[:PASS]", help="credentials; asks for the password if only USER")
    add("-A", "--auth-type", choices=("basic", "digest"), default="basic", help="for --auth (basic)")
    add("--bearer", metavar="TOKEN", help="send 'Authorization: Bearer TOKEN'")
    add("--timeout", type=float, metavar="SECONDS", help="for connecting and for each read (10 s / 30 s)")
    add("--verify", metavar="PATH|yes|no", help="CA bundle (file or directory) to verify TLS with")
    add("-k", "--insecure", action="store_true", help="do not verify TLS certificates")
    add("--cert", metavar="FILE", help="client certificate (PEM), with its key unless --cert-key")
    add("--cert-key", metavar="FILE", help="private key of --cert")
    add(
        "--proxy",
        action="append",
        default=[],
        metavar="[SCHEME:]URL",
        help="proxy for one scheme (http:http://p:3128) or for all (socks5://p:1080); repeatable",
    )
    add("--http1", dest="http2", action="store_const", const=False, help="HTTP/1.1 only (the default)")
    add("--http2", dest="http2", action="store_const", const=True, help="offer HTTP/2 (ALPN, over TLS)")
    add("-F", "--follow", action="store_true", help="follow redirects (off by default)")
    add("--max-redirects", type=int, default=30, metavar="N", help="with --follow (30)")
    add("--retries", type=int, metavar="N", help="retries of failed connections (default 2, 0 = none)")
    add("-o", "--output", metavar="FILE", help="save the body to FILE, with a progress bar on a terminal")
    add("-c", "--continue", dest="resume", action="store_true", help="with -o: resume a partial download")
    add("--timing", action="store_true", help="show where the time went (DNS, connect, TLS, ...) as bars")
    add("-v", "--verbose", action="store_true", help="also print the request (same as --print HBhb)")
    add("-p", "--print", dest="what", metavar="WHAT", help="H/B: request head/body, h/b: response's")
    add("--headers", dest="what", action="store_const", const="h", help="print the response head only")
    add("-b", "--body", dest="what", action="store_const", const="b", help="print the response body only")
    add("-q", "--quiet", action="store_true", help="no progress, summary or warnings on stderr")
    add("--check-status", action="store_true", help="exit 3/4/5 on a 3xx (not followed)/4xx/5xx status")
    add("--pretty", dest="pretty", action="store_const", const=True, help="colour and format, even piped")
    add("--no-pretty", dest="pretty", action="store_const", const=False, help="print everything as is")
    add("--version", action="store_true", help="print brisk's version and exit")
    return p


class Options:
    """The parsed command line, checked and normalised."""

    method: str
    url: str
    items: list[str]
    form: bool
    auth: str | None
    auth_type: str
    bearer: str | None
    timeout: float | None
    verify: bool | str
    cert: str | tuple[str, str] | None
    proxies: dict[str, str]
    http2: bool
    follow: bool
    max_redirects: int
    retries: int | None
    output: str | None
    resume: bool
    timing: bool
    what: str
    quiet: bool
    check_status: bool
    pretty: bool | None
    version: bool

    def __init__(self, ns: argparse.Namespace, stdout_tty: bool) -> None:
        for name, value in vars(ns).items():
            setattr(self, name, value)
        parts: list[str] = ns.parts
        if ns.version:
            return
        if not parts:
            raise UsageError("the URL is missing")
        method = None
        if len(parts) > 1 and _is_method(parts[0]) and not looks_like_item(parts[1]):
            method, parts = parts[0].upper(), parts[1:]
        self.url = normalise_url(parts[0])
        self.items = parts[1:]
        self.method = method or ""  # decided from the items
        self.verify = _verify(ns.verify, ns.insecure)
        self.cert = (ns.cert, ns.cert_key) if ns.cert and ns.cert_key else ns.cert
        if ns.cert_key and not ns.cert:
            raise UsageError("--cert-key needs --cert")
        self.proxies = _proxies(ns.proxy)
        self.http2 = bool(ns.http2)
        if ns.timeout is not None and not ns.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds")
        if ns.max_redirects < 0:
            raise UsageError("--max-redirects cannot be negative")
        if ns.retries is not None and ns.retries < 0:
            raise UsageError("--retries cannot be negative")
        if ns.resume and not ns.output:
            raise UsageError("--continue needs -o FILE")
        if ns.auth and ns.bearer:
            raise UsageError("use --auth or --bearer, not both")
        self.what = _what(ns.what, ns.verbose, stdout_tty)


def _is_method(word: str) -> bool:
    return word.isalpha() and (word.isupper() or word.upper() in KNOWN_METHODS)


def normalise_url(url: str) -> str:
    """httpie's shorthands: no scheme means http://, and ``:8000/x`` means http://localhost:8000/x."""
    if url.startswith(":"):
        rest = url[1:]
        if rest.startswith("/") or not rest:
            return "http://localhost" + rest
        return "http://localhost:" + rest
    head = url.split("/", 1)[0]
    if "://" not in url and not head.lower().startswith(("http:", "https:")):
        return "http://" + url
    return url


def _verify(value: str | None, insecure: bool) -> bool | str:
    if insecure:
        if value not in (None, "no", "false"):
            raise UsageError("--insecure and --verify PATH contradict each other")
        return False
    if value is None or value.lower() in ("yes", "true"):
        return True
    if value.lower() in ("no", "false"):
        return False
    if not os.path.exists(value):
        raise UsageError(f"--verify: no CA bundle at {value!r}")
    return value


def _proxies(values: list[str]) -> dict[str, str]:
    proxies: dict[str, str] = {}
    for value in values:
        scheme, sep, rest = value.partition(":")
        if sep and rest and not rest.startswith("//"):  # "http:http://proxy:3128"
            if "://" not in rest:
                raise UsageError(f"--proxy {value!r}: expected SCHEME:URL, e.g. http:http://proxy:3128")
            proxies[scheme.lower()] = rest
        elif "://" in value:
            proxies["http"] = proxies["https"] = value
        else:
            raise UsageError(f"--proxy {value!r}: expected a URL such as http://proxy:3128")
    return proxies


def _what(value: str | None, verbose: bool, tty: bool) -> str:
    if verbose:
        return "HBhb" if value is None else value
    if value is None:
        return "hb" if tty else "b"
    unknown = set(value) - PRINT_LETTERS
    if unknown or not value:
        raise UsageError(f"--print {value!r}: use the letters H, B, h and b")
    return value


def parse_command_line(argv: list[str], stdout_tty: bool) -> Options:
    """Parse ``argv`` (without the program name); raises UsageError for what cannot be used."""
    parser = build_parser()
    ns = parser.parse_intermixed_args(argv)
    return Options(ns, stdout_tty)


def help_text() -> str:
    return build_parser().format_help()
