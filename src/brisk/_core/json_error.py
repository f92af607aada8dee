"""``brisk.exceptions.JSONDecodeError``, defined on first use.

It must subclass ``json.JSONDecodeError`` (as requests' does), and importing :mod:`json` compiles five
regular expressions: about 5% of a command-line GET, which never parses JSON. So this class is made when
someone first asks for it (``brisk.exceptions`` and ``brisk`` hand it out through ``__getattr__``) or a
response body fails to parse.
"""

from __future__ import annotations

import json

from brisk.exceptions import InvalidJSONError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["JSONDecodeError"]


class JSONDecodeError(InvalidJSONError, json.JSONDecodeError):
    """The response body is not valid JSON. Also a ``json.JSONDecodeError`` and so a ``ValueError``."""

    __module__ = "brisk.exceptions"  # where users import it from (and where pickle finds it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        json.JSONDecodeError.__init__(self, *args)
        InvalidJSONError.__init__(self, *self.args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.msg, self.doc, self.pos))  # unpickles as brisk's class, as in requests
