"""The URL model: one test (or parametrised case) per documented rule in brisk._core.url."""

from __future__ import annotations

import copy
import itertools
import pickle
import subprocess
import sys
from typing import Any

import pytest

import brisk
from brisk._core.url import DEFAULT_PORTS, URL, requote
from brisk.exceptions import InvalidSchema, InvalidURL, MissingSchema, RequestException

# --- basic anatomy --------------------------------------------------------------------------------


def test_components_of_a_full_url() -> None:
    url = URL.parse("HTTPS://user:pa%20ss@Example.COM:8443/a/b?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.username == "user"
    assert url.password == "pa%20ss"
    assert url.host == "example.com"
    assert url.port == 8443
    assert url.path == "/a/b"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert str(url) == "https://user:pa%20ss@example.com:8443/a/b?x=1&y=2#frag"


def test_absent_parts() -> None:
    url = URL.parse("http://example.com")
    assert (url.username, url.password, url.port, url.query, url.fragment) == ("", None, None, None, None)
    assert url.path == "/"
    assert str(url) == "http://example.com/"


def test_bare_question_mark_and_hash_are_kept() -> None:
    url = URL.parse("http://h/p?#")
    assert url.query == ""
    assert url.fragment == ""
    assert url.target == "/p?"
    assert str(url) == "http://h/p?#"


def test_query_without_path_gets_root_path() -> None:
    url = URL.parse("http://h?x=1")
    assert url.path == "/"
    assert url.target == "/?x=1"


def test_target_never_contains_fragment() -> None:
    assert URL.parse("http://h/p?q=1#frag").target == "/p?q=1"
    assert URL.parse("http://h/p#frag?not-a-query").target == "/p"


def test_host_header_and_origin() -> None:
    assert URL.parse("http://h/").host_header == "h"
    assert URL.parse("http://h:80/").host_header == "h"
    assert URL.parse("https://h:443/").host_header == "h"
    assert URL.parse("https://h:80/").host_header == "h:80"
    assert URL.parse("http://h:8080/").host_header == "h:8080"
    assert URL.parse("http://[::1]:8080/").host_header == "[::1]:8080"
    assert URL.parse("https://h/").origin == ("https", "h", 443)
    assert URL.parse("http://h:8080/").origin == ("http", "h", 8080)
    assert URL.parse("ws://h/").effective_port == 80
    assert URL.parse("wss://h/").effective_port == 443


def test_default_ports() -> None:
    assert DEFAULT_PORTS == {"http": 80, "https": 443, "ws": 80, "wss": 443}
    proxy = URL.parse("socks5h://proxy.local:1080")
    assert proxy.port == 1080
    assert proxy.path == ""
    assert str(proxy) == "socks5h://proxy.local:1080"
    assert URL.parse("socks5://proxy.local").effective_port == 0


def test_explicit_default_port_is_kept_in_str_but_not_in_host_header() -> None:
    url = URL.parse("http://h:80/")
    assert url.port == 80
    assert str(url) == "http://h:80/"
    assert url.host_header == "h"
    assert url.origin == URL.parse("http://h/").origin


# --- equality, hashing, immutability, caching -----------------------------------------------------


def test_equality_compares_normalised_form() -> None:
    a = URL.parse("HTTP://EXAMPLE.com/a/./b")
    b = URL.parse("http://example.com/a/b")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != URL.parse("http://example.com/a/b?")
    assert a != "http://example.com/a/b"


def test_parse_is_cached_and_returns_same_instance() -> None:
    text = "http://cache-test.example/x?y=1"
    assert URL.parse(text) is URL.parse(text)
    assert URL(text) is URL.parse(text)


def test_cache_is_bounded() -> None:
    from brisk._core import url as _url

    for i in range(_url._CACHE_SIZE + 50):
        URL.parse(f"http://bounded.example/{i}")
    assert len(_url._CACHE) <= _url._CACHE_SIZE
    # The newest entries survive eviction of the oldest.
    last = f"http://bounded.example/{_url._CACHE_SIZE + 49}"
    assert last in _url._CACHE


def test_url_is_immutable() -> None:
    url = URL.parse("http://h/")
    with pytest.raises(AttributeError):
        url.host = "evil"
    with pytest.raises(AttributeError):
        del url.path
    with pytest.raises(AttributeError):
        url.extra = 1
    assert url.host == "h"


def test_pickle_and_copy() -> None:
    url = URL.parse("https://u:p@h:8443/x?y#z")
    assert pickle.loads(pickle.dumps(url)) == url
    assert copy.copy(url) is url
    assert copy.deepcopy(url) is url


def test_repr_masks_password() -> None:
    url = URL.parse("https://user:secret@h/")
    assert "secret" not in repr(url)
    assert repr(url) == "URL('https://user:***@h/')"
    assert str(url) == "https://user:secret@h/"
    assert repr(URL.parse("http://h/")) == "URL('http://h/')"


def test_parse_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        URL.parse(b"http://h/")  # type: ignore[arg-type]


# --- scheme ---------------------------------------------------------------------------------------


def test_missing_scheme_message_matches_requests() -> None:
    with pytest.raises(MissingSchema) as info:
        URL.parse("example.com/x")
    assert str(info.value) == (
        "Invalid URL 'example.com/x': No scheme supplied. Perhaps you meant https://example.com/x?"
    )
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RequestException)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("localhost:8080/x", "http://localhost:8080/x"),
        ("localhost:8080", "http://localhost:8080"),
        ("10.0.0.1:3128/", "http://10.0.0.1:3128/"),
        ("example.com:80?q", "http://example.com:80?q"),
        ("[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_host_port_without_scheme_is_missing_scheme(text: str, suggestion: str) -> None:
    with pytest.raises(MissingSchema) as info:
        URL.parse(text)
    assert str(info.value).endswith(f"Perhaps you meant {suggestion}?")
    # requests raises InvalidSchema for these; code written for it still catches the error.
    assert isinstance(info.value, InvalidSchema)


@pytest.mark.parametrize("text", ["", "   ", "/just/a/path", "?q", "://h/"])
def test_other_scheme_less_inputs(text: str) -> None:
    with pytest.raises(MissingSchema):
        URL.parse(text)


def test_scheme_relative_input_suggests_https() -> None:
    with pytest.raises(MissingSchema, match=r"Perhaps you meant https://h/x\?"):
        URL.parse("//h/x")


@pytest.mark.parametrize("text", ["ht tp://h/", "1http://h/", "h\ttp://x"])
def test_invalid_scheme_characters(text: str) -> None:
    with pytest.raises(InvalidURL, match="invalid scheme"):
        URL.parse(text)


def test_scheme_is_lower_cased_and_other_schemes_parse() -> None:
    assert URL.parse("HtTpS://h/").scheme == "https"
    for scheme in ("socks5", "socks5h", "socks4a", "socks4", "git+ssh", "coap.tcp"):
        assert URL.parse(f"{scheme}://host:1080").scheme == scheme


@pytest.mark.parametrize("text", ["http:/example.com", "http:example.com", "https:\\\\example.com", "ws:x"])
def test_http_without_authority_is_invalid(text: str) -> None:
    with pytest.raises(InvalidURL, match="expected '//'"):
        URL.parse(text)


@pytest.mark.parametrize("text", ["mailto:a@example.com", "data:text/plain,hi", "urn:isbn:123x"])
def test_other_scheme_without_authority_is_kept_as_written(text: str) -> None:
    """requests prepares such URLs verbatim (no host, no params added); only an adapter mounted for the
    scheme can send one, else InvalidSchema when sent."""
    url = URL.parse(text)
    assert (str(url), url.host) == (text, "")
    assert url.with_params({"k": "v"}) is url
    with pytest.raises(InvalidSchema, match="No connection adapters"):
        brisk.get(text)


def test_another_schemes_host_may_hold_percent_escapes_as_written() -> None:
    """requests-unixsocket names a socket path in the host: ``http+unix://%2Frun%2Fdocker.sock/info``."""
    url = URL.parse("http+unix://%2Frun%2FDocker.sock/info?x=%7E")
    assert url.host == "%2Frun%2FDocker.sock"  # not lower-cased: a path, not a DNS name
    assert str(url) == "http+unix://%2Frun%2FDocker.sock/info?x=~"
    with pytest.raises(InvalidURL, match="invalid character '%' in host"):
        URL.parse("http://%2Frun%2Fdocker.sock/")  # an http host is a name or an address


def test_an_http_unix_url_names_a_socket_path() -> None:
    url = URL.parse("http+unix://%2Frun%2FApp.sock/v1/info?x=1")
    assert (url.unix_socket, url.host, url.target) == ("/run/App.sock", "%2Frun%2FApp.sock", "/v1/info?x=1")
    assert url.host_header == "localhost"  # a path is no host name: as requests-unixsocket sends
    assert URL.parse("http+unix://App.sock/").unix_socket == "App.sock"  # relative, case kept
    assert URL.parse("http+unix://%00abstract/").unix_socket == "\x00abstract"  # Linux's abstract namespace
    assert URL.parse("http+unix://%2Ftmp%2F%FF.sock/").unix_socket == "/tmp/\udcff.sock"  # as os.fsdecode
    assert URL.parse("http://h/").unix_socket is None
    assert URL.parse("http+unix://%2Frun%2Fa.sock/a/b").join("../c") == URL.parse(
        "http+unix://%2Frun%2Fa.sock/c"
    )
    with pytest.raises(InvalidURL, match="No host"):
        URL.parse("http+unix:///path")


def test_escapes_of_unreserved_characters_are_decoded() -> None:
    """RFC 3986 section 6.2.2.2 (and requests): %41 is A, %7E is ~; other escapes stay as written."""
    assert str(URL.parse("http://h/a%41%7e%2F%20?q=%2D%5F#%2E")) == "http://h/aA~%2F%20?q=-_#%2E"


def test_surrounding_whitespace_and_controls_are_stripped() -> None:
    assert str(URL.parse("  \t\r\n http://h/x \x00\x1f\n ")) == "http://h/x"
    assert str(URL.parse("\x0b\x0chttp://h/")) == "http://h/"


# --- authority: userinfo --------------------------------------------------------------------------


def test_userinfo_ends_at_last_at_sign() -> None:
    url = URL.parse("http://a@b:c@d@host.example/")
    assert url.host == "host.example"
    assert url.username == "a%40b"
    assert url.password == "c%40d"
    assert url.auth == ("a@b", "c@d")


def test_userinfo_unsafe_characters_are_encoded() -> None:
    url = URL.parse("http://us er[1]:p w:x@h/")
    assert url.username == "us%20er%5B1%5D"
    assert url.password == "p%20w:x"
    assert url.auth == ("us er[1]", "p w:x")
    assert "@" not in str(url)[: str(url).rfind("@")]


def test_auth_decoding() -> None:
    assert URL.parse("http://h/").auth is None
    assert URL.parse("http://@h/").auth is None
    assert str(URL.parse("http://@h/")) == "http://h/"
    assert URL.parse("http://user@h/").auth == ("user", "")
    assert URL.parse("http://:@h/").auth == ("", "")
    assert URL.parse("http://%C3%BCser:p%3Aw%ZZ@h/").auth == ("üser", "p:w%ZZ")
    assert URL.parse("http://üser:pässword@h/").auth == ("üser", "pässword")
    assert URL.parse("http://üser@h/").username == "%C3%BCser"


_fresh = itertools.count()


def calls_parsing(text: str) -> int:
    """How many functions (Python and C, counted with sys.setprofile) URL.parse calls on ``text``: a
    measure of its work that, unlike a stopwatch, does not depend on the machine. The fewer of two runs, so
    that a one-time cost (a regex compiled on first use) is not counted; each run gets a host name of its
    own for "HOST", so no answer comes from URL.parse's cache."""
    return min(_calls_parsing(text.replace("HOST", f"host{next(_fresh)}.example")) for _ in range(2))


def _calls_parsing(text: str) -> int:
    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        URL.parse(text)
    except InvalidURL:
        pass
    finally:
        sys.setprofile(previous)
    return calls


def test_ten_thousand_at_signs_parse_in_constant_calls() -> None:
    url = URL.parse("http://" + "@" * 10_000 + "host.example/")
    assert url.host == "host.example"
    assert url.username == "%40" * 9_999
    # One rfind finds the last '@' and one regex substitution encodes the run: the same calls for 100 '@' as
    # for 10 000. A loop over the '@'s making any call per step would add thousands. (Work inside one C call,
    # such as a regex that backtracks, is not counted: the code has none that could grow quadratically.)
    few = calls_parsing("http://" + "@" * 100 + "HOST/")
    many = calls_parsing("http://" + "@" * 10_000 + "HOST/")
    assert few > 10
    assert abs(many - few) <= 5, (few, many)


def test_ten_thousand_at_colon_pairs_refused_in_linear_calls() -> None:
    with pytest.raises(InvalidURL):
        URL.parse("http://" + "@:" * 10_000)
    # The password "@:@:...@" is encoded one '@' at a time (':' may stay): the calls grow by the same
    # amount per pair from 1 000 to 10 000 pairs as from 100 to 1 000; quadratic work would grow 10x faster.
    small, medium, large = (calls_parsing("http://" + "@:" * count) for count in (100, 1_000, 10_000))
    assert medium > small
    assert abs((large - medium) - 10 * (medium - small)) <= 10, (small, medium, large)


def test_error_messages_mask_passwords() -> None:
    with pytest.raises(InvalidURL) as info:
        URL.parse("http://user:hunter2@h:99999/")
    assert "hunter2" not in str(info.value)
    assert "user:***@h:99999" in str(info.value)


def test_error_messages_are_bounded_and_escaped() -> None:
    with pytest.raises(InvalidURL) as info:
        URL.parse("http://h\r\nX-Injected: 1/" + "a" * 5000)
    message = str(info.value)
    assert "\r" not in message
    assert "\n" not in message
    assert len(message) < 400
    for text in ("localhost:8080/\r\nX: 1", "example.com/\r\nX: 1"):
        with pytest.raises(MissingSchema) as missing:
            URL.parse(text)
        assert "\r" not in str(missing.value)
        assert "Perhaps" not in str(missing.value)


# --- authority: backslash, empty host, bad characters ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "http://evil.example\\@good.example/",
        "http://good.example\\evil.example/",
        "http://\\\\evil.example/",
        "http://user\\:pw@h/",
        "http://h:80\\/",
    ],
)
def test_backslash_in_authority_is_rejected(text: str) -> None:
    with pytest.raises(InvalidURL, match="backslash"):
        URL.parse(text)


def test_backslash_after_authority_is_encoded() -> None:
    assert URL.parse("http://h/a\\b").path == "/a%5Cb"


@pytest.mark.parametrize(
    "text",
    ["http:///p", "http:////host", "http:////host/x", "http://:80/", "https://", "http://@/", "socks5://"],
)
def test_empty_host_is_rejected(text: str) -> None:
    with pytest.raises(InvalidURL, match="No host supplied"):
        URL.parse(text)


def test_file_urls_may_have_an_empty_host() -> None:
    url = URL.parse("file:///etc/hosts")
    assert url.host == ""
    assert str(url) == "file:///etc/hosts"


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("a b", "' '"),
        ("a\x00b", "'\\x00'"),
        ("a\rb", "'\\r'"),
        ("a\nb", "'\\n'"),
        ("a\tb", "'\\t'"),
        ("a\x7fb", "'\\x7f'"),
        ("a<b", "'<'"),
        ("a>b", "'>'"),
        ("a^b", "'^'"),
        ("a|b", "'|'"),
        ('a"b', "'\"'"),
        ("a{b", "'{'"),
        ("a}b", "'}'"),
        ("a`b", "'`'"),
        ("a%41b", "'%'"),
        ("a]b", "']'"),
    ],
)
def test_forbidden_characters_in_host(host: str, shown: str) -> None:
    with pytest.raises(InvalidURL) as info:
        URL.parse(f"http://{host}/")
    assert f"invalid character {shown} in host" in str(info.value)


@pytest.mark.parametrize("host", [".example.com", "a..b", ".", "*.example.com", "*"])
def test_empty_labels_and_wildcards_are_rejected(host: str) -> None:
    with pytest.raises(InvalidURL, match="Invalid host"):
        URL.parse(f"http://{host}/")


def test_host_is_lower_cased_and_trailing_dot_is_kept() -> None:
    assert URL.parse("http://WWW.Example.COM/").host == "www.example.com"
    url = URL.parse("http://example.com./")
    assert url.host == "example.com."
    assert url.host_header == "example.com."
    assert url.origin != URL.parse("http://example.com/").origin


def test_ipv4_kept_as_written() -> None:
    assert URL.parse("http://127.0.0.1:8080/").host == "127.0.0.1"
    assert URL.parse("http://0x7F.1/").host == "0x7f.1"
    assert URL.parse("http://017.0.0.1/").host == "017.0.0.1"


def test_sub_delimiters_and_underscore_allowed_in_host() -> None:
    assert URL.parse("http://my_host.internal/").host == "my_host.internal"
    assert URL.parse("http://a-b.c/").host == "a-b.c"


# --- IDNA -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("http://bücher.example/", "xn--bcher-kva.example"),
        ("http://BÜCHER.example/", "xn--bcher-kva.example"),
        ("http://faß.de/", "xn--fa-hia.de"),  # IDNA 2008: not mapped to "fass"
        ("http://ｅｘａｍｐｌｅ.com/", "example.com"),  # UTS #46 maps fullwidth letters
        ("http://bücher.example./", "xn--bcher-kva.example."),
        ("http://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("http://XN--BCHER-KVA.example/", "xn--bcher-kva.example"),
        ("http://a\u3002b.example/", "a.b.example"),  # ideographic full stop is a label separator
    ],
)
def test_idna(text: str, host: str) -> None:
    assert URL.parse(text).host == host


@pytest.mark.parametrize(
    "host",
    [
        "☃.example",  # symbols are disallowed in IDNA 2008
        "١.com",  # bidi rule
        "ü" * 64 + ".com",  # label too long
        "bücher..example",
        "ü x.example",
        "ü\ud800.example",
        "ü" * 2000,
    ],
)
def test_bad_idna_is_invalid_url(host: str) -> None:
    with pytest.raises(InvalidURL, match=r"IDNA|too long"):
        URL.parse(f"http://{host}/")


@pytest.mark.parametrize(
    "host", ["xn--a.example", "xn--.example", "xn--ls8h.la", "xn--x-.example", "xn--" + "a" * 70]
)
def test_ascii_xn_labels_must_be_valid_idna(host: str) -> None:
    with pytest.raises(InvalidURL, match="IDNA"):
        URL.parse(f"http://{host}/")


@pytest.mark.parametrize(
    "host",
    [
        "evil.example\uff0f.good.example",  # fullwidth solidus maps to "/"
        "evil.example\uff1fx",  # fullwidth question mark maps to "?"
        "evil\uff20good.example",  # fullwidth commercial at maps to "@"
        "ex\u2100ample",  # "a/c" compatibility character
    ],
)
def test_idna_mapping_cannot_smuggle_delimiters(host: str) -> None:
    with pytest.raises(InvalidURL):
        URL.parse(f"http://{host}/")


# --- IPv6 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "shown"),
    [
        ("http://[::1]/", "::1", "http://[::1]/"),
        ("http://[0:0:0:0:0:0:0:1]:8080/", "::1", "http://[::1]:8080/"),
        ("http://[2001:DB8::A]/", "2001:db8::a", "http://[2001:db8::a]/"),
        ("http://[2001:db8:0:0:1:0:0:1]/", "2001:db8::1:0:0:1", "http://[2001:db8::1:0:0:1]/"),
        ("http://[::ffff:192.0.2.1]/", "::ffff:c000:201", "http://[::ffff:c000:201]/"),
        ("http://[fe80::1%25eth0]/", "fe80::1%25eth0", "http://[fe80::1%25eth0]/"),
        ("http://[fe80::1%eth0]/", "fe80::1%25eth0", "http://[fe80::1%25eth0]/"),
        ("http://[fe80::1%25En%2F0]:81/", "fe80::1%25En%2F0", "http://[fe80::1%25En%2F0]:81/"),
    ],
)
def test_ipv6_forms(text: str, host: str, shown: str) -> None:
    url = URL.parse(text)
    assert url.host == host
    assert str(url) == shown


def test_ipv6_zone_is_not_sent_in_host_header() -> None:
    url = URL.parse("http://[fe80::1%25eth0]:8080/")
    assert url.host_header == "[fe80::1]:8080"
    assert url.origin == ("http", "fe80::1%25eth0", 8080)


@pytest.mark.parametrize(
    "text",
    [
        "http://[::g]/",
        "http://[1:2:3:4:5:6:7:8:9]/",
        "http://[127.0.0.1]/",
        "http://[v1.fe]/",
        "http://[::1/",
        "http://[::1]x/",
        "http://[::1]:x/",
        "http://[::1]::80/",
        "http://[fe80::1%25%]/",
        "http://[fe80::1%]/",
        "http://[fe80::1%25e th]/",
        "http://::1/",
        "http://[]/",
    ],
)
def test_bad_ipv6_literals(text: str) -> None:
    with pytest.raises(InvalidURL):
        URL.parse(text)


# --- port -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("http://h:8080/", 8080),
        ("http://h:0080/", 80),
        ("http://h:00000000000000000000443/", 443),
        ("http://h:65535/", 65535),
        ("http://h:1/", 1),
        ("http://h:/", None),
        ("http://h/", None),
    ],
)
def test_ports(text: str, port: int | None) -> None:
    assert URL.parse(text).port == port


def test_leading_zero_port_normalised_in_str() -> None:
    assert str(URL.parse("http://h:0080/")) == "http://h:80/"
    assert str(URL.parse("http://h:/")) == "http://h/"


@pytest.mark.parametrize(
    "port", ["0", "000", "65536", "99999", "-1", "+80", "8o", "80a", " 80", "८०", "१", "1" * 5000, "80:81"]
)
def test_bad_ports(port: str) -> None:
    with pytest.raises(InvalidURL, match="Invalid port"):
        URL.parse(f"http://h:{port}/")


# --- path, query, fragment ------------------------------------------------------------------------


def test_crlf_and_space_in_path_and_query_are_encoded() -> None:
    url = URL.parse("http://h/a b\r\nHost: evil?q=x y\r\nX: 1#f g\r\n")
    assert url.path == "/a%20b%0D%0AHost:%20evil"
    assert url.query == "q=x%20y%0D%0AX:%201"
    assert url.fragment == "f%20g"
    for text in (url.target, url.host_header, str(url)):
        assert not any(c in text for c in " \r\n\t\x00")


def test_controls_del_and_unsafe_ascii_are_encoded() -> None:
    url = URL.parse('http://h/\x00\x01\x1f\x7f"<>\\^`{|}')
    assert url.path == "/%00%01%1F%7F%22%3C%3E%5C%5E%60%7B%7C%7D"


def test_non_ascii_encoded_as_utf8() -> None:
    url = URL.parse("http://h/café/日本?q=ü#ß")
    assert url.path == "/caf%C3%A9/%E6%97%A5%E6%9C%AC"
    assert url.query == "q=%C3%BC"
    assert url.fragment == "%C3%9F"


def test_existing_escapes_not_double_encoded_and_case_kept() -> None:
    url = URL.parse("http://h/a%20b%2fc%c3%A9?x=%41%2B")
    assert url.path == "/a%20b%2fc%c3%A9"
    assert url.query == "x=A%2B"  # the escape of a letter is the letter (RFC 3986 section 6.2.2.2)


def test_lone_percent_becomes_percent_25() -> None:
    url = URL.parse("http://h/100%?a=%zz&b=%4&c=%#%")
    assert url.path == "/100%25"
    assert url.query == "a=%25zz&b=%254&c=%25"
    assert url.fragment == "%25"


def test_plus_and_reserved_characters_kept() -> None:
    text = "http://h/a+b;c=d,e:f@g!$&'()*[]?x=a+b&y=/?:@!$'()*,;=[]#frag/?#x"
    url = URL.parse(text)
    assert str(url) == text


def test_dot_segments_removed_from_path() -> None:
    assert URL.parse("http://h/a/b/../c/./d").path == "/a/c/d"
    assert URL.parse("http://h/../../x").path == "/x"
    assert URL.parse("http://h/a/..").path == "/"
    assert URL.parse("http://h/a/%2e%2e/b").path == "/a/%2e%2e/b"  # an escaped dot is not a dot
    assert URL.parse("http://h/a?x=/../y").query == "x=/../y"  # queries are left alone


def test_lone_surrogate_is_invalid() -> None:
    with pytest.raises(InvalidURL, match="surrogate"):
        URL.parse("http://h/\ud800")


def test_requote() -> None:
    assert requote("a b/c?d", safe="/") == "a%20b/c%3Fd"
    assert requote("a%20b%zz") == "a%20b%25zz"
    assert requote(requote("x y%")) == requote("x y%")
    assert requote("é") == "%C3%A9"


# --- with_params ----------------------------------------------------------------------------------


def test_with_params_dict_into_existing_query() -> None:
    url = URL.parse("http://h/p?a=1#f").with_params({"b": "x y", "c": "é&="})
    assert url.query == "a=1&b=x+y&c=%C3%A9%26%3D"
    assert url.fragment == "f"
    assert url.target == "/p?a=1&b=x+y&c=%C3%A9%26%3D"


def test_with_params_lists_and_none() -> None:
    url = URL.parse("http://h/").with_params({"k": ["1", "2"], "gone": None, "n": 3})
    assert url.query == "k=1&k=2&n=3"


def test_with_params_pairs() -> None:
    url = URL.parse("http://h/").with_params([("a", "1"), ("a", "2"), ("b", None)])
    assert url.query == "a=1&a=2"


def test_with_params_str_and_bytes() -> None:
    base = URL.parse("http://h/?x=1")
    assert base.with_params("y=2 3&z=%41").query == "x=1&y=2%203&z=A"
    assert base.with_params(b"y=\xe9\r\n").query == "x=1&y=%E9%0D%0A"
    assert base.with_params("a=#b").query == "x=1&a=%23b"


def test_with_params_bare_question_mark() -> None:
    assert URL.parse("http://h/?").with_params({"a": "1"}).query == "a=1"


@pytest.mark.parametrize("params", [None, {}, [], "", b"", {"a": None}])
def test_with_empty_params_returns_self(params: object) -> None:
    url = URL.parse("http://h/?x=1")
    assert url.with_params(params) is url  # type: ignore[arg-type]


# --- copy_with, without_auth, without_fragment ----------------------------------------------------


def test_copy_with_replaces_and_revalidates() -> None:
    url = URL.parse("http://u:p@h:8080/a?q#f")
    assert str(url.copy_with(scheme="HTTPS", port=None)) == "https://u:p@h/a?q#f"
    assert str(url.copy_with(host="Bücher.example")) == "http://u:p@xn--bcher-kva.example:8080/a?q#f"
    assert str(url.copy_with(host="::1")) == "http://u:p@[::1]:8080/a?q#f"
    assert str(url.copy_with(host="[::1]")) == "http://u:p@[::1]:8080/a?q#f"
    assert str(url.copy_with(path="x y?#", query=None, fragment=None)) == "http://u:p@h:8080/x%20y%3F%23"
    assert str(url.copy_with(query="a#b", fragment="c d")) == "http://u:p@h:8080/a?a%23b#c%20d"
    assert str(url.copy_with(username="a@b:c", password=None)) == "http://a%40b%3Ac@h:8080/a?q#f"
    assert str(url.copy_with(path="")) == "http://u:p@h:8080/?q#f"


@pytest.mark.parametrize(
    "changes",
    [
        {"host": "evil.example/x"},
        {"host": "a b"},
        {"host": "evil@good"},
        {"host": ""},
        {"port": 0},
        {"port": 70000},
        {"port": True},
        {"port": "80"},
        {"scheme": "ht tp"},
        {"scheme": "http:"},
    ],
)
def test_copy_with_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidURL):
        URL.parse("http://h/").copy_with(**changes)  # type: ignore[arg-type]


def test_copy_with_unknown_field() -> None:
    with pytest.raises(TypeError):
        URL.parse("http://h/").copy_with(netloc="x")  # type: ignore[call-arg]


def test_without_auth_and_fragment() -> None:
    url = URL.parse("https://u:p@h/x?y#z")
    assert str(url.without_auth()) == "https://h/x?y#z"
    assert url.without_auth().auth is None
    assert str(url.without_fragment()) == "https://u:p@h/x?y"
    plain = URL.parse("https://h/")
    assert plain.without_auth() is plain
    assert plain.without_fragment() is plain


# --- join (RFC 3986 section 5.4) ------------------------------------------------------------------

BASE = "http://a/b/c/d;p?q"

RFC_NORMAL = [
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g/"),  # RFC: "http://g"; brisk normalises the empty path to "/"
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
]

RFC_ABNORMAL = [
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g#s/./x"),
    ("g#s/../x", "http://a/b/c/g#s/../x"),
    ("http:g", "http://a/b/c/g"),  # the backward-compatible reading, as browsers
]


@pytest.mark.parametrize(("reference", "expected"), RFC_NORMAL + RFC_ABNORMAL)
def test_join_rfc3986_examples(reference: str, expected: str) -> None:
    assert str(URL.parse(BASE).join(reference)) == expected


def test_join_opaque_reference_is_kept_with_no_host() -> None:
    joined = URL.parse(BASE).join("g:h")  # RFC result "g:h": no host to fetch (a redirect there is refused)
    assert (str(joined), joined.host) == ("g:h", "")


def test_join_absolute_and_scheme_relative() -> None:
    base = URL.parse("https://u:p@a.example:8443/x/y?q#f")
    assert str(base.join("http://B.example/z")) == "http://b.example/z"
    assert str(base.join("//c.example/z")) == "https://c.example/z"
    assert str(base.join("HTTPS://d.example")) == "https://d.example/"
    assert str(base.join("/z")) == "https://u:p@a.example:8443/z"
    assert str(base.join("  /z\r\n")) == "https://u:p@a.example:8443/z"


def test_join_encodes_and_validates() -> None:
    base = URL.parse("http://a/b/")
    assert str(base.join("c d\r\n?e f#g h")) == "http://a/b/c%20d%0D%0A?e%20f#g%20h"
    assert str(base.join("\\\\evil.example/x")) == "http://a/b/%5C%5Cevil.example/x"
    with pytest.raises(InvalidURL):
        base.join("//evil.example\\@good.example/")
    with pytest.raises(InvalidURL):
        base.join("http:////evil.example/")


def test_join_from_host_with_empty_path() -> None:
    assert str(URL.parse("http://a").join("g")) == "http://a/g"


# --- hot-path budget: no heavy imports ------------------------------------------------------------


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, brisk._core.url as u\n"
        "u.URL.parse('http://127.0.0.1:8080/json?a=1').target\n"
        "heavy = [m for m in ('urllib.parse', 'ipaddress', 'idna') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("::ffff:192.0.2.1", "::ffff:c000:201"),  # Python 3.13's ipaddress writes ::ffff:192.0.2.1
        ("::192.0.2.1", "::c000:201"),
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),  # the longest run of zero groups
        ("1:0:0:1:0:0:1:1", "1::1:0:0:1:1"),  # the first of equal runs
        ("1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"),  # a single zero group stays
        ("0:0:0:0:0:0:0:0", "::"),
    ],
)
def test_ipv6_has_one_text_form_on_every_python(literal: str, expected: str) -> None:
    """RFC 5952 in hexadecimal groups, as browsers write it, whatever the interpreter's ipaddress does."""
    assert URL.parse(f"http://[{literal}]/").host == expected
