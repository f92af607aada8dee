"""A session's settings table (``brisk._session.settings.SETTINGS``) and what is derived from it: the
constructor, the settings cache's fingerprint, pickling; the keywords ``send`` accepts; the typed request
options. No sockets: requests go to a transport that answers from memory.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import brisk
from brisk._session.options import DOWNLOAD_OPTIONS, FLOW_OPTIONS, PREPARE_OPTIONS, SEND_OPTIONS
from brisk._session.settings import BY_VALUE, NOT_PICKLED, PICKLED, SETTINGS
from brisk._session.types import (
    DownloadOptions,
    GetOptions,
    PostOptions,
    PutOptions,
    RequestOptions,
    SendKeywords,
    SessionSettings,
)
from brisk._transport.base import SendOptions
from brisk.models import PreparedRequest, Response
from brisk.testing.mock import MockTransport

URL = "http://example.test/path"


class Recorder(MockTransport):
    """A MockTransport that also keeps the send options of each request."""

    def __init__(self) -> None:
        super().__init__(lambda request: Response(200, content=b"ok"))
        self.options: list[SendOptions] = []

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        self.options.append(options)
        return super().handle_request(request, options)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        self.options.append(options)
        return super().handle_request(request, options)

    async def aclose(self) -> None:
        self.close()


# -- the table -----------------------------------------------------------------------------------------------


def test_every_setting_is_fingerprinted_or_says_why_not() -> None:
    for setting in SETTINGS:
        assert setting.fingerprint is not None or setting.why, setting.name


def test_the_constructor_keywords_are_the_tables() -> None:
    keywords = {setting.name for setting in SETTINGS if setting.keyword}
    assert keywords == set(SessionSettings.__annotations__)


@pytest.mark.parametrize("kind", [brisk.Session, brisk.AsyncSession])
def test_every_attribute_is_pickled_or_left_behind_on_purpose(kind: Any) -> None:
    session = kind()
    assert set(vars(session)) == PICKLED | NOT_PICKLED
    assert not PICKLED & NOT_PICKLED


def test_an_unknown_constructor_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Session\(\) got unexpected keyword argument 'timout'.*timeout"):
        brisk.Session(timout=3)  # type: ignore[call-arg]


# -- the settings cache: a changed setting is seen by the next request -------------------------------------

#: For each setting in the fingerprint, a change a user makes (assigned, or changed in place).
CHANGES: dict[str, Any] = {
    "auth": lambda s: setattr(s, "auth", ("user", "pass")),
    "cookies": lambda s: setattr(s, "cookies", {"a": "1"}),
    "verify": lambda s: setattr(s, "verify", False),
    "cert": lambda s: setattr(s, "cert", "/client.pem"),
    "tls_min_version": lambda s: setattr(s, "tls_min_version", "TLSv1.3"),
    "tls_max_version": lambda s: setattr(s, "tls_max_version", "TLSv1.2"),
    "ciphers": lambda s: setattr(s, "ciphers", "ECDHE+AESGCM"),
    "pin": lambda s: setattr(s, "pin", "sha256//" + "A" * 43 + "="),
    "proxies": lambda s: s.proxies.__setitem__("ftp", "http://proxy.test:3128"),
    "hooks": lambda s: s.hooks["response"].append(lambda r, **kw: None),
    "timeout": lambda s: setattr(s, "timeout", 3.0),
    "retries": lambda s: setattr(s, "retries", brisk.Retry(7)),
    "max_redirects": lambda s: setattr(s, "max_redirects", 3),
    "trust_env": lambda s: setattr(s, "trust_env", not s.trust_env),
    "http2": lambda s: setattr(s, "http2", False),
    "http3": lambda s: setattr(s, "http3", True),
    "uds": lambda s: setattr(s, "uds", "/run/app.sock"),
    "limits": lambda s: setattr(s, "limits", brisk.Limits(max_connections=3)),
    "stream": lambda s: setattr(s, "stream", True),
    "rate_limit": lambda s: setattr(s, "rate_limit", brisk.RateLimit(100)),
    "cache": lambda s: setattr(s, "cache", True),
    "adapters": lambda s: setattr(s.adapters["http://"], "max_retries", brisk.Retry(2)),
    "resolve": lambda s: s.resolve.__setitem__("example.test", ("127.0.0.1",)),
    "resolver": lambda s: setattr(s, "resolver", lambda host, port: ["127.0.0.1"]),
    "family": lambda s: setattr(s, "family", "ipv4"),
    "local_address": lambda s: setattr(s, "local_address", "127.0.0.2"),
    "happy_eyeballs_delay": lambda s: setattr(s, "happy_eyeballs_delay", None),
    "tcp_keepalive": lambda s: setattr(s, "tcp_keepalive", None),
}


def test_every_fingerprinted_setting_has_a_change_below() -> None:
    assert {setting.name for setting in SETTINGS if setting.fingerprint is not None} == set(CHANGES)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_changed_setting_changes_the_fingerprint(name: str) -> None:
    session = brisk.Session()
    before = session._fingerprint()
    CHANGES[name](session)
    assert session._fingerprint() != before


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_changed_setting_is_seen_by_the_next_request(name: str) -> None:
    session = brisk.Session(trust_env=False)
    prepared = session._prepare("GET", URL, None, None, None, None, None, None, None)
    first = session._settings(prepared)
    assert session._settings(prepared) is first  # a plain call reuses its settings
    CHANGES[name](session)
    assert session._settings(prepared) is not first


def test_a_call_with_options_of_its_own_is_not_cached() -> None:
    session = brisk.Session(trust_env=False)
    prepared = session._prepare("GET", URL, None, None, None, None, None, None, None)
    plain = session._settings(prepared)
    assert session._settings(prepared, {"headers": {"X": "1"}}) is plain  # headers shape the request only
    for option in FLOW_OPTIONS:
        value: Any = {"allow_redirects": False, "timeout": 5.0, "stream": True}.get(option)
        assert session._settings(prepared, {option: value}) is not plain, option  # type: ignore[misc]


def test_timeout_none_given_means_no_timeout() -> None:
    recorder = Recorder()
    with brisk.Session(transport=recorder, timeout=4) as session:
        session.get(URL)
        session.get(URL, timeout=None)
    assert recorder.options[0].timeout.read == 4
    assert recorder.options[1].timeout.read is None


def test_a_change_shows_in_what_is_sent() -> None:
    recorder = Recorder()
    with brisk.Session(transport=recorder, trust_env=False) as session:
        session.get(URL)
        session.timeout = 2.5
        session.get(URL)
    assert recorder.options[0].timeout.read != 2.5
    assert recorder.options[1].timeout.read == 2.5


# -- pickling -----------------------------------------------------------------------------------------------


def test_pickling_keeps_every_setting() -> None:
    session = brisk.Session(
        headers={"X-Mine": "1"}, auth=("u", "p"), params={"q": "1"}, cookies={"c": "2"}, verify=False,
        cert="/c.pem", proxies={"http": "http://proxy.test:1"}, timeout=7, retries=3, max_redirects=4,
        trust_env=False, http2=False, limits=brisk.Limits(max_connections=5), stream=True, rate_limit=9,
        tls_min_version="TLSv1.3", ciphers="ECDHE+AESGCM", pin="sha256//" + "A" * 43 + "=",
    )  # fmt: skip
    session._settings_cache = session._config_cache = None
    copy = pickle.loads(pickle.dumps(session))
    for setting in SETTINGS:
        if setting.name in ("cookies", "adapters", "rate_limit", "hooks", "transport"):
            continue
        assert getattr(copy, setting.stored) == getattr(session, setting.stored), setting.name
    assert copy.cookies.get_dict() == {"c": "2"}
    assert repr(copy.rate_limit) == repr(session.rate_limit)
    assert copy.rate_limit is not session.rate_limit
    assert list(copy.adapters) == list(session.adapters)
    assert copy.hooks == {"request": [], "response": []}
    assert all(getattr(copy, name) is None for name in NOT_PICKLED - {"_settings_version"})
    assert copy._settings_version != session._settings_version  # a fresh number: no cache entry carries over


def test_a_given_transport_travels_with_the_pickle() -> None:
    copy = pickle.loads(pickle.dumps(brisk.Session(transport=MockTransport(routes={"/": 200}))))
    assert isinstance(copy._transport, MockTransport)
    assert copy.get("http://example.test/").status_code == 200


# -- send() and its keywords --------------------------------------------------------------------------------


def test_send_takes_requests_keywords() -> None:
    recorder = Recorder()
    with brisk.Session(transport=recorder) as session:
        prepared = brisk.Request("GET", URL).prepare()
        response = session.send(
            prepared, stream=False, timeout=3, verify=True, cert=None, proxies={}, allow_redirects=False,
            retries=0,
        )  # fmt: skip
    assert response.status_code == 200
    assert recorder.options[0].timeout.read == 3
    assert {"stream", "timeout", "verify", "cert", "proxies", "allow_redirects"} <= SEND_OPTIONS


def test_send_refuses_an_unknown_keyword() -> None:
    with brisk.Session(transport=Recorder()) as session:
        prepared = brisk.Request("GET", URL).prepare()
        with pytest.raises(TypeError, match=r"send\(\) got unexpected keyword argument 'timeuot'") as caught:
            session.send(prepared, timeuot=3)  # type: ignore[call-arg]
    for accepted in ("allow_redirects", "cert", "proxies", "stream", "timeout", "verify"):
        assert accepted in str(caught.value)


def test_async_send_refuses_an_unknown_keyword() -> None:
    async def main() -> None:
        async with brisk.AsyncSession(transport=Recorder()) as session:
            prepared = brisk.Request("GET", URL).prepare()
            with pytest.raises(TypeError, match="unexpected keyword arguments 'a', 'b'"):
                await session.send(prepared, a=1, b=2)  # type: ignore[call-arg]
            assert (await session.send(prepared, timeout=1)).status_code == 200

    asyncio.run(main())


# -- the typed request options ------------------------------------------------------------------------------


def test_the_options_of_the_verbs_are_request_options() -> None:
    every = set(RequestOptions.__annotations__)
    assert every == PREPARE_OPTIONS | FLOW_OPTIONS
    assert not PREPARE_OPTIONS & FLOW_OPTIONS
    assert set(SendKeywords.__annotations__) == SEND_OPTIONS
    assert set(GetOptions.__annotations__) == every - {"params"}
    assert set(PostOptions.__annotations__) == every - {"data", "json"}
    assert set(PutOptions.__annotations__) == every - {"data"}
    assert set(DownloadOptions.__annotations__) == DOWNLOAD_OPTIONS
    assert every < DOWNLOAD_OPTIONS  # every request option, and the download's own


def test_verbs_pass_their_positional_arguments() -> None:
    seen: list[PreparedRequest] = []
    mock = MockTransport(lambda request: seen.append(request) or Response(200))
    with brisk.Session(transport=mock) as session:
        session.get(URL, {"q": "1"})
        session.post(URL, {"f": "v"})
        session.put(URL, b"raw")
        session.head(URL)
    assert seen[0].url == URL + "?q=1"
    assert seen[1].body == "f=v"
    assert seen[2].body == b"raw"
    assert seen[3].method == "HEAD"


def test_typing_check_passes_mypy() -> None:
    """``typing_check.py`` states the types users see (``await s.get(...)`` is a Response, a wrong option
    is an error); mypy must agree with every line of it."""
    pytest.importorskip("mypy")
    here = Path(__file__).parent
    src = here.parents[2] / "src"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11",
         str(here / "typing_check.py")],
        capture_output=True, text=True, env={**os.environ, "MYPYPATH": str(src)}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_assigning_a_setting_compared_by_value_takes_a_new_number() -> None:
    """The fingerprint holds one number for all the settings compared by value: assigning any of them (even
    the value it already has) takes a new, never reused number; other attributes leave it alone."""
    session = brisk.Session()
    other = brisk.Session()
    assert session._settings_version != other._settings_version
    seen = {session._settings_version}
    for name in sorted(BY_VALUE):
        setattr(session, name, getattr(session, name))
        assert session._settings_version not in seen, name
        seen.add(session._settings_version)
    before = session._settings_version
    session.my_own_attribute = 1  # type: ignore[attr-defined]
    session.headers = {"X": "1"}  # read by every request's preparation, not fingerprinted
    assert session._settings_version == before


def test_deleting_a_setting_takes_a_new_number() -> None:
    session = brisk.Session()
    before = session._settings_version
    del session.timeout
    assert session._settings_version != before


def test_a_subclass_whose_setting_is_a_property_is_never_served_from_the_settings_cache() -> None:
    """The property may answer differently without any assignment the session could see."""
    seen: list[float] = []

    class FromConfig(brisk.Session):
        config = {"timeout": 1.0}

        @property  # type: ignore[override]
        def timeout(self) -> float:
            return self.config["timeout"]

        @timeout.setter
        def timeout(self, value: float) -> None:
            pass

    def record(request: PreparedRequest) -> Response:
        return Response(200)

    session = FromConfig(transport=MockTransport(record))
    assert session._fingerprint() is None
    for value in (1.0, 7.0):
        FromConfig.config["timeout"] = value
        settings = session._settings(session.prepare_request(brisk.Request("GET", "http://a.test/")))
        seen.append(settings.options.timeout.read)
    assert seen == [1.0, 7.0]
    assert brisk.Session()._fingerprint() is not None  # a plain session keeps its cache
