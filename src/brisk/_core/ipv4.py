"""IPv4 addresses and networks as a ``no_proxy`` entry names them (requests' ``utils`` helpers)."""

from __future__ import annotations

__all__ = ["address_in_network", "dotted_netmask", "is_ipv4_address", "is_valid_cidr"]


def dotted_netmask(mask: int) -> str:
    """A prefix length as a dotted IPv4 netmask: 24 -> ``255.255.255.0``."""
    bits = (0xFFFFFFFF << (32 - mask)) & 0xFFFFFFFF
    return ".".join(str((bits >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _ipv4_number(address: str) -> int:
    import socket  # not otherwise loaded by import brisk

    return int.from_bytes(socket.inet_aton(address), "big")


def address_in_network(ip: str, net: str) -> bool:
    """Whether the IPv4 address ``ip`` is in the network ``net`` (``192.168.1.0/24``)."""
    network, bits = net.split("/")
    mask = _ipv4_number(dotted_netmask(int(bits)))
    return (_ipv4_number(ip) & mask) == (_ipv4_number(network) & mask)


def is_ipv4_address(string_ip: str) -> bool:
    """Whether ``string_ip`` is an IPv4 address (in any form ``inet_aton`` takes)."""
    try:
        _ipv4_number(string_ip)
    except OSError:
        return False
    return True


def is_valid_cidr(string_network: str) -> bool:
    """Whether ``string_network`` is ``<IPv4 address>/<1..32>``, as a no_proxy entry may be."""
    if string_network.count("/") != 1:
        return False
    address, _, bits = string_network.partition("/")
    try:
        mask = int(bits)
    except ValueError:
        return False
    return 1 <= mask <= 32 and is_ipv4_address(address)
