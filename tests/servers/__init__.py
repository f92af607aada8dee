"""Real servers for brisk's tests, all on loopback ports chosen by the OS and stopped by their fixtures.

- :mod:`servers.app_server` -- ``app_server`` and ``tls_app_server``: brisk.testing.app under hypercorn.
- :mod:`servers.httpbin_server` -- ``httpbin``: the real httpbin under werkzeug.
- :mod:`servers.raw` -- ``raw_server``: a scripted raw-socket server for hostile responses.
- :mod:`servers.tls` -- ``ca``, ``ca_bundle``, ``cert_bundles``, the ``*_cert`` cases, ``tls_raw_server``.
- :mod:`servers.nginx` -- ``nginx``: nginx with HTTP, HTTPS and HTTP/2 (skips when nginx is missing).
- :mod:`servers.ports` -- ``unused_port``: a port where nothing listens.

``tests/conftest.py`` makes every fixture available to every test; import helpers from the modules.
"""
