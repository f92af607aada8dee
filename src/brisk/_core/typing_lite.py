"""What brisk's modules need from ``typing`` at run time, without importing ``typing``.

Importing ``typing`` (and, before Python 3.13, the ``contextlib`` and ``warnings`` it loads) would be a large
part of ``import brisk`` (see ``python -X importtime -c "import brisk"``), yet brisk needs typing for the type
checker only. Annotations are strings (``from __future__ import annotations``); names used only in annotations
are imported under ``if TYPE_CHECKING:``, where ``TYPE_CHECKING = False`` is a module constant (mypy, ruff and
import-linter recognise the name). What remains are the few names that run: generic base classes, protocols,
named tuples and ``cast``. A module takes them from typing for the type checker and from here at run time::

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import Generic, TypeVar
    else:
        from brisk._core.typing_lite import Generic, TypeVar

The stand-ins do what the code needs at run time and nothing more. ``Generic`` and ``Protocol`` are plain
base classes that can be subscripted (``Generic[T]`` is ``Generic``). A ``TypeVar`` is its name.
``NamedTuple`` (functional form only) is ``collections.namedtuple``, in the calling module. No code may
check an object against a protocol with ``isinstance``: the stand-in would answer no. Code that introspects
brisk's generics (``typing.get_args``) sees plain classes, and ``typing.get_type_hints`` cannot resolve, on
brisk's functions, the names imported for the type checker only (as with any library that uses
``TYPE_CHECKING``).

``tests/unit/test_import_cost.py`` checks that ``import brisk`` loads no ``typing``.
"""

from __future__ import annotations

import sys
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["Generic", "NamedTuple", "Protocol", "TypeVar", "cast"]


class Generic:
    """A base class that can be subscripted (``Generic[T]``, ``Sub[int]``): the subscript is the class."""

    __slots__ = ()

    def __class_getitem__(cls, _parameters: object) -> type:
        return cls


class Protocol(Generic):
    """A protocol's base class at run time: a plain class (protocols are for the type checker)."""

    __slots__ = ()


def TypeVar(name: str, *_constraints: object, **_options: object) -> str:
    return name


def NamedTuple(name: str, fields: Iterable[tuple[str, object]]) -> type:
    # The class belongs to the module that made it (pickle finds it there), as typing.NamedTuple's does.
    module = sys._getframe(1).f_globals.get("__name__", __name__)
    return namedtuple(name, [field for field, _ in fields], module=module)


def cast(_type: object, value: Any) -> Any:
    return value
