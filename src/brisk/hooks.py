"""Hooks: functions called with the outgoing request or the incoming response.

``request`` hooks get the ``PreparedRequest`` before it is sent and may return a replacement;
``response`` hooks get each ``Response`` (redirects included) and may return a replacement, as in requests.
In an ``AsyncSession`` a hook may also be an ``async def``.
"""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HOOKS", "default_hooks", "dispatch_hook"]

HOOKS = ["request", "response"]


def default_hooks() -> dict[str, list[Callable[..., Any]]]:
    return {"request": [], "response": []}  # one empty list per event of HOOKS


def dispatch_hook(key: str, hooks: dict[str, Any] | None, hook_data: Any, **kwargs: Any) -> Any:
    """Run the hooks registered for ``key`` in order; a hook's non-None result replaces ``hook_data``."""
    found = (hooks or {}).get(key)
    if found:
        if callable(found):
            found = [found]
        for hook in found:
            result = hook(hook_data, **kwargs)
            if result is not None:
                hook_data = result
    return hook_data
