"""The command line of ``brisk [METHOD] URL [ITEM ...]``: the option table, a small parser, the checks."""

from __future__ import annotations

import os

from brisk.cli._items import looks_like_item

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["EXIT_CODES", "DownloadError", "Options", "UsageError", "help_text", "parse_command_line"]

USAGE = """brisk [METHOD] URL [ITEM ...] [options]
       brisk serve [--port N] [--host ADDR] [--tls] [--http2] [--http3]
       brisk bulk URLS_FILE -o RESULTS.jsonl [--concurrency N] [--per-host N] ..."""

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

'brisk serve --help' describes the local test server; 'brisk bulk --help' fetching many URLs."""

EXIT_STATUSES = """\
exit status:
  0  success (any HTTP status, unless --check-status)
  1  the request failed (connection refused, DNS, TLS, protocol error, I/O error)
  2  usage error (bad option, item or URL)
  3  --check-status: a 3xx response that was not followed
  4  --check-status: a 4xx response          5  --check-status: a 5xx response
  6  timed out                               7  more redirects than --max-redirects
  130  interrupted (Ctrl-C)"""

#: What each kind of outcome exits with (httpie's 3/4/5 for --check-status; 2 is the usual usage status).
EXIT_CODES = {"ok": 0, "error": 1, "usage": 2, "timeout": 6, "redirects": 7, "interrupted": 130}

KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"))
PRINT_LETTERS = frozenset("HBhb")


class UsageError(Exception):
    """The command line cannot be used as given (exit status 2)."""


class DownloadError(Exception):
    """The response cannot be saved (or appended) as asked. ``status`` is the exit status to use."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Opt:
    """One option: its flags, where it goes, what value it takes, and its help line.

    ``takes`` is None for a flag (``const`` is stored), ``str``/``int``/``float`` for a value, ``list`` for a
    repeatable value, or a tuple of the allowed values.
    """

    __slots__ = ("const", "dest", "flags", "help", "metavar", "takes")

    def __init__(
        self,
        flags: tuple[str, ...],
        dest: str,
        help: str,
        takes: Any = None,
        metavar: str | None = None,
        const: Any = True,
    ) -> None:
        self.flags = flags
        self.dest = dest
        self.help = help
        self.takes = takes
        self.metavar = metavar
        self.const = const


OPTIONS = (
    Opt(("-f", "--form"), "form", "send data fields as a form (multipart when there are files)"),
    Opt(("-a", "--auth"), "auth", "credentials; asks for the password if only USER", str, "USER[:PASS]"),
    Opt(("-A", "--auth-type"), "auth_type", "the scheme of --auth (basic)", ("basic", "digest")),
    Opt(("--bearer",), "bearer", "send 'Authorization: Bearer TOKEN'", str, "TOKEN"),
    Opt(("--timeout",), "timeout", "limit for connecting and for each read (10 s, 30 s)", float, "SECONDS"),
    Opt(("--verify",), "verify", "CA bundle (file or directory) to verify TLS with", str, "PATH|yes|no"),
    Opt(("-k", "--insecure"), "insecure", "do not verify TLS certificates"),
    Opt(("--cert",), "cert", "client certificate (PEM), with its key unless --cert-key", str, "FILE"),
    Opt(("--cert-key",), "cert_key", "private key of --cert", str, "FILE"),
    Opt(
        ("--proxy",),
        "proxy",
        "proxy for one scheme (http:http://p:3128) or all (socks5://p:1080); repeatable",
        list,
        "[SCHEME:]URL",
    ),
    Opt(("--http1", "--http1.1"), "http2", "HTTP/1.1 only (ALPN offers http/1.1 alone)", const=False),
    Opt(("--http2",), "http2", "offer HTTP/2 over https by ALPN (the default)", const=True),
    Opt(
        ("--http2-prior-knowledge",),
        "http2",
        "HTTP/2 over plain http too, from the first byte (h2c)",
        const="prior-knowledge",
    ),
    Opt(
        ("--http3",),
        "http3",
        "HTTP/3 over QUIC for https URLs, from the first request (needs brisk[http3]); http stays on TCP",
        const="prior-knowledge",
    ),
    Opt(
        ("--resolve",),
        "resolve",
        "connect to ADDR for HOST:PORT (TLS still checks HOST); repeatable",
        list,
        "HOST:PORT:ADDR[,ADDR...]",
    ),
    Opt(
        ("--connect-to",),
        "connect_to",
        "connect to HOST2 for HOST1:PORT1 (same port only; PORT2 empty or PORT1); repeatable",
        list,
        "HOST1:PORT1:HOST2:PORT2",
    ),
    Opt(("-4", "--ipv4"), "family", "connect over IPv4 only", const="ipv4"),
    Opt(("-6", "--ipv6"), "family", "connect over IPv6 only", const="ipv6"),
    Opt(("--local-address",), "local_address", "connect from this local IP address", str, "ADDR"),
    Opt(("--unix-socket",), "unix_socket", "connect through this Unix domain socket", str, "PATH"),
    Opt(
        ("--pin", "--pinnedpubkey"),
        "pin",
        "the server's public key must be one of these (sha256//BASE64, ';' between)",
        str,
        "PINS",
    ),
    Opt(("--tls-min",), "tls_min", "lowest TLS version: 1.2 (the default), 1.3; 1.0, 1.1", str, "VERSION"),
    Opt(("--tlsv1.2",), "tls_min", "the same as --tls-min 1.2", const="1.2"),
    Opt(("--tlsv1.3",), "tls_min", "the same as --tls-min 1.3", const="1.3"),
    Opt(("--tls-max",), "tls_max", "highest TLS version: 1.2, 1.3 (the default)", str, "VERSION"),
    Opt(("--ciphers",), "ciphers", "OpenSSL cipher list for TLS 1.2 and below", str, "LIST"),
    Opt(("-F", "--follow"), "follow", "follow redirects (off by default)"),
    Opt(("--max-redirects",), "max_redirects", "how many redirects --follow follows (30)", int, "N"),
    Opt(("--retries",), "retries", "retries of failed connections (2; 0 for none)", int, "N"),
    Opt(("-o", "--output"), "output", "save the body to FILE (a progress bar on a terminal)", str, "FILE"),
    Opt(("-c", "--continue"), "resume", "with -o: resume a partial download"),
    Opt(
        ("--cache",),
        "cache",
        "use an HTTP cache file (RFC 9111): PATH, or ~/.cache/brisk/http-cache.sqlite",
        "optional",
        "PATH",
    ),
    Opt(("--timing",), "timing", "show where the time went (DNS, connect, TLS, ...) as bars"),
    Opt(("-v", "--verbose"), "verbose", "print the request too (the same as --print HBhb)"),
    Opt(("-p", "--print"), "what", "H, B: request head, body; h, b: response head, body", str, "WHAT"),
    Opt(("--headers",), "what", "print the response head only", const="h"),
    Opt(("-b", "--body"), "what", "print the response body only", const="b"),
    Opt(("-q", "--quiet"), "quiet", "no progress bar, summary or warnings on stderr"),
    Opt(("--check-status",), "check_status", "exit 3/4/5 on a 3xx (not followed), 4xx, 5xx status"),
    Opt(("--pretty",), "pretty", "colour and indent, even when piped", const=True),
    Opt(("--no-pretty",), "pretty", "print everything as received", const=False),
    Opt(("--version",), "version", "print brisk's version and exit"),
    Opt(("-h", "--help"), "help", "show this help and exit"),
)
DEFAULTS: dict[str, Any] = {opt.dest: None for opt in OPTIONS}
DEFAULTS.update(
    form=False, auth_type="basic", insecure=False, proxy=[], resolve=[], connect_to=[], follow=False,
    max_redirects=30, resume=False, timing=False, verbose=False, quiet=False, check_status=False,
    version=False, help=False,
)  # fmt: skip
_BY_FLAG = {flag: opt for opt in OPTIONS for flag in opt.flags}


def _convert(opt: Opt, flag: str, value: str) -> Any:
    takes = opt.takes
    if takes is int or takes is float:
        try:
            return takes(value)
        except ValueError:
            kind = "a whole number" if takes is int else "a number"
            raise UsageError(f"{flag}: {value!r} is not {kind}") from None
    if isinstance(takes, tuple) and value not in takes:
        raise UsageError(f"{flag}: {value!r} is not one of {', '.join(takes)}")
    return value


def _store(values: dict[str, Any], opt: Opt, flag: str, value: str | None) -> None:
    if opt.takes is None:
        values[opt.dest] = opt.const
    elif opt.takes is list:
        values[opt.dest] = [*values[opt.dest], value]
    else:
        assert value is not None
        values[opt.dest] = _convert(opt, flag, value)


def split_command_line(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``(options, positionals)``. Options may come anywhere; ``--opt=value``, ``--opt value``, ``-ovalue``
    and ``-vF`` are understood, and ``--`` ends the options. (Hand-written rather than argparse, which with
    its helpers costs several milliseconds of start-up.)"""
    values = dict(DEFAULTS)
    positionals: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            positionals.extend(args)
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
        elif arg.startswith("--"):
            flag, eq, inline = arg.partition("=")
            opt = _BY_FLAG.get(flag)
            if opt is None:
                raise UsageError(f"unknown option {flag}")
            if opt.takes == "optional":  # --cache or --cache=PATH (a value only after "=")
                if eq and not inline:
                    raise UsageError(f"{flag}= needs a value ({opt.metavar})")
                values[opt.dest] = inline if eq else True
            elif opt.takes is None:
                if eq:
                    raise UsageError(f"{flag} takes no value")
                _store(values, opt, flag, None)
            else:
                value = inline if eq else next(args, None)
                if value is None:
                    raise UsageError(f"{flag} needs a value ({opt.metavar})")
                _store(values, opt, flag, value)
        else:
            for index in range(1, len(arg)):
                flag = "-" + arg[index]
                opt = _BY_FLAG.get(flag)
                if opt is None:
                    raise UsageError(f"unknown option {flag}" + (f" in {arg}" if len(arg) > 2 else ""))
                if opt.takes is None:
                    _store(values, opt, flag, None)
                    continue
                value = arg[index + 1 :] or next(args, None)
                if value is None:
                    raise UsageError(f"{flag} needs a value ({opt.metavar})")
                _store(values, opt, flag, value)
                break
    return values, positionals


def help_text() -> str:
    """The ``--help`` text, laid out by argparse from the option table (argparse loads only here)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="brisk",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EXIT_STATUSES,
        add_help=False,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, max_help_position=30),
    )
    for opt in OPTIONS:
        if opt.takes is None:
            parser.add_argument(
                *opt.flags, dest=opt.dest, action="store_const", const=opt.const, help=opt.help
            )
        elif isinstance(opt.takes, tuple):
            parser.add_argument(*opt.flags, dest=opt.dest, choices=opt.takes, help=opt.help)
        elif opt.takes == "optional":
            parser.add_argument(*opt.flags, dest=opt.dest, metavar=opt.metavar, nargs="?", help=opt.help)
        else:
            parser.add_argument(*opt.flags, dest=opt.dest, metavar=opt.metavar, help=opt.help)
    return parser.format_help()


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
    http2: bool | str
    http3: bool | str | None
    resolve: list[str]
    connect_to: list[str]
    family: str | None
    local_address: str | None
    unix_socket: str | None
    pin: str | None
    tls_min: str | None
    tls_max: str | None
    ciphers: str | None
    network: dict[str, Any]
    follow: bool
    max_redirects: int
    retries: int | None
    output: str | None
    resume: bool
    timing: bool
    cache: str | bool | None
    what: str
    quiet: bool
    check_status: bool
    pretty: bool | None
    version: bool
    verbose: bool
    insecure: bool
    cert_key: str | None
    proxy: list[str]
    help: bool

    def __init__(self, values: dict[str, Any], parts: list[str], stdout_tty: bool) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        if self.version or self.help:
            return
        if not parts:
            raise UsageError("the URL is missing")
        method = None
        if len(parts) > 1 and _is_method(parts[0]) and not looks_like_item(parts[1]):
            method, parts = parts[0].upper(), parts[1:]
        self.url = normalise_url(parts[0])
        self.items = parts[1:]
        self.method = method or ""  # decided from the items
        self.verify = _verify(values["verify"], self.insecure)
        if self.cert_key and not self.cert:
            raise UsageError("--cert-key needs --cert")
        if self.cert and self.cert_key:
            self.cert = (str(self.cert), self.cert_key)
        self.proxies = _proxies(self.proxy)
        self.http2 = True if self.http2 is None else self.http2  # as Session's default
        self.network = {}
        if any(values[name] not in (None, []) for name in _NETWORK_OPTIONS):
            from brisk.cli._network import network_settings

            self.network = network_settings(self)
        if self.timeout is not None and not self.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds")
        if self.max_redirects < 0:
            raise UsageError("--max-redirects cannot be negative")
        if self.retries is not None and self.retries < 0:
            raise UsageError("--retries cannot be negative")
        if self.resume and not self.output:
            raise UsageError("--continue needs -o FILE")
        if self.auth and self.bearer:
            raise UsageError("use --auth or --bearer, not both")
        self.what = _what(values["what"], self.verbose, stdout_tty)


_NETWORK_OPTIONS = (
    "resolve", "connect_to", "family", "local_address", "unix_socket", "pin", "tls_min", "tls_max", "ciphers",
)  # fmt: skip


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
    """The parts to print: ``--print`` as given, else everything with -v, else the response (its body
    only when piped)."""
    if value is None:
        return "HBhb" if verbose else "hb" if tty else "b"
    unknown = set(value) - PRINT_LETTERS
    if unknown or not value:
        raise UsageError(f"--print {value!r}: use the letters H, B, h and b")
    return value


def parse_command_line(argv: list[str], stdout_tty: bool) -> Options:
    """Parse ``argv`` (without the program name); raises UsageError for what cannot be used."""
    values, parts = split_command_line(argv)
    return Options(values, parts, stdout_tty)
