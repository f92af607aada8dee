"""The HTTP cache against a real server on loopback (hypercorn serving a scripted app), sync and async:
what reaches the server (counted), what the client gets, and an SQLite cache shared by two processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk.testing.server import ServerThread

MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
FRESH = [("Cache-Control", "max-age=600"), ("ETag", '"v1"')]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_fresh_hit_sends_nothing(
    scripted_server: ServerThread, client_factory: Callable[..., Any], store: str, tmp_path: Path
) -> None:
    app = scripted_server.app
    app.script("/r", (200, FRESH, b"payload"))
    client = client_factory(cache=True if store == "memory" else tmp_path / "c.sqlite")
    first = client.get(scripted_server.url + "/r")
    assert (client.read(first), first.cache_status) == (b"payload", "miss")
    second = client.get(scripted_server.url + "/r")
    assert (client.read(second), second.cache_status, second.from_cache) == (b"payload", "hit", True)
    assert int(second.headers["Age"]) >= 0
    assert app.count("/r") == 1


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_revalidation_sends_the_validator_and_serves_the_stored_body_on_304(
    scripted_server: ServerThread, client_factory: Callable[..., Any], store: str, tmp_path: Path
) -> None:
    app = scripted_server.app
    app.script(
        "/v",
        (200, [("Cache-Control", "no-cache"), ("ETag", '"v1"'), ("Last-Modified", MODIFIED)], b"stored body"),
        (304, [("ETag", '"v1"')], b""),
    )  # fmt: skip
    client = client_factory(cache=True if store == "memory" else tmp_path / "c.sqlite")
    assert client.read(client.get(scripted_server.url + "/v")) == b"stored body"
    again = client.get(scripted_server.url + "/v")
    assert (again.status_code, client.read(again), again.cache_status) == (200, b"stored body", "revalidated")
    _, headers = app.seen["/v"][1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == MODIFIED
    assert app.count("/v") == 2


def test_vary_and_streamed_bodies(
    scripted_server: ServerThread, client_factory: Callable[..., Any], tmp_path: Path
) -> None:
    app = scripted_server.app
    app.script(
        "/lang",
        lambda method, headers: (200, [("Cache-Control", "max-age=600"), ("Vary", "Accept-Language")],
                                 headers.get("accept-language", "none").encode() * 1000),
    )  # fmt: skip
    client = client_factory(cache=tmp_path / "c.sqlite")  # the SQLite store spools a streamed body
    url = scripted_server.url + "/lang"
    streamed = client.get(url, headers={"Accept-Language": "en"}, stream=True)
    assert b"".join(client.chunks(streamed, 100)) == b"en" * 1000
    other = client.get(url, headers={"Accept-Language": "fr"})
    assert client.read(other)[:2] == b"fr"
    hit = client.get(url, headers={"Accept-Language": "en"})
    assert (client.read(hit)[:2], hit.cache_status) == (b"en", "hit")
    assert app.count("/lang") == 2


def test_a_post_invalidates(scripted_server: ServerThread, client_factory: Callable[..., Any]) -> None:
    app = scripted_server.app
    app.script("/items", lambda method, headers: (200 if method == "GET" else 201, FRESH, method.encode()))
    client = client_factory(cache=True)
    url = scripted_server.url + "/items"
    client.read(client.get(url))
    client.read(client.get(url))
    assert app.count("/items") == 1
    client.read(client.post(url, data=b"x"))
    refetched = client.get(url)
    assert (client.read(refetched), refetched.cache_status) == (b"GET", "miss")
    assert app.count("/items") == 3


def test_no_store_and_a_session_without_cache(
    scripted_server: ServerThread, client_factory: Callable[..., Any]
) -> None:
    app = scripted_server.app
    app.script("/n", (200, [("Cache-Control", "no-store")], b"x"))
    app.script("/f", (200, FRESH, b"x"))
    cached = client_factory(cache=True)
    plain = client_factory()
    for _ in range(2):
        assert cached.get(scripted_server.url + "/n").from_cache is False
        response = plain.get(scripted_server.url + "/f")
        assert (response.from_cache, response.cache_status) == (False, None)
    assert app.count("/n") == 2
    assert app.count("/f") == 2


def test_redirects_are_cached_hop_by_hop(
    scripted_server: ServerThread, client_factory: Callable[..., Any]
) -> None:
    app = scripted_server.app
    app.script(
        "/old", (301, [("Location", "/new")], b"")
    )  # 301: heuristically cacheable, but no Last-Modified
    app.script("/moved", (301, [("Location", "/new"), ("Cache-Control", "max-age=600")], b""))
    app.script("/new", (200, FRESH, b"here"))
    client = client_factory(cache=True)
    for _ in range(2):
        response = client.get(scripted_server.url + "/moved")
        assert client.read(response) == b"here"
    assert (app.count("/moved"), app.count("/new")) == (1, 1)
    assert response.history[0].from_cache


SHARED = """
import sys
import brisk
cache = brisk.Cache(sys.argv[1])
with brisk.Session(cache=cache) as session:
    response = session.get(sys.argv[2])
    print(response.cache_status, response.content.decode())
cache.close()
"""


def test_an_sqlite_cache_is_shared_by_processes(scripted_server: ServerThread, tmp_path: Path) -> None:
    app = scripted_server.app
    app.script("/shared", (200, FRESH, b"from the server"))
    path = str(tmp_path / "shared.sqlite")
    url = scripted_server.url + "/shared"
    script = textwrap.dedent(SHARED)
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, path, url], capture_output=True, text=True, timeout=60, check=True
        )
        for _ in range(2)
    ]
    assert [run.stdout.strip() for run in runs] == ["miss from the server", "hit from the server"]
    # and two processes writing at once both finish, the file intact
    both = [
        subprocess.Popen(
            [sys.executable, "-c", script, path, f"{url}?n={n}"], stdout=subprocess.PIPE, text=True
        )
        for n in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in both]
    assert all(output.startswith("miss") for output in outputs)
    with brisk.Session(cache=brisk.Cache(path)) as session:
        assert len(session.cache) == 3
        assert session.get(url).cache_status == "hit"
        session.cache.close()
    assert app.count("/shared") == 3


def test_credential_bound_responses_are_not_reused(
    scripted_server: ServerThread, client_factory: Callable[..., Any]
) -> None:
    app = scripted_server.app
    app.script("/authz", (200, FRESH, b"for ada only"))
    app.script("/cookie", (200, [*FRESH, ("Set-Cookie", "session=ada")], b"page"))
    shared = brisk.Cache()
    ada = client_factory(cache=shared)
    bob = client_factory(cache=shared)
    for _ in range(2):
        assert ada.read(ada.get(scripted_server.url + "/authz", auth=("ada", "pw"))) == b"for ada only"
    assert app.count("/authz") == 2  # Authorization without public/s-maxage/must-revalidate: never stored
    ada.read(ada.get(scripted_server.url + "/cookie"))
    hit = bob.get(scripted_server.url + "/cookie")
    assert hit.from_cache
    assert "set-cookie" not in hit.headers
    assert not bob.cookies  # ada's cookie never reaches bob's jar
    assert ada.cookies["session"] == "ada"


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_one_cache_serves_many_threads(scripted_server: ServerThread, tmp_path: Path, store: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app = scripted_server.app
    for n in range(4):
        app.script(f"/t{n}", (200, FRESH, f"body {n}".encode() * 100))
    with brisk.Session(cache=True if store == "memory" else tmp_path / "c.sqlite") as session:
        urls = [f"{scripted_server.url}/t{i % 4}" for i in range(200)]
        with ThreadPoolExecutor(8) as pool:
            bodies = list(pool.map(lambda url: session.get(url).content, urls))
        assert bodies == [f"body {i % 4}".encode() * 100 for i in range(200)]
        # each URL reached the server at most once per thread that missed it before the first store
        assert all(1 <= app.count(f"/t{n}") <= 8 for n in range(4))
        assert len(session.cache) == 4
