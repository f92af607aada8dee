"""The bottom layer: configuration values, the URL model (with its host, percent-encoding and form parts),
headers, logging, the in-memory body stream, error-message context, and the table of requests' module names.

Nothing here does I/O; every other layer may import it (see the contract in pyproject.toml).
"""
