"""brisk's runner for the HTTP cache test suite (https://github.com/http-tests/cache-tests, the scenarios
browsers and CDNs report against), for brisk's private cache (``Session(cache=...)``).

The scenarios are the suite's own, dumped as data into ``cache_tests/scenarios.json`` (BSD 3-Clause, see
``cache_tests/LICENSE``; ``cache_tests/dump.mjs`` made it). This file re-implements, in Python, what the
suite's engine does around them: an origin server on loopback that answers each request of a scenario as
its configuration says (magic dates relative to the server's clock, ``Server-Request-Count``, a 304 only
when the expected validator arrives, ``disconnect``, interim responses) and records what it received; and
a client that sends the requests through one brisk ``Session`` with its own in-memory cache per scenario,
then applies the engine's checks (response type, status, headers, body, then what the server saw).

The scenarios run are those the suite runs against browsers (a browser's HTTP cache is a private cache):
not ``browser_skip``, not ``cdn_only``. Mapping of fetch() options: ``redirect: "manual"`` is
``allow_redirects=False``; ``cache: "no-cache"`` is a ``Cache-Control: max-age=0`` request header (what
browsers send for it). Interim
responses (1xx) are read and skipped by brisk, never shown: those scenarios fail here.

    python tests/conformance/cache_tests_runner.py            # summary, and each failure
    python tests/conformance/cache_tests_runner.py --id ID    # one scenario, with the requests
"""

from __future__ import annotations

import argparse
import copy
import json
import socket
import sys
import threading
import time
import uuid as uuid_module
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "cache_tests"
PAUSE = 3.0  # the engine's pause_after
NO_BODY = {204, 304}
DATE_HEADERS = {"date", "expires", "last-modified", "if-modified-since", "if-unmodified-since"}
LOCATION_HEADERS = {"location", "content-location"}
SKIPPED_RESPONSE_HEADERS = {"date"}
RFC850_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def load_scenarios() -> list[dict[str, Any]]:
    data = json.loads((HERE / "scenarios.json").read_text())
    return [
        test
        for suite in data["suites"]
        for test in suite["tests"]
        if not test.get("browser_skip") and not test.get("cdn_only")
    ]


def browser_results() -> dict[str, dict[str, Any]]:
    return json.loads((HERE / "browsers.json").read_text())["browsers"]  # type: ignore[no-any-return]


# -- dates and magic headers (the engine's lib/utils.mjs httpDate, lib/header-fixup.mjs) ---------------------


def http_date(now_ms: float, delta: int, rfc850: bool = False) -> str:
    instant = now_ms / 1000 + delta
    if not rfc850:
        return formatdate(int(instant), usegmt=True)
    t = time.gmtime(int(instant))
    return f"{RFC850_DAYS[t.tm_wday]}, {t.tm_mday:02d}-{time.strftime('%b', t)}-{t.tm_year % 100:02d} " \
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"  # fmt: skip


def fixup(header: list[Any], response_headers: dict[str, str], config: dict[str, Any]) -> list[Any]:
    name = header[0].lower()
    if name in DATE_HEADERS and isinstance(header[1], int) and not isinstance(header[1], bool):
        now = float(response_headers.get("server-now", "0"))
        header[1] = http_date(now, header[1], name in config.get("rfc850date", ()))
    if name in LOCATION_HEADERS and config.get("magic_locations"):
        base = response_headers.get("server-base-url", "")
        header[1] = f"{base}/{header[1]}" if header[1] else base
    return header


# -- the origin (the engine's server/handle-test.mjs) -------------------------------------------------------


class Origin:
    """Scenario configurations by uuid, and what the server received for each (its "stash")."""

    def __init__(self) -> None:
        self.configs: dict[str, list[dict[str, Any]]] = {}
        self.stash: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_any(self) -> None:
        origin: Origin = self.server.origin
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        parts = path.split("/")
        if len(parts) < 3 or parts[1] != "test" or parts[2] not in origin.configs:
            self.send_simple(404, b"no such test")
            return
        uuid = parts[2]
        requests = origin.configs[uuid]
        with origin.lock:
            state = origin.stash.setdefault(uuid, [])
            server_num = len(state) + 1
        client_num = int(self.headers.get("req-num") or 0)
        number = client_num or server_num
        if not 0 < number <= len(requests):
            self.send_simple(409, b"config not found for this request")
            return
        config = requests[number - 1]
        previous = requests[number - 2] if number >= 2 else {}
        if "response_pause" in config:
            time.sleep(config["response_pause"])
        now_ms = time.time() * 1000
        for interim in config.get("interim_responses", []):
            status, headers = interim[0], interim[1] if len(interim) > 1 else []
            lines = [f"HTTP/1.1 {status} Interim\r\n"] + [f"{n}: {v}\r\n" for n, v in headers] + ["\r\n"]
            self.wfile.write("".join(lines).encode("latin-1"))
        status, reason = config.get("response_status", [200, "OK"])
        if config.get("expected_type", "").endswith("validated"):
            previous_headers = {h[0].lower(): h[1] for h in previous.get("response_headers", [])}
            lm, etag = previous_headers.get("last-modified"), previous_headers.get("etag")
            status, reason = 999, "304 Not Generated"
            if (lm and self.headers.get("if-modified-since") == lm) or (
                etag and self.headers.get("if-none-match") == etag
            ):
                status, reason = 304, "Not Modified"
        headers: list[list[str]] = [
            ["Server-Base-Url", self.path],
            ["Server-Request-Count", str(server_num)],
            ["Client-Request-Count", str(client_num)],
            ["Server-Now", str(int(now_ms))],
        ]
        seen = {h[0].lower(): h[1] for h in headers}
        saved: dict[str, Any] = {}
        for given in config.get("response_headers", []):  # fixed up in place, as the engine does: a later
            header = fixup(given, seen, config)  # request's 304 compares with the dates this one sent
            name, value = header[0], str(header[1])
            headers.append([name, value])
            key = name.lower()
            if key in seen:
                joined = seen[key]
                seen[key] = [*joined, value] if isinstance(joined, list) else [joined, value]  # type: ignore[assignment]
            else:
                seen[key] = value
            if len(header) < 3 or header[2] is True:
                saved[name] = seen[key]  # after joining, as node's getHeader() gives it
        if "content-type" not in seen:
            headers.append(["Content-Type", "text/plain"])
        with origin.lock:
            state.append({
                "request_num": client_num,
                "request_method": self.command,
                "request_headers": {k.lower(): v for k, v in self.headers.items()},
                "response_headers": list(saved.items()),
            })  # fmt: skip
            numbers = " ".join(str(item["request_num"]) for item in state)
        headers.append(["Request-Numbers", numbers])
        if config.get("disconnect"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = b"" if status in NO_BODY else (config.get("response_body") or uuid).encode()
        if "date" not in seen:
            headers.append(["Date", formatdate(now_ms / 1000, usegmt=True)])
        chunked = "transfer-encoding" in seen  # as node does when the app sets it
        if status not in NO_BODY and not chunked and "content-length" not in seen:
            headers.append(["Content-Length", str(len(body))])
        head = [f"HTTP/1.1 {status} {reason}\r\n"] + [f"{n}: {v}\r\n" for n, v in headers] + ["\r\n"]
        self.wfile.write("".join(head).encode("latin-1"))
        if self.command != "HEAD" and status not in NO_BODY:
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if chunked else body)

    def send_simple(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_any


setattr(Handler, "do_M-SEARCH", Handler.do_any)


@contextmanager
def origin_server() -> Iterator[tuple[str, Origin]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.origin = Origin()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.origin  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# -- the client and its checks (the engine's client/test.mjs) ----------------------------------------------


class Failed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def check(config: dict[str, Any], member: str, condition: bool, message: str) -> None:
    if not condition:
        setup = config.get("setup") is True or member in config.get("setup_tests", ())
        raise Failed("Setup" if setup else "Assertion", message)


def run_scenario(test: dict[str, Any], base: str, origin: Origin, verbose: bool = False) -> tuple[str, str]:
    """("pass", "") or (kind of failure, message)."""
    import brisk

    requests = copy.deepcopy(test["requests"])
    uuid = str(uuid_module.uuid4())
    origin.configs[uuid] = requests
    responses: list[Any] = []
    try:
        with brisk.Session(cache=True, retries=0) as session:
            for index, config in enumerate(requests):
                response = send(session, base, uuid, index, config, responses)
                if verbose:
                    print(f"  request {index + 1}: {response.status_code} {response.cache_status} "
                          f"{dict(response.headers)}")  # fmt: skip
                responses.append(response)
                check_response(uuid, index, config, response)
                if config.get("pause_after"):
                    time.sleep(PAUSE)
        check_server(requests, responses, origin.stash.get(uuid, []))
    except Failed as failure:
        return failure.kind, str(failure)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return "pass", ""


def send(session: Any, base: str, uuid: str, index: int, config: dict[str, Any], responses: list[Any]) -> Any:
    url = f"{base}/test/{uuid}"
    if "filename" in config:
        url += "/" + config["filename"]
    if "query_arg" in config:
        url += "?" + config["query_arg"]
    headers: list[tuple[str, str]] = []
    for given in copy.deepcopy(config.get("request_headers", [])):
        header = given
        if config.get("magic_ims") and header[0].lower() == "if-modified-since" and responses:
            header = fixup(given, {k.lower(): v for k, v in responses[-1].headers.items()}, config)
        headers.append((header[0], str(header[1])))
    if config.get("cache") == "no-cache":  # fetch()'s cache mode: browsers send this and validate
        headers.append(("Cache-Control", "max-age=0"))
    headers += [("Test-ID", config.get("id", "")), ("Req-Num", str(index + 1))]
    merged: dict[str, str] = {}
    for name, value in headers:  # repeated names are joined, as fetch() joins them
        key = next((k for k in merged if k.lower() == name.lower()), name)
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    response = session.request(
        config.get("request_method", "GET"),
        url,
        headers=merged,
        data=config.get("request_body"),
        allow_redirects=config.get("redirect") != "manual",
        timeout=10,
    )
    response.content  # noqa: B018 (read the body: a stored response is stored once read)
    return response


def check_response(uuid: str, index: int, config: dict[str, Any], response: Any) -> None:
    number = index + 1
    headers = response.headers
    served = int(headers.get("server-request-count") or "0") or None
    numbers = headers.get("request-numbers")
    if numbers:
        items = numbers.split(" ")
        check(config, "", len(items) == len(set(items)), "retry")
    expected_type = config.get("expected_type")
    if expected_type == "cached" and not (response.status_code == 304 and served is None):
        check(config, "expected_type", served is not None and served < number,
              f"Response {number} does not come from cache")  # fmt: skip
    if expected_type == "not_cached":
        check(config, "expected_type", served == number, f"Response {number} comes from cache")
    status = response.status_code
    if "expected_status" in config:
        if config["expected_status"] is not None:
            check(config, "expected_status", status == config["expected_status"],
                  f"Response {number} status is {status}, not {config['expected_status']}")  # fmt: skip
    elif "response_status" in config:
        check({"setup": True}, "", status == config["response_status"][0],
              f"Response {number} status is {status}, not {config['response_status'][0]}")  # fmt: skip
    elif status == 999:
        check(
            config, "expected_type", False, f"Request {number} should have been conditional, but it was not."
        )
    else:
        check({"setup": True}, "", status == 200, f"Response {number} status is {status}, not 200")
    lowered = {k.lower(): v for k, v in headers.items()}
    for header in copy.deepcopy(config.get("expected_response_headers", [])):
        if isinstance(header, str):
            check(config, "expected_response_headers", header.lower() in lowered,
                  f"Response {number} {header} header not present.")  # fmt: skip
        elif len(header) > 2:
            value = lowered.get(header[0].lower())
            check(config, "expected_response_headers", value is not None,
                  f"Response {number} {header[0]} header not present.")  # fmt: skip
            if header[1] == "=":
                ok = value == lowered.get(header[2].lower())
            else:
                try:
                    ok = int(value or "") > header[2]
                except ValueError:
                    ok = False
            check(config, "expected_response_headers", ok,
                  f"Response {number} header {header[0]} is {value}, should be {header[1]} "
                  f"{header[2]}")  # fmt: skip
        else:
            expected = fixup(header, lowered, config)[1]
            value = lowered.get(header[0].lower())
            check(config, "expected_response_headers", value == expected,
                  f'Response {number} header {header[0]} is "{value}", not "{expected}"')  # fmt: skip
    for header in config.get("expected_response_headers_missing", []):
        if isinstance(
            header, str
        ):  # (the engine's two-item form checks nothing: fetch's Headers has no [name])
            check(config, "expected_response_headers_missing", header.lower() not in lowered,
                  f"Response {number} includes unexpected header {header}")  # fmt: skip
    if "expected_interim_responses" in config:
        check(config, "expected_interim_responses", False, "brisk does not show interim (1xx) responses")
    body = response.content.decode("utf-8", "replace")
    if config.get("check_body") is False:
        return
    if "expected_response_text" in config:
        if config["expected_response_text"] is not None:
            check(config, "expected_response_text", body == config["expected_response_text"],
                  f'Response body is "{body}", not "{config["expected_response_text"]}"')  # fmt: skip
    elif config.get("response_body") is not None:
        check({"setup": True}, "", body == config["response_body"],
              f'Response body is "{body}", not "{config["response_body"]}"')  # fmt: skip
    elif status not in NO_BODY and config.get("request_method") != "HEAD":
        check({"setup": True}, "", body == uuid, f'Response body is "{body}", not "{uuid}"')


def check_server(requests: list[dict[str, Any]], responses: list[Any], state: list[dict[str, Any]]) -> None:
    seen_index = 0
    for index, config in enumerate(requests):
        number = index + 1
        response = responses[index]
        request = state[seen_index] if seen_index < len(state) else None
        expected_type = config.get("expected_type")
        validators = []
        if expected_type == "cached":
            continue
        if expected_type == "not_cached":
            check(config, "expected_type", request is not None and request["request_num"] == number,
                  f"Response {number} comes from cache")  # fmt: skip
        if expected_type == "etag_validated":
            validators.append("if-none-match")
        if expected_type == "lm_validated":
            validators.append("if-modified-since")
        seen_index += 1
        for name in validators:
            check(config, "expected_type", request is not None, f"request {number} wasn't sent to server")
            check(config, "expected_type", name in request["request_headers"],  # type: ignore[index]
                  f"request {number} doesn't have {name} header")  # fmt: skip
        got = {} if request is None else request["request_headers"]
        for header in config.get("expected_request_headers", []):
            if isinstance(header, str):
                check(config, "expected_request_headers", header.lower() in got,
                      f"Request {number} {header} header not present.")  # fmt: skip
            else:
                value = got.get(header[0].lower())
                check(config, "expected_request_headers", value == header[1],
                      f'Request {number} header {header[0]} is "{value}", not "{header[1]}"')  # fmt: skip
        for header in config.get("expected_request_headers_missing", []):
            if isinstance(header, str):
                check(config, "expected_request_headers_missing", header.lower() not in got,
                      f"Request {number} {header} header present.")  # fmt: skip
            else:
                check(config, "expected_request_headers_missing", got.get(header[0].lower()) != header[1],
                      f'Request {number} header {header[0]} is "{header[1]}"')  # fmt: skip
        if request is not None:
            for name, value in request["response_headers"]:
                if name.lower() in SKIPPED_RESPONSE_HEADERS:
                    continue
                expected = ", ".join(value) if isinstance(value, list) else value
                received = response.headers.get(name)
                check({"setup": True}, "", received == expected,
                      f'Response {number} header {name} is "{received}", not "{expected}"')  # fmt: skip
        if "expected_method" in config:
            method = None if request is None else request["request_method"]
            check(config, "expected_method", method == config["expected_method"],
                  f"Request {number} had method {method}, not {config['expected_method']}")  # fmt: skip


def run_suite(
    only: str | None = None, workers: int = 48, verbose: bool = False
) -> dict[str, tuple[str, str]]:
    """Run the scenarios (those browsers run, or the one named): {test id: (outcome, message)}."""
    tests = [test for test in load_scenarios() if only is None or test["id"] == only]
    with origin_server() as (base, origin), ThreadPoolExecutor(workers) as pool:
        outcomes = pool.map(lambda test: run_scenario(test, base, origin, verbose), tests)
        return {test["id"]: outcome for test, outcome in zip(tests, outcomes, strict=True)}


def summary(results: dict[str, tuple[str, str]]) -> str:
    kinds = {test["id"]: test.get("kind", "required") for test in load_scenarios()}
    ids = set(results)
    lines = [f"{'client':<24}{'passed':>8}{'required':>10}   of {len(ids)} scenarios (required: "
             f"{sum(kinds[i] == 'required' for i in ids)})"]  # fmt: skip

    def row(name: str, passed: set[str]) -> str:
        required = sum(kinds[i] == "required" for i in passed)
        return f"{name:<24}{len(passed):>8}{required:>10}"

    lines.append(row("brisk", {i for i, (outcome, _) in results.items() if outcome == "pass"}))
    for name, browser in browser_results().items():
        lines.append(
            row(f"{name} {browser['version'].split('.')[0]}", {i for i in ids if browser["results"].get(i)})
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--id", help="run one scenario, showing each response")
    parser.add_argument("--json", help="write {id: [outcome, message]} to this file")
    args = parser.parse_args()
    results = run_suite(args.id, verbose=bool(args.id))
    for test_id, (outcome, message) in sorted(results.items()):
        if outcome != "pass":
            print(f"FAIL {test_id}: {outcome}: {message}")
    print(summary(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
