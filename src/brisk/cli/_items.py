"""Request items in httpie's syntax, and what they turn into.

An item is ``KEY`` + separator + ``VALUE``; the first separator in the item decides (at one position the
longest wins, so ``a:=1`` is raw JSON, not a header), and a backslash makes the next character of the key
literal (``a\\:b=c`` is the field ``a:b``):

=========  ===========================================  =====================================
``==``     URL query parameter                          ``q==brisk``
``=``      data field: a JSON string, or a form field   ``name=Ada``
``:=``     data field with a raw JSON value             ``age:=36`` ``tags:='["a","b"]'``
``=@``     data field read from a text file             ``bio=@bio.txt``
``:=@``    data field with raw JSON read from a file    ``user:=@user.json``
``@``      file upload (the request becomes multipart)  ``report@q3.pdf`` ``pic@a.png;type=image/png``
``:``      request header; no value removes it          ``X-Token:abc`` ``User-Agent:``
``;``      request header with an empty value           ``X-Empty;``
=========  ===========================================  =====================================
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ItemError", "RequestItems", "parse_items"]

# Longest first: at a given position the longest separator that matches wins.
SEPARATORS = (":=@", "=@", "==", ":=", "@", "=", ":", ";")


class ItemError(ValueError):
    """An item that cannot be understood or used (a usage error: exit status 2)."""


class RequestItems:
    """Everything the items of one command line ask for, in the order given."""

    __slots__ = ("fields", "files", "headers", "opened", "params", "raw_json")

    def __init__(self) -> None:
        self.headers: list[tuple[str, str | None]] = []
        self.params: list[tuple[str, str]] = []
        self.fields: list[tuple[str, Any]] = []  # str values, or any JSON value for := items
        self.files: list[tuple[str, str, str | None]] = []  # (field, path, content type or None)
        self.raw_json = False  # a := item was given: the body must be JSON
        self.opened: list[Any] = []  # the upload files, closed by close()

    def close(self) -> None:
        """Close the files opened for uploads."""
        for handle in self.opened:
            handle.close()
        self.opened.clear()

    @property
    def has_body(self) -> bool:
        return bool(self.fields or self.files)

    def body_arguments(self, form: bool) -> dict[str, Any]:
        """The ``data=``/``json=``/``files=`` arguments of ``Session.request`` for these items.

        Files make the body multipart (with the fields as form fields); ``form`` makes it urlencoded;
        otherwise the fields become one JSON object.
        """
        if self.files:
            if self.raw_json:
                raise ItemError("raw JSON fields (:=) cannot go into a multipart upload; use name=value")
            files = []
            for field, path, content_type in self.files:
                handle = _open(path)
                self.opened.append(handle)
                name = path.replace("\\", "/").rsplit("/", 1)[-1]
                files.append((field, (name, handle, content_type) if content_type else (name, handle)))
            return {"data": [(k, _form_value(k, v)) for k, v in self.fields] or None, "files": files}
        if not self.fields:
            return {}
        if form:
            if self.raw_json:
                raise ItemError("raw JSON fields (:=) need a JSON body: drop --form, or use name=value")
            return {"data": [(k, _form_value(k, v)) for k, v in self.fields]}
        return {"json": dict(self.fields)}


def _form_value(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ItemError(f"the form field {key!r} needs a text value")
    return value


def _open(path: str) -> Any:
    try:
        return open(path, "rb")  # RequestItems.close() closes it
    except OSError as exc:
        raise ItemError(f"cannot read {path!r}: {exc.strerror or exc}") from None


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ItemError(f"cannot read {path!r}: {reason}") from None


def _json(text: str, item: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError as exc:
        raise ItemError(f"{item!r}: the value is not valid JSON ({exc})") from None


def split_item(item: str) -> tuple[str, str, str] | None:
    """``(key, separator, value)`` of an item, or None when it has no separator."""
    key: list[str] = []
    i, size = 0, len(item)
    while i < size:
        char = item[i]
        if char == "\\" and i + 1 < size:
            key.append(item[i + 1])
            i += 2
            continue
        for sep in SEPARATORS:
            if item.startswith(sep, i):
                return "".join(key), sep, item[i + len(sep) :]
        key.append(char)
        i += 1
    return None


def looks_like_item(arg: str) -> bool:
    """True when ``arg`` reads as a request item rather than a URL (``http://x`` is a URL, not a header)."""
    if "://" in arg or arg.startswith(":"):
        return False
    found = split_item(arg)
    return found is not None and bool(found[0])


def parse_items(args: list[str]) -> RequestItems:
    """Sort the items of a command line into headers, query parameters, fields and files."""
    items = RequestItems()
    for arg in args:
        found = split_item(arg)
        if found is None or not found[0]:
            raise ItemError(
                f"{arg!r} is not a request item (expected q==v, name=v, n:=json, Header:v or field@file)"
            )
        key, sep, value = found
        if sep == "==":
            items.params.append((key, value))
        elif sep == "=":
            items.fields.append((key, value))
        elif sep == ":=":
            items.fields.append((key, _json(value, arg)))
            items.raw_json = True
        elif sep == "=@":
            items.fields.append((key, _read_text(value)))
        elif sep == ":=@":
            items.fields.append((key, _json(_read_text(value), arg)))
            items.raw_json = True
        elif sep == "@":
            path, _, content_type = value.partition(";type=")
            items.files.append((key, path, content_type.strip() or None))
        elif sep == ":":
            items.headers.append((key.strip(), value.strip() or None))
        else:  # ";"
            if value:
                raise ItemError(f"{arg!r}: 'Header;' sends an empty header and takes no value")
            items.headers.append((key.strip(), ""))
    return items
