"""RFC 9111's decisions as pure functions (``brisk._cache.policy``, ``brisk._cache.control``): no store, no
socket, clocks passed in."""

from __future__ import annotations

import pytest

from brisk._cache import policy
from brisk._cache.control import age_seconds, delta_seconds, parse_cache_control, parse_http_date
from brisk._cache.policy import FRESH, STALE_OK, VALIDATE, Entry

NOW = 1_700_000_000.0
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # NOW as an HTTP date


def entry(
    *headers: tuple[str, str], status: int = 200, request_time: float = NOW, response_time: float = NOW
) -> Entry:
    return Entry("http://a.test/", status, "OK", "HTTP/1.1", list(headers), (), request_time, NOW)


def test_http_dates_in_the_three_forms() -> None:
    assert parse_http_date(DATE) == NOW
    assert parse_http_date("Tuesday, 14-Nov-23 22:13:20 GMT") == NOW
    assert parse_http_date("Tue Nov 14 22:13:20 2023") == NOW
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None
    for invalid in (
        "Tue, 14 Nov 2023 22:13:20 UTC",
        "Tue, 14 Nov 23 22:13:20 GMT",
        "Tue 14 Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 2:13:20 GMT",
        "Tue, 14-Nov-2023 22:13:20 GMT",
        "Tue,  14 Nov 2023 22:13:20 GMT",
    ):
        assert parse_http_date(invalid) is None, invalid


def test_cache_control_directives() -> None:
    found = parse_cache_control(['max-age="60", No-Cache', 'private, community="UCI"'])
    assert found == {"max-age": "60", "no-cache": None, "private": None, "community": "UCI"}
    assert parse_cache_control(["max-age=1, max-age=2"])["max-age"] == "1"  # the first counts
    assert delta_seconds("60") == 60
    assert delta_seconds("-1") is None
    assert delta_seconds("1.5") is None
    assert delta_seconds("99999999999") == 2**31


def test_max_age_wins_over_expires() -> None:
    stored = entry(("Date", DATE), ("Expires", parse_date_plus(3600)), ("Cache-Control", "max-age=10"))
    assert policy.freshness_lifetime(stored, stored.directives()) == 10


def parse_date_plus(seconds: int) -> str:
    from email.utils import formatdate

    return formatdate(NOW + seconds, usegmt=True)


def test_expires_counts_from_date_and_a_bad_expires_is_expired() -> None:
    stored = entry(("Date", DATE), ("Expires", parse_date_plus(300)))
    assert policy.freshness_lifetime(stored, {}) == 300
    assert policy.freshness_lifetime(entry(("Date", DATE), ("Expires", "0")), {}) == 0
    assert policy.freshness_lifetime(entry(("Cache-Control", "max-age=abc")), {"max-age": "abc"}) == 0


def test_heuristic_freshness_is_a_tenth_of_the_last_modified_age_for_heuristic_statuses_only() -> None:
    modified = parse_date_plus(-10_000)
    assert policy.freshness_lifetime(entry(("Date", DATE), ("Last-Modified", modified)), {}) == 1000
    assert policy.freshness_lifetime(entry(("Date", DATE), ("Last-Modified", modified), status=302), {}) == 0
    ancient = entry(("Date", DATE), ("Last-Modified", "Mon, 01 Jan 1990 00:00:00 GMT"))
    assert policy.freshness_lifetime(ancient, {}) == policy.HEURISTIC_MAX


def test_age_follows_rfc_9111_section_4_2_3() -> None:
    # sent at NOW-2, received at NOW, the server said Age: 10 and its Date is NOW-5: apparent age 5,
    # corrected age 10 + 2 (the response delay): 12; resident for 30 s since: 42
    stored = entry(("Date", parse_date_plus(-5)), ("Age", "10"), request_time=NOW - 2)
    assert policy.current_age(stored, NOW + 30) == pytest.approx(42)
    assert policy.age_header(41.9) == "41"
    assert age_seconds("7200, 0") == age_seconds("7200;foo=bar") == 7200
    assert age_seconds("abc") is None
    assert age_seconds("7200.0") is None
    assert parse_http_date("tue, 14 nov 2023 22:13:20 gmt") == NOW


@pytest.mark.parametrize(
    ("response_cc", "request_cc", "age", "expected"),
    [
        ("max-age=100", {}, 50, FRESH),
        ("max-age=100", {}, 150, VALIDATE),
        ("max-age=100, no-cache", {}, 0, VALIDATE),
        ("max-age=100", {"no-cache": None}, 0, VALIDATE),
        ("max-age=100", {"max-age": "10"}, 50, VALIDATE),
        ("max-age=100", {"min-fresh": "60"}, 50, VALIDATE),
        ("max-age=100", {"min-fresh": "40"}, 50, FRESH),
        ("max-age=100", {"max-stale": None}, 5000, STALE_OK),
        ("max-age=100", {"max-stale": "60"}, 150, STALE_OK),
        ("max-age=100", {"max-stale": "10"}, 150, VALIDATE),
        ("max-age=100, must-revalidate", {"max-stale": None}, 150, VALIDATE),
    ],
)
def test_verdict(response_cc: str, request_cc: dict[str, str | None], age: float, expected: str) -> None:
    stored = entry(("Date", DATE), ("Cache-Control", response_cc))
    assert policy.verdict(stored, request_cc, NOW + age)[0] == expected


@pytest.mark.parametrize(
    ("status", "headers", "request_cc", "authorized", "expected"),
    [
        (200, {"cache-control": "max-age=60"}, {}, False, True),
        (200, {"cache-control": "max-age=60, no-store"}, {}, False, False),
        (200, {"cache-control": "max-age=60"}, {"no-store": None}, False, False),
        (200, {"cache-control": "private"}, {}, False, True),  # a private cache stores private
        (200, {}, {}, False, False),  # nothing says it may be reused
        (200, {"last-modified": DATE}, {}, False, True),  # heuristically cacheable
        (302, {"last-modified": DATE}, {}, False, False),  # not heuristically cacheable
        (302, {"cache-control": "max-age=60"}, {}, False, True),
        (206, {"cache-control": "max-age=60"}, {}, False, False),  # partial: not assembled
        (599, {"cache-control": "max-age=60"}, {}, False, True),  # any final status with explicit freshness
        (599, {"last-modified": DATE}, {}, False, False),
        (200, {"cache-control": "max-age=60", "vary": "*"}, {}, False, False),
        (200, {"cache-control": "max-age=60"}, {}, True, False),  # Authorization: only when shared allowed
        (200, {"cache-control": "max-age=60, public"}, {}, True, True),
        (200, {"cache-control": "max-age=60, must-revalidate"}, {}, True, True),
        (200, {"cache-control": "s-maxage=60, max-age=60"}, {}, True, True),
        (200, {"cache-control": "s-maxage=60"}, {}, False, False),  # s-maxage is for shared caches
    ],
)
def test_storable(
    status: int, headers: dict[str, str], request_cc: dict[str, str | None], authorized: bool, expected: bool
) -> None:
    response_cc = parse_cache_control([headers.get("cache-control", "")])
    assert policy.storable("GET", status, response_cc, request_cc, headers, authorized) is expected


def test_only_get_is_stored() -> None:
    assert not policy.storable("POST", 200, {"max-age": "60"}, {}, {}, False)
    assert not policy.storable("HEAD", 200, {"max-age": "60"}, {}, {}, False)


def test_pragma_is_not_read() -> None:  # RFC 9111 §5.4 deprecates it
    assert policy.request_directives([]) == {}


def test_must_understand_stores_understood_statuses_despite_no_store() -> None:
    directives = {"must-understand": None, "no-store": None, "max-age": "60"}
    assert policy.storable("GET", 200, directives, {}, {}, False)
    assert not policy.storable("GET", 299, directives, {}, {}, False)
    assert policy.storable(
        "GET", 299, {"max-age": "60"}, {}, {}, False
    )  # explicit freshness: any final status


def test_a_qualified_no_cache_hides_its_fields_instead_of_forcing_validation() -> None:
    stored = entry(("Date", DATE), ("Cache-Control", 'max-age=60, no-cache="X-Secret"'), ("X-Secret", "1"))
    assert policy.verdict(stored, {}, NOW)[0] == FRESH
    assert [name for name, _ in policy.serving_headers(stored, stored.directives())] == [
        "Date",
        "Cache-Control",
    ]


def test_vary_secondary_key() -> None:
    key = policy.vary_key(["Accept-Encoding, Accept-Language", "accept"], {"accept-language": "en,  fr"})
    assert key == (("accept", None), ("accept-encoding", None), ("accept-language", "en, fr"))
    stored = Entry("u", 200, "", "HTTP/1.1", [], key, NOW, NOW)
    assert policy.vary_matches(stored, {"accept-language": "en, fr"})
    assert not policy.vary_matches(stored, {"accept-language": "de"})
    assert not policy.vary_matches(stored, {"accept-language": "en, fr", "accept": "text/html"})


def test_validators_become_conditional_headers() -> None:
    stored = entry(("ETag", '"v1"'), ("Last-Modified", DATE))
    assert policy.conditional_headers(stored) == [("If-None-Match", '"v1"'), ("If-Modified-Since", DATE)]
    assert policy.conditional_headers(entry()) == []


def test_a_304_updates_the_head_but_not_the_framing() -> None:
    stored = entry(("ETag", '"v1"'), ("Content-Length", "5"), ("Cache-Control", "max-age=1"), ("X-A", "old"))
    not_modified = [
        ("ETag", '"v1"'),
        ("Cache-Control", "max-age=99"),
        ("Content-Length", "0"),
        ("X-B", "new"),
    ]
    assert policy.validates(stored, not_modified)
    merged = policy.merge_304(stored, not_modified, NOW + 5, NOW + 6)
    assert dict(merged.headers) == {
        "ETag": '"v1"', "Content-Length": "5", "X-A": "old", "Cache-Control": "max-age=99", "X-B": "new",
    }  # fmt: skip
    assert (merged.request_time, merged.response_time) == (NOW + 5, NOW + 6)


def test_a_304_for_another_etag_does_not_validate() -> None:
    assert not policy.validates(entry(("ETag", '"v1"')), [("ETag", '"v2"')])
    assert policy.validates(entry(("ETag", 'W/"v1"')), [("ETag", '"v1"')])  # weak comparison


def test_hop_by_hop_and_cookies_are_not_stored() -> None:
    kept = policy.stored_headers(
        [("Connection", "close, X-Hop"), ("X-Hop", "1"), ("Set-Cookie", "a=1"),
         ("Transfer-Encoding", "chunked"), ("ETag", '"x"')]
    )  # fmt: skip
    assert kept == [("ETag", '"x"')]


def test_invalidation_targets_same_origin_only() -> None:
    url = "http://a.test/items"
    assert policy.invalidation_targets(url, 201, "/items/7", "http://b.test/x") == [
        url,
        "http://a.test/items/7",
    ]
    assert policy.invalidation_targets(url, 500, "/items/7", None) == []


def test_stale_if_error_window() -> None:
    stored = entry(("Date", DATE), ("Cache-Control", "max-age=10, stale-if-error=60"))
    assert policy.stale_if_error(stored, {}, NOW + 65)  # 55 s stale
    assert not policy.stale_if_error(stored, {}, NOW + 80)  # 70 s stale
    plain = entry(("Date", DATE), ("Cache-Control", "max-age=10"))
    assert not policy.stale_if_error(plain, {}, NOW + 20)
    assert policy.stale_if_error(plain, {"stale-if-error": "30"}, NOW + 20)  # the request may ask for it
    strict = entry(("Date", DATE), ("Cache-Control", "max-age=10, stale-if-error=60, must-revalidate"))
    assert not policy.stale_if_error(strict, {}, NOW + 20)
