"""A plain call to a URL called before reuses the request prepared then (``SessionCalls._prepare_plain``).

The request is copied only while nothing it was made from has changed. Each test makes one plain call,
changes one thing, and checks on the wire that the next plain call honours it. The first test checks that
the copy is really taken, so that the others test the copy and not a fresh request.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

import brisk
from brisk._session.calls import SessionCalls
from servers.app_server import ServerThread
from servers.clients import Client


def sent_headers(client: Client, url: str) -> dict[str, str]:
    return {k.lower(): v for k, v in client.get(url + "/headers").json()["headers"].items()}


def test_a_second_plain_call_copies_the_first_request(
    client: Client, app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[str] = []
    original = SessionCalls._prepare

    def counting(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        prepared.append(url)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(SessionCalls, "_prepare", counting)
    first = client.get(app_server.url + "/get")
    second = client.get(app_server.url + "/get")
    assert prepared == [app_server.url + "/get"], "the second call was prepared afresh"
    assert first.request is not second.request
    assert first.request.headers is not second.request.headers
    assert first.request.hooks is not second.request.hooks
    assert dict(first.request.headers) == dict(second.request.headers)
    assert list(first.request.headers.items()) == list(second.request.headers.items())  # the order too
    assert second.request.hooks == first.request.hooks == brisk.hooks.default_hooks()
    assert second.request.url == app_server.url + "/get"
    client.head(app_server.url + "/get")
    assert prepared[-1] == app_server.url + "/get", "another method has a plan of its own"


def test_reading_the_netrc_seam_keeps_the_plans(
    client: Client, app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading requests.sessions.get_netrc_auth (libraries do) puts brisk's own function in the namespace;
    # only a replaced one means credentials must be looked up on every call.
    assert brisk.sessions.get_netrc_auth is not None
    client.get(app_server.url + "/get")
    prepare = SessionCalls._prepare
    monkeypatch.setattr(SessionCalls, "_prepare", lambda *a, **k: pytest.fail("prepared afresh"))
    assert client.get(app_server.url + "/get").status_code == 200
    monkeypatch.setattr(SessionCalls, "_prepare", prepare)


def test_a_request_changed_by_its_caller_leaves_the_next_alone(
    client: Client, app_server: ServerThread
) -> None:
    first = client.get(app_server.url + "/headers")
    first.request.headers["X-Mine"] = "only-once"
    first.request.hooks["response"].append(lambda r, **kw: None)
    second = client.get(app_server.url + "/headers")
    assert "x-mine" not in {k.lower() for k in second.json()["headers"]}
    assert second.request.hooks == {"request": [], "response": []}


@pytest.mark.parametrize("change", ["set", "replace value", "delete", "assign dict", "unset"])
def test_session_header_changes_show(client: Client, app_server: ServerThread, change: str) -> None:
    session = client.session
    session.headers["X-Team"] = "blue"
    assert sent_headers(client, app_server.url)["x-team"] == "blue"
    if change == "set":
        session.headers["X-Other"] = "1"
    elif change == "replace value":
        session.headers["X-Team"] = "red"
    elif change == "delete":
        del session.headers["X-Team"]
    elif change == "assign dict":
        session.headers = {"X-Team": "green"}
    else:
        session.headers["User-Agent"] = None
    sent = sent_headers(client, app_server.url)
    expected = {
        "set": "blue",
        "replace value": "red",
        "delete": None,
        "assign dict": "green",
        "unset": "blue",
    }
    assert sent.get("x-team") == expected[change]
    assert ("x-other" in sent) is (change == "set")
    assert ("user-agent" in sent) is (change not in ("unset", "assign dict"))


def test_session_params_added_show(client: Client, app_server: ServerThread) -> None:
    assert client.get(app_server.url + "/get").json()["args"] == {}
    client.session.params["page"] = "2"
    assert client.get(app_server.url + "/get").json()["args"] == {"page": "2"}


def test_session_auth_set_shows(client: Client, app_server: ServerThread) -> None:
    assert "authorization" not in sent_headers(client, app_server.url)
    client.session.auth = ("alice", "secret")
    assert sent_headers(client, app_server.url)["authorization"].startswith("Basic ")


def test_a_cookie_put_in_the_jar_shows(client: Client, app_server: ServerThread) -> None:
    assert "cookie" not in sent_headers(client, app_server.url)
    client.session.cookies.set("flavour", "oat")
    assert sent_headers(client, app_server.url)["cookie"] == "flavour=oat"


def test_a_replaced_netrc_seam_is_asked(
    client: Client, app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests' seam: code (and requests' own tests) replace requests.sessions.get_netrc_auth
    assert "authorization" not in sent_headers(client, app_server.url)
    monkeypatch.setattr(brisk.sessions, "get_netrc_auth", lambda url, raise_errors=False: ("bob", "pw"))
    assert sent_headers(client, app_server.url)["authorization"].startswith("Basic ")


def test_trust_env_turned_off_shows(
    client: Client, app_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(brisk.sessions, "get_netrc_auth", lambda url, raise_errors=False: ("bob", "pw"))
    assert "authorization" in sent_headers(client, app_server.url)
    client.session.trust_env = False
    assert "authorization" not in sent_headers(client, app_server.url)


def test_a_session_header_moved_to_the_end_moves_on_the_wire(client: Client, raw_server: Any) -> None:
    # Headers go out in the order the session holds them; the plan must not keep an older order.
    server = raw_server()
    client.get(server.url)
    user_agent = client.session.headers.pop("User-Agent")
    client.session.headers["User-Agent"] = user_agent
    client.get(server.url)
    first, second = ([name.lower() for name, _ in r.headers] for r in server.requests)
    assert first.index("user-agent") < first.index("accept")
    assert second.index("user-agent") > second.index("accept")


class Reader:
    """A file-like body with only read(): its length is unknown, so it goes chunked."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)


# (method, the body's options, made afresh for each call: a generator or a reader is read once)
BODIES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("POST", lambda: {"json": {"id": 1, "tags": ["a", "b"]}}),
    ("POST", lambda: {"data": {"q": "a b", "n": ["1", "2"]}}),
    ("PUT", lambda: {"data": b"raw bytes"}),
    ("PATCH", lambda: {"data": "text \u00e9"}),
    ("POST", lambda: {"files": {"f": ("a.txt", b"hello")}, "data": {"k": "v"}}),
    ("POST", lambda: {"data": None, "json": None}),  # s.post(url): a POST without a body
    ("DELETE", lambda: {"json": [1, 2]}),
    ("POST", lambda: {"data": (chunk for chunk in (b"abc", b"def"))}),  # unknown length: chunked
    ("PUT", lambda: {"data": Reader(b"read by the transport")}),
    ("POST", lambda: {"data": io.BytesIO(b"a file of known size")}),
]


@pytest.mark.parametrize(
    ("method", "body"), BODIES, ids=[f"{m} {i} {sorted(b())}" for i, (m, b) in enumerate(BODIES)]
)
def test_a_call_with_only_a_body_copies_the_plan_and_sends_what_a_fresh_request_sends(
    client_factory: Any,
    raw_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    body: Callable[[], dict[str, Any]],
) -> None:
    """The second call of each (method, URL) is a copy of the plan made by the first, with its body
    prepared; on the wire it must be byte for byte what the first call (prepared in full) sent."""
    server = raw_server()
    client = client_factory(headers={"X-Team": "blue"})
    prepared: list[str] = []
    original = SessionCalls._prepare

    def counting(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        prepared.append(url)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(SessionCalls, "_prepare", counting)
    for _ in range(3):
        client.request(method, server.url.rstrip("/") + "/x", **body())
    assert len(prepared) == 2, "the first call prepares its request, and a plan; the others copy the plan"
    first, *others = server.requests
    assert len(others) == 2
    boundary = first.header("content-type").split("boundary=")[-1] if "files" in body() else None
    for other in others:
        raw = other.raw
        if boundary:  # a multipart body has a new random boundary each time
            raw = raw.replace(other.header("content-type").split("boundary=")[-1].encode(), boundary.encode())
        assert raw == first.raw
