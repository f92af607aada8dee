"""``brisk.testing.MockTransport``: responses from a function or a table, through the session's normal flows
(redirects, cookies, hooks, raise_for_status), with ``Session`` and ``AsyncSession`` alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

import brisk
import brisk.testing
from brisk.testing.mock import MockTransport
from servers.clients import Client


def echo(request: brisk.PreparedRequest) -> brisk.Response:
    body = request.body if isinstance(request.body, bytes) else b""
    return brisk.Response(
        200,
        json={
            "method": request.method,
            "url": request.url,
            "headers": dict(request.headers),
            "body": body.decode(),
        },
    )


def test_handler_answers_and_requests_are_recorded(client_factory: Callable[..., Client]) -> None:
    mock = MockTransport(echo)
    client = client_factory(transport=mock)
    r = client.post("https://api.example/items?page=2", json={"name": "Ada"}, headers={"X-Trace": "1"})
    assert r.status_code == 200
    data = r.json()
    assert data["method"] == "POST"
    assert data["url"] == "https://api.example/items?page=2"
    assert data["headers"]["X-Trace"] == "1"
    assert json.loads(data["body"]) == {"name": "Ada"}
    assert r.url == "https://api.example/items?page=2"
    assert r.request is mock.requests[0]
    assert [(p.method, p.url) for p in mock.requests] == [("POST", "https://api.example/items?page=2")]


def test_redirects_and_cookies_go_through_the_flow(client_factory: Callable[..., Client]) -> None:
    mock = MockTransport(
        routes={
            "/login": brisk.Response(302, headers={"Location": "/home", "Set-Cookie": "sid=abc; Path=/"}),
            "/home": lambda request: brisk.Response(200, json={"cookie": request.headers.get("cookie")}),
        }
    )
    client = client_factory(transport=mock)
    r = client.get("https://app.example/login")
    assert r.json() == {"cookie": "sid=abc"}
    assert [h.status_code for h in r.history] == [302]
    assert r.url == "https://app.example/home"
    assert [p.url for p in mock.requests] == ["https://app.example/login", "https://app.example/home"]
    assert client.cookies.get("sid") == "abc"
    again = client.get("https://app.example/login")  # the table's response serves every request
    assert again.json() == {"cookie": "sid=abc"}
    not_followed = client.get("https://app.example/login", allow_redirects=False)
    assert not_followed.status_code == 302
    assert not_followed.is_redirect


def test_credentials_are_dropped_on_a_redirect_to_another_host(client_factory: Callable[..., Client]) -> None:
    mock = MockTransport(
        routes={
            "https://a.example/start": brisk.Response(307, headers={"Location": "https://b.example/end"}),
            "https://b.example/end": lambda request: {"auth": request.headers.get("authorization")},
        }
    )
    r = client_factory(transport=mock).get("https://a.example/start", auth=("ada", "pw"))
    assert r.json() == {"auth": None}
    assert mock.requests[0].headers["Authorization"].startswith("Basic ")


def test_raise_for_status_and_unmatched_routes(client_factory: Callable[..., Client]) -> None:
    client = client_factory(transport=MockTransport(routes={("GET", "/ok"): 204}))
    assert client.get("http://x.example/ok").status_code == 204
    missing = client.get("http://x.example/missing")
    assert missing.status_code == 404
    assert "no route for GET http://x.example/missing" in missing.text
    with pytest.raises(brisk.HTTPError, match="404 Client Error"):
        missing.raise_for_status()
    assert client.post("http://x.example/ok").status_code == 404  # the route is for GET only


def test_route_keys_and_values(client_factory: Callable[..., Client]) -> None:
    mock = MockTransport(
        routes={
            "https://h.example/full": "by URL",
            "/search?q=a": "with the query",
            "/search": "without the query",
            ("DELETE", "/items/1"): 202,
            "/bytes": b"\x00\x01",
            "/list": [1, 2],
        },
    )
    client = client_factory(transport=mock)
    assert client.get("https://h.example/full").text == "by URL"
    assert client.get("https://h.example/search?q=a").text == "with the query"
    assert client.get("https://h.example/search?q=b").text == "without the query"
    assert client.delete("https://h.example/items/1").status_code == 202
    assert client.get("https://h.example/bytes").content == b"\x00\x01"
    assert client.get("https://h.example/list").json() == [1, 2]


def test_a_template_response_gives_each_request_its_trailers_and_facts(
    client_factory: Callable[..., Client],
) -> None:
    template = brisk.Response(200, text="ok")
    template.trailers = {"grpc-status": "0"}
    template.connection_info = brisk.ConnectionInfo(("127.0.0.1", 443), ("127.0.0.1", 50000), "TLSv1.3")
    client = client_factory(transport=MockTransport(routes={"/": template}))
    first, second = client.get("https://h.example/"), client.get("https://h.example/")
    assert first.trailers["grpc-status"] == "0"
    assert first.trailers is not second.trailers  # each response its own copy
    assert first.connection_info is template.connection_info
    assert client.get("https://h.example/other").connection_info is None  # 404: no facts


def test_handler_as_fallback_of_the_table(client_factory: Callable[..., Client]) -> None:
    mock = MockTransport(lambda request: brisk.Response(200, text="fallback"), routes={"/a": "table"})
    client = client_factory(transport=mock)
    assert client.get("http://h.example/a").text == "table"
    assert client.get("http://h.example/b").text == "fallback"


def test_hooks_run_on_mocked_responses(client_factory: Callable[..., Client]) -> None:
    seen: list[int] = []

    def hook(response: brisk.Response, **kwargs: Any) -> None:
        seen.append(response.status_code)

    client = client_factory(transport=MockTransport(routes={"/": 201}), hooks={"response": [hook]})
    client.get("http://h.example/")
    assert seen == [201]


def test_status_retries_go_through_the_mock(client_factory: Callable[..., Client]) -> None:
    answers = iter([503, 503, 200])
    mock = MockTransport(lambda request: brisk.Response(next(answers), headers={"Retry-After": "0"}))
    client = client_factory(transport=mock)
    r = client.get("http://h.example/", retries=brisk.Retry(3, status_forcelist=[503]))
    assert r.status_code == 200
    assert len(mock.requests) == 3


def test_async_handler_with_async_session() -> None:
    async def handler(request: brisk.PreparedRequest) -> brisk.Response:
        await asyncio.sleep(0)
        return brisk.Response(201, json={"method": request.method})

    mock = MockTransport(handler)

    async def main() -> Any:
        async with brisk.AsyncSession(transport=mock) as session:
            return (await session.put("https://api.example/x", data=b"raw")).json()

    assert asyncio.run(main()) == {"method": "PUT"}
    assert mock.requests[0].body == b"raw"


def test_async_handler_refuses_a_sync_session() -> None:
    async def handler(request: brisk.PreparedRequest) -> brisk.Response:
        return brisk.Response(200)

    with (
        brisk.Session(transport=MockTransport(handler)) as session,
        pytest.raises(TypeError, match="AsyncSession"),
    ):
        session.get("http://h.example/")


def test_a_handler_must_answer_a_response() -> None:
    with brisk.Session(transport=MockTransport(lambda request: None)) as session, pytest.raises(TypeError):
        session.get("http://h.example/")


def test_exceptions_from_the_handler_reach_the_caller() -> None:
    def refuse(request: brisk.PreparedRequest) -> brisk.Response:
        raise brisk.ConnectionError(f"mocked failure for {request.url}")

    with brisk.Session(transport=MockTransport(refuse), retries=0) as session:
        with pytest.raises(brisk.ConnectionError, match="mocked failure"):
            session.get("http://h.example/")


def test_lazy_name_in_brisk_testing() -> None:
    assert brisk.testing.MockTransport is MockTransport
    with pytest.raises(AttributeError):
        _ = brisk.testing.Nothing  # type: ignore[attr-defined]
