"""Unit tests for brisk's cookie engine (brisk.cookies, brisk._cookies.parse, brisk._cookies.files)."""

from __future__ import annotations

import calendar
import http.server
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import brisk
import brisk._cookies.engine
from brisk._cookies.parse import (
    MAX_COOKIE_AGE,
    default_path,
    domain_match,
    parse_cookie_date,
    parse_set_cookie,
    path_match,
)
from brisk.cookies import (
    MAX_COOKIE_HEADER_BYTES,
    MAX_COOKIES_PER_DOMAIN,
    MAX_COOKIES_TOTAL,
    Cookie,
    CookieConflictError,
    RequestsCookieJar,
    cookiejar_from_dict,
    create_cookie,
    dict_from_cookiejar,
    merge_cookies,
)

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z
DAY = 86400


def utc(*parts: int) -> int:
    return calendar.timegm((*parts, 0, 0, 0))


def jar_with(
    lines: list[str], host: str = "www.example.com", path: str = "/", scheme: str = "https", now: float = NOW
) -> RequestsCookieJar:
    jar = RequestsCookieJar()
    jar.extract(lines, scheme, host, path, now=now)
    return jar


def header(
    jar: RequestsCookieJar,
    url_host: str = "www.example.com",
    path: str = "/",
    scheme: str = "https",
    now: float = NOW,
) -> str | None:
    return jar.header_for(scheme, url_host, path, now=now)


# --- 5.1.1 cookie dates ----------------------------------------------------------------------------------

SUNDAY_1994 = utc(1994, 11, 6, 8, 49, 37)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", SUNDAY_1994),  # RFC 1123
        ("Sunday, 06-Nov-94 08:49:37 GMT", SUNDAY_1994),  # RFC 850, two-digit year
        ("Sun Nov  6 08:49:37 1994", SUNDAY_1994),  # asctime
        ("sun, 06-nov-1994 08:49:37 gmt", SUNDAY_1994),  # lower case, dashes (Netscape spec)
        ("Sun,\t06 NOVEMBER 1994 08:49:37 GMT+0100 (junk)", SUNDAY_1994),  # long month, trailing junk
        ("06 Nov 1994 8:9:7", utc(1994, 11, 6, 8, 9, 7)),  # one-digit time fields
        ("1994 Nov 06 08:49:37", SUNDAY_1994),  # any token order
        ("Thu, 01-Jan-1970 00:00:00 GMT", 0),
        ("Thu, 01 Jan 70 00:00:01 GMT", 1),
        ("Wed, 01 Jan 69 00:00:00 GMT", utc(2069, 1, 1, 0, 0, 0)),  # 00-69 -> 20xx
        ("Mon, 01 Jan 99 00:00:00 GMT", utc(1999, 1, 1, 0, 0, 0)),  # 70-99 -> 19xx
        ("Tue, 19 Jan 2038 03:14:08 GMT", 2**31),  # past 32-bit time_t
        ("Thu, 29 Feb 2024 12:00:00 GMT", utc(2024, 2, 29, 12, 0, 0)),  # leap year
        ("Tue, 29 Feb 2000 12:00:00 GMT", utc(2000, 2, 29, 12, 0, 0)),  # 400-year leap year
        ("Fri, 31 Dec 9999 23:59:59 GMT", utc(9999, 12, 31, 23, 59, 59)),
        ("Sat, 01 Jan 1601 00:00:00 GMT", utc(1601, 1, 1, 0, 0, 0)),  # earliest allowed year
    ],
)
def test_cookie_date_formats(text: str, expected: int) -> None:
    assert parse_cookie_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Sun, 06 Nov 1994",  # no time
        "06 Nov 08:49:37",  # no year
        "Sun, Nov 1994 08:49:37 GMT",  # no day (1994 is not a day: three digits)
        "2024-01-15 10:00:00",  # ISO: no month name
        "Wed, 30 Feb 2022 00:00:00 GMT",  # Feb 30 does not exist
        "Tue, 29 Feb 2022 00:00:00 GMT",  # not a leap year
        "Thu, 29 Feb 1900 00:00:00 GMT",  # century, not a leap year
        "Sat, 31 Apr 2021 00:00:00 GMT",
        "Mon, 32 Jan 2021 00:00:00 GMT",
        "Mon, 00 Jan 2021 00:00:00 GMT",
        "Mon, 01 Jan 2021 24:00:00 GMT",
        "Mon, 01 Jan 2021 23:60:00 GMT",
        "Mon, 01 Jan 2021 23:59:60 GMT",
        "Mon, 01 Jan 1600 00:00:00 GMT",  # before 1601
        "Mon, 01 Jan 106 00:00:00 GMT",  # three-digit year 106 is not adjusted
        "Mon, 01 Jan 20215 00:00:00 GMT",  # five-digit year
        "Mon, 01 Jan 2021 123:00:00 GMT",  # three-digit hour
    ],
)
def test_cookie_date_invalid(text: str) -> None:
    assert parse_cookie_date(text) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=utc(1601, 1, 1, 0, 0, 0), max_value=utc(9999, 12, 31, 23, 59, 59)))
def test_cookie_date_roundtrips_rfc1123(ts: int) -> None:
    parts = time.gmtime(ts)
    text = time.strftime("%a, %d %b %Y %H:%M:%S GMT", parts)
    assert parse_cookie_date(text) == ts


# --- 5.2 parsing -----------------------------------------------------------------------------------------


def test_parse_name_value_and_whitespace() -> None:
    parsed = parse_set_cookie("  sid = a b=c ;  Path = /x  ", NOW)
    assert parsed is not None
    assert (parsed.name, parsed.value, parsed.path) == ("sid", "a b=c", "/x")


@pytest.mark.parametrize(
    "line", ["novalue", "=value", " =value", "; a=b", "", "a\x00=1", "a=1\x01", "a=\r\n1", "a=1; Path=/\x7f"]
)
def test_parse_rejects(line: str) -> None:
    assert parse_set_cookie(line, NOW) is None


def test_parse_keeps_quotes_and_tabs() -> None:
    parsed = parse_set_cookie('q="quoted value"', NOW)
    assert parsed is not None
    assert parsed.value == '"quoted value"'
    tabbed = parse_set_cookie("t=a\tb", NOW)
    assert tabbed is not None
    assert tabbed.value == "a\tb"
    empty = parse_set_cookie("e=", NOW)
    assert empty is not None
    assert empty.value == ""


def test_parse_attributes_case_insensitive() -> None:
    parsed = parse_set_cookie(
        "a=1; PATH=/p; DOMAIN=.Example.COM; SECURE; HTTPONLY; SAMESITE=lax; Foo=bar", NOW
    )
    assert parsed is not None
    assert parsed.path == "/p"
    assert parsed.domain == "example.com"
    assert parsed.secure
    assert parsed.http_only
    assert parsed.same_site == "Lax"


@pytest.mark.parametrize(
    ("raw", "expected"), [("Strict", "Strict"), ("NONE", "None"), ("lax", "Lax"), ("bogus", None), ("", None)]
)
def test_parse_same_site(raw: str, expected: str | None) -> None:
    parsed = parse_set_cookie(f"a=1; SameSite={raw}", NOW)
    assert parsed is not None
    assert parsed.same_site == expected


def test_parse_max_age_wins_over_expires_in_any_order() -> None:
    for line in (
        "a=1; Max-Age=60; Expires=Wed, 09 Jun 2100 10:18:14 GMT",
        "a=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Max-Age=60",
    ):
        parsed = parse_set_cookie(line, NOW)
        assert parsed is not None
        assert parsed.expires == NOW + 60


@pytest.mark.parametrize("bad", ["abc", "1a", "+5", "", "-", "1.5", "٣"])
def test_parse_invalid_max_age_is_ignored(bad: str) -> None:
    parsed = parse_set_cookie(f"a=1; Expires=Tue, 14 Nov 2023 23:13:20 GMT; Max-Age={bad}", NOW)
    assert parsed is not None
    assert parsed.expires == NOW + 3600


@pytest.mark.parametrize("value", ["0", "-1", "-99999", "000"])
def test_parse_non_positive_max_age_expires_now(value: str) -> None:
    parsed = parse_set_cookie(f"a=1; Max-Age={value}", NOW)
    assert parsed is not None
    assert parsed.expires is not None
    assert parsed.expires <= NOW


def test_parse_expiry_capped_at_400_days() -> None:
    far = parse_set_cookie("a=1; Max-Age=999999999999999999999", NOW)
    assert far is not None
    assert far.expires == NOW + MAX_COOKIE_AGE
    dated = parse_set_cookie("a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", NOW)
    assert dated is not None
    assert dated.expires == NOW + MAX_COOKIE_AGE == NOW + 400 * DAY
    near = parse_set_cookie("a=1; Max-Age=100", NOW)
    assert near is not None
    assert near.expires == NOW + 100


def test_parse_invalid_expires_ignored_and_last_valid_wins() -> None:
    parsed = parse_set_cookie("a=1; Expires=Tue, 14 Nov 2023 23:13:20 GMT; Expires=not a date", NOW)
    assert parsed is not None
    assert parsed.expires == NOW + 3600
    session = parse_set_cookie("a=1; Expires=nonsense", NOW)
    assert session is not None
    assert session.expires is None


def test_parse_domain_rules() -> None:
    last = parse_set_cookie("a=1; Domain=one.com; Domain=two.com", NOW)
    assert last is not None
    assert last.domain == "two.com"
    empty_ignored = parse_set_cookie("a=1; Domain=one.com; Domain=", NOW)
    assert empty_ignored is not None
    assert empty_ignored.domain == "one.com"
    dot_only = parse_set_cookie("a=1; Domain=.", NOW)
    assert dot_only is not None
    assert dot_only.domain is None


def test_parse_path_rules() -> None:
    relative = parse_set_cookie("a=1; Path=/good; Path=relative", NOW)
    assert relative is not None
    assert relative.path is None
    empty = parse_set_cookie("a=1; Path=", NOW)
    assert empty is not None
    assert empty.path is None


def test_parse_overlong_attribute_ignored() -> None:
    parsed = parse_set_cookie("a=1; Path=/short; Path=/" + "x" * 1024, NOW)
    assert parsed is not None
    assert parsed.path == "/short"


def test_parse_cookie_size_limit() -> None:
    assert parse_set_cookie("n=" + "v" * 4095, NOW) is not None  # 1 + 4095 = 4096 bytes: accepted
    assert parse_set_cookie("n=" + "v" * 4096, NOW) is None
    assert parse_set_cookie("n=" + "é" * 2048, NOW) is None  # counted in bytes, not characters


# --- matching helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "matches"),
    [
        ("/foo", "/foo", True),
        ("/foo/", "/foo", True),
        ("/foo/bar", "/foo", True),
        ("/foobar", "/foo", False),
        ("/fo", "/foo", False),
        ("/", "/foo", False),
        ("/foo/bar", "/foo/", True),
        ("/foo", "/foo/", False),
        ("/Foo", "/foo", False),  # case-sensitive
        ("/anything", "/", True),
        ("/foo/bar/baz", "/foo/bar", True),
        ("/foo%2Fbar", "/foo", False),  # an encoded slash is not a separator
    ],
)
def test_path_match_table(request_path: str, cookie_path: str, matches: bool) -> None:
    assert path_match(request_path, cookie_path) is matches


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/foo", "/"),
        ("/foo/", "/foo"),
        ("/foo/bar", "/foo"),
        ("/a/b/c.html", "/a/b"),
        ("relative/x", "/"),
        ("//x", "/"),
    ],
)
def test_default_path(request_path: str, expected: str) -> None:
    assert default_path(request_path) == expected


@pytest.mark.parametrize(
    ("host", "domain", "matches"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("notexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("example.com.evil.net", "example.com", False),
        ("192.168.0.1", "0.1", False),  # no suffix matching for IP addresses
        ("192.168.0.1", "192.168.0.1", True),
        ("::1", "::1", True),
        ("a.com", "", False),
    ],
)
def test_domain_match_table(host: str, domain: str, matches: bool) -> None:
    assert domain_match(host, domain) is matches


# --- 5.3 storage -----------------------------------------------------------------------------------------


def test_host_only_cookie_stays_on_its_host() -> None:
    jar = jar_with(["a=1"])
    [cookie] = list(jar)
    assert cookie.host_only
    assert cookie.domain == "www.example.com"
    assert header(jar) == "a=1"
    assert header(jar, "sub.www.example.com") is None
    assert header(jar, "example.com") is None


def test_domain_cookie_reaches_subdomains_only() -> None:
    jar = jar_with(["a=1; Domain=.EXAMPLE.com"])
    [cookie] = list(jar)
    assert not cookie.host_only
    assert cookie.domain == "example.com"
    for host in ("example.com", "www.example.com", "deep.sub.example.com"):
        assert header(jar, host) == "a=1"
    for host in ("notexample.com", "example.com.evil.net", "example.org"):
        assert header(jar, host) is None


def test_domain_equal_to_host_is_not_host_only() -> None:
    jar = jar_with(["a=1; Domain=example.com"], host="example.com")
    assert header(jar, "sub.example.com") == "a=1"


@pytest.mark.parametrize(
    "domain",
    [
        "other.com",
        "sub.www.example.com",
        "ww.example.com",
        "example.com.evil.net",
        "xample.com",
        "bücher.example.com",
    ],
)
def test_domain_for_another_host_is_rejected(domain: str) -> None:
    jar = jar_with([f"a=1; Domain={domain}"])
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.example.com", "com"),
        ("www.example.co.uk", "co.uk"),
        ("user.github.io", "github.io"),
        ("a.b.unknown-tld", "unknown-tld"),
        ("foo.appspot.com", "appspot.com"),
    ],
)
def test_public_suffix_domain_is_rejected(host: str, domain: str) -> None:
    jar = jar_with([f"a=1; Domain={domain}", f"b=2; Domain=.{domain}"], host=host)
    assert len(jar) == 0


def test_public_suffix_equal_to_host_becomes_host_only() -> None:
    jar = jar_with(["a=1; Domain=github.io"], host="github.io")
    [cookie] = list(jar)
    assert cookie.host_only
    assert cookie.domain == "github.io"
    assert header(jar, "github.io") == "a=1"
    assert header(jar, "evil.github.io") is None


def test_registrable_domain_below_public_suffix_is_accepted() -> None:
    jar = jar_with(["a=1; Domain=example.co.uk"], host="www.example.co.uk")
    assert header(jar, "shop.example.co.uk") == "a=1"
    assert header(jar, "other.co.uk") is None


@pytest.mark.parametrize("host", ["192.168.0.1", "::1", "2001:db8::7"])
def test_ip_host_cookies(host: str) -> None:
    jar = jar_with(["plain=1", f"same=2; Domain={host}"], host=host, scheme="http")
    assert {c.name for c in jar} == {"plain", "same"}
    assert all(c.host_only and c.domain == host for c in jar)
    assert header(jar, host, scheme="http") == "plain=1; same=2"
    assert header(jar, "192.168.0.2", scheme="http") is None


def test_ip_host_never_suffix_matches() -> None:
    jar = RequestsCookieJar()
    jar.set("wide", "1", domain="168.0.1")
    jar.set("tld", "2", domain="1")
    assert jar.header_for("http", "192.168.0.1", "/") is None
    assert jar.header_for("http", "168.0.1", "/") == "wide=1"


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("192.168.0.1", "168.0.1"),
        ("192.168.0.1", "0.1"),
        ("192.168.0.1", "192.168.0.2"),
        ("::1", "1"),
        ("www.example.com", "93.184.216.34"),
    ],
)
def test_ip_domain_mismatch_rejected(host: str, domain: str) -> None:
    assert len(jar_with([f"a=1; Domain={domain}"], host=host)) == 0


def test_default_path_used_without_path_attribute() -> None:
    jar = jar_with(["a=1", "b=2; Path=nope"], path="/dir/page.html")
    assert {c.path for c in jar} == {"/dir"}
    assert header(jar, path="/dir/other") == "a=1; b=2"
    assert header(jar, path="/other") is None


def test_replacement_keeps_creation_time_and_order() -> None:
    jar = RequestsCookieJar()
    jar.extract(["a=1"], "https", "www.example.com", "/", now=NOW)
    jar.extract(["b=2"], "https", "www.example.com", "/", now=NOW + 1)
    first = next(c for c in jar if c.name == "a")
    created = first.creation_time
    jar.extract(["a=3"], "https", "www.example.com", "/", now=NOW + 2)
    assert len(jar) == 2
    assert next(c for c in jar if c.name == "a").creation_time == created
    assert header(jar, now=NOW + 3) == "a=3; b=2"


def test_same_name_different_path_or_scope_coexist() -> None:
    jar = jar_with(["a=root; Path=/", "a=deep; Path=/x", "a=wide; Domain=www.example.com"])
    assert len(jar) == 3  # (name, domain, host-only, path) is the identity
    assert header(jar, path="/x/y") == "a=deep; a=root; a=wide"


def test_secure_cookie_only_from_secure_origin() -> None:
    assert len(jar_with(["s=1; Secure"], scheme="http")) == 0
    assert len(jar_with(["s=1; Secure"], scheme="ws")) == 0
    assert len(jar_with(["s=1; Secure"], scheme="https")) == 1
    assert len(jar_with(["s=1; Secure"], scheme="wss")) == 1


def test_secure_cookie_only_sent_over_secure_schemes() -> None:
    jar = jar_with(["s=1; Secure", "p=2"])
    assert header(jar, scheme="https") == "s=1; p=2"
    assert header(jar, scheme="wss") == "s=1; p=2"
    assert header(jar, scheme="http") == "p=2"
    assert header(jar, scheme="ws") == "p=2"


@pytest.mark.parametrize(
    "line",
    [
        "s=evil",
        "s=evil; Max-Age=0",
        "s=evil; Domain=example.com",
        "s=evil; Path=/sub",
        "s=evil; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    ],
)
def test_insecure_origin_leaves_secure_cookies_alone(line: str) -> None:
    jar = jar_with(["s=good; Secure; Path=/"])
    stored = jar.extract([line], "http", "www.example.com", "/sub/page", now=NOW)
    assert stored == []
    assert [c.value for c in jar] == ["good"]
    assert header(jar) == "s=good"


def test_secure_cookie_on_subdomain_blocks_parent_overlay() -> None:
    jar = jar_with(["s=good; Secure"], host="www.example.com")
    jar.extract(["s=evil; Domain=example.com"], "http", "api.www.example.com", "/", now=NOW)
    jar.extract(["s=evil"], "http", "sub.www.example.com", "/", now=NOW)
    assert [c.value for c in jar] == ["good"]


def test_insecure_cookie_allowed_beside_unrelated_secure_cookie() -> None:
    jar = jar_with(["s=good; Secure; Path=/a"])
    assert len(jar.extract(["s=other; Path=/b"], "http", "www.example.com", "/", now=NOW)) == 1
    assert len(jar.extract(["s=other"], "http", "elsewhere.org", "/", now=NOW)) == 1
    # a secure origin may replace its Secure cookie by a plain one
    assert len(jar.extract(["s=plain; Path=/a"], "https", "www.example.com", "/", now=NOW)) == 1
    assert not next(c for c in jar if c.path == "/a").secure


@pytest.mark.parametrize(
    ("line", "scheme", "accepted"),
    [
        ("__Secure-a=1; Secure", "https", True),
        ("__Secure-a=1", "https", False),
        ("__Secure-a=1; Secure", "http", False),
        ("__secure-a=1", "https", False),  # prefixes are case-insensitive
        ("__Host-a=1; Secure; Path=/", "https", True),
        ("__Host-a=1; Secure; Path=/", "http", False),
        ("__Host-a=1; Path=/", "https", False),
        ("__Host-a=1; Secure", "https", False),  # no Path attribute
        ("__Host-a=1; Secure; Path=/foo", "https", False),
        ("__Host-a=1; Secure; Path=/; Domain=www.example.com", "https", False),
        ("__Host-a=1; Secure; Path=/; Domain=example.com", "https", False),
        ("__HOST-a=1; Path=/", "https", False),
        ("__Hostile=1", "http", True),  # not the prefix
    ],
)
def test_cookie_prefixes(line: str, scheme: str, accepted: bool) -> None:
    jar = jar_with([line], scheme=scheme, path="/")
    assert (len(jar) == 1) is accepted


@pytest.mark.parametrize(
    "deleter",
    [
        "a=; Max-Age=0",
        "a=x; Max-Age=-5",
        "a=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "a=x; Expires=Tue, 14 Nov 2023 22:13:19 GMT",
    ],
)
def test_deletion(deleter: str) -> None:
    jar = jar_with(["a=1", "b=2"])
    assert jar.extract([deleter], "https", "www.example.com", "/", now=NOW) == []
    assert [c.name for c in jar] == ["b"]
    assert header(jar) == "b=2"
    # deleting something absent stores nothing either
    assert jar.extract([deleter.replace("a=", "zz=")], "https", "www.example.com", "/", now=NOW) == []
    assert len(jar) == 1


def test_deletion_needs_matching_path_and_domain() -> None:
    jar = jar_with(["a=1; Path=/x", "d=1; Domain=example.com"], path="/")
    jar.extract(["a=; Max-Age=0", "d=; Max-Age=0"], "https", "www.example.com", "/", now=NOW)
    assert len(jar) == 2
    jar.extract(
        ["a=; Max-Age=0; Path=/x", "d=; Max-Age=0; Domain=example.com"],
        "https",
        "www.example.com",
        "/",
        now=NOW,
    )
    assert len(jar) == 0


def test_expiry_and_purge() -> None:
    jar = jar_with(["a=1; Max-Age=10", "s=2"])
    assert header(jar, now=NOW + 9) == "a=1; s=2"
    assert header(jar, now=NOW + 10) == "s=2"
    assert len(jar) == 1  # the expired cookie was purged, not just skipped
    [session] = list(jar)
    assert session.expires is None
    assert session.discard
    assert not session.is_expired(NOW + 10**9)


def test_extract_returns_stored_cookies_only() -> None:
    jar = RequestsCookieJar()
    stored = jar.extract(
        ["a=1", "bad", "b=2; Domain=evil.com", "c=3; Max-Age=5"], "https", "www.example.com", "/", now=NOW
    )
    assert [(c.name, c.expires) for c in stored] == [("a", None), ("c", NOW + 5)]


def test_extract_accepts_a_single_string() -> None:
    jar = RequestsCookieJar()
    assert [c.name for c in jar.extract("solo=1", "https", "www.example.com", "/", now=NOW)] == ["solo"]


def test_attributes_are_stored() -> None:
    jar = jar_with(["a=1; HttpOnly; SameSite=Strict; Secure; Max-Age=100; Path=/p"])
    [c] = list(jar)
    assert (c.http_only, c.same_site, c.secure, c.expires, c.path) == (True, "Strict", True, NOW + 100, "/p")
    assert c.has_nonstandard_attr("HttpOnly")
    assert c.get_nonstandard_attr("SameSite") == "Strict"
    assert c.get_nonstandard_attr("Other", "dflt") == "dflt"
    assert (c.port, c.version, c.comment, c.rfc2109, c.discard) == (None, 0, None, False, False)


# --- caps --------------------------------------------------------------------------------------------------


def test_oversized_cookie_ignored() -> None:
    jar = jar_with(["big=" + "x" * 4093, "huge=" + "x" * 4093, "ok=1"])  # 3 + 4093 = 4096; 4 + 4093 = 4097
    assert sorted(c.name for c in jar) == ["big", "ok"]


def test_per_domain_cap_evicts_least_recently_used() -> None:
    assert MAX_COOKIES_PER_DOMAIN == 50
    jar = RequestsCookieJar()
    jar.extract(["keep=1; Path=/keep"], "https", "www.example.com", "/", now=NOW)
    for i in range(1, 50):
        jar.extract([f"c{i}=1; Path=/other"], "https", "www.example.com", "/", now=NOW + i)
    assert len(jar) == 50
    assert header(jar, path="/keep", now=NOW + 100) == "keep=1"  # touches the oldest cookie
    jar.extract(["new=1; Path=/other"], "https", "www.example.com", "/", now=NOW + 101)
    names = {c.name for c in jar}
    assert len(jar) == 50
    assert {"keep", "new"} <= names
    assert "c1" not in names  # now the least recently used
    assert "c2" in names


def test_per_domain_cap_evicts_expired_first() -> None:
    jar = RequestsCookieJar()
    for i in range(50):
        extra = "; Max-Age=5" if i == 25 else ""
        jar.extract([f"c{i}=1{extra}"], "https", "www.example.com", "/", now=NOW + i)
    jar.extract(["new=1"], "https", "www.example.com", "/", now=NOW + 60)
    names = {c.name for c in jar}
    assert "c25" not in names
    assert "c0" in names
    assert "new" in names


def test_per_domain_cap_in_one_response() -> None:
    jar = jar_with([f"c{i}=1" for i in range(80)])
    assert len(jar) == MAX_COOKIES_PER_DOMAIN
    assert {c.name for c in jar} == {f"c{i}" for i in range(30, 80)}  # the first ones set are evicted


def test_total_cap() -> None:
    assert MAX_COOKIES_TOTAL == 3000
    jar = RequestsCookieJar()
    for d in range(61):  # 61 domains x 50 cookies = 3050
        jar.extract([f"c{i}=1" for i in range(50)], "https", f"h{d}.example.com", "/", now=NOW + d)
    assert len(jar) == MAX_COOKIES_TOTAL
    assert not any(c.domain == "h0.example.com" for c in jar)  # the 50 oldest went
    assert sum(c.domain == "h60.example.com" for c in jar) == 50


def test_header_length_cap() -> None:
    assert MAX_COOKIE_HEADER_BYTES == 8190
    big = "v" * 4000
    jar = RequestsCookieJar()
    for i, name in enumerate(["a", "b", "c", "d"]):
        jar.extract(
            [f"{name}={big if name != 'd' else 'small'}"], "https", "www.example.com", "/", now=NOW + i
        )
    value = header(jar, now=NOW + 10)
    assert value is not None
    assert len(value.encode()) <= MAX_COOKIE_HEADER_BYTES
    assert [pair.split("=")[0] for pair in value.split("; ")] == ["a", "b", "d"]  # c would not fit, d does


def test_user_set_cookies_are_not_capped() -> None:
    jar = RequestsCookieJar()
    for i in range(MAX_COOKIES_PER_DOMAIN + 10):
        jar.set(f"k{i}", "v", domain="example.com")
    assert len(jar) == MAX_COOKIES_PER_DOMAIN + 10


# --- 5.4 retrieval -----------------------------------------------------------------------------------------


def test_header_order_longest_path_then_oldest() -> None:
    jar = RequestsCookieJar()
    for i, line in enumerate(["root1=1; Path=/", "mid=2; Path=/a", "deep=3; Path=/a/b", "root2=4; Path=/"]):
        jar.extract([line], "https", "www.example.com", "/", now=NOW + i)
    assert header(jar, path="/a/b/c", now=NOW + 9) == "deep=3; mid=2; root1=1; root2=4"
    assert header(jar, path="/a", now=NOW + 9) == "mid=2; root1=1; root2=4"
    assert header(jar, path="/ab", now=NOW + 9) == "root1=1; root2=4"


def test_same_response_keeps_set_order() -> None:
    jar = jar_with(["z=1", "y=2", "x=3"])
    assert header(jar) == "z=1; y=2; x=3"


def test_header_for_empty_and_unmatched() -> None:
    jar = RequestsCookieJar()
    assert jar.header_for("https", "www.example.com", "/") is None
    jar.extract(["a=1; Path=/only"], "https", "www.example.com", "/", now=NOW)
    assert header(jar, path="/") is None
    assert header(jar, "other.org", path="/only") is None
    assert header(jar, path="") is None  # empty path means "/"


# --- requests' jar API ---------------------------------------------------------------------------------


def test_set_without_domain_is_any_host() -> None:
    jar = RequestsCookieJar()
    cookie = jar.set("k", "v")
    assert isinstance(cookie, Cookie)
    assert (cookie.domain, cookie.path, cookie.host_only) == ("", "/", False)
    assert header(jar, "anything.test", scheme="http") == "k=v"
    assert header(jar, "10.0.0.1", scheme="http") == "k=v"


def test_dict_access() -> None:
    jar = RequestsCookieJar()
    jar["a"] = "1"
    jar.set("b", 2)
    jar.set("c", b"bytes")
    assert jar["a"] == "1"
    assert jar["b"] == "2"
    assert jar["c"] == "bytes"
    assert "a" in jar
    assert "zzz" not in jar
    assert 3 not in jar
    assert len(jar) == 3
    with pytest.raises(KeyError):
        jar["zzz"]
    assert jar.get("zzz") is None
    assert jar.get("zzz", "d") == "d"
    del jar["a"]
    assert "a" not in jar
    del jar["never-there"]  # requests does not raise here
    assert jar.keys() == ["b", "c"]
    assert jar.values() == ["2", "bytes"]
    assert jar.items() == [("b", "2"), ("c", "bytes")]
    assert jar.pop("b") == "2"
    assert jar.pop("b", "gone") == "gone"
    assert jar.setdefault("n", "x") == "x"
    assert jar["n"] == "x"
    assert jar.popitem() == ("c", "bytes")
    assert isinstance(jar, MutableMapping)


def test_set_none_deletes() -> None:
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="one.com")
    jar.set("a", "2", domain="two.com")
    jar.set("a", None, domain="one.com")
    assert [(c.name, c.domain) for c in jar] == [("a", "two.com")]
    jar.set("a", None)
    assert len(jar) == 0


def test_conflicts_and_disambiguation() -> None:
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="one.com", path="/")
    jar.set("a", "2", domain="two.com", path="/")
    jar.set("a", "3", domain="two.com", path="/sub")
    with pytest.raises(CookieConflictError):
        jar["a"]
    with pytest.raises(CookieConflictError):
        jar.get("a")
    with pytest.raises(CookieConflictError):
        jar.get("a", domain="two.com")
    assert "a" in jar
    assert jar.get("a", domain="one.com") == "1"
    assert jar.get("a", domain=".one.com") == "1"  # requests' spelling with a dot
    assert jar.get("a", domain="two.com", path="/sub") == "3"
    assert jar.get("a", domain="three.com") is None
    assert issubclass(CookieConflictError, RuntimeError)


def test_iteration_yields_cookie_objects() -> None:
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="example.com", path="/x", secure=True)
    [cookie] = list(jar)
    assert isinstance(cookie, Cookie)
    assert (cookie.name, cookie.value, cookie.domain, cookie.path, cookie.secure) == (
        "a",
        "1",
        "example.com",
        "/x",
        True,
    )
    assert cookie.domain_specified
    assert cookie.domain_initial_dot
    assert not cookie.host_only


def test_set_keywords() -> None:
    jar = RequestsCookieJar()
    c = jar.set(
        "a",
        "1",
        domain=".Example.COM",
        path="/p",
        secure=True,
        expires=NOW + 5.7,
        rest={"HttpOnly": None, "SameSite": "lax"},
    )
    assert c is not None
    assert (c.domain, c.host_only, c.expires, c.http_only, c.same_site) == (
        "example.com",
        False,
        NOW + 5,
        True,
        "Lax",
    )
    host_only = jar.set("h", "1", domain="example.com", host_only=True)
    assert host_only is not None
    assert host_only.host_only
    assert header(jar, "sub.example.com", path="/p", now=NOW) == "a=1"
    idn = jar.set("i", "1", domain="bücher.example")
    assert idn is not None
    assert idn.domain == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("a", "x\r\nSet-Cookie: evil=1"),
        ("a", "1; b=2"),
        ("a=b", "1"),
        ("", "1"),
        ("a;b", "1"),
        ("a\x00", "1"),
    ],
)
def test_set_refuses_injection(name: str, value: str) -> None:
    jar = RequestsCookieJar()
    with pytest.raises(ValueError, match="invalid cookie"):
        jar.set(name, value)
    assert len(jar) == 0


def test_create_cookie_rejects_unknown_keywords() -> None:
    with pytest.raises(TypeError, match="bogus"):
        create_cookie("a", "1", bogus=True)
    c = create_cookie("a", "1", version=0, port=None, discard=True, comment=None, rfc2109=False)
    assert (c.domain, c.path) == ("", "/")


def test_get_dict_and_listing() -> None:
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="one.com", path="/")
    jar.set("b", "2", domain="one.com", path="/x")
    jar.set("c", "3", domain="two.com", path="/")
    assert jar.get_dict() == {"a": "1", "b": "2", "c": "3"}
    assert jar.get_dict(domain="one.com") == {"a": "1", "b": "2"}
    assert jar.get_dict(domain="one.com", path="/x") == {"b": "2"}
    assert jar.get_dict(path="/") == {"a": "1", "c": "3"}
    assert jar.list_domains() == ["one.com", "two.com"]
    assert jar.list_paths() == ["/", "/x"]
    assert jar.multiple_domains()
    assert not cookiejar_from_dict({"x": "1", "y": "2"}).multiple_domains()
    assert dict_from_cookiejar(jar) == {"a": "1", "b": "2", "c": "3"}


def test_clear_variants() -> None:
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="one.com", path="/")
    jar.set("b", "2", domain="one.com", path="/x")
    jar.set("a", "3", domain="two.com", path="/")
    jar.clear(domain="one.com", path="/x", name="b")
    assert len(jar) == 2
    jar.clear(domain="two.com")
    assert [(c.name, c.domain) for c in jar] == [("a", "one.com")]
    jar.clear()
    assert len(jar) == 0
    assert list(jar) == []
    assert jar.header_for("http", "one.com", "/") is None


def test_clear_session_and_expired() -> None:
    jar = RequestsCookieJar()
    jar.set("s", "1", domain="e.com")
    jar.set("p", "2", domain="e.com", expires=NOW + 100)
    jar.set("old", "3", domain="e.com", expires=NOW - 1)
    jar.clear_expired_cookies(now=NOW)
    assert sorted(jar.keys()) == ["p", "s"]
    jar.clear_session_cookies()
    assert jar.keys() == ["p"]


def test_update_copy_and_merge() -> None:
    source = RequestsCookieJar()
    source.set("a", "1", domain="one.com", path="/p")
    target = RequestsCookieJar()
    target.update(source)
    target.update({"b": "2"}, c="3")
    target.update([("d", "4")])
    assert sorted(target.keys()) == ["a", "b", "c", "d"]
    copied = next(c for c in target if c.name == "a")
    assert (copied.domain, copied.path) == ("one.com", "/p")
    copied.value = "changed"
    assert source["a"] == "1"  # update copies cookies

    clone = target.copy()
    clone["b"] = "other"
    assert target["b"] == "2"
    assert clone["b"] == "other"
    assert RequestsCookieJar() == RequestsCookieJar()

    merged = merge_cookies(target, {"b": "new", "e": "5"})
    assert merged is target
    assert target["b"] == "2"
    assert target["e"] == "5"
    other = RequestsCookieJar()
    other.set("b", "jar-wins")
    merge_cookies(target, other)
    assert target["b"] == "jar-wins"  # the same (name, domain, path) is replaced
    assert merge_cookies(target, None) is target
    with pytest.raises(ValueError, match="merge"):
        merge_cookies({}, {"a": "1"})  # type: ignore[arg-type]


def test_cookiejar_from_dict_overwrite_flag() -> None:
    jar = cookiejar_from_dict({"a": "1", "b": 2})
    assert jar.get_dict() == {"a": "1", "b": "2"}
    cookiejar_from_dict({"a": "new", "c": "3"}, cookiejar=jar, overwrite=False)
    assert jar.get_dict() == {"a": "1", "b": "2", "c": "3"}
    cookiejar_from_dict({"a": "new"}, cookiejar=jar)
    assert jar["a"] == "new"
    assert cookiejar_from_dict(None).get_dict() == {}


def test_cookiejar_from_dict_given_a_jar_copies_its_cookies_with_their_domains() -> None:
    source = RequestsCookieJar()
    source.set("a", "1", domain="example.com", path="/p")
    copied = cookiejar_from_dict(source)
    assert [(c.name, c.value, c.domain, c.path) for c in copied] == [("a", "1", "example.com", "/p")]


def test_update_from_stdlib_cookiejar() -> None:
    import http.cookiejar

    std = http.cookiejar.CookieJar()
    common = {
        "version": 0,
        "port": None,
        "port_specified": False,
        "path": "/",
        "path_specified": True,
        "secure": False,
        "expires": None,
        "discard": True,
        "comment": None,
        "comment_url": None,
        "rfc2109": False,
    }
    std.set_cookie(
        http.cookiejar.Cookie(
            name="dom",
            value="1",
            domain=".example.com",
            domain_specified=True,
            domain_initial_dot=True,
            rest={"HttpOnly": None},
            **common,
        )
    )
    std.set_cookie(
        http.cookiejar.Cookie(
            name="host",
            value="2",
            domain="www.example.com",
            domain_specified=False,
            domain_initial_dot=False,
            rest={},
            **common,
        )
    )
    jar = RequestsCookieJar()
    jar.update(std)
    by_name = {c.name: c for c in jar}
    assert (by_name["dom"].domain, by_name["dom"].host_only, by_name["dom"].http_only) == (
        "example.com",
        False,
        True,
    )
    assert (by_name["host"].domain, by_name["host"].host_only) == ("www.example.com", True)
    assert header(jar, "sub.www.example.com") == "dom=1"


def test_morsel_value() -> None:
    from http.cookies import SimpleCookie

    simple = SimpleCookie()
    simple.load("m=morsel; Domain=example.com; Path=/m; Secure; HttpOnly; Max-Age=60; SameSite=Lax")
    jar = RequestsCookieJar()
    jar.set("m", simple["m"])
    [c] = list(jar)
    assert (c.name, c.value, c.domain, c.path, c.secure, c.http_only, c.same_site) == (
        "m",
        "morsel",
        "example.com",
        "/m",
        True,
        True,
        "Lax",
    )
    assert c.expires is not None


def test_pickle_and_repr() -> None:
    jar = jar_with(["a=1; Domain=example.com"])
    restored = pickle.loads(pickle.dumps(jar))
    assert list(restored) == list(jar)
    assert restored.header_for("https", "www.example.com", "/", now=NOW) == "a=1"
    restored.set("b", "2")  # has a working lock again
    assert repr(jar) == "<RequestsCookieJar[<Cookie a=1 for example.com/>]>"
    assert "value='1'" in repr(next(iter(jar)))


def test_policy_can_block_everything() -> None:
    class BlockAll:
        def set_ok(self, *args: object) -> bool:
            return False

        def return_ok(self, *args: object) -> bool:
            return False

    jar = RequestsCookieJar()
    jar.set_policy(BlockAll())
    assert jar.extract(["a=1"], "https", "www.example.com", "/", now=NOW) == []
    jar.set("manual", "1")
    assert jar.header_for("https", "www.example.com", "/") is None
    assert isinstance(jar.get_policy(), BlockAll)
    assert isinstance(jar.copy().get_policy(), BlockAll)


def test_stdlib_default_policy_is_consulted() -> None:
    import http.cookiejar

    jar = RequestsCookieJar()
    jar.set_policy(http.cookiejar.DefaultCookiePolicy(blocked_domains=["evil.com"]))
    assert jar.extract(["a=1; Domain=evil.com"], "https", "www.evil.com", "/", now=NOW) == []
    assert len(jar.extract(["a=1; Domain=good.com", "b=2"], "https", "www.good.com", "/", now=NOW)) == 2
    assert jar.header_for("https", "www.good.com", "/", now=NOW) == "a=1; b=2"


def test_thread_safety() -> None:
    jar = RequestsCookieJar()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                jar.extract([f"t{n}_{i % 40}={i}"], "https", f"h{n}.example.com", "/", now=NOW + i)
                jar.header_for("https", f"h{n}.example.com", "/", now=NOW + i)
                jar.set(f"s{n}", str(i))
                list(jar)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(jar) == len(list(jar)) == 4 * 40 + 4


def test_import_is_lazy() -> None:
    """The engine a session fills imports neither the public suffix list nor http.cookiejar; brisk.cookies,
    whose RequestsCookieJar is an http.cookiejar.CookieJar, is the module that imports http.cookiejar."""
    code = (
        "import sys, brisk, brisk._cookies.engine;"
        " heavy = {'publicsuffixlist', 'http.cookiejar', 'http.cookies', 'brisk.cookies'}"
        " & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


# --- files -----------------------------------------------------------------------------------------------


def sample_jar() -> RequestsCookieJar:
    jar = RequestsCookieJar()
    jar.extract(
        [
            "host=1; Path=/",
            "dom=2; Domain=example.com; Path=/docs",
            "sec=3; Secure; HttpOnly; Max-Age=3600",
            "lax=4; SameSite=Lax; Max-Age=7200",
            "gone=5; Max-Age=1",
        ],
        "https",
        "www.example.com",
        "/",
        now=NOW,
    )
    return jar


def _attrs(jar: RequestsCookieJar, *, full: bool) -> list[tuple[object, ...]]:
    out = []
    for c in jar:
        row: tuple[object, ...] = (
            c.name,
            c.value,
            c.domain,
            c.path,
            c.secure,
            c.http_only,
            c.expires,
            c.host_only,
        )
        if full:
            row += (c.same_site, c.creation_time)
        out.append(row)
    return sorted(out, key=repr)


@pytest.fixture
def future_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeze brisk's clock at NOW + 10 so saving drops "gone" and keeps the rest."""
    monkeypatch.setattr(brisk._cookies.engine.time, "time", lambda: NOW + 10)


def test_netscape_save_format(tmp_path: Path, future_now: None) -> None:
    jar = sample_jar()
    jar.set("anyhost", "x")
    target = tmp_path / "cookies.txt"
    jar.save(target)
    text = target.read_text()
    assert text.startswith("# Netscape HTTP Cookie File\n")
    lines = [line for line in text.splitlines() if line and not line.startswith("# ")]
    assert sorted(lines) == sorted(
        [
            "www.example.com\tFALSE\t/\tFALSE\t0\thost\t1",
            ".example.com\tTRUE\t/docs\tFALSE\t0\tdom\t2",
            f"#HttpOnly_www.example.com\tFALSE\t/\tTRUE\t{NOW + 3600}\tsec\t3",
            f"www.example.com\tFALSE\t/\tFALSE\t{NOW + 7200}\tlax\t4",
        ]
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["cookies.txt"]  # no temporary file left behind


def test_netscape_round_trip(tmp_path: Path, future_now: None) -> None:
    jar = sample_jar()
    target = tmp_path / "cookies.txt"
    jar.save(str(target), format="netscape")
    loaded = RequestsCookieJar()
    loaded.load(target)
    expected = [row for row in _attrs(jar, full=False) if row[0] != "gone"]
    assert _attrs(loaded, full=False) == expected
    assert (
        loaded.header_for("https", "www.example.com", "/docs", now=NOW + 10) == "dom=2; host=1; sec=3; lax=4"
    )


def test_json_round_trip(tmp_path: Path, future_now: None) -> None:
    jar = sample_jar()
    jar.set("anyhost", "x")
    target = tmp_path / "cookies.json"
    jar.save(target, format="json")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    document = json.loads(target.read_text())
    assert document["format"] == "brisk-cookies"
    assert {"same_site", "host_only", "creation_time", "http_only"} <= set(document["cookies"][0])
    loaded = RequestsCookieJar()
    loaded.load(target)  # detected as JSON
    expected = [row for row in _attrs(jar, full=True) if row[0] != "gone"]
    assert _attrs(loaded, full=True) == expected
    assert loaded.header_for("http", "any.where", "/", now=NOW + 10) == "anyhost=x"


def test_save_replaces_existing_file_privately(tmp_path: Path) -> None:
    target = tmp_path / "c.txt"
    target.write_text("old")
    target.chmod(0o644)
    jar = RequestsCookieJar()
    jar.set("a", "1", domain="example.com")
    jar.save(target)
    assert "example.com" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_save_and_load_errors(tmp_path: Path) -> None:
    jar = RequestsCookieJar()
    with pytest.raises(ValueError, match="format"):
        jar.save(tmp_path / "x", format="xml")
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="brisk JSON"):
        jar.load(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text(
        json.dumps({"format": "brisk-cookies", "version": 1, "cookies": [{"name": "a", "value": 1}]})
    )
    with pytest.raises(ValueError, match="invalid cookie record"):
        jar.load(tmp_path / "bad2.json", format="json")
    with pytest.raises(ValueError, match="format"):
        jar.load(tmp_path / "bad.json", format="yaml")
    with pytest.raises(FileNotFoundError):
        jar.load(tmp_path / "missing.txt")


def test_load_curl_style_file(tmp_path: Path) -> None:
    far = int(time.time()) + 10 * DAY
    text = (
        "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n"
        "# This file was generated by libcurl! Edit at your own risk.\n\n"
        f".example.org\tTRUE\t/\tFALSE\t{far}\tdomain\tyes\n"
        f"#HttpOnly_host.example.org\tFALSE\t/app\tTRUE\t0\tho\tsecret\n"
        "example.org\tFALSE\t/\tFALSE\t0\tnovalue\n"  # six fields: empty value
        f"example.org\tFALSE\t/\tFALSE\t{NOW - 5}\texpired\tx\n"
        "malformed line without tabs\n"
        "example.org\tFALSE\t/\tFALSE\tnotanumber\tbad\tx\n"
        "example.org\tFALSE\t/\tFALSE\t0\tinject\tx\x01y\n"
        "\r\n"
    )
    path = tmp_path / "curl.txt"
    path.write_bytes(text.encode())
    jar = RequestsCookieJar()
    jar.load(path)
    by_name = {c.name: c for c in jar}
    assert set(by_name) == {"domain", "ho", "novalue"}
    assert (by_name["domain"].domain, by_name["domain"].host_only, by_name["domain"].expires) == (
        "example.org",
        False,
        far,
    )
    ho = by_name["ho"]
    assert (ho.domain, ho.host_only, ho.http_only, ho.secure, ho.path, ho.expires) == (
        "host.example.org",
        True,
        True,
        True,
        "/app",
        None,
    )
    assert by_name["novalue"].value == ""


def test_netscape_latin1_values_round_trip(tmp_path: Path) -> None:
    jar = jar_with(["l=caf\xe9"])  # a byte 0xE9 on the wire, decoded as Latin-1
    jar.save(tmp_path / "l.txt")
    assert b"caf\xe9" in (tmp_path / "l.txt").read_bytes()
    loaded = RequestsCookieJar()
    loaded.load(tmp_path / "l.txt")
    assert loaded["l"] == "caf\xe9"


# --- curl interoperability --------------------------------------------------------------------------------

CURL = "/usr/bin/curl"


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Echo the Cookie header; /set answers with a few Set-Cookie headers."""

    def do_GET(self) -> None:
        body = (self.headers.get("Cookie") or "").encode()
        self.send_response(200)
        if self.path.startswith("/set"):
            for line in (
                "plain=p1; Path=/",
                "wide=w2; Domain=example.test; Path=/",
                "persist=x3; Max-Age=86400; HttpOnly",
                "secret=s4; Path=/set; HttpOnly",
            ):
                self.send_header("Set-Cookie", line)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[int]:
    if not os.path.exists(CURL) or shutil.which("curl") is None:
        print("curl interop skipped: /usr/bin/curl is not installed")
        pytest.skip("curl is not installed")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _curl(port: int, *args: str, host: str = "127.0.0.1", path: str = "/") -> str:
    resolve = [] if host == "127.0.0.1" else ["--resolve", f"{host}:{port}:127.0.0.1"]
    done = subprocess.run(
        [CURL, "-sS", "--noproxy", "*", *resolve, *args, f"http://{host}:{port}{path}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_curl_reads_brisk_file(tmp_path: Path, echo_server: int) -> None:
    jar = RequestsCookieJar()
    jar.extract(["ip=1", "deep=2; Path=/deep", "ho=3; HttpOnly; Max-Age=3600"], "http", "127.0.0.1", "/")
    jar.extract(["dom=4; Domain=example.test", "only=5"], "http", "www.example.test", "/")
    file = tmp_path / "brisk.txt"
    jar.save(file)
    sent_ip = _curl(echo_server, "-b", str(file), "-c", str(tmp_path / "out.txt"))
    assert sorted(sent_ip.split("; ")) == ["ho=3", "ip=1"]
    assert sorted(_curl(echo_server, "-b", str(file), path="/deep/x").split("; ")) == [
        "deep=2",
        "ho=3",
        "ip=1",
    ]
    assert sorted(_curl(echo_server, "-b", str(file), host="www.example.test").split("; ")) == [
        "dom=4",
        "only=5",
    ]
    assert _curl(echo_server, "-b", str(file), host="api.example.test") == "dom=4"  # domain cookie only
    # curl wrote back what it read; brisk reads curl's rewrite
    again = RequestsCookieJar()
    again.load(tmp_path / "out.txt")
    assert sorted(c.name for c in again) == ["deep", "dom", "ho", "ip", "only"]


def test_brisk_reads_curl_file(tmp_path: Path, echo_server: int) -> None:
    jar_file = tmp_path / "curl.txt"
    _curl(echo_server, "-c", str(jar_file), host="www.example.test", path="/set/page")
    jar = RequestsCookieJar()
    jar.load(jar_file)
    by_name = {c.name: c for c in jar}
    assert set(by_name) == {"plain", "wide", "persist", "secret"}
    assert (by_name["plain"].domain, by_name["plain"].host_only) == ("www.example.test", True)
    assert (by_name["wide"].domain, by_name["wide"].host_only) == ("example.test", False)
    assert by_name["persist"].http_only
    assert by_name["persist"].expires is not None
    assert by_name["plain"].expires is None  # session cookie (expiry 0 in the file)
    assert by_name["secret"].path == "/set"
    assert jar.header_for("http", "api.example.test", "/") == "wide=w2"
    assert sorted((jar.header_for("http", "www.example.test", "/set/x") or "").split("; ")) == [
        "persist=x3",
        "plain=p1",
        "secret=s4",
        "wide=w2",
    ]


def test_a_session_makes_its_jar_when_first_asked() -> None:
    """No jar (and no cookie engine import) until someone asks for it or a response sets a cookie; an
    assigned None is an empty jar again, as in requests."""
    session = brisk.Session()
    assert session._cookie_jar is None
    jar = session.cookies
    assert isinstance(jar, RequestsCookieJar)
    assert session.cookies is jar
    jar.set("kept", "1")
    session.cookies = None
    assert session.cookies is not jar
    assert len(session.cookies) == 0
    assert brisk.Session(cookies={"a": "1"}).cookies.get_dict() == {"a": "1"}


def test_threads_sharing_a_session_get_one_jar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session.map's threads may meet their first Set-Cookie at once: they must all store into one jar."""
    import threading

    from brisk._cookies.engine import CookieStore

    made = 0
    real_init = CookieStore.__init__

    def slow_init(self: CookieStore, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        time.sleep(0.01)  # widen the window between "no jar yet" and "jar stored"
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(CookieStore, "__init__", slow_init)
    session = brisk.Session()
    barrier = threading.Barrier(8)
    jars: list[CookieStore | RequestsCookieJar] = []

    def first_cookie() -> None:
        barrier.wait()
        jars.append(session._ensure_cookie_jar())

    threads = [threading.Thread(target=first_cookie) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == 1
    assert all(jar is jars[0] for jar in jars)
    assert session.cookies._store is jars[0]  # the jar code asks for shows the store the threads filled
