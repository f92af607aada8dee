"""requests and urllib3 as code written for them expects: requests' module-level helpers, a urllib3 stand-in
for ``brisk.packages`` when urllib3 is not installed, and ``install_as_requests``.

Not one layer: ``shim`` sits near the top (it imports the whole package), the others where their imports
put them (see the contract in pyproject.toml). The table of requests' names is data, in ``brisk._core``.
"""
