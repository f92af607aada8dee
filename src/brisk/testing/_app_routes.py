"""The endpoints of the test application, and the table that routes paths to them.

Every handler takes a :class:`~brisk.testing._http.Request` and returns a
:class:`~brisk.testing._http.Response`; the JSON shapes follow httpbin (``args``, ``headers``, ``data``,
``form``, ``files``, ``json``, ``origin``, ``url``, ``method``). Streaming endpoints live in
:mod:`brisk.testing._app_streams`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import random
import re
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from functools import partial

from brisk.testing import _content
from brisk.testing._app_common import (
    MAX_DELAY,
    Handler,
    echo,
    headers_dict,
    integer,
    status_arg,
)
from brisk.testing._app_streams import (
    CODINGS,
    byte_range,
    drip,
    encoded,
    random_bytes,
    server_sent_events,
    stream_bytes,
    stream_lines,
    upload,
)
from brisk.testing._digest import DigestAuthority, Verdict, canonical_algorithm
from brisk.testing._http import (
    HTTPError,
    Request,
    Response,
    is_field_value,
    is_token,
    json_bytes,
    json_response,
    multi_dict,
    redirect,
    text_response,
)

FAKE_REALM = 'Basic realm="Fake Realm"'
REDIRECT_STATUSES = frozenset({301, 302, 303, 305, 307, 308})
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"

# -- echoes ------------------------------------------------------------------------------------------------


async def get(request: Request) -> Response:
    return json_response(await echo(request))


async def with_body(request: Request) -> Response:
    return json_response(await echo(request, body=True))


async def anything(request: Request) -> Response:
    return json_response(await echo(request, body=True, method=True))


async def headers(request: Request) -> Response:
    return json_response({"headers": headers_dict(request)})


async def user_agent(request: Request) -> Response:
    return json_response({"user-agent": request.header("user-agent")})


async def ip(request: Request) -> Response:
    return json_response({"origin": request.origin})


async def uuid4(request: Request) -> Response:
    return json_response({"uuid": str(uuid.uuid4())})


async def echo_raw_headers(request: Request) -> Response:
    return json_response([[name, value] for name, value in request.headers])


# -- status codes and redirects ----------------------------------------------------------------------------


async def status(request: Request) -> Response:
    choices: list[int] = []
    weights: list[float] = []
    for item in request.params["codes"].split(","):
        text, _, weight = item.partition(":")
        choices.append(status_arg(text.strip()))
        try:
            weights.append(float(weight) if weight else 1.0)
        except ValueError:
            raise HTTPError(400, f"invalid weight {weight!r}") from None
    if not all(math.isfinite(value) and value >= 0 for value in weights) or sum(weights) <= 0:
        raise HTTPError(400, "weights must be finite, not negative, and not all zero")
    code = random.choices(choices, weights)[0]
    if code in REDIRECT_STATUSES:
        return redirect("/redirect/1", code)
    response = Response(code, [("Content-Type", "text/html; charset=utf-8")])
    if code == 401:
        response.headers.append(("WWW-Authenticate", FAKE_REALM))
    elif code == 407:
        response.headers.append(("Proxy-Authenticate", FAKE_REALM))
    elif code == 418:
        response.headers = [("Content-Type", "text/plain; charset=utf-8"), ("X-More-Info", "RFC 2324")]
        response.body = _content.TEAPOT.encode()
    return response


async def delay(request: Request) -> Response:
    seconds = request.params["seconds"]
    try:
        wait = float(seconds)
    except ValueError:
        raise HTTPError(400, f"delay must be a number of seconds, not {seconds!r}") from None
    if not wait >= 0:
        raise HTTPError(400, "delay must not be negative")
    info = await echo(request, body=True)
    await request.sleep(min(wait, MAX_DELAY))
    return json_response(info)


def _hops(request: Request) -> int:
    return integer(request.params["n"], "redirect count", 1, 1000)


async def redirect_n(request: Request) -> Response:
    hops = _hops(request)
    absolute = (request.arg("absolute") or "").lower() == "true"
    base = request.base_url if absolute else ""
    if hops == 1:
        return redirect(f"{base}/get")
    kind = "absolute" if absolute else "relative"
    return redirect(f"{base}/{kind}-redirect/{hops - 1}")


async def relative_redirect(request: Request) -> Response:
    hops = _hops(request)
    return redirect("/get" if hops == 1 else f"/relative-redirect/{hops - 1}")


async def absolute_redirect(request: Request) -> Response:
    hops = _hops(request)
    path = "/get" if hops == 1 else f"/absolute-redirect/{hops - 1}"
    return redirect(request.base_url + path)


async def redirect_to(request: Request) -> Response:
    url = request.arg("url")
    if url is None:
        raise HTTPError(400, "query parameter 'url' is required")
    if not is_field_value(url):
        raise HTTPError(400, "the redirect target contains control characters")
    code = 302
    raw = request.arg("status_code")
    if raw is not None:
        try:
            code = int(raw)
        except ValueError:
            code = 302
        if not 300 <= code < 400:
            code = 302
    return redirect(url, code)


# -- cookies -----------------------------------------------------------------------------------------------


def _cookie_pair(name: str, value: str) -> str:
    if not is_token(name) or not is_field_value(value) or ";" in value:
        raise HTTPError(400, f"invalid cookie {name!r}={value!r}")
    return f"{name}={value}; Path=/"


async def cookies(request: Request) -> Response:
    return json_response({"cookies": request.cookies()})


async def cookies_set(request: Request) -> Response:
    return redirect("/cookies", headers=[("Set-Cookie", _cookie_pair(k, v)) for k, v in request.query])


async def cookies_set_path(request: Request) -> Response:
    header = _cookie_pair(request.params["name"], request.params["value"])
    return redirect("/cookies", headers=[("Set-Cookie", header)])


async def cookies_delete(request: Request) -> Response:
    for name, _ in request.query:
        _cookie_pair(name, "")
    expired = f"; Expires={EPOCH}; Max-Age=0; Path=/"
    return redirect("/cookies", headers=[("Set-Cookie", f"{name}={expired}") for name, _ in request.query])


async def set_cookie_raw(request: Request) -> Response:
    values = [value for name, value in request.query if name == "h"]
    if not all(is_field_value(value) for value in values):
        raise HTTPError(400, "a Set-Cookie value contains control characters")
    return json_response({"set-cookie": values}, headers=[("Set-Cookie", value) for value in values])


# -- authentication ------------------------------------------------------------------------------------------


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


def _basic_ok(request: Request) -> bool:
    credentials = _basic_credentials(request)
    if credentials is None:
        return False
    user_ok = hmac.compare_digest(credentials[0].encode(), request.params["user"].encode())
    return hmac.compare_digest(credentials[1].encode(), request.params["passwd"].encode()) and user_ok


async def basic_auth(request: Request) -> Response:
    if _basic_ok(request):
        return json_response({"authenticated": True, "user": request.params["user"]})
    return Response(401, [("WWW-Authenticate", FAKE_REALM), ("Content-Type", "text/html; charset=utf-8")])


async def hidden_basic_auth(request: Request) -> Response:
    if _basic_ok(request):
        return json_response({"authenticated": True, "user": request.params["user"]})
    return json_response({"error": "not found"}, 404)


async def bearer(request: Request) -> Response:
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Response(401, [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/html; charset=utf-8")])
    return json_response({"authenticated": True, "token": token.strip()})


async def digest_auth(authority: DigestAuthority, request: Request) -> Response:
    params = request.params
    qop = params["qop"] if params["qop"] in ("auth", "auth-int") else None
    algorithm = canonical_algorithm(params.get("algorithm", "MD5"))
    if algorithm is None:
        raise HTTPError(400, f"unsupported digest algorithm {params['algorithm']!r}")
    if qop is None and algorithm.endswith("-sess"):
        raise HTTPError(400, f"{algorithm} needs a qop: its HA1 hashes the client nonce, sent only with qop")
    stale_text = params.get("stale_after", "never")
    stale_after = None if stale_text == "never" else integer(stale_text, "stale_after", 0, 1 << 30)
    verdict = authority.check(
        request.header("authorization"),
        method=request.method,
        uri=request.target,
        user=params["user"],
        password=params["passwd"],
        qop=qop,
        algorithm=algorithm,
        body=await request.body() if qop == "auth-int" else b"",
        stale_after=stale_after,
    )
    if verdict is Verdict.OK:
        return json_response({"authenticated": True, "user": params["user"]})
    challenge = authority.challenge(qop, algorithm, stale=verdict is Verdict.STALE)
    return Response(401, [("WWW-Authenticate", challenge), ("Content-Type", "text/html; charset=utf-8")])


# -- documents, headers and caching -------------------------------------------------------------------------


def document(text: str, content_type: str) -> Handler:
    async def handler(request: Request) -> Response:
        return text_response(text, content_type=content_type)

    return handler


async def json_document(request: Request) -> Response:
    return json_response(_content.JSON_DOCUMENT)


async def response_headers(request: Request) -> Response:
    pairs = list(request.query)
    for name, value in pairs:
        if not is_token(name) or not is_field_value(value):
            raise HTTPError(400, f"invalid header {name!r}: {value!r}")
        if name.lower() in ("content-length", "transfer-encoding"):
            raise HTTPError(400, f"{name} is the server's to set (use the raw server for bad framing)")
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.insert(0, ("Content-Type", "application/json"))
    length = 0
    while True:  # the body lists Content-Length, whose value depends on the body: iterate to a fixed point
        body = json_bytes(multi_dict([*pairs, ("Content-Length", str(length))]))
        if len(body) == length:
            break
        length = len(body)
    return Response(200, [*pairs, ("Content-Length", str(length))], body)


def _entity_tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()]


async def etag(request: Request) -> Response:
    tag = request.params["etag"]
    quoted = f'"{tag}"'
    if_none_match = request.header("if-none-match")
    if if_none_match is not None:
        tags = _entity_tags(if_none_match)
        if "*" in tags or tag in tags:
            return Response(304, [("ETag", quoted)])
    if_match = request.header("if-match")
    if if_match is not None:
        tags = _entity_tags(if_match)
        if "*" not in tags and tag not in tags:
            return Response(412, [("ETag", quoted)])
    return json_response(await echo(request), headers=[("ETag", quoted)])


async def cache(request: Request) -> Response:
    if request.header("if-modified-since") is not None or request.header("if-none-match") is not None:
        return Response(304)
    headers = [("Last-Modified", formatdate(usegmt=True)), ("ETag", f'"{uuid.uuid4().hex}"')]
    return json_response(await echo(request), headers=headers)


async def cache_control(request: Request) -> Response:
    seconds = integer(request.params["n"], "max-age", 0, 1 << 31)
    return json_response(await echo(request), headers=[("Cache-Control", f"public, max-age={seconds}")])


async def decode_base64(request: Request) -> Response:
    value = request.params["value"]
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise HTTPError(400, "the path segment is not valid base64") from None
    return Response(200, [("Content-Type", "text/html; charset=utf-8")], decoded)


# -- the route table ----------------------------------------------------------------------------------------

_CONVERTERS = {"": "[^/]+", "int": "[0-9]{1,12}", "path": ".*"}


@dataclass(frozen=True)
class Route:
    """One endpoint: a path template like ``/status/{codes}``, the methods it allows and its handler."""

    template: str
    methods: frozenset[str] | None
    handler: Handler
    pattern: re.Pattern[str]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


def _compile(template: str) -> re.Pattern[str]:
    def converter(found: re.Match[str]) -> str:
        name, _, kind = found.group(1).partition(":")
        return f"(?P<{name}>{_CONVERTERS[kind]})"

    return re.compile(re.sub(r"\\\{([a-z_]+(?::[a-z]+)?)\\\}", converter, re.escape(template)))


ANY = None
GET = frozenset({"GET", "HEAD"})


def route(template: str, methods: frozenset[str] | str | None, handler: Handler) -> Route:
    """A :class:`Route`; *methods* is a set, one method name (GET also allows HEAD) or None for any."""
    if isinstance(methods, str):
        methods = GET if methods == "GET" else frozenset({methods})
    return Route(template, methods, handler, _compile(template))


def build_routes(digest: DigestAuthority) -> list[Route]:
    """The route table; *digest* keeps the nonces of the ``/digest-auth`` endpoints."""
    digest_handler = partial(digest_auth, digest)
    routes = [
        route("/get", "GET", get),
        route("/post", "POST", with_body),
        route("/put", "PUT", with_body),
        route("/patch", "PATCH", with_body),
        route("/delete", "DELETE", with_body),
        route("/anything", ANY, anything),
        route("/anything/{path:path}", ANY, anything),
        route("/headers", "GET", headers),
        route("/user-agent", "GET", user_agent),
        route("/ip", "GET", ip),
        route("/uuid", "GET", uuid4),
        route("/echo-raw-headers", ANY, echo_raw_headers),
        route("/status/{codes}", ANY, status),
        route("/delay/{seconds}", ANY, delay),
        route("/redirect/{n}", "GET", redirect_n),
        route("/relative-redirect/{n}", "GET", relative_redirect),
        route("/absolute-redirect/{n}", "GET", absolute_redirect),
        route("/redirect-to", ANY, redirect_to),
        route("/cookies", "GET", cookies),
        route("/cookies/set", "GET", cookies_set),
        route("/cookies/set/{name}/{value}", "GET", cookies_set_path),
        route("/cookies/delete", "GET", cookies_delete),
        route("/set-cookie-raw", ANY, set_cookie_raw),
        route("/basic-auth/{user}/{passwd}", "GET", basic_auth),
        route("/hidden-basic-auth/{user}/{passwd}", "GET", hidden_basic_auth),
        route("/bearer", "GET", bearer),
        route("/digest-auth/{qop}/{user}/{passwd}", ANY, digest_handler),
        route("/digest-auth/{qop}/{user}/{passwd}/{algorithm}", ANY, digest_handler),
        route("/digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}", ANY, digest_handler),
        *(route(f"/{name}", "GET", partial(encoded, name)) for name in CODINGS),
        route("/bytes/{n}", "GET", random_bytes),
        route("/stream-bytes/{n}", "GET", stream_bytes),
        route("/stream/{n}", "GET", stream_lines),
        route("/drip", ANY, drip),
        route("/range/{n}", "GET", byte_range),
        route("/sse", "GET", server_sent_events),
        route("/upload", ANY, upload),
        route("/html", "GET", document(_content.HTML, "text/html; charset=utf-8")),
        route("/json", "GET", json_document),
        route("/xml", "GET", document(_content.XML, "application/xml")),
        route("/robots.txt", "GET", document(_content.ROBOTS_TXT, "text/plain")),
        route("/encoding/utf8", "GET", document(_content.UTF8_HTML, "text/html; charset=utf-8")),
        route("/response-headers", ANY, response_headers),
        route("/etag/{etag}", "GET", etag),
        route("/cache", "GET", cache),
        route("/cache/{n}", "GET", cache_control),
        route("/base64/{value}", "GET", decode_base64),
    ]

    async def index(request: Request) -> Response:
        return json_response({"endpoints": [item.template for item in routes]})

    return [route("/", "GET", index), *routes]
