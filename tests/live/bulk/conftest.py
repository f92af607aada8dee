"""The bulk tests' server: several loopback ports standing for several hosts (``servers.hosts``)."""

from servers.hosts import hosts

__all__ = ["hosts"]
