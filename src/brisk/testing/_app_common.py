"""Helpers shared by the endpoints of the test application: argument parsing and httpbin's echo shapes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from brisk.testing._forms import (
    as_text_or_data_url,
    parse_header_params,
    parse_multipart,
    parse_urlencoded,
)
from brisk.testing._http import (
    HTTPError,
    Request,
    Response,
    multi_dict,
    title_case,
)

Handler = Callable[[Request], Awaitable[Response]]

#: The longest a handler sleeps before answering (``/delay``, ``/drip``'s delay, ``/sse``'s pause).
MAX_DELAY = 10.0

# -- arguments -------------------------------------------------------------------------------------------


def number_arg(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.arg(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise HTTPError(400, f"query parameter {name!r} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise HTTPError(400, f"query parameter {name!r} must be between {low:g} and {high:g}")
    return value


def integer(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise HTTPError(400, f"{what} must be an integer, not {text!r}") from None
    if not low <= value <= high:
        raise HTTPError(400, f"{what} must be between {low} and {high}")
    return value


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.arg(name)
    return default if raw is None else integer(raw, f"query parameter {name!r}", low, high)


def status_arg(text: str) -> int:
    return integer(text, "status code", 200, 999)


# -- the echo shapes -------------------------------------------------------------------------------------


def headers_dict(request: Request) -> dict[str, str]:
    """Request headers as httpbin shows them: title-cased names, repeated headers joined."""
    result: dict[str, str] = {}
    for name, value in request.headers:
        key = title_case(name)
        if key in result:
            result[key] += ("; " if key == "Cookie" else ",") + value
        else:
            result[key] = value
    return result


async def _body_fields(request: Request) -> dict[str, object]:
    body = await request.body()
    content_type, params = parse_header_params(request.header("content-type") or "")
    form: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    data = ""
    if content_type == "application/x-www-form-urlencoded":
        form = parse_urlencoded(body)
    elif content_type == "multipart/form-data":
        try:
            parts = parse_multipart(body, params.get("boundary", ""))
        except ValueError as exc:
            raise HTTPError(400, f"malformed multipart body: {exc}") from None
        for part in parts:
            if part.filename is None:
                form.append((part.name, part.data.decode("utf-8", "replace")))
            else:
                files.append((part.name, as_text_or_data_url(part.data, part.content_type)))
    else:
        data = as_text_or_data_url(body, content_type or None)
    parsed: object = None
    if data:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    return {"data": data, "files": multi_dict(files), "form": multi_dict(form), "json": parsed}


async def echo(request: Request, *, body: bool = False, method: bool = False) -> dict[str, object]:
    """The httpbin echo of *request*: args, [data, files, form,] headers, [json,] [method,] origin, url."""
    info: dict[str, object] = {"args": multi_dict(request.query)}
    fields = await _body_fields(request) if body else {}
    if body:
        info.update(data=fields["data"], files=fields["files"], form=fields["form"])
    info["headers"] = headers_dict(request)
    if body:
        info["json"] = fields["json"]
    if method:
        info["method"] = request.method
    info.update(origin=request.origin, url=request.url)
    return info
