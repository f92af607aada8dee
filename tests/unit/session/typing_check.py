"""The types a user of brisk's sessions sees, checked by mypy, never run: ``test_typing_check_passes_mypy``
runs ``mypy --strict`` on this file (by hand:
``MYPYPATH=src mypy --strict tests/unit/session/typing_check.py``).

``assert_type`` lines state a type; a ``# type: ignore[...]`` line states an error, and strict mode's
``warn_unused_ignores`` fails the check if mypy stops seeing it.
"""

from __future__ import annotations

from typing import assert_type

import brisk


async def async_session_gives_responses(session: brisk.AsyncSession) -> None:
    assert_type(await session.get("https://example.test/", params={"q": "1"}, timeout=5), brisk.Response)
    assert_type(await session.post("https://example.test/", json={"a": 1}), brisk.Response)
    assert_type(await session.request("PATCH", "https://example.test/", data=b"x"), brisk.Response)
    assert_type(await session.head("https://example.test/", allow_redirects=True), brisk.Response)
    prepared = brisk.Request("GET", "https://example.test/").prepare()
    assert_type(await session.send(prepared, stream=True), brisk.Response)
    result = await session.download("https://example.test/f", "f", resume=False, max_resumes=1, timeout=5)
    assert_type(result.total, int)


def session_gives_responses(session: brisk.Session) -> None:
    assert_type(session.get("https://example.test/", timeout=(1.0, 5.0), verify="/ca.pem"), brisk.Response)
    assert_type(session.delete("https://example.test/", retries=brisk.Retry(2)), brisk.Response)
    assert_type(session.put("https://example.test/", b"body", headers={"X": "1"}), brisk.Response)
    done = session.download("https://example.test/f", "f", checksum="sha256:00", progress=lambda d, t: None)
    assert_type(done.resumed, bool)


def api_gives_responses() -> None:
    assert_type(brisk.get("https://example.test/", {"q": "1"}), brisk.Response)
    assert_type(brisk.post("https://example.test/", data={"k": "v"}), brisk.Response)


def wrong_options_are_errors(session: brisk.Session) -> None:
    session.get("https://example.test/", timout=5)  # type: ignore[call-arg]
    session.get("https://example.test/", stream="yes")  # type: ignore[arg-type]
    session.send(brisk.Request("GET", "/").prepare(), params={})  # type: ignore[call-arg]
    brisk.Session(timout=5)  # type: ignore[call-arg]
    session.download("https://example.test/f", "f", resum=False)  # type: ignore[call-arg]
    session.download("https://example.test/f", "f", chunk_size="big")  # type: ignore[arg-type]
