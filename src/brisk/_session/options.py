"""The names of a request's keyword arguments, as run-time sets: what ``send()`` accepts, and which options
shape only the prepared request and which change the request's flow. Their types are in
``brisk._session.types`` (for type checkers; a unit test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DOWNLOAD_OPTIONS", "FLOW_OPTIONS", "PREPARE_OPTIONS", "SEND_OPTIONS", "unknown_keywords"]

#: What ``send()`` accepts (requests' stream, timeout, verify, cert, proxies, allow_redirects, and retries).
SEND_OPTIONS = frozenset(("stream", "timeout", "verify", "cert", "proxies", "allow_redirects", "retries"))
#: The options that only shape the prepared request; a call with no other options can reuse the settings
#: the session made for the same origin (see ``Session._settings``).
PREPARE_OPTIONS = frozenset(("params", "data", "headers", "files", "auth", "json", "progress"))
#: The options of a body and nothing else: a call with only these can reuse the request prepared for the
#: same URL before, with its body added (see ``SessionCalls._prepare_plain``).
BODY_OPTIONS = frozenset(("data", "json", "files"))
#: The options that change the settings of the request's flow: every request option but those.
FLOW_OPTIONS = SEND_OPTIONS | frozenset(("cookies", "hooks"))
#: What ``download()`` accepts: its own options, and every request option (its ``progress`` is the
#: download's; a ``stream`` is ignored).
DOWNLOAD_OPTIONS = (
    PREPARE_OPTIONS | FLOW_OPTIONS | frozenset(("resume", "chunk_size", "checksum", "max_resumes"))
)


def unknown_keywords(method: str, given: Iterable[str], accepted: Iterable[str]) -> TypeError:
    """The error for keywords ``method`` does not take, naming them and the ones it does."""
    unknown = sorted(set(given) - set(accepted))
    listed = ", ".join(repr(name) for name in unknown)
    return TypeError(
        f"{method}() got unexpected keyword argument{'s' if len(unknown) > 1 else ''} {listed}; "
        f"it accepts {', '.join(sorted(accepted))}"
    )
