"""The cookie engine (RFC 6265): parsing, the store, cookie files, and http.cookiejar jars as a session's jar.

``brisk.cookies`` is requests' public face of it.
"""
