"""Fuzz target: Set-Cookie parsing and the cookie jar (``brisk.cookies``, ``brisk._cookies.parse``).

Input layout, read field by field (``_fuzzutil.Reader``): one to three responses, each with a scheme, a
request host (from a list of names, IPs and public suffixes), a request path and up to eight Set-Cookie values
(fuzzed text: latin-1 as header values arrive, or any code points; or a fuzzed name=value with common
attributes), fed to ``RequestsCookieJar.extract`` at a fixed time.

Checked:
- ``extract`` never raises (it documents no exception: a bad line is ignored);
- every stored cookie is well formed: a non-empty name without ``=``, ``;`` or control characters (tab
  excepted), a value without ``;`` or control characters, name + value within MAX_COOKIE_BYTES, an expiry in
  the future and at most 400 days away, a domain the request host domain-matches, never a public suffix
  other than the host itself, Secure only when set over https/wss, the ``__Host-`` and ``__Secure-`` rules;
  the jar's per-domain and total caps hold;
- ``header_for`` (same host, parent domain, subdomain, plain http, an unrelated host, a year later) returns
  None or a str without CR, LF, NUL or other control characters, no longer than MAX_COOKIE_HEADER_BYTES,
  that the request encoder accepts as a Cookie header when the input was latin-1; an unrelated host never
  gets a cookie.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["brisk"]):
    from brisk._cookies.parse import MAX_COOKIE_AGE, MAX_COOKIE_BYTES, byte_len, domain_match, has_ctl
    from brisk._protocol.http11 import check_header
    from brisk.cookies import (
        MAX_COOKIE_HEADER_BYTES,
        MAX_COOKIES_PER_DOMAIN,
        MAX_COOKIES_TOTAL,
        RequestsCookieJar,
    )

from _fuzzutil import Reader, fuzz

NOW = 1_700_000_000
SCHEMES = ("http", "https", "ws", "wss", "ftp")
HOSTS = (
    "example.com",
    "www.example.com",
    "a.b.example.co.uk",
    "localhost",
    "127.0.0.1",
    "::1",
    "com",
    "co.uk",
    "user.github.io",
    "xn--bcher-kva.example",
)
PATHS = ("/", "/a/b", "/a/b/", "", "/a;x=1/b", "/%2F/")
ATTRIBUTES = (
    "; Domain=example.com",
    "; Domain=.co.uk",
    "; Path=/a",
    "; Secure",
    "; HttpOnly",
    "; Max-Age=60",
    "; Max-Age=-1",
    "; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
    "; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
    "; SameSite=Lax",
    "",
)


def line(reader: Reader, latin1: list[bool]) -> str:
    """A Set-Cookie value: fuzzed text, or a fuzzed name and value followed by 1-3 common attributes."""
    kind = reader.byte() % 4
    if kind == 0:
        text = reader.text(120)
        if not all(c <= "\xff" for c in text):
            latin1[0] = False
        return text
    name = reader.raw(16).decode("latin-1")
    value = reader.raw(16).decode("latin-1")
    return f"{name}={value}" + "".join(reader.pick(ATTRIBUTES) for _ in range(kind))


def check_jar(jar: RequestsCookieJar, hosts: set[str], secure_hosts: set[str]) -> None:
    per_domain: dict[str, int] = {}
    for cookie in jar:
        name, value = cookie.name, cookie.value
        assert name, "a cookie without a name"
        assert not has_ctl(name), name
        assert not set(name) & {"=", ";"}, name
        assert not has_ctl(value), value
        assert ";" not in value, value
        assert byte_len(name) + byte_len(value) <= MAX_COOKIE_BYTES
        assert cookie.expires is None or NOW < cookie.expires <= NOW + MAX_COOKIE_AGE, cookie.expires
        assert any(domain_match(host, cookie.domain) for host in hosts), (cookie.domain, hosts)
        if not cookie.host_only:
            assert cookie.domain not in ("com", "co.uk", "github.io", "uk", "io"), cookie.domain
        if cookie.secure:
            assert any(domain_match(host, cookie.domain) for host in secure_hosts), cookie
        prefix = name[:9].lower()
        if prefix.startswith("__secure-"):
            assert cookie.secure, cookie
        if prefix.startswith("__host-"):
            assert cookie.secure, cookie
            assert cookie.host_only, cookie
            assert cookie.path == "/", cookie
        per_domain[cookie.domain] = per_domain.get(cookie.domain, 0) + 1
    assert all(count <= MAX_COOKIES_PER_DOMAIN for count in per_domain.values()), per_domain
    assert len(jar) <= MAX_COOKIES_TOTAL


def check_header_value(header: str | None, latin1: bool) -> None:
    if header is None:
        return
    assert header, "an empty Cookie header"
    assert not has_ctl(header), repr(header)
    assert byte_len(header) <= MAX_COOKIE_HEADER_BYTES, byte_len(header)
    if latin1:
        assert check_header("Cookie", header) == header.strip(" \t")


def test_one_input(data: bytes) -> None:
    reader = Reader(data)
    jar = RequestsCookieJar()
    latin1 = [True]
    hosts: set[str] = set()
    secure_hosts: set[str] = set()
    requests = []
    for _ in range(reader.number(1, 3)):
        scheme = reader.pick(SCHEMES)
        host = reader.pick(HOSTS)
        path = reader.pick(PATHS)
        lines = [line(reader, latin1) for _ in range(reader.number(0, 8))]
        stored = jar.extract(lines, scheme, host, path, now=NOW)
        assert all(cookie in list(jar) for cookie in stored)
        hosts.add(host)
        if scheme in ("https", "wss"):
            secure_hosts.add(host)
        requests.append((scheme, host, path))
    check_jar(jar, hosts, secure_hosts)
    for scheme, host, path in requests:
        parent = host.partition(".")[2]
        for target in (host, parent, "sub." + host):
            for when in (NOW, NOW + 1):
                check_header_value(jar.header_for(scheme, target, path or "/", now=when), latin1[0])
        check_header_value(jar.header_for("http", host, "/", now=NOW), latin1[0])
        assert jar.header_for(scheme, "unrelated.test", path or "/", now=NOW) is None
    assert jar.header_for("https", requests[0][1], "/", now=NOW + 401 * 86400) is None or any(
        cookie.expires is None for cookie in jar
    )


if __name__ == "__main__":
    fuzz(test_one_input)
