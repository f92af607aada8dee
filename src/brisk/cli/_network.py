"""The network options of the command line, checked and turned into ``Session`` settings: ``--resolve``,
``--connect-to``, ``-4``/``-6``, ``--local-address``, ``--unix-socket``, ``--pin``, ``--tls-min``,
``--tls-max`` and ``--ciphers``.

Each bad value is a ``UsageError`` naming the option (exit status 2) before any connection is made. Nothing
here is imported unless one of these options is given, so a plain GET pays nothing for them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from brisk.cli._args import Options, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ConnectTo", "connect_to_resolver", "network_settings", "parse_connect_to", "parse_resolve"]

#: ``--tls-min``/``--tls-max`` values (curl's ``--tls-max`` names, with or without ``TLSv``)
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


def _is_ip(text: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text.partition("%")[0])
        except OSError:
            continue
        return True
    return False


def _address(text: str, option: str, value: str) -> str:
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if not _is_ip(bare):
        raise UsageError(f"{option} {value!r}: {text!r} is not an IP address")
    return bare


def _split_host(text: str, option: str, value: str) -> tuple[str, str]:
    """``(host, rest)`` of ``HOST:REST``, the host possibly a bracketed IPv6 address (``[::1]:443:...``)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise UsageError(f"{option} {value!r}: unclosed [ in the host")
        return text[1:end], text[end + 2 :]
    host, colon, rest = text.partition(":")
    if not colon:
        raise UsageError(f"{option} {value!r}: expected {_FORMS[option]}")
    return host, rest


def _port(text: str, option: str, value: str, *, empty_ok: bool = False) -> str:
    if empty_ok and not text:
        return ""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"{option} {value!r}: {text!r} is not a port number (1-65535)")
    return str(int(text))


_FORMS = {
    "--resolve": "HOST:PORT:ADDR[,ADDR...], e.g. api.example.test:443:127.0.0.1",
    "--connect-to": "HOST1:PORT1:HOST2:PORT2, e.g. example.org:443:127.0.0.1:443",
}


def parse_resolve(values: list[str]) -> dict[str, list[str]]:
    """curl's ``--resolve HOST:PORT:ADDR[,ADDR...]`` entries as ``Session(resolve=)`` takes them
    (``{"host:port": [addresses]}``); a later entry for the same HOST:PORT replaces an earlier one. A
    leading ``+`` (curl's "time out the entry") is accepted and means nothing here; curl's ``*`` (any host)
    and ``-HOST:PORT`` (remove an entry) are refused."""
    table: dict[str, list[str]] = {}
    for value in values:
        text = value[1:] if value.startswith("+") else value
        if text.startswith("-"):
            raise UsageError(f"--resolve {value!r}: removing an entry (-HOST:PORT) is not supported")
        host, rest = _split_host(text, "--resolve", value)
        port, colon, addresses = rest.partition(":")
        if not colon or not addresses:
            raise UsageError(f"--resolve {value!r}: expected {_FORMS['--resolve']}")
        if host == "*" or not host:
            raise UsageError(f"--resolve {value!r}: give a host name (the wildcard * is not supported)")
        if ":" in host:
            raise UsageError(f"--resolve {value!r}: the host must be a name, not an IPv6 address")
        port = _port(port, "--resolve", value)
        table[f"{host.lower()}:{port}"] = [
            _address(a.strip(), "--resolve", value) for a in addresses.split(",")
        ]
    return table


class ConnectTo:
    """One ``--connect-to HOST1:PORT1:HOST2:PORT2``: requests to HOST1 (on PORT1, or any port when empty)
    connect to HOST2 instead, on the same port."""

    __slots__ = ("host", "port", "target")

    def __init__(self, host: str, port: str, target: str) -> None:
        self.host = host
        self.port = port
        self.target = target

    def matches(self, host: str, port: int) -> bool:
        return host.lower() == self.host and (not self.port or int(self.port) == port)


def parse_connect_to(values: list[str]) -> list[ConnectTo]:
    """curl's ``--connect-to HOST1:PORT1:HOST2:PORT2``, as far as brisk can do it: the library maps names to
    addresses (``resolve=``, ``resolver=``), not to other ports, so PORT2 must be empty or PORT1. HOST1 is
    required (curl's empty HOST1, "any host", is refused); PORT1 may be empty (any port)."""
    rules = []
    for value in values:
        host, rest = _split_host(value, "--connect-to", value)
        port, colon, rest = rest.partition(":")
        target, colon2, target_port = (
            rest[1:].partition("]:") if rest.startswith("[") else rest.partition(":")
        )
        if rest.startswith("[") and colon2:
            target = f"[{target}]"
        if not colon or not colon2:
            raise UsageError(f"--connect-to {value!r}: expected {_FORMS['--connect-to']}")
        if not host:
            raise UsageError(
                f"--connect-to {value!r}: give HOST1 (an empty HOST1, any host, is not supported)"
            )
        if ":" in host:
            raise UsageError(f"--connect-to {value!r}: HOST1 must be a name or an IPv4 address, not IPv6")
        if not target:
            raise UsageError(
                f"--connect-to {value!r}: give HOST2 (brisk cannot change only the port of a connection)"
            )
        port = _port(port, "--connect-to", value, empty_ok=True)
        target_port = _port(target_port, "--connect-to", value, empty_ok=True)
        if target_port and target_port != port:
            raise UsageError(
                f"--connect-to {value!r}: brisk connects to another host on the same port only "
                "(HOST1:PORT1:HOST2: or HOST1:PORT1:HOST2:PORT1); a different port is not supported"
            )
        if target.startswith("["):
            target = _address(target, "--connect-to", value)
        if _is_ip(host) and not _is_ip(target):
            raise UsageError(f"--connect-to {value!r}: when HOST1 is an IP address, HOST2 must be one too")
        rules.append(ConnectTo(host.lower(), port, target.lower()))
    return rules


def connect_to_resolver(
    rules: list[ConnectTo], table: dict[str, list[str]]
) -> Callable[[str, int], list[str]]:
    """A ``Session(resolver=)`` function for the ``--connect-to`` rules whose HOST2 is a name: HOST1 gets the
    addresses of HOST2 (from ``--resolve`` when it has them, else ``getaddrinfo``), any other host its own.
    The session calls it within the connect timeout, as it does ``getaddrinfo``."""

    def lookup(host: str, port: int) -> list[str]:
        rule = next((rule for rule in rules if rule.matches(host, port)), None)
        if rule is not None:
            host = rule.target
        listed = table.get(f"{host.lower()}:{port}")
        if listed:
            return listed
        found: list[str] = []
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            if rule is None:
                raise
            raise OSError(exc.errno, f"{host!r}, its --connect-to HOST2: {exc.strerror or exc}") from None
        for info in infos:
            address = str(info[4][0])
            if address not in found:
                found.append(address)
        return found

    return lookup


def _tls_version(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    bare = value[4:] if value.lower().startswith("tlsv") else value
    bare = {"1": "1.0"}.get(bare, bare)
    if bare not in TLS_VERSIONS:
        raise UsageError(f"{option} {value!r}: use 1.2 or 1.3 (1.0 and 1.1 for --tls-min too)")
    return bare


def network_settings(opts: Options) -> dict[str, Any]:
    """The ``Session`` settings of ``opts``' network options, each checked (UsageError naming the option)."""
    settings: dict[str, Any] = {}
    table = parse_resolve(opts.resolve)
    rules = parse_connect_to(opts.connect_to)
    by_name = []
    for rule in rules:
        if _is_ip(rule.target):
            key = f"{rule.host}:{rule.port}" if rule.port else rule.host
            table[key] = [rule.target]
        else:
            by_name.append(rule)
    if by_name:  # HOST1 goes to HOST2's addresses, even when --resolve names HOST1 too (as curl does)
        settings["resolver"] = connect_to_resolver(by_name, dict(table))
        for key in list(table):
            host, _, port = key.partition(":")
            if any(rule.host == host and rule.port in ("", port) for rule in by_name):
                del table[key]
    if table:
        settings["resolve"] = table
    if opts.family is not None:
        settings["family"] = opts.family
    if opts.local_address is not None:
        local = _address(opts.local_address, "--local-address", opts.local_address)
        if opts.family is not None and (":" in local) != (opts.family == "ipv6"):
            flag = "-6" if opts.family == "ipv6" else "-4"
            raise UsageError(f"--local-address {local!r} is not an address of the family {flag} asks for")
        settings["local_address"] = local
    if opts.unix_socket is not None:
        if not opts.unix_socket:
            raise UsageError("--unix-socket needs a path")
        if opts.proxies:
            raise UsageError("--unix-socket and --proxy cannot be used together")
        settings["uds"] = opts.unix_socket
    low = _tls_version(opts.tls_min, "--tls-min")
    high = _tls_version(opts.tls_max if opts.tls_max != "default" else None, "--tls-max")
    if high is not None and low is None and high < "1.2":
        raise UsageError(f"--tls-max {opts.tls_max!r} is below brisk's minimum, TLS 1.2 (set --tls-min)")
    if low is not None and high is not None and low > high:
        raise UsageError(f"--tls-min {opts.tls_min!r} is above --tls-max {opts.tls_max!r}")
    if low is not None:
        settings["tls_min_version"] = low
    if high is not None:
        settings["tls_max_version"] = high
    if opts.pin is not None or opts.ciphers is not None:
        from brisk._transport.tls import tls_setting

        for option, name, value in (("--pin", "pin", opts.pin), ("--ciphers", "ciphers", opts.ciphers)):
            if value is None:
                continue
            try:
                tls_setting(name, value)
            except (TypeError, ValueError) as exc:
                raise UsageError(f"{option}: {exc}") from None
            settings[name] = value
    return settings
